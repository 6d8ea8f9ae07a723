"""Reading a tensor's values only where that costs no device round trip.

The one place that knows how each backend tells a concrete tensor in host
memory from a traced one or one on an accelerator. Checks of input values
(the feature losses' labels) use it so that they never synchronise a GPU in
the middle of a training step, never break a `torch.compile` graph, and never
run while a step is traced (XLA, `tf.function`, `jax.jit`).
"""

import keras
import numpy as np


def host_values(x):
    """The NumPy values of `x` if they are concrete and already in host
    memory, else None.

    Host memory: NumPy arrays, Python numbers and sequences, and CPU tensors
    of the active backend called eagerly. None for symbolic and traced
    tensors (`keras.Input`, `tf.function`, `jax.jit`, `torch.compile`) and
    for tensors on an accelerator, whose values would need a device-to-host
    copy and a synchronisation.
    """
    if isinstance(x, (np.ndarray, np.generic, int, float, list, tuple)):
        return np.asarray(x)
    if isinstance(x, keras.KerasTensor):
        return None
    backend = keras.backend.backend()
    if backend == "torch":
        import torch

        if (
            not isinstance(x, torch.Tensor)
            or torch.compiler.is_compiling()
            or x.device.type != "cpu"
        ):
            return None
    elif backend == "jax":
        import jax

        if not isinstance(x, jax.Array) or isinstance(x, jax.core.Tracer):
            return None
        if any(device.platform != "cpu" for device in x.devices()):
            return None
    elif backend == "tensorflow":
        import tensorflow as tf

        if not tf.executing_eagerly() or not isinstance(x, tf.Tensor):
            return None
        if "CPU" not in x.device.upper():
            return None
    else:
        return None
    return np.asarray(keras.ops.convert_to_numpy(x))
