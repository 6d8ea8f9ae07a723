import numpy as np
import pytest

from keras_ortho import regularizers
from tests import toolkit
from tests.regularizers import reference

CASES, ARRAYS = toolkit.load_golden("kernel_regularizers")


@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("power", [2, 1.5])
def test_every_layer_type_matches_numpy(normalize, power):
    options = {
        "diagonal_weight": 0.7,
        "correlation_weight": 1.3,
        "normalize_correlations": normalize,
        "correlation_power": power,
    }
    reference.check_layer_types(
        lambda layout: regularizers.DisentangledOrthogonality(
            0.3, kernel_layout=layout, **options
        ),
        lambda kernel, layout: reference.disentangled_orthogonality_np(
            kernel, layout, **options
        ),
        factor=0.3,
    )


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["id"])
def test_golden_diagonal_and_correlation_terms(case):
    arrays = toolkit.golden_case_arrays(ARRAYS, case["id"])
    kernel = arrays["kernel_keras"].astype("float32")

    def term(diagonal_weight, correlation_weight):
        return lambda k: regularizers.disentangled_orthogonality(
            k,
            diagonal_weight=diagonal_weight,
            correlation_weight=correlation_weight,
            normalize_correlations=False,
        )

    index, want_d = toolkit.golden_kernel_gradient(arrays, "diag_D")
    _, want_so = toolkit.golden_kernel_gradient(arrays, "so_filter_gram")
    value_d, grad_d = toolkit.value_and_grad(term(1.0, 0.0), kernel)
    value_c, grad_c = toolkit.value_and_grad(term(0.0, 1.0), kernel)
    np.testing.assert_allclose(value_d, arrays["diag_D"], rtol=1e-5)
    np.testing.assert_allclose(value_c, arrays["offdiag_C"], rtol=1e-5)
    # grad offdiag_C = grad so_filter_gram - grad diag_D (golden README).
    for got, want in [(grad_d, want_d), (grad_c, want_so - want_d)]:
        scale = max(np.abs(want).max(), np.abs(want_so).max())
        np.testing.assert_allclose(
            got.ravel()[index], want, rtol=1e-4, atol=1e-5 * scale
        )


@pytest.mark.parametrize("shape", [(3, 3, 4, 8), (1, 1, 3, 8), (12, 5)])
def test_raw_correlations_with_unit_weights_equal_soft_orthogonality(shape):
    kernel = np.random.default_rng(5).normal(size=shape).astype("float32") * 0.3
    value, grad = toolkit.value_and_grad(
        lambda k: regularizers.disentangled_orthogonality(
            k, normalize_correlations=False
        ),
        kernel,
    )
    want_value, want_grad = toolkit.value_and_grad(
        regularizers.soft_orthogonality, kernel
    )
    np.testing.assert_allclose(value, want_value, rtol=1e-5)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize(
    "shape_torch, diag_d, half_cos_squared",
    [
        ((4, 2, 3, 3), 0.69537180, 0.10430671),
        ((8, 3, 1, 1), 6.46947851, 8.69604992),
        ((16, 1, 3, 3), 8.12249871, 10.43549503),
    ],
)
def test_notes_table_normalised_correlations(shape_torch, diag_d, half_cos_squared):
    # research/kernel_ortho.md section 6: D and sum_{i<j} cos^2.
    n = np.arange(np.prod(shape_torch))
    kernel_torch = (0.25 * np.sin(0.9 * n**2 + 0.1 * n + 0.3)).reshape(shape_torch)
    kernel = kernel_torch.transpose(2, 3, 1, 0).astype("float32")
    value = regularizers.disentangled_orthogonality(kernel)
    np.testing.assert_allclose(
        toolkit.to_numpy(value), diag_d + 2 * half_cos_squared, rtol=1e-5
    )


@pytest.mark.parametrize("power", [2, 1, 3.5])
def test_normalised_gradient_matches_finite_differences(power):
    kernel = np.random.default_rng(6).normal(size=(2, 3, 4)) * 0.5

    def numpy_penalty(k):
        return reference.disentangled_orthogonality_np(k, "conv", 0.6, 1.4, True, power)

    _, grad = toolkit.value_and_grad(
        lambda k: regularizers.disentangled_orthogonality(
            k, diagonal_weight=0.6, correlation_weight=1.4, correlation_power=power
        ),
        kernel.astype("float32"),
    )
    want = reference.numerical_gradient_np(numpy_penalty, kernel)
    np.testing.assert_allclose(grad, want, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("normalize", [True, False])
@pytest.mark.parametrize("power", [2, 1])
def test_zero_kernel_and_zero_filter_are_finite(normalize, power):
    def penalty(k):
        return regularizers.DisentangledOrthogonality(
            1.0, normalize_correlations=normalize, correlation_power=power
        )(k)

    kernel = np.zeros((3, 3, 2, 5), "float32")
    value, grad = toolkit.value_and_grad(penalty, kernel)
    np.testing.assert_allclose(value, 5.0)
    assert np.all(np.isfinite(grad))

    kernel = np.random.default_rng(7).normal(size=(3, 3, 2, 5)).astype("float32")
    kernel[..., 2] = 0.0
    value, grad = toolkit.value_and_grad(penalty, kernel)
    np.testing.assert_allclose(
        value,
        reference.disentangled_orthogonality_np(
            kernel, "conv", normalize_correlations=normalize, correlation_power=power
        ),
        rtol=1e-5,
    )
    assert np.all(np.isfinite(grad))


def test_factor_scales_the_penalty():
    kernel = np.random.default_rng(0).normal(size=(3, 3, 4, 8)).astype("float32")
    penalty = toolkit.to_numpy(regularizers.disentangled_orthogonality(kernel))
    value = toolkit.to_numpy(regularizers.DisentangledOrthogonality(0.25)(kernel))
    np.testing.assert_allclose(value, 0.25 * penalty, rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"factor": -1.0}, ValueError, "factor"),
        ({"factor": 0.1, "diagonal_weight": -1.0}, ValueError, "diagonal_weight"),
        ({"factor": 0.1, "diagonal_weight": "1"}, ValueError, "diagonal_weight"),
        (
            {"factor": 0.1, "correlation_weight": float("inf")},
            ValueError,
            "correlation_weight",
        ),
        ({"factor": 0.1, "normalize_correlations": 1}, TypeError, "normalize"),
        ({"factor": 0.1, "correlation_power": 0.5}, ValueError, "correlation_power"),
        ({"factor": 0.1, "correlation_power": 0}, ValueError, "correlation_power"),
        ({"factor": 0.1, "correlation_power": "2"}, ValueError, "correlation_power"),
        ({"factor": 0.1, "kernel_layout": "nhwc"}, ValueError, "kernel_layout"),
    ],
)
def test_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        regularizers.DisentangledOrthogonality(**kwargs)
