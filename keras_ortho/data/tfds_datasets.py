"""CIFAR-10, CIFAR-100 and SVHN from TensorFlow Datasets, cached as uint8 `.npz`.

The first call reads the tfds builder's splits (which needs
`tensorflow_datasets` and TensorFlow) and stores the arrays in the cache; every
later call reads only the cache, with NumPy. A dataset that tfds has not
prepared yet is downloaded, unless `download=False` or the machine is offline:
both fail at once, naming the offline alternatives, before tfds would retry
its downloads for minutes.
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

# A file of each tfds dataset's download, asked for (headers only) before tfds
# downloads: an offline machine fails within the timeout, not after tfds'
# retries. `requests` honours the proxy variables, as tfds' downloads do.
_DOWNLOAD_PROBES = {
    "cifar10": "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
    "cifar100": "https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
    "svhn_cropped": "http://ufldl.stanford.edu/housenumbers/train_32x32.mat",
}
_PROBE_TIMEOUT_SECONDS = 10


def load_cifar10(data_dir=None, cache_dir=None, download=True):
    """Loads CIFAR-10: 50,000 training and 10,000 test 32x32 RGB images.

    Reads the tfds dataset `cifar10` (splits `train` and `test`) on the first
    call and caches it as `<cache_dir>/cifar10.npz`.

    Offline, use a prepared tfds directory (`data_dir`), the full CIFAR-10 in
    JPEG `.npz` format (`load_cifar10_jpeg`) or the committed 6,000-image
    subset (`load_dataset("cifar10_subset")`).

    Args:
        data_dir: tfds data directory holding (or receiving) the prepared
            dataset; `None` uses tfds' default (`~/tensorflow_datasets`).
        cache_dir: directory of the `.npz` cache; `None` uses
            `$KERAS_HOME/datasets/keras_ortho`.
        download: whether tfds may download the dataset when `data_dir`
            holds no prepared copy.

    Returns:
        A `Dataset` with 10 classes (airplane ... truck), uint8 images and
        int64 labels.

    Raises:
        ImportError: if there is no cache yet and `tensorflow_datasets` is
            not installed.
        FileNotFoundError: if there is neither a cache nor a prepared copy
            and `download=False`.
        ConnectionError: if there is neither a cache nor a prepared copy
            and the download site cannot be reached.

    Example:
        <!-- not-run: downloads the full dataset -->
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
        data_dir=data_dir,
        cache_dir=cache_dir,
        cache_stem="cifar10",
        name="cifar10",
        download=download,
    )


def load_cifar100(data_dir=None, cache_dir=None, label_mode="fine", download=True):
    """Loads CIFAR-100: 50,000 training and 10,000 test 32x32 RGB images.

    Reads the tfds dataset `cifar100` (splits `train` and `test`) on the first
    call and caches it as `<cache_dir>/cifar100_<label_mode>.npz`.

    Args:
        data_dir: tfds data directory; `None` uses tfds' default.
        cache_dir: directory of the `.npz` cache; `None` uses
            `$KERAS_HOME/datasets/keras_ortho`.
        label_mode: `"fine"` for the 100 classes (tfds feature `label`) or
            `"coarse"` for the 20 superclasses (feature `coarse_label`).
        download: whether tfds may download the dataset when `data_dir`
            holds no prepared copy.

    Returns:
        A `Dataset` with 100 (fine) or 20 (coarse) classes.

    Raises:
        ImportError: if there is no cache yet and `tensorflow_datasets` is
            not installed.
        FileNotFoundError: if there is neither a cache nor a prepared copy
            and `download=False`.
        ConnectionError: if there is neither a cache nor a prepared copy
            and the download site cannot be reached.

    Example:
        <!-- not-run: downloads the full dataset -->
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
        data_dir=data_dir,
        cache_dir=cache_dir,
        cache_stem=f"cifar100_{label_mode}",
        name="cifar100",
        download=download,
    )


def load_svhn(data_dir=None, cache_dir=None, include_extra=False, download=True):
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
        download: whether tfds may download the dataset when `data_dir`
            holds no prepared copy.

    Returns:
        A `Dataset` with 10 classes.

    Raises:
        ImportError: if there is no cache yet and `tensorflow_datasets` is
            not installed.
        FileNotFoundError: if there is neither a cache nor a prepared copy
            and `download=False`.
        ConnectionError: if there is neither a cache nor a prepared copy
            and the download site cannot be reached.

    Example:
        <!-- not-run: downloads the full dataset -->
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
        data_dir=data_dir,
        cache_dir=cache_dir,
        cache_stem="svhn_cropped_extra" if include_extra else "svhn_cropped",
        name="svhn",
        download=download,
    )


def _load_tfds_dataset(
    tfds_name, train_splits, label_key, data_dir, cache_dir, cache_stem, name, download
):
    """The cached dataset if there is one, else the tfds splits, then cached.
    Checks the arguments every loader takes."""
    data_dir = validate_optional_path(data_dir, "data_dir")
    cache_dir = validate_optional_path(cache_dir, "cache_dir")
    download = validate_bool(download, "download")
    path = cache_path(cache_stem, cache_dir)
    cached = read_cache(path)
    if cached is not None:
        return cached
    tfds = _import_tensorflow_datasets(tfds_name)
    builder = tfds.builder(tfds_name, data_dir=data_dir)
    if not builder.is_prepared():
        _check_download_possible(tfds_name, name, builder.data_dir, download)
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


def _check_download_possible(tfds_name, name, prepared_dir, download):
    """Raises, naming every offline alternative, unless tfds may download
    `tfds_name` and its download site answers."""
    if not download:
        raise FileNotFoundError(
            f"No prepared copy of the tfds dataset `{tfds_name}` at "
            f"{prepared_dir}, and download=False. {_offline_alternatives(name)}"
        )
    import requests

    url = _DOWNLOAD_PROBES[tfds_name]
    try:
        requests.head(url, timeout=_PROBE_TIMEOUT_SECONDS, allow_redirects=True)
    except requests.RequestException as error:
        raise ConnectionError(
            f"Cannot download the tfds dataset `{tfds_name}`: {url} is not "
            f"reachable ({type(error).__name__}), and there is no prepared copy "
            f"at {prepared_dir}. {_offline_alternatives(name)}"
        ) from None


def _offline_alternatives(name):
    alternatives = (
        "Offline, pass the tfds data directory of a prepared copy as "
        "`data_dir=` (`--data-dir` on the command line)"
    )
    if name != "cifar10":
        return alternatives + "."
    return alternatives + (
        ", or load CIFAR-10 from local files: the full dataset in JPEG .npz "
        "format with `load_cifar10_jpeg(path)` or `load_dataset('cifar10_jpeg', "
        "data_dir=path)` (`--dataset cifar10_jpeg --data-dir path`), or the "
        "committed 6,000-image subset with `load_dataset('cifar10_subset')` "
        "(`--dataset cifar10_subset`)."
    )


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
