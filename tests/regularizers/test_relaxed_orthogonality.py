import itertools
import json
import math

import keras
import numpy as np
import pytest

from keras_ortho import regularizers
from keras_ortho.regularizers.relaxed_orthogonality import turan_correlated_pairs
from tests import toolkit
from tests.regularizers import reference


def _notes_kernel(shape_torch):
    # research/kernel_ortho.md section 6: K.flat[n] = 0.25 sin(0.9 n^2 + 0.1 n + 0.3).
    n = np.arange(np.prod(shape_torch))
    kernel = (0.25 * np.sin(0.9 * n**2 + 0.1 * n + 0.3)).reshape(shape_torch)
    return kernel.transpose(2, 3, 1, 0).astype("float32")


def _fewest_non_edges_without_clique(num_vertices, clique_size):
    """Brute force over every graph on `num_vertices` vertices: the fewest
    missing edges of a graph with no clique of `clique_size` vertices."""
    edges = list(itertools.combinations(range(num_vertices), 2))
    bit = {edge: 1 << k for k, edge in enumerate(edges)}
    clique_masks = [
        sum(bit[edge] for edge in itertools.combinations(subset, 2))
        for subset in itertools.combinations(range(num_vertices), clique_size)
    ]
    best = len(edges)
    for graph in range(1 << len(edges)):
        if all(graph & mask != mask for mask in clique_masks):
            best = min(best, len(edges) - bin(graph).count("1"))
    return best


@pytest.mark.parametrize("num_filters", range(1, 7))
def test_turan_count_matches_brute_force_over_all_graphs(num_filters):
    for rank in range(1, num_filters + 2):
        want = _fewest_non_edges_without_clique(num_filters, rank + 1)
        assert turan_correlated_pairs(num_filters, rank) == want, rank


def test_turan_count_matches_even_split_count():
    for num_filters in range(0, 40):
        for rank in range(1, 43):
            want = reference.turan_pairs_np(num_filters, rank)
            assert turan_correlated_pairs(num_filters, rank) == want


def test_turan_count_is_attained_by_filters_on_orthogonal_directions():
    # 8 filters on 3 orthogonal axes: exactly k = 7 pairs are correlated.
    directions = np.eye(3)[np.arange(8) % 3].T
    correlated = sum(
        abs(np.dot(directions[:, i], directions[:, j])) > 0
        for i in range(8)
        for j in range(i + 1, 8)
    )
    assert correlated == turan_correlated_pairs(8, 3) == 7


def test_every_layer_type_matches_numpy():
    # target_rank=0.5 makes k > 0 on every layer type.
    def numpy_penalty(kernel, layout):
        filters = reference.filter_matrix_of(kernel, layout)
        fan_in, count = filters.shape
        rank = min(fan_in, count, max(1, math.floor(0.5 * count + 0.5)))
        excluded = reference.turan_pairs_np(count, rank)
        assert excluded > 0
        return reference.relaxed_orthogonality_np(
            kernel, layout, excluded, 0.7, 1.3, 1.5
        )

    reference.check_layer_types(
        lambda layout: regularizers.RelaxedOrthogonality(
            0.3,
            target_rank=0.5,
            diagonal_weight=0.7,
            correlation_weight=1.3,
            correlation_power=1.5,
            kernel_layout=layout,
        ),
        numpy_penalty,
        factor=0.3,
    )


@pytest.mark.parametrize(
    "shape_torch, kwargs, excluded",
    [
        ((8, 3, 1, 1), {}, 7),  # rank 3: groups 3, 3, 2
        ((16, 1, 3, 3), {}, 7),  # rank 9: 7 groups of 2
        ((16, 1, 3, 3), {"target_rank": 4}, 24),  # 4 groups of 4
        ((16, 1, 3, 3), {"target_rank": 0.25}, 24),
        ((4, 2, 3, 3), {"target_rank": 0.5}, 2),  # groups 2, 2
        ((4, 2, 3, 3), {"num_excluded": 5}, 5),
        ((8, 3, 1, 1), {"num_excluded": 100}, 28),  # capped: every pair
    ],
)
def test_notes_kernels_match_numpy(shape_torch, kwargs, excluded):
    kernel = _notes_kernel(shape_torch)
    value = regularizers.relaxed_orthogonality(kernel, **kwargs)
    want = reference.relaxed_orthogonality_np(kernel, "conv", excluded)
    np.testing.assert_allclose(toolkit.to_numpy(value), want, rtol=1e-5)


@pytest.mark.parametrize(
    "shape, kwargs",
    [
        ((3, 3, 4, 8), {}),  # under-complete: k = 0
        ((1, 1, 3, 8), {"num_excluded": 0}),
        ((12, 5), {"target_rank": 1.0}),
    ],
)
def test_strict_orthogonality_is_the_special_case_k_zero(shape, kwargs):
    kernel = np.random.default_rng(8).normal(size=shape).astype("float32") * 0.3
    options = {"diagonal_weight": 0.4, "correlation_power": 3}
    value, grad = toolkit.value_and_grad(
        lambda k: regularizers.relaxed_orthogonality(k, **kwargs, **options), kernel
    )
    want_value, want_grad = toolkit.value_and_grad(
        lambda k: regularizers.disentangled_orthogonality(k, **options), kernel
    )
    np.testing.assert_allclose(value, want_value, rtol=1e-5)
    np.testing.assert_allclose(grad, want_grad, rtol=1e-4, atol=1e-6)


