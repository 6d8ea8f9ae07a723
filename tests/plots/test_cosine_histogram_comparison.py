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


def _heights(patch):
    """The bin heights of a step histogram, from its outline's vertices."""
    vertices = patch.get_path().vertices
    # The outline climbs each bin's left edge then runs along its top.
    return vertices[1:-1:2, 1]


def test_one_outline_per_model_in_each_panel(tmp_path):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, size=24)
    features = {
        "CE": rng.normal(size=(24, 6)),
        "OPL": np.eye(6)[labels * 2] + 0.05 * rng.normal(size=(24, 6)),
    }
    figure = plots.plot_cosine_histogram_comparison(features, labels, bins=10)
    same_ax, different_ax = figure.axes
    assert same_ax.get_title() == "Same-class pairs"
    assert different_ax.get_title() == "Different-class pairs"
    assert same_ax.get_shared_y_axes().joined(same_ax, different_ax)
    edges = np.linspace(-1, 1, 11)
    for ax, kind in ((same_ax, 0), (different_ax, 1)):
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        for patch, (name, values), text in zip(
            ax.patches, features.items(), legend, strict=True
        ):
            pairs = _reference_pairs(values, labels)[kind]
            assert text == f"{name} (mean {pairs.mean():.3f})"
            counts, _ = np.histogram(pairs, bins=edges)
            np.testing.assert_allclose(
                _heights(patch), counts / (pairs.size * 0.2), atol=1e-12
            )
    # The OPL-like features: same-class cosines near 1, others near 0.
    same_legend = same_ax.get_legend().get_texts()[1].get_text()
    assert float(same_legend.split("mean ")[1].rstrip(")")) > 0.9
    assert_valid_png(figure, tmp_path / "comparison.png")


def test_every_model_is_measured_on_the_same_pairs():
    rng = np.random.default_rng(1)
    features = rng.normal(size=(40, 4))
    labels = rng.integers(0, 2, size=40)
    figure = plots.plot_cosine_histogram_comparison(
        {"a": features, "b": features.copy()}, labels, max_samples=12, seed=3
    )
    for ax in figure.axes:
        first, second = ax.patches
        np.testing.assert_array_equal(
            first.get_path().vertices, second.get_path().vertices
        )


def test_invalid_input():
    with pytest.raises(TypeError, match="features"):
        plots.plot_cosine_histogram_comparison(np.zeros((4, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="labels"):
        plots.plot_cosine_histogram_comparison({"a": np.zeros((4, 2))}, np.zeros(3))
    with pytest.raises(ValueError, match="features"):
        plots.plot_cosine_histogram_comparison({"a": np.zeros((4, 2, 2))}, np.zeros(4))
    with pytest.raises(ValueError, match="bins"):
        plots.plot_cosine_histogram_comparison({"a": np.zeros((4, 2))}, [0], bins=0)
