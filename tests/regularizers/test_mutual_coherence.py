import keras
import numpy as np
import pytest

from keras_ortho import regularizers
from tests import toolkit
from tests.regularizers import reference

CASES, ARRAYS = toolkit.load_golden("kernel_regularizers")
KERAS_CASES, KERAS_ARRAYS = toolkit.load_golden("keras_orthogonal")
KERAS_MODES = {"filters": "columns", "inputs": "rows"}


def _notes_kernel(shape_torch):
    # research/kernel_ortho.md section 6: K.flat[n] = 0.25 sin(0.9 n^2 + 0.1 n + 0.3).
    n = np.arange(np.prod(shape_torch))
    kernel = (0.25 * np.sin(0.9 * n**2 + 0.1 * n + 0.3)).reshape(shape_torch)
    return kernel.transpose(2, 3, 1, 0).astype("float32")


@pytest.mark.parametrize("reduction, gram", [("max", "filters"), ("mean", "inputs")])
def test_every_layer_type_matches_numpy(reduction, gram):
    reference.check_layer_types(
        lambda layout: regularizers.MutualCoherence(
            0.3, reduction=reduction, gram=gram, kernel_layout=layout
        ),
        lambda kernel, layout: reference.mutual_coherence_np(
            kernel, layout, reduction=reduction, gram=gram
        ),
        factor=0.3,
    )


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["id"])
def test_golden_max_values_and_gradients(case):
    arrays = toolkit.golden_case_arrays(ARRAYS, case["id"])
    kernel = arrays["kernel_keras"].astype("float32")
    value, grad = toolkit.value_and_grad(regularizers.mutual_coherence, kernel)
    np.testing.assert_allclose(value, arrays["mc"], rtol=1e-5)
    if "grad_mc" in case["grads_omitted"]:
        pytest.skip("golden gradient omitted: maximiser not unique")
    index, want = toolkit.golden_kernel_gradient(arrays, "mc")
    scale = np.abs(want).max()
    np.testing.assert_allclose(grad.ravel()[index], want, rtol=1e-4, atol=1e-5 * scale)


@pytest.mark.parametrize("gram", ["filters", "inputs"])
@pytest.mark.parametrize("case", KERAS_CASES, ids=lambda c: c["id"])
def test_mean_matches_keras_orthogonal_regularizer_golden(case, gram):
    arrays = toolkit.golden_case_arrays(KERAS_ARRAYS, case["id"])
    mode = KERAS_MODES[gram]
    matrix = arrays["matrix"].astype("float32")
    regularizer = regularizers.MutualCoherence(0.01, reduction="mean", gram=gram)
    value, grad = toolkit.value_and_grad(regularizer, matrix)
    np.testing.assert_allclose(value, arrays[f"value_{mode}"], rtol=1e-5)
    if f"grad_{mode}" in arrays:
        index, want = np.arange(matrix.size), arrays[f"grad_{mode}"].ravel()
    else:
        index, want = arrays["grad_index"], arrays[f"grad_{mode}_sampled"]
    scale = np.abs(want).max()
    np.testing.assert_allclose(grad.ravel()[index], want, rtol=1e-4, atol=1e-5 * scale)


@pytest.mark.parametrize("gram", ["filters", "inputs"])
def test_mean_matches_live_keras_regularizer(gram):
    matrix = np.random.default_rng(3).normal(size=(7, 5)).astype("float32")
    keras_value = keras.regularizers.OrthogonalRegularizer(0.2, mode=KERAS_MODES[gram])(
        keras.ops.convert_to_tensor(matrix)
    )
    ours = regularizers.MutualCoherence(0.2, reduction="mean", gram=gram)(matrix)
    np.testing.assert_allclose(
        toolkit.to_numpy(ours), toolkit.to_numpy(keras_value), rtol=1e-5
    )


@pytest.mark.parametrize(
    "shape_torch, expected",
    [
        ((4, 2, 3, 3), 0.23993082),
        ((8, 3, 1, 1), 0.99892312),
        ((16, 1, 3, 3), 0.93336582),
    ],
)
def test_notes_table_values(shape_torch, expected):
    value = regularizers.mutual_coherence(_notes_kernel(shape_torch))
    np.testing.assert_allclose(toolkit.to_numpy(value), expected, rtol=1e-5)


