import numpy as np
import pytest

from keras_ortho import plots
from keras_ortho.plots._figure import new_figure
from tests.plots.png import assert_valid_png


def _reference_bins(labels, probs, num_bins):
    # Right-closed bins (m / M, (m + 1) / M], a confidence of 0 in bin 0.
    accuracy = {}
    for m in range(num_bins):
        low, high = m / num_bins, (m + 1) / num_bins
        members = [
            i
            for i in range(len(labels))
            if (low < probs[i].max() <= high) or (m == 0 and probs[i].max() == 0)
        ]
        if members:
            accuracy[m] = np.mean([probs[i].argmax() == labels[i] for i in members])
    return accuracy


def test_bars_are_the_per_bin_accuracy(tmp_path):
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(200, 4)) * 2
    probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = rng.integers(0, 4, size=200)
    figure = plots.plot_reliability_diagram(labels, probs, num_bins=10)
    (ax,) = figure.axes
    want = _reference_bins(labels, probs, 10)
    # The accuracy bars come first, then the gap bars.
    assert len(ax.patches) == 2 * len(want)
    accuracy_bars = ax.patches[: len(want)]
    for bar, (m, accuracy) in zip(accuracy_bars, want.items(), strict=True):
        assert bar.get_x() == pytest.approx(m / 10, abs=1e-6)
        assert bar.get_height() == pytest.approx(accuracy)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(t.startswith("gap (ECE ") for t in legend)
    assert_valid_png(figure, tmp_path / "reliability.png")


def test_logits_and_an_existing_axes():
    figure = new_figure(4, 4)
    ax = figure.add_subplot()
    drawn = plots.plot_reliability_diagram(
        [0, 1], [[3.0, 0.0], [0.0, 3.0]], from_logits=True, ax=ax, title="mine"
    )
    assert drawn is figure
    assert ax.get_title() == "mine"
    # Both predictions are right with confidence sigmoid(3): one bar at 1.0.
    assert ax.patches[0].get_height() == pytest.approx(1.0)
