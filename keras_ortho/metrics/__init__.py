"""Metrics: Keras `Metric` classes for `model.compile(metrics=...)`, and
metric functions.

What lives here: a `keras.metrics.Metric`, or a function of arrays (labels,
predictions, features, boxes) that returns a number, one value per sample,
or the array another metric function takes (`class_means` for
`etf_distance`). It never takes a model and never returns a record.

Analyses of a whole model or of a whole evaluation that return records, curves
or maps (filter orthogonality, operator spectra, class activation maps and
localisation, feature sub-selection, OPL's statistics, the reliability
diagram) live in `keras_ortho.diagnostics`.
"""

from keras_ortho.metrics.box_iou import box_iou
from keras_ortho.metrics.calibration import brier_score
from keras_ortho.metrics.calibration import expected_calibration_error
from keras_ortho.metrics.calibration import maximum_calibration_error
from keras_ortho.metrics.calibration import negative_log_likelihood
from keras_ortho.metrics.class_separation import inter_class_separability
from keras_ortho.metrics.class_separation import intra_class_compactness
from keras_ortho.metrics.effective_rank import effective_rank
from keras_ortho.metrics.expected_calibration_error_metric import (
    ExpectedCalibrationError,
)
from keras_ortho.metrics.neural_collapse import class_means
from keras_ortho.metrics.neural_collapse import etf_distance
from keras_ortho.metrics.neural_collapse import within_class_variability

__all__ = [
    "ExpectedCalibrationError",
    "box_iou",
    "brier_score",
    "class_means",
    "effective_rank",
    "etf_distance",
    "expected_calibration_error",
    "inter_class_separability",
    "intra_class_compactness",
    "maximum_calibration_error",
    "negative_log_likelihood",
    "within_class_variability",
]
