import keras
import numpy as np
import pytest

from keras_ortho import metrics
from tests import toolkit
from tests.metrics import reference
from tests.metrics.test_calibration import HAND_ECE
from tests.metrics.test_calibration import HAND_LABELS
from tests.metrics.test_calibration import HAND_PROBS


def _result(metric):
    return float(toolkit.to_numpy(metric.result()))


def test_hand_computed_example():
    metric = metrics.ExpectedCalibrationError(num_bins=4)
    metric.update_state(HAND_LABELS, HAND_PROBS)
    np.testing.assert_allclose(_result(metric), HAND_ECE, rtol=1e-6)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_non_finite_prediction_gives_nan_until_reset(bad):
    metric = metrics.ExpectedCalibrationError(num_bins=4)
    probs = HAND_PROBS.copy()
    probs[3, 2] = bad
    metric.update_state(HAND_LABELS, probs)
    metric.update_state(HAND_LABELS, HAND_PROBS)
    assert np.isnan(_result(metric))
    metric.reset_state()
    metric.update_state(HAND_LABELS, HAND_PROBS)
    np.testing.assert_allclose(_result(metric), HAND_ECE, rtol=1e-6)


def test_streaming_equals_one_shot():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(90, 5)).astype("float32") * 2
    labels = rng.integers(0, 5, 90)
    weights = rng.uniform(0.5, 1.5, 90)
    metric = metrics.ExpectedCalibrationError(num_bins=10, from_logits=True)
    for batch in np.split(np.arange(90), 3):
        metric.update_state(labels[batch], logits[batch], sample_weight=weights[batch])
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    want, _ = reference.ece_and_mce(labels, probs, 10, weights)
    np.testing.assert_allclose(_result(metric), want, rtol=1e-5)
    one_shot = metrics.expected_calibration_error(
        labels, logits, num_bins=10, from_logits=True, sample_weight=weights
    )
    np.testing.assert_allclose(_result(metric), one_shot, rtol=1e-5)

    metric.reset_state()
    assert _result(metric) == 0.0
    metric.update_state(labels[:30], logits[:30])
    want, _ = reference.ece_and_mce(labels[:30], probs[:30], 10)
    np.testing.assert_allclose(_result(metric), want, rtol=1e-5)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"num_bins": 0}, ValueError, "num_bins"),
        ({"num_bins": "15"}, TypeError, "num_bins"),
        ({"from_logits": "no"}, TypeError, "from_logits"),
    ],
)
def test_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        metrics.ExpectedCalibrationError(**kwargs)


def _model():
    return keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(4, activation="softmax"),
        ]
    )


def _data():
    rng = np.random.default_rng(1)
    return rng.normal(size=(32, 6)).astype("float32"), rng.integers(0, 4, 32)


def test_compiled_metric_in_a_jitted_fit_matches_numpy():
    x, y = _data()
    model = _model()
    # The single fit step sees the whole batch with the initial weights.
    initial_probs = toolkit.to_numpy(model(x))
    toolkit.fit_one_step(
        model,
        x,
        y,
        "sparse_categorical_crossentropy",
        metrics=[metrics.ExpectedCalibrationError(num_bins=5)],
    )
    ece = model.get_metrics_result()["ece"]
    want, _ = reference.ece_and_mce(y, initial_probs, 5)
    np.testing.assert_allclose(toolkit.to_numpy(ece), want, rtol=1e-4, atol=1e-6)