def test_notes_table_keras_columns_value():
    # Section 6: Keras OR(0.01), columns, on the (4, 2, 3, 3) kernel.
    value = regularizers.MutualCoherence(0.01, reduction="mean")(
        _notes_kernel((4, 2, 3, 3))
    )
    np.testing.assert_allclose(toolkit.to_numpy(value), 0.0010862440, rtol=1e-5)


def test_sign_and_scale_invariance():
    rng = np.random.default_rng(4)
    kernel = rng.normal(size=(9, 6)).astype("float32")
    scaled = kernel * np.array([1.0, -2.0, 0.5, 3.0, -1.0, 10.0], "float32")
    np.testing.assert_allclose(
        toolkit.to_numpy(regularizers.mutual_coherence(scaled)),
        toolkit.to_numpy(regularizers.mutual_coherence(kernel)),
        rtol=1e-5,
    )


def test_orthonormal_filters_have_zero_coherence():
    kernel = np.linalg.qr(np.random.default_rng(5).normal(size=(8, 5)))[0]
    value = regularizers.mutual_coherence(kernel.astype("float32"))
    assert toolkit.to_numpy(value) < 1e-6


@pytest.mark.parametrize("reduction", ["max", "mean"])
def test_single_filter_is_zero_not_nan(reduction):
    kernel = np.random.default_rng(6).normal(size=(3, 3, 2, 1)).astype("float32")
    value, grad = toolkit.value_and_grad(
        lambda k: regularizers.mutual_coherence(k, reduction=reduction), kernel
    )
    assert value == 0.0
    np.testing.assert_array_equal(grad, np.zeros_like(kernel))


@pytest.mark.parametrize("reduction", ["max", "mean"])
def test_zero_filter_has_zero_cosine_and_finite_gradient(reduction):
    kernel = np.random.default_rng(7).normal(size=(6, 4)).astype("float32")
    kernel[:, 2] = 0.0
    value, grad = toolkit.value_and_grad(
        lambda k: regularizers.mutual_coherence(k, reduction=reduction), kernel
    )
    np.testing.assert_allclose(
        value, reference.mutual_coherence_np(kernel, "dense", reduction), rtol=1e-5
    )
    assert np.all(np.isfinite(grad))


@pytest.mark.parametrize("gram", ["filters", "inputs"])
def test_zero_kernel_is_finite(gram):
    kernel = np.zeros((3, 3, 4, 8), "float32")
    value, grad = toolkit.value_and_grad(
        lambda k: regularizers.MutualCoherence(1.0, gram=gram)(k), kernel
    )
    assert value == 0.0
    assert np.all(np.isfinite(grad))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_low_precision_kernel_is_computed_in_float32(dtype):
    kernel = np.random.default_rng(1).normal(size=(16, 12)).astype("float32") * 0.2
    low = keras.ops.cast(kernel, dtype)
    value = regularizers.MutualCoherence(1.0)(low)
    assert keras.backend.standardize_dtype(value.dtype) == "float32"
    rounded = toolkit.to_numpy(keras.ops.cast(low, "float32"))
    np.testing.assert_allclose(
        toolkit.to_numpy(value),
        reference.mutual_coherence_np(rounded, "dense"),
        rtol=1e-5,
    )


def test_factor_scales_the_penalty():
    kernel = np.random.default_rng(0).normal(size=(3, 3, 4, 8)).astype("float32")
    penalty = toolkit.to_numpy(regularizers.mutual_coherence(kernel))
    value = toolkit.to_numpy(regularizers.MutualCoherence(0.25)(kernel))
    np.testing.assert_allclose(value, 0.25 * penalty, rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"factor": -1.0}, ValueError, "factor"),
        ({"factor": "1"}, ValueError, "factor"),
        ({"factor": 0.1, "reduction": "sum"}, ValueError, "reduction"),
        ({"factor": 0.1, "reduction": None}, ValueError, "reduction"),
        ({"factor": 0.1, "gram": "smaller"}, ValueError, "gram"),
        ({"factor": 0.1, "gram": "columns"}, ValueError, "gram"),
        ({"factor": 0.1, "kernel_layout": "nhwc"}, ValueError, "kernel_layout"),
    ],
)
def test_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        regularizers.MutualCoherence(**kwargs)


@pytest.mark.parametrize(
    "kwargs, match",
    [({"reduction": "min"}, "reduction"), ({"gram": "rows"}, "gram")],
)
def test_functional_form_validates(kwargs, match):
    with pytest.raises(ValueError, match=match):
        regularizers.mutual_coherence(np.ones((3, 4), "float32"), **kwargs)
