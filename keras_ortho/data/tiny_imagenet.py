"""Tiny ImageNet (Stanford CS231n) from its original zip layout, cached as `.npz`.

tfds has no Tiny ImageNet builder, so this module reads the folder that
`tiny-imagenet-200.zip` extracts to:

    tiny-imagenet-200/
        wnids.txt                      class ids, one per line
        words.txt                      id -> names (optional here)
        train/<wnid>/images/*.JPEG     training images
        train/<wnid>/<wnid>_boxes.txt  file, x0, y0, x1, y1 (tab-separated)
        val/images/*.JPEG              validation images
        val/val_annotations.txt        file, wnid, x0, y0, x1, y1

The unlabeled `test/` folder is not read.
"""

import dataclasses
import hashlib
import os

import keras
import numpy as np

from keras_ortho._validation import validate_bool
from keras_ortho._validation import validate_optional_path
from keras_ortho.data._cache import cache_path
from keras_ortho.data._cache import keras_home
from keras_ortho.data._cache import read_cache
from keras_ortho.data._cache import write_cache
from keras_ortho.data._jpeg import decode_rgb
from keras_ortho.data.dataset import Dataset

TINY_IMAGENET_URL = "http://cs231n.stanford.edu/tiny-imagenet-200.zip"
_FOLDER_NAME = "tiny-imagenet-200"
_IMAGE_SIZE = 64


def load_tiny_imagenet(data_dir=None, cache_dir=None, download=True, with_boxes=False):
    """Loads Tiny ImageNet: 200 classes of 64x64 RGB images.

    The full dataset has 100,000 training images (500 per class) and 10,000
    validation images (50 per class); the validation split is returned as
    `x_test`/`y_test`, with labels from `val/val_annotations.txt`. Label `i` is
    the class on line `i` of `wnids.txt` (the file's order, which is sorted in
    the official zip). `class_names` are the names in `words.txt`, or the
    wnids when that file is absent. Grayscale JPEGs (a few hundred in the full
    set) are converted to RGB by repeating the channel.

    Training images are read in `wnids.txt` order, and within a class in the
    numeric order of their file names; validation images in the order of
    `val_annotations.txt`.

    The arrays are cached as `<cache_dir>/tiny_imagenet.npz` for the
    downloaded copy, or `tiny_imagenet_<hash of data_dir>.npz` for a local
    one, so later calls decode nothing.

    Args:
        data_dir: a local copy: the `tiny-imagenet-200` folder itself or a
            folder containing it. `None` uses the download.
        cache_dir: directory of the `.npz` cache; `None` uses
            `$KERAS_HOME/datasets/keras_ortho`.
        download: whether, with `data_dir=None`, the zip may be downloaded
            (about 240 MB, with `keras.utils.get_file` into
            `$KERAS_HOME/datasets`) when it is not there yet.
        with_boxes: whether to fill `boxes_train` and `boxes_test` with each
            image's bounding box `(x0, y0, x1, y1)`, in pixels, inclusive.

    Returns:
        A `Dataset` named `"tiny_imagenet"`, uint8 images `(n, 64, 64, 3)`.

    Raises:
        ValueError: if `data_dir` is not in the layout above, or if there is
            neither a `data_dir`, a cache nor permission to download.
        ConnectionError: if the download fails (offline, for instance).

    Example:
        <!-- not-run: reads the full dataset from the user's disk -->
        ```python
        data = keras_ortho.data.load_tiny_imagenet(
            data_dir="/data/tiny-imagenet-200", with_boxes=True
        )
        data.boxes_test[0]  # x0, y0, x1, y1 of the first validation image
        ```

    Reference:
        Le and Yang, "Tiny ImageNet Visual Recognition Challenge", Stanford
        CS231N, 2015.
    """
    data_dir = validate_optional_path(data_dir, "data_dir")
    cache_dir = validate_optional_path(cache_dir, "cache_dir")
    download = validate_bool(download, "download")
    with_boxes = validate_bool(with_boxes, "with_boxes")

    path = cache_path(_cache_stem(data_dir), cache_dir)
    dataset = read_cache(path)
    if dataset is None:
        dataset = _read_folder(_source_folder(data_dir, download))
        write_cache(path, dataset)
    if not with_boxes:
        dataset = dataclasses.replace(dataset, boxes_train=None, boxes_test=None)
    return dataset


