import numpy as np
import pytest

from keras_ortho import plots
from tests.plots.png import assert_valid_png


def _reference_pairs(features, labels):
    same, different = [], []
    for i in range(len(features)):
        for j in range(i + 1, len(features)):
            a, b = features[i], features[j]
            norm = np.linalg.norm(a) * np.linalg.norm(b)
            cos = a @ b / norm if norm > 0 else 0.0
            (same if labels[i] == labels[j] else different).append(cos)
    return np.array(same), np.array(different)


def test_histograms_of_same_and_different_class_pairs(tmp_path):
    rng = np.random.default_rng(0)
    features = rng.normal(size=(30, 5))
    features[3] = 0.0
    labels = rng.integers(0, 3, size=30)
    figure = plots.plot_cosine_histograms(features, labels, bins=20)
    (ax,) = figure.axes
    same, different = _reference_pairs(features, labels)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [
        f"same class (mean {same.mean():.3f}, {same.size} pairs)",
        f"different class (mean {different.mean():.3f}, {different.size} pairs)",
    ]
    # Unit-area histograms: heights times the bin width 0.1 sum to 1.
    heights = np.array([patch.get_height() for patch in ax.patches])
    assert heights.size == 40
    np.testing.assert_allclose(heights[:20].sum() * 0.1, 1.0)
    counts, _ = np.histogram(same, bins=np.linspace(-1, 1, 21))
    np.testing.assert_allclose(heights[:20], counts / (same.size * 0.1))
    assert_valid_png(figure, tmp_path / "cosines.png")


def test_subsampling_and_single_class():
    features = np.random.default_rng(1).normal(size=(50, 4))
    figure = plots.plot_cosine_histograms(features, np.zeros(50), max_samples=10)
    legend = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert len(legend) == 1
    assert legend[0].endswith("45 pairs)")


def test_invalid_features():
    with pytest.raises(ValueError, match="features"):
        plots.plot_cosine_histograms(np.zeros((4, 2, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="max_samples"):
        plots.plot_cosine_histograms(np.zeros((4, 2)), np.zeros(4), max_samples=1)
