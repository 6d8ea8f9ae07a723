"""Turning any Keras kernel into its filter matrix: the one place that knows
how each layer stores its kernel.

The filter matrix `W` has one column per output filter, of length `fan_in`
(`kh * kw * cin` for a 2-D convolution); a Dense kernel `(in, out)` is `W`
itself. Keras stores:

- `"dense"`: Dense and any 2-D weight, `(in, out)`;
- `"conv"`: Conv1D/2D/3D and SeparableConv pointwise kernels, `(*spatial, cin, out)`;
- `"conv_transpose"`: Conv1D/2D/3DTranspose, `(*spatial, out, cin)`;
- `"depthwise"`: DepthwiseConv1D/2D and SeparableConv depthwise kernels,
  `(*spatial, cin, multiplier)`;
- an EinsumDense equation such as `"abc,cde->abde"`: the EinsumDense kernel of
  that equation.

A depthwise kernel holds one single-channel filter per input channel and
multiplier, `cin * multiplier` filters of length `kh * kw`, in the order of the
layer's output channels (`c * multiplier + m`).

An EinsumDense kernel's axes split by the output: an axis the output does not
have is summed against the input, so it indexes the entries of a filter
(`fan_in` is the product of those axes); an axis the output keeps indexes the
filters (their count is the product of those axes, in the kernel's order).
The query kernel `(hidden, heads, head_dim)` of `"abc,cde->abde"` is `W`
`(hidden, heads * head_dim)`; the attention-output kernel
`(heads, head_dim, hidden)` of `"abcd,cde->abe"` is `W`
`(heads * head_dim, hidden)`. An axis the input and the output both keep
(weights per position) makes separate filters of it.
"""

import math
import re
import typing

import keras
from keras import ops

from keras_ortho._validation import validate_choice

KERNEL_LAYOUTS = ("auto", "dense", "conv", "conv_transpose", "depthwise")
# EinsumDense's own equation syntax: `input,kernel->output`.
_EINSUM_EQUATION = re.compile(r"([a-zA-Z.]*),([a-zA-Z]+)->([a-zA-Z.]*)")


def is_einsum_layout(kernel_layout):
    """Whether `kernel_layout` is an EinsumDense equation (it has `->`)."""
    return isinstance(kernel_layout, str) and "->" in kernel_layout


def validate_kernel_layout(kernel_layout, name="kernel_layout"):
    """Returns `kernel_layout` if it is one of `KERNEL_LAYOUTS` or an
    EinsumDense equation `"input,kernel->output"`; raises otherwise."""
    if is_einsum_layout(kernel_layout):
        _einsum_axes(kernel_layout, rank=None, name=name)
        return kernel_layout
    return validate_choice(kernel_layout, name, KERNEL_LAYOUTS)


def _einsum_axes(equation, rank, name="kernel_layout"):
    """`(summed, kept)`: the positions of the kernel axes that the output of
    `equation` does not have and of those it keeps."""
    match = _EINSUM_EQUATION.fullmatch(equation.replace(" ", ""))
    kernel_axes = match.group(2) if match else ""
    output_axes = match.group(3) if match else ""
    summed = [i for i, axis in enumerate(kernel_axes) if axis not in output_axes]
    kept = [i for i, axis in enumerate(kernel_axes) if axis in output_axes]
    if not match or len(set(kernel_axes)) != len(kernel_axes) or not summed or not kept:
        raise ValueError(
            f"Invalid value for argument `{name}`: expected one of "
            f"{list(KERNEL_LAYOUTS)} or an EinsumDense equation "
            "'input,kernel->output' whose kernel has at least one axis the "
            "output sums over and one it keeps, e.g. 'abc,cde->abde'. "
            f"Received: {name}={equation!r}"
        )
    if rank is not None and rank != len(kernel_axes):
        raise ValueError(
            f"Invalid `kernel` for kernel_layout={equation!r}: expected a "
            f"kernel of rank {len(kernel_axes)} ({kernel_axes!r}). Received: "
            f"kernel of rank {rank}"
        )
    return summed, kept


