"""NumPy references for the hard-orthogonality tests: filter groups read out of
each Keras kernel layout by explicit indexing, kernels assembled from them, and
the polar factor by NumPy's SVD."""

import numpy as np


def filter_groups_of(kernel, kernel_layout):
    """`(groups, fan_in, filters)` filter matrices, one column per filter: one
    group, or one per input channel of a depthwise kernel."""
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel_layout == "dense":
        return kernel[None].copy()
    if kernel_layout == "conv":
        columns = [kernel[..., j].ravel() for j in range(kernel.shape[-1])]
        return np.stack(columns, axis=1)[None]
    if kernel_layout == "conv_transpose":
        columns = [kernel[..., j, :].ravel() for j in range(kernel.shape[-2])]
        return np.stack(columns, axis=1)[None]
    channels, multiplier = kernel.shape[-2:]
    return np.stack(
        [
            np.stack([kernel[..., c, m].ravel() for m in range(multiplier)], axis=1)
            for c in range(channels)
        ]
    )


def kernel_of(groups, kernel_shape, kernel_layout):
    """The kernel of `kernel_shape` whose filter groups are `groups`."""
    kernel = np.zeros(kernel_shape)
    if kernel_layout == "dense":
        return groups[0].copy()
    if kernel_layout == "conv":
        for j in range(kernel_shape[-1]):
            kernel[..., j] = groups[0][:, j].reshape(kernel_shape[:-1])
    elif kernel_layout == "conv_transpose":
        spatial, channels = kernel_shape[:-2], kernel_shape[-1]
        for j in range(kernel_shape[-2]):
            kernel[..., j, :] = groups[0][:, j].reshape((*spatial, channels))
    else:
        for c in range(kernel_shape[-2]):
            for m in range(kernel_shape[-1]):
                kernel[..., c, m] = groups[c][:, m].reshape(kernel_shape[:-2])
    return kernel


def polar_factor(matrix):
    """`U V^T` of the thin SVD `matrix = U S V^T`."""
    u, _, vt = np.linalg.svd(matrix, full_matrices=False)
    return u @ vt


def conditioned_groups(shape, rng, low=0.5, high=2.0):
    """Random `(groups, fan_in, filters)` matrices with singular values drawn
    in `[low, high]`, so that the nearest orthogonal matrix is well defined."""
    groups, rows, columns = shape
    rank = min(rows, columns)
    result = np.empty(shape)
    for g in range(groups):
        u = polar_factor(rng.standard_normal((rows, rank)))
        v = polar_factor(rng.standard_normal((columns, rank)))
        result[g] = u @ np.diag(rng.uniform(low, high, rank)) @ v.T
    return result


def singular_values_of_groups(kernel, kernel_layout):
    return np.concatenate(
        [
            np.linalg.svd(group, compute_uv=False)
            for group in filter_groups_of(kernel, kernel_layout)
        ]
    )
