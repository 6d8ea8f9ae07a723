import pathlib

import keras
import numpy as np
import pytest
from PIL import Image

from keras_ortho import metrics
from tests.metrics import reference

TINY_IMAGENET_VAL = (
    pathlib.Path(__file__).parents[1] / "data" / "tiny-imagenet-200-sample" / "val"
)


def _gap_model(size=6, channels=2, filters=3, classes=4, kernel_size=3, strides=1):
    inputs = keras.Input((size, size, channels))
    x = keras.layers.Conv2D(
        filters, kernel_size, strides=strides, padding="same", name="conv"
    )(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.5)(x)
    x = keras.layers.Dense(classes, name="classifier")(x)
    outputs = keras.layers.Softmax()(x)
    return keras.Model(inputs, outputs)


def _images(seed, n=3, size=6, channels=2):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, size, size, channels)).astype("float32")


def _brute_force_cams(model, images, targets):
    conv = model.get_layer("conv")
    kernel, bias = (keras.ops.convert_to_numpy(w) for w in conv.weights)
    weights = keras.ops.convert_to_numpy(model.get_layer("classifier").kernel)
    feature_maps = reference.conv2d_same(images, kernel, bias)
    cams = np.zeros(feature_maps.shape[:3])
    for n, target in enumerate(targets):
        for c in range(feature_maps.shape[-1]):
            cams[n] += weights[c, target] * feature_maps[n, ..., c]
    logits = feature_maps.mean(axis=(1, 2)) @ weights
    return cams, logits.argmax(axis=1)


def test_cam_and_grad_cam_match_numpy():
    model, images = _gap_model(), _images(0)
    targets = np.array([2, 0, 3])
    cams, predicted = _brute_force_cams(model, images, targets)
    got = metrics.class_activation_maps(
        model, images, targets, upsample=False, normalize=False, batch_size=2
    )
    np.testing.assert_allclose(got, cams, rtol=1e-5, atol=1e-5)
    grad_cam = metrics.class_activation_maps(
        model, images, targets, method="grad_cam", upsample=False, normalize=False
    )
    np.testing.assert_allclose(grad_cam, np.maximum(cams, 0) / 36, rtol=1e-5, atol=1e-6)
    predicted_cams, _ = _brute_force_cams(model, images, predicted)
    got = metrics.class_activation_maps(model, images, upsample=False, normalize=False)
    np.testing.assert_allclose(got, predicted_cams, rtol=1e-5, atol=1e-5)


def test_upsampled_and_normalised_maps_match_numpy():
    # A 1x1 convolution with stride 2 gives 4x4 maps for 8x8 images.
    model = _gap_model(size=8, kernel_size=1, strides=2)
    images = _images(1, size=8)
    targets = np.array([1, 1, 2])
    conv = model.get_layer("conv")
    kernel, bias = (keras.ops.convert_to_numpy(w) for w in conv.weights)
    weights = keras.ops.convert_to_numpy(model.get_layer("classifier").kernel)
    got = metrics.class_activation_maps(model, images, targets)
    assert got.shape == (3, 8, 8)
    for n, target in enumerate(targets):
        small = np.zeros((4, 4))
        for y in range(4):
            for x in range(4):
                features = images[n, 2 * y, 2 * x] @ kernel[0, 0] + bias
                small[y, x] = features @ weights[:, target]
        big = reference.bilinear_resize(small, 8, 8)
        big = (big - big.min()) / (big.max() - big.min())
        np.testing.assert_allclose(got[n], big, rtol=1e-4, atol=1e-5)


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
    boxes = metrics.bounding_boxes(maps, threshold=0.2)
    np.testing.assert_array_equal(
        boxes, [[3, 1, 7, 5], [3, 4, 3, 4], [-1, -1, -1, -1], [0, 0, 0, 0]]
    )
    all_boxes = metrics.bounding_boxes(maps, threshold=0.2, component="all")
    np.testing.assert_array_equal(all_boxes[0], [0, 0, 7, 5])
    np.testing.assert_array_equal(all_boxes[3], [0, 0, 7, 5])
    loose = metrics.bounding_boxes(maps[1:2], threshold=0.05)
    np.testing.assert_array_equal(loose, [[0, 0, 7, 5]])
    for n in range(4):
        assert tuple(boxes[n]) == reference.largest_component_box(
            maps[n] >= 0.2 * maps[n].max() if maps[n].max() > 0 else maps[n] > 1
        )


def test_box_iou_by_hand():
    boxes = [[0, 0, 9, 9], [0, 0, 9, 9], [0, 0, 4, 4], [-1, -1, -1, -1], [3, 3, 3, 3]]
    truth = [[5, 0, 14, 9], [10, 10, 12, 12], [0, 0, 4, 4], [0, 0, 4, 4], [3, 3, 3, 3]]
    # 50 shared pixels of 150; disjoint; identical; empty; one shared pixel.
    np.testing.assert_allclose(
        metrics.box_iou(boxes, truth), [50 / 150, 0.0, 1.0, 0.0, 1.0]
    )
    for a, b, got in zip(boxes, truth, metrics.box_iou(boxes, truth), strict=True):
        np.testing.assert_allclose(got, reference.iou(a, b))


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
    score = metrics.localization_score(_intensity_model(16), images, truth, labels)
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
    score = metrics.localization_score(
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


def test_rejects_heads_that_are_not_linear():
    inputs = keras.Input((6, 6, 2))
    x = keras.layers.Conv2D(3, 3)(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dense(5, activation="relu")(x)
    outputs = keras.layers.Dense(2)(x)
    model = keras.Model(inputs, outputs)
    with pytest.raises(ValueError, match="classifier"):
        metrics.class_activation_maps(model, _images(0))
    no_pool = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="GlobalAveragePooling2D"):
        metrics.class_activation_maps(no_pool, np.ones((1, 4), "float32"))


def test_explicit_classifier_layer():
    model, images = _gap_model(), _images(2)
    by_name = metrics.class_activation_maps(
        model, images, classifier_layer="classifier"
    )
    automatic = metrics.class_activation_maps(model, images)
    np.testing.assert_allclose(by_name, automatic)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"method": "score_cam"}, ValueError, "method"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"upsample": 1}, TypeError, "upsample"),
    ],
)
def test_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        metrics.class_activation_maps(_gap_model(), _images(0), **kwargs)


def test_invalid_box_arguments():
    with pytest.raises(ValueError, match="threshold"):
        metrics.bounding_boxes(np.zeros((1, 3, 3)), threshold=1.5)
    with pytest.raises(ValueError, match="component"):
        metrics.bounding_boxes(np.zeros((1, 3, 3)), component="first")
    with pytest.raises(ValueError, match="maps"):
        metrics.bounding_boxes(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="ground_truth"):
        metrics.box_iou([[0, 0, 1, 1]], [[0, 0, 1, 1], [0, 0, 1, 1]])
