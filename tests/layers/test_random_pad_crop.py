import numpy as np
import pytest

from keras_ortho.layers import RandomPadCrop
from tests.layers._augmentation_checks import distinct_images
from tests.toolkit import to_numpy


def reference_crop(image, dy, dx, padding, fill):
    """Pad with NumPy, then slice the window at offset (dy, dx)."""
    mode = "constant" if fill == "zeros" else "reflect"
    padded = np.pad(image, ((padding, padding), (padding, padding), (0, 0)), mode)
    height, width = image.shape[:2]
    return padded[dy : dy + height, dx : dx + width]


@pytest.mark.parametrize("fill", ["zeros", "reflect"])
def test_each_sample_is_a_padded_crop_and_crops_differ(fill):
    images = distinct_images()
    out = to_numpy(RandomPadCrop(4, fill=fill, seed=3)(images, training=True))
    assert out.dtype == np.uint8 and out.shape == images.shape
    offsets = []
    for image, crop in zip(images, out, strict=True):
        matches = [
            (dy, dx)
            for dy in range(9)
            for dx in range(9)
            if np.array_equal(crop, reference_crop(image, dy, dx, 4, fill))
        ]
        assert len(matches) == 1
        offsets.append(matches[0])
    assert len(set(offsets)) > 4


def test_float_input_keeps_dtype():
    images = distinct_images().astype("float32") / 255
    out = to_numpy(RandomPadCrop(2, seed=0)(images, training=True))
    assert out.dtype == np.float32


def test_identity_at_inference_and_seeded_determinism():
    images = distinct_images()
    np.testing.assert_array_equal(to_numpy(RandomPadCrop(4)(images)), images)
    first = to_numpy(RandomPadCrop(4, seed=5)(images, training=True))
    second = to_numpy(RandomPadCrop(4, seed=5)(images, training=True))
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"padding": -1}, ValueError),
        ({"padding": 2.0}, TypeError),
        ({"fill": "edge"}, ValueError),
        ({"seed": -3}, ValueError),
    ],
)
def test_invalid_arguments(kwargs, error):
    with pytest.raises(error):
        RandomPadCrop(**kwargs)


def test_reflect_padding_larger_than_image_is_rejected():
    with pytest.raises(ValueError, match="padding"):
        RandomPadCrop(12, fill="reflect")(distinct_images(), training=True)
