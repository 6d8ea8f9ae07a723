"""Effective rank of a feature matrix (Roy & Vetterli, 2007)."""

import numpy as np
from keras import ops

from keras_ortho._export import register_serializable
from keras_ortho._features import feature_matrix
from keras_ortho._validation import validate_bool


@register_serializable
def effective_rank(features, center=True):
    """Effective rank: the exponential of the entropy of the singular values.

    With `sigma_k` the singular values of the `(N, D)` feature matrix (its
    columns centred first when `center=True`) and `p_k = sigma_k / sum sigma`:

    ```
    erank = exp(-sum_k p_k log p_k)        (0 log 0 = 0)
    ```

    It lies between 1 (one direction carries all the energy) and
    `min(N, D)` (a flat spectrum), and measures how many feature directions
    are in use: richer, less redundant features have a higher effective rank.
    A zero matrix has effective rank 0; a matrix with a NaN or Inf entry has
    effective rank NaN.

    Args:
        features: `(N, D)` features.
        center: whether to subtract the mean feature first, so the rank counts
            directions of variation rather than the mean direction.

    Returns:
        The effective rank as a Python float.

    Example:

    ```python
    test_features = np.random.rand(100, 16)
    keras_ortho.metrics.effective_rank(test_features)
    ```

    Reference:
        O. Roy, M. Vetterli, "The effective rank: a measure of effective
        dimensionality", EUSIPCO 2007.
    """
    validate_bool(center, "center")
    features = feature_matrix(features)
    if center:
        features = features - ops.mean(features, axis=0, keepdims=True)
    # torch's SVD raises on a non-finite matrix where JAX and TensorFlow return
    # NaN singular values: answer NaN before the SVD, on every backend.
    if not bool(ops.convert_to_numpy(ops.all(ops.isfinite(features)))):
        return float("nan")
    singular_values = ops.svd(features, compute_uv=False)
    singular_values = np.asarray(ops.convert_to_numpy(singular_values), "float64")
    total = singular_values.sum()
    if total == 0:
        return 0.0
    p = singular_values[singular_values > 0] / total
    return float(np.exp(-np.sum(p * np.log(p))))
