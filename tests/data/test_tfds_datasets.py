"""The tfds loaders, run for real against `tfds.testing.mock_data` (no network)."""

import os
import sys

import numpy as np
import pytest
import tensorflow_datasets as tfds

from keras_ortho import data
from tests.data import _tfds_mock

NUM_EXAMPLES = 5

# loader, kwargs, tfds name, train splits, label feature, cache file, name, classes
CASES = {
    "cifar10": (
        data.load_cifar10,
        {},
        "cifar10",
        ("train",),
        "label",
        "cifar10.npz",
        "cifar10",
        10,
    ),
    "cifar100_fine": (
        data.load_cifar100,
        {},
        "cifar100",
        ("train",),
        "label",
        "cifar100_fine.npz",
        "cifar100",
        100,
    ),
    "cifar100_coarse": (
        data.load_cifar100,
        {"label_mode": "coarse"},
        "cifar100",
        ("train",),
        "coarse_label",
        "cifar100_coarse.npz",
        "cifar100",
        20,
    ),
    "svhn": (
        data.load_svhn,
        {},
        "svhn_cropped",
        ("train",),
        "label",
        "svhn_cropped.npz",
        "svhn",
        10,
    ),
    "svhn_extra": (
        data.load_svhn,
        {"include_extra": True},
        "svhn_cropped",
        ("train", "extra"),
        "label",
        "svhn_cropped_extra.npz",
        "svhn",
        10,
    ),
}


@pytest.fixture
def mocked_tfds():
    with _tfds_mock.prepared_mock_data(NUM_EXAMPLES):
        yield


def tfds_split(name, split, label_key):
    """The mocked split read directly, example by example."""
    examples = list(tfds.as_numpy(tfds.load(name, split=split)))
    images = np.stack([e["image"] for e in examples])
    labels = np.array([e[label_key] for e in examples])
    return images, labels


def forbid_tensorflow(monkeypatch):
    """Makes `import tensorflow_datasets` and `import tensorflow` fail."""
    monkeypatch.setitem(sys.modules, "tensorflow_datasets", None)
    monkeypatch.setitem(sys.modules, "tensorflow", None)


@pytest.mark.parametrize("case", CASES)
def test_loader_returns_the_tfds_splits_and_reloads_from_cache_without_tf(
    case, mocked_tfds, tmp_path, monkeypatch
):
    loader, kwargs, tfds_name, train_splits, label_key, file_name, name, classes = (
        CASES[case]
    )
    dataset = loader(cache_dir=tmp_path, **kwargs)

    train_parts = [tfds_split(tfds_name, s, label_key) for s in train_splits]
    want_x_test, want_y_test = tfds_split(tfds_name, "test", label_key)
    np.testing.assert_array_equal(
        dataset.x_train, np.concatenate([x for x, _ in train_parts])
    )
    np.testing.assert_array_equal(
        dataset.y_train, np.concatenate([y for _, y in train_parts])
    )
    np.testing.assert_array_equal(dataset.x_test, want_x_test)
    np.testing.assert_array_equal(dataset.y_test, want_y_test)
    n_train = NUM_EXAMPLES * len(train_splits)
    assert dataset.x_train.shape == (n_train, 32, 32, 3)
    assert dataset.x_test.shape == (NUM_EXAMPLES, 32, 32, 3)
    assert dataset.x_train.dtype == np.uint8 and dataset.x_test.dtype == np.uint8
    assert dataset.y_train.dtype == np.int64 and dataset.y_test.dtype == np.int64
    for labels in (dataset.y_train, dataset.y_test):
        assert labels.min() >= 0 and labels.max() < classes
    assert dataset.num_classes == classes
    assert len(dataset.class_names) == classes
    assert dataset.name == name
    assert dataset.boxes_train is None and dataset.boxes_test is None
    assert sorted(os.listdir(tmp_path)) == [file_name]

    forbid_tensorflow(monkeypatch)
    cached = loader(cache_dir=tmp_path, **kwargs)
    for field in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(cached, field), getattr(dataset, field))
        assert getattr(cached, field).dtype == getattr(dataset, field).dtype
    assert cached.num_classes == classes
    assert cached.class_names == dataset.class_names
    assert cached.name == name


def test_default_cache_dir_is_under_keras_home(mocked_tfds, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    data.load_cifar10()
    assert os.listdir(tmp_path / "datasets" / "keras_ortho") == ["cifar10.npz"]


@pytest.mark.parametrize("case", CASES)
def test_offline_without_a_prepared_copy_fails_at_once_naming_the_alternatives(
    case, tmp_path
):
    # The test is offline by construction: requests fail at once and tfds may
    # not download, so it cannot wait on the network whatever the machine.
    loader, kwargs, tfds_name, *_ = CASES[case]
    with _tfds_mock.offline(), pytest.raises(ConnectionError) as raised:
        loader(data_dir=tmp_path / "tfds", cache_dir=tmp_path / "cache", **kwargs)
    message = str(raised.value)
    for part in (f"`{tfds_name}`", str(tmp_path / "tfds"), "`data_dir=`", "--data-dir"):
        assert part in message
    cifar10_alternatives = ("load_cifar10_jpeg", "cifar10_jpeg", "cifar10_subset")
    for part in cifar10_alternatives:
        assert (part in message) == (case == "cifar10")
    assert raised.value.__cause__ is None
    assert not (tmp_path / "cache").exists()


def test_download_false_fails_without_network_naming_the_alternatives(tmp_path):
    with _tfds_mock.offline(), pytest.raises(FileNotFoundError) as raised:
        data.load_cifar10(
            data_dir=tmp_path / "tfds", cache_dir=tmp_path / "cache", download=False
        )
    message = str(raised.value)
    assert "download=False" in message and "--data-dir" in message
    assert "cifar10_subset" in message


def test_missing_tensorflow_datasets_names_the_extra(tmp_path, monkeypatch):
    forbid_tensorflow(monkeypatch)
    with pytest.raises(ImportError, match=r"pip install keras-ortho\[datasets"):
        data.load_svhn(cache_dir=tmp_path)


def test_arguments_are_validated(tmp_path):
    with pytest.raises(ValueError, match="label_mode"):
        data.load_cifar100(cache_dir=tmp_path, label_mode="medium")
    with pytest.raises(TypeError, match="include_extra"):
        data.load_svhn(cache_dir=tmp_path, include_extra="yes")
    with pytest.raises(TypeError, match="cache_dir"):
        data.load_cifar10(cache_dir=3)
    with pytest.raises(TypeError, match="data_dir"):
        data.load_cifar10(data_dir=["a"], cache_dir=tmp_path)
    with pytest.raises(TypeError, match="download"):
        data.load_svhn(cache_dir=tmp_path, download="no")
