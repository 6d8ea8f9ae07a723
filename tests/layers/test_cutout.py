import numpy as np
import pytest

from keras_ortho.layers import Cutout
from tests.layers._augmentation_checks import distinct_images
from tests.toolkit import to_numpy


def reference_cutout(image, cy, cx, size, fill):
    """DeVries & Taylor's mask: the size x size square centred at (cy, cx),
    clipped to the image."""
    out = image.copy()
    top, left = cy - size // 2, cx - size // 2
    out[max(top, 0) : max(top + size, 0), max(left, 0) : max(left + size, 0)] = fill
    return out


@pytest.mark.parametrize("fill", [0, (10, 20, 30)])
def test_each_sample_has_one_clipped_square_and_squares_differ(fill):
    images = distinct_images(size=12)
    out = to_numpy(Cutout(6, fill_value=fill, seed=3)(images, training=True))
    assert out.dtype == np.uint8
    centres = []
    for image, result in zip(images, out, strict=True):
        matches = [
            (cy, cx)
            for cy in range(12)
            for cx in range(12)
            if np.array_equal(result, reference_cutout(image, cy, cx, 6, fill))
        ]
        assert len(matches) == 1
        centres.append(matches[0])
    assert len(set(centres)) > 4


def test_float_input_and_inference_identity():
    images = distinct_images().astype("float32")
    out = to_numpy(Cutout(4, seed=0)(images, training=True))
    assert out.dtype == np.float32 and (out == 0).any()
    np.testing.assert_array_equal(to_numpy(Cutout(4)(images)), images)


def test_seeded_determinism():
    images = distinct_images()
    first = to_numpy(Cutout(4, seed=9)(images, training=True))
    np.testing.assert_array_equal(
        first, to_numpy(Cutout(4, seed=9)(images, training=True))
    )


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"size": 0}, ValueError),
        ({"fill_value": -1}, ValueError),
        ({"size": 1.5}, TypeError),
    ],
)
def test_invalid_arguments(kwargs, error):
    with pytest.raises(error):
        Cutout(**kwargs)


def test_per_channel_fill_must_match_channels():
    with pytest.raises(ValueError, match="fill_value"):
        Cutout(4, fill_value=(1, 2))(distinct_images(), training=True)
