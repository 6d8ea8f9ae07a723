"""RandAugment with per-sample operations, inside the compiled training step."""

import keras
import numpy as np
from keras import ops

from keras_ortho._export import register_serializable
from keras_ortho._validation import validate_float_in_range
from keras_ortho._validation import validate_int
from keras_ortho.layers import _image_operations as image_operations
from keras_ortho.layers._image_augmentation import ImageAugmentation

# torchvision's `RandAugment._augmentation_space` order.
OPERATIONS = (
    "Identity",
    "ShearX",
    "ShearY",
    "TranslateX",
    "TranslateY",
    "Rotate",
    "Brightness",
    "Color",
    "Contrast",
    "Sharpness",
    "Posterize",
    "Solarize",
    "AutoContrast",
    "Equalize",
)
INDEX = {name: i for i, name in enumerate(OPERATIONS)}
ENHANCEMENTS = ("Brightness", "Color", "Contrast", "Sharpness")

# The largest translation is 150/331 of the image's side (torchvision).
TRANSLATE_NUMERATOR, TRANSLATE_DENOMINATOR = 150, 331


def _magnitude_table(num_magnitude_bins, magnitude):
    """torchvision's magnitudes of bin `magnitude`, except the translations,
    which depend on the image size: `linspace(a, b, num_magnitude_bins)
    [magnitude]` for shear, rotation (degrees), enhancement and solarize
    threshold, and the bits that Posterize keeps."""

    def lin(start, stop):
        return float(np.linspace(start, stop, num_magnitude_bins)[magnitude])

    return {
        "shear": lin(0, 0.3),
        "rotate": lin(0, 30),
        "enhance": lin(0, 0.9),
        "posterize_bits": 8 - round(magnitude / ((num_magnitude_bins - 1) / 4)),
        "solarize_threshold": lin(255, 0),
    }


def _validate_fill_value(fill_value):
    """A grey level in 0..255, or a non-empty tuple of one per channel."""
    if not isinstance(fill_value, (tuple, list)):
        return validate_float_in_range(fill_value, "fill_value", 0, 255)
    if not fill_value:
        raise ValueError(
            "Invalid value for argument `fill_value`: expected a number in "
            "0..255 or one per channel. Received: fill_value=" + repr(fill_value)
        )
    return tuple(
        validate_float_in_range(value, f"fill_value[{i}]", 0, 255)
        for i, value in enumerate(fill_value)
    )


