"""Disentangled (strict) orthogonality: the filter norms and the filter
correlations as separately weighted terms."""

from keras import ops

from keras_ortho._export import register_serializable
from keras_ortho._kernel_matrix import filter_matrix
from keras_ortho._ops import l2_normalize
from keras_ortho._validation import validate_bool
from keras_ortho._validation import validate_non_negative_float
from keras_ortho._validation import validate_positive_float
from keras_ortho.regularizers._base import FunctionRegularizer


def _validate_correlation_power(value):
    """Returns `value` as a float; raises unless it is a finite number >= 1.

    Below 1, `|c|^p` has an infinite slope at `c = 0`, where every pair of
    orthogonal (or zero) filters sits.
    """
    value = validate_positive_float(value, "correlation_power")
    if value < 1:
        raise ValueError(
            "Invalid value for argument `correlation_power`: expected a finite "
            f"number >= 1. Received: correlation_power={value!r}"
        )
    return value


def validated_term_options(diagonal_weight, correlation_weight, correlation_power):
    """The options of the norm term `D` and the correlation term `C`,
    validated; `RelaxedOrthogonality` shares them."""
    return {
        "diagonal_weight": validate_non_negative_float(
            diagonal_weight, "diagonal_weight"
        ),
        "correlation_weight": validate_non_negative_float(
            correlation_weight, "correlation_weight"
        ),
        "correlation_power": _validate_correlation_power(correlation_power),
    }


def _validated_options(
    diagonal_weight, correlation_weight, normalize_correlations, correlation_power
):
    return {
        **validated_term_options(
            diagonal_weight, correlation_weight, correlation_power
        ),
        "normalize_correlations": validate_bool(
            normalize_correlations, "normalize_correlations"
        ),
    }


def diagonal_term(matrix):
    """`sum_i (||w_i||^2 - 1)^2` over the columns `w_i` of `matrix`."""
    squared_norms = ops.sum(ops.square(matrix), axis=0)
    return ops.sum(ops.square(squared_norms - 1.0))


def correlation_matrix(matrix, normalize):
    """The filters' correlations `c_ij`, with a zero diagonal.

    `normalize=True` gives cosines (a zero filter has cosine 0 with every
    other), `normalize=False` raw inner products `<w_i, w_j>`.
    """
    if normalize:
        matrix = l2_normalize(matrix, axis=0)
    count = matrix.shape[1]
    off_diagonal = 1.0 - ops.eye(count, dtype="float32")
    # Masked before any power is taken, so the diagonal contributes neither a
    # value nor a gradient.
    return ops.matmul(ops.transpose(matrix), matrix) * off_diagonal


def correlation_magnitudes(correlations, power):
    """`|c|^p` element-wise."""
    if power == 2:
        return ops.square(correlations)
    return ops.power(ops.abs(correlations), power)


@register_serializable
def disentangled_orthogonality(
    kernel,
    diagonal_weight=1.0,
    correlation_weight=1.0,
    normalize_correlations=True,
    correlation_power=2,
    kernel_layout="auto",
):
    """Disentangled (strict) orthogonality of a kernel, unweighted by `factor`.

    With `w_i` the filters (columns of the filter matrix `(fan_in, filters)`):

    ```
    D = sum_i (||w_i||^2 - 1)^2
    C = sum_{i != j} |c_ij|^p,   c_ij = <w_i, w_j> / (||w_i|| ||w_j||)
                                 (or <w_i, w_j> if not normalize_correlations)
    value = diagonal_weight * D + correlation_weight * C
    ```

    A reconstruction of Wu et al. (2023), whose exact equations are not
    public; see `keras_ortho.regularizers.DisentangledOrthogonality`.

    Args:
        kernel: a Keras kernel of rank 2 to 5.
        diagonal_weight: weight of `D`, a finite number >= 0.
        correlation_weight: weight of `C`, a finite number >= 0.
        normalize_correlations: correlate unit-norm filters (cosines) or the
            raw filters (inner products).
        correlation_power: the exponent `p`, a finite number >= 1.
        kernel_layout: see `keras_ortho.regularizers.DisentangledOrthogonality`.

    Returns:
        A float32 scalar.
    """
    options = _validated_options(
        diagonal_weight, correlation_weight, normalize_correlations, correlation_power
    )
    return _disentangled_orthogonality(kernel, kernel_layout=kernel_layout, **options)


