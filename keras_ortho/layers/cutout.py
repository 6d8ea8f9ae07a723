"""Cutout: a random square of each image set to a fill value."""

import keras
from keras import ops

from keras_ortho._export import register_serializable
from keras_ortho._validation import validate_int
from keras_ortho._validation import validate_non_negative_float
from keras_ortho.layers._image_augmentation import ImageAugmentation


def _validate_fill_value(fill_value):
    if isinstance(fill_value, (tuple, list)):
        return tuple(
            validate_non_negative_float(v, f"fill_value[{i}]")
            for i, v in enumerate(fill_value)
        )
    return validate_non_negative_float(fill_value, "fill_value")


@register_serializable
class Cutout(ImageAugmentation):
    """Sets a `size x size` square of each image to `fill_value`, per sample.

    The square's centre `(cy, cx)` is drawn uniformly over all pixels, so the
    square may be clipped by the border: rows `cy - size // 2` to
    `cy - size // 2 + size - 1` (and likewise columns), clipped to the image.
    The identity unless called with `training=True`. Integer images keep
    their dtype; float images come out in the layer's compute dtype.
    Compiles with `jit_compile=True` on TensorFlow, JAX and PyTorch.

    DeVries & Taylor apply Cutout after normalisation, so their zeros are the
    dataset's mean pixel. Placed before a model that normalises inside (the
    `keras_ortho.models` builders), pass the mean in pixel units to
    reproduce that, e.g. `fill_value=(125.3, 123.0, 113.9)` for CIFAR-10.

    Args:
        size: side of the square in pixels, an integer >= 1 (16 for CIFAR-10,
            8 for CIFAR-100 in the paper).
        fill_value: a number >= 0, or one per channel, cast to the images'
            dtype (125.3 becomes 125 in uint8 images).
        seed: an integer >= 0 or None.
        **kwargs: base `keras.layers.Layer` arguments (`name`, ...).

    Example:

    ```python
    cutout = keras_ortho.layers.Cutout(16, fill_value=(125.3, 123.0, 113.9))
    ```

    Reference:
        T. DeVries, G. W. Taylor, "Improved Regularization of Convolutional
        Neural Networks with Cutout", arXiv 1708.04552 (2017); matches the
        square of its public code for even `size` (the code's square has side
        `2 * (size // 2)`).
    """

    def __init__(self, size=16, fill_value=0.0, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.size = validate_int(size, "size", minimum=1)
        self.fill_value = _validate_fill_value(fill_value)

    def build(self, input_shape):
        super().build(input_shape)
        if isinstance(self.fill_value, tuple) and len(self.fill_value) not in (
            1,
            input_shape[-1],
        ):
            raise ValueError(
                "Invalid value for argument `fill_value`: expected one value or "
                f"one per channel ({input_shape[-1]}). Received: "
                f"fill_value={self.fill_value!r}"
            )

    def augment(self, images):
        batch, height, width, _ = ops.shape(images)
        centres = keras.random.uniform((2, batch), seed=self.seed_generator)
        top = ops.cast(centres[0] * height, "int32") - self.size // 2
        left = ops.cast(centres[1] * width, "int32") - self.size // 2
        rows = ops.arange(height, dtype="int32")[None, :] - top[:, None]
        cols = ops.arange(width, dtype="int32")[None, :] - left[:, None]
        in_rows = ops.logical_and(rows >= 0, rows < self.size)
        in_cols = ops.logical_and(cols >= 0, cols < self.size)
        square = ops.logical_and(in_rows[:, :, None], in_cols[:, None, :])
        fill = ops.cast(ops.convert_to_tensor(self.fill_value), images.dtype)
        return ops.where(square[..., None], fill, images)

    def get_config(self):
        fill_value = self.fill_value
        if isinstance(fill_value, tuple):
            fill_value = list(fill_value)
        return {**super().get_config(), "size": self.size, "fill_value": fill_value}
