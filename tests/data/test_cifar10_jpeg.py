"""The CIFAR-10 JPEG loader on the committed subset, and the script that made it."""

import importlib.util
import io
import pathlib

import numpy as np
import pytest
from PIL import Image

from keras_ortho import data
from keras_ortho.data import cifar10_jpeg

REPO = pathlib.Path(__file__).resolve().parents[2]
SUBSET = REPO / "examples" / "data" / "cifar10_subset.npz"
CLASS_NAMES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)


@pytest.fixture(scope="module")
def subset():
    return data.load_cifar10_jpeg(SUBSET)


def pillow_decode(stored, split, index):
    offsets = stored[f"{split}_offsets"]
    jpeg = stored[f"{split}_jpeg"][offsets[index] : offsets[index + 1]]
    with Image.open(io.BytesIO(jpeg.tobytes())) as image:
        assert image.size == (32, 32)
        return np.asarray(image.convert("RGB"))


def test_demo_subset_path_is_the_committed_file():
    assert data.demo_subset_path() == SUBSET
    assert SUBSET.stat().st_size <= 8 * 2**20


def test_subset_shapes_dtypes_and_class_balance(subset):
    assert subset.x_train.shape == (5000, 32, 32, 3)
    assert subset.x_test.shape == (1000, 32, 32, 3)
    assert subset.x_train.dtype == np.uint8 and subset.x_test.dtype == np.uint8
    assert subset.y_train.dtype == np.int64 and subset.y_test.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(subset.y_train), [500] * 10)
    np.testing.assert_array_equal(np.bincount(subset.y_test), [100] * 10)
    assert subset.num_classes == 10
    assert subset.class_names == CLASS_NAMES
    assert subset.name == "cifar10_jpeg"


@pytest.mark.parametrize(
    "split, indices", [("train", [0, 1, 2499, 4999]), ("test", [0, 537, 999])]
)
def test_images_and_labels_match_an_independent_decode(subset, split, indices):
    x = subset.x_train if split == "train" else subset.x_test
    y = subset.y_train if split == "train" else subset.y_test
    with np.load(SUBSET) as stored:
        for i in indices:
            np.testing.assert_array_equal(x[i], pillow_decode(stored, split, i))
            assert y[i] == stored[f"{split}_labels"][i]


def test_missing_key_is_an_error(tmp_path):
    path = tmp_path / "broken.npz"
    with np.load(SUBSET) as stored:
        np.savez(path, **{k: stored[k] for k in stored.files if k != "test_offsets"})
    with pytest.raises(ValueError, match="test_offsets"):
        data.load_cifar10_jpeg(path)


def test_offsets_that_do_not_fit_the_labels_are_an_error(tmp_path):
    path = tmp_path / "broken.npz"
    with np.load(SUBSET) as stored:
        arrays = {k: stored[k] for k in stored.files}
    arrays["train_labels"] = arrays["train_labels"][:-1]
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match="train_offsets"):
        data.load_cifar10_jpeg(path)


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_a_path_that_is_not_a_file_names_the_argument_and_path(tmp_path, kind):
    path = tmp_path / "absent.npz" if kind == "missing" else tmp_path
    with pytest.raises(FileNotFoundError, match="`path`") as raised:
        data.load_cifar10_jpeg(path)
    assert repr(str(path)) in str(raised.value)


def test_path_type_is_validated():
    with pytest.raises(TypeError, match="path"):
        data.load_cifar10_jpeg(None)


def test_demo_subset_path_outside_a_checkout_explains_what_to_do(tmp_path, monkeypatch):
    fake_module = tmp_path / "site-packages" / "keras_ortho" / "data" / "x.py"
    monkeypatch.setattr(cifar10_jpeg, "__file__", str(fake_module))
    with pytest.raises(FileNotFoundError, match="load_cifar10_jpeg"):
        data.demo_subset_path()


def test_subset_script_keeps_the_first_images_of_each_class_verbatim():
    spec = importlib.util.spec_from_file_location(
        "make_cifar10_subset", REPO / "examples" / "data" / "make_cifar10_subset.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    files = [bytes([k]) * (k + 1) for k in range(7)]
    labels = np.array([0, 0, 0, 1, 2, 2, 2], dtype=np.uint8)
    offsets = np.concatenate([[0], np.cumsum([len(f) for f in files])])
    jpeg = np.frombuffer(b"".join(files), dtype=np.uint8)

    new_jpeg, new_offsets, new_labels = script.select_split(jpeg, offsets, labels, 2)

    kept = [0, 1, 3, 4, 5]
    np.testing.assert_array_equal(new_labels, labels[kept])
    assert new_jpeg.tobytes() == b"".join(files[i] for i in kept)
    assert new_offsets.dtype == offsets.dtype
    for position, i in enumerate(kept):
        piece = new_jpeg[new_offsets[position] : new_offsets[position + 1]]
        assert piece.tobytes() == files[i]
