"""The `.npz` cache that lets a loader's second call skip decoding and TensorFlow.

A cache file holds one `Dataset`'s arrays plus its metadata, and only NumPy reads
it back. Files are written to a temporary name and renamed into place, so an
interrupted run never leaves a truncated cache behind.
"""

import os
import tempfile

import numpy as np

from keras_ortho.data.dataset import Dataset

# Bumped whenever the stored keys change; files with another version are
# ignored and rewritten.
_FORMAT_VERSION = 1


def keras_home():
    """`$KERAS_HOME`, else `~/.keras`: where Keras keeps its config and files."""
    return os.path.expanduser(os.environ.get("KERAS_HOME", os.path.join("~", ".keras")))


def default_cache_dir():
    """`<keras home>/datasets/keras_ortho`, beside `keras.utils.get_file`'s files."""
    return os.path.join(keras_home(), "datasets", "keras_ortho")


def cache_path(stem, cache_dir):
    """The cache file for `stem` under `cache_dir` (default directory if None)."""
    directory = default_cache_dir() if cache_dir is None else cache_dir
    return os.path.join(directory, f"{stem}.npz")


def read_cache(path):
    """Returns the `Dataset` stored at `path`, or None if there is none to use."""
    if not os.path.isfile(path):
        return None
    with np.load(path, allow_pickle=False) as stored:
        if int(stored["format_version"]) != _FORMAT_VERSION:
            return None
        return Dataset(
            x_train=stored["x_train"],
            y_train=stored["y_train"],
            x_test=stored["x_test"],
            y_test=stored["y_test"],
            num_classes=int(stored["num_classes"]),
            class_names=(
                tuple(str(c) for c in stored["class_names"])
                if "class_names" in stored
                else None
            ),
            name=str(stored["name"]),
            boxes_train=stored.get("boxes_train"),
            boxes_test=stored.get("boxes_test"),
        )


def write_cache(path, dataset):
    """Stores `dataset` at `path`, creating its directory."""
    arrays = {
        "format_version": np.int64(_FORMAT_VERSION),
        "x_train": dataset.x_train,
        "y_train": dataset.y_train,
        "x_test": dataset.x_test,
        "y_test": dataset.y_test,
        "num_classes": np.int64(dataset.num_classes),
        "name": np.str_(dataset.name),
    }
    if dataset.class_names is not None:
        arrays["class_names"] = np.array(dataset.class_names, dtype=str)
    if dataset.boxes_train is not None:
        arrays["boxes_train"] = dataset.boxes_train
        arrays["boxes_test"] = dataset.boxes_test
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=directory, suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as f:
            np.savez(f, **arrays)
        os.replace(temporary, path)
    except BaseException:
        os.remove(temporary)
        raise
