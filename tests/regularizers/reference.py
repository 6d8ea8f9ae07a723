"""Brute-force NumPy references and shared Keras checks for the regularizer
tests.

Filters are read out of each Keras kernel layout one at a time with explicit
indexing, independently of `keras_ortho._kernel_matrix`.
"""

import itertools

import keras
import numpy as np


def filters_of(kernel, kernel_layout):
    """Returns the list of filter vectors of a NumPy kernel, in output order."""
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel_layout == "dense":
        return [kernel[:, j].copy() for j in range(kernel.shape[1])]
    if kernel_layout == "conv":
        return [kernel[..., j].ravel() for j in range(kernel.shape[-1])]
    if kernel_layout == "conv_transpose":
        return [kernel[..., j, :].ravel() for j in range(kernel.shape[-2])]
    if kernel_layout == "depthwise":
        channels, multiplier = kernel.shape[-2:]
        return [
            kernel[..., c, m].ravel()
            for c in range(channels)
            for m in range(multiplier)
        ]
    raise ValueError(kernel_layout)


def einsum_filter_matrix_of(kernel, equation):
    """The filter matrix of an EinsumDense kernel, filters read one at a time:
    a kernel axis the output keeps indexes a filter, the others index its
    entries (row-major in kernel order)."""
    kernel = np.asarray(kernel, dtype=np.float64)
    kernel_axes, output_axes = equation.split(",")[1].split("->")
    kept = [i for i, axis in enumerate(kernel_axes) if axis in output_axes]
    columns = []
    for index in itertools.product(*(range(kernel.shape[i]) for i in kept)):
        selector = [slice(None)] * kernel.ndim
        for axis, position in zip(kept, index, strict=True):
            selector[axis] = position
        columns.append(kernel[tuple(selector)].ravel())
    return np.stack(columns, axis=1)


def filter_matrix_of(kernel, kernel_layout):
    """The `(fan_in, filters)` matrix with one filter per column."""
    return np.stack(filters_of(kernel, kernel_layout), axis=1)


def soft_orthogonality_np(kernel, kernel_layout, gram="filters", squared=True):
    w = filter_matrix_of(kernel, kernel_layout)
    fan_in, filters = w.shape
    if gram == "smaller":
        gram = "filters" if filters <= fan_in else "inputs"
    total = 0.0
    if gram == "filters":
        for i in range(filters):
            for j in range(filters):
                target = 1.0 if i == j else 0.0
                total += (np.dot(w[:, i], w[:, j]) - target) ** 2
    else:
        for a in range(fan_in):
            for b in range(fan_in):
                target = 1.0 if a == b else 0.0
                total += (np.dot(w[a, :], w[b, :]) - target) ** 2
    return total if squared else np.sqrt(total)


# Every layer type a kernel regularizer applies to: name -> (factory taking a
# `make_regularizer(kernel_layout)` callable, input shape without the batch,
# [(kernel attribute, kernel layout)]).
LAYER_SPECS = {
    "Dense": (
        lambda make: keras.layers.Dense(5, kernel_regularizer=make("dense")),
        (7,),
        [("kernel", "dense")],
    ),
    "Conv1D": (
        lambda make: keras.layers.Conv1D(6, 3, kernel_regularizer=make("conv")),
        (9, 4),
        [("kernel", "conv")],
    ),
    "Conv2D": (
        lambda make: keras.layers.Conv2D(6, 3, kernel_regularizer=make("conv")),
        (8, 8, 3),
        [("kernel", "conv")],
    ),
    "Conv3D": (
        lambda make: keras.layers.Conv3D(4, 2, kernel_regularizer=make("conv")),
        (5, 5, 5, 2),
        [("kernel", "conv")],
    ),
    "DepthwiseConv2D": (
        lambda make: keras.layers.DepthwiseConv2D(
            3, depth_multiplier=2, depthwise_regularizer=make("depthwise")
        ),
        (8, 8, 3),
        [("kernel", "depthwise")],
    ),
    "SeparableConv2D": (
        lambda make: keras.layers.SeparableConv2D(
            6,
            3,
            depth_multiplier=2,
            depthwise_regularizer=make("depthwise"),
            pointwise_regularizer=make("conv"),
        ),
        (8, 8, 3),
        [("depthwise_kernel", "depthwise"), ("pointwise_kernel", "conv")],
    ),
    "Conv2DTranspose": (
        lambda make: keras.layers.Conv2DTranspose(
            5, 3, kernel_regularizer=make("conv_transpose")
        ),
        (6, 6, 3),
        [("kernel", "conv_transpose")],
    ),
    "Conv3DTranspose": (
        lambda make: keras.layers.Conv3DTranspose(
            3, 2, kernel_regularizer=make("conv_transpose")
        ),
        (4, 4, 4, 2),
        [("kernel", "conv_transpose")],
    ),
}


