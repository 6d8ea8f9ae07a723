"""The `Dataset` result type."""

import dataclasses

import numpy as np
import pytest

from keras_ortho import data


def make_dataset(**overrides):
    fields = {
        "x_train": np.zeros((4, 8, 8, 3), np.uint8),
        "y_train": np.array([0, 1, 2, 0]),
        "x_test": np.ones((2, 8, 8, 3), np.uint8),
        "y_test": np.array([2, 1]),
        "num_classes": 3,
        "class_names": ("a", "b", "c"),
        "name": "toy",
    }
    return data.Dataset(**{**fields, **overrides})


def test_train_and_test_pairs():
    dataset = make_dataset()
    assert dataset.train[0] is dataset.x_train and dataset.train[1] is dataset.y_train
    assert dataset.test[0] is dataset.x_test and dataset.test[1] is dataset.y_test
    assert dataset.boxes_train is None and dataset.boxes_test is None


def test_repr_shows_shapes_not_pixels():
    assert repr(make_dataset()) == (
        "Dataset(name='toy', num_classes=3, x_train=(4, 8, 8, 3), x_test=(2, 8, 8, 3))"
    )
    boxes = np.zeros((4, 4), np.int64)
    assert repr(make_dataset(boxes_train=boxes, boxes_test=boxes[:2])).endswith(
        ", with boxes)"
    )


def test_is_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        make_dataset().name = "other"
