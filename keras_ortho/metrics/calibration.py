"""Calibration of predicted probabilities: ECE, MCE, NLL and Brier score.

All functions take the labels and the predictions of a whole evaluation set
(NumPy or backend arrays), compute in float32 with `keras.ops` and return
Python floats.

Binning rule, shared with `keras_ortho.metrics.ExpectedCalibrationError` and
`keras_ortho.diagnostics.reliability_diagram`: the confidence `c = max_k p_k`
falls into bin `m` (0-based) of `M` equal-width bins when
`m / M < c <= (m + 1) / M`; bins are right-closed, a confidence of exactly 0
goes into the first bin and 1 into the last. The edges are the float32 values
of `linspace(0, 1, M + 1)`.
"""

import numpy as np
from keras import ops

from keras_ortho._export import register_serializable
from keras_ortho._validation import validate_bool
from keras_ortho._validation import validate_int

# Floor on probabilities before their logarithm, so a zero probability of the
# true class gives a large finite NLL instead of Inf (the clip of Keras'
# probability-space cross-entropy).
_PROBABILITY_FLOOR = 1e-7


def validate_num_bins(num_bins):
    return validate_int(num_bins, "num_bins", minimum=1)


def _prediction_matrix(y_pred):
    """`y_pred` as a float32 `(N, K)` tensor, `K >= 2`; raises otherwise."""
    y_pred = ops.cast(ops.convert_to_tensor(y_pred), "float32")
    if len(y_pred.shape) != 2 or (
        y_pred.shape[-1] is not None and y_pred.shape[-1] < 2
    ):
        raise ValueError(
            "Invalid `y_pred`: expected class probabilities (or logits) of shape "
            f"(num_samples, num_classes) with num_classes >= 2. Received: y_pred "
            f"of shape {tuple(y_pred.shape)}"
        )
    return y_pred


def _probabilities(y_pred, from_logits):
    """`y_pred` as float32 class probabilities of shape `(N, K)`."""
    y_pred = _prediction_matrix(y_pred)
    return ops.softmax(y_pred, axis=-1) if from_logits else y_pred


def _integer_labels(y_true, y_pred):
    """Integer labels `(N,)` from integer labels `(N,)`/`(N, 1)` or one-hot `(N, K)`."""
    y_true = ops.convert_to_tensor(y_true)
    if len(y_true.shape) == 2 and y_true.shape[-1] == y_pred.shape[-1]:
        return ops.argmax(y_true, axis=-1)
    if len(y_true.shape) == 1 or (len(y_true.shape) == 2 and y_true.shape[-1] == 1):
        return ops.cast(ops.reshape(y_true, (-1,)), "int32")
    raise ValueError(
        "Invalid `y_true`: expected integer labels of shape (num_samples,) or "
        "(num_samples, 1), or one-hot labels of the shape of `y_pred` "
        f"{tuple(y_pred.shape)}. Received: y_true of shape {tuple(y_true.shape)}"
    )


def _sample_weights(sample_weight, labels):
    """`sample_weight` as float32 `(N,)`, ones when it is None."""
    if sample_weight is None:
        return ops.ones(ops.shape(labels), dtype="float32")
    weight = ops.cast(ops.convert_to_tensor(sample_weight), "float32")
    return ops.reshape(weight, (-1,))


def bin_totals(y_true, y_pred, num_bins, sample_weight=None, from_logits=False):
    """Per-bin `(count, sum of confidence, sum of correct)`, each float32 `(M,)`.

    Sums are weighted by `sample_weight`. Works under `jit` on every backend.
    """
    probs = _probabilities(y_pred, from_logits)
    labels = _integer_labels(y_true, probs)
    weight = _sample_weights(sample_weight, labels)
    confidence = ops.max(probs, axis=-1)
    correct = ops.cast(
        ops.equal(
            ops.cast(ops.argmax(probs, axis=-1), "int32"), ops.cast(labels, "int32")
        ),
        "float32",
    )
    inner_edges = ops.convert_to_tensor(bin_edges(num_bins)[1:-1])
    # The number of inner edges strictly below `c` is its right-closed bin.
    bin_index = ops.sum(
        ops.cast(ops.expand_dims(confidence, -1) > inner_edges, "int32"), axis=-1
    )
    membership = ops.one_hot(bin_index, num_bins, dtype="float32") * ops.expand_dims(
        weight, -1
    )
    count = ops.sum(membership, axis=0)
    confidence_sum = ops.matmul(confidence, membership)
    correct_sum = ops.matmul(correct, membership)
    return count, confidence_sum, correct_sum


