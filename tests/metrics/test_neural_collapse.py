import numpy as np
import pytest

from keras_ortho import metrics
from tests.metrics import reference


def _features(seed, n=40, dim=8, classes=4):
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % classes)
    centres = rng.normal(size=(classes, dim)) * 2
    features = centres[labels] + rng.normal(size=(n, dim))
    return features.astype("float32"), labels


@pytest.mark.parametrize("dim", [8, 3])
def test_nc1_matches_numpy(dim):
    # dim=3 < classes - 1: Sigma_B has rank 3, below the usual C - 1.
    features, labels = _features(dim, dim=dim, classes=5)
    np.testing.assert_allclose(
        metrics.within_class_variability(features, labels),
        reference.nc1(features, labels),
        rtol=1e-4,
    )


def test_nc1_of_collapsed_features_is_zero():
    features, labels = _features(1)
    means = reference.grouped_means(features, labels)
    collapsed = np.stack([means[c] for c in labels]).astype("float32")
    assert metrics.within_class_variability(collapsed, labels) < 1e-8
    assert metrics.within_class_variability(features, np.zeros(40)) == 0.0


def test_class_means_match_numpy():
    features, labels = _features(2)
    means = reference.grouped_means(features, labels)
    want = np.stack([means[c] for c in sorted(means)])
    got = metrics.class_means(features, labels, centred=False)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    centred = metrics.class_means(features, labels)
    np.testing.assert_allclose(
        centred, want - features.astype("float64").mean(axis=0), rtol=1e-5, atol=1e-5
    )


def test_etf_distance_matches_numpy():
    features, labels = _features(3)
    means = metrics.class_means(features, labels)
    np.testing.assert_allclose(
        metrics.etf_distance(means), reference.etf_distance(means), rtol=1e-5
    )
    kernel = np.random.default_rng(4).normal(size=(8, 4)).astype("float32")
    np.testing.assert_allclose(
        metrics.etf_distance(kernel.T), reference.etf_distance(kernel.T), rtol=1e-5
    )


def test_simplex_etf_has_zero_distance():
    # The centred standard basis of R^K is a simplex ETF (scaled, rotated).
    k = 5
    vectors = (np.eye(k) - 1.0 / k).astype("float32") * 3.0
    assert metrics.etf_distance(vectors) < 1e-6
    assert metrics.etf_distance(np.zeros((3, 4), "float32")) == pytest.approx(1.0)


@pytest.mark.parametrize("bad_value", [np.nan, np.inf])
def test_non_finite_features_give_nan(bad_value):
    features, labels = _features(5)
    features[3, 1] = bad_value
    assert np.isnan(metrics.within_class_variability(features, labels))
    means = metrics.class_means(features, labels)
    assert np.isnan(metrics.etf_distance(means))
    kernel = np.random.default_rng(6).normal(size=(8, 4)).astype("float32")
    kernel[2, 0] = bad_value
    assert np.isnan(metrics.etf_distance(kernel.T))


def test_invalid_arguments():
    features, labels = _features(0)
    with pytest.raises(ValueError, match="class_vectors"):
        metrics.etf_distance(np.ones((1, 4), "float32"))
    with pytest.raises(ValueError, match="rcond"):
        metrics.within_class_variability(features, labels, rcond=-1.0)
    with pytest.raises(TypeError, match="centred"):
        metrics.class_means(features, labels, centred=None)
