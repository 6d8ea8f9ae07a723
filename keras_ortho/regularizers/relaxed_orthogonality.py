"""Relaxed orthogonality: the disentangled measure without the correlations
that no set of filters of the layer's rank could remove."""

import math
import numbers

from keras import ops

from keras_ortho._export import register_serializable
from keras_ortho._kernel_matrix import filter_matrix
from keras_ortho._validation import validate_choice
from keras_ortho._validation import validate_int
from keras_ortho.regularizers._base import FunctionRegularizer
from keras_ortho.regularizers.disentangled_orthogonality import correlation_magnitudes
from keras_ortho.regularizers.disentangled_orthogonality import correlation_matrix
from keras_ortho.regularizers.disentangled_orthogonality import diagonal_term
from keras_ortho.regularizers.disentangled_orthogonality import validated_term_options

EXCLUSION_RULES = ("turan",)


def turan_correlated_pairs(num_filters, rank):
    """The fewest filter pairs that must stay correlated: `C(n, 2) - t(n, r)`.

    Mutually orthogonal non-zero vectors are linearly independent, so among
    `n` filters of rank at most `r` no `r + 1` are pairwise orthogonal: the
    graph of orthogonal pairs has no clique `K_{r+1}`. By Turán's theorem it
    has at most `t(n, r)` edges, the edges of the complete `r`-partite graph
    with parts as equal as possible. The pairs inside the parts,
    `sum_g C(n_g, 2)`, are what remains; the bound is attained by `r`
    orthogonal directions with the filters shared out evenly among them.

    Args:
        num_filters: `n`, an int >= 0.
        rank: `r`, an int >= 1.

    Returns:
        An int, 0 whenever `r >= n`.
    """
    num_filters = validate_int(num_filters, "num_filters", minimum=0)
    rank = validate_int(rank, "rank", minimum=1)
    size, larger_parts = divmod(num_filters, rank)
    return larger_parts * math.comb(size + 1, 2) + (rank - larger_parts) * math.comb(
        size, 2
    )


def _validate_target_rank(target_rank):
    if target_rank is None:
        return None
    if isinstance(target_rank, numbers.Integral) and not isinstance(target_rank, bool):
        return validate_int(target_rank, "target_rank", minimum=1)
    if isinstance(target_rank, numbers.Real) and not isinstance(target_rank, bool):
        if math.isfinite(target_rank) and 0 < target_rank <= 1:
            return float(target_rank)
        raise ValueError(
            "Invalid value for argument `target_rank`: expected an integer >= 1, "
            f"a fraction in (0, 1] or None. Received: target_rank={target_rank!r}"
        )
    raise TypeError(
        "Invalid type for argument `target_rank`: expected an integer >= 1, a "
        f"fraction in (0, 1] or None. Received: target_rank={target_rank!r} of "
        f"type {type(target_rank).__name__}"
    )


def _validate_num_excluded(num_excluded, target_rank):
    if isinstance(num_excluded, str):
        return validate_choice(num_excluded, "num_excluded", EXCLUSION_RULES)
    num_excluded = validate_int(num_excluded, "num_excluded", minimum=0)
    if target_rank is not None:
        raise ValueError(
            "Invalid combination of arguments: `target_rank` only applies with "
            "num_excluded='turan'. Received: "
            f"num_excluded={num_excluded!r}, target_rank={target_rank!r}"
        )
    return num_excluded


def _validated_options(
    target_rank, num_excluded, diagonal_weight, correlation_weight, correlation_power
):
    target_rank = _validate_target_rank(target_rank)
    return {
        "target_rank": target_rank,
        "num_excluded": _validate_num_excluded(num_excluded, target_rank),
        **validated_term_options(
            diagonal_weight, correlation_weight, correlation_power
        ),
    }


