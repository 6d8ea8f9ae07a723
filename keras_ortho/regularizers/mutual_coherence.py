"""Mutual coherence (MC): the largest absolute cosine between two filters."""

from keras import ops

from keras_ortho._export import register_serializable
from keras_ortho._kernel_matrix import filter_matrix
from keras_ortho._ops import l2_normalize
from keras_ortho._validation import validate_choice
from keras_ortho.regularizers._base import FunctionRegularizer

REDUCTIONS = ("max", "mean")
GRAMS = ("filters", "inputs")


def _validated_options(reduction, gram):
    return {
        "reduction": validate_choice(reduction, "reduction", REDUCTIONS),
        "gram": validate_choice(gram, "gram", GRAMS),
    }


@register_serializable
def mutual_coherence(kernel, reduction="max", gram="filters", kernel_layout="auto"):
    """Mutual coherence of a kernel, unweighted.

    With `W` the filter matrix `(fan_in, filters)` and `w_i` its columns
    (`gram="filters"`) or its rows (`gram="inputs"`):

    ```
    reduction="max":   max_{i<j} |cos(w_i, w_j)|
    reduction="mean":  mean_{i<j} |cos(w_i, w_j)|
    ```

    A zero vector has cosine 0 with every other vector (and a finite
    gradient); with a single vector there is no pair and the result is 0.

    Args:
        kernel: a Keras kernel of rank 2 to 5.
        reduction: `"max"` or `"mean"` over the unordered pairs.
        gram: `"filters"` (columns of `W`) or `"inputs"` (rows of `W`).
        kernel_layout: see `keras_ortho.regularizers.MutualCoherence`.

    Returns:
        A float32 scalar.
    """
    options = _validated_options(reduction, gram)
    return _mutual_coherence(kernel, kernel_layout=kernel_layout, **options)


def _mutual_coherence(kernel, kernel_layout, reduction, gram):
    matrix = filter_matrix(ops.cast(kernel, "float32"), kernel_layout)
    if gram == "inputs":
        matrix = ops.transpose(matrix)
    unit = l2_normalize(matrix, axis=0)
    count = matrix.shape[1]
    # Each unordered pair once: the strict upper triangle of the cosine Gram.
    pairs = ops.triu(ops.ones((count, count), dtype="float32"), k=1)
    abs_cosines = ops.abs(ops.matmul(ops.transpose(unit), unit)) * pairs
    if reduction == "max":
        return ops.max(abs_cosines)
    return ops.sum(abs_cosines) / float(max(count * (count - 1) // 2, 1))


@register_serializable
class MutualCoherence(FunctionRegularizer):
    """Mutual coherence regularizer (MC): the largest filter-pair |cosine|.

    `W` is the kernel's filter matrix, one column per output filter of length
    `fan_in = kh * kw * cin` (a Dense kernel `(in, out)` is `W` itself):

    ```
    MC(W) = factor * max_{i != j} |<w_i, w_j>| / (||w_i|| ||w_j||)
    ```

    This is Bansal et al.'s `||W^T W - I||_inf` with the unit-norm columns that
    formula assumes made explicit. MC only acts on the worst-aligned pair at a
    time and ignores filter norms. `gram="inputs"` uses the rows of `W` (one
    per input position) instead of the filters.

    `reduction="mean"` averages `|cos|` over all unordered pairs instead, which
    is exactly `keras.regularizers.OrthogonalRegularizer(factor,
    mode="columns")` on the `(fan_in, filters)` matrix (`gram="inputs"`:
    `mode="rows"`). Unlike Keras' regularizer it accepts kernels of any rank
    and returns 0, not NaN, for a single filter (Keras divides 0 by 0 pairs).

    In an over-complete layer (`filters > fan_in`) the filters cannot all be
    orthogonal, so the filter coherence is bounded below (Welch bound) and MC
    keeps pushing on it; `gram="inputs"` is then the reachable target.

    Args:
        factor: the penalty weight, a finite number >= 0.
        reduction: `"max"` (default, mutual coherence) or `"mean"`.
        gram: `"filters"` (default) or `"inputs"`.
        kernel_layout: how the kernel is stored, `"auto"` by default; see
            `OrthogonalityRegularizer`.

    Example:

    ```python
    layer = keras.layers.Conv2D(
        64, 3, kernel_regularizer=keras_ortho.regularizers.MutualCoherence(1e-3)
    )
    ```

    Reference:
        N. Bansal, X. Chen, Z. Wang, "Can We Gain More from Orthogonality
        Regularizations in Training Deep CNNs?", NeurIPS 2018 (MC). The
        official code (nbansal90/Can-we-Gain-More-from-Orthogonality) has no
        MC; `reduction="max"` matches the `mc` key of the golden data (torch
        autograd of the formula), `reduction="mean"` matches
        keras-team/keras `keras/src/regularizers/regularizers.py`
        `OrthogonalRegularizer` (Keras 3.15.1).
    """

    def __init__(self, factor, reduction="max", gram="filters", kernel_layout="auto"):
        options = _validated_options(reduction, gram)
        super().__init__(_mutual_coherence, factor, kernel_layout, **options)
