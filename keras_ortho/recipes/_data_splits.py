"""A run's images: the seeded training, validation and test draws, and the
training images' channel statistics the network normalises with."""

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class Splits:
    """The images and integer labels of one run; `x_val` and `y_val` are
    `None` without a validation split."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray | None
    y_val: np.ndarray | None
    x_test: np.ndarray
    y_test: np.ndarray


def split_dataset(dataset, settings, seed):
    """Seeded draws of the training, validation and test images.

    Args:
        dataset: a `keras_ortho.data.Dataset`.
        settings: the recipe's `DataSettings` (`validation_fraction`,
            `train_size`, `test_size`).
        seed: the recipe's seed.

    Returns:
        `Splits`, each part in the dataset's order.
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(dataset.x_train))
    num_val = round(settings.validation_fraction * len(order))
    val, train = np.sort(order[:num_val]), order[num_val:]
    if settings.train_size is not None:
        train = train[: settings.train_size]
    train = np.sort(train)
    test = np.arange(len(dataset.x_test))
    if settings.test_size is not None:
        test = np.sort(rng.permutation(len(test))[: settings.test_size])
    return Splits(
        dataset.x_train[train],
        dataset.y_train[train],
        dataset.x_train[val] if num_val else None,
        dataset.y_train[val] if num_val else None,
        dataset.x_test[test],
        dataset.y_test[test],
    )


def channel_statistics(images, chunk=4096):
    """Per-channel mean and standard deviation of uint8 images, on [0, 1];
    summed in chunks so that no float copy of the whole set is made."""
    total = np.zeros(images.shape[-1])
    squares = np.zeros(images.shape[-1])
    for start in range(0, len(images), chunk):
        pixels = images[start : start + chunk].reshape(-1, images.shape[-1])
        pixels = pixels.astype(np.float64) / 255.0
        total += pixels.sum(axis=0)
        squares += np.square(pixels).sum(axis=0)
    count = images.size // images.shape[-1]
    mean = total / count
    # A constant channel keeps std 1/255 rather than dividing by zero.
    std = np.maximum(np.sqrt(np.maximum(squares / count - mean**2, 0.0)), 1 / 255)
    return tuple(float(m) for m in mean), tuple(float(s) for s in std)
