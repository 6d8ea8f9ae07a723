"""The NumPy class-vector samplers, against independent NumPy derivations."""

import warnings

import numpy as np
import pytest

from keras_ortho.layers._class_vectors import INITS
from keras_ortho.layers._class_vectors import class_vectors


def _unit_columns(matrix):
    matrix = np.asarray(matrix, dtype="float64")
    return matrix / np.sqrt(np.sum(matrix**2, axis=0, keepdims=True))


def _cosines(vectors):
    unit = _unit_columns(vectors)
    return unit.T @ unit


def _sylvester(order):
    matrix = np.ones((1, 1))
    while matrix.shape[0] < order:
        matrix = np.block([[matrix, matrix], [matrix, -matrix]])
    return matrix


def _haar_columns(rng, rows, columns):
    q, r = np.linalg.qr(rng.standard_normal((rows, columns)))
    return q * np.sign(np.diag(r))


def test_uniform_is_the_reference_codes_integer_draw():
    # np.random.default_rng(2020).integers(-100, 100, size=(3, 4)), by hand.
    integers = np.array(
        [[-93, -7, 44, 2], [37, 72, -70, 43], [-3, -34, -1, 76]], dtype="float64"
    )
    expected = np.zeros((4, 3))
    for c in range(3):
        expected[:, c] = integers[c] / np.sqrt(np.sum(integers[c] ** 2))
    drawn = np.random.default_rng(2020).integers(-100, 100, size=(3, 4))
    np.testing.assert_array_equal(drawn, integers)
    np.testing.assert_array_equal(
        class_vectors("uniform", 4, 3, 2020), expected.astype("float32")
    )


def test_normal_is_a_unit_gaussian_draw():
    gaussian = np.random.default_rng(2020).standard_normal((3, 4))
    np.testing.assert_allclose(
        gaussian[0], [1.26020661, 0.22317849, 1.33254869, -1.41820464], rtol=1e-7
    )
    expected = (gaussian / np.linalg.norm(gaussian, axis=1, keepdims=True)).T
    np.testing.assert_array_equal(
        class_vectors("normal", 4, 3, 2020), expected.astype("float32")
    )


def test_orthogonal_is_a_sign_fixed_gaussian_qr():
    vectors = class_vectors("orthogonal", 6, 3, 2020)
    expected = _haar_columns(np.random.default_rng(2020), 6, 3)
    np.testing.assert_allclose(vectors, expected, atol=1e-7)
    np.testing.assert_allclose(
        vectors[:, 0],
        [0.48433063, -0.54505344, 0.09647251, 0.4181356, 0.14788256, 0.51217868],
        atol=1e-7,
    )


def test_hadamard_is_sylvester_rows_with_drawn_column_signs():
    # np.random.default_rng(2020).integers(0, 2, size=8), by hand.
    flips = np.array([0, 0, 1, 1, 1, 1, 0, 1])
    np.testing.assert_array_equal(
        np.random.default_rng(2020).integers(0, 2, size=8), flips
    )
    expected = _sylvester(8)[:4] * (1 - 2 * flips) / np.sqrt(8)
    np.testing.assert_array_equal(
        class_vectors("hadamard", 8, 4, 2020), expected.T.astype("float32")
    )


@pytest.mark.parametrize("dim, units", [(9, 10), (16, 10)])
def test_simplex_etf_is_a_rotated_centred_identity(dim, units):
    vectors = class_vectors("simplex_etf", dim, units, 5)
    helmert = np.zeros((units, units - 1))
    for i in range(1, units):
        for j in range(i):
            helmert[j, i - 1] = 1.0 / np.sqrt(i * (i + 1))
        helmert[i, i - 1] = -i / np.sqrt(i * (i + 1))
    basis = _haar_columns(np.random.default_rng(5), dim, units - 1)
    expected = np.sqrt(units / (units - 1)) * basis @ helmert.T
    np.testing.assert_allclose(vectors, expected, atol=1e-6)


