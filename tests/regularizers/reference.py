"""Brute-force NumPy references for the regularizer tests.

Filters are read out of each Keras kernel layout one at a time with explicit
indexing, independently of `keras_ortho._kernel_matrix`.
"""

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
