import keras
import numpy as np
import pytest

from keras_ortho.layers import MixWithPartners
from keras_ortho.recipes.sample_mixing import MixingDraw
from keras_ortho.recipes.sample_mixing import SampleMixing
from tests.layers._augmentation_checks import distinct_images
from tests.toolkit import MIXED_POLICIES
from tests.toolkit import assert_save_load_identical
from tests.toolkit import assert_serialization_round_trip
from tests.toolkit import fit_one_step
from tests.toolkit import mixed_precision
from tests.toolkit import to_numpy

HEIGHT, WIDTH = 12, 10


def reference_mix(images, draw):
    """Pixel by pixel: the partner inside the box, the blend outside."""
    out = np.empty(images.shape, np.float32)
    for i, (partner, weight, box) in enumerate(
        zip(draw.partners, draw.image_weights, draw.boxes, strict=True)
    ):
        top, left, bottom, right = box
        for y in range(images.shape[1]):
            for x in range(images.shape[2]):
                own = images[i, y, x].astype(np.float64)
                other = images[partner, y, x].astype(np.float64)
                if top <= y < bottom and left <= x < right:
                    out[i, y, x] = other
                else:
                    out[i, y, x] = weight * own + (1 - weight) * other
    return out


@pytest.mark.parametrize(
    "mixing", [SampleMixing(mixup_alpha=1.0), SampleMixing(cutmix_alpha=1.0)]
)
def test_mix_with_partners_matches_the_pixelwise_reference(mixing):
    images = distinct_images(batch=6, size=HEIGHT)[:, :, :WIDTH]
    draw = mixing.draw(np.random.default_rng(5), 6, HEIGHT, WIDTH)
    layer = MixWithPartners()
    arguments = [images, draw.partners, draw.image_weights, draw.boxes]
    out = to_numpy(layer(arguments, training=True))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, reference_mix(images, draw), atol=1e-4)
    np.testing.assert_array_equal(to_numpy(layer(arguments)), images)


def _mixing_model():
    images = keras.Input((8, 8, 3), dtype="uint8", name="images")
    draw_inputs = MixingDraw.symbolic_inputs()
    x = MixWithPartners()([images, *draw_inputs.values()])
    x = keras.layers.Rescaling(1 / 255)(x)
    logits = keras.layers.Dense(3)(keras.layers.GlobalAveragePooling2D()(x))
    return keras.Model({"images": images, **draw_inputs}, logits)


def _mixed_batch():
    images = distinct_images(batch=4, size=8)
    draw = SampleMixing(cutmix_alpha=1.0).draw(np.random.default_rng(1), 4, 8, 8)
    return draw.model_inputs(images), draw.soft_labels(np.array([0, 1, 2, 0]), 3)


def test_jit_fit():
    model = _mixing_model()
    x, y = _mixed_batch()
    fit_one_step(model, x, y, keras.losses.CategoricalCrossentropy(from_logits=True))
    assert model.jit_compile is True


def test_serialization_and_save_load(tmp_path):
    assert_serialization_round_trip(MixWithPartners(name="mix"))
    assert_save_load_identical(_mixing_model(), _mixed_batch()[0], tmp_path)


@pytest.mark.parametrize("policy", MIXED_POLICIES)
def test_mixed_precision(policy):
    with mixed_precision(policy):
        model = _mixing_model()
        x, y = _mixed_batch()
        mix = next(x for x in model.layers if isinstance(x, MixWithPartners))
        assert mix.output.dtype == mix.compute_dtype == policy.split("_")[1]
        mixed = mix([x["images"], *list(x.values())[1:]], training=True)
        assert keras.backend.standardize_dtype(mixed.dtype) == mix.compute_dtype
        fit_one_step(
            model,
            x,
            y,
            keras.losses.CategoricalCrossentropy(from_logits=True),
            jit_compile="auto",
        )
