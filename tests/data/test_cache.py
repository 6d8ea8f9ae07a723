"""The `.npz` cache: faithful round trip, atomic writes, stale formats ignored."""

import os

import numpy as np
import pytest

from keras_ortho import data
from keras_ortho.data import _cache


def make_dataset(boxes):
    rng = np.random.default_rng(0)
    return data.Dataset(
        x_train=rng.integers(0, 256, (5, 4, 4, 3), dtype=np.uint8),
        y_train=np.array([0, 1, 2, 1, 0], np.int64),
        x_test=rng.integers(0, 256, (2, 4, 4, 3), dtype=np.uint8),
        y_test=np.array([2, 0], np.int64),
        num_classes=3,
        class_names=("cat", "dog", "fox") if boxes else None,
        name="toy",
        boxes_train=np.arange(20, dtype=np.int64).reshape(5, 4) if boxes else None,
        boxes_test=np.arange(8, dtype=np.int64).reshape(2, 4) if boxes else None,
    )


@pytest.mark.parametrize("boxes", [False, True])
def test_round_trip(tmp_path, boxes):
    dataset = make_dataset(boxes)
    path = _cache.cache_path("toy", tmp_path / "new" / "dir")
    _cache.write_cache(path, dataset)
    loaded = _cache.read_cache(path)
    for field in (
        "x_train",
        "y_train",
        "x_test",
        "y_test",
        "boxes_train",
        "boxes_test",
    ):
        want, got = getattr(dataset, field), getattr(loaded, field)
        if want is None:
            assert got is None
        else:
            np.testing.assert_array_equal(got, want)
            assert got.dtype == want.dtype
    assert loaded.num_classes == 3
    assert loaded.class_names == dataset.class_names
    assert loaded.name == "toy"


def test_missing_file_reads_as_none(tmp_path):
    assert _cache.read_cache(str(tmp_path / "absent.npz")) is None


def test_other_format_version_is_ignored(tmp_path):
    path = str(tmp_path / "old.npz")
    np.savez(path, format_version=np.int64(0))
    assert _cache.read_cache(path) is None


def test_failed_write_leaves_no_file(tmp_path, monkeypatch):
    def failing_savez(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", failing_savez)
    with pytest.raises(OSError, match="disk full"):
        _cache.write_cache(str(tmp_path / "toy.npz"), make_dataset(False))
    assert os.listdir(tmp_path) == []


def test_default_dir_follows_keras_home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    assert _cache.cache_path("x", None) == os.path.join(
        str(tmp_path), "datasets", "keras_ortho", "x.npz"
    )
