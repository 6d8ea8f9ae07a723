"""Diagnostic plots (needs matplotlib: the `plot` extra).

Importing this package does not import matplotlib; each function does, and
raises an ImportError naming the `plot` extra if it is missing. Every function
returns a `matplotlib.figure.Figure` made without pyplot.
"""

from keras_ortho.plots.cam_overlays import plot_cam_overlays
from keras_ortho.plots.cosine_histogram_comparison import (
    plot_cosine_histogram_comparison,
)
from keras_ortho.plots.cosine_histograms import plot_cosine_histograms
from keras_ortho.plots.filter_orthogonality import plot_filter_orthogonality
from keras_ortho.plots.gram_matrices import plot_gram_matrices
from keras_ortho.plots.metric_bars import plot_metric_bars
from keras_ortho.plots.reliability_diagram import plot_reliability_diagram
from keras_ortho.plots.subselection_curves import plot_subselection_curves
from keras_ortho.plots.training_history import plot_training_history

__all__ = [
    "plot_cam_overlays",
    "plot_cosine_histogram_comparison",
    "plot_cosine_histograms",
    "plot_filter_orthogonality",
    "plot_gram_matrices",
    "plot_metric_bars",
    "plot_reliability_diagram",
    "plot_subselection_curves",
    "plot_training_history",
]
