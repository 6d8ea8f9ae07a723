"""Cross-replica gathering for batch-dependent losses.

This is the one module with backend-specific code: `keras.ops` has no
collective operations.

- JAX with `keras.distribution.DataParallel`: XLA partitions the global program,
  so a loss already sees the global batch; nothing to gather.
- TensorFlow with `tf.distribute` (e.g. `MirroredStrategy`): each replica runs
  the loss on its local shard; `all_gather` (differentiable: its gradient sums
  the upstream gradients of every replica) exposes the other replicas' rows.
- torch: Keras runs one process per device and the loss sees the local batch;
  nothing is gathered.
"""

import keras


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
