import keras
import numpy as np
import pytest

from keras_ortho import regularizers
from tests import toolkit
from tests.regularizers import reference

CASES, ARRAYS = toolkit.load_golden("kernel_regularizers")
# Cases whose top singular value of G - I is separated from the next by more
# than 10%: power iteration converges fast and the gradient is well defined.
WELL_SEPARATED = 0.1


def _notes_kernel(shape_torch):
    # research/kernel_ortho.md section 6: K.flat[n] = 0.25 sin(0.9 n^2 + 0.1 n + 0.3).
    n = np.arange(np.prod(shape_torch))
    kernel = (0.25 * np.sin(0.9 * n**2 + 0.1 * n + 0.3)).reshape(shape_torch)
    return kernel.transpose(2, 3, 1, 0).astype("float32")


def _fan_in_to_keras_order(vector, kernel_torch):
    """A fan-in vector in torch flattening order `(cin, kh, kw)` reordered to
    the Keras filter-matrix row order `(kh, kw, cin)`."""
    vector = np.asarray(vector).ravel()
    if kernel_torch.ndim == 2:
        return vector
    return vector.reshape(kernel_torch.shape[1:]).transpose(1, 2, 0).ravel()


def _assert_gradient(grad, arrays, quantity):
    index, want = toolkit.golden_kernel_gradient(arrays, quantity)
    scale = np.abs(want).max()
    np.testing.assert_allclose(grad.ravel()[index], want, rtol=1e-3, atol=1e-4 * scale)


@pytest.mark.parametrize(
    "options",
    [
        {"gram": "filters"},
        {"gram": "inputs", "squared": True, "power_iterations": 3},
        {"gram": "smaller", "start": "uniform", "seed": 7, "power_iterations": 1},
    ],
    ids=["filters", "inputs", "smaller"],
)
def test_every_layer_type_matches_numpy(options):
    reference.check_layer_types(
        lambda layout: regularizers.SpectralRestrictedIsometry(
            0.3, kernel_layout=layout, **options
        ),
        lambda kernel, layout: reference.spectral_restricted_isometry_np(
            kernel, layout, **options
        ),
        factor=0.3,
    )


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["id"])
def test_golden_wide_resnet_cifar_variant(case):
    arrays = toolkit.golden_case_arrays(ARRAYS, case["id"])
    kernel = arrays["kernel_keras"].astype("float32")
    start = arrays["srip_wrn_start_b"]
    if case["cout"] > case["fan_in"]:
        start = _fan_in_to_keras_order(start, arrays["kernel_torch"])
    value, grad = toolkit.value_and_grad(
        lambda k: regularizers.spectral_restricted_isometry(
            k, power_iterations=1, gram="smaller", squared=True, start_vector=start
        ),
        kernel,
    )
    np.testing.assert_allclose(value, arrays["srip_wrn"], rtol=1e-5)
    _assert_gradient(grad, arrays, "srip_wrn")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["id"])
def test_golden_imagenet_svhn_variant(case):
    arrays = toolkit.golden_case_arrays(ARRAYS, case["id"])
    kernel = arrays["kernel_keras"].astype("float32")
    start = _fan_in_to_keras_order(
        arrays["srip_imagenet_start_u0"], arrays["kernel_torch"]
    )
    value, grad = toolkit.value_and_grad(
        lambda k: regularizers.spectral_restricted_isometry(
            k, power_iterations=1, gram="inputs", squared=True, start_vector=start
        ),
        kernel,
    )
    np.testing.assert_allclose(value, arrays["srip_imagenet"], rtol=1e-5)
    np.testing.assert_allclose(value, arrays["srip_svhn"], rtol=1e-5)
    _assert_gradient(grad, arrays, "srip_imagenet")