def _resolve_rank(target_rank, fan_in, num_filters):
    """The rank the filters are assumed to span: `min(fan_in, n)`, lowered to
    `target_rank` (a count, or a fraction of `n` rounded half up, at least 1)."""
    rank = min(fan_in, num_filters)
    if isinstance(target_rank, float):
        rank = min(rank, max(1, math.floor(target_rank * num_filters + 0.5)))
    elif target_rank is not None:
        rank = min(rank, target_rank)
    return rank


def _num_excluded_pairs(num_excluded, target_rank, fan_in, num_filters):
    if num_excluded == "turan":
        rank = _resolve_rank(target_rank, fan_in, num_filters)
        return turan_correlated_pairs(num_filters, rank)
    return min(num_excluded, math.comb(num_filters, 2))


@register_serializable
def relaxed_orthogonality(
    kernel,
    target_rank=None,
    num_excluded="turan",
    diagonal_weight=1.0,
    correlation_weight=1.0,
    correlation_power=2,
    kernel_layout="auto",
):
    """Relaxed orthogonality of a kernel, unweighted by `factor`.

    With `w_i` the filters (columns of the filter matrix `(fan_in, n)`) and
    `c_ij` the cosine of `w_i` and `w_j`:

    ```
    D = sum_i (||w_i||^2 - 1)^2
    C_k = 2 * sum over the unordered pairs {i, j}, except the k with the
          largest |c_ij|, of |c_ij|^p
    value = diagonal_weight * D + correlation_weight * C_k
    ```

    `k = 0` gives `disentangled_orthogonality` exactly. A reconstruction of
    Wu et al. (2023); see `keras_ortho.regularizers.RelaxedOrthogonality`.

    Args:
        kernel: a Keras kernel of rank 2 to 5.
        target_rank: `None`, an int >= 1 or a fraction in (0, 1] of `n`.
        num_excluded: `"turan"` or an int >= 0.
        diagonal_weight: weight of `D`, a finite number >= 0.
        correlation_weight: weight of `C_k`, a finite number >= 0.
        correlation_power: the exponent `p`, a finite number >= 1.
        kernel_layout: see `keras_ortho.regularizers.RelaxedOrthogonality`.

    Returns:
        A float32 scalar.
    """
    options = _validated_options(
        target_rank,
        num_excluded,
        diagonal_weight,
        correlation_weight,
        correlation_power,
    )
    return _relaxed_orthogonality(kernel, kernel_layout=kernel_layout, **options)


def _relaxed_orthogonality(
    kernel,
    kernel_layout,
    target_rank,
    num_excluded,
    diagonal_weight,
    correlation_weight,
    correlation_power,
):
    matrix = filter_matrix(ops.cast(kernel, "float32"), kernel_layout)
    fan_in, num_filters = matrix.shape

    num_pairs = math.comb(num_filters, 2)
    num_kept = num_pairs - _num_excluded_pairs(
        num_excluded, target_rank, fan_in, num_filters
    )
    if num_kept == 0:
        correlation = ops.zeros((), dtype="float32")
    else:
        magnitudes = correlation_magnitudes(
            correlation_matrix(matrix, normalize=True), correlation_power
        )
        if num_kept == num_pairs:
            # The ordered pairs: each unordered pair twice, the diagonal is 0.
            correlation = ops.sum(magnitudes)
        else:
            # Each unordered pair once (the strict upper triangle); the other
            # entries are +inf so that they are never among the kept smallest.
            # Summing only the kept pairs, rather than subtracting the largest
            # from the total, avoids float32 cancellation and gives the
            # excluded pairs an exactly zero gradient.
            upper = ops.triu(ops.ones((num_filters, num_filters)), k=1) > 0
            candidates = ops.where(upper, magnitudes, float("inf"))
            smallest, _ = ops.top_k(
                -ops.reshape(candidates, (-1,)), num_kept, sorted=False
            )
            correlation = -2.0 * ops.sum(smallest)
    return diagonal_weight * diagonal_term(matrix) + correlation_weight * correlation


