import pathlib

import keras
import numpy as np
import pytest
from PIL import Image

from keras_ortho import diagnostics
from tests.metrics import reference

TINY_IMAGENET_VAL = (
    pathlib.Path(__file__).parents[1] / "data" / "tiny-imagenet-200-sample" / "val"
)


def test_bounding_boxes_on_hand_made_maps():
    maps = np.zeros((4, 6, 8), "float32")
    # Image 0: a 2x2 blob (4 pixels) and a diagonal run of 5 pixels; the
    # diagonal is one 8-connected region, so it is the largest.
    maps[0, 0:2, 0:2] = 1.0
    for k in range(5):
        maps[0, 1 + k, 3 + k] = 0.5
    # Image 1: everything below the threshold except one pixel.
    maps[1] = 0.1
    maps[1, 4, 3] = 1.0
    # Image 2: constant zero, no box. Image 3: two equal regions.
    maps[3, 0, 0] = maps[3, 5, 7] = 1.0
    boxes = diagnostics.bounding_boxes(maps, threshold=0.2)
    np.testing.assert_array_equal(
        boxes, [[3, 1, 7, 5], [3, 4, 3, 4], [-1, -1, -1, -1], [0, 0, 0, 0]]
    )
    all_boxes = diagnostics.bounding_boxes(maps, threshold=0.2, component="all")
    np.testing.assert_array_equal(all_boxes[0], [0, 0, 7, 5])
    np.testing.assert_array_equal(all_boxes[3], [0, 0, 7, 5])
    loose = diagnostics.bounding_boxes(maps[1:2], threshold=0.05)
    np.testing.assert_array_equal(loose, [[0, 0, 7, 5]])
    for n in range(4):
        assert tuple(boxes[n]) == reference.largest_component_box(
            maps[n] >= 0.2 * maps[n].max() if maps[n].max() > 0 else maps[n] > 1
        )


def _intensity_model(size):
    """A GAP model whose class-0 CAM is the sum of the colour channels and
    whose class-1 CAM is its negative."""
    inputs = keras.Input((size, size, 3))
    x = keras.layers.Conv2D(1, 1, kernel_initializer="ones", name="intensity")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(
        2, kernel_initializer=keras.initializers.Constant([[1.0, -1.0]])
    )(x)
    return keras.Model(inputs, outputs)


def test_localization_on_synthetic_boxes():
    images = np.zeros((3, 16, 16, 3), "float32")
    images[0, 2:8, 3:12] = 1.0
    images[1, 10:15, 0:4] = 1.0
    images[2, 10:15, 0:4] = 1.0
    truth = np.array([[3, 2, 11, 7], [0, 10, 3, 14], [0, 10, 3, 14]])
    labels = np.array([0, 0, 1])
    score = diagnostics.localization_score(_intensity_model(16), images, truth, labels)
    np.testing.assert_array_equal(score.boxes[:2], truth[:2])
    # Image 2's class-1 map is bright everywhere but the square.
    np.testing.assert_array_equal(score.boxes[2], [0, 0, 15, 15])
    np.testing.assert_allclose(score.iou, [1.0, 1.0, 20 / 256])
    np.testing.assert_array_equal(score.predicted_classes, [0, 0, 0])
    assert score.gt_known_accuracy == pytest.approx(2 / 3)
    assert score.top1_accuracy == pytest.approx(2 / 3)


def _tiny_imagenet_val(count):
    lines = (TINY_IMAGENET_VAL / "val_annotations.txt").read_text().splitlines()
    images, boxes = [], []
    for line in lines[:count]:
        name, _, *box = line.split("\t")
        with Image.open(TINY_IMAGENET_VAL / "images" / name) as image:
            images.append(np.asarray(image.convert("RGB"), "float32"))
        boxes.append([int(v) for v in box])
    return np.stack(images), np.array(boxes)


@pytest.mark.skipif(
    not TINY_IMAGENET_VAL.exists(), reason="Tiny ImageNet sample not present"
)
def test_localization_on_real_tiny_imagenet_boxes():
    images, truth = _tiny_imagenet_val(4)
    labels = np.array([0, 1, 0, 0])
    score = diagnostics.localization_score(
        _intensity_model(64), images, truth, labels, threshold=0.5
    )
    for n in range(4):
        intensity = images[n].sum(axis=-1).astype("float32")
        if labels[n] == 1:
            intensity = -intensity
        low, span = intensity.min(), intensity.max() - intensity.min()
        normalised = (intensity - low) / np.float32(span)
        box = reference.largest_component_box(normalised >= 0.5)
        assert tuple(score.boxes[n]) == box
        np.testing.assert_allclose(score.iou[n], reference.iou(box, truth[n]))
    hits = np.array(
        [reference.iou(b, t) >= 0.5 for b, t in zip(score.boxes, truth, strict=True)]
    )
    assert score.gt_known_accuracy == pytest.approx(hits.mean())
    assert score.top1_accuracy == pytest.approx((hits & (labels == 0)).mean())


def test_invalid_box_arguments():
    with pytest.raises(ValueError, match="threshold"):
        diagnostics.bounding_boxes(np.zeros((1, 3, 3)), threshold=1.5)
    with pytest.raises(ValueError, match="component"):
        diagnostics.bounding_boxes(np.zeros((1, 3, 3)), component="first")
    with pytest.raises(ValueError, match="maps"):
        diagnostics.bounding_boxes(np.zeros((3, 3)))
