import numpy as np
import pytest

from keras_ortho import diagnostics
from keras_ortho import plots
from tests.plots.png import assert_valid_png


def _curve(means):
    fractions = np.array([1.0, 0.25, 0.5])
    accuracies = np.array(means)[:, None] + np.array([[-0.01, 0.01]])
    return diagnostics.SubselectionCurveResult(
        fractions=fractions,
        kept=np.array([8, 2, 4]),
        accuracies=accuracies,
        accuracy_mean=accuracies.mean(axis=1),
        accuracy_std=accuracies.std(axis=1),
    )


def test_lines_follow_the_curves_sorted_by_fraction(tmp_path):
    curves = {"CE": _curve([0.9, 0.3, 0.6]), "OS": _curve([0.9, 0.7, 0.8])}
    figure = plots.plot_subselection_curves(curves)
    (ax,) = figure.axes
    for line, curve in zip(ax.get_lines(), curves.values(), strict=True):
        np.testing.assert_allclose(line.get_xdata(), [0.25, 0.5, 1.0])
        np.testing.assert_allclose(
            line.get_ydata(), curve.accuracy_mean[[1, 2, 0]], rtol=1e-12
        )
    # AUC by hand: trapezoids over [0.25, 1], divided by the span 0.75.
    auc = (0.25 * (0.3 + 0.6) / 2 + 0.5 * (0.6 + 0.9) / 2) / 0.75
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0] == f"CE (AUC {auc:.3f})"
    assert_valid_png(figure, tmp_path / "subselection.png")


def test_single_curve_and_invalid_input():
    figure = plots.plot_subselection_curves(_curve([0.5, 0.5, 0.5]))
    assert figure.axes[0].get_legend().get_texts()[0].get_text().startswith("model")
    with pytest.raises(TypeError, match="curves"):
        plots.plot_subselection_curves({})
    with pytest.raises(TypeError, match="curves"):
        plots.plot_subselection_curves([0.5])
