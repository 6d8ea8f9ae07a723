"""OPL's cosine statistics `s` and `d` of a labelled feature set, and the
feature statistics the monitor logs and the report shows.

Cosines use `h / ||h||`, with a zero feature vector normalised to zero (its
cosine with anything is 0), as the OPL reference code does.
"""

import dataclasses

from keras import ops

from keras_ortho._export import register_serializable
from keras_ortho._features import class_index
from keras_ortho._features import class_sums
from keras_ortho._features import feature_matrix
from keras_ortho._features import to_float
from keras_ortho._ops import l2_normalize
from keras_ortho._validation import validate_bool
from keras_ortho._validation import validate_int
from keras_ortho.metrics.class_separation import inter_class_separability
from keras_ortho.metrics.class_separation import intra_class_compactness
from keras_ortho.metrics.effective_rank import effective_rank

FEATURE_STATISTICS = ("s", "d", "compactness", "separability", "effective_rank")


@dataclasses.dataclass(frozen=True)
class OPLStatisticsResult:
    """OPL's mean same-class cosine `s` and mean different-class cosine `d`."""

    s: float
    d: float


@register_serializable
def opl_statistics(features, labels, absolute=True, block_size=1024):
    """OPL's `s` and `d` over a whole feature set.

    With `ĥ_i = h_i / ||h_i||` and `cos_ij = ĥ_i . ĥ_j`, over ordered pairs:

    ```
    s = mean over i != j with y_i = y_j of cos_ij
    d = mean over y_i != y_j of |cos_ij|     (absolute=True)
    d = mean over y_i != y_j of cos_ij       (absolute=False, signed)
    ```

    `s` is 0 without same-class pairs and `d` is 0 without different-class
    pairs. OPL drives `s` to 1 and `d` to 0. `s` and the signed `d` come from
    per-class sums of `ĥ` (`sum_{i, j in c} cos_ij = ||sum_{i in c} ĥ_i||^2`);
    the absolute `d` needs every pairwise cosine and is computed `block_size`
    rows at a time, so memory stays `O(block_size * N)`.

    Args:
        features: `(N, D)` features, e.g. the pooled features of a test set.
        labels: integer labels `(N,)` or `(N, 1)`, or one-hot `(N, K)`.
        absolute: whether `d` averages `|cos|` (default, as the OPL CIFAR and
            ImageNet code) or the signed cosine (the root `loss.py`).
        block_size: rows of the cosine matrix formed at once, an integer >= 1.

    Returns:
        An `OPLStatisticsResult(s, d)` of Python floats.

    Example:

    ```python
    test_features, y_test = np.random.rand(64, 16), np.random.randint(0, 4, 64)
    stats = keras_ortho.diagnostics.opl_statistics(test_features, y_test)
    print(stats.s, stats.d)
    ```

    Reference:
        K. Ranasinghe, M. Naseer, M. Hayat, S. Khan, F. S. Khan, "Orthogonal
        Projections for Improved Discriminative Features", ICCV 2021. Matches
        the `s` and `d` returned by `classification/cifar/losses.py` of
        kahnchana/opl (absolute) and its root `loss.py` (signed), except that
        the means divide by the exact pair counts (the code adds 1e-6).
    """
    validate_bool(absolute, "absolute")
    block_size = validate_int(block_size, "block_size", minimum=1)
    normalized = l2_normalize(feature_matrix(features), axis=-1)
    num_samples = normalized.shape[0]
    index, num_classes = class_index(labels, num_samples)
    sums, counts = class_sums(normalized, index, num_classes)
    same_class_total = to_float(ops.sum(ops.square(sums)))
    self_total = to_float(ops.sum(ops.square(normalized)))
    squared_class_sizes = to_float(ops.sum(ops.square(counts)))
    same_pairs = squared_class_sizes - num_samples
    different_pairs = float(num_samples) ** 2 - squared_class_sizes

    s = (same_class_total - self_total) / same_pairs if same_pairs > 0 else 0.0
    if different_pairs == 0:
        return OPLStatisticsResult(s=s, d=0.0)
    if absolute:
        different_total = _absolute_different_class_total(normalized, index, block_size)
    else:
        all_total = to_float(ops.sum(ops.square(ops.sum(normalized, axis=0))))
        different_total = all_total - same_class_total
    return OPLStatisticsResult(s=s, d=different_total / different_pairs)


def _absolute_different_class_total(normalized, index, block_size):
    index = ops.convert_to_tensor(index)
    total = 0.0
    for start in range(0, normalized.shape[0], block_size):
        block = normalized[start : start + block_size]
        cosines = ops.matmul(block, ops.transpose(normalized))
        different = ops.not_equal(
            ops.expand_dims(index[start : start + block_size], 1),
            ops.expand_dims(index, 0),
        )
        total += to_float(ops.sum(ops.where(different, ops.abs(cosines), 0.0)))
    return total


def feature_statistics(features, labels, names=FEATURE_STATISTICS):
    """The feature statistics `names` of `(N, D)` features, as a dict of
    Python floats: OPL's `s` and `d` (`opl_statistics`), `compactness`,
    `separability` and `effective_rank`; what
    `keras_ortho.callbacks.OrthogonalityMonitor` logs and the report shows."""
    values = {}
    if "s" in names or "d" in names:
        opl = opl_statistics(features, labels, absolute="d" in names)
        values.update(s=opl.s, d=opl.d)
    if "compactness" in names:
        values["compactness"] = intra_class_compactness(features, labels)
    if "separability" in names:
        values["separability"] = inter_class_separability(features, labels)
    if "effective_rank" in names:
        values["effective_rank"] = effective_rank(features)
    return {name: values[name] for name in names}