def _disentangled_orthogonality(
    kernel,
    kernel_layout,
    diagonal_weight,
    correlation_weight,
    normalize_correlations,
    correlation_power,
):
    matrix = filter_matrix(ops.cast(kernel, "float32"), kernel_layout)
    correlations = correlation_matrix(matrix, normalize_correlations)
    correlation = ops.sum(correlation_magnitudes(correlations, correlation_power))
    return diagonal_weight * diagonal_term(matrix) + correlation_weight * correlation


@register_serializable
class DisentangledOrthogonality(FunctionRegularizer):
    """Disentangled (strict) orthogonality regularizer: filter norms and filter
    correlations as separately weighted terms.

    **A reconstruction.** Wu et al. (2023) split the soft-orthogonality
    residual `W^T W - I` into its diagonal (each filter's squared norm against
    1, the filter's "contribution") and its off-diagonal correlations
    (against 0), measured separately "to mitigate their mutual interference",
    with correlations of normalised filters. The paper's exact equations
    (norm, weights, normalisation of the diagonal) are not public; the
    choices made here are parameters:

    ```
    D = sum_i (||w_i||^2 - 1)^2                          (raw filters)
    C = sum_{i != j} |c_ij|^p                            (ordered pairs)
    c_ij = <w_i, w_j> / (||w_i|| ||w_j||)                (cosine)
    L(W) = factor * (diagonal_weight * D + correlation_weight * C)
    ```

    With `normalize_correlations=False`, `c_ij = <w_i, w_j>`, and with both
    weights 1 and `p = 2`, `D + C = ||W^T W - I||_F^2`: exactly
    `SoftOrthogonality`. Normalising decouples the two terms: `C` then only
    turns filters, `D` only scales them, so a large filter norm no longer
    inflates the correlation penalty.

    `w_i` are the columns of the filter matrix `(fan_in, filters)`, one per
    output filter (a Dense kernel `(in, out)` is the matrix itself). A zero
    filter has cosine 0 with every other filter and a finite gradient.
    In over-complete layers (`filters > fan_in`) `C = 0` is unreachable; see
    `RelaxedOrthogonality`.

    Args:
        factor: the penalty weight, a finite number >= 0.
        diagonal_weight: weight of the norm term `D`, a finite number >= 0.
        correlation_weight: weight of the correlation term `C`, a finite
            number >= 0.
        normalize_correlations: correlate unit-norm filters (default, cosines)
            or raw filters (inner products).
        correlation_power: the exponent `p` of `|c_ij|`, a finite number >= 1
            (default 2).
        kernel_layout: how the kernel is stored, `"auto"` by default; see
            `OrthogonalityRegularizer`.

    Example:

    ```python
    layer = keras.layers.Conv2D(
        64,
        3,
        kernel_regularizer=keras_ortho.regularizers.DisentangledOrthogonality(1e-4),
    )
    ```

    Reference:
        C. Wu, S. Zhang, F. Long, Z. Yin, T. Leng, "Towards Better
        Orthogonality Regularization with Disentangled Norm in Training Deep
        CNNs", arXiv:2306.09939, 2023 (strict variant). No reference code is
        public; `D` and `C` with raw inner products match the `diag_D` and
        `offdiag_C` formula quantities of the golden data.
    """

    def __init__(
        self,
        factor,
        diagonal_weight=1.0,
        correlation_weight=1.0,
        normalize_correlations=True,
        correlation_power=2,
        kernel_layout="auto",
    ):
        options = _validated_options(
            diagonal_weight,
            correlation_weight,
            normalize_correlations,
            correlation_power,
        )
        super().__init__(_disentangled_orthogonality, factor, kernel_layout, **options)
