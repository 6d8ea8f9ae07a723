import math

import numpy as np
import pytest

from keras_ortho import plots
from tests.plots.png import assert_valid_png


def test_one_panel_per_metric_one_bar_per_method(tmp_path):
    values = {
        "CE": {"accuracy (%)": 91.25, "ECE (%)": 3.1},
        "OPL": {"accuracy (%)": 92.0, "ECE (%)": np.float32(2.5)},
        "SO": {"accuracy (%)": 90.5},
    }
    figure = plots.plot_metric_bars(values, value_format="{:.1f}")
    accuracy, ece = figure.axes
    assert accuracy.get_title() == "accuracy (%)"
    assert ece.get_title() == "ECE (%)"
    assert [t.get_text() for t in accuracy.get_xticklabels()] == ["CE", "OPL", "SO"]
    np.testing.assert_allclose(
        [bar.get_height() for bar in accuracy.patches], [91.25, 92.0, 90.5]
    )
    # SO has no ECE: no bar, "n/a" in its place.
    np.testing.assert_allclose(
        [bar.get_height() for bar in ece.patches], [3.1, 2.5, 0.0], rtol=1e-6
    )
    labels = [t.get_text() for t in ece.texts]
    assert labels == ["3.1", "2.5", "n/a"]
    assert [t.get_text() for t in accuracy.texts] == ["91.2", "92.0", "90.5"]
    assert_valid_png(figure, tmp_path / "bars.png")


def test_nan_and_none_are_missing():
    figure = plots.plot_metric_bars({"A": {"x": math.nan}, "B": {"x": None}})
    assert [t.get_text() for t in figure.axes[0].texts] == ["n/a", "n/a"]


def test_invalid_values():
    with pytest.raises(TypeError, match="values"):
        plots.plot_metric_bars([("CE", 0.9)])
    with pytest.raises(TypeError, match="values"):
        plots.plot_metric_bars({})
    with pytest.raises(TypeError, match="expected numbers"):
        plots.plot_metric_bars({"CE": {"accuracy": "high"}})
    with pytest.raises(ValueError, match="at least one metric"):
        plots.plot_metric_bars({"CE": {}})
    with pytest.raises(TypeError, match="value_format"):
        plots.plot_metric_bars({"CE": {"a": 1.0}}, value_format=2)
