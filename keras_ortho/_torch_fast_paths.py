"""PyTorch code for channels-last convolution, batch normalization and the
recipes' pad-crop and flip augmentation.

Keras' PyTorch backend runs a channels-last `Conv2D` as two layout copies of
its input and kernel (`permute(...).contiguous()` to NCHW, then back to
channels-last memory) around `conv2d`: a permuted view of a contiguous NHWC
tensor already is channels-last memory, which oneDNN convolves as it is.
It trains a `BatchNormalization` as a dozen elementwise operations, each
with its own backward: here it is one autograd node with its backward
written out, its sums taken by PyTorch's fused batch-norm kernels. The
convolution computes what Keras computes, to float32 rounding; the batch
normalization Keras' formula, at least as accurately (its variance more so).
The layers of `keras_ortho.models._fast_layers` call them on the PyTorch
backend only. `RandomPadCrop` and `RandomHorizontalFlip` move the same pixels here
as their portable code does, in a few PyTorch operators instead of a few
dozen Keras ones.
"""

import torch
import torch.nn.functional as F
from keras.src.backend import in_stateless_scope

_TO_CHANNELS_FIRST = (0, 3, 1, 2)
_TO_CHANNELS_LAST = (0, 2, 3, 1)
_KERNEL_TO_TORCH = (3, 2, 0, 1)


def is_concrete(tensor):
    """True for a real tensor; False for the `"meta"` tensors Keras traces
    symbolic calls with."""
    return isinstance(tensor, torch.Tensor) and tensor.device.type != "meta"


def is_compiling():
    """True while `torch.compile` traces: its compiler fuses Keras' own
    operations, and its channels-last convolution of inputs with dynamic
    shapes fails (torch 2.13: "cannot determine truth value of Relational")."""
    return torch.compiler.is_compiling()


def is_eager(tensor):
    """True for a real tensor outside a `torch.compile` trace: where the
    convolution and the augmentation take their PyTorch paths."""
    return is_concrete(tensor) and not is_compiling()