@register_serializable
class RandAugment(ImageAugmentation):
    """RandAugment: `num_ops` random image operations per sample.

    Each image independently applies `num_ops` operations in sequence, each
    drawn uniformly with replacement from the 14 below; a signed operation's
    magnitude is negated with probability 1/2, per sample and operation.
    With `lin(a, b) = linspace(a, b, num_magnitude_bins)[magnitude]`:

    | operation | magnitude |
    |---|---|
    | Identity | |
    | ShearX, ShearY | shear factor `s = ±lin(0, 0.3)` |
    | TranslateX, TranslateY | `±int(lin(0, 150/331 * width or height))` px |
    | Rotate | `±lin(0, 30)` degrees, about the centre |
    | Brightness, Color, Contrast, Sharpness | factor `1 ± lin(0, 0.9)` |
    | Posterize | keeps `8 - round(magnitude / ((num_magnitude_bins - 1) / 4))` bits |
    | Solarize | threshold `lin(255, 0)` |
    | AutoContrast, Equalize | |

    The operations are PIL's: ShearX makes output pixel `(x, y)` read input
    `(x + s y, y)` (`Image.transform(AFFINE, (1, s, 0, 0, 1, 0), NEAREST)`,
    a shear about the top-left corner as torchvision's `center=[0, 0]`),
    ShearY likewise with `(x, y + s x)`; Rotate is `Image.rotate(angle,
    NEAREST)`; pixels from outside the image take `fill_value`. The four
    enhancements blend `factor * image + (1 - factor) * degenerate`, truncated
    and clipped to 0..255, with `ImageEnhance`'s degenerate image: black, the
    grayscale image (PIL's luma, (299 R + 587 G + 114 B) / 1000 rounded), its
    mean grey level, or the 3x3 SMOOTH filter. Posterize, Solarize,
    AutoContrast and Equalize are `ImageOps`' (per image and channel).

    Every operation is computed for the whole batch and picked per sample
    with `keras.ops.where`; the five geometric ones share one per-sample
    affine gather. Everything is `keras.ops`, so a model containing the layer
    compiles with `jit_compile=True` on TensorFlow, JAX and PyTorch, unlike
    `keras.layers.RandAugment`, which also draws the same operations for the
    whole batch.

    Images are channels-last with 1 or 3 channels and values in 0..255, uint8
    or float; they are processed in float32 and cast back to their dtype (the
    layer's compute dtype for float images). Each colour operation truncates
    its result to a whole grey level, as PIL's and torchvision's uint8
    arithmetic does, so on uint8 input the result is integral and the final
    cast is exact, and a chain of operations matches PIL step by step.
    Deviations from torchvision/PIL: AutoContrast computes
    `floor((v - min) * 255 / (max - min))` exactly, where PIL's float64
    `v * scale + offset` is one level lower on rare pixels; sampling positions
    are computed in float32 (PIL: float64), which can move a pixel whose
    source lies exactly on a pixel edge.

    The identity unless called with `training=True`; integer images keep
    their dtype, float images come out in the layer's compute dtype.

    Args:
        num_ops: operations applied to each image in sequence, an integer
            >= 0 (0 is the identity).
        magnitude: the magnitude bin, an integer in
            `0..num_magnitude_bins - 1`.
        num_magnitude_bins: number of magnitude bins, an integer >= 2.
        fill_value: grey level of pixels that the geometric operations bring
            in from outside the image, a number in 0..255 or one per channel
            (torchvision's default `fill=None` is 0); the final cast truncates
            it (125.3 becomes 125 in uint8 images).
        seed: an integer >= 0 or None.
        **kwargs: base `keras.layers.Layer` arguments (`name`, ...).

    Example:

    ```python
    augment = keras.Sequential(
        [
            keras_ortho.layers.RandomPadCrop(4),
            keras_ortho.layers.RandomHorizontalFlip(),
            keras_ortho.layers.RandAugment(num_ops=2, magnitude=9),
        ]
    )
    ```

    Reference:
        E. D. Cubuk, B. Zoph, J. Shlens, Q. V. Le, "RandAugment: Practical
        automated data augmentation with a reduced search space", CVPR
        Workshops 2020. Matches torchvision's
        `transforms.RandAugment(num_ops, magnitude, num_magnitude_bins,
        interpolation=NEAREST)` operation set and magnitude table, applied per
        sample, with PIL's `ImageEnhance`/`ImageOps` for the operations.
    """

    def __init__(
        self,
        num_ops=2,
        magnitude=9,
        num_magnitude_bins=31,
        fill_value=0,
        seed=None,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        self.num_ops = validate_int(num_ops, "num_ops", minimum=0)
        self.num_magnitude_bins = validate_int(
            num_magnitude_bins, "num_magnitude_bins", minimum=2
        )
        self.magnitude = validate_int(
            magnitude, "magnitude", minimum=0, maximum=self.num_magnitude_bins - 1
        )
        self.fill_value = _validate_fill_value(fill_value)
        self._magnitudes = _magnitude_table(self.num_magnitude_bins, self.magnitude)

    def build(self, input_shape):
        super().build(input_shape)
        channels = input_shape[-1]
        if channels not in (1, 3):
            raise ValueError(
                "RandAugment expects grayscale or RGB images (1 or 3 channels). "
                f"Received input shape {tuple(input_shape)}"
            )
        if isinstance(self.fill_value, tuple) and len(self.fill_value) not in (
            1,
            channels,
        ):
            raise ValueError(
                "Invalid value for argument `fill_value`: expected one value or "
                f"one per channel ({channels}). Received: "
                f"fill_value={self.fill_value!r}"
            )

    def _translation(self, side):
        """`int(lin(0, 150/331 * side))`, in exact integer arithmetic."""
        return (side * TRANSLATE_NUMERATOR * self.magnitude) // (
            TRANSLATE_DENOMINATOR * (self.num_magnitude_bins - 1)
        )

    def augment(self, images):
        if self.num_ops == 0:
            return images
        # One draw per sample and operation encodes both the operation and
        # the sign: one random op in all, as each one is a graph break for
        # torch.compile.
        draws = keras.random.randint(
            (self.num_ops, ops.shape(images)[0]),
            0,
            2 * len(OPERATIONS),
            seed=self.seed_generator,
        )
        operations = ops.floor_divide(draws, 2)
        signs = 1.0 - 2.0 * ops.cast(ops.mod(draws, 2), "float32")
        outputs = ops.cast(images, "float32")
        for i in range(self.num_ops):
            outputs = self._apply_operation(outputs, operations[i], signs[i])
        return ops.cast(outputs, images.dtype)

    def _apply_operation(self, images, operation, sign):
        """Applies operation `operation[i]` with sign `sign[i]` to image `i`."""
        batch, height, width, _ = ops.shape(images)

        def chosen(*names):
            mask = ops.zeros((batch,), dtype="bool")
            for name in names:
                mask = mask | (operation == INDEX[name])
            return mask

        def signed_if(name, value):
            return ops.where(chosen(name), sign * value, 0.0)

        magnitudes = self._magnitudes
        shear = magnitudes["shear"]
        outputs = image_operations.affine_resample(
            images,
            angle=signed_if("Rotate", magnitudes["rotate"]),
            shear_x=signed_if("ShearX", shear),
            shear_y=signed_if("ShearY", shear),
            translate_x=signed_if("TranslateX", self._translation(width)),
            translate_y=signed_if("TranslateY", self._translation(height)),
            fill_value=ops.convert_to_tensor(self.fill_value, dtype="float32"),
        )

        def per_sample(mask, selected, otherwise):
            return ops.where(ops.reshape(mask, (-1, 1, 1, 1)), selected, otherwise)

        grey = image_operations.grayscale(images)
        degenerate = per_sample(chosen("Color"), grey, 0.0)
        degenerate = per_sample(
            chosen("Contrast"), image_operations.mean_grey_level(grey), degenerate
        )
        degenerate = per_sample(
            chosen("Sharpness"), image_operations.smooth(images), degenerate
        )
        enhanced = image_operations.blend(
            images, degenerate, 1.0 + sign * magnitudes["enhance"]
        )
        outputs = per_sample(chosen(*ENHANCEMENTS), enhanced, outputs)
        outputs = per_sample(
            chosen("Posterize"),
            image_operations.posterize(images, magnitudes["posterize_bits"]),
            outputs,
        )
        outputs = per_sample(
            chosen("Solarize"),
            image_operations.solarize(images, magnitudes["solarize_threshold"]),
            outputs,
        )
        outputs = per_sample(
            chosen("AutoContrast"), image_operations.auto_contrast(images), outputs
        )
        return per_sample(
            chosen("Equalize"), image_operations.equalize(images), outputs
        )

    def get_config(self):
        fill_value = self.fill_value
        if isinstance(fill_value, tuple):
            fill_value = list(fill_value)
        return {
            **super().get_config(),
            "num_ops": self.num_ops,
            "magnitude": self.magnitude,
            "num_magnitude_bins": self.num_magnitude_bins,
            "fill_value": fill_value,
        }
