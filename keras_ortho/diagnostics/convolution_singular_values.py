"""The singular values of a convolution as an operator on images, not of its
flattened filter matrix: exactly, by the Fourier method for circular padding
and by the impulse response for zero padding."""

import math

import keras
import numpy as np

from keras_ortho._export import register_serializable
from keras_ortho._kernel_matrix import KERNEL_LAYOUTS
from keras_ortho._validation import validate_choice
from keras_ortho._validation import validate_int
from keras_ortho.constraints.orthogonal import resolve_kernel_layout

PADDINGS = ("valid", "same")
# The impulse response forms an (inputs x outputs) matrix: at most this many
# entries (512 MiB in float64).
MAX_OPERATOR_ENTRIES = 2**26


def per_dimension(value, rank, name):
    """`value` (an integer, or one per spatial dimension) as `rank` integers >= 1."""
    values = (value,) * rank if isinstance(value, int) else tuple(value)
    if len(values) != rank:
        raise ValueError(
            f"Invalid value for argument `{name}`: expected an integer or "
            f"{rank} integers. Received: {name}={value!r}"
        )
    return tuple(validate_int(v, name, minimum=1) for v in values)


def _conv_layout_kernel(kernel, layout, groups):
    """`kernel` as `(*spatial, groups, in_per_group, out_per_group)`, the
    convolution it is (the adjoint one for a transposed kernel)."""
    if layout == "depthwise":
        return kernel[..., :, None, :]
    # A transposed kernel (*spatial, out, cin) is the kernel of the plain
    # convolution (out -> cin) whose adjoint it applies.
    *spatial, inputs, outputs = kernel.shape
    grouped = kernel.reshape(*spatial, inputs, groups, outputs // groups)
    return np.moveaxis(grouped, -2, -3)


def _dilate(kernel, dilation, rank):
    if all(d == 1 for d in dilation):
        return kernel
    size = [(k - 1) * d + 1 for k, d in zip(kernel.shape[:rank], dilation, strict=True)]
    dilated = np.zeros((*size, *kernel.shape[rank:]), kernel.dtype)
    dilated[tuple(slice(None, None, d) for d in dilation)] = kernel
    return dilated


def _fourier_singular_values(grouped, spatial_shape, strides):
    """Singular values of the circular, strided convolution with a
    `(*spatial, groups, in, out)` kernel on inputs of `spatial_shape`."""
    rank = len(spatial_shape)
    # Taps beyond the input size wrap around: fold them onto the n-grid.
    folded = np.zeros((*spatial_shape, *grouped.shape[rank:]), np.float64)
    for tap in np.ndindex(*grouped.shape[:rank]):
        position = tuple(t % n for t, n in zip(tap, spatial_shape, strict=True))
        folded[position] += grouped[tap]
    transfer = np.fft.fftn(folded, axes=tuple(range(rank)))
    # Input frequency xi = k * M + omega feeds output frequency omega
    # (M = n / s): split each frequency axis into (k, omega).
    blocks = transfer.reshape(
        *[
            part
            for n, s in zip(spatial_shape, strides, strict=True)
            for part in (s, n // s)
        ],
        *transfer.shape[rank:],
    )
    aliases = [2 * i for i in range(rank)]
    outputs = [2 * i + 1 for i in range(rank)]
    group_axis, in_axis, out_axis = 2 * rank, 2 * rank + 1, 2 * rank + 2
    blocks = np.transpose(blocks, (*outputs, group_axis, *aliases, in_axis, out_axis))
    stacked = blocks.reshape(
        *blocks.shape[: rank + 1], -1, blocks.shape[-1]
    ) / math.sqrt(math.prod(strides))
    return np.linalg.svd(stacked, compute_uv=False).ravel()


@register_serializable
def circular_convolution_singular_values(
    kernel,
    spatial_shape,
    strides=1,
    dilation_rate=1,
    groups=1,
    kernel_layout="auto",
):
    """All singular values of a convolution with circular padding, exactly.

    A stride-1 convolution with circular padding on `n_1 x ... x n_d` inputs
    is diagonalised by the discrete Fourier transform: its singular values
    are those of the `cin x cout` matrices

    ```
    P(xi) = sum_x K[x] exp(-2 pi i <xi, x> / n),   xi in the n-grid
    ```

    (Sedghi, Gupta and Long, 2019), `prod(n)` small SVDs in place of one of
    size `prod(n) * cin`. With stride `s` (dividing `n`), output frequency
    `omega` collects the input frequencies `omega + k n / s`: its singular
    values are those of `[P(omega + k n / s)]_k / sqrt(prod(s))`, the
    `s^d` aliases side by side. A depthwise kernel is one such convolution
    per channel, a grouped one per group; a transposed kernel has the
    singular values of the convolution it is the adjoint of (on inputs of
    `spatial_shape * strides`).

    Computed in float64 NumPy. Keras convolutions are cross-correlations;
    their transfer matrices are the complex conjugates, with the same
    singular values.

    Args:
        kernel: a convolution kernel in its Keras layout (array, tensor or
            variable) of rank 3 to 5.
        spatial_shape: the input's spatial size, an integer or one per
            spatial dimension (for a transposed kernel, the size of the
            plain convolution's input, i.e. the transposed one's output).
        strides: an integer or one per dimension, dividing `spatial_shape`.
        dilation_rate: an integer or one per dimension.
        groups: the `groups` of a grouped `Conv`, dividing the filters.
        kernel_layout: `"conv"`, `"conv_transpose"` or `"depthwise"` (or
            `"auto"`, which refuses to guess; see
            `keras_ortho.constraints.Orthogonal`).

    Returns:
        The singular values, a float64 NumPy array in decreasing order.

    Example:

    ```python
    kernel = keras_ortho.initializers.DeltaOrthogonal(seed=0)((3, 3, 16, 16))
    values = keras_ortho.diagnostics.circular_convolution_singular_values(
        kernel, (8, 8), kernel_layout="conv"
    )  # 1024 values, all 1
    ```

    Reference:
        H. Sedghi, V. Gupta, P. M. Long, "The Singular Values of
        Convolutional Layers", ICLR 2019.
    """
    kernel, layout = _kernel_array(kernel, kernel_layout)
    if layout == "dense":
        raise ValueError(
            "Invalid `kernel_layout`: expected a convolution layout ('conv', "
            "'conv_transpose' or 'depthwise'). Received: kernel_layout='dense'"
        )
    rank = kernel.ndim - 2
    spatial_shape = per_dimension(spatial_shape, rank, "spatial_shape")
    strides = per_dimension(strides, rank, "strides")
    dilation = per_dimension(dilation_rate, rank, "dilation_rate")
    groups = _validate_groups(groups, kernel, layout)
    if layout == "conv_transpose":
        spatial_shape = tuple(
            n * s for n, s in zip(spatial_shape, strides, strict=True)
        )
    if any(n % s for n, s in zip(spatial_shape, strides, strict=True)):
        raise ValueError(
            "Invalid `spatial_shape`: the Fourier method needs every stride to "
            f"divide the input size. Received: spatial_shape={spatial_shape}, "
            f"strides={strides}"
        )
    grouped = _conv_layout_kernel(_dilate(kernel, dilation, rank), layout, groups)
    values = _fourier_singular_values(grouped, spatial_shape, strides)
    return np.sort(values)[::-1]


@register_serializable
def convolution_singular_values(
    kernel,
    spatial_shape,
    strides=1,
    padding="valid",
    dilation_rate=1,
    kernel_layout="auto",
):
    """All singular values of a convolution with zero padding, exactly, from
    its impulse response.

    The operator matrix `A` `(prod(spatial_shape) * cin, outputs)` is built
    column by column, one input image per basis vector `e_i` of the input
    space, `A[i] = conv(e_i)`, with the Keras op the layer itself runs
    (`keras.ops.conv`, `depthwise_conv` or `conv_transpose`, with Keras'
    `"valid"` and `"same"` padding and strides), then `sigma(A)` by NumPy's
    SVD in float64. It is exact for any padding, stride and size, and costs
    an `(inputs x outputs)` matrix: small inputs only.

    Args:
        kernel: a Dense or convolution kernel in its Keras layout.
        spatial_shape: the input's spatial size, an integer or one per
            spatial dimension.
        strides: an integer or one per dimension.
        padding: `"valid"` or `"same"`, as the layer's.
        dilation_rate: an integer or one per dimension.
        kernel_layout: `"dense"`, `"conv"`, `"conv_transpose"` or
            `"depthwise"` (or `"auto"`; see `keras_ortho.constraints.Orthogonal`).

    Returns:
        The singular values, a float64 NumPy array in decreasing order.

    Raises:
        ValueError: for bad arguments, or an operator matrix of more than
            `MAX_OPERATOR_ENTRIES` entries.

    Example:

    ```python
    layer = keras.layers.Conv2D(16, 3, strides=2, padding="same")
    layer.build((None, 8, 8, 16))
    values = keras_ortho.diagnostics.convolution_singular_values(
        layer.kernel, (8, 8), strides=2, padding="same", kernel_layout="conv"
    )
    ```

    Reference:
        The impulse-response test of deel-ai/orthogonium, after
        H. Sedghi, V. Gupta, P. M. Long, ICLR 2019 (Section 4).
    """
    kernel, layout = _kernel_array(kernel, kernel_layout)
    if layout == "dense":
        return np.linalg.svd(kernel, compute_uv=False)
    rank = kernel.ndim - 2
    spatial_shape = per_dimension(spatial_shape, rank, "spatial_shape")
    strides = per_dimension(strides, rank, "strides")
    dilation = per_dimension(dilation_rate, rank, "dilation_rate")
    padding = validate_choice(padding, "padding", PADDINGS)
    channels = kernel.shape[-1] if layout == "conv_transpose" else kernel.shape[-2]
    inputs = math.prod(spatial_shape) * channels
    options = {"strides": strides, "padding": padding, "dilation_rate": dilation}
    kernel_tensor = keras.ops.convert_to_tensor(kernel.astype("float32"))
    if layout == "conv":
        operator = keras.ops.conv
    elif layout == "depthwise":
        operator = keras.ops.depthwise_conv
    else:
        operator = keras.ops.conv_transpose
    probe = operator(
        keras.ops.zeros((1, *spatial_shape, channels)), kernel_tensor, **options
    )
    outputs = math.prod(probe.shape[1:])
    if inputs * outputs > MAX_OPERATOR_ENTRIES:
        raise ValueError(
            f"Invalid `spatial_shape`: the operator matrix would have {inputs} x "
            f"{outputs} entries, more than {MAX_OPERATOR_ENTRIES}. Use a smaller "
            "`spatial_shape`, or circular_convolution_singular_values (circular "
            f"padding, any size). Received: spatial_shape={spatial_shape}"
        )
    basis = np.eye(inputs, dtype="float32").reshape(inputs, *spatial_shape, channels)
    response = operator(keras.ops.convert_to_tensor(basis), kernel_tensor, **options)
    matrix = keras.ops.convert_to_numpy(response).reshape(inputs, outputs)
    return np.linalg.svd(matrix.astype(np.float64), compute_uv=False)


def _kernel_array(kernel, kernel_layout):
    validate_choice(kernel_layout, "kernel_layout", KERNEL_LAYOUTS)
    layout = resolve_kernel_layout(kernel, kernel_layout, "kernel_layout")
    return np.asarray(keras.ops.convert_to_numpy(kernel), np.float64), layout


def _validate_groups(groups, kernel, layout):
    groups = validate_int(groups, "groups", minimum=1)
    if groups != 1 and (layout != "conv" or kernel.shape[-1] % groups):
        raise ValueError(
            "Invalid value for argument `groups`: expected 1, or a divisor of "
            "the filters of a plain convolution kernel. Received: "
            f"groups={groups} for kernel_layout={layout!r} of shape {kernel.shape}"
        )
    return groups
