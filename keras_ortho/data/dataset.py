"""The in-memory result every loader in `keras_ortho.data` returns."""

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True, repr=False, eq=False)
class Dataset:
    """A labelled image classification dataset held as NumPy arrays.

    Images are uint8 in NHWC layout with values 0..255; labels are int64 class
    indices in `[0, num_classes)`. `x_test`/`y_test` hold the split a dataset
    evaluates on (the `val` folder for Tiny ImageNet, whose test labels are not
    public).

    Attributes:
        x_train: uint8 array `(n_train, height, width, 3)`.
        y_train: int64 array `(n_train,)`.
        x_test: uint8 array `(n_test, height, width, 3)`.
        y_test: int64 array `(n_test,)`.
        num_classes: number of classes.
        class_names: tuple of `num_classes` names, or `None` when the source
            has none.
        name: the dataset's name, as accepted by `load_dataset`.
        boxes_train: `None`, or an int64 array `(n_train, 4)` of one bounding
            box per training image, `(x0, y0, x1, y1)` in pixels, inclusive.
        boxes_test: the same for the test images.

    Example:
        ```python
        data = keras_ortho.data.load_dataset("cifar10_subset")
        model = keras.Sequential(
            [
                keras.Input((32, 32, 3)),
                keras.layers.Rescaling(1 / 255),
                keras.layers.Conv2D(8, 3, strides=2, activation="relu"),
                keras.layers.GlobalAveragePooling2D(),
                keras.layers.Dense(data.num_classes),
            ]
        )
        model.compile(
            optimizer="sgd",
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        model.fit(
            data.x_train[:256],
            data.y_train[:256],
            validation_data=(data.x_test[:128], data.y_test[:128]),
            verbose=0,
        )
        ```
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    class_names: tuple[str, ...] | None
    name: str
    boxes_train: np.ndarray | None = None
    boxes_test: np.ndarray | None = None

    @property
    def train(self):
        """The `(x_train, y_train)` pair."""
        return self.x_train, self.y_train

    @property
    def test(self):
        """The `(x_test, y_test)` pair."""
        return self.x_test, self.y_test

    def __repr__(self):
        boxes = "" if self.boxes_train is None else ", with boxes"
        return (
            f"Dataset(name={self.name!r}, num_classes={self.num_classes}, "
            f"x_train={self.x_train.shape}, x_test={self.x_test.shape}{boxes})"
        )
