import numpy as np
import pytest

from keras_ortho import plots
from tests.plots.png import assert_valid_png


def test_maps_over_images_with_boxes(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(3, 8, 8, 3)).astype("uint8")
    maps = rng.random((3, 8, 8))
    truth = np.array([[1, 2, 5, 6], [-1, -1, -1, -1], [0, 0, 7, 7]])
    predicted = np.array([[0, 0, 3, 3], [2, 2, 2, 2], [-1, -1, -1, -1]])
    figure = plots.plot_cam_overlays(
        images,
        maps,
        ground_truth_boxes=truth,
        predicted_boxes=predicted,
        titles=["a", "b", "c"],
        columns=2,
    )
    panels = [ax for ax in figure.axes if ax.images]
    assert len(figure.axes) == 4
    assert [ax.get_title() for ax in panels] == ["a", "b", "c"]
    np.testing.assert_array_equal(panels[0].images[0].get_array(), images[0])
    np.testing.assert_allclose(panels[1].images[1].get_array(), maps[1])
    # Inclusive pixel boxes: (x0, y0, x1, y1) spans x1 - x0 + 1 pixels.
    rectangles = [[(p.get_xy(), p.get_width()) for p in ax.patches] for ax in panels]
    assert rectangles == [
        [((0.5, 1.5), 5), ((-0.5, -0.5), 4)],
        [((1.5, 1.5), 1)],
        [((-0.5, -0.5), 8)],
    ]
    assert_valid_png(figure, tmp_path / "cam.png")


def test_float_images_are_scaled_for_display():
    images = np.full((1, 4, 4), 7.0)
    images[0, 0, 0] = 9.0
    figure = plots.plot_cam_overlays(images, np.zeros((1, 4, 4)))
    shown = figure.axes[0].images[0].get_array()
    assert shown.max() == 1.0
    assert shown.min() == 0.0


def test_invalid_arguments():
    images = np.zeros((2, 4, 4, 3), "uint8")
    with pytest.raises(ValueError, match="maps"):
        plots.plot_cam_overlays(images, np.zeros((2, 5, 5)))
    with pytest.raises(ValueError, match="predicted_boxes"):
        plots.plot_cam_overlays(images, np.zeros((2, 4, 4)), predicted_boxes=[[0] * 4])
    with pytest.raises(ValueError, match="titles"):
        plots.plot_cam_overlays(images, np.zeros((2, 4, 4)), titles=["x"])
    with pytest.raises(ValueError, match="alpha"):
        plots.plot_cam_overlays(images, np.zeros((2, 4, 4)), alpha=2)