@register_serializable
class RelaxedOrthogonality(FunctionRegularizer):
    """Relaxed orthogonality regularizer: the disentangled measure without the
    `k` largest filter correlations.

    **A reconstruction.** Wu et al. (2023) observe that strict orthogonality
    is unreachable when a layer has more filters `n` than its filter
    dimension `fan_in` (over-complete), and can be too strong even when it
    does not. Their relaxation leaves the `k` largest correlations out of the
    penalty and penalises the rest as the strict measure does; strict
    orthogonality is the special case `k = 0`. The paper's exact equations
    are not public. Here, with `c_ij` the cosine of filters `w_i`, `w_j`:

    ```
    D   = sum_i (||w_i||^2 - 1)^2
    C_k = 2 * sum_{i < j, not among the k largest |c_ij|} |c_ij|^p
    L(W) = factor * (diagonal_weight * D + correlation_weight * C_k)
    ```

    Each unordered pair counts twice, so that `k = 0` equals
    `DisentangledOrthogonality` (normalised correlations) exactly.

    **Choosing k.** The paper estimates `k` by a Monte-Carlo simulation it
    does not fully specify. `num_excluded="turan"` (default) uses the exact
    counting bound instead: if the filters span at most `r` dimensions, no
    `r + 1` of them can be pairwise orthogonal, so the graph of orthogonal
    pairs is `K_{r+1}`-free and, by Turán's theorem, at least
    `k = sum_g C(n_g, 2)` pairs must stay correlated, with the `n` filters
    split into `r` groups as evenly as possible (sizes `n_g`). `r` is
    `min(fan_in, n)`, so `k = 0` for an under-complete layer, or the lower
    `target_rank` (the paper's second relaxation, orthogonality imposed only
    up to a "transition" rank). An int `num_excluded` sets `k` directly
    (capped at the number of pairs).

    `k` is computed from the kernel's static shape when the step is traced.
    Which pairs are excluded is re-decided on every call, by magnitude; the
    excluded pairs get no gradient.

    Args:
        factor: the penalty weight, a finite number >= 0.
        target_rank: `None` (default, `r = min(fan_in, n)`), an int >= 1, or a
            float in (0, 1], a fraction of `n` rounded half up (at least 1).
            The rank used is never above `min(fan_in, n)`. Only with
            `num_excluded="turan"`.
        num_excluded: `"turan"` (default) or an int >= 0, the number `k` of
            largest correlations left out.
        diagonal_weight: weight of the norm term `D`, a finite number >= 0.
        correlation_weight: weight of the correlation term `C_k`, a finite
            number >= 0.
        correlation_power: the exponent `p` of `|c_ij|`, a finite number >= 1
            (default 2).
        kernel_layout: how the kernel is stored, `"auto"` by default; see
            `OrthogonalityRegularizer`.

    Example:

    ```python
    # On a 16-channel input: 256 filters of length 3 * 3 * 16 = 144, at most
    # 144 of them mutually orthogonal, so the 112 largest correlations are
    # left out.
    layer = keras.layers.Conv2D(
        256,
        3,
        kernel_regularizer=keras_ortho.regularizers.RelaxedOrthogonality(1e-4),
    )
    ```

    Reference:
        C. Wu, S. Zhang, F. Long, Z. Yin, T. Leng, "Towards Better
        Orthogonality Regularization with Disentangled Norm in Training Deep
        CNNs", arXiv:2306.09939, 2023 (relaxed variant). No reference code is
        public; the Turán bound replaces the paper's Monte-Carlo estimate of
        `k`.
    """

    def __init__(
        self,
        factor,
        target_rank=None,
        num_excluded="turan",
        diagonal_weight=1.0,
        correlation_weight=1.0,
        correlation_power=2,
        kernel_layout="auto",
    ):
        options = _validated_options(
            target_rank,
            num_excluded,
            diagonal_weight,
            correlation_weight,
            correlation_power,
        )
        super().__init__(_relaxed_orthogonality, factor, kernel_layout, **options)
