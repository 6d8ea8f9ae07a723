"""Backend-specific code, in the one module that holds it: Keras' data-parallel
engines differ per backend, and `keras.ops` has no collective operations.

- Data-parallel training (`data_parallelism`): `keras.distribution.DataParallel`
  on JAX (over several processes after `keras.distribution.initialize()`),
  `tf.distribute.MirroredStrategy` on TensorFlow (`MultiWorkerMirroredStrategy`
  when `TF_CONFIG` describes several workers); Keras has no engine on torch.
- Replicas under `tf.distribute`: each normalises with its shard's
  BatchNormalization statistics unless synchronized (`batch_norm_statistics`),
  and each reads its own copy of every seed generator's state, which needs a
  stream of its own (`ReplicaSeeds`). JAX `DataParallel` runs one global
  program: global statistics, one stream.
- Cross-replica gathering for batch-dependent losses (`gather_across_replicas`):
  JAX with `keras.distribution.DataParallel` partitions the global program, so
  a loss already sees the global batch; under `tf.distribute` each replica runs
  the loss on its local shard and `all_gather` (differentiable: its gradient
  sums the upstream gradients of every replica) exposes the other replicas'
  rows; torch runs one process per device and the loss sees the local batch.
- XLA's CPU scheduler on TensorFlow (`prefer_ordered_xla_cpu_schedule`).
"""

import contextlib
import dataclasses
import functools
import json
import os
from collections.abc import Callable

import keras

from keras_ortho._model_graph import walk_layers

DISTRIBUTIONS = ("none", "data_parallel")
DATA_PARALLEL_BACKENDS = ("jax", "tensorflow")
# Keras' own variables for `keras.distribution.initialize()` (JAX).
NUM_PROCESSES_VARIABLE = "KERAS_DISTRIBUTION_NUM_PROCESSES"
XLA_CPU_SCHEDULER_FLAG = "--xla_cpu_enable_concurrency_optimized_scheduler"


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
        if _jax_cluster_size() > 1 and devices is not None:
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
        return _jax_data_parallelism(devices)
    workers = _tensorflow_cluster_size()
    if workers > 1:
        if devices is not None:
            raise ValueError(
                "Invalid value for argument `devices`: a multi-worker run "
                f"(TF_CONFIG describes {workers} workers) trains on every "
                f"device of every worker. Received: devices={devices}"
            )
        return _tensorflow_multi_worker_parallelism()
    return _tensorflow_data_parallelism(devices)


def cluster_processes():
    """How many processes the environment's cluster describes for the active
    backend's engine (Keras' `KERAS_DISTRIBUTION_NUM_PROCESSES` on JAX, the
    workers of `TF_CONFIG` on TensorFlow); 1 without one."""
    backend = keras.backend.backend()
    if backend == "jax":
        return _jax_cluster_size()
    if backend == "tensorflow":
        return max(_tensorflow_cluster_size(), 1)
    return 1


def _jax_cluster_size():
    return int(os.environ.get(NUM_PROCESSES_VARIABLE) or 1)


def _tensorflow_cluster_size():
    """The workers (the chief included) of the `TF_CONFIG` cluster, if any:
    the tasks that `MultiWorkerMirroredStrategy` trains on."""
    cluster = json.loads(os.environ.get("TF_CONFIG") or "{}").get("cluster", {})
    return sum(len(cluster.get(job, ())) for job in ("chief", "worker"))


def _first_devices(available, devices):
    if devices is None:
        return list(available)
    if devices > len(available):
        raise ValueError(
            f"Invalid value for argument `devices`: this host has "
            f"{len(available)} device(s) of the accelerator type, "
            f"{list(available)}. Received: devices={devices}"
        )
    return list(available[:devices])


def _jax_data_parallelism(devices):
    if _jax_cluster_size() > 1:
        _initialize_jax_processes()
    import jax

    chosen = _first_devices(keras.distribution.list_devices(), devices)
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
        tuple(_first_devices([d.name for d in available], devices))
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


