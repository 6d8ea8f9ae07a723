import numpy as np
import pytest

from keras_ortho import metrics
from tests.metrics import reference


def test_box_iou_by_hand():
    boxes = [[0, 0, 9, 9], [0, 0, 9, 9], [0, 0, 4, 4], [-1, -1, -1, -1], [3, 3, 3, 3]]
    truth = [[5, 0, 14, 9], [10, 10, 12, 12], [0, 0, 4, 4], [0, 0, 4, 4], [3, 3, 3, 3]]
    # 50 shared pixels of 150; disjoint; identical; empty; one shared pixel.
    np.testing.assert_allclose(
        metrics.box_iou(boxes, truth), [50 / 150, 0.0, 1.0, 0.0, 1.0]
    )
    for a, b, got in zip(boxes, truth, metrics.box_iou(boxes, truth), strict=True):
        np.testing.assert_allclose(got, reference.iou(a, b))


def test_invalid_boxes():
    with pytest.raises(ValueError, match="ground_truth"):
        metrics.box_iou([[0, 0, 1, 1]], [[0, 0, 1, 1], [0, 0, 1, 1]])
    with pytest.raises(ValueError, match="boxes"):
        metrics.box_iou([[0, 0, 1]], [[0, 0, 1, 1]])
