"""Orthogonal convolution (OCNN): the kernel's self-correlation against a
centred identity."""

import numbers

from keras import ops

from keras_ortho._export import register_serializable
from keras_ortho._kernel_matrix import canonical_kernel
from keras_ortho._ops import safe_norm
from keras_ortho._validation import validate_choice
from keras_ortho._validation import validate_int
from keras_ortho.regularizers._base import FunctionRegularizer

PADDINGS = ("paper", "reference")

# Padding of the public OCNN code (`deconv_orth_dist`), whatever the kernel
# size or stride.
_REFERENCE_PADDING = 1


def _validate_stride(stride):
    """Returns `stride` as an int or a tuple of ints, each >= 1."""
    if isinstance(stride, (list, tuple)):
        if not stride:
            raise ValueError(
                "Invalid value for argument `stride`: expected an integer >= 1 "
                f"or a non-empty tuple of them. Received: stride={stride!r}"
            )
        return tuple(validate_int(s, "stride", minimum=1) for s in stride)
    if isinstance(stride, bool) or not isinstance(stride, numbers.Integral):
        raise TypeError(
            "Invalid type for argument `stride`: expected an integer >= 1 or a "
            f"tuple of them, one per spatial dimension. Received: stride={stride!r} "
            f"of type {type(stride).__name__}"
        )
    return validate_int(stride, "stride", minimum=1)


def _validated_options(stride, padding):
    return {
        "stride": _validate_stride(stride),
        "padding": validate_choice(padding, "padding", PADDINGS),
    }


def _strides_per_dimension(stride, spatial_rank):
    if isinstance(stride, int):
        return (stride,) * spatial_rank
    if len(stride) != spatial_rank:
        raise ValueError(
            f"Invalid value for argument `stride`: expected {spatial_rank} "
            f"strides, one per spatial dimension of the kernel. Received: "
            f"stride={stride!r}"
        )
    return stride


@register_serializable
def orthogonal_convolution(kernel, stride=1, padding="paper", kernel_layout="auto"):
    """Orthogonal-convolution distance of a kernel, unweighted.

    With `K` the kernel as `(*spatial, cin, filters)`:

    ```
    ||Conv(K, K, stride=S, padding=P) - I_r0||_F        (not squared)
    ```

    `Conv(K, K)` correlates every filter with every other at each spatial
    shift `o * S - P` (`o` the output position); `I_r0` is 1 where a filter
    meets itself at shift 0 and 0 everywhere else. `padding="paper"` uses
    `P_d = floor((k_d - 1) / S) * S` per spatial dimension, so every shift at
    which two filters overlap and that the stride samples is seen, zero shift
    in the centre. `padding="reference"` uses the public code's fixed padding
    of 1 with the identity at output position `floor(out_d / 2)`.

    Args:
        kernel: a Keras kernel of rank 2 to 5.
        stride: the layer's stride, an int >= 1 or one per spatial dimension.
        padding: `"paper"` or `"reference"`.
        kernel_layout: see `keras_ortho.regularizers.OrthogonalConvolution`.

    Returns:
        A float32 scalar.
    """
    options = _validated_options(stride, padding)
    return _orthogonal_convolution(kernel, kernel_layout=kernel_layout, **options)


