"""The Tiny ImageNet loader on a real 10-class sample in the zip's layout.

`tiny-imagenet-200-sample/` is an unmodified excerpt of `tiny-imagenet-200.zip`:
for the first 10 wnids (sorted), training images `<wnid>_0..19.JPEG` with their
boxes, and all 500 validation images with their annotations.
"""

import os
import pathlib
import shutil
import sys

import keras
import numpy as np
import pytest
from PIL import Image

from keras_ortho import data

SAMPLE = pathlib.Path(__file__).parent / "tiny-imagenet-200-sample"
TRAIN_PER_CLASS = 20
GRAYSCALE_VAL_IMAGE = "val_1234.JPEG"


def read_lines(path):
    return [line for line in path.read_text().splitlines() if line.strip()]


def read_tsv(path):
    return [line.split("\t") for line in read_lines(path)]


@pytest.fixture(scope="module")
def expected():
    """Labels, boxes and pixels of the sample, parsed without the loader."""
    wnids = [line.strip() for line in read_lines(SAMPLE / "wnids.txt")]
    train_x, train_y, train_boxes = [], [], []
    for label, wnid in enumerate(wnids):
        boxes = {
            r[0]: r[1:] for r in read_tsv(SAMPLE / "train" / wnid / f"{wnid}_boxes.txt")
        }
        for k in range(TRAIN_PER_CLASS):
            file_name = f"{wnid}_{k}.JPEG"
            path = SAMPLE / "train" / wnid / "images" / file_name
            train_x.append(np.asarray(Image.open(path).convert("RGB")))
            train_y.append(label)
            train_boxes.append([int(v) for v in boxes[file_name]])
    annotations = read_tsv(SAMPLE / "val" / "val_annotations.txt")
    val_x = [
        np.asarray(Image.open(SAMPLE / "val" / "images" / r[0]).convert("RGB"))
        for r in annotations
    ]
    return {
        "wnids": wnids,
        "x_train": np.stack(train_x),
        "y_train": np.array(train_y),
        "boxes_train": np.array(train_boxes),
        "x_test": np.stack(val_x),
        "y_test": np.array([wnids.index(r[1]) for r in annotations]),
        "boxes_test": np.array([[int(v) for v in r[2:]] for r in annotations]),
        "val_files": [r[0] for r in annotations],
    }


def test_sample_matches_independent_parse(expected, tmp_path):
    dataset = data.load_tiny_imagenet(SAMPLE, cache_dir=tmp_path, with_boxes=True)

    assert dataset.x_train.shape == (200, 64, 64, 3)
    assert dataset.x_test.shape == (500, 64, 64, 3)
    assert dataset.x_train.dtype == np.uint8 and dataset.x_test.dtype == np.uint8
    assert dataset.y_train.dtype == np.int64 and dataset.y_test.dtype == np.int64
    for field in (
        "x_train",
        "y_train",
        "boxes_train",
        "x_test",
        "y_test",
        "boxes_test",
    ):
        np.testing.assert_array_equal(getattr(dataset, field), expected[field])
    np.testing.assert_array_equal(np.bincount(dataset.y_test), [50] * 10)
    assert dataset.boxes_train.shape == (200, 4) and dataset.boxes_test.shape == (
        500,
        4,
    )
    assert dataset.num_classes == 10
    assert dataset.name == "tiny_imagenet"
    assert dataset.class_names[0] == "goldfish, Carassius auratus"
    assert len(dataset.class_names) == 10


def test_grayscale_jpeg_becomes_rgb(expected, tmp_path):
    with Image.open(SAMPLE / "val" / "images" / GRAYSCALE_VAL_IMAGE) as image:
        assert image.mode == "L"
        gray = np.asarray(image)
    dataset = data.load_tiny_imagenet(SAMPLE, cache_dir=tmp_path)
    rgb = dataset.x_test[expected["val_files"].index(GRAYSCALE_VAL_IMAGE)]
    for channel in range(3):
        np.testing.assert_array_equal(rgb[..., channel], gray)


def test_parent_folder_and_cache_reused_without_the_files(tmp_path, monkeypatch):
    parent = tmp_path / "data"
    shutil.copytree(SAMPLE, parent / "tiny-imagenet-200")
    cache = tmp_path / "cache"
    first = data.load_tiny_imagenet(parent, cache_dir=cache, with_boxes=True)
    assert len(os.listdir(cache)) == 1

    shutil.rmtree(parent / "tiny-imagenet-200")
    monkeypatch.setitem(sys.modules, "PIL", None)
    again = data.load_tiny_imagenet(parent, cache_dir=cache, with_boxes=True)
    for field in (
        "x_train",
        "y_train",
        "boxes_train",
        "x_test",
        "y_test",
        "boxes_test",
    ):
        np.testing.assert_array_equal(getattr(again, field), getattr(first, field))
    assert again.class_names == first.class_names

    without_boxes = data.load_tiny_imagenet(parent, cache_dir=cache)
    assert without_boxes.boxes_train is None and without_boxes.boxes_test is None
    np.testing.assert_array_equal(without_boxes.x_test, first.x_test)


def test_download_goes_through_keras_get_file(expected, tmp_path, monkeypatch):
    calls = []

    def fake_get_file(**kwargs):
        calls.append(kwargs)
        return str(SAMPLE)

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(keras.utils, "get_file", fake_get_file)
    dataset = data.load_tiny_imagenet()
    assert calls == [
        {
            "fname": "tiny-imagenet-200.zip",
            "origin": "http://cs231n.stanford.edu/tiny-imagenet-200.zip",
            "extract": True,
            "cache_dir": str(tmp_path),
        }
    ]
    np.testing.assert_array_equal(dataset.y_test, expected["y_test"])
    assert os.listdir(tmp_path / "datasets" / "keras_ortho") == ["tiny_imagenet.npz"]


def test_a_failed_download_names_data_dir(tmp_path, monkeypatch):
    def offline_get_file(**kwargs):
        # What `get_file` raises when the fetch fails.
        raise Exception(f"URL fetch failure on {kwargs['origin']}: None -- offline")

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(keras.utils, "get_file", offline_get_file)
    with pytest.raises(ConnectionError, match="--data-dir") as raised:
        data.load_tiny_imagenet()
    assert "`data_dir=`" in str(raised.value)


def test_no_data_dir_and_no_download_is_an_error(tmp_path):
    with pytest.raises(ValueError, match="download"):
        data.load_tiny_imagenet(cache_dir=tmp_path, download=False)


def test_folder_in_another_layout_is_an_error(tmp_path):
    with pytest.raises(ValueError, match=r"wnids\.txt"):
        data.load_tiny_imagenet(tmp_path, cache_dir=tmp_path / "cache")


def test_arguments_are_validated(tmp_path):
    with pytest.raises(TypeError, match="with_boxes"):
        data.load_tiny_imagenet(SAMPLE, cache_dir=tmp_path, with_boxes=1)
    with pytest.raises(TypeError, match="download"):
        data.load_tiny_imagenet(SAMPLE, cache_dir=tmp_path, download="no")
    with pytest.raises(TypeError, match="data_dir"):
        data.load_tiny_imagenet(42, cache_dir=tmp_path)
