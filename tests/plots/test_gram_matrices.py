import keras
import numpy as np
import pytest

from keras_ortho import plots
from tests import toolkit
from tests.plots.png import assert_valid_png


def _model():
    return keras.Sequential(
        [
            keras.Input((5, 5, 2)),
            keras.layers.Conv2D(4, 3, name="conv"),
            keras.layers.Flatten(),
            keras.layers.Dense(6, name="hidden"),
            keras.layers.Dense(3, name="head"),
        ]
    )


def _reference_cosines(matrix):
    filters = matrix.shape[1]
    cosines = np.zeros((filters, filters))
    for i in range(filters):
        for j in range(filters):
            a, b = matrix[:, i], matrix[:, j]
            cosines[i, j] = a @ b / (np.linalg.norm(a) * np.linalg.norm(b))
    return cosines


def test_panels_show_the_filter_cosines(tmp_path):
    model = _model()
    figure = plots.plot_gram_matrices(model, columns=2)
    panels = [ax for ax in figure.axes if ax.images]
    assert [ax.get_title().split("\n")[0] for ax in panels] == [
        "conv",
        "hidden",
        "head",
    ]
    conv = toolkit.to_numpy(model.get_layer("conv").kernel).reshape(18, 4)
    np.testing.assert_allclose(
        panels[0].images[0].get_array(), _reference_cosines(conv), atol=1e-6
    )
    head = np.asarray(toolkit.to_numpy(model.get_layer("head").kernel), "float64")
    want = _reference_cosines(head)
    np.testing.assert_allclose(panels[2].images[0].get_array(), want, atol=1e-6)
    residual = np.sum((want - np.eye(3)) ** 2)
    assert panels[2].get_title() == f"head\n6x3, SO {residual:.3g}"
    assert_valid_png(figure, tmp_path / "gram.png")


def test_unnormalized_layers_and_max_kernels():
    model = _model()
    figure = plots.plot_gram_matrices(model, layers=["head"], normalize=False)
    (panel,) = [ax for ax in figure.axes if ax.images]
    head = np.asarray(toolkit.to_numpy(model.get_layer("head").kernel), "float64")
    np.testing.assert_allclose(
        panel.images[0].get_array(), head.T @ head - np.eye(3), atol=1e-6
    )
    figure = plots.plot_gram_matrices(model, max_kernels=2)
    titles = [ax.get_title().split("\n")[0] for ax in figure.axes if ax.images]
    assert titles == ["conv", "head"]


def test_invalid_arguments():
    with pytest.raises(TypeError, match="model"):
        plots.plot_gram_matrices(np.zeros((3, 3)))
    with pytest.raises(TypeError, match="layers"):
        plots.plot_gram_matrices(_model(), layers="head")
    with pytest.raises(ValueError, match="no kernel"):
        plots.plot_gram_matrices(_model(), layers=["missing"])
