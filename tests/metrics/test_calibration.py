import keras
import numpy as np
import pytest

from keras_ortho import metrics
from tests.metrics import reference

# Eight predictions over four classes, worked out by hand with four bins
# (0, .25], (.25, .5], (.5, .75], (.75, 1]; the confidences sit on bin edges
# where possible to pin the right-closed rule.
#   row  probabilities                 label  conf   pred  correct  bin
#   a    .25   .25   .25   .25         1      .25    0     no       0
#   b    .5    .25   .125  .125        0      .5     0     yes      1
#   c    .125  .375  .25   .25         2      .375   1     no       1
#   d    .75   .125  .125  0           0      .75    0     yes      2
#   e    .0625 .625  .25   .0625       1      .625   1     yes      2
#   f    .125  .125  0     .75         0      .75    3     no       2
#   g    1     0     0     0           0      1      0     yes      3
#   h    .0625 .0625 .875  0           1      .875   2     no       3
# bin 0: acc 0,   conf .25                     gap .25
# bin 1: acc 1/2, conf (.5 + .375) / 2 = .4375 gap .0625
# bin 2: acc 2/3, conf 2.125 / 3               gap .125 / 3
# bin 3: acc 1/2, conf 1.875 / 2 = .9375       gap .4375
# ECE = (1 * .25 + 2 * .0625 + 3 * .125 / 3 + 2 * .4375) / 8 = 1.375 / 8
HAND_PROBS = np.array(
    [
        [0.25, 0.25, 0.25, 0.25],
        [0.5, 0.25, 0.125, 0.125],
        [0.125, 0.375, 0.25, 0.25],
        [0.75, 0.125, 0.125, 0.0],
        [0.0625, 0.625, 0.25, 0.0625],
        [0.125, 0.125, 0.0, 0.75],
        [1.0, 0.0, 0.0, 0.0],
        [0.0625, 0.0625, 0.875, 0.0],
    ],
    "float32",
)
HAND_LABELS = np.array([1, 0, 2, 0, 1, 0, 0, 1])
HAND_ECE = 1.375 / 8
HAND_MCE = 0.4375


def random_predictions(seed, n=200, k=6):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, k)).astype("float32") * 3
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs = (probs / probs.sum(axis=1, keepdims=True)).astype("float32")
    return rng.integers(0, k, n), probs, logits, rng.uniform(0.1, 2.0, n)


def test_hand_computed_example():
    ece = metrics.expected_calibration_error(HAND_LABELS, HAND_PROBS, num_bins=4)
    mce = metrics.maximum_calibration_error(HAND_LABELS, HAND_PROBS, num_bins=4)
    np.testing.assert_allclose(ece, HAND_ECE, rtol=1e-6)
    np.testing.assert_allclose(mce, HAND_MCE, rtol=1e-6)


def test_one_hot_labels_match_integer_labels():
    one_hot = np.eye(4, dtype="float32")[HAND_LABELS]
    ece = metrics.expected_calibration_error(one_hot, HAND_PROBS, num_bins=4)
    np.testing.assert_allclose(ece, HAND_ECE, rtol=1e-6)
    column = HAND_LABELS[:, None]
    ece = metrics.expected_calibration_error(column, HAND_PROBS, num_bins=4)
    np.testing.assert_allclose(ece, HAND_ECE, rtol=1e-6)


@pytest.mark.parametrize("num_bins, weighted", [(1, True), (10, False), (15, True)])
def test_matches_numpy(num_bins, weighted):
    labels, probs, _, weights = random_predictions(num_bins)
    weights = weights if weighted else None
    ece, mce = reference.ece_and_mce(labels, probs, num_bins, weights)
    kwargs = {"num_bins": num_bins, "sample_weight": weights}
    np.testing.assert_allclose(
        metrics.expected_calibration_error(labels, probs, **kwargs), ece, rtol=1e-5
    )
    np.testing.assert_allclose(
        metrics.maximum_calibration_error(labels, probs, **kwargs), mce, rtol=1e-5
    )
    np.testing.assert_allclose(
        metrics.negative_log_likelihood(labels, probs, sample_weight=weights),
        reference.nll(labels, probs, weights),
        rtol=1e-5,
    )
    np.testing.assert_allclose(
        metrics.brier_score(labels, probs, sample_weight=weights),
        reference.brier(labels, probs, weights),
        rtol=1e-5,
    )


def test_from_logits_matches_probabilities():
    labels, probs, logits, _ = random_predictions(3)
    for fn in (
        metrics.expected_calibration_error,
        metrics.maximum_calibration_error,
        metrics.negative_log_likelihood,
        metrics.brier_score,
    ):
        np.testing.assert_allclose(
            fn(labels, logits, from_logits=True), fn(labels, probs), rtol=1e-5
        )


def test_zero_probability_of_true_class_is_finite():
    probs = np.array([[1.0, 0.0], [0.0, 1.0]], "float32")
    value = metrics.negative_log_likelihood([1, 1], probs)
    np.testing.assert_allclose(value, -np.log(1e-7) / 2, rtol=1e-5)


@pytest.mark.parametrize("from_logits", [False, True])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize(
    "function",
    [
        metrics.expected_calibration_error,
        metrics.maximum_calibration_error,
        metrics.negative_log_likelihood,
        metrics.brier_score,
    ],
    ids=lambda f: f.__name__,
)
def test_non_finite_predictions_are_never_a_finite_value(function, bad, from_logits):
    # An Inf probability used to be clipped to 1 by the NLL: a finite value.
    labels, probs, logits, _ = random_predictions(3, n=20)
    predictions = (logits if from_logits else probs).copy()
    predictions[7, 1] = bad
    assert not np.isfinite(function(labels, predictions, from_logits=from_logits))


def test_perfect_predictions():
    probs = np.eye(3, dtype="float32")
    assert metrics.expected_calibration_error([0, 1, 2], probs) == 0.0
    assert metrics.brier_score([0, 1, 2], probs) == 0.0
    assert metrics.expected_calibration_error([0], probs[:1]) == 0.0


def test_low_precision_predictions():
    labels, probs, _, _ = random_predictions(5)
    low = keras.ops.cast(probs, "float16")
    rounded = np.asarray(keras.ops.convert_to_numpy(low), "float32")
    ece, _ = reference.ece_and_mce(labels, rounded, 15)
    np.testing.assert_allclose(
        metrics.expected_calibration_error(labels, low), ece, rtol=1e-5
    )


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"num_bins": 0}, ValueError, "num_bins"),
        ({"num_bins": 2.5}, TypeError, "num_bins"),
        ({"from_logits": 1}, TypeError, "from_logits"),
    ],
)
def test_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        metrics.expected_calibration_error(HAND_LABELS, HAND_PROBS, **kwargs)


def test_invalid_shapes():
    with pytest.raises(ValueError, match="y_pred"):
        metrics.expected_calibration_error([0, 1], np.ones((2,), "float32"))
    with pytest.raises(ValueError, match="y_pred"):
        metrics.brier_score([0, 1], np.ones((2, 1), "float32"))
    with pytest.raises(ValueError, match="y_true"):
        metrics.expected_calibration_error(np.zeros((8, 3)), HAND_PROBS)
