import numpy as np
import pytest

from keras_ortho import metrics
from tests.metrics import reference


def _features(seed, n=30, dim=6, classes=4):
    rng = np.random.default_rng(seed)
    features = np.maximum(rng.normal(size=(n, dim)), 0.0).astype("float32")
    features[3] = 0.0
    return features, rng.integers(0, classes, n)


@pytest.mark.parametrize("normalize", [False, True])
def test_compactness_and_separability_match_numpy(normalize):
    features, labels = _features(5)
    labels[-1] = 9  # a class with a single sample
    np.testing.assert_allclose(
        metrics.intra_class_compactness(features, labels),
        reference.compactness(features, labels),
        rtol=1e-5,
    )
    np.testing.assert_allclose(
        metrics.inter_class_separability(features, labels, normalize=normalize),
        reference.separability(features, labels, normalize=normalize),
        rtol=1e-5,
    )


def test_simplex_class_means_are_maximally_separable():
    # Three equiangular means: pairwise cosine -1/2, so IS = 1.5.
    angles = 2 * np.pi * np.arange(3) / 3
    means = np.stack([np.cos(angles), np.sin(angles)], axis=1).astype("float32")
    features = np.repeat(means, 4, axis=0)
    labels = np.repeat(np.arange(3), 4)
    np.testing.assert_allclose(
        metrics.inter_class_separability(features, labels), 1.5, rtol=1e-6
    )
    np.testing.assert_allclose(
        metrics.intra_class_compactness(features, labels), 1.0, rtol=1e-6
    )


def test_degenerate_inputs_are_finite():
    one = np.ones((1, 4), "float32")
    assert metrics.intra_class_compactness(one, [0]) == 0.0
    assert metrics.inter_class_separability(one, [0]) == 0.0
    zeros = np.zeros((4, 3), "float32")
    assert metrics.inter_class_separability(zeros, [0, 0, 1, 1]) == 1.0


def test_invalid_arguments():
    features, labels = _features(0)
    with pytest.raises(ValueError, match="features"):
        metrics.intra_class_compactness(features[0], labels)
    with pytest.raises(ValueError, match="labels"):
        metrics.inter_class_separability(features, labels[:-1])
    with pytest.raises(TypeError, match="normalize"):
        metrics.inter_class_separability(features, labels, normalize="yes")
