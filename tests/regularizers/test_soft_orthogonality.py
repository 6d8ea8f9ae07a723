import keras
import numpy as np
import pytest

from keras_ortho import regularizers
from tests import toolkit
from tests.regularizers import reference

CASES, ARRAYS = toolkit.load_golden("kernel_regularizers")


@pytest.mark.parametrize("gram", ["filters", "inputs", "smaller"])
@pytest.mark.parametrize("squared", [True, False])
def test_every_layer_type_matches_numpy(gram, squared):
    reference.check_layer_types(
        lambda layout: regularizers.SoftOrthogonality(
            0.3, gram=gram, squared=squared, kernel_layout=layout
        ),
        lambda kernel, layout: reference.soft_orthogonality_np(
            kernel, layout, gram=gram, squared=squared
        ),
        factor=0.3,
    )


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["id"])
def test_golden_values_and_gradients(case):
    arrays = toolkit.golden_case_arrays(ARRAYS, case["id"])
    kernel = arrays["kernel_keras"].astype("float32")
    value, grad = toolkit.value_and_grad(regularizers.soft_orthogonality, kernel)
    np.testing.assert_allclose(value, arrays["so_filter_gram"], rtol=1e-5)
    index, want = toolkit.golden_kernel_gradient(arrays, "so_filter_gram")
    scale = np.abs(want).max()
    np.testing.assert_allclose(grad.ravel()[index], want, rtol=1e-4, atol=1e-5 * scale)

    inputs_value = regularizers.soft_orthogonality(kernel, gram="inputs")
    np.testing.assert_allclose(
        toolkit.to_numpy(inputs_value), arrays["so_fanin_gram"], rtol=1e-5
    )


def test_notes_table_values():
    # research/kernel_ortho.md section 6, (4, 2, 3, 3) kernel.
    n = np.arange(4 * 2 * 3 * 3)
    kernel_torch = (0.25 * np.sin(0.9 * n**2 + 0.1 * n + 0.3)).reshape(4, 2, 3, 3)
    kernel = kernel_torch.transpose(2, 3, 1, 0).astype("float32")
    filters = regularizers.soft_orthogonality(kernel)
    inputs = regularizers.soft_orthogonality(kernel, gram="inputs")
    np.testing.assert_allclose(toolkit.to_numpy(filters), 0.765753, rtol=1e-5)
    np.testing.assert_allclose(toolkit.to_numpy(inputs), 14.765753, rtol=1e-5)


def test_factor_scales_the_penalty():
    kernel = np.random.default_rng(0).normal(size=(3, 3, 4, 8)).astype("float32")
    penalty = toolkit.to_numpy(regularizers.soft_orthogonality(kernel))
    value = toolkit.to_numpy(regularizers.SoftOrthogonality(0.25)(kernel))
    np.testing.assert_allclose(value, 0.25 * penalty, rtol=1e-6)
    assert toolkit.to_numpy(regularizers.SoftOrthogonality(0.0)(kernel)) == 0.0


def test_zero_kernel_is_finite():
    kernel = np.zeros((3, 3, 4, 8), "float32")
    value, grad = toolkit.value_and_grad(
        lambda k: regularizers.SoftOrthogonality(1.0)(k), kernel
    )
    np.testing.assert_allclose(value, 8.0)
    assert np.all(np.isfinite(grad))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_low_precision_kernel_is_computed_in_float32(dtype):
    kernel = np.random.default_rng(1).normal(size=(16, 12)).astype("float32") * 0.2
    low = keras.ops.cast(kernel, dtype)
    value = regularizers.SoftOrthogonality(1.0)(low)
    assert keras.backend.standardize_dtype(value.dtype) == "float32"
    rounded = toolkit.to_numpy(keras.ops.cast(low, "float32"))
    np.testing.assert_allclose(
        toolkit.to_numpy(value),
        reference.soft_orthogonality_np(rounded, "dense"),
        rtol=1e-5,
    )


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"factor": -1.0}, ValueError, "factor"),
        ({"factor": float("nan")}, ValueError, "factor"),
        ({"factor": "0.1"}, ValueError, "factor"),
        ({"factor": True}, ValueError, "factor"),
        ({"factor": 0.1, "gram": "rows"}, ValueError, "gram"),
        ({"factor": 0.1, "squared": 1}, TypeError, "squared"),
        ({"factor": 0.1, "kernel_layout": "nhwc"}, ValueError, "kernel_layout"),
    ],
)
def test_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        regularizers.SoftOrthogonality(**kwargs)


def test_invalid_kernel_rank():
    with pytest.raises(ValueError, match="kernel"):
        regularizers.soft_orthogonality(np.ones((5,), "float32"))
    with pytest.raises(ValueError, match="kernel"):
        regularizers.soft_orthogonality(
            np.ones((3, 5), "float32"), kernel_layout="conv"
        )
