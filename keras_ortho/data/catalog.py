"""`load_dataset`: every loader of `keras_ortho.data` by name, for scripts and CLIs."""

import dataclasses
import os

from keras_ortho._names import DATASET_NAMES
from keras_ortho._validation import validate_choice
from keras_ortho._validation import validate_optional_path
from keras_ortho.data.cifar10_jpeg import demo_subset_path
from keras_ortho.data.cifar10_jpeg import load_cifar10_jpeg
from keras_ortho.data.tfds_datasets import load_cifar10
from keras_ortho.data.tfds_datasets import load_cifar100
from keras_ortho.data.tfds_datasets import load_svhn
from keras_ortho.data.tiny_imagenet import load_tiny_imagenet

_FOLDER_LOADERS = {
    "cifar10": load_cifar10,
    "cifar100": load_cifar100,
    "svhn": load_svhn,
    "tiny_imagenet": load_tiny_imagenet,
}


def load_dataset(name, data_dir=None, **kwargs):
    """Loads a dataset by name, as a `--dataset`/`--data-dir` pair would.

    - `"cifar10"`, `"cifar100"`, `"svhn"`: `load_cifar10`, `load_cifar100`,
      `load_svhn`; `data_dir` is the tfds data directory.
    - `"tiny_imagenet"`: `load_tiny_imagenet`; `data_dir` is the
      `tiny-imagenet-200` folder or its parent.
    - `"cifar10_jpeg"`: `load_cifar10_jpeg`; `data_dir` (required) is the
      `.npz` file or a folder holding `cifar10_jpeg.npz`.
    - `"cifar10_subset"`: `load_cifar10_jpeg`; `data_dir` is the `.npz` file
      or a folder holding `cifar10_subset.npz`, by default
      `demo_subset_path()`.

    Args:
        name: one of the names above.
        data_dir: where the local copy is, as in the table; `None` for the
            loader's default.
        **kwargs: passed on to the loader (`cache_dir`, `label_mode`,
            `include_extra`, `download`, `with_boxes`); the two JPEG names
            take none.

    Returns:
        The loader's `Dataset`.

    Raises:
        ValueError: for an unknown `name`, or `"cifar10_jpeg"` without
            `data_dir`.
        TypeError: for keyword arguments the loader does not take.
        FileNotFoundError: for a JPEG name whose `data_dir` holds no file.
        ConnectionError: for a tfds name with neither a cache nor a prepared
            copy, offline; the message names the offline alternatives.

    Example:
        ```python
        data = keras_ortho.data.load_dataset("cifar10_subset")  # offline, committed
        data.x_train.shape  # (5000, 32, 32, 3)
        ```
    """
    name = validate_choice(name, "name", DATASET_NAMES)
    data_dir = validate_optional_path(data_dir, "data_dir")
    if name in _FOLDER_LOADERS:
        return _FOLDER_LOADERS[name](data_dir=data_dir, **kwargs)
    if kwargs:
        raise TypeError(
            f"load_dataset({name!r}) takes no keyword arguments besides "
            f"`data_dir`. Received: {sorted(kwargs)}"
        )
    if name == "cifar10_subset" and data_dir is None:
        path = demo_subset_path()
    elif data_dir is None:
        raise ValueError(
            "load_dataset('cifar10_jpeg') needs `data_dir`: the CIFAR-10 JPEG "
            ".npz file or the folder holding cifar10_jpeg.npz. Received: "
            "data_dir=None"
        )
    else:
        path = data_dir
        if os.path.isdir(data_dir):
            path = os.path.join(data_dir, f"{name}.npz")
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"Invalid value for argument `data_dir` (`--data-dir`): expected "
                f"the CIFAR-10 JPEG .npz file or a folder holding {name}.npz. "
                f"Received: data_dir={data_dir!r}; there is no file {path!r}."
            )
    return dataclasses.replace(load_cifar10_jpeg(path), name=name)
