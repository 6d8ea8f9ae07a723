"""Box localisation of class activation maps: boxes around the thresholded
maps, and the GT-known and top-1 localisation accuracy of a
global-average-pooling classifier (by `keras_ortho.metrics.box_iou` with the
ground-truth boxes).

Boxes are `(x0, y0, x1, y1)` in inclusive pixel coordinates of the model's
input images, the convention of Tiny ImageNet's annotations; `(-1, -1, -1, -1)`
marks an empty box.
"""

import dataclasses

import numpy as np
from keras import ops

from keras_ortho._export import register_serializable
from keras_ortho._features import label_array
from keras_ortho._validation import validate_choice
from keras_ortho._validation import validate_float_in_range
from keras_ortho.diagnostics.class_activation_maps import maps_and_predictions
from keras_ortho.metrics.box_iou import EMPTY_BOX
from keras_ortho.metrics.box_iou import box_iou

BOX_COMPONENTS = ("largest", "all")


@register_serializable
def bounding_boxes(maps, threshold=0.2, component="largest"):
    """The box around the thresholded part of each map.

    A pixel is kept when `map >= threshold * max(map)` and `max(map) > 0`.
    With `component="largest"` the box encloses the largest 8-connected
    region of kept pixels (ties go to the region whose last pixel in raster
    order comes first); with `"all"`, every kept pixel.

    Args:
        maps: `(N, H, W)` maps, e.g. from `class_activation_maps`.
        threshold: `tau` in [0, 1] (0.2 is the common weakly supervised
            localisation default).
        component: `"largest"` or `"all"`.

    Returns:
        int NumPy boxes `(N, 4)`, `(x0, y0, x1, y1)` inclusive, with
        `(-1, -1, -1, -1)` where no pixel is kept.

    Example:

    ```python
    maps = np.zeros((1, 8, 8))
    maps[0, 2:5, 3:7] = 1.0  # e.g. class_activation_maps(model, images)
    boxes = keras_ortho.diagnostics.bounding_boxes(maps, threshold=0.2)
    # boxes: [[3, 2, 6, 4]]
    ```

    Reference:
        Zhou et al., CVPR 2016; J. Choe et al., "Evaluating Weakly Supervised
        Object Localization Methods Right", CVPR 2020 (largest component).
    """
    threshold = validate_float_in_range(threshold, "threshold", 0, 1)
    component = validate_choice(component, "component", BOX_COMPONENTS)
    maps = np.asarray(ops.convert_to_numpy(maps), "float64")
    if maps.ndim != 3:
        raise ValueError(
            "Invalid `maps`: expected a batch of maps (N, height, width). "
            f"Received: maps of shape {maps.shape}"
        )
    peak = maps.max(axis=(1, 2), keepdims=True)
    masks = (maps >= threshold * peak) & (peak > 0)
    if component == "largest":
        masks = _largest_components(masks)
    boxes = np.full((len(maps), 4), EMPTY_BOX[0], dtype="int64")
    for n, mask in enumerate(masks):
        rows = np.flatnonzero(mask.any(axis=1))
        cols = np.flatnonzero(mask.any(axis=0))
        if rows.size:
            boxes[n] = (cols[0], rows[0], cols[-1], rows[-1])
    return boxes


def _largest_components(masks):
    """Keeps the largest 8-connected region of each mask.

    Every kept pixel starts with its own raster index + 1 and repeatedly takes
    the largest index in its 3x3 neighbourhood; when nothing changes, each
    region carries one label, its largest pixel index.
    """
    num, height, width = masks.shape
    labels = np.where(masks, np.arange(1, height * width + 1).reshape(height, width), 0)
    while True:
        padded = np.pad(labels, ((0, 0), (1, 1), (1, 1)))
        neighbourhood = np.max(
            [
                padded[:, dy : dy + height, dx : dx + width]
                for dy in range(3)
                for dx in range(3)
            ],
            axis=0,
        )
        updated = np.where(masks, neighbourhood, 0)
        if np.array_equal(updated, labels):
            break
        labels = updated
    largest = np.zeros_like(masks)
    for n in range(num):
        sizes = np.bincount(labels[n].ravel(), minlength=2)
        sizes[0] = 0
        if sizes.max() > 0:
            largest[n] = labels[n] == np.argmax(sizes)
    return largest


