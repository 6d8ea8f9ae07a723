import numpy as np
import pytest

from keras_ortho import regularizers
from tests import toolkit
from tests.regularizers import reference

CASES, ARRAYS = toolkit.load_golden("ocnn")


def _notes_kernel(shape_torch):
    # research/kernel_ortho.md section 6: K.flat[n] = 0.25 sin(0.9 n^2 + 0.1 n + 0.3).
    n = np.arange(np.prod(shape_torch))
    kernel = (0.25 * np.sin(0.9 * n**2 + 0.1 * n + 0.3)).reshape(shape_torch)
    return kernel.transpose(2, 3, 1, 0).astype("float32")


@pytest.mark.parametrize(
    "stride, padding", [(1, "paper"), (2, "paper"), (1, "reference"), (2, "reference")]
)
def test_every_layer_type_matches_numpy(stride, padding):
    reference.check_layer_types(
        lambda layout: regularizers.OrthogonalConvolution(
            0.3, stride=stride, padding=padding, kernel_layout=layout
        ),
        lambda kernel, layout: reference.orthogonal_convolution_np(
            kernel, layout, stride=stride, padding=padding
        ),
        factor=0.3,
    )


@pytest.mark.parametrize("padding", ["paper", "reference"])
@pytest.mark.parametrize("stride", [(2, 1), (1, 3)])
def test_per_dimension_stride_on_a_non_square_kernel(stride, padding):
    kernel = np.random.default_rng(2).normal(size=(3, 2, 2, 4)).astype("float32")
    got = regularizers.orthogonal_convolution(kernel, stride=stride, padding=padding)
    want = reference.orthogonal_convolution_np(
        kernel, "conv", stride=stride, padding=padding
    )
    np.testing.assert_allclose(toolkit.to_numpy(got), want, rtol=1e-5)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["id"])
@pytest.mark.parametrize("stride", [1, 2])
def test_golden_reference_padding_values_and_gradients(case, stride):
    arrays = toolkit.golden_case_arrays(ARRAYS, case["id"])
    kernel = arrays["kernel_torch"].transpose(2, 3, 1, 0).astype("float32")
    value, grad = toolkit.value_and_grad(
        lambda k: regularizers.orthogonal_convolution(
            k, stride=stride, padding="reference"
        ),
        kernel,
    )
    quantity = f"deconv_orth_dist_stride{stride}"
    np.testing.assert_allclose(value, arrays[quantity], rtol=1e-5)
    grad_torch = grad.transpose(3, 2, 0, 1).ravel()
    if f"grad_{quantity}" in arrays:
        got, want = grad_torch, arrays[f"grad_{quantity}"].ravel()
    else:
        got = grad_torch[arrays["grad_index"]]
        want = arrays[f"grad_{quantity}_sampled"]
    np.testing.assert_allclose(
        got, want, rtol=1e-4, atol=1e-5 * max(np.abs(want).max(), 1.0)
    )


@pytest.mark.parametrize(
    "shape_torch, stride, want",
    [
        ((4, 2, 3, 3), 1, 1.68798977),
        ((8, 3, 1, 1), 1, 2.57751661),
        ((16, 1, 3, 3), 1, 5.40525892),
        ((4, 2, 3, 3), 2, 1.08020435),
        ((8, 3, 1, 1), 2, 2.57751661),
        ((16, 1, 3, 3), 2, 3.74094698),
    ],
)
def test_notes_table_paper_padding(shape_torch, stride, want):
    value = regularizers.orthogonal_convolution(_notes_kernel(shape_torch), stride)
    np.testing.assert_allclose(toolkit.to_numpy(value), want, rtol=1e-5)


def test_golden_orth_dist_is_unsquared_soft_orthogonality_on_smaller_gram():
    for case in CASES:
        arrays = toolkit.golden_case_arrays(ARRAYS, case["id"])
        kernel = arrays["kernel_torch"].transpose(2, 3, 1, 0).astype("float32")
        value = regularizers.soft_orthogonality(kernel, gram="smaller", squared=False)
        np.testing.assert_allclose(
            toolkit.to_numpy(value), arrays["orth_dist"], rtol=1e-5, err_msg=case["id"]
        )


def test_reference_padding_1x1_stride_2_sees_only_padding():
    kernel = _notes_kernel((8, 3, 1, 1))
    value, grad = toolkit.value_and_grad(
        lambda k: regularizers.orthogonal_convolution(k, 2, padding="reference"),
        kernel,
    )
    np.testing.assert_allclose(value, np.sqrt(8.0), rtol=1e-6)
    np.testing.assert_array_equal(grad, np.zeros_like(grad))


def test_dense_kernel_is_the_unsquared_gram_distance():
    kernel = np.random.default_rng(3).normal(size=(7, 5)).astype("float32") * 0.4
    value = regularizers.orthogonal_convolution(kernel, stride=2)
    want = reference.soft_orthogonality_np(kernel, "dense", squared=False)
    np.testing.assert_allclose(toolkit.to_numpy(value), want, rtol=1e-5)


def test_orthogonal_convolution_has_zero_penalty_and_finite_gradient():
    # Only the centre tap is non-zero and orthonormal: every shifted
    # correlation vanishes and the Gram is the identity.
    q, _ = np.linalg.qr(np.random.default_rng(4).normal(size=(6, 4)))
    kernel = np.zeros((3, 3, 6, 4), "float32")
    kernel[1, 1] = q
    value, grad = toolkit.value_and_grad(regularizers.orthogonal_convolution, kernel)
    np.testing.assert_allclose(value, 0.0, atol=1e-3)
    assert np.all(np.isfinite(grad))


def test_zero_kernel_is_finite():
    kernel = np.zeros((3, 3, 2, 5), "float32")
    value, grad = toolkit.value_and_grad(
        lambda k: regularizers.OrthogonalConvolution(1.0)(k), kernel
    )
    np.testing.assert_allclose(value, np.sqrt(5.0), rtol=1e-6)
    assert np.all(np.isfinite(grad))


def test_factor_scales_the_penalty():
    kernel = np.random.default_rng(0).normal(size=(3, 3, 4, 8)).astype("float32")
    penalty = toolkit.to_numpy(regularizers.orthogonal_convolution(kernel))
    value = toolkit.to_numpy(regularizers.OrthogonalConvolution(0.25)(kernel))
    np.testing.assert_allclose(value, 0.25 * penalty, rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"factor": -1.0}, ValueError, "factor"),
        ({"factor": 0.1, "stride": 0}, ValueError, "stride"),
        ({"factor": 0.1, "stride": 1.0}, TypeError, "stride"),
        ({"factor": 0.1, "stride": True}, TypeError, "stride"),
        ({"factor": 0.1, "stride": ()}, ValueError, "stride"),
        ({"factor": 0.1, "stride": (1, 0)}, ValueError, "stride"),
        ({"factor": 0.1, "padding": "same"}, ValueError, "padding"),
        ({"factor": 0.1, "kernel_layout": "nhwc"}, ValueError, "kernel_layout"),
    ],
)
def test_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        regularizers.OrthogonalConvolution(**kwargs)


def test_stride_count_must_match_the_kernel():
    with pytest.raises(ValueError, match="stride"):
        regularizers.orthogonal_convolution(np.ones((3, 3, 2, 4), "float32"), (1, 1, 1))