@pytest.mark.parametrize(
    "init, dim, units",
    [
        ("orthogonal", 12, 12),
        ("orthogonal", 40, 7),
        ("hadamard", 64, 10),
        ("hadamard", 48, 16),
        ("hadamard", 4608, 10),
    ],
)
def test_orthogonal_samplers_have_zero_cosines(init, dim, units):
    vectors = class_vectors(init, dim, units, 11)
    np.testing.assert_allclose(np.sum(vectors**2, axis=0), 1.0, rtol=1e-6)
    np.testing.assert_allclose(_cosines(vectors), np.eye(units), atol=1e-6)


@pytest.mark.parametrize("dim, units", [(9, 10), (10, 10), (64, 10), (20, 3)])
def test_simplex_etf_cosines_are_minus_one_over_k_minus_one(dim, units):
    vectors = class_vectors("simplex_etf", dim, units, 11)
    np.testing.assert_allclose(np.sum(vectors**2, axis=0), 1.0, rtol=1e-6)
    expected = np.full((units, units), -1.0 / (units - 1))
    np.fill_diagonal(expected, 1.0)
    np.testing.assert_allclose(_cosines(vectors), expected, atol=1e-6)
    np.testing.assert_allclose(np.sum(vectors, axis=1), 0.0, atol=1e-6)


@pytest.mark.parametrize("init", ["uniform", "normal"])
def test_random_samplers_are_nearly_orthogonal(init):
    dim, units = 256, 64
    vectors = class_vectors(init, dim, units, 3)
    np.testing.assert_allclose(np.sum(vectors**2, axis=0), 1.0, rtol=1e-6)
    cosines = _cosines(vectors)[np.triu_indices(units, k=1)]
    spread = 1.0 / np.sqrt(dim)
    assert abs(np.mean(cosines)) < 4 * spread / np.sqrt(cosines.size)
    np.testing.assert_allclose(np.std(cosines), spread, rtol=0.1)
    np.testing.assert_allclose(
        np.mean(np.abs(cosines)), np.sqrt(2 / np.pi) * spread, rtol=0.1
    )


def test_hadamard_beyond_the_exact_limit_is_truncated_with_a_warning():
    # 12 = 3 * 4: rows 0..3 stay orthogonal on 12 columns, rows 0..7 do not.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exact = class_vectors("hadamard", 12, 4, 1)
    np.testing.assert_allclose(_cosines(exact), np.eye(4), atol=1e-6)
    with pytest.warns(UserWarning, match="units <= 4"):
        truncated = class_vectors("hadamard", 12, 8, 1)
    signs = 1 - 2 * np.random.default_rng(1).integers(0, 2, size=12)
    expected = _sylvester(16)[:8, :12] * signs / np.sqrt(12)
    np.testing.assert_array_equal(truncated, expected.T.astype("float32"))
    assert np.max(np.abs(_cosines(truncated) - np.eye(8))) > 0.1


@pytest.mark.parametrize(
    "init, dim, units",
    [
        ("orthogonal", 4, 5),
        ("hadamard", 4, 5),
        ("simplex_etf", 4, 6),
    ],
)
def test_too_many_units_for_the_dimension(init, dim, units):
    with pytest.raises(ValueError, match=f"units.*{init}"):
        class_vectors(init, dim, units, 0)


def test_all_zero_integer_draws_are_redrawn():
    draw = np.random.default_rng(0).integers(-100, 100, size=(400, 1))
    assert np.any(draw == 0)
    vectors = class_vectors("uniform", 1, 400, 0)
    np.testing.assert_array_equal(np.abs(vectors), 1.0)


@pytest.mark.parametrize("init", INITS)
def test_one_seed_one_set_of_vectors(init):
    first = class_vectors(init, 16, 8, 42)
    np.testing.assert_array_equal(first, class_vectors(init, 16, 8, 42))
    assert first.dtype == np.float32 and first.shape == (16, 8)
    assert not np.array_equal(first, class_vectors(init, 16, 8, 43))