def _orthogonal_convolution(kernel, kernel_layout, stride, padding):
    kernel = canonical_kernel(ops.cast(kernel, "float32"), kernel_layout)
    spatial = tuple(kernel.shape[:-2])
    filters = kernel.shape[-1]
    strides = _strides_per_dimension(stride, len(spatial))
    if padding == "paper":
        pads = [(k - 1) // s * s for k, s in zip(spatial, strides, strict=True)]
    else:
        pads = [_REFERENCE_PADDING] * len(spatial)

    # The filters, as a batch of `filters` images with `cin` channels.
    images = ops.transpose(kernel, (len(spatial) + 1, *range(len(spatial) + 1)))
    images = ops.pad(images, [(0, 0), *[(p, p) for p in pads], (0, 0)])
    correlations = ops.conv(
        images, kernel, strides=strides, padding="valid", data_format="channels_last"
    )
    out_spatial = tuple(correlations.shape[1:-1])
    if padding == "paper":
        centre = [p // s for p, s in zip(pads, strides, strict=True)]
    else:
        centre = [o // 2 for o in out_spatial]

    identity = ops.reshape(
        ops.eye(filters, dtype="float32"), (filters, *[1] * len(spatial), filters)
    )
    target = ops.pad(
        identity,
        [
            (0, 0),
            *[(c, o - 1 - c) for c, o in zip(centre, out_spatial, strict=True)],
            (0, 0),
        ],
    )
    return safe_norm(correlations - target)


@register_serializable
class OrthogonalConvolution(FunctionRegularizer):
    """Orthogonal convolution regularizer (OCNN): `factor * ||Conv(K, K) - I_r0||_F`.

    Kernel orthogonality (`W^T W = I`, e.g. `SoftOrthogonality`) only asks the
    filters to be orthogonal where they overlap completely. A convolution is
    orthogonal (norm preserving as a linear map of the whole image) only if
    every filter is also orthogonal to every *shifted* copy of every filter,
    at each shift the layer's stride samples. OCNN writes all these inner
    products as one convolution of the kernel with itself:

    ```
    Conv(K, K)[i, o, j] = sum_x K_i[x + o * S - P] . K_j[x]
    L(K) = factor * ||Conv(K, K) - I_r0||_F          (not squared)
    ```

    with `K_i` the `i`-th filter `(*spatial, cin)` (zero outside the kernel),
    `S` the stride, `P` the padding and `I_r0` equal to 1 at `i == j` and zero
    shift, 0 elsewhere. At zero shift this is the filter Gram `W^T W - I`.

    - `padding="paper"` (default): `P_d = floor((k_d - 1) / S) * S` in each
      spatial dimension, as in the paper; the output has `2 P_d / S + 1`
      shifts, zero shift in the centre. For a 3x3 kernel: shifts -2..2 at
      stride 1, -2, 0, 2 at stride 2.
    - `padding="reference"`: the public code's `deconv_orth_dist`, padding 1
      and the identity at output position `floor(out_d / 2)`. For a 3x3 kernel
      at stride 1 it sees shifts -1..1 only; at stride 2 it sees shifts -1 and
      +1 only (never the Gram itself) and puts the identity on shift +1; a
      1x1 kernel at stride 2 sees only padding, a constant `sqrt(filters)`
      with zero gradient.

    Pass the stride of the layer being regularized. Kernels of any layout are
    handled through their canonical convolution form: a Dense kernel is a 1x1
    convolution (the penalty is then `||W^T W - I||_F`), a depthwise kernel
    has one single-channel filter per output channel, and Conv1D and Conv3D
    kernels use 1-D and 3-D self-convolutions.

    Args:
        factor: the penalty weight, a finite number >= 0 (the public code uses
            0.1).
        stride: the stride of the regularized layer, an int >= 1 or a tuple
            with one per spatial dimension.
        padding: `"paper"` (default) or `"reference"`.
        kernel_layout: how the kernel is stored, `"auto"` by default; see
            `OrthogonalityRegularizer`.

    Example:

    ```python
    layer = keras.layers.Conv2D(
        128,
        3,
        strides=2,
        kernel_regularizer=keras_ortho.regularizers.OrthogonalConvolution(
            0.1, stride=2
        ),
    )
    ```

    Reference:
        J. Wang, Y. Chen, R. Chakraborty, S. X. Yu, "Orthogonal Convolutional
        Neural Networks", CVPR 2020. `padding="reference"` matches
        `deconv_orth_dist` in `imagenet/utils.py` of
        samaonline/Orthogonal-Convolutional-Neural-Networks (commit aa7f569);
        that file's `orth_dist` is
        `SoftOrthogonality(factor, gram="smaller", squared=False)`.
    """

    def __init__(self, factor, stride=1, padding="paper", kernel_layout="auto"):
        options = _validated_options(stride, padding)
        super().__init__(_orthogonal_convolution, factor, kernel_layout, **options)
