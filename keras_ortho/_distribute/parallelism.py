"""The record of how a run's steps are spread over devices, which every
engine returns."""

import contextlib
import dataclasses
from collections.abc import Callable


@dataclasses.dataclass(frozen=True)
class DataParallelism:
    """How the steps of a run are spread over devices.

    Attributes:
        engine: Keras' engine that runs the replicas (`"none"` on one device).
        num_replicas: the model replicas; every batch is split evenly among
            them.
        scope: returns the context manager inside which the model is built,
            compiled and trained.
        xla: whether the replicated step can be compiled with XLA. Not under
            `tf.distribute` over several CPUs: XLA compiles the step for one
            CPU device and cannot reach the variables of the others
            (TensorFlow's known XLA issue "tf.Variable on a different
            device").
        process_index: this process's place among the processes of a
            multi-process run (0, the chief, writes the run's files).
        process_count: the processes that feed the replicas, each its own
            `1 / process_count` share of every global batch.
        engine_shards_input: whether every process reads the global batches
            and the engine keeps its share (`tf.distribute` workers), rather
            than each process passing only its own rows (JAX, `ProcessShare`).
    """

    engine: str
    num_replicas: int
    scope: Callable
    xla: bool = True
    process_index: int = 0
    process_count: int = 1
    engine_shards_input: bool = False

    @property
    def is_chief(self):
        """Whether this process writes the run's files."""
        return self.process_index == 0

    @property
    def tensorflow_replicas(self):
        """Whether replicas run under `tf.distribute`, each on its own shard."""
        return self.engine.startswith("tf.distribute") and self.num_replicas > 1


ONE_DEVICE = DataParallelism("none", 1, contextlib.nullcontext)


def first_devices(available, devices):
    """The first `devices` of `available` (all of them for `None`)."""
    if devices is None:
        return list(available)
    if devices > len(available):
        raise ValueError(
            f"Invalid value for argument `devices`: this host has "
            f"{len(available)} device(s) of the accelerator type, "
            f"{list(available)}. Received: devices={devices}"
        )
    return list(available[:devices])