@dataclasses.dataclass(frozen=True)
class LocalizationResult:
    """Box localisation of class activation maps.

    Attributes:
        gt_known_accuracy: the fraction of images whose true-class box has
            IoU >= `iou_threshold` with the ground truth.
        top1_accuracy: the fraction that are also classified correctly.
        iou: float `(N,)`, the IoU per image.
        boxes: int `(N, 4)`, the predicted boxes.
        predicted_classes: int `(N,)`, the model's top-1 classes.
    """

    gt_known_accuracy: float
    top1_accuracy: float
    iou: np.ndarray
    boxes: np.ndarray
    predicted_classes: np.ndarray


@register_serializable
def localization_score(
    model,
    images,
    ground_truth_boxes,
    labels,
    threshold=0.2,
    iou_threshold=0.5,
    method="cam",
    component="largest",
    classifier_layer=None,
    batch_size=64,
):
    """GT-known and top-1 localisation accuracy of a GAP model's CAMs.

    For each image the map of its true class is upsampled to the image size
    and min-max normalised (`class_activation_maps`), boxed
    (`bounding_boxes`) and compared with the ground-truth box (`box_iou`):

    ```
    GT-known = mean_i [IoU_i >= iou_threshold]
    top-1    = mean_i [IoU_i >= iou_threshold and argmax_k logit_ik = y_i]
    ```

    Args:
        model: a GAP classifier (see `class_activation_maps`).
        images: `(N, H, W, channels)` images, as the model takes them.
        ground_truth_boxes: `(N, 4)` boxes `(x0, y0, x1, y1)`, inclusive, in
            the images' pixel coordinates (rescale them if the images were
            resized; Tiny ImageNet's boxes are for its 64x64 images).
        labels: the true classes, integer `(N,)` or one-hot `(N, K)`.
        threshold: the box threshold `tau` in [0, 1].
        iou_threshold: the IoU counted as a hit, in [0, 1].
        method: `"cam"` or `"grad_cam"` (their normalised maps coincide
            wherever the CAM is positive).
        component: `"largest"` or `"all"` (see `bounding_boxes`).
        classifier_layer: see `class_activation_maps`.
        batch_size: images per forward pass.

    Returns:
        A `LocalizationResult`.

    Example:

    ```python
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(4)(x))
    images, labels = np.random.rand(4, 16, 16, 3), np.array([0, 1, 2, 3])
    boxes = np.array([[0, 0, 7, 7], [4, 4, 15, 15], [2, 0, 9, 12], [0, 8, 15, 15]])
    score = keras_ortho.diagnostics.localization_score(model, images, boxes, labels)
    print(score.gt_known_accuracy, score.top1_accuracy)
    ```

    Reference:
        Zhou et al., CVPR 2016; Choe et al., CVPR 2020 (GT-known and top-1
        localisation). The protocol of Choi, Som, Turaga (arXiv 2009.10762) is
        unavailable; this is the reconstruction of `research/os.md` section 4.3.
    """
    threshold = validate_float_in_range(threshold, "threshold", 0, 1)
    iou_threshold = validate_float_in_range(iou_threshold, "iou_threshold", 0, 1)
    labels = label_array(labels, len(images)).astype("int64")
    maps, predicted = maps_and_predictions(
        model, images, labels, method, True, True, classifier_layer, batch_size
    )
    boxes = bounding_boxes(maps, threshold=threshold, component=component)
    iou = box_iou(boxes, ground_truth_boxes)
    hit = iou >= iou_threshold
    return LocalizationResult(
        gt_known_accuracy=float(hit.mean()),
        top1_accuracy=float((hit & (predicted == labels)).mean()),
        iou=iou,
        boxes=boxes,
        predicted_classes=predicted,
    )