def resolve_layout(rank, kernel_layout):
    kernel_layout = validate_kernel_layout(kernel_layout)
    if is_einsum_layout(kernel_layout):
        _einsum_axes(kernel_layout, rank)
        return kernel_layout
    if kernel_layout == "auto":
        kernel_layout = "dense" if rank == 2 else "conv"
    if kernel_layout == "dense" and rank != 2:
        raise ValueError(
            "Invalid `kernel` for kernel_layout='dense': expected a 2-D weight "
            f"(in, out). Received: kernel of rank {rank}"
        )
    if kernel_layout != "dense" and not 3 <= rank <= 5:
        raise ValueError(
            f"Invalid `kernel` for kernel_layout={kernel_layout!r}: expected a "
            f"convolution kernel of rank 3 to 5. Received: kernel of rank {rank}"
        )
    return kernel_layout


def canonical_kernel(kernel, kernel_layout="auto"):
    """Returns `kernel` as a convolution kernel `(*spatial, cin, filters)`.

    A Dense kernel becomes a 1x1 convolution `(1, in, out)`.

    Args:
        kernel: a Keras kernel (tensor or variable) of rank 2 to 5.
        kernel_layout: one of `KERNEL_LAYOUTS` or an EinsumDense equation;
            `"auto"` reads a rank-2 kernel as Dense and any other as a plain
            convolution. An EinsumDense kernel becomes `(1, fan_in, filters)`.
    """
    kernel = ops.convert_to_tensor(kernel)
    rank = len(kernel.shape)
    if rank < 2:
        raise ValueError(
            "Invalid `kernel`: expected a weight of rank 2 (Dense) to 5 "
            f"(Conv3D). Received: kernel of shape {tuple(kernel.shape)}"
        )
    layout = resolve_layout(rank, kernel_layout)
    if is_einsum_layout(layout):
        return ops.expand_dims(_einsum_matrix(kernel, layout), 0)
    if layout == "dense":
        return ops.expand_dims(kernel, 0)
    if layout == "conv_transpose":
        perm = [*range(rank - 2), rank - 1, rank - 2]
        return ops.transpose(kernel, perm)
    if layout == "depthwise":
        shape = tuple(kernel.shape)
        return ops.reshape(kernel, (*shape[:-2], 1, shape[-2] * shape[-1]))
    return kernel


def _einsum_matrix(kernel, equation):
    summed, kept = _einsum_axes(equation, len(kernel.shape))
    shape = tuple(kernel.shape)
    fan_in = math.prod(shape[i] for i in summed)
    return ops.reshape(ops.transpose(kernel, summed + kept), (fan_in, -1))


def filter_matrix(kernel, kernel_layout="auto"):
    """Returns the filter matrix `W` of shape `(fan_in, filters)`.

    Args:
        kernel: a Keras kernel (tensor or variable) of rank 2 to 5.
        kernel_layout: one of `KERNEL_LAYOUTS` or an EinsumDense equation.
    """
    kernel = canonical_kernel(kernel, kernel_layout)
    return ops.reshape(kernel, (-1, kernel.shape[-1]))


class RegularizableKernel(typing.NamedTuple):
    """A kernel an orthogonality regularizer applies to.

    Attributes:
        attribute: the layer's regularizer argument for the kernel
            (`kernel_regularizer`, `depthwise_regularizer`,
            `pointwise_regularizer`).
        variable: the kernel variable.
        kernel_layout: how the kernel is stored (one of `KERNEL_LAYOUTS`
            other than `"auto"`, or the layer's EinsumDense equation).
        strides: the strides the kernel convolves with, for plain and
            depthwise convolution kernels; `None` otherwise.
    """

    attribute: str
    variable: object
    kernel_layout: str
    strides: tuple | None