def _read_folder(folder):
    """Decodes a `tiny-imagenet-200` folder into a `Dataset` with boxes."""
    wnids = _read_lines(os.path.join(folder, "wnids.txt"))
    label_of = {wnid: label for label, wnid in enumerate(wnids)}

    train_files, train_labels, train_boxes = [], [], []
    for wnid in wnids:
        class_dir = os.path.join(folder, "train", wnid)
        boxes = {
            row[0]: row[1:5]
            for row in _read_rows(os.path.join(class_dir, f"{wnid}_boxes.txt"))
        }
        for name in sorted(os.listdir(os.path.join(class_dir, "images")), key=_number):
            if name not in boxes:
                raise ValueError(
                    f"{class_dir}/{wnid}_boxes.txt has no box for image {name}."
                )
            train_files.append(os.path.join(class_dir, "images", name))
            train_labels.append(label_of[wnid])
            train_boxes.append([int(v) for v in boxes[name]])

    val_rows = _read_rows(os.path.join(folder, "val", "val_annotations.txt"))
    unknown = {row[1] for row in val_rows} - label_of.keys()
    if unknown:
        raise ValueError(
            "val/val_annotations.txt names classes missing from wnids.txt: "
            f"{sorted(unknown)}"
        )

    return Dataset(
        x_train=decode_rgb(train_files, _IMAGE_SIZE, _IMAGE_SIZE),
        y_train=np.array(train_labels, dtype=np.int64),
        x_test=decode_rgb(
            [os.path.join(folder, "val", "images", row[0]) for row in val_rows],
            _IMAGE_SIZE,
            _IMAGE_SIZE,
        ),
        y_test=np.array([label_of[row[1]] for row in val_rows], dtype=np.int64),
        num_classes=len(wnids),
        class_names=_class_names(folder, wnids),
        name="tiny_imagenet",
        boxes_train=np.array(train_boxes, dtype=np.int64).reshape(-1, 4),
        boxes_test=np.array(
            [[int(v) for v in row[2:6]] for row in val_rows], dtype=np.int64
        ).reshape(-1, 4),
    )


def _cache_stem(data_dir):
    if data_dir is None:
        return "tiny_imagenet"
    resolved = os.path.realpath(os.path.expanduser(data_dir))
    return f"tiny_imagenet_{hashlib.sha256(resolved.encode()).hexdigest()[:12]}"


def _source_folder(data_dir, download):
    """The `tiny-imagenet-200` folder to read, downloading it if allowed."""
    if data_dir is None:
        if not download:
            raise ValueError(
                "Tiny ImageNet is neither cached nor given: pass "
                "`data_dir` (the extracted `tiny-imagenet-200` folder) or "
                "`download=True`. Received: data_dir=None, download=False"
            )
        try:
            data_dir = keras.utils.get_file(
                fname=f"{_FOLDER_NAME}.zip",
                origin=TINY_IMAGENET_URL,
                extract=True,
                cache_dir=keras_home(),
            )
        # `get_file` reports a failed fetch as a bare `Exception`.
        except Exception as error:
            raise ConnectionError(
                f"Cannot download Tiny ImageNet from {TINY_IMAGENET_URL}: "
                f"{error}. Offline, pass the extracted `{_FOLDER_NAME}` folder "
                "as `data_dir=` (`--data-dir` on the command line)."
            ) from None
    data_dir = os.path.expanduser(data_dir)
    for folder in (data_dir, os.path.join(data_dir, _FOLDER_NAME)):
        if os.path.isfile(os.path.join(folder, "wnids.txt")):
            return folder
    raise ValueError(
        "Invalid value for argument `data_dir`: expected the extracted "
        f"`{_FOLDER_NAME}` folder (with wnids.txt, train/ and val/) or a folder "
        f"containing it. Received: data_dir={data_dir!r}"
    )


def _class_names(folder, wnids):
    words_path = os.path.join(folder, "words.txt")
    if not os.path.isfile(words_path):
        return tuple(wnids)
    words = {row[0]: row[1] for row in _read_rows(words_path)}
    return tuple(words.get(wnid, wnid) for wnid in wnids)


def _read_lines(path):
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]


def _read_rows(path):
    return [line.split("\t") for line in _read_lines(path)]


def _number(file_name):
    """Sort key: the integer after the last `_` (`n01443537_12.JPEG` -> 12)."""
    stem = os.path.splitext(file_name)[0]
    suffix = stem.rsplit("_", 1)[-1]
    return (int(suffix), file_name) if suffix.isdigit() else (-1, file_name)