def check_layer_types(make_regularizer, numpy_penalty, factor, rtol=1e-5):
    """Attaches `make_regularizer(kernel_layout)` to every layer type and checks
    `layer.losses` against `factor * numpy_penalty(kernel, kernel_layout)`."""
    for name, (factory, input_shape, kernels) in LAYER_SPECS.items():
        layer = factory(make_regularizer)
        layer.build((None, *input_shape))
        got = float(sum(keras.ops.convert_to_numpy(loss) for loss in layer.losses))
        want = sum(
            factor
            * numpy_penalty(keras.ops.convert_to_numpy(getattr(layer, attr)), layout)
            for attr, layout in kernels
        )
        np.testing.assert_allclose(got, want, rtol=rtol, err_msg=name)


def double_soft_orthogonality_np(kernel, kernel_layout):
    return soft_orthogonality_np(
        kernel, kernel_layout, gram="filters"
    ) + soft_orthogonality_np(kernel, kernel_layout, gram="inputs")


def mutual_coherence_np(kernel, kernel_layout, reduction="max", gram="filters"):
    w = filter_matrix_of(kernel, kernel_layout)
    vectors = [w[:, j] for j in range(w.shape[1])] if gram == "filters" else list(w)
    cosines = []
    for i in range(len(vectors)):
        for j in range(i + 1, len(vectors)):
            norms = np.linalg.norm(vectors[i]) * np.linalg.norm(vectors[j])
            dot = np.dot(vectors[i], vectors[j])
            cosines.append(abs(dot) / norms if norms > 0 else 0.0)
    if not cosines:
        return 0.0
    return max(cosines) if reduction == "max" else float(np.mean(cosines))


def spectral_start_vector_np(size, start, seed):
    """The start vector the SRIP docstring promises: NumPy `default_rng(seed)`."""
    rng = np.random.default_rng(seed)
    if start == "normal":
        return rng.standard_normal(size).astype(np.float32)
    return rng.random(size).astype(np.float32)


def spectral_restricted_isometry_np(
    kernel,
    kernel_layout,
    power_iterations=2,
    gram="filters",
    squared=False,
    start="normal",
    seed=0,
    start_vector=None,
):
    """Power iteration on the explicitly formed `M = G - I`, in float64."""
    w = filter_matrix_of(kernel, kernel_layout)
    fan_in, filters = w.shape
    if gram == "smaller":
        gram = "filters" if filters <= fan_in else "inputs"
    residual = w.T @ w if gram == "filters" else w @ w.T
    residual = residual - np.eye(len(residual))
    if start_vector is None:
        start_vector = spectral_start_vector_np(len(residual), start, seed)
    v = np.asarray(start_vector, np.float64).ravel()
    for _ in range(power_iterations):
        product = residual @ v
        v = product / np.linalg.norm(product)
    estimate = np.linalg.norm(residual @ v)
    return estimate**2 if squared else estimate


def spatial_filters_of(kernel, kernel_layout):
    """Returns the filters of a NumPy kernel as `(*spatial, channels)` arrays,
    in output order (a Dense column is a `(1, in)` filter)."""
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel_layout == "dense":
        return [kernel[:, j][None, :] for j in range(kernel.shape[1])]
    if kernel_layout == "conv":
        return [kernel[..., j] for j in range(kernel.shape[-1])]
    if kernel_layout == "conv_transpose":
        return [kernel[..., j, :] for j in range(kernel.shape[-2])]
    if kernel_layout == "depthwise":
        channels, multiplier = kernel.shape[-2:]
        return [
            kernel[..., c, m][..., None]
            for c in range(channels)
            for m in range(multiplier)
        ]
    raise ValueError(kernel_layout)


