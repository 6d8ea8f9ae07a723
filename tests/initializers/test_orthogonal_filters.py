import keras
import numpy as np
import pytest

from keras_ortho import initializers
from tests import toolkit
from tests.constraints import reference

# Values NumPy's PCG64 gives for a Dense kernel (3, 2), seed 7: computed once
# with `haar_np` below; the same on every backend and NumPy version that keeps
# PCG64's stream (NumPy promises stream stability for a seeded Generator).
DENSE_3X2_SEED_7 = [
    [0.002317012, 0.762826876],
    [-0.516342601, -0.552823816],
    [-0.856378976, 0.335381850],
]


def haar_np(seed, groups, rows, columns):
    """The documented draw, written out: a standard normal (max x min) matrix
    per group from PCG64(seed), QR, columns times sign(diag(R))."""
    rng = np.random.Generator(np.random.PCG64(seed))
    wide = columns > rows
    shape = (groups, columns, rows) if wide else (groups, rows, columns)
    draws = rng.standard_normal(shape)
    result = []
    for draw in draws:
        q, r = np.linalg.qr(draw)
        q = q * np.sign(np.diag(r))
        result.append(q.T if wide else q)
    return np.stack(result)


CASES = [
    ("dense", (12, 5)),
    ("dense", (4, 9)),
    ("conv", (3, 3, 4, 8)),
    ("conv", (1, 1, 16, 4)),
    ("conv", (5, 4, 2, 3)),
    ("conv", (3, 3, 3, 3, 2)),
    ("conv_transpose", (3, 3, 6, 2)),
    ("depthwise", (3, 3, 4, 1)),
    ("depthwise", (3, 3, 2, 12)),
]


@pytest.mark.parametrize("layout, shape", CASES)
def test_values_are_the_documented_draw(layout, shape):
    kernel = initializers.OrthogonalFilters(gain=1.5, seed=42, kernel_layout=layout)(
        shape
    )
    groups = reference.filter_groups_of(np.zeros(shape), layout)
    want = reference.kernel_of(1.5 * haar_np(42, *groups.shape), shape, layout)
    np.testing.assert_allclose(toolkit.to_numpy(kernel), want, atol=1e-7)
    values = reference.singular_values_of_groups(toolkit.to_numpy(kernel), layout)
    np.testing.assert_allclose(values, 1.5, atol=1e-6)


def test_same_values_on_every_backend():
    kernel = initializers.OrthogonalFilters(seed=7)((3, 2))
    np.testing.assert_allclose(toolkit.to_numpy(kernel), DENSE_3X2_SEED_7, atol=1e-8)


def test_seed_semantics():
    seeded = initializers.OrthogonalFilters(seed=3, kernel_layout="conv")
    np.testing.assert_array_equal(
        toolkit.to_numpy(seeded((3, 3, 2, 4))), toolkit.to_numpy(seeded((3, 3, 2, 4)))
    )
    unseeded = initializers.OrthogonalFilters(kernel_layout="conv")
    keras.utils.set_random_seed(5)
    first, second = unseeded((3, 3, 2, 4)), unseeded((3, 3, 2, 4))
    assert not np.allclose(toolkit.to_numpy(first), toolkit.to_numpy(second))
    keras.utils.set_random_seed(5)
    np.testing.assert_array_equal(
        toolkit.to_numpy(unseeded((3, 3, 2, 4))), toolkit.to_numpy(first)
    )


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32"])
def test_dtype(dtype):
    kernel = initializers.OrthogonalFilters(seed=0)((6, 3), dtype=dtype)
    assert keras.backend.standardize_dtype(kernel.dtype) == dtype


def test_in_a_layer_with_its_layout():
    layer = keras.layers.Conv2DTranspose(
        5,
        3,
        kernel_initializer=initializers.OrthogonalFilters(
            seed=1, kernel_layout="conv_transpose"
        ),
    )
    layer.build((None, 4, 4, 3))
    values = reference.singular_values_of_groups(
        toolkit.to_numpy(layer.kernel), "conv_transpose"
    )
    np.testing.assert_allclose(values, 1.0, atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"gain": 0.0}, ValueError, "gain"),
        ({"seed": -1}, ValueError, "seed"),
        ({"seed": 1.5}, TypeError, "seed"),
        ({"kernel_layout": "hwio"}, ValueError, "kernel_layout"),
    ],
)
def test_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        initializers.OrthogonalFilters(**kwargs)


def test_auto_layout_refuses_to_guess():
    with pytest.raises(ValueError, match="kernel_layout"):
        initializers.OrthogonalFilters(seed=0)((3, 3, 2, 4))
