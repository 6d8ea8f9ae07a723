"""Accuracy against the fraction of feature dimensions kept, for one or
several models."""

import numpy as np

from keras_ortho.diagnostics.subselection import SubselectionCurveResult
from keras_ortho.plots._figure import by_label
from keras_ortho.plots._figure import figure_of


def plot_subselection_curves(curves, ax=None, title=None):
    """Plots `keras_ortho.diagnostics.SubselectionCurveResult`s: mean accuracy against
    the fraction of features kept, with a band of one standard deviation
    over the random draws.

    Args:
        curves: one `SubselectionCurveResult`, or a dict `{label: curve}` to compare
            models (e.g. `{"CE": ..., "CE + OS": ...}`). The legend gives each
            curve's area under the curve (its average accuracy).
        ax: a matplotlib `Axes` to draw on; `None` makes a new figure.
        title: the axes' title; `None` for "Feature sub-selection".

    Returns:
        The `matplotlib.figure.Figure` drawn on.

    Example:

    ```python
    head = keras.layers.Dense(4)
    head.build((None, 16))
    features, y = np.random.rand(64, 16), np.random.randint(0, 4, 64)
    curve = keras_ortho.diagnostics.feature_subselection_curve(features, y, head)
    figure = keras_ortho.plots.plot_subselection_curves({"OPL": curve})
    ```

    Reference:
        The robustness-to-feature-sub-selection claim of H. Choi, A. Som,
        P. Turaga, arXiv 2009.10762 (protocol reconstructed, see
        `keras_ortho.diagnostics.feature_subselection_curve`).
    """
    curves = by_label(
        curves,
        "curves",
        lambda curve: isinstance(curve, SubselectionCurveResult),
        "a SubselectionCurveResult",
    )
    figure, ax = figure_of(ax, 5.0, 3.5)
    for label, curve in curves.items():
        order = np.argsort(curve.fractions)
        fractions = curve.fractions[order]
        mean = curve.accuracy_mean[order]
        std = curve.accuracy_std[order]
        (line,) = ax.plot(
            fractions,
            mean,
            marker="o",
            label=f"{label} (AUC {curve.area_under_curve:.3f})",
        )
        ax.fill_between(
            fractions, mean - std, mean + std, color=line.get_color(), alpha=0.2
        )
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1)
    ax.set_xlabel("fraction of feature dimensions kept")
    ax.set_ylabel("top-1 accuracy")
    ax.set_title("Feature sub-selection" if title is None else title)
    ax.legend(loc="best")
    return figure