def regularizable_kernels(layer):
    """Yields a `RegularizableKernel` for each kernel of `layer` that an
    orthogonality regularizer applies to; layers without one yield nothing."""
    layers = keras.layers
    if isinstance(layer, (layers.SeparableConv1D, layers.SeparableConv2D)):
        yield RegularizableKernel(
            "depthwise_regularizer",
            layer.depthwise_kernel,
            "depthwise",
            tuple(layer.strides),
        )
        # The pointwise kernel convolves the depthwise output with stride 1.
        ones = (1,) * len(layer.strides)
        yield RegularizableKernel(
            "pointwise_regularizer", layer.pointwise_kernel, "conv", ones
        )
    elif isinstance(layer, (layers.DepthwiseConv1D, layers.DepthwiseConv2D)):
        yield RegularizableKernel(
            "depthwise_regularizer", layer.kernel, "depthwise", tuple(layer.strides)
        )
    elif isinstance(
        layer, (layers.Conv1DTranspose, layers.Conv2DTranspose, layers.Conv3DTranspose)
    ):
        yield RegularizableKernel(
            "kernel_regularizer", layer.kernel, "conv_transpose", None
        )
    elif isinstance(layer, (layers.Conv1D, layers.Conv2D, layers.Conv3D)):
        yield RegularizableKernel(
            "kernel_regularizer", layer.kernel, "conv", tuple(layer.strides)
        )
    elif isinstance(layer, layers.Dense):
        yield RegularizableKernel("kernel_regularizer", layer.kernel, "dense", None)
    elif isinstance(layer, layers.EinsumDense):
        yield RegularizableKernel(
            "kernel_regularizer", layer.kernel, layer.equation, None
        )


def kernel_from_filter_matrix(matrix, kernel_shape, kernel_layout):
    """The inverse of `filter_matrix`: a `(fan_in, filters)` matrix back in
    the kernel's own layout.

    Args:
        matrix: a filter matrix, as `filter_matrix` returns it.
        kernel_shape: the shape of the kernel in its Keras layout.
        kernel_layout: how the kernel is stored, `"dense"`, `"conv"`,
            `"conv_transpose"`, `"depthwise"` or an EinsumDense equation (not
            `"auto"`).
    """
    kernel_shape = tuple(kernel_shape)
    if is_einsum_layout(kernel_layout):
        summed, kept = _einsum_axes(kernel_layout, len(kernel_shape))
        order = summed + kept
        kernel = ops.reshape(matrix, [kernel_shape[i] for i in order])
        return ops.transpose(kernel, [order.index(i) for i in range(len(order))])
    if kernel_layout == "conv_transpose":
        # Stored `(*spatial, out, cin)`; the filter matrix reads `(*spatial, cin, out)`.
        *spatial, filters, channels = kernel_shape
        kernel = ops.reshape(matrix, (*spatial, channels, filters))
        rank = len(kernel_shape)
        return ops.transpose(kernel, [*range(rank - 2), rank - 1, rank - 2])
    # Dense, plain convolution and depthwise kernels flatten in C order, so a
    # reshape undoes it (depthwise columns are ordered `c * multiplier + m`).
    return ops.reshape(matrix, kernel_shape)


def filter_groups(kernel, kernel_layout):
    """The filter matrices of the groups of filters that act on the same
    inputs, stacked `(groups, fan_in, filters)`.

    A depthwise kernel `(*spatial, cin, multiplier)` has `cin` groups, each the
    `(kh * kw, multiplier)` matrix of the filters of one input channel; filters
    of different channels read disjoint inputs, so the convolution is an
    isometry when each group's filters are orthonormal. Any other kernel is one
    group, its filter matrix.

    Args:
        kernel: a Keras kernel (tensor or variable) of rank 2 to 5.
        kernel_layout: `"dense"`, `"conv"`, `"conv_transpose"` or `"depthwise"`.
    """
    matrix = filter_matrix(kernel, kernel_layout)
    if kernel_layout != "depthwise":
        return ops.expand_dims(matrix, 0)
    channels, multiplier = tuple(kernel.shape)[-2:]
    groups = ops.reshape(matrix, (matrix.shape[0], channels, multiplier))
    return ops.transpose(groups, (1, 0, 2))


def kernel_from_filter_groups(groups, kernel_shape, kernel_layout):
    """The inverse of `filter_groups`: `(groups, fan_in, filters)` back to a
    kernel of `kernel_shape` in its Keras layout."""
    if kernel_layout == "depthwise":
        matrix = ops.transpose(groups, (1, 0, 2))
        matrix = ops.reshape(matrix, (matrix.shape[0], -1))
    else:
        matrix = groups[0]
    return kernel_from_filter_matrix(matrix, kernel_shape, kernel_layout)
