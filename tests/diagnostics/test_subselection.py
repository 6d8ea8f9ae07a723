import keras
import numpy as np
import pytest

from keras_ortho import diagnostics


def _problem(seed=0, n=60, dim=8, classes=3):
    rng = np.random.default_rng(seed)
    features = np.abs(rng.normal(size=(n, dim))).astype("float32")
    features[:, 2] *= 4.0  # a dominant dimension for the ranked modes
    kernel = rng.normal(size=(dim, classes)).astype("float32")
    kernel[5] *= 10.0  # the largest classifier row
    bias = rng.normal(size=(classes,)).astype("float32")
    labels = rng.integers(0, classes, n)
    return features, labels, kernel, bias


def _accuracy(features, labels, kernel, bias, mask, scale):
    correct = 0
    for row, label in zip(features, labels, strict=True):
        logits = [
            sum(row[j] * mask[j] * scale * kernel[j, k] for j in range(len(row)))
            + bias[k]
            for k in range(kernel.shape[1])
        ]
        correct += int(np.argmax(logits) == label)
    return correct / len(labels)


@pytest.mark.parametrize("rescale", [False, True])
def test_random_mode_matches_numpy(rescale):
    features, labels, kernel, bias = _problem()
    fractions = (1.0, 0.5, 0.25)
    curve = diagnostics.feature_subselection_curve(
        features,
        labels,
        (kernel, bias),
        fractions,
        num_seeds=3,
        rescale=rescale,
        seed=7,
    )
    # The documented draw order: one generator, fractions in order, then draws.
    rng = np.random.default_rng(7)
    want = np.zeros((3, 3))
    for f, fraction in enumerate(fractions):
        keep = max(1, round(fraction * 8))
        for r in range(3):
            mask = np.zeros(8)
            mask[rng.permutation(8)[:keep]] = 1.0
            scale = 8 / keep if rescale else 1.0
            want[f, r] = _accuracy(features, labels, kernel, bias, mask, scale)
    np.testing.assert_allclose(curve.accuracies, want)
    np.testing.assert_allclose(curve.accuracy_mean, want.mean(axis=1))
    np.testing.assert_allclose(curve.accuracy_std, want.std(axis=1))
    np.testing.assert_array_equal(curve.kept, [8, 4, 2])
    full = _accuracy(features, labels, kernel, bias, np.ones(8), 1.0)
    np.testing.assert_allclose(curve.accuracies[0], full)


def test_ranked_modes_match_numpy():
    features, labels, kernel, bias = _problem(1)
    activation = diagnostics.feature_subselection_curve(
        features, labels, (kernel, bias), (0.125,), mode="activation"
    )
    mask = np.eye(8)[2]
    assert activation.accuracies.shape == (1, 1)
    np.testing.assert_allclose(
        activation.accuracies[0, 0], _accuracy(features, labels, kernel, bias, mask, 1)
    )
    layer = keras.layers.Dense(3)
    layer.build((None, 8))
    layer.set_weights([kernel, bias])
    weight = diagnostics.feature_subselection_curve(
        features, labels, layer, (0.125,), mode="weight"
    )
    mask = np.eye(8)[5]
    np.testing.assert_allclose(
        weight.accuracies[0, 0], _accuracy(features, labels, kernel, bias, mask, 1)
    )


def test_block_mode_matches_numpy():
    features, labels, kernel, _ = _problem(2)
    curve = diagnostics.feature_subselection_curve(
        features,
        labels,
        (kernel, None),
        (0.5,),
        mode="blocks",
        num_blocks=4,
        num_seeds=2,
        seed=3,
    )
    rng = np.random.default_rng(3)
    for r in range(2):
        blocks = rng.permutation(4)[:2]
        mask = np.zeros(8)
        for b in blocks:
            mask[2 * b : 2 * b + 2] = 1.0
        want = _accuracy(features, labels, kernel, np.zeros(3), mask, 1.0)
        np.testing.assert_allclose(curve.accuracies[0, r], want)


def test_callable_equals_weights_and_area():
    features, labels, kernel, bias = _problem(3)
    layer = keras.layers.Dense(3)
    layer.build((None, 8))
    layer.set_weights([kernel, bias])
    by_layer = diagnostics.feature_subselection_curve(features, labels, layer, seed=1)
    by_pair = diagnostics.feature_subselection_curve(
        features, labels, (kernel, bias), seed=1
    )
    np.testing.assert_allclose(by_layer.accuracies, by_pair.accuracies)
    # Trapezoid by hand over the fractions (1, .75, .5, .25, .125).
    m = by_pair.accuracy_mean
    area = (
        0.25 * (m[0] + m[1])
        + 0.25 * (m[1] + m[2])
        + 0.25 * (m[2] + m[3])
        + 0.125 * (m[3] + m[4])
    ) / 2
    np.testing.assert_allclose(by_pair.area_under_curve, area / 0.875)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"fractions": (0.5, 1.5)}, ValueError, "fractions"),
        ({"fractions": (0.0,)}, ValueError, "fractions"),
        ({"fractions": ()}, ValueError, "fractions"),
        ({"mode": "best"}, ValueError, "mode"),
        ({"num_seeds": 0}, ValueError, "num_seeds"),
        ({"mode": "blocks", "num_blocks": 3}, ValueError, "num_blocks"),
        ({"rescale": "no"}, TypeError, "rescale"),
    ],
)
def test_invalid_arguments(kwargs, error, match):
    features, labels, kernel, bias = _problem()
    with pytest.raises(error, match=match):
        diagnostics.feature_subselection_curve(
            features, labels, (kernel, bias), **kwargs
        )


def test_invalid_classifier():
    features, labels, kernel, _ = _problem()
    with pytest.raises(ValueError, match="classifier"):
        diagnostics.feature_subselection_curve(
            features, labels, lambda x: x @ kernel, mode="weight"
        )
    with pytest.raises(TypeError, match="classifier"):
        diagnostics.feature_subselection_curve(features, labels, "dense")