def orthogonal_convolution_np(kernel, kernel_layout, stride=1, padding="paper"):
    """OCNN's `||Conv(K, K) - I_r0||_F` by explicit loops over the shifts.

    At output position `o` (per spatial dimension) the shift is `o * S - P`;
    entry `(i, o, j)` is `sum_x f_i[x + shift] . f_j[x]`, zero outside `f_i`.
    """
    filters = spatial_filters_of(kernel, kernel_layout)
    size = filters[0].shape[:-1]
    strides = (stride,) * len(size) if np.isscalar(stride) else tuple(stride)
    if padding == "paper":
        pads = [(k - 1) // s * s for k, s in zip(size, strides, strict=True)]
        outputs = [2 * p // s + 1 for p, s in zip(pads, strides, strict=True)]
        centre = tuple(p // s for p, s in zip(pads, strides, strict=True))
    else:
        pads = [1] * len(size)
        # A k-tap filter over k + 2 padded taps: (k + 2 - k) // s + 1 outputs.
        outputs = [2 // s + 1 for s in strides]
        centre = tuple(o // 2 for o in outputs)
    total = 0.0
    for position in np.ndindex(*outputs):
        shift = [o * s - p for o, s, p in zip(position, strides, pads, strict=True)]
        for i, f_i in enumerate(filters):
            for j, f_j in enumerate(filters):
                value = 0.0
                for x in np.ndindex(*size):
                    moved = tuple(a + b for a, b in zip(x, shift, strict=True))
                    if all(0 <= m < k for m, k in zip(moved, size, strict=True)):
                        value += np.dot(f_i[moved], f_j[x])
                target = 1.0 if (i == j and position == centre) else 0.0
                total += (value - target) ** 2
    return np.sqrt(total)


def _pair_correlation(w_i, w_j, normalize):
    inner = float(np.dot(w_i, w_j))
    if not normalize:
        return inner
    norms = np.linalg.norm(w_i) * np.linalg.norm(w_j)
    return inner / norms if norms > 0 else 0.0


def disentangled_orthogonality_np(
    kernel,
    kernel_layout,
    diagonal_weight=1.0,
    correlation_weight=1.0,
    normalize_correlations=True,
    correlation_power=2,
):
    """`diagonal_weight * D + correlation_weight * C` by explicit loops:
    `D = sum_i (||w_i||^2 - 1)^2`, `C = sum_{i != j} |c_ij|^p`."""
    filters = filters_of(kernel, kernel_layout)
    diagonal = sum((np.dot(w, w) - 1.0) ** 2 for w in filters)
    correlation = 0.0
    for i, w_i in enumerate(filters):
        for j, w_j in enumerate(filters):
            if i != j:
                c = _pair_correlation(w_i, w_j, normalize_correlations)
                correlation += abs(c) ** correlation_power
    return diagonal_weight * diagonal + correlation_weight * correlation


def turan_pairs_np(num_filters, rank):
    """Pairs inside `rank` groups when filter `i` goes to group `i % rank`
    (the most even split), counted pair by pair."""
    return sum(
        1
        for i in range(num_filters)
        for j in range(i + 1, num_filters)
        if i % rank == j % rank
    )


def relaxed_orthogonality_np(
    kernel,
    kernel_layout,
    num_excluded,
    diagonal_weight=1.0,
    correlation_weight=1.0,
    correlation_power=2,
):
    """`D` plus twice the sum of `|c_ij|^p` over the unordered pairs of
    normalised filters, the `num_excluded` largest `|c_ij|` left out."""
    filters = filters_of(kernel, kernel_layout)
    diagonal = sum((np.dot(w, w) - 1.0) ** 2 for w in filters)
    magnitudes = []
    for i in range(len(filters)):
        for j in range(i + 1, len(filters)):
            magnitudes.append(abs(_pair_correlation(filters[i], filters[j], True)))
    kept = sorted(magnitudes)[: len(magnitudes) - num_excluded]
    correlation = 2.0 * sum(m**correlation_power for m in kept)
    return diagonal_weight * diagonal + correlation_weight * correlation


def numerical_gradient_np(fn, x, step=1e-6):
    """Central differences of a scalar NumPy `fn` at `x`, in float64."""
    x = np.asarray(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        plus, minus = x.copy(), x.copy()
        plus[index] += step
        minus[index] -= step
        grad[index] = (fn(plus) - fn(minus)) / (2 * step)
    return grad