def test_gradient_matches_finite_differences_and_skips_excluded_pairs():
    # 6 filters of length 3: rank 3, k = 3 excluded pairs.
    kernel = np.random.default_rng(9).normal(size=(3, 6)) * 0.6

    def numpy_penalty(k):
        return reference.relaxed_orthogonality_np(k, "dense", 3, 0.5, 2.0)

    _, grad = toolkit.value_and_grad(
        lambda k: regularizers.relaxed_orthogonality(
            k, diagonal_weight=0.5, correlation_weight=2.0
        ),
        kernel.astype("float32"),
    )
    want = reference.numerical_gradient_np(numpy_penalty, kernel)
    np.testing.assert_allclose(grad, want, rtol=1e-3, atol=1e-4)


def test_single_filter_and_all_pairs_excluded_leave_the_diagonal_term():
    kernel = np.random.default_rng(10).normal(size=(6, 1)).astype("float32")
    diagonal = (np.sum(kernel.astype(np.float64) ** 2) - 1.0) ** 2
    value = regularizers.relaxed_orthogonality(kernel)
    np.testing.assert_allclose(toolkit.to_numpy(value), diagonal, rtol=1e-5)

    kernel = np.random.default_rng(11).normal(size=(1, 5)).astype("float32")
    value = regularizers.relaxed_orthogonality(kernel)  # rank 1: every pair out
    want = reference.relaxed_orthogonality_np(kernel, "dense", 10)
    np.testing.assert_allclose(toolkit.to_numpy(value), want, rtol=1e-5)


@pytest.mark.parametrize("shape", [(3, 3, 2, 5), (1, 1, 2, 9)])
def test_zero_kernel_is_finite(shape):
    kernel = np.zeros(shape, "float32")
    value, grad = toolkit.value_and_grad(
        lambda k: regularizers.RelaxedOrthogonality(1.0)(k), kernel
    )
    np.testing.assert_allclose(value, float(shape[-1]))
    assert np.all(np.isfinite(grad))


def test_factor_scales_the_penalty():
    kernel = np.random.default_rng(0).normal(size=(1, 1, 4, 8)).astype("float32")
    penalty = toolkit.to_numpy(regularizers.relaxed_orthogonality(kernel))
    value = toolkit.to_numpy(regularizers.RelaxedOrthogonality(0.25)(kernel))
    np.testing.assert_allclose(value, 0.25 * penalty, rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"factor": -1.0}, ValueError, "factor"),
        ({"factor": 0.1, "target_rank": 0}, ValueError, "target_rank"),
        ({"factor": 0.1, "target_rank": 1.5}, ValueError, "target_rank"),
        ({"factor": 0.1, "target_rank": 0.0}, ValueError, "target_rank"),
        ({"factor": 0.1, "target_rank": float("nan")}, ValueError, "target_rank"),
        ({"factor": 0.1, "target_rank": "half"}, TypeError, "target_rank"),
        ({"factor": 0.1, "target_rank": True}, TypeError, "target_rank"),
        ({"factor": 0.1, "num_excluded": -1}, ValueError, "num_excluded"),
        ({"factor": 0.1, "num_excluded": "all"}, ValueError, "num_excluded"),
        ({"factor": 0.1, "num_excluded": 2.0}, TypeError, "num_excluded"),
        (
            {"factor": 0.1, "num_excluded": 3, "target_rank": 2},
            ValueError,
            "target_rank",
        ),
        ({"factor": 0.1, "diagonal_weight": -1.0}, ValueError, "diagonal_weight"),
        ({"factor": 0.1, "correlation_weight": None}, ValueError, "correlation_weight"),
        ({"factor": 0.1, "correlation_power": 0.5}, ValueError, "correlation_power"),
        ({"factor": 0.1, "kernel_layout": "nhwc"}, ValueError, "kernel_layout"),
    ],
)
def test_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        regularizers.RelaxedOrthogonality(**kwargs)


def test_turan_count_rejects_invalid_counts():
    with pytest.raises(ValueError, match="rank"):
        turan_correlated_pairs(4, 0)
    with pytest.raises(TypeError, match="num_filters"):
        turan_correlated_pairs(4.0, 2)


@pytest.mark.parametrize(
    "kwargs", [{"target_rank": 0.5}, {"target_rank": 3}, {"num_excluded": 4}]
)
def test_serialization_round_trip(kwargs):
    regularizer = regularizers.RelaxedOrthogonality(
        1e-3, correlation_power=1.5, kernel_layout="depthwise", **kwargs
    )
    restored = toolkit.assert_serialization_round_trip(regularizer)
    for name, value in kwargs.items():
        assert getattr(restored, name) == value
        assert type(getattr(restored, name)) is type(value)
    json.dumps(keras.regularizers.serialize(regularizer))
