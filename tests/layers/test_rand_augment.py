import itertools

import keras
import numpy as np
import pytest
from PIL import Image
from PIL import ImageEnhance
from PIL import ImageOps

from keras_ortho.layers import RandAugment
from keras_ortho.layers import _image_operations as image_operations
from tests.layers._augmentation_checks import distinct_images
from tests.toolkit import mixed_precision
from tests.toolkit import to_numpy

NUM_BINS = 31
# Every layer call sees this batch shape: JAX compiles each eager op per shape.
BATCH, SIZE = 16, 16


def sample_images(batch=BATCH, size=SIZE, seed=0):
    """uint8 images with full-range noise, a narrow-range image, a constant
    channel, and an image of few levels (Equalize's `step == 0` case)."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (batch, size, size, 3)).astype("uint8")
    images[1] = rng.integers(60, 190, (size, size, 3))
    images[2, ..., 1] = 77
    images[3] = np.where(rng.random((size, size, 3)) < 0.03, 10, 200)
    return images


def pil_map(function, images):
    """Applies a PIL function to each image of a uint8 batch."""
    grey = images.shape[-1] == 1
    results = []
    for image in images:
        result = np.asarray(function(Image.fromarray(image[..., 0] if grey else image)))
        results.append(result[..., None] if grey else result)
    return np.stack(results)


def run(function, images, *args):
    return to_numpy(function(keras.ops.cast(images, "float32"), *args))


def per_sample(value, batch):
    return np.full((batch,), value, dtype="float32")


def resample(images, fill=0.0, **parameters):
    batch = len(images)
    names = ("angle", "shear_x", "shear_y", "translate_x", "translate_y")
    arguments = {name: per_sample(parameters.get(name, 0), batch) for name in names}
    fill = keras.ops.convert_to_tensor(fill, dtype="float32")
    return run(
        lambda x: image_operations.affine_resample(x, fill_value=fill, **arguments),
        images,
    )


def assert_nearly_equal(actual, expected, fraction=0.01):
    """At most `fraction` of the values may differ: PIL computes sampling
    positions in float64 (or 16.16 fixed point) where we use float32, which
    can move a pixel whose source lies exactly on a pixel edge."""
    differ = actual.astype(int) != expected.astype(int)
    assert differ.mean() <= fraction, f"{differ.mean():.3%} of the values differ"


GEOMETRIC_CASES = (
    [("shear_x", value, (1, value, 0, 0, 1, 0)) for value in (0.09, -0.09, 0.3, -0.3)]
    + [("shear_y", value, (1, 0, 0, value, 1, 0)) for value in (0.09, -0.09, 0.3, -0.3)]
    + [("translate_x", value, (1, 0, -value, 0, 1, 0)) for value in (3, -7)]
    + [("translate_y", value, (1, 0, 0, 0, 1, -value)) for value in (3, -7)]
)


@pytest.mark.parametrize("fill", [0, (10, 20, 30)])
@pytest.mark.parametrize("name, value, pil_data", GEOMETRIC_CASES)
def test_shear_and_translate_match_pil_affine_transform(name, value, pil_data, fill):
    images = sample_images()
    expected = pil_map(
        lambda image: image.transform(
            image.size, Image.AFFINE, pil_data, Image.NEAREST, fillcolor=fill
        ),
        images,
    )
    actual = resample(images, fill=fill, **{name: value})
    assert_nearly_equal(actual, expected)
    assert (actual != images).any()


@pytest.mark.parametrize("angle", [9.0, -9.0, 30.0, -17.0])
def test_rotate_matches_pil_rotate(angle):
    images = sample_images()
    expected = pil_map(
        lambda image: image.rotate(angle, Image.NEAREST, fillcolor=(10, 20, 30)),
        images,
    )
    assert_nearly_equal(resample(images, fill=(10, 20, 30), angle=angle), expected)


ENHANCEMENTS = {
    "Brightness": (ImageEnhance.Brightness, lambda x: 0.0),
    "Color": (ImageEnhance.Color, image_operations.grayscale),
    "Contrast": (
        ImageEnhance.Contrast,
        lambda x: image_operations.mean_grey_level(image_operations.grayscale(x)),
    ),
    "Sharpness": (ImageEnhance.Sharpness, image_operations.smooth),
}


@pytest.mark.parametrize("factor", [0.1, 0.73, 1.27, 1.9])
@pytest.mark.parametrize("channels", [3, 1])
@pytest.mark.parametrize("name", sorted(ENHANCEMENTS))
def test_enhancements_match_pil_image_enhance_exactly(name, channels, factor):
    images = sample_images()[..., :channels]
    enhancer, degenerate = ENHANCEMENTS[name]
    expected = pil_map(lambda image: enhancer(image).enhance(factor), images)
    actual = run(
        lambda x: image_operations.blend(
            x, degenerate(x), per_sample(factor, len(images))
        ),
        images,
    )
    np.testing.assert_array_equal(actual, expected)


def test_grayscale_matches_pil_luma():
    images = sample_images()
    expected = pil_map(lambda image: image.convert("L"), images)
    np.testing.assert_array_equal(
        run(image_operations.grayscale, images)[..., 0], expected
    )


@pytest.mark.parametrize("bits", [4, 5, 6, 7, 8])
def test_posterize_matches_pil(bits):
    images = sample_images()
    expected = pil_map(lambda image: ImageOps.posterize(image, bits), images)
    np.testing.assert_array_equal(
        run(image_operations.posterize, images, bits), expected
    )


@pytest.mark.parametrize("threshold", [255.0, 178.5, 127.5, 8.5, 0.0])
def test_solarize_matches_pil(threshold):
    images = sample_images()
    expected = pil_map(lambda image: ImageOps.solarize(image, threshold), images)
    np.testing.assert_array_equal(
        run(image_operations.solarize, images, threshold), expected
    )


def reference_auto_contrast(images):
    """Brute force in exact integer arithmetic, one image and channel at a time."""
    out = images.astype(int)
    for b, c in itertools.product(range(images.shape[0]), range(images.shape[-1])):
        channel = out[b, ..., c]
        low, high = channel.min(), channel.max()
        if high > low:
            out[b, ..., c] = (channel - low) * 255 // (high - low)
    return out


def test_auto_contrast_matches_exact_reference_and_pil():
    images = sample_images()
    actual = run(image_operations.auto_contrast, images)
    np.testing.assert_array_equal(actual, reference_auto_contrast(images))
    np.testing.assert_array_equal(actual[2, ..., 1], images[2, ..., 1])
    # PIL's float64 `level * scale + offset` is a hair below some whole levels.
    expected = pil_map(ImageOps.autocontrast, images)
    assert np.abs(actual - expected).max() <= 1
    assert_nearly_equal(actual, expected)


def test_auto_contrast_floors_exact_quotients_exactly():
    """Levels 0..189 map to `v * 85 // 63`: 63, 126 and 189 divide exactly
    (to 85, 170, 255), where float32 division on XLA CPU returns k - ulp."""
    ramp = np.resize(np.arange(190, dtype="uint8"), (BATCH, SIZE, SIZE, 3))
    ramp[:, 0, 0] = 0
    ramp[:, 0, 1] = 189
    np.testing.assert_array_equal(
        run(image_operations.auto_contrast, ramp), reference_auto_contrast(ramp)
    )


def reference_equalize(images):
    """PIL's rule, with explicit loops over images, channels and levels."""
    out = images.copy()
    pixels = images.shape[1] * images.shape[2]
    for b, c in itertools.product(range(images.shape[0]), range(images.shape[-1])):
        channel = images[b, ..., c]
        histogram = np.bincount(channel.ravel(), minlength=256)
        step = (pixels - histogram[channel.max()]) // 255
        if step == 0:
            continue
        lookup, count = [], 0
        for level in range(256):
            lookup.append(min((count + step // 2) // step, 255))
            count += histogram[level]
        out[b, ..., c] = np.array(lookup)[channel]
    return out


def test_equalize_matches_pil_and_loop_reference():
    images = sample_images()
    actual = run(image_operations.equalize, images)
    np.testing.assert_array_equal(actual, pil_map(ImageOps.equalize, images))
    np.testing.assert_array_equal(actual, reference_equalize(images))
    np.testing.assert_array_equal(actual[3], images[3])
    assert (actual[0] != images[0]).any()


def pil_operations(magnitude, size):
    """Every (operation, sign) of torchvision's table as a PIL function on one
    image, with the magnitudes computed from the table independently.
    AutoContrast is the exact rule: PIL's float64 lookup table can map the
    maximum to 254 (see `test_auto_contrast_matches_exact_reference_and_pil`)."""

    def lin(start, stop):
        return float(np.linspace(start, stop, NUM_BINS)[magnitude])

    shear = lin(0, 0.3)
    translate = int(np.linspace(0, 150 / 331 * size, NUM_BINS)[magnitude])
    bits = 8 - int(np.round(np.arange(NUM_BINS) / ((NUM_BINS - 1) / 4))[magnitude])

    def affine(data):
        return lambda image: image.transform(
            image.size, Image.AFFINE, data, Image.NEAREST
        )

    operations = {
        ("Identity", 1): lambda image: image,
        ("Posterize", 1): lambda image: ImageOps.posterize(image, bits),
        ("Solarize", 1): lambda image: ImageOps.solarize(image, lin(255, 0)),
        ("AutoContrast", 1): lambda image: Image.fromarray(
            reference_auto_contrast(np.asarray(image)[None])[0].astype("uint8")
        ),
        ("Equalize", 1): ImageOps.equalize,
    }
    for sign in (1, -1):
        operations.update(
            {
                ("ShearX", sign): affine((1, sign * shear, 0, 0, 1, 0)),
                ("ShearY", sign): affine((1, 0, 0, sign * shear, 1, 0)),
                ("TranslateX", sign): affine((1, 0, -sign * translate, 0, 1, 0)),
                ("TranslateY", sign): affine((1, 0, 0, 0, 1, -sign * translate)),
                ("Rotate", sign): lambda image, s=sign: image.rotate(
                    s * lin(0, 30), Image.NEAREST
                ),
            }
        )
        for name, enhancer in [
            ("Brightness", ImageEnhance.Brightness),
            ("Color", ImageEnhance.Color),
            ("Contrast", ImageEnhance.Contrast),
            ("Sharpness", ImageEnhance.Sharpness),
        ]:
            operations[name, sign] = lambda image, e=enhancer, s=sign: e(image).enhance(
                1 + s * lin(0, 0.9)
            )
    return operations


def test_one_operation_per_sample_covers_the_table():
    """256 draws for one image: each output is exactly one of the 23 PIL
    results (operation, sign), and every one of them occurs."""
    image = sample_images()[0]
    references = {
        key: np.asarray(function(Image.fromarray(image)))
        for key, function in pil_operations(15, SIZE).items()
    }
    assert len({r.tobytes() for r in references.values()}) == len(references) == 23
    layer = RandAugment(num_ops=1, magnitude=15, seed=4)
    copies = np.repeat(image[None], BATCH, axis=0)
    out = np.concatenate(
        [to_numpy(layer(copies, training=True)) for _ in range(256 // BATCH)]
    )
    found = [
        [key for key, reference in references.items() if np.array_equal(o, reference)]
        for o in out
    ]
    assert all(len(keys) == 1 for keys in found)
    assert {keys[0] for keys in found} == set(references)


def test_two_operations_compose_like_pil_step_by_step():
    image = sample_images()[1]
    operations = pil_operations(9, SIZE).values()
    chains = {
        np.asarray(second(first(Image.fromarray(image)))).tobytes()
        for first, second in itertools.product(operations, repeat=2)
    }
    copies = np.repeat(image[None], BATCH, axis=0)
    out = to_numpy(RandAugment(seed=2)(copies, training=True))
    assert all(o.tobytes() in chains for o in out)
    assert len({o.tobytes() for o in out}) > BATCH // 2


def test_identity_cases_and_seeded_determinism():
    images = distinct_images(size=SIZE)
    np.testing.assert_array_equal(to_numpy(RandAugment()(images)), images)
    np.testing.assert_array_equal(
        to_numpy(RandAugment(num_ops=0)(images, training=True)), images
    )
    first = to_numpy(RandAugment(seed=9)(images, training=True))
    np.testing.assert_array_equal(
        first, to_numpy(RandAugment(seed=9)(images, training=True))
    )
    assert (first != images).any()


def test_uint8_stays_uint8_and_floats_take_the_compute_dtype():
    images = distinct_images(size=SIZE)
    with mixed_precision("mixed_float16"):
        as_uint8 = RandAugment(seed=1)(images, training=True)
        as_float = RandAugment(seed=1)(images.astype("float32"), training=True)
    assert keras.backend.standardize_dtype(as_uint8.dtype) == "uint8"
    assert keras.backend.standardize_dtype(as_float.dtype) == "float16"
    # Whole grey levels in, whole grey levels out (exact in float16): the
    # same draws agree.
    np.testing.assert_array_equal(to_numpy(as_float), to_numpy(as_uint8))


def test_one_channel_images_and_per_channel_fill():
    grey = distinct_images(size=SIZE)[..., :1]
    out = to_numpy(RandAugment(fill_value=(7,), seed=0)(grey, training=True))
    assert out.shape == grey.shape and out.dtype == np.uint8


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"num_ops": -1}, ValueError),
        ({"num_ops": 1.5}, TypeError),
        ({"num_magnitude_bins": 1}, ValueError),
        ({"magnitude": 31}, ValueError),
        ({"magnitude": 3, "num_magnitude_bins": 3}, ValueError),
        ({"magnitude": -1}, ValueError),
        ({"fill_value": 256}, ValueError),
        ({"fill_value": -1}, ValueError),
        ({"fill_value": ()}, ValueError),
        ({"fill_value": (0, "a", 0)}, ValueError),
        ({"seed": -1}, ValueError),
    ],
)
def test_invalid_arguments(kwargs, error):
    with pytest.raises(error):
        RandAugment(**kwargs)


@pytest.mark.parametrize(
    "fill_value, channels, match", [((1, 2), 3, "fill_value"), (0, 4, "channels")]
)
def test_fill_and_channels_must_match_the_images(fill_value, channels, match):
    with pytest.raises(ValueError, match=match):
        RandAugment(fill_value=fill_value)(
            distinct_images(size=SIZE, channels=channels), training=True
        )
