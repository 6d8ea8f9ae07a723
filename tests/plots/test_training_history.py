import numpy as np
import pytest

from keras_ortho import plots
from tests.plots.png import assert_valid_png

HISTORY = {
    "epoch": [0, 1, 2],
    "loss": [2.0, 1.5, 1.2],
    "val_loss": [2.1, 1.7, 1.6],
    "features/s": [0.2, 0.4, 0.5],
    "ortho/conv/so_residual": [3.0, 2.0, 1.0],
    "ortho/mean/so_residual": [3.0, 2.0, 1.0],
    "val_only": [0.5, 0.5, 0.5],
}


def test_default_panels_pair_validation_and_skip_per_kernel_columns(tmp_path):
    figure = plots.plot_training_history(HISTORY, columns=2)
    panels = [ax for ax in figure.axes if ax.lines]
    assert [ax.get_title() for ax in panels] == [
        "loss",
        "features/s",
        "ortho/mean/so_residual",
        "val_only",
    ]
    loss, val_loss = panels[0].get_lines()
    np.testing.assert_array_equal(loss.get_xdata(), [1, 2, 3])
    np.testing.assert_array_equal(val_loss.get_ydata(), HISTORY["val_loss"])
    assert val_loss.get_label() == "val_loss"
    assert_valid_png(figure, tmp_path / "history.png")


def test_chosen_keys_and_invalid_input():
    figure = plots.plot_training_history(HISTORY, keys=["ortho/conv/so_residual"])
    (ax,) = figure.axes
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), [3.0, 2.0, 1.0])
    with pytest.raises(ValueError, match="keys"):
        plots.plot_training_history(HISTORY, keys=["accuracy"])
    with pytest.raises(TypeError, match="history"):
        plots.plot_training_history({})
