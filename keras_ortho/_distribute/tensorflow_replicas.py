"""What changes inside `tf.distribute` replicas, each of which runs the step
on its own shard of the batch: random streams, BatchNormalization statistics
and the rows a batch-dependent loss sees."""

import contextlib

import keras

from keras_ortho._distribute.tensorflow_strategies import tensorflow_worker_index
from keras_ortho._model_graph import walk_layers


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
    Everywhere else they are the inputs themselves and `offset` is 0: JAX
    with `keras.distribution.DataParallel` partitions one global program, so
    a loss already sees the global batch, and torch runs one process per
    device, whose loss sees the local batch.

    `all_gather` is differentiable: its gradient sums the upstream gradients
    of every replica.
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
