import keras
import numpy as np
import pytest

from keras_ortho import regularizers
from tests import toolkit
from tests.regularizers import reference

CASES, ARRAYS = toolkit.load_golden("kernel_regularizers")


def _notes_kernel(shape_torch):
    # research/kernel_ortho.md section 6: K.flat[n] = 0.25 sin(0.9 n^2 + 0.1 n + 0.3).
    n = np.arange(np.prod(shape_torch))
    kernel = (0.25 * np.sin(0.9 * n**2 + 0.1 * n + 0.3)).reshape(shape_torch)
    return kernel.transpose(2, 3, 1, 0).astype("float32")


def test_every_layer_type_matches_numpy():
    reference.check_layer_types(
        lambda layout: regularizers.DoubleSoftOrthogonality(0.3, kernel_layout=layout),
        reference.double_soft_orthogonality_np,
        factor=0.3,
    )


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["id"])
def test_golden_values_and_gradients(case):
    arrays = toolkit.golden_case_arrays(ARRAYS, case["id"])
    kernel = arrays["kernel_keras"].astype("float32")
    value, grad = toolkit.value_and_grad(regularizers.double_soft_orthogonality, kernel)
    np.testing.assert_allclose(value, arrays["dso"], rtol=1e-5)
    # The golden data stores grad SO(filters); grad DSO is exactly twice it.
    index, want = toolkit.golden_kernel_gradient(arrays, "so_filter_gram")
    want = 2.0 * want
    scale = np.abs(want).max()
    np.testing.assert_allclose(grad.ravel()[index], want, rtol=1e-4, atol=1e-5 * scale)


@pytest.mark.parametrize(
    "shape_torch, expected",
    [((4, 2, 3, 3), 15.531505), ((8, 3, 1, 1), 8.287184), ((16, 1, 3, 3), 12.737684)],
)
def test_notes_table_values(shape_torch, expected):
    value = regularizers.double_soft_orthogonality(_notes_kernel(shape_torch))
    np.testing.assert_allclose(toolkit.to_numpy(value), expected, rtol=1e-5)


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 5), (1, 3, 2, 9)])
def test_brute_force_both_grams(shape):
    kernel = np.random.default_rng(2).normal(size=shape).astype("float32") * 0.4
    layout = "dense" if len(shape) == 2 else "conv"
    np.testing.assert_allclose(
        toolkit.to_numpy(regularizers.double_soft_orthogonality(kernel)),
        reference.double_soft_orthogonality_np(kernel, layout),
        rtol=1e-5,
    )


def test_factor_scales_the_penalty():
    kernel = np.random.default_rng(0).normal(size=(3, 3, 4, 8)).astype("float32")
    penalty = toolkit.to_numpy(regularizers.double_soft_orthogonality(kernel))
    value = toolkit.to_numpy(regularizers.DoubleSoftOrthogonality(0.25)(kernel))
    np.testing.assert_allclose(value, 0.25 * penalty, rtol=1e-6)
    assert toolkit.to_numpy(regularizers.DoubleSoftOrthogonality(0.0)(kernel)) == 0.0


def test_zero_kernel_is_finite():
    # ||0 - I_8||^2 + ||0 - I_36||^2 = 8 + 36.
    kernel = np.zeros((3, 3, 4, 8), "float32")
    value, grad = toolkit.value_and_grad(
        lambda k: regularizers.DoubleSoftOrthogonality(1.0)(k), kernel
    )
    np.testing.assert_allclose(value, 44.0)
    assert np.all(np.isfinite(grad))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_low_precision_kernel_is_computed_in_float32(dtype):
    kernel = np.random.default_rng(1).normal(size=(16, 12)).astype("float32") * 0.2
    low = keras.ops.cast(kernel, dtype)
    value = regularizers.DoubleSoftOrthogonality(1.0)(low)
    assert keras.backend.standardize_dtype(value.dtype) == "float32"
    rounded = toolkit.to_numpy(keras.ops.cast(low, "float32"))
    np.testing.assert_allclose(
        toolkit.to_numpy(value),
        reference.double_soft_orthogonality_np(rounded, "dense"),
        rtol=1e-5,
    )


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"factor": -1.0}, ValueError, "factor"),
        ({"factor": float("inf")}, ValueError, "factor"),
        ({"factor": None}, ValueError, "factor"),
        ({"factor": 0.1, "kernel_layout": "nhwc"}, ValueError, "kernel_layout"),
    ],
)
def test_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        regularizers.DoubleSoftOrthogonality(**kwargs)


def test_invalid_kernel():
    with pytest.raises(ValueError, match="kernel"):
        regularizers.double_soft_orthogonality(np.ones((5,), "float32"))
    with pytest.raises(ValueError, match="kernel_layout"):
        regularizers.double_soft_orthogonality(
            np.ones((3, 5), "float32"), kernel_layout="rows"
        )
