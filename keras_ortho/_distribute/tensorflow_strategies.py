"""TensorFlow data parallelism: `tf.distribute.MirroredStrategy` over the
devices of one host, `MultiWorkerMirroredStrategy` over the workers that
`TF_CONFIG` describes."""

import functools
import json
import os

from keras_ortho._distribute.parallelism import DataParallelism
from keras_ortho._distribute.parallelism import first_devices


def tensorflow_cluster_size():
    """The workers (the chief included) of the `TF_CONFIG` cluster, if any:
    the tasks that `MultiWorkerMirroredStrategy` trains on."""
    cluster = json.loads(os.environ.get("TF_CONFIG") or "{}").get("cluster", {})
    return sum(len(cluster.get(job, ())) for job in ("chief", "worker"))


def mirrored_strategy(devices=None):
    """The process's `tf.distribute.MirroredStrategy` over the first `devices`
    logical GPUs (CPUs where there is none), `None` for all.

    One strategy per device set and process: the collectives of two
    strategies over the same devices interfere (a training step fails), so
    every caller, tests included, shares this one.
    """
    import tensorflow as tf

    available = tf.config.list_logical_devices("GPU") or (
        tf.config.list_logical_devices("CPU")
    )
    return _mirrored_strategy(
        tuple(first_devices([d.name for d in available], devices))
    )


@functools.cache
def _mirrored_strategy(device_names):
    import tensorflow as tf

    return tf.distribute.MirroredStrategy(list(device_names))


@functools.cache
def multi_worker_mirrored_strategy():
    """The process's `tf.distribute.MultiWorkerMirroredStrategy`, over the
    workers of `TF_CONFIG`, all GPUs of this worker (its CPU where there is
    none).

    One per process: the strategy configures the process's collective
    operations, which TensorFlow allows once, before its first operation.
    """
    import tensorflow as tf

    # Dtypes that TensorFlow's collective all-reduce sums across workers.
    collective_dtypes = (tf.bfloat16, tf.float16, tf.float32, tf.float64)
    collective_dtypes += (tf.int32, tf.int64)

    class MultiWorkerMirroredStrategy(tf.distribute.MultiWorkerMirroredStrategy):
        """Reduces as Keras 3 asks, where the multi-worker strategy refuses
        (keras-team/keras#20585): a structure leaf by leaf, as
        `MirroredStrategy` does (Keras reduces a whole input batch before the
        first step, for its shapes and dtypes), in float32 for dtypes the
        collectives do not sum (uint8 images), and per-replica scalars (the
        step's metrics, which Keras reduces "along axis 0") across replicas.
        """

        def reduce(self, reduce_op, value, axis):
            parent = super()

            def reduce_leaf(leaf):
                local = self.experimental_local_results(leaf)[0]
                leaf_axis = None if local.shape.rank == 0 else axis
                if local.dtype in collective_dtypes:
                    return parent.reduce(reduce_op, leaf, leaf_axis)
                as_float = self.run(lambda v: tf.cast(v, tf.float32), (leaf,))
                reduced = parent.reduce(reduce_op, as_float, leaf_axis)
                return tf.cast(reduced, local.dtype)

            return tf.nest.map_structure(reduce_leaf, value)

    try:
        return MultiWorkerMirroredStrategy()
    except RuntimeError as error:
        if "program startup" not in str(error):
            raise
        raise ValueError(
            "Invalid value for argument `distribution`: a multi-worker run "
            "(TF_CONFIG describes several workers) starts "
            "tf.distribute.MultiWorkerMirroredStrategy, which TensorFlow "
            "allows only before the process's first TensorFlow operation, "
            "and this process has already run one. Start the run in a fresh "
            "process (keras-ortho train), or call keras_ortho.recipes.train "
            "before any other TensorFlow work. Received: "
            "distribution='data_parallel' with TF_CONFIG="
            f"{os.environ.get('TF_CONFIG')}"
        ) from None


def tensorflow_worker_index(strategy):
    """This worker's place in the cluster of `strategy`, the chief first (as
    TensorFlow numbers them); 0 without a cluster."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return 0
    if resolver.task_type == "chief":
        return 0
    has_chief = "chief" in resolver.cluster_spec().jobs
    return resolver.task_id + int(has_chief)


def tensorflow_multi_worker_parallelism():
    """`MultiWorkerMirroredStrategy` over the workers of `TF_CONFIG`."""
    strategy = multi_worker_mirrored_strategy()
    on_cpus = "CPU" in strategy.extended.worker_devices[0]
    return DataParallelism(
        "tf.distribute.MultiWorkerMirroredStrategy",
        strategy.num_replicas_in_sync,
        strategy.scope,
        xla=not on_cpus,
        process_index=tensorflow_worker_index(strategy),
        process_count=tensorflow_cluster_size(),
        # Keras passes each worker's batches to
        # `experimental_distribute_dataset`: every worker reads the same
        # seeded global batch, splits it into one part per replica of the
        # cluster and keeps its own (TensorFlow's DATA sharding).
        engine_shards_input=True,
    )


def tensorflow_data_parallelism(devices):
    """`MirroredStrategy` over the first `devices` of this host."""
    strategy = mirrored_strategy(devices)
    replicas = strategy.num_replicas_in_sync
    on_cpus = "CPU" in strategy.extended.worker_devices[0]
    return DataParallelism(
        "tf.distribute.MirroredStrategy",
        replicas,
        strategy.scope,
        xla=not (on_cpus and replicas > 1),
    )
