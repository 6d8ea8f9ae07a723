"""`load_dataset` dispatches each name to its loader with the right arguments."""

import numpy as np
import pytest

from keras_ortho import data
from tests.data import _tfds_mock
from tests.data.test_cifar10_jpeg import SUBSET
from tests.data.test_cifar10_jpeg import pillow_decode
from tests.data.test_tiny_imagenet import SAMPLE


def assert_same_arrays(a, b):
    for field in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


def test_names():
    assert data.DATASET_NAMES == (
        "cifar10",
        "cifar100",
        "svhn",
        "tiny_imagenet",
        "cifar10_jpeg",
        "cifar10_subset",
    )


def test_cifar10_subset_defaults_to_the_committed_file():
    dataset = data.load_dataset("cifar10_subset")
    assert dataset.name == "cifar10_subset"
    assert dataset.x_train.shape == (5000, 32, 32, 3)
    with np.load(SUBSET) as stored:
        np.testing.assert_array_equal(
            dataset.x_test[-1], pillow_decode(stored, "test", 999)
        )


def test_cifar10_jpeg_reads_a_file_or_a_folder(tmp_path):
    with np.load(SUBSET) as stored:
        small = {"class_names": stored["class_names"]}
        for split, n in (("train", 12), ("test", 5)):
            offsets = stored[f"{split}_offsets"][: n + 1]
            small[f"{split}_offsets"] = offsets
            small[f"{split}_jpeg"] = stored[f"{split}_jpeg"][: offsets[-1]]
            small[f"{split}_labels"] = stored[f"{split}_labels"][:n]
    np.savez(tmp_path / "cifar10_jpeg.npz", **small)

    from_folder = data.load_dataset("cifar10_jpeg", data_dir=tmp_path)
    from_file = data.load_dataset(
        "cifar10_jpeg", data_dir=tmp_path / "cifar10_jpeg.npz"
    )
    assert from_folder.name == from_file.name == "cifar10_jpeg"
    assert_same_arrays(from_folder, from_file)
    assert from_file.x_train.shape == (12, 32, 32, 3)
    np.testing.assert_array_equal(from_file.y_test, small["test_labels"])


def test_cifar10_jpeg_needs_data_dir():
    with pytest.raises(ValueError, match="data_dir"):
        data.load_dataset("cifar10_jpeg")


def test_jpeg_names_take_no_loader_arguments():
    with pytest.raises(TypeError, match="cache_dir"):
        data.load_dataset("cifar10_subset", cache_dir="/tmp")


def test_tiny_imagenet_passes_data_dir_and_kwargs(tmp_path):
    dataset = data.load_dataset(
        "tiny_imagenet", data_dir=SAMPLE, cache_dir=tmp_path, with_boxes=True
    )
    assert dataset.x_train.shape == (200, 64, 64, 3)
    assert dataset.boxes_test.shape == (500, 4)


def test_tfds_names_pass_kwargs(tmp_path):
    with _tfds_mock.prepared_mock_data(3):
        svhn = data.load_dataset("svhn", cache_dir=tmp_path, include_extra=True)
        cifar100 = data.load_dataset(
            "cifar100", cache_dir=tmp_path, label_mode="coarse"
        )
    assert svhn.name == "svhn" and len(svhn.y_train) == 6
    assert cifar100.name == "cifar100" and cifar100.num_classes == 20


def test_cifar10_offline_fails_at_once_naming_every_alternative(tmp_path):
    with _tfds_mock.offline(), pytest.raises(ConnectionError) as raised:
        data.load_dataset("cifar10", data_dir=tmp_path, cache_dir=tmp_path)
    message = str(raised.value)
    for part in ("--data-dir", "`data_dir=`", "cifar10_jpeg", "cifar10_subset"):
        assert part in message


@pytest.mark.parametrize("missing", ["folder", "file"])
def test_a_missing_jpeg_file_names_data_dir_and_the_path(tmp_path, missing):
    data_dir = tmp_path if missing == "folder" else tmp_path / "nothing.npz"
    with pytest.raises(FileNotFoundError, match="`data_dir`") as raised:
        data.load_dataset("cifar10_jpeg", data_dir=data_dir)
    assert str(data_dir) in str(raised.value)


def test_unknown_name_lists_the_choices():
    with pytest.raises(ValueError, match="tiny_imagenet"):
        data.load_dataset("imagenet")