def _tensorflow_multi_worker_parallelism():
    strategy = multi_worker_mirrored_strategy()
    on_cpus = "CPU" in strategy.extended.worker_devices[0]
    return DataParallelism(
        "tf.distribute.MultiWorkerMirroredStrategy",
        strategy.num_replicas_in_sync,
        strategy.scope,
        xla=not on_cpus,
        process_index=tensorflow_worker_index(strategy),
        process_count=_tensorflow_cluster_size(),
        # Keras passes each worker's batches to
        # `experimental_distribute_dataset`: every worker reads the same
        # seeded global batch, splits it into one part per replica of the
        # cluster and keeps its own (TensorFlow's DATA sharding).
        engine_shards_input=True,
    )


def _tensorflow_data_parallelism(devices):
    strategy = mirrored_strategy(devices)
    replicas = strategy.num_replicas_in_sync
    on_cpus = "CPU" in strategy.extended.worker_devices[0]
    return DataParallelism(
        "tf.distribute.MirroredStrategy",
        replicas,
        strategy.scope,
        xla=not (on_cpus and replicas > 1),
    )


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


class ReplicaSeeds(keras.callbacks.Callback):
    """At the start of every epoch, after the seed generators are set, gives
    each `tf.distribute` replica its own random stream.

    Each replica reads its own copy of a `keras.random.SeedGenerator`'s state
    and the copies start equal, so every replica would draw the same crops,
    flips and dropout masks for its shard as the others. The copy of replica
    `r` moves `r * 2**32` draws ahead, a stream no run exhausts; `r` counts
    the replicas of every worker of a multi-worker run. Replica 0 keeps the
    single-device stream.
    """

    def on_epoch_begin(self, epoch, logs=None):
        strategy = self.model.distribute_strategy
        local_replicas = len(strategy.extended.worker_devices)
        first_replica = tensorflow_worker_index(strategy) * local_replicas
        for layer in walk_layers(self.model):
            for value in vars(layer).values():
                if isinstance(value, keras.random.SeedGenerator):
                    # `values`: this worker's copies of a MirroredVariable.
                    copies = getattr(value.state.value, "values", ())
                    for replica, copy in enumerate(copies, first_replica):
                        copy.assign_add([0, replica << 32])


@contextlib.contextmanager
def batch_norm_statistics(model, parallelism, synchronized):
    """Inside, the BatchNormalization layers of `model` normalise with the
    global batch's statistics under `tf.distribute` when `synchronized`
    (Keras' `synchronized=True`), with each replica's otherwise.

    The layers are switched for the duration only: Keras refuses
    `synchronized=True` outside TensorFlow, so a model saved with it would not
    load on JAX or torch.
    """
    if not (synchronized and parallelism.tensorflow_replicas):
        yield
        return
    layers = [
        layer
        for layer in walk_layers(model)
        if isinstance(layer, keras.layers.BatchNormalization)
    ]
    previous = [layer.synchronized for layer in layers]
    for layer in layers:
        layer.synchronized = True
    try:
        yield
    finally:
        for layer, value in zip(layers, previous, strict=True):
            layer.synchronized = value


def gather_across_replicas(features, labels):
    """Returns `(all_features, all_labels, offset)`.

    Inside a `tf.distribute` replica context with several replicas,
    `all_features` and `all_labels` are the rows of every replica, in replica
    order, and `offset` is the position of this replica's first row among them.
    Everywhere else they are the inputs themselves and `offset` is 0.
    """
    if keras.backend.backend() != "tensorflow":
        return features, labels, 0
    import tensorflow as tf

    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return features, labels, 0
    all_features = context.all_gather(features, axis=0)
    all_labels = context.all_gather(labels, axis=0)
    # Local batch sizes may differ (a final partial batch), so the offset is
    # the number of rows held by the replicas before this one.
    sizes = context.all_gather(tf.shape(features)[:1], axis=0)
    offset = tf.reduce_sum(sizes[: context.replica_id_in_sync_group])
    return all_features, all_labels, offset


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
