import numpy as np

from keras_ortho.layers import RandomHorizontalFlip
from tests.layers._augmentation_checks import distinct_images
from tests.toolkit import to_numpy


def test_each_sample_is_kept_or_mirrored_and_both_occur():
    images = distinct_images(batch=32)
    out = to_numpy(RandomHorizontalFlip(seed=1)(images, training=True))
    assert out.dtype == np.uint8
    flipped = []
    for image, result in zip(images, out, strict=True):
        mirrored = image[:, ::-1]
        assert np.array_equal(result, image) or np.array_equal(result, mirrored)
        flipped.append(np.array_equal(result, mirrored))
    assert 0 < sum(flipped) < len(flipped)


def test_identity_at_inference_and_seeded_determinism():
    images = distinct_images()
    np.testing.assert_array_equal(to_numpy(RandomHorizontalFlip()(images)), images)
    first = to_numpy(RandomHorizontalFlip(seed=2)(images, training=True))
    second = to_numpy(RandomHorizontalFlip(seed=2)(images, training=True))
    np.testing.assert_array_equal(first, second)
