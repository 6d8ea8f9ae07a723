"""Diagnostics: analyses of a trained model or of a whole evaluation.

What lives here: a function that takes a model (or a layer, or one of its
kernels), or that returns a record, a curve, maps or boxes rather than one
number: the filter orthogonality and operator spectra of every kernel, class
activation maps and their localisation, robustness to feature sub-selection,
OPL's feature statistics, the reliability diagram. Each returns plain Python
and NumPy values, and its records are frozen dataclasses named `...Result`
after the analysis that makes them, as SciPy names its result records.
Nothing here is a Keras object to `compile`; the Keras metrics and metric
functions live in `keras_ortho.metrics`, the pictures in `keras_ortho.plots`.
"""

from keras_ortho.diagnostics.class_activation_maps import class_activation_maps
from keras_ortho.diagnostics.convolution_singular_values import (
    circular_convolution_singular_values,
)
from keras_ortho.diagnostics.convolution_singular_values import (
    convolution_singular_values,
)
from keras_ortho.diagnostics.convolution_spectra import OperatorSpectrumResult
from keras_ortho.diagnostics.convolution_spectra import convolution_spectra
from keras_ortho.diagnostics.feature_statistics import OPLStatisticsResult
from keras_ortho.diagnostics.feature_statistics import opl_statistics
from keras_ortho.diagnostics.filter_orthogonality import FilterOrthogonalityResult
from keras_ortho.diagnostics.filter_orthogonality import filter_orthogonality
from keras_ortho.diagnostics.localization import LocalizationResult
from keras_ortho.diagnostics.localization import bounding_boxes
from keras_ortho.diagnostics.localization import localization_score
from keras_ortho.diagnostics.reliability_diagram import ReliabilityDiagramResult
from keras_ortho.diagnostics.reliability_diagram import reliability_diagram
from keras_ortho.diagnostics.subselection import SubselectionCurveResult
from keras_ortho.diagnostics.subselection import feature_subselection_curve

__all__ = [
    "FilterOrthogonalityResult",
    "LocalizationResult",
    "OPLStatisticsResult",
    "OperatorSpectrumResult",
    "ReliabilityDiagramResult",
    "SubselectionCurveResult",
    "bounding_boxes",
    "circular_convolution_singular_values",
    "class_activation_maps",
    "convolution_singular_values",
    "convolution_spectra",
    "feature_subselection_curve",
    "filter_orthogonality",
    "localization_score",
    "opl_statistics",
    "reliability_diagram",
]
