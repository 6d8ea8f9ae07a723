"""Training-step time of a CIFAR ResNet with every kernel regularized, over
the time without.

Every configuration is `keras_ortho.models.resnet_cifar(depth)` with one
regularizer on every convolution and Dense kernel, the same initial weights,
SGD with momentum, and the backend's default compilation (XLA on JAX and
TensorFlow; on torch Keras' default `jit_compile="auto"`, which does not use
torch.compile). The step is timed as `fit` runs it, in alternating blocks
(see `_timing.py`).

Each regularizer's penalty alone (value and gradient over all the model's
kernels, compiled as the step is) is timed in the same alternation, as
`<name>:alone`; `additive`, `1 + alone/step` (the median over rounds of the
penalty's block time over the baseline step's), is what the ratio would be
if the penalty's work simply added to the step's. It is measured in
milliseconds, so load noise barely moves it; a step-time ratio well above it,
round after round, means the penalty costs more inside the step than alone
(TensorFlow's SRIP step on CPU does: docs/benchmarks/speed.md).

Goal: ratio <= 1.10 on a 2-core CPU for SO, DSO, MC and SRIP, <= 1.05 on a
GPU; the other regularizers are reported for information.

    KERAS_BACKEND=jax python benchmarks/regularizer_overhead.py
    KERAS_BACKEND=torch python benchmarks/regularizer_overhead.py \
        --regularizers so,srip --depth 20 --rounds 2 --steps 3
"""

import argparse

import _timing
import keras

from keras_ortho import models
from keras_ortho import regularizers

# The factors of `keras_ortho.recipes`: SRIP's and OCNN's reference code, 1e-4
# for the others. A factor only scales the penalty, except 0, which skips it.
REGULARIZERS = {
    "so": lambda: regularizers.SoftOrthogonality(1e-4),
    "dso": lambda: regularizers.DoubleSoftOrthogonality(1e-4),
    "mc": lambda: regularizers.MutualCoherence(1e-4),
    "srip": lambda: regularizers.SpectralRestrictedIsometry(1e-2),
    "ocnn": lambda: regularizers.OrthogonalConvolution(0.1),
    "disentangled": lambda: regularizers.DisentangledOrthogonality(1e-4),
    "relaxed": lambda: regularizers.RelaxedOrthogonality(1e-4),
    # Keras' own L2: the cost of the regularization machinery with the
    # cheapest penalty there is, for comparison.
    "l2": lambda: keras.regularizers.L2(1e-4),
}
DEFAULT_REGULARIZERS = "so,dso,mc,srip,ocnn,disentangled,relaxed"
WITH_GOAL = ("so", "dso", "mc", "srip")
CPU_GOAL = 1.10
GPU_GOAL = 1.05
NUM_CLASSES = 10


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    _timing.add_common_arguments(parser)
    parser.add_argument(
        "--regularizers",
        default=DEFAULT_REGULARIZERS,
        type=lambda text: _timing.parse_list(text, REGULARIZERS, "--regularizers"),
        help=f"comma-separated, of {', '.join(REGULARIZERS)} "
        f"(default {DEFAULT_REGULARIZERS})",
    )
    parser.add_argument(
        "--no-penalty-alone",
        dest="penalty_alone",
        action="store_false",
        help="do not time each penalty alone (the additive estimate)",
    )
    args = parser.parse_args(argv)
    _timing.validate_arguments(parser, args)
    return args


def regularized_kernels(model):
    """The kernels `resnet_cifar(kernel_regularizer=...)` regularizes: every
    convolution's and the Dense head's."""
    return [
        layer.kernel
        for layer in model.layers
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense))
    ]


def compiled_model(depth, regularizer, jit_compile, weights_from=None):
    model = models.resnet_cifar(
        depth, num_classes=NUM_CLASSES, kernel_regularizer=regularizer
    )
    if weights_from is not None:
        _timing.copy_weights(weights_from, model)
    model.compile(
        optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=jit_compile,
    )
    return model


def main(argv=None):
    args = parse_arguments(argv)
    keras.utils.set_random_seed(args.seed)
    jit_compile = _timing.jit_compile_setting(args.jit_compile)
    x, y = _timing.random_batch(args.batch_size, NUM_CLASSES, args.seed)

    print(f"building and compiling ResNet-{args.depth} configurations")
    baseline_model = compiled_model(args.depth, None, jit_compile)
    models_by_name = {
        name: compiled_model(
            args.depth, REGULARIZERS[name](), jit_compile, weights_from=baseline_model
        )
        for name in args.regularizers
    }
    baseline = _timing.training_step(baseline_model, x, y)
    candidates = {}
    for name, model in models_by_name.items():
        candidates[name] = _timing.training_step(model, x, y)
        print(f"  compiled {name}")

    if args.penalty_alone:
        for name in args.regularizers:
            regularizer = REGULARIZERS[name]()
            candidates[f"{name}:alone"] = _timing.penalty_step(
                lambda values, r=regularizer: sum(r(value) for value in values),
                regularized_kernels(baseline_model),
            )

    results = _timing.measure_alternating(
        baseline, candidates, args.rounds, args.steps, args.warmup_steps
    )
    for name in args.regularizers:
        alone = results.get(f"{name}:alone")
        if alone is not None:
            results[name]["ratio_additive"] = 1.0 + alone["ratio"]

    title = "Regularizer overhead: step time with the regularizer / without"
    _timing.publish(title, args, jit_compile, results, WITH_GOAL, CPU_GOAL, GPU_GOAL)


if __name__ == "__main__":
    main()
