import numpy as np
import pytest

from keras_ortho import metrics
from tests.metrics import reference


@pytest.mark.parametrize("center", [True, False])
def test_matches_numpy(center):
    rng = np.random.default_rng(0)
    features = (rng.normal(size=(50, 6)) * [5, 3, 1, 1, 0.1, 0.01] + 2).astype(
        "float32"
    )
    np.testing.assert_allclose(
        metrics.effective_rank(features, center=center),
        reference.effective_rank(features, center=center),
        rtol=1e-5,
    )


def test_known_values():
    np.testing.assert_allclose(
        metrics.effective_rank(np.eye(4, dtype="float32"), center=False), 4.0, rtol=1e-6
    )
    rank_one = np.outer(np.arange(1, 6), [1.0, -2.0, 0.5]).astype("float32")
    np.testing.assert_allclose(
        metrics.effective_rank(rank_one, center=False), 1.0, rtol=1e-5
    )
    assert metrics.effective_rank(np.zeros((3, 4), "float32")) == 0.0
    assert metrics.effective_rank(np.ones((1, 4), "float32")) == 0.0


@pytest.mark.parametrize("center", [True, False])
@pytest.mark.parametrize("bad_value", [np.nan, np.inf])
def test_non_finite_features_give_nan(center, bad_value):
    features = np.random.default_rng(1).normal(size=(6, 4)).astype("float32")
    features[1, 2] = bad_value
    assert np.isnan(metrics.effective_rank(features, center=center))


def test_invalid_arguments():
    with pytest.raises(TypeError, match="center"):
        metrics.effective_rank(np.eye(3, dtype="float32"), center=1)
    with pytest.raises(ValueError, match="features"):
        metrics.effective_rank(np.ones(3, "float32"))
