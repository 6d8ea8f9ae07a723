"""Choosing Keras' data-parallel engine on the active backend."""

import os

import keras

from keras_ortho._distribute.jax_processes import NUM_PROCESSES_VARIABLE
from keras_ortho._distribute.jax_processes import jax_cluster_size
from keras_ortho._distribute.jax_processes import jax_data_parallelism
from keras_ortho._distribute.parallelism import ONE_DEVICE
from keras_ortho._distribute.tensorflow_strategies import tensorflow_cluster_size
from keras_ortho._distribute.tensorflow_strategies import tensorflow_data_parallelism
from keras_ortho._distribute.tensorflow_strategies import (
    tensorflow_multi_worker_parallelism,
)

DISTRIBUTIONS = ("none", "data_parallel")
DATA_PARALLEL_BACKENDS = ("jax", "tensorflow")


def data_parallelism(distribution, devices=None, synchronized_batch_norm=True):
    """Keras' data-parallel engine on the active backend.

    Args:
        distribution: `"none"` or `"data_parallel"`.
        devices: how many devices of this host to use, the first ones of the
            accelerator type (GPUs, else CPUs); `None` uses all.
        synchronized_batch_norm: whether BatchNormalization normalises with
            the global batch's statistics; JAX `DataParallel` always does.

    Returns:
        A `DataParallelism`.
    """
    if distribution == "none":
        return ONE_DEVICE
    backend = keras.backend.backend()
    if backend not in DATA_PARALLEL_BACKENDS:
        raise ValueError(
            f"Invalid value for argument `distribution`: {distribution!r} "
            "trains on Keras' data-parallel engines, which the JAX backend "
            "(keras.distribution.DataParallel) and the TensorFlow backend "
            "(tf.distribute.MirroredStrategy) have; Keras has none on the "
            f"{backend!r} backend. Set KERAS_BACKEND=jax or "
            "KERAS_BACKEND=tensorflow, or use distribution='none'. Received: "
            f"distribution={distribution!r} with KERAS_BACKEND={backend!r}"
        )
    if backend == "jax":
        if jax_cluster_size() > 1 and devices is not None:
            raise ValueError(
                "Invalid value for argument `devices`: a multi-process run "
                f"({NUM_PROCESSES_VARIABLE}="
                f"{os.environ[NUM_PROCESSES_VARIABLE]}) trains on every device "
                f"of every process. Received: devices={devices}"
            )
        if not synchronized_batch_norm:
            raise ValueError(
                "Invalid value for argument `synchronized_batch_norm`: JAX's "
                "keras.distribution.DataParallel runs one program over the "
                "global batch, so BatchNormalization statistics are always "
                "those of the global batch; per-replica statistics exist on "
                "TensorFlow only. Received: synchronized_batch_norm=False "
                "with KERAS_BACKEND='jax'"
            )
        return jax_data_parallelism(devices)
    workers = tensorflow_cluster_size()
    if workers > 1:
        if devices is not None:
            raise ValueError(
                "Invalid value for argument `devices`: a multi-worker run "
                f"(TF_CONFIG describes {workers} workers) trains on every "
                f"device of every worker. Received: devices={devices}"
            )
        return tensorflow_multi_worker_parallelism()
    return tensorflow_data_parallelism(devices)


def cluster_processes():
    """How many processes the environment's cluster describes for the active
    backend's engine (Keras' `KERAS_DISTRIBUTION_NUM_PROCESSES` on JAX, the
    workers of `TF_CONFIG` on TensorFlow); 1 without one."""
    backend = keras.backend.backend()
    if backend == "jax":
        return jax_cluster_size()
    if backend == "tensorflow":
        return max(tensorflow_cluster_size(), 1)
    return 1