@pytest.mark.parametrize(
    "gram, quantity",
    [
        ("filters", "sigma_filter_gram"),
        ("inputs", "sigma_fanin_gram"),
        ("smaller", "sigma_small_gram"),
    ],
)
def test_converges_to_exact_sigma(gram, quantity):
    checked = 0
    for case in CASES:
        if case["maximiser_relative_gaps"][quantity] < WELL_SEPARATED:
            continue
        arrays = toolkit.golden_case_arrays(ARRAYS, case["id"])
        kernel = arrays["kernel_keras"].astype("float32")
        w = reference.filter_matrix_of(kernel, "conv" if kernel.ndim == 4 else "dense")
        side = {"filters": w.T @ w, "inputs": w @ w.T}
        exact = arrays[quantity]
        if gram != "smaller":
            eigenvalues = np.linalg.eigvalsh(side[gram] - np.eye(len(side[gram])))
            np.testing.assert_allclose(np.abs(eigenvalues).max(), exact, rtol=1e-6)
        errors = [
            abs(
                toolkit.to_numpy(
                    regularizers.spectral_restricted_isometry(
                        kernel, power_iterations=k, gram=gram
                    )
                )
                / exact
                - 1.0
            )
            for k in (1, 100)
        ]
        assert errors[1] < 1e-4, case["id"]
        assert errors[1] < errors[0], case["id"]
        checked += 1
    assert checked >= 3


@pytest.mark.parametrize("case_id", ["case003", "case008", "case010"])
def test_many_iterations_gradient_matches_exact_sigma_gradient(case_id):
    case = next(c for c in CASES if c["id"] == case_id)
    assert case["maximiser_relative_gaps"]["sigma_filter_gram"] > WELL_SEPARATED
    arrays = toolkit.golden_case_arrays(ARRAYS, case_id)
    kernel = arrays["kernel_keras"].astype("float32")
    value, grad = toolkit.value_and_grad(
        lambda k: regularizers.spectral_restricted_isometry(k, power_iterations=100),
        kernel,
        jit=False,  # XLA takes about a minute to compile the unrolled loop
    )
    np.testing.assert_allclose(value, arrays["sigma_filter_gram"], rtol=1e-4)
    _assert_gradient(grad, arrays, "sigma_filter_gram")


@pytest.mark.parametrize(
    "shape_torch, cifar, imagenet, keras_script",
    [
        ((4, 2, 3, 3), 0.22501745, 0.99488225, 0.47436004),
        ((8, 3, 1, 1), 0.53195535, 0.53195535, 0.97429427),
        ((16, 1, 3, 3), 0.63622877, 0.63622877, 0.97571014),
    ],
)
def test_notes_table_all_ones_start(shape_torch, cifar, imagenet, keras_script):
    kernel = _notes_kernel(shape_torch)
    fan_in, filters = np.prod(shape_torch[1:]), shape_torch[0]

    def one_step(gram, squared):
        size = {"filters": filters, "inputs": fan_in}.get(gram, min(fan_in, filters))
        value = regularizers.spectral_restricted_isometry(
            kernel,
            power_iterations=1,
            gram=gram,
            squared=squared,
            start_vector=np.ones(size, "float32"),
        )
        return toolkit.to_numpy(value)

    np.testing.assert_allclose(one_step("smaller", True), cifar, rtol=1e-5)
    np.testing.assert_allclose(one_step("inputs", True), imagenet, rtol=1e-5)
    np.testing.assert_allclose(one_step("filters", False), keras_script, rtol=1e-5)


@pytest.mark.parametrize("start", ["normal", "uniform"])
def test_seeded_start_is_deterministic_and_matches_numpy(start):
    kernel = np.random.default_rng(8).normal(size=(3, 3, 2, 6)).astype("float32")
    regularizer = regularizers.SRIP(1.0, power_iterations=1, start=start, seed=11)
    first = toolkit.to_numpy(regularizer(kernel))
    second = toolkit.to_numpy(regularizer(kernel))
    again = toolkit.to_numpy(
        regularizers.SRIP(1.0, power_iterations=1, start=start, seed=11)(kernel)
    )
    assert first.tobytes() == second.tobytes() == again.tobytes()
    np.testing.assert_allclose(
        first,
        reference.spectral_restricted_isometry_np(
            kernel, "conv", power_iterations=1, start=start, seed=11
        ),
        rtol=1e-5,
    )
    other_seed = regularizers.SRIP(1.0, power_iterations=1, start=start, seed=12)
    assert toolkit.to_numpy(other_seed(kernel)) != first


def test_estimate_is_a_lower_bound_of_sigma():
    kernel = np.random.default_rng(9).normal(size=(20, 12)).astype("float32") * 0.3
    w = kernel.astype(np.float64)
    exact = np.abs(np.linalg.eigvalsh(w.T @ w - np.eye(12))).max()
    for seed in range(5):
        estimate = regularizers.spectral_restricted_isometry(kernel, seed=seed)
        assert toolkit.to_numpy(estimate) <= exact * (1 + 1e-6)