def bin_edges(num_bins):
    """The `M + 1` float32 bin edges `linspace(0, 1, M + 1)`."""
    return np.linspace(0.0, 1.0, num_bins + 1).astype("float32")


def calibration_bins(y_true, y_pred, num_bins, from_logits, sample_weight):
    """Per-bin `(count, accuracy, confidence)`, float64 NumPy `(M,)` each: the
    (weighted) count, fraction correct and mean confidence, 0 in empty bins.

    Validates `num_bins` and `from_logits`.
    """
    validate_bool(from_logits, "from_logits")
    num_bins = validate_num_bins(num_bins)
    count, confidence_sum, correct_sum = (
        np.asarray(ops.convert_to_numpy(total), "float64")
        for total in bin_totals(y_true, y_pred, num_bins, sample_weight, from_logits)
    )
    safe_count = np.where(count > 0, count, 1.0)
    return count, correct_sum / safe_count, confidence_sum / safe_count


@register_serializable
def expected_calibration_error(
    y_true, y_pred, num_bins=15, from_logits=False, sample_weight=None
):
    """Expected calibration error (ECE) with equal-width confidence bins.

    With confidence `c_i = max_k p_ik`, prediction `argmax_k p_ik` and `B_m`
    the predictions whose confidence falls in bin `m`:

    ```
    ECE = sum_m (|B_m| / n) * |acc(B_m) - conf(B_m)|
    ```

    where `acc` is the fraction of correct predictions in the bin and `conf`
    its mean confidence; empty bins contribute nothing. Bins are right-closed,
    `(m / M, (m + 1) / M]`, with a confidence of 0 in the first bin. With
    `sample_weight`, counts and means are weighted.

    Args:
        y_true: integer labels `(N,)` or `(N, 1)`, or one-hot labels `(N, K)`.
        y_pred: class probabilities `(N, K)`, or logits with `from_logits=True`.
        num_bins: the number of bins `M`, an integer >= 1 (15 as in Guo et al.).
        from_logits: whether `y_pred` holds logits (softmax is applied).
        sample_weight: optional per-sample weights `(N,)`.

    Returns:
        The ECE as a Python float in [0, 1] (multiply by 100 for percent).

    Example:

    ```python
    y_test = np.array([0, 1, 2, 1])
    probs = keras.ops.softmax(np.random.randn(4, 3))  # e.g. model.predict(x_test)
    ece = keras_ortho.metrics.expected_calibration_error(y_test, probs)
    ```

    Reference:
        C. Guo, G. Pleiss, Y. Sun, K. Q. Weinberger, "On Calibration of Modern
        Neural Networks", ICML 2017 (equal-width bins, M = 15).
    """
    count, accuracy, confidence = calibration_bins(
        y_true, y_pred, num_bins, from_logits, sample_weight
    )
    total = count.sum()
    gaps = np.abs(accuracy - confidence)
    return float(np.sum(count * gaps) / total) if total > 0 else 0.0


@register_serializable
def maximum_calibration_error(
    y_true, y_pred, num_bins=15, from_logits=False, sample_weight=None
):
    """Maximum calibration error (MCE): the largest per-bin gap.

    ```
    MCE = max over non-empty bins m of |acc(B_m) - conf(B_m)|
    ```

    Bins as in `expected_calibration_error`; 0 when every bin is empty.

    Args:
        y_true: integer labels `(N,)` or `(N, 1)`, or one-hot labels `(N, K)`.
        y_pred: class probabilities `(N, K)`, or logits with `from_logits=True`.
        num_bins: the number of bins `M`, an integer >= 1.
        from_logits: whether `y_pred` holds logits.
        sample_weight: optional per-sample weights `(N,)`.

    Returns:
        The MCE as a Python float in [0, 1].

    Example:

    ```python
    y_test = np.array([0, 1, 2, 1])
    probs = keras.ops.softmax(np.random.randn(4, 3))
    mce = keras_ortho.metrics.maximum_calibration_error(y_test, probs)
    ```

    Reference:
        M. P. Naeini, G. Cooper, M. Hauskrecht, "Obtaining Well Calibrated
        Probabilities Using Bayesian Binning", AAAI 2015; Guo et al., 2017.
    """
    count, accuracy, confidence = calibration_bins(
        y_true, y_pred, num_bins, from_logits, sample_weight
    )
    occupied = count > 0
    gaps = np.abs(accuracy - confidence)[occupied]
    return float(gaps.max()) if occupied.any() else 0.0