def symmetric_padding(size, kernel_size, stride, padding):
    """The per-side padding that makes Keras' `padding` symmetric along one
    axis, or None where Keras' `"same"` pads one pixel more at the end."""
    if padding == "valid":
        return 0
    output_size = -(-size // stride)
    total = max(0, (output_size - 1) * stride + kernel_size - size)
    return total // 2 if total % 2 == 0 else None


def conv2d(inputs, kernel, strides, padding):
    """`keras.ops.conv` of NHWC `inputs` with an HWIO `kernel`, no dilation,
    one group; `padding` is the per-axis symmetric padding. The NHWC output
    is a view of PyTorch's channels-last result: no copy of the activations
    either way."""
    # The kernel is small; oneDNN takes it in channels-last memory as well.
    outputs = F.conv2d(
        inputs.permute(_TO_CHANNELS_FIRST),
        kernel.permute(_KERNEL_TO_TORCH).contiguous(memory_format=torch.channels_last),
        stride=strides,
        padding=padding,
    )
    return outputs.permute(_TO_CHANNELS_LAST)


# The widest rows `as_rows` makes, in values: PyTorch's batch-norm kernels
# sum each column of a matrix one row after the other, in per-thread buffers
# of one row; 16,384 float32 values (64 KiB) stay in a core's L2 cache.
_ROW_VALUES = 16384


def as_rows(tensor):
    """NHWC `tensor` as a matrix whose rows are `groups` consecutive pixels
    of all channels, and `groups`: a column of it is one channel of every
    `groups`-th pixel. A divisor of the pixel count, as large as the row
    width allows, so that the columns are short."""
    channels = tensor.shape[-1]
    pixels = tensor.numel() // channels
    groups = max(1, min(pixels, _ROW_VALUES // channels))
    while pixels % groups:
        groups -= 1
    return tensor.reshape(pixels // groups, groups * channels), groups


def channel_moments(inputs):
    """The mean and biased variance of NHWC `inputs` per channel.

    PyTorch's fused kernel computes them per column of `as_rows(inputs)`,
    two passes (the mean, then the squared deviations from it); the columns
    of a channel are combined exactly (the variance of the column means adds
    to the mean of their variances). Two passes over the activations where
    `torch.mean(x)` and `torch.mean(x * x)` take four, and short columns
    where the kernel on the NHWC tensor itself would sum all of a channel's
    values, one after the other, in each thread: 131,072 per channel in
    ResNet-20's first stage, 1e-5 relative off."""
    rows, groups = as_rows(inputs)
    column_mean, column_variance = torch.batch_norm_update_stats(rows, None, None, 0.0)
    column_mean = column_mean.view(groups, -1)
    mean = torch.mean(column_mean, dim=0)
    spread = torch.square(column_mean - mean)
    variance = torch.mean(column_variance.view(groups, -1) + spread, dim=0)
    return mean, variance


def channel_gradient_sums(output_gradient, centered):
    """`sum(dy)` and `sum(dy * centered)` per channel of NHWC tensors, as
    PyTorch's batch-norm backward computes beta's and gamma's gradients: one
    pass reading both, per column of `as_rows`, where `torch.sum` takes one
    for `dy` and three for the product."""
    gradient_rows, groups = as_rows(output_gradient)
    centered_rows, _ = as_rows(centered)
    # The kernel's mean and inverse std: 0 and 1 for centred values.
    options = {"dtype": centered.dtype, "device": centered.device}
    width = centered_rows.shape[1]
    _, projection, total = torch.ops.aten.native_batch_norm_backward(
        gradient_rows,
        centered_rows,
        None,
        None,
        None,
        torch.zeros(width, **options),
        torch.ones(width, **options),
        True,
        0.0,
        [False, True, True],
    )
    return total.view(groups, -1).sum(dim=0), projection.view(groups, -1).sum(dim=0)


class _BatchNormalization(torch.autograd.Function):
    """Training-mode batch normalization of NHWC inputs over their last
    axis: 3 operators over the activations forward and 3 backward, where
    autograd through Keras' operations takes a dozen.

    Keras' normalization, `(x - mean) * gamma * inverse_std + beta`, centred
    before it is scaled (scaling first, as PyTorch's fused kernel does, loses
    the digits of a mean large against the spread), with PyTorch's fused
    kernels for the statistics and the gradient sums (`channel_moments`,
    `channel_gradient_sums`): at least as accurate as Keras' sums, and a
    variance from the squared deviations, where Keras' E[x^2] - E[x]^2
    loses the digits of a mean large against the spread.
    """

    @staticmethod
    def forward(ctx, inputs, gamma, beta, epsilon):
        # The batch statistics are outputs without gradients: no zero
        # tensors for them in the backward, which only `outputs` reaches.
        ctx.set_materialize_grads(False)
        mean, variance = channel_moments(inputs)
        inverse_std = torch.rsqrt(variance + epsilon)
        scale = inverse_std if gamma is None else inverse_std * gamma
        # The backward reuses the centred values, which frees the inputs.
        centered = inputs - mean
        if beta is None:
            outputs = centered * scale
        else:
            outputs = torch.addcmul(beta, centered, scale)
        ctx.save_for_backward(centered, inverse_std, scale)
        ctx.mark_non_differentiable(mean, variance)
        return outputs, mean, variance

    @staticmethod
    def backward(ctx, output_gradient, _mean_gradient, _variance_gradient):
        centered, inverse_std, scale = ctx.saved_tensors
        # sum(dy) is beta's gradient; sum(dy * (x - mean)), gamma's over
        # inverse_std.
        beta_gradient, projection = channel_gradient_sums(output_gradient, centered)
        inputs_gradient = None
        if ctx.needs_input_grad[0]:
            # The input gradient of x_hat = (x - mean) * inverse_std, with
            # the batch's mean and variance functions of x:
            # (dy - mean(dy) - x_hat * mean(dy * x_hat)) * gamma * inverse_std,
            # as dy * scale + shift + (x - mean) * coefficient per channel.
            count = centered.numel() // centered.shape[-1]
            shift = beta_gradient * scale / -count
            coefficient = projection * (inverse_std * inverse_std) * scale / -count
            inputs_gradient = torch.addcmul(shift, output_gradient, scale)
            inputs_gradient.addcmul_(centered, coefficient)
        gamma_gradient = projection * inverse_std if ctx.needs_input_grad[1] else None
        if not ctx.needs_input_grad[2]:
            beta_gradient = None
        return inputs_gradient, gamma_gradient, beta_gradient, None


def batch_norm_training(inputs, gamma, beta, epsilon):
    """Batch normalization of NHWC `inputs` over their last axis with the
    batch's statistics, as Keras' `BatchNormalization(training=True)`;
    returns the outputs, the mean and the biased variance. `gamma` and `beta`
    may be None."""
    return _BatchNormalization.apply(inputs, gamma, beta, epsilon)


def updates_in_place():
    """True where a layer may update its variables' tensors in place: not in
    a `keras.StatelessScope` (whose values are the caller's) nor while
    `torch.compile` traces."""
    return not (in_stateless_scope() or is_compiling())


@torch.no_grad()
def moving_average_(moving, batch_value, momentum):
    """`moving = moving * momentum + batch_value * (1 - momentum)` in place,
    one operator: Keras' `BatchNormalization` update, to float32 rounding,
    without its assignment copy and its Python-scalar tensors."""
    moving.lerp_(batch_value.to(moving.dtype), 1.0 - momentum)


def pad_crop(images, offsets, padding):
    """`keras_ortho.layers.RandomPadCrop(padding, fill="zeros")` of NHWC
    `images` with its drawn `offsets` `(2, batch)`: output `(i, j)` of a
    sample is pixel `(i + dy, j + dx)` of the zero-padded image, as one pad
    and one gather, where the portable code builds broadcast indices and a
    mask in a dozen Keras operations."""
    batch, height, width, _ = images.shape
    padded = F.pad(images, (0, 0, padding, padding, padding, padding))
    offsets = offsets.long()
    rows = torch.arange(height, device=images.device) + offsets[0, :, None]
    cols = torch.arange(width, device=images.device) + offsets[1, :, None]
    samples = torch.arange(batch, device=images.device)[:, None, None]
    return padded[samples, rows[:, :, None], cols[:, None, :]]


def flip_where(images, flip):
    """`images` (NHWC) mirrored left-right where `flip` `(batch,)` is True."""
    return torch.where(flip[:, None, None, None], images.flip(2), images)
