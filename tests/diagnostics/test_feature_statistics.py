import keras
import numpy as np
import pytest

from keras_ortho import diagnostics
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
        stats = diagnostics.opl_statistics(
            features, labels, absolute=absolute, block_size=block_size
        )
        s, d = reference.opl_s_d(features, labels, absolute)
        np.testing.assert_allclose([stats.s, stats.d], [s, d], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["id"])
def test_opl_statistics_match_golden(case):
    arrays = toolkit.golden_case_arrays(ARRAYS, case["id"])
    features, labels = arrays["features"].astype("float32"), arrays["labels"]
    absolute = diagnostics.opl_statistics(features, labels)
    signed = diagnostics.opl_statistics(features, labels, absolute=False)
    np.testing.assert_allclose(absolute.s, arrays["s_cifar"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(absolute.d, arrays["d_cifar"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(signed.s, arrays["s_numpy"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(signed.d, arrays["d_signed_numpy"], rtol=1e-5, atol=1e-6)


def test_one_hot_labels_and_backend_tensors():
    features, labels = _features(2)
    one_hot = keras.ops.one_hot(labels, 4)
    got = diagnostics.opl_statistics(keras.ops.convert_to_tensor(features), one_hot)
    s, d = reference.opl_s_d(features, labels, True)
    np.testing.assert_allclose([got.s, got.d], [s, d], rtol=1e-5, atol=1e-6)


def test_degenerate_inputs_are_finite():
    one = np.ones((1, 4), "float32")
    expected = diagnostics.OPLStatisticsResult(0.0, 0.0)
    assert diagnostics.opl_statistics(one, [0]) == expected
    zeros = np.zeros((4, 3), "float32")
    assert diagnostics.opl_statistics(zeros, [0, 0, 1, 1]) == expected


def test_invalid_arguments():
    features, labels = _features(0)
    with pytest.raises(ValueError, match="block_size"):
        diagnostics.opl_statistics(features, labels, block_size=0)
    with pytest.raises(TypeError, match="absolute"):
        diagnostics.opl_statistics(features, labels, absolute="yes")
    with pytest.raises(ValueError, match="features"):
        diagnostics.opl_statistics(features[0], labels)
    with pytest.raises(ValueError, match="labels"):
        diagnostics.opl_statistics(features, labels[:-1])
