"""Where an object lives: `keras_ortho.metrics` holds Keras metrics and
functions of arrays, `keras_ortho.diagnostics` the analyses and their records
(the rule of the two packages' docstrings)."""

import dataclasses
import inspect

import keras

from keras_ortho import diagnostics
from keras_ortho import metrics


def test_metrics_are_keras_metrics_or_functions_of_arrays():
    for name in metrics.__all__:
        value = getattr(metrics, name)
        if inspect.isclass(value):
            assert issubclass(value, keras.metrics.Metric), name
        else:
            assert "model" not in inspect.signature(value).parameters, name


def test_diagnostic_records_are_frozen_dataclasses_named_results():
    records = [
        name
        for name in diagnostics.__all__
        if inspect.isclass(getattr(diagnostics, name))
    ]
    assert records
    for name in records:
        record = getattr(diagnostics, name)
        assert dataclasses.is_dataclass(record), name
        assert record.__dataclass_params__.frozen, name
        assert name.endswith("Result"), name
