"""Intersection over union of boxes in inclusive pixel coordinates.

Boxes are `(x0, y0, x1, y1)` in inclusive pixel coordinates, the convention
of Tiny ImageNet's annotations; `(-1, -1, -1, -1)` marks an empty box.
"""

import numpy as np
from keras import ops

from keras_ortho._export import register_serializable

EMPTY_BOX = (-1, -1, -1, -1)


@register_serializable
def box_iou(boxes, ground_truth):
    """Intersection over union of paired boxes, in inclusive pixel coordinates.

    ```
    area(x0, y0, x1, y1) = (x1 - x0 + 1) (y1 - y0 + 1)
    IoU = area(A ∩ B) / (area(A) + area(B) - area(A ∩ B))
    ```

    An empty box `(-1, -1, -1, -1)` has IoU 0 with everything.

    Args:
        boxes: `(N, 4)` boxes `(x0, y0, x1, y1)`.
        ground_truth: `(N, 4)` boxes, paired with `boxes`.

    Returns:
        float NumPy IoUs `(N,)`.

    Example:

    ```python
    iou = keras_ortho.metrics.box_iou([[0, 0, 9, 9]], [[5, 0, 14, 9]])  # 1/3
    ```
    """
    boxes = _box_array(boxes, "boxes")
    ground_truth = _box_array(ground_truth, "ground_truth")
    if boxes.shape != ground_truth.shape:
        raise ValueError(
            "Invalid `ground_truth`: expected one box per box in `boxes` "
            f"{boxes.shape}. Received: ground_truth of shape {ground_truth.shape}"
        )
    low = np.maximum(boxes[:, :2], ground_truth[:, :2])
    high = np.minimum(boxes[:, 2:], ground_truth[:, 2:])
    intersection = np.prod(np.clip(high - low + 1, 0, None), axis=1)
    union = _area(boxes) + _area(ground_truth) - intersection
    empty = np.all(boxes == EMPTY_BOX, axis=1) | np.all(
        ground_truth == EMPTY_BOX, axis=1
    )
    return np.where(empty | (union <= 0), 0.0, intersection / np.maximum(union, 1))


def _area(boxes):
    return np.prod(np.clip(boxes[:, 2:] - boxes[:, :2] + 1, 0, None), axis=1)


def _box_array(boxes, name):
    boxes = np.asarray(ops.convert_to_numpy(boxes)).astype("int64")
    if boxes.ndim != 2 or boxes.shape[1] != 4:
        raise ValueError(
            f"Invalid `{name}`: expected boxes of shape (N, 4) as (x0, y0, x1, "
            f"y1). Received: {name} of shape {boxes.shape}"
        )
    return boxes
