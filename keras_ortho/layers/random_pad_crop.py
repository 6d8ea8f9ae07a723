"""Pad-and-random-crop as a per-sample random translation."""

import keras
from keras import ops

from keras_ortho._export import register_serializable
from keras_ortho._validation import validate_choice
from keras_ortho._validation import validate_int
from keras_ortho.layers._image_augmentation import ImageAugmentation

if keras.backend.backend() == "torch":
    from keras_ortho import _torch_fast_paths
else:
    _torch_fast_paths = None

FILLS = ("zeros", "reflect")


def _source_indices(size, offsets, padding, fill):
    """Per-sample source index of each output row (or column) and whether it
    lies inside the image: output `i` reads input `i + offset - padding`."""
    positions = ops.arange(size, dtype="int32")[None, :] + offsets[:, None] - padding
    inside = ops.logical_and(positions >= 0, positions < size)
    if fill == "reflect":
        # Mirror without repeating the edge: -1 -> 1 and size -> size - 2.
        positions = ops.abs(positions)
        positions = (size - 1) - ops.abs((size - 1) - positions)
    return ops.clip(positions, 0, size - 1), inside


@register_serializable
class RandomPadCrop(ImageAugmentation):
    """Pads each image by `padding` pixels and crops it back at a random place.

    Equivalent to torchvision's `RandomCrop(size, padding)` applied to every
    sample independently: output pixel `(i, j)` of a sample is input pixel
    `(i + dy - padding, j + dx - padding)` with `dy, dx` drawn uniformly from
    `{0, ..., 2 * padding}` per sample, and pixels outside the image are
    zeros (`fill="zeros"`) or mirrored without repeating the edge
    (`fill="reflect"`, NumPy's and PyTorch's `"reflect"`). It is built on
    gathers with `keras.ops`, so it compiles with `jit_compile=True` on
    TensorFlow, JAX and PyTorch, unlike `keras.layers.RandomCrop`, which sets
    `supports_jit=False`.

    The identity unless called with `training=True`. Integer images keep
    their dtype (uint8 stays uint8); float images come out in the layer's
    compute dtype.

    Args:
        padding: pixels added on each side before cropping, an integer >= 0
            (at most the image's height and width minus 1 with `"reflect"`).
        fill: `"zeros"` (default, torchvision's default) or `"reflect"` (the
            SRIP Wide ResNet recipe).
        seed: an integer >= 0 or None.
        **kwargs: base `keras.layers.Layer` arguments (`name`, ...).

    Example:

    ```python
    augment = keras.Sequential(
        [keras_ortho.layers.RandomPadCrop(4), keras_ortho.layers.RandomHorizontalFlip()]
    )
    ```

    Reference:
        The "pad 4 and random crop 32" CIFAR augmentation of K. He et al.,
        "Deep Residual Learning for Image Recognition", CVPR 2016, as
        torchvision's `RandomCrop(32, padding=4)` in the OPL and SRIP code.
    """

    def __init__(self, padding=4, fill="zeros", seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.padding = validate_int(padding, "padding", minimum=0)
        self.fill = validate_choice(fill, "fill", FILLS)

    def build(self, input_shape):
        super().build(input_shape)
        if self.fill == "reflect" and any(
            d is not None and self.padding >= d for d in input_shape[1:3]
        ):
            raise ValueError(
                'RandomPadCrop with fill="reflect" needs `padding` smaller than '
                f"the image's height and width. Received: padding={self.padding}, "
                f"input shape {tuple(input_shape)}"
            )

    def augment(self, images):
        if self.padding == 0:
            return images
        batch, height, width, channels = ops.shape(images)
        offsets = keras.random.randint(
            (2, batch), 0, 2 * self.padding + 1, dtype="int32", seed=self.seed_generator
        )
        if (
            self.fill == "zeros"
            and _torch_fast_paths is not None
            and _torch_fast_paths.is_eager(images)
        ):
            return _torch_fast_paths.pad_crop(images, offsets, self.padding)
        rows, rows_inside = _source_indices(height, offsets[0], self.padding, self.fill)
        cols, cols_inside = _source_indices(width, offsets[1], self.padding, self.fill)
        shape = (batch, height, width, channels)
        crops = ops.take_along_axis(
            images, ops.broadcast_to(rows[:, :, None, None], shape), axis=1
        )
        crops = ops.take_along_axis(
            crops, ops.broadcast_to(cols[:, None, :, None], shape), axis=2
        )
        if self.fill == "reflect":
            return crops
        inside = ops.logical_and(rows_inside[:, :, None], cols_inside[:, None, :])
        return ops.where(inside[..., None], crops, ops.zeros_like(crops))

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "fill": self.fill}
