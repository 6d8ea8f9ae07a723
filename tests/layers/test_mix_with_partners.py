import numpy as np
import pytest

from keras_ortho.layers import MixWithPartners
from keras_ortho.recipes.sample_mixing import SampleMixing
from tests.layers._augmentation_checks import distinct_images
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
