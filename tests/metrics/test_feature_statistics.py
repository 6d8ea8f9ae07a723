import keras
import numpy as np
import pytest

from keras_ortho import metrics
from tests import toolkit
from tests.metrics import reference

CASES, ARRAYS = toolkit.load_golden("opl")


def _features(seed, n=30, dim=6, classes=4, relu=False):
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(n, dim)).astype("float32")
    labels = rng.integers(0, classes, n)
    if relu:
        features = np.maximum(features, 0.0)
    features[3] = 0.0
    return features, labels


@pytest.mark.parametrize("relu, block_size", [(False, 1), (True, 7), (False, 1024)])
def test_opl_statistics_match_numpy(relu, block_size):
    features, labels = _features(block_size, relu=relu)
    for absolute in (True, False):
        stats = metrics.opl_statistics(
            features, labels, absolute=absolute, block_size=block_size
        )
        s, d = reference.opl_s_d(features, labels, absolute)
        np.testing.assert_allclose([stats.s, stats.d], [s, d], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["id"])
def test_opl_statistics_match_golden(case):
    arrays = toolkit.golden_case_arrays(ARRAYS, case["id"])
    features, labels = arrays["features"].astype("float32"), arrays["labels"]
    absolute = metrics.opl_statistics(features, labels)
    signed = metrics.opl_statistics(features, labels, absolute=False)
    np.testing.assert_allclose(absolute.s, arrays["s_cifar"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(absolute.d, arrays["d_cifar"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(signed.s, arrays["s_numpy"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(signed.d, arrays["d_signed_numpy"], rtol=1e-5, atol=1e-6)


def test_one_hot_labels_and_backend_tensors():
    features, labels = _features(2)
    one_hot = keras.ops.one_hot(labels, 4)
    got = metrics.opl_statistics(keras.ops.convert_to_tensor(features), one_hot)
    s, d = reference.opl_s_d(features, labels, True)
    np.testing.assert_allclose([got.s, got.d], [s, d], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("normalize", [False, True])
def test_compactness_and_separability_match_numpy(normalize):
    features, labels = _features(5, relu=True)
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
    assert metrics.opl_statistics(one, [0]) == metrics.OPLStatistics(0.0, 0.0)
    assert metrics.intra_class_compactness(one, [0]) == 0.0
    assert metrics.inter_class_separability(one, [0]) == 0.0
    zeros = np.zeros((4, 3), "float32")
    stats = metrics.opl_statistics(zeros, [0, 0, 1, 1])
    assert stats == metrics.OPLStatistics(0.0, 0.0)
    assert metrics.inter_class_separability(zeros, [0, 0, 1, 1]) == 1.0


def test_invalid_arguments():
    features, labels = _features(0)
    with pytest.raises(ValueError, match="block_size"):
        metrics.opl_statistics(features, labels, block_size=0)
    with pytest.raises(TypeError, match="absolute"):
        metrics.opl_statistics(features, labels, absolute="yes")
    with pytest.raises(ValueError, match="features"):
        metrics.intra_class_compactness(features[0], labels)
    with pytest.raises(ValueError, match="labels"):
        metrics.inter_class_separability(features, labels[:-1])
