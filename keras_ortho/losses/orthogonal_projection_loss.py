"""Orthogonal Projection Loss (OPL) on penultimate features."""

from keras import ops

from keras_ortho._distribute import gather_across_replicas
from keras_ortho._export import register_serializable
from keras_ortho._ops import l2_normalize
from keras_ortho._validation import validate_bool
from keras_ortho._validation import validate_choice
from keras_ortho._validation import validate_int
from keras_ortho._validation import validate_non_negative_float
from keras_ortho.losses._function_loss import FunctionLoss
from keras_ortho.losses._inputs import class_ids_of
from keras_ortho.losses._inputs import features_of

ABSOLUTE = ("elementwise", "none", "mean")


def _validated_options(gamma, absolute, num_classes, cross_replica):
    return {
        "gamma": validate_non_negative_float(gamma, "gamma"),
        "absolute": validate_choice(absolute, "absolute", ABSOLUTE),
        "num_classes": None
        if num_classes is None
        else validate_int(num_classes, "num_classes", minimum=1),
        "cross_replica": validate_bool(cross_replica, "cross_replica"),
    }


@register_serializable
def orthogonal_projection_loss(
    y_true,
    y_pred,
    gamma=0.5,
    absolute="elementwise",
    num_classes=None,
    cross_replica=False,
):
    """Orthogonal Projection Loss, one value per sample.

    See `keras_ortho.losses.OrthogonalProjectionLoss` for the formula. The
    batch loss is the mean of the returned values, exactly.

    Args:
        y_true: class labels `(B,)` or `(B, 1)`, or one-hot labels `(B, C)`.
        y_pred: features `(B, D)`, any float dtype.
        gamma: weight of the different-class term, a finite number >= 0.
        absolute: `"elementwise"`, `"none"` or `"mean"`.
        num_classes: optional; when given, the width one-hot labels must have
            and (on eager calls) the range `[0, num_classes)` of class labels.
        cross_replica: under `tf.distribute`, form pairs across all replicas.

    Returns:
        A float32 tensor of shape `(B,)`.
    """
    options = _validated_options(gamma, absolute, num_classes, cross_replica)
    return _orthogonal_projection_loss(y_true, y_pred, **options)


def _orthogonal_projection_loss(
    y_true, y_pred, gamma, absolute, num_classes, cross_replica
):
    features = features_of(y_pred)
    labels = class_ids_of(y_true, features, num_classes)
    features = l2_normalize(features, axis=1)

    if cross_replica:
        columns, column_labels, offset = gather_across_replicas(features, labels)
    else:
        columns, column_labels, offset = features, labels, 0
    # Rows are this replica's anchors, columns every sample of the batch (the
    # global batch when gathered); without gathering they are the same.
    cosine = ops.matmul(features, ops.transpose(columns))
    same = ops.equal(ops.expand_dims(labels, 1), ops.expand_dims(column_labels, 0))
    anchor_index = ops.arange(ops.shape(features)[0]) + offset
    is_self = ops.equal(
        ops.expand_dims(anchor_index, 1),
        ops.expand_dims(ops.arange(ops.shape(columns)[0]), 0),
    )
    positive = ops.cast(ops.logical_and(same, ops.logical_not(is_self)), "float32")
    negative = ops.cast(ops.logical_not(same), "float32")

    # Pair counts over the whole batch, from the labels alone.
    batch_size = ops.cast(ops.shape(columns)[0], "float32")
    batch_same = ops.equal(
        ops.expand_dims(column_labels, 1), ops.expand_dims(column_labels, 0)
    )
    same_pairs = ops.sum(ops.cast(batch_same, "float32"))
    num_positive = same_pairs - batch_size
    num_negative = ops.square(batch_size) - same_pairs

    # Anchor i carries B times its row's share of each batch mean, so that the
    # mean over all anchors is the batch value.
    # A mean over no pair is 0: its sum is 0 and the count is floored at 1. The
    # reference adds 1e-6 to the count instead, which changes no value by more
    # than 1e-6 relative; under XLA, which may reassociate `(B^2 - S) + 1e-6`,
    # that guard can round to 0 and give 0 / 0.
    positive_term = ops.sum(positive * cosine, axis=1) / ops.maximum(num_positive, 1.0)
    if absolute == "elementwise":
        # |cos| with the subgradient 0 at cos = 0 on every backend, as in the
        # reference (torch); `ops.abs` has gradient 1 there on JAX.
        negative_cosine = cosine * ops.stop_gradient(ops.sign(cosine))
    else:
        negative_cosine = cosine
    negative_term = ops.sum(negative * negative_cosine, axis=1) / ops.maximum(
        num_negative, 1.0
    )
    if absolute == "mean":
        # |mean| is not a mean of per-anchor terms: each anchor's signed share
        # is multiplied by the sign of the batch mean (held constant, as the
        # subgradient of |.| is), so the anchors sum to |mean| and its gradient.
        if columns is features:
            signed_sum = ops.sum(negative * cosine)
        else:
            # Gathered: this replica holds only its own rows of `cosine`.
            batch_cosine = ops.matmul(columns, ops.transpose(columns))
            signed_sum = ops.sum(ops.where(batch_same, 0.0, batch_cosine))
        negative_term = negative_term * ops.stop_gradient(ops.sign(signed_sum))
    return 1.0 - batch_size * positive_term + gamma * batch_size * negative_term


