"""Orthogonal Sphere (OS) loss: orthonormal blocks of the penultimate features."""

from keras import ops

from keras_ortho._export import register_serializable
from keras_ortho._ops import gram_minus_identity
from keras_ortho._ops import l2_normalize
from keras_ortho._ops import safe_norm
from keras_ortho._validation import validate_bool
from keras_ortho._validation import validate_choice
from keras_ortho._validation import validate_int
from keras_ortho.losses._function_loss import FunctionLoss
from keras_ortho.losses._inputs import features_of

GRAMS = ("blocks", "features")


def _validated_options(num_blocks, squared, gram):
    return {
        "num_blocks": validate_int(num_blocks, "num_blocks", minimum=1),
        "squared": validate_bool(squared, "squared"),
        "gram": validate_choice(gram, "gram", GRAMS),
    }


@register_serializable
def orthogonal_sphere_loss(y_true, y_pred, num_blocks=16, squared=False, gram="blocks"):
    """Orthogonal Sphere loss, one value per sample.

    See `keras_ortho.losses.OrthogonalSphereLoss` for the formula.

    Args:
        y_true: ignored (the loss depends on the features only).
        y_pred: features `(B, D)`, any float dtype.
        num_blocks: the number `k` of equal blocks; must divide `D`.
        squared: square the Frobenius norm or not (default).
        gram: `"blocks"` (default) or `"features"`.

    Returns:
        A float32 tensor of shape `(B,)`.
    """
    options = _validated_options(num_blocks, squared, gram)
    return _orthogonal_sphere_loss(y_true, y_pred, **options)


def _orthogonal_sphere_loss(y_true, y_pred, num_blocks, squared, gram):
    del y_true
    features = features_of(y_pred)
    if gram == "features":
        # A batch quantity: every sample carries the batch value, so the mean
        # over the batch is that value.
        residual = gram_minus_identity(l2_normalize(features, axis=1), "columns")
        value = ops.sum(ops.square(residual)) if squared else safe_norm(residual)
        return ops.ones_like(features[:, 0]) * value

    dim = features.shape[1]
    if dim is None or dim % num_blocks:
        raise ValueError(
            "Invalid `num_blocks`: it must divide the feature dimension of "
            f"`y_pred`. Received: num_blocks={num_blocks}, "
            f"y_pred.shape={tuple(features.shape)}"
        )
    blocks = l2_normalize(
        ops.reshape(features, (-1, num_blocks, dim // num_blocks)), axis=2
    )
    residual = ops.matmul(blocks, ops.transpose(blocks, (0, 2, 1))) - ops.eye(
        num_blocks, dtype="float32"
    )
    if squared:
        return ops.sum(ops.square(residual), axis=(1, 2))
    return safe_norm(residual, axis=(1, 2))


@register_serializable
class OrthogonalSphereLoss(FunctionLoss):
    """Orthogonal Sphere (OS) loss: pushes blocks of each feature vector to be
    mutually orthogonal unit vectors.

    Each sample's feature vector `f` (the globally pooled input of the
    classifier) is split into `k = num_blocks` contiguous blocks of `m = D / k`
    entries, each block is put on the unit sphere, and the Gram matrix of the
    blocks is pulled to the identity:

    ```
    f = [f_1, ..., f_k],   z_a = f_a / ||f_a||,   Z = [z_1; ...; z_k]  (k x m)
    loss_i = ||Z Z^T - I_k||_F          (squared=True: ||Z Z^T - I_k||_F^2)
    ```

    Since each `z_a` has unit norm, `||Z Z^T - I_k||_F^2` is the sum of the
    squared cosines between different blocks. A zero block stays zero and
    adds 1 per zero block to the squared value. Exact orthonormality needs
    `m >= k`, i.e. `D >= k^2` (256 for `k = 16`); with smaller features the
    loss can be reduced but not zeroed.

    **This is a reconstruction.** The paper's full text was not available:
    the block split and `k = 16` come from secondary descriptions of the
    paper, the closed form from its abstract ("a simple orthonormality
    term"). Whether the norm is squared and how the batch is reduced are not
    known, hence `squared` (default off, as the reconstruction's Frobenius
    norm) and the Keras `reduction` (default: the mean over the batch).

    `gram="features"` is the variant of the third-party code
    `genki0524/graduation_research`: the feature rows are L2-normalised as a
    whole and the `D x D` Gram `F^T F` of the batch is pulled to `I_D`. It has
    no blocks (`num_blocks` is unused), and it is a batch quantity: every
    sample carries the batch value, so the default reduction returns it, but
    `sample_weight` only rescales it and under `tf.distribute` each replica
    computes it on its own shard.

    Args:
        num_blocks: the number of blocks `k` (default 16); must divide the
            feature dimension.
        squared: whether to square the Frobenius norm (default False).
        gram: `"blocks"` (default, the reconstruction above) or
            `"features"` (the batch `D x D` feature Gram).
        reduction: a Keras loss reduction, `"sum_over_batch_size"` by default.
        name: the loss's name.
        dtype: the dtype of the loss's computations, float32 by default.

    `y_true` is ignored, so the loss can sit on the features output of a model
    trained with labels (`keras_ortho.models.with_features`).

    Example:

    ```python
    labels = np.array([0, 0, 1, 2])  # ignored
    features = np.random.rand(4, 64)  # D divisible by num_blocks
    loss = keras_ortho.losses.OrthogonalSphereLoss(num_blocks=16)
    value = loss(labels, features)
    ```

    Reference:
        H. Choi, A. Som, P. Turaga, "Role of Orthogonality Constraints in
        Improving Properties of Deep Networks for Image Classification",
        arXiv 2009.10762, 2020. No official code; `gram="features"` follows
        `genki0524/graduation_research` (`crossEntropyOSLoss.py`).
    """

    def __init__(
        self,
        num_blocks=16,
        squared=False,
        gram="blocks",
        reduction="sum_over_batch_size",
        name="orthogonal_sphere_loss",
        dtype=None,
    ):
        options = _validated_options(num_blocks, squared, gram)
        super().__init__(_orthogonal_sphere_loss, name, reduction, dtype, **options)
