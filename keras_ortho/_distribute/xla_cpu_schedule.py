"""XLA's CPU scheduler on TensorFlow, which the orthogonality steps slow."""

import os

import keras

XLA_CPU_SCHEDULER_FLAG = "--xla_cpu_enable_concurrency_optimized_scheduler"


def prefer_ordered_xla_cpu_schedule():
    """On TensorFlow, turns off the concurrency-optimized scheduler of XLA's
    CPU compiler for this process, unless `XLA_FLAGS` already sets it.

    TensorFlow 2.21's XLA interleaves the small ops that orthogonality adds
    after the backward pass (the projection of
    `keras_ortho.constraints.Orthogonal`, SRIP's power iteration) with the
    large layout copies of the backward pass, and those copies run slower:
    on a 2-core CPU a ResNet-20 step with the constraint took 1.30x as long
    as without (the projection itself: 8 ms of 430), with SRIP 1.26x (the
    penalty alone: 0.6 %). With the ordered scheduler these ratios are 1.06
    and 1.00, and the step without either is as fast as before
    (benchmarks/RESULTS.md). The flag acts on XLA's CPU compiler only, and
    only before the process's first XLA compilation: XLA reads `XLA_FLAGS`
    once.
    """
    if keras.backend.backend() != "tensorflow":
        return
    flags = os.environ.get("XLA_FLAGS", "")
    if XLA_CPU_SCHEDULER_FLAG not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} {XLA_CPU_SCHEDULER_FLAG}=false".strip()
