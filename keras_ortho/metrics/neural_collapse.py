"""Neural-collapse measures: within-class variability collapse (NC1) and the
distance of class vectors to a simplex equiangular tight frame (ETF)."""

import numpy as np
from keras import ops

from keras_ortho._export import register_serializable
from keras_ortho._features import class_index
from keras_ortho._features import feature_matrix
from keras_ortho._features import per_class_means
from keras_ortho._features import to_float
from keras_ortho._validation import validate_bool
from keras_ortho._validation import validate_positive_float


@register_serializable
def class_means(features, labels, centred=True):
    """The mean feature of each class present, in sorted label order.

    Args:
        features: `(N, D)` features.
        labels: integer labels `(N,)` or `(N, 1)`, or one-hot `(N, K)`.
        centred: whether to subtract the global mean `mu_G` (the mean over all
            samples), as neural-collapse measures do.

    Returns:
        A float32 NumPy array `(C, D)`, one row per class.

    Example:

    ```python
    test_features, y_test = np.random.rand(64, 16), np.random.randint(0, 4, 64)
    means = keras_ortho.metrics.class_means(test_features, y_test)
    keras_ortho.metrics.etf_distance(means)
    ```
    """
    validate_bool(centred, "centred")
    features = feature_matrix(features)
    means = per_class_means(features, *class_index(labels, features.shape[0]))
    if centred:
        means = means - ops.mean(features, axis=0)
    return ops.convert_to_numpy(means)


@register_serializable
def within_class_variability(features, labels, rcond=None):
    """NC1: within-class covariance measured against the between-class one.

    ```
    NC1 = Tr(Sigma_W Sigma_B^+) / C
    Sigma_W = (1 / N) sum_i (h_i - mu_{y_i})(h_i - mu_{y_i})^T
    Sigma_B = (1 / C) sum_c (mu_c - mu_G)(mu_c - mu_G)^T
    ```

    with `^+` the Moore-Penrose pseudo-inverse. It tends to 0 as the features
    of each class collapse onto their mean. The `D x D` covariances are never
    formed: with `M` the `(C, D)` matrix of centred means and its thin SVD
    `M = U S V^T`, `NC1 = (1 / N) sum_i ||S^-1 V^T (h_i - mu_{y_i})||^2` over
    the singular values kept. 0 with fewer than two classes; NaN if a feature
    is NaN or Inf.

    Args:
        features: `(N, D)` features.
        labels: integer labels `(N,)` or `(N, 1)`, or one-hot `(N, K)`.
        rcond: singular values of `M` at or below `rcond * max(S)` are treated
            as zero (`Sigma_B` has rank at most `C - 1`); None uses
            `max(C, D) * 2^-23`, the float32 rounding level.

    Returns:
        NC1 as a Python float.

    Example:

    ```python
    train_features, y_train = np.random.rand(64, 16), np.random.randint(0, 4, 64)
    nc1 = keras_ortho.metrics.within_class_variability(train_features, y_train)
    ```

    Reference:
        V. Papyan, X. Y. Han, D. L. Donoho, "Prevalence of Neural Collapse
        during the Terminal Phase of Deep Learning Training", PNAS 2020. Matches
        `validate_NC.py` of tding1/Neural-Collapse, which inverts `Sigma_B` on
        its top `C - 1` singular directions.
    """
    features = feature_matrix(features)
    index, num_classes = class_index(labels, features.shape[0])
    if rcond is None:
        rcond = max(num_classes, features.shape[1]) * float(np.finfo("float32").eps)
    rcond = validate_positive_float(rcond, "rcond")
    if num_classes < 2:
        return 0.0
    # torch's SVD raises on a non-finite matrix: NaN in gives NaN out instead.
    if not bool(ops.convert_to_numpy(ops.all(ops.isfinite(features)))):
        return float("nan")
    means = per_class_means(features, index, num_classes)
    centred_means = means - ops.mean(features, axis=0)
    _, singular_values, right_vectors = ops.svd(centred_means, full_matrices=False)
    kept = singular_values > rcond * ops.max(singular_values)
    inverse = ops.where(kept, 1.0 / ops.where(kept, singular_values, 1.0), 0.0)
    residuals = features - ops.take(means, ops.convert_to_tensor(index), axis=0)
    scaled = ops.matmul(residuals, ops.transpose(right_vectors)) * inverse
    return to_float(ops.sum(ops.square(scaled))) / features.shape[0]


@register_serializable
def etf_distance(class_vectors):
    """Distance of `C` class vectors to a simplex equiangular tight frame.

    ```
    ETF(M) = || M M^T / ||M M^T||_F - (I - 11^T / C) / sqrt(C - 1) ||_F
    ```

    with one row of `M` per class. The second term is the normalised Gram of a
    simplex ETF (equal norms, pairwise cosine `-1 / (C - 1)`); the distance is
    0 exactly for such a frame (up to scale and rotation). Pass centred class
    means (`class_means`) for the collapse of the features (NC2), or the
    classifier's weight vectors (a Dense kernel transposed, `kernel.T`) for
    that of the classifier. A zero `M` gives the norm of the ETF term, 1; a NaN
    or Inf entry gives NaN.

    Args:
        class_vectors: `(C, D)`, one vector per class, `C >= 2`.

    Returns:
        The distance as a Python float in [0, 2].

    Example:

    ```python
    features, labels = np.random.rand(64, 16), np.random.randint(0, 4, 64)
    means = keras_ortho.metrics.class_means(features, labels)
    keras_ortho.metrics.etf_distance(means)
    # The class vectors of a classifier head, one row per class:
    head = keras.layers.Dense(4)
    head.build((None, 16))
    keras_ortho.metrics.etf_distance(keras.ops.transpose(head.kernel))
    ```

    Reference:
        Papyan, Han, Donoho, PNAS 2020 (NC2); matches the "ETF-ness" of
        `validate_NC.py` of tding1/Neural-Collapse.
    """
    vectors = feature_matrix(class_vectors)
    num_classes = vectors.shape[0]
    if num_classes < 2:
        raise ValueError(
            "Invalid `class_vectors`: expected at least two class vectors (rows). "
            f"Received: class_vectors of shape {tuple(vectors.shape)}"
        )
    gram = ops.matmul(vectors, ops.transpose(vectors))
    gram_norm = ops.sqrt(ops.sum(ops.square(gram)))
    # Guard on zero, not on "positive": a NaN norm must reach the division.
    is_zero = gram_norm == 0
    normalized_gram = ops.where(is_zero, 0.0, gram / ops.where(is_zero, 1.0, gram_norm))
    etf = (ops.eye(num_classes) - 1.0 / num_classes) / np.sqrt(num_classes - 1.0)
    return to_float(ops.sqrt(ops.sum(ops.square(normalized_gram - etf))))
