"""CIFAR-10, CIFAR-100 and SVHN from TensorFlow Datasets, cached as uint8 `.npz`.

The first call reads the tfds builder's splits (which needs
`tensorflow_datasets` and TensorFlow) and stores the arrays in the cache; every
later call reads only the cache, with NumPy.
"""

import numpy as np

from keras_ortho._validation import validate_bool
from keras_ortho._validation import validate_choice
from keras_ortho._validation import validate_optional_path
from keras_ortho.data._cache import cache_path
from keras_ortho.data._cache import read_cache
from keras_ortho.data._cache import write_cache
from keras_ortho.data.dataset import Dataset

CIFAR100_LABEL_MODES = ("fine", "coarse")
_BATCH_SIZE = 4096


def load_cifar10(data_dir=None, cache_dir=None):
    """Loads CIFAR-10: 50,000 training and 10,000 test 32x32 RGB images.

    Reads the tfds dataset `cifar10` (splits `train` and `test`) on the first
    call and caches it as `<cache_dir>/cifar10.npz`.

    Args:
        data_dir: tfds data directory holding (or receiving) the prepared
            dataset; `None` uses tfds' default (`~/tensorflow_datasets`).
        cache_dir: directory of the `.npz` cache; `None` uses
            `$KERAS_HOME/datasets/keras_ortho`.

    Returns:
        A `Dataset` with 10 classes (airplane ... truck), uint8 images and
        int64 labels.

    Raises:
        ImportError: if there is no cache yet and `tensorflow_datasets` is
            not installed.

    Example:
        ```python
        data = keras_ortho.data.load_cifar10()
        data.x_train.shape  # (50000, 32, 32, 3)
        ```

    Reference:
        Krizhevsky, "Learning Multiple Layers of Features from Tiny Images",
        2009.
    """
    return _load_tfds_dataset(
        tfds_name="cifar10",
        train_splits=("train",),
        label_key="label",
        data_dir=validate_optional_path(data_dir, "data_dir"),
        cache_dir=validate_optional_path(cache_dir, "cache_dir"),
        cache_stem="cifar10",
        name="cifar10",
    )


def load_cifar100(data_dir=None, cache_dir=None, label_mode="fine"):
    """Loads CIFAR-100: 50,000 training and 10,000 test 32x32 RGB images.

    Reads the tfds dataset `cifar100` (splits `train` and `test`) on the first
    call and caches it as `<cache_dir>/cifar100_<label_mode>.npz`.

    Args:
        data_dir: tfds data directory; `None` uses tfds' default.
        cache_dir: directory of the `.npz` cache; `None` uses
            `$KERAS_HOME/datasets/keras_ortho`.
        label_mode: `"fine"` for the 100 classes (tfds feature `label`) or
            `"coarse"` for the 20 superclasses (feature `coarse_label`).

    Returns:
        A `Dataset` with 100 (fine) or 20 (coarse) classes.

    Raises:
        ImportError: if there is no cache yet and `tensorflow_datasets` is
            not installed.

    Example:
        ```python
        data = keras_ortho.data.load_cifar100(label_mode="coarse")
        data.num_classes  # 20
        ```

    Reference:
        Krizhevsky, "Learning Multiple Layers of Features from Tiny Images",
        2009.
    """
    label_mode = validate_choice(label_mode, "label_mode", CIFAR100_LABEL_MODES)
    return _load_tfds_dataset(
        tfds_name="cifar100",
        train_splits=("train",),
        label_key="label" if label_mode == "fine" else "coarse_label",
        data_dir=validate_optional_path(data_dir, "data_dir"),
        cache_dir=validate_optional_path(cache_dir, "cache_dir"),
        cache_stem=f"cifar100_{label_mode}",
        name="cifar100",
    )


def load_svhn(data_dir=None, cache_dir=None, include_extra=False):
    """Loads SVHN cropped digits: 73,257 training and 26,032 test 32x32 images.

    Reads the tfds dataset `svhn_cropped` on the first call and caches it as
    `<cache_dir>/svhn_cropped.npz` (or `svhn_cropped_extra.npz`). Labels are
    the digits 0-9 (tfds maps the original label 10 to digit 0).

    Args:
        data_dir: tfds data directory; `None` uses tfds' default.
        cache_dir: directory of the `.npz` cache; `None` uses
            `$KERAS_HOME/datasets/keras_ortho`.
        include_extra: if True, the 531,131 "somewhat less difficult" images
            of the `extra` split are appended to the training set (604,388
            training images, about 1.9 GB of uint8 in memory).

    Returns:
        A `Dataset` with 10 classes.

    Raises:
        ImportError: if there is no cache yet and `tensorflow_datasets` is
            not installed.

    Example:
        ```python
        data = keras_ortho.data.load_svhn(include_extra=True)
        ```

    Reference:
        Netzer et al., "Reading Digits in Natural Images with Unsupervised
        Feature Learning", NIPS Workshop on Deep Learning and Unsupervised
        Feature Learning, 2011.
    """
    include_extra = validate_bool(include_extra, "include_extra")
    return _load_tfds_dataset(
        tfds_name="svhn_cropped",
        train_splits=("train", "extra") if include_extra else ("train",),
        label_key="label",
        data_dir=validate_optional_path(data_dir, "data_dir"),
        cache_dir=validate_optional_path(cache_dir, "cache_dir"),
        cache_stem="svhn_cropped_extra" if include_extra else "svhn_cropped",
        name="svhn",
    )


def _load_tfds_dataset(
    tfds_name, train_splits, label_key, data_dir, cache_dir, cache_stem, name
):
    """The cached dataset if there is one, else the tfds splits, then cached."""
    path = cache_path(cache_stem, cache_dir)
    cached = read_cache(path)
    if cached is not None:
        return cached
    tfds = _import_tensorflow_datasets(tfds_name)
    train_parts = [
        _load_split(tfds, tfds_name, split, label_key, data_dir)
        for split in train_splits
    ]
    x_test, y_test, label_feature = _load_split(
        tfds, tfds_name, "test", label_key, data_dir
    )
    dataset = Dataset(
        x_train=np.concatenate([images for images, _, _ in train_parts]),
        y_train=np.concatenate([labels for _, labels, _ in train_parts]),
        x_test=x_test,
        y_test=y_test,
        num_classes=int(label_feature.num_classes),
        class_names=tuple(label_feature.names),
        name=name,
    )
    write_cache(path, dataset)
    return dataset


def _load_split(tfds, tfds_name, split, label_key, data_dir):
    """Returns (uint8 images, int64 labels, the label's `ClassLabel`) of a split."""
    examples, info = tfds.load(
        tfds_name, split=split, data_dir=data_dir, with_info=True
    )
    # Fixed-size batches rather than `batch_size=-1`: the whole-split batch
    # relies on split sizes from the dataset info, which mocked builders lack.
    batches = list(tfds.as_numpy(examples.batch(_BATCH_SIZE)))
    images = np.concatenate([b["image"] for b in batches]).astype(np.uint8)
    labels = np.concatenate([b[label_key] for b in batches]).astype(np.int64)
    return images, labels, info.features[label_key]


def _import_tensorflow_datasets(tfds_name):
    try:
        import tensorflow_datasets
    except ImportError as error:
        raise ImportError(
            f"Loading `{tfds_name}` the first time (before it is cached) needs "
            "the `tensorflow-datasets` package, and TensorFlow to run it. "
            "Install them with `pip install keras-ortho[datasets,tensorflow]`."
        ) from error
    return tensorflow_datasets
