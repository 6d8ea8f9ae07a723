"""Calibration, feature and filter orthogonality measures."""

from keras_ortho.metrics.calibration import ReliabilityDiagram
from keras_ortho.metrics.calibration import brier_score
from keras_ortho.metrics.calibration import expected_calibration_error
from keras_ortho.metrics.calibration import maximum_calibration_error
from keras_ortho.metrics.calibration import negative_log_likelihood
from keras_ortho.metrics.calibration import reliability_diagram
from keras_ortho.metrics.class_activation_maps import class_activation_maps
from keras_ortho.metrics.convolution_spectrum import OperatorSpectrum
from keras_ortho.metrics.convolution_spectrum import (
    circular_convolution_singular_values,
)
from keras_ortho.metrics.convolution_spectrum import convolution_singular_values
from keras_ortho.metrics.convolution_spectrum import convolution_spectra
from keras_ortho.metrics.effective_rank import effective_rank
from keras_ortho.metrics.expected_calibration_error_metric import (
    ExpectedCalibrationError,
)
from keras_ortho.metrics.feature_statistics import OPLStatistics
from keras_ortho.metrics.feature_statistics import inter_class_separability
from keras_ortho.metrics.feature_statistics import intra_class_compactness
from keras_ortho.metrics.feature_statistics import opl_statistics
from keras_ortho.metrics.filter_orthogonality import FilterOrthogonality
from keras_ortho.metrics.filter_orthogonality import filter_orthogonality
from keras_ortho.metrics.localization import LocalizationScore
from keras_ortho.metrics.localization import bounding_boxes
from keras_ortho.metrics.localization import box_iou
from keras_ortho.metrics.localization import localization_score
from keras_ortho.metrics.neural_collapse import class_means
from keras_ortho.metrics.neural_collapse import etf_distance
from keras_ortho.metrics.neural_collapse import within_class_variability
from keras_ortho.metrics.subselection import SubselectionCurve
from keras_ortho.metrics.subselection import feature_subselection_curve

__all__ = [
    "ExpectedCalibrationError",
    "FilterOrthogonality",
    "LocalizationScore",
    "OPLStatistics",
    "OperatorSpectrum",
    "ReliabilityDiagram",
    "SubselectionCurve",
    "bounding_boxes",
    "box_iou",
    "brier_score",
    "circular_convolution_singular_values",
    "class_activation_maps",
    "class_means",
    "convolution_singular_values",
    "convolution_spectra",
    "effective_rank",
    "etf_distance",
    "expected_calibration_error",
    "feature_subselection_curve",
    "filter_orthogonality",
    "inter_class_separability",
    "intra_class_compactness",
    "localization_score",
    "maximum_calibration_error",
    "negative_log_likelihood",
    "opl_statistics",
    "reliability_diagram",
    "within_class_variability",
]
