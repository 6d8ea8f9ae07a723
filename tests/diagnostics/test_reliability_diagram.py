import numpy as np
import pytest

from keras_ortho import diagnostics
from tests.metrics import reference
from tests.metrics.test_calibration import HAND_LABELS
from tests.metrics.test_calibration import HAND_PROBS
from tests.metrics.test_calibration import random_predictions


def test_hand_computed_example():
    diagram = diagnostics.reliability_diagram(HAND_LABELS, HAND_PROBS, num_bins=4)
    np.testing.assert_allclose(diagram.bin_edges, [0, 0.25, 0.5, 0.75, 1])
    np.testing.assert_allclose(diagram.count, [1, 2, 3, 2])
    np.testing.assert_allclose(diagram.accuracy, [0, 0.5, 2 / 3, 0.5], rtol=1e-6)
    np.testing.assert_allclose(
        diagram.confidence, [0.25, 0.4375, 2.125 / 3, 0.9375], rtol=1e-6
    )


def test_zero_confidence_falls_in_first_bin():
    probs = np.array([[0.0, 0.0], [1.0, 0.0]], "float32")
    diagram = diagnostics.reliability_diagram([0, 0], probs, num_bins=2)
    np.testing.assert_allclose(diagram.count, [1, 1])


@pytest.mark.parametrize("num_bins, weighted", [(1, True), (10, False), (15, True)])
def test_matches_numpy(num_bins, weighted):
    labels, probs, _, weights = random_predictions(num_bins)
    weights = weights if weighted else None
    edges, accuracy, confidence, count = reference.reliability(
        labels, probs, num_bins, weights
    )
    diagram = diagnostics.reliability_diagram(
        labels, probs, num_bins=num_bins, sample_weight=weights
    )
    np.testing.assert_allclose(diagram.bin_edges, edges)
    np.testing.assert_allclose(diagram.accuracy, accuracy, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(diagram.confidence, confidence, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(diagram.count, count, rtol=1e-5)


def test_from_logits_matches_probabilities():
    labels, probs, logits, _ = random_predictions(3)
    from_logits = diagnostics.reliability_diagram(labels, logits, from_logits=True)
    from_probs = diagnostics.reliability_diagram(labels, probs)
    np.testing.assert_allclose(from_logits.count, from_probs.count)
    np.testing.assert_allclose(
        from_logits.confidence, from_probs.confidence, rtol=1e-5, atol=1e-7
    )


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"num_bins": 0}, ValueError, "num_bins"),
        ({"from_logits": 1}, TypeError, "from_logits"),
    ],
)
def test_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        diagnostics.reliability_diagram(HAND_LABELS, HAND_PROBS, **kwargs)
