"""Intra-class compactness and inter-class separability of a labelled feature
set: the cosine geometry fixed-classifier training is judged by.

Cosines use `h / ||h||`, with a zero feature vector normalised to zero (its
cosine with anything is 0).
"""

from keras import ops

from keras_ortho._export import register_serializable
from keras_ortho._features import class_index
from keras_ortho._features import class_sums
from keras_ortho._features import feature_matrix
from keras_ortho._features import per_class_means
from keras_ortho._features import to_float
from keras_ortho._ops import l2_normalize
from keras_ortho._validation import validate_bool


@register_serializable
def intra_class_compactness(features, labels):
    """Intra-class compactness: the mean same-class cosine, averaged over classes.

    ```
    IC = (1 / C') sum_c mean over i != j with y_i = y_j = c of cos(h_i, h_j)
    ```

    over the `C'` classes with at least two samples (0 if there are none). It
    lies in [-1, 1]; higher is more compact. Unlike OPL's `s`, which weighs
    every pair equally, each class counts equally.

    Args:
        features: `(N, D)` features.
        labels: integer labels `(N,)` or `(N, 1)`, or one-hot `(N, K)`.

    Returns:
        IC as a Python float.

    Example:

    ```python
    test_features, y_test = np.random.rand(64, 16), np.random.randint(0, 4, 64)
    ic = keras_ortho.metrics.intra_class_compactness(test_features, y_test)
    ```

    Reference:
        The proposed definition of `research/fixed_classifier.md` section 3 for
        the compactness of Shalev et al., "Redesigning the classification
        layer by randomizing the class representation vectors", WACV 2023,
        whose own formula is unavailable.
    """
    normalized = l2_normalize(feature_matrix(features), axis=-1)
    index, num_classes = class_index(labels, normalized.shape[0])
    sums, counts = class_sums(normalized, index, num_classes)
    self_sums, _ = class_sums(
        ops.sum(ops.square(normalized), axis=-1, keepdims=True), index, num_classes
    )
    pair_sums = ops.sum(ops.square(sums), axis=-1) - self_sums[:, 0]
    pairs = counts * (counts - 1.0)
    has_pairs = pairs > 0
    class_means = ops.where(
        has_pairs, pair_sums / ops.where(has_pairs, pairs, 1.0), 0.0
    )
    populated = to_float(ops.sum(ops.cast(has_pairs, "float32")))
    return to_float(ops.sum(class_means)) / populated if populated else 0.0


@register_serializable
def inter_class_separability(features, labels, normalize=False):
    """Inter-class separability: one minus the mean cosine of the centred class means.

    With `mu_c` the mean of class `c` and `mu_G` the mean over all samples:

    ```
    IS = 1 - mean over c != c' of cos(mu_c - mu_G, mu_c' - mu_G)
    ```

    It lies in [0, 2]; `C` equiangular (simplex) means give
    `1 + 1 / (C - 1)`, the maximum for `C` classes. 0 with fewer than two
    classes.

    Args:
        features: `(N, D)` features.
        labels: integer labels `(N,)` or `(N, 1)`, or one-hot `(N, K)`.
        normalize: whether to average the unit-normalised features `ĥ`
            (the cosine variant) instead of the raw ones.

    Returns:
        IS as a Python float.

    Example:

    ```python
    features, y_test = np.random.rand(64, 16), np.random.randint(0, 4, 64)
    separability = keras_ortho.metrics.inter_class_separability(features, y_test)
    ```

    Reference:
        The proposed definition of `research/fixed_classifier.md` section 3 for
        the separability of Shalev et al., WACV 2023, whose own formula is
        unavailable.
    """
    validate_bool(normalize, "normalize")
    features = feature_matrix(features)
    if normalize:
        features = l2_normalize(features, axis=-1)
    index, num_classes = class_index(labels, features.shape[0])
    if num_classes < 2:
        return 0.0
    centred = per_class_means(features, index, num_classes) - ops.mean(features, axis=0)
    unit = l2_normalize(centred, axis=-1)
    cosines = ops.matmul(unit, ops.transpose(unit))
    off_diagonal = ops.sum(cosines) - ops.trace(cosines)
    return 1.0 - to_float(off_diagonal) / (num_classes * (num_classes - 1))
