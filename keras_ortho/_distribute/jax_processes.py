"""JAX data parallelism, over one or several processes: Keras'
`keras.distribution.DataParallel` runs one program over the global batch,
which every process feeds with its own rows."""

import functools
import os

import keras

from keras_ortho._distribute.parallelism import DataParallelism
from keras_ortho._distribute.parallelism import first_devices

# Keras' own variables for `keras.distribution.initialize()`.
NUM_PROCESSES_VARIABLE = "KERAS_DISTRIBUTION_NUM_PROCESSES"


def jax_cluster_size():
    """The processes of Keras' JAX cluster (`KERAS_DISTRIBUTION_NUM_PROCESSES`);
    1 without one."""
    return int(os.environ.get(NUM_PROCESSES_VARIABLE) or 1)


def jax_data_parallelism(devices):
    """`keras.distribution.DataParallel` over the first `devices` of this
    process (`None`: every device of every process of the cluster)."""
    if jax_cluster_size() > 1:
        _initialize_jax_processes()
    import jax

    chosen = first_devices(keras.distribution.list_devices(), devices)
    distribution = keras.distribution.DataParallel(
        devices=chosen,
        # Each process passes its own share of every global batch
        # (`ProcessShare`); Keras assembles the global array from them.
        auto_shard_dataset=False,
    )
    return DataParallelism(
        "keras.distribution.DataParallel",
        len(chosen),
        distribution.scope,
        process_index=jax.process_index(),
        process_count=jax.process_count(),
    )


@functools.cache
def _initialize_jax_processes():
    """`keras.distribution.initialize()`, once per process: it reads the
    coordinator address, process count and index from Keras' environment
    variables. CPU devices exchange their collectives through gloo (JAX has
    no other CPU implementation across processes); GPUs and TPUs use their
    own."""
    import jax

    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    keras.distribution.initialize()


class ProcessShare(keras.utils.PyDataset):
    """This process's rows of every batch of `batches`: the `index`-th of
    `count` equal, contiguous parts, in the order in which the engine places
    the processes' devices along the batch.

    Args:
        batches: a `keras.utils.PyDataset` of global batches (arrays or
            structures of arrays with the batch first).
        index: this process's index.
        count: the number of processes.
    """

    def __init__(self, batches, index, count):
        super().__init__()
        self.batches = batches
        self.index = index
        self.count = count

    def set_epoch(self, epoch):
        self.batches.set_epoch(epoch)

    def __len__(self):
        return len(self.batches)

    def __getitem__(self, index):
        def share(rows):
            size = len(rows) // self.count
            return rows[self.index * size : (self.index + 1) * size]

        return keras.tree.map_structure(share, self.batches[index])