@register_serializable
def negative_log_likelihood(y_true, y_pred, from_logits=False, sample_weight=None):
    """Mean negative log-likelihood of the true class.

    ```
    NLL = -(1 / n) sum_i log p_{i, y_i}
    ```

    Probabilities are floored at 1e-7 before the logarithm (as Keras'
    probability-space cross-entropy clips them); with `from_logits=True` the
    log-softmax is exact. With `sample_weight` the mean is weighted. A NaN
    or Inf in `y_pred` gives NaN.

    Args:
        y_true: integer labels `(N,)` or `(N, 1)`, or one-hot labels `(N, K)`.
        y_pred: class probabilities `(N, K)`, or logits with `from_logits=True`.
        from_logits: whether `y_pred` holds logits.
        sample_weight: optional per-sample weights `(N,)`.

    Returns:
        The NLL as a Python float.

    Example:

    ```python
    y_test, logits = np.array([0, 1, 2, 1]), np.random.randn(4, 3)
    nll = keras_ortho.metrics.negative_log_likelihood(y_test, logits, from_logits=True)
    ```

    Reference:
        Guo et al., "On Calibration of Modern Neural Networks", ICML 2017.
    """
    validate_bool(from_logits, "from_logits")
    y_pred = _prediction_matrix(y_pred)
    labels = _integer_labels(y_true, y_pred)
    if from_logits:
        log_probs = ops.log_softmax(y_pred, axis=-1)
    else:
        # The clip floors zero probabilities only: a NaN or Inf entry gives a
        # NaN row, never a value clipped into range.
        log_probs = ops.where(
            ops.isfinite(y_pred),
            ops.log(ops.clip(y_pred, _PROBABILITY_FLOOR, 1.0)),
            float("nan"),
        )
    num_classes = y_pred.shape[-1]
    true_log_prob = ops.sum(log_probs * ops.one_hot(labels, num_classes), axis=-1)
    return _weighted_mean(-true_log_prob, _sample_weights(sample_weight, labels))


@register_serializable
def brier_score(y_true, y_pred, from_logits=False, sample_weight=None):
    """Multi-class Brier score: mean squared distance to the one-hot label.

    ```
    Brier = (1 / n) sum_i sum_k (p_ik - [y_i = k])^2
    ```

    It lies in [0, 2]; the sum runs over classes as in Brier's original
    definition (some papers divide by the number of classes). With
    `sample_weight` the mean is weighted.

    Args:
        y_true: integer labels `(N,)` or `(N, 1)`, or one-hot labels `(N, K)`.
        y_pred: class probabilities `(N, K)`, or logits with `from_logits=True`.
        from_logits: whether `y_pred` holds logits.
        sample_weight: optional per-sample weights `(N,)`.

    Returns:
        The Brier score as a Python float.

    Example:

    ```python
    y_test = np.array([0, 1, 2, 1])
    probs = keras.ops.softmax(np.random.randn(4, 3))
    brier = keras_ortho.metrics.brier_score(y_test, probs)
    ```

    Reference:
        G. W. Brier, "Verification of Forecasts Expressed in Terms of
        Probability", Monthly Weather Review, 1950.
    """
    validate_bool(from_logits, "from_logits")
    probs = _probabilities(y_pred, from_logits)
    labels = _integer_labels(y_true, probs)
    one_hot = ops.one_hot(labels, probs.shape[-1])
    squared_error = ops.sum(ops.square(probs - one_hot), axis=-1)
    return _weighted_mean(squared_error, _sample_weights(sample_weight, labels))


def _weighted_mean(values, weight):
    total = float(ops.convert_to_numpy(ops.sum(weight)))
    if total == 0:
        return 0.0
    return float(ops.convert_to_numpy(ops.sum(values * weight))) / total