def test_squared_is_the_square():
    kernel = np.random.default_rng(10).normal(size=(3, 3, 4, 8)).astype("float32")
    plain = toolkit.to_numpy(regularizers.spectral_restricted_isometry(kernel))
    squared = regularizers.spectral_restricted_isometry(kernel, squared=True)
    np.testing.assert_allclose(toolkit.to_numpy(squared), plain**2, rtol=1e-5)


@pytest.mark.parametrize("gram", ["filters", "inputs", "smaller"])
@pytest.mark.parametrize("squared", [True, False])
def test_zero_kernel_is_finite(gram, squared):
    # M = -I, so every estimate is exactly 1.
    kernel = np.zeros((3, 3, 4, 8), "float32")
    value, grad = toolkit.value_and_grad(
        lambda k: regularizers.SRIP(1.0, gram=gram, squared=squared)(k), kernel
    )
    np.testing.assert_allclose(value, 1.0, rtol=1e-6)
    assert np.all(np.isfinite(grad))


@pytest.mark.parametrize("squared", [True, False])
def test_orthonormal_kernel_zero_residual_is_finite(squared):
    # M = 0: M v is the zero vector at every step.
    kernel = np.eye(6, dtype="float32")
    value, grad = toolkit.value_and_grad(
        lambda k: regularizers.SRIP(1.0, squared=squared)(k), kernel
    )
    assert value == 0.0
    assert np.all(np.isfinite(grad))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_low_precision_kernel_is_computed_in_float32(dtype):
    kernel = np.random.default_rng(1).normal(size=(16, 12)).astype("float32") * 0.2
    low = keras.ops.cast(kernel, dtype)
    value = regularizers.SRIP(1.0)(low)
    assert keras.backend.standardize_dtype(value.dtype) == "float32"
    rounded = toolkit.to_numpy(keras.ops.cast(low, "float32"))
    np.testing.assert_allclose(
        toolkit.to_numpy(value),
        reference.spectral_restricted_isometry_np(rounded, "dense"),
        rtol=1e-5,
    )


def test_factor_scales_the_penalty():
    kernel = np.random.default_rng(0).normal(size=(3, 3, 4, 8)).astype("float32")
    penalty = toolkit.to_numpy(regularizers.spectral_restricted_isometry(kernel))
    value = toolkit.to_numpy(regularizers.SRIP(0.25)(kernel))
    np.testing.assert_allclose(value, 0.25 * penalty, rtol=1e-6)
    assert toolkit.to_numpy(regularizers.SRIP(0.0)(kernel)) == 0.0


def test_srip_is_the_same_registered_class():
    assert regularizers.SRIP is regularizers.SpectralRestrictedIsometry
    name = keras.saving.get_registered_name(regularizers.SRIP)
    assert name == "keras_ortho>SpectralRestrictedIsometry"


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"factor": -1.0}, ValueError, "factor"),
        ({"factor": 0.1, "power_iterations": 0}, ValueError, "power_iterations"),
        ({"factor": 0.1, "power_iterations": 2.0}, TypeError, "power_iterations"),
        ({"factor": 0.1, "power_iterations": True}, TypeError, "power_iterations"),
        ({"factor": 0.1, "gram": "rows"}, ValueError, "gram"),
        ({"factor": 0.1, "squared": "yes"}, TypeError, "squared"),
        ({"factor": 0.1, "start": "ones"}, ValueError, "start"),
        ({"factor": 0.1, "seed": -1}, ValueError, "seed"),
        ({"factor": 0.1, "seed": None}, TypeError, "seed"),
        ({"factor": 0.1, "kernel_layout": "nhwc"}, ValueError, "kernel_layout"),
    ],
)
def test_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        regularizers.SpectralRestrictedIsometry(**kwargs)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"power_iterations": -3}, ValueError, "power_iterations"),
        ({"gram": "both"}, ValueError, "gram"),
        ({"start": "rand"}, ValueError, "start"),
        ({"seed": 1.5}, TypeError, "seed"),
        ({"squared": None}, TypeError, "squared"),
        ({"start_vector": np.ones(5, "float32")}, ValueError, "start_vector"),
        (
            {"gram": "inputs", "start_vector": np.ones(4, "float32")},
            ValueError,
            "start_vector",
        ),
    ],
)
def test_functional_form_validates(kwargs, error, match):
    kernel = np.ones((6, 4), "float32")
    with pytest.raises(error, match=match):
        regularizers.spectral_restricted_isometry(kernel, **kwargs)