@register_serializable
class OrthogonalProjectionLoss(FunctionLoss):
    """Orthogonal Projection Loss (OPL) between class labels and features.

    OPL pulls the features of a class together and pushes the features of
    different classes towards orthogonality. With `f_i` the L2-normalised
    feature rows (a zero row stays zero), `cos_ij = <f_i, f_j>`, `P` the
    ordered same-class pairs `i != j` and `N` the different-class pairs:

    ```
    s = sum_{(i,j) in P} cos_ij / |P|          (0 when P is empty)
    d = sum_{(i,j) in N} |cos_ij| / |N|        absolute="elementwise"
        sum_{(i,j) in N} cos_ij / |N|          absolute="none"
        |sum_{(i,j) in N} cos_ij / |N||        absolute="mean"     (0 when N is empty)
    loss = (1 - s) + gamma * d
    ```

    The loss is a batch quantity; it is returned as one value per sample,
    `loss_i = 1 - B s_i + gamma B d_i` with `s_i`, `d_i` the shares of anchor
    `i`'s row in `s` and `d`, whose mean over the batch is `loss` exactly.
    The default reduction therefore gives the batch value, `sample_weight`
    weights anchors, and `tf.distribute` scales gradients correctly. For
    `absolute="mean"` each anchor's share of the signed mean is multiplied by
    the sign of the batch mean. The loss is computed in float32 whatever the
    feature dtype.

    Args:
        gamma: weight of the different-class term `d`, a finite number >= 0.
        absolute: where `d` takes absolute values: `"elementwise"` (default,
            the public CIFAR and ImageNet code), `"none"` (the root `loss.py`
            of the public code) or `"mean"` (the paper's equation). With
            non-negative (post-ReLU) features all three coincide.
        num_classes: optional number of classes: when given, one-hot labels
            must have that width, and eager calls check that class labels lie
            in `[0, num_classes)`.
        cross_replica: under `tf.distribute`, all-gather features and labels
            so that pairs span replicas and the loss equals the single-device
            value of the global batch. JAX `keras.distribution` already sees
            the global batch, and the torch backend computes the loss on each
            process's batch; there this option changes nothing.
        reduction: a Keras loss reduction, `"sum_over_batch_size"` by default.
        name: the loss's name.
        dtype: the dtype of the loss's computations, float32 by default.

    Labels are class ids of shape `(B,)` or `(B, 1)`, or one-hot `(B, C)`.
    Float labels that are not whole numbers, and rows that are not one-hot,
    are rejected on eager calls; inside a compiled step the values are unknown
    when it is traced and are used as given (one-hot rows through `argmax`).

    Example:

    ```python
    labels = np.array([0, 0, 1, 2])  # (B,)
    features = np.random.rand(4, 32)  # (B, D)
    loss = keras_ortho.losses.OrthogonalProjectionLoss(gamma=0.5)
    value = loss(labels, features)
    ```

    Reference:
        K. Ranasinghe, M. Naseer, M. Hayat, S. Khan, F. S. Khan, "Orthogonal
        Projection Loss", ICCV 2021 (arXiv 2103.14021). Matches the public
        code `kahnchana/opl`: `absolute="elementwise"` its
        `classification/cifar/losses.py` (and the ImageNet copy, which hard-codes
        `gamma=2`), `absolute="none"` its root `loss.py`.
    """

    def __init__(
        self,
        gamma=0.5,
        absolute="elementwise",
        num_classes=None,
        cross_replica=False,
        reduction="sum_over_batch_size",
        name="orthogonal_projection_loss",
        dtype=None,
    ):
        options = _validated_options(gamma, absolute, num_classes, cross_replica)
        super().__init__(_orthogonal_projection_loss, name, reduction, dtype, **options)
