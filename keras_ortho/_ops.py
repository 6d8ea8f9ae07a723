"""Numerics shared across regularizers, losses, layers and metrics.

Everything here uses `keras.ops` only and is safe for zero vectors: a zero
vector normalises to zero with a zero gradient, never NaN or Inf. The guards
test for zero, never for "nonzero": a NaN (or Inf) norm fails every comparison,
so it must take the computing branch and come out NaN, never a finite value.
"""

from keras import ops

# Vectors whose squared norm is at or below this are treated as zero. It matches
# the `max(||x||, 1e-12)` guard of `torch.nn.functional.normalize`, which the
# public reference code uses, so values agree for every non-zero vector.
_NORM_EPSILON_SQUARED = 1e-24


def l2_normalize(x, axis=-1):
    """Scales `x` to unit L2 norm along `axis`; zero vectors stay zero.

    Unlike `x / max(||x||, eps)`, whose gradient at a zero vector is
    `1 / eps` (1e12) times the upstream gradient, both branches here are
    guarded so the gradient at a zero vector is exactly zero.
    """
    squared_norm = ops.sum(ops.square(x), axis=axis, keepdims=True)
    is_zero = squared_norm <= _NORM_EPSILON_SQUARED
    safe_squared_norm = ops.where(is_zero, ops.ones_like(squared_norm), squared_norm)
    inverse_norm = ops.where(
        is_zero, ops.zeros_like(squared_norm), ops.rsqrt(safe_squared_norm)
    )
    return x * inverse_norm


def safe_norm(x, axis=None, keepdims=False):
    """L2 norm with a zero (not NaN) gradient at the zero vector; NaN for a
    NaN entry."""
    squared = ops.sum(ops.square(x), axis=axis, keepdims=keepdims)
    is_zero = squared <= _NORM_EPSILON_SQUARED
    safe_squared = ops.where(is_zero, ops.ones_like(squared), squared)
    return ops.where(is_zero, ops.zeros_like(squared), ops.sqrt(safe_squared))


def gram_minus_identity(matrix, side):
    """Returns `M^T M - I` (`side="columns"`) or `M M^T - I` (`side="rows"`)."""
    if side == "columns":
        gram = ops.matmul(ops.transpose(matrix), matrix)
    else:
        gram = ops.matmul(matrix, ops.transpose(matrix))
    return gram - ops.eye(ops.shape(gram)[0], dtype=gram.dtype)
