import keras
import numpy as np
import pytest

from keras_ortho import diagnostics
from keras_ortho import initializers
from tests import toolkit
from tests.initializers.test_orthogonal_filters import haar_np

# NumPy's PCG64 draw for a (2, 3) centre matrix, seed 11 (see haar_np).
CENTRE_2X3_SEED_11 = [
    [0.027117509, 0.971298547, -0.236312870],
    [0.907352502, -0.123121549, -0.401935968],
]


@pytest.mark.parametrize(
    "shape",
    [
        (3, 3, 4, 8),
        (5, 5, 8, 4),
        (1, 1, 3, 3),
        (4, 4, 2, 2),
        (3, 2, 5),
        (3, 3, 3, 2, 4),
    ],
)
def test_orthogonal_centre_and_zeros_elsewhere(shape):
    kernel = toolkit.to_numpy(initializers.DeltaOrthogonal(gain=2.0, seed=9)(shape))
    centre = tuple(size // 2 for size in shape[:-2])
    np.testing.assert_allclose(
        kernel[centre], 2.0 * haar_np(9, 1, *shape[-2:])[0], atol=1e-7
    )
    rest = kernel.copy()
    rest[centre] = 0.0
    assert not rest.any()


def test_same_values_on_every_backend():
    kernel = toolkit.to_numpy(initializers.DeltaOrthogonal(seed=11)((3, 3, 2, 3)))
    np.testing.assert_allclose(kernel[1, 1], CENTRE_2X3_SEED_11, atol=1e-8)


def test_isometry_with_same_zero_padding():
    kernel = initializers.DeltaOrthogonal(seed=0)((3, 3, 2, 4))
    values = diagnostics.convolution_singular_values(
        kernel, (4, 4), padding="same", kernel_layout="conv"
    )
    np.testing.assert_allclose(values, 1.0, atol=1e-6)


def test_dtype():
    initializer = initializers.DeltaOrthogonal(gain=0.5, seed=2)
    kernel = initializer((3, 3, 2, 2), dtype="bfloat16")
    assert keras.backend.standardize_dtype(kernel.dtype) == "bfloat16"


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"gain": -1.0}, ValueError, "gain"),
        ({"seed": "0"}, TypeError, "seed"),
    ],
)
def test_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        initializers.DeltaOrthogonal(**kwargs)


def test_invalid_shape():
    with pytest.raises(ValueError, match="shape"):
        initializers.DeltaOrthogonal(seed=0)((5,))
