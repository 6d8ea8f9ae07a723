"""PyTorch code for channels-last convolution, batch normalization and the
recipes' pad-crop and flip augmentation.

Keras' PyTorch backend runs a channels-last `Conv2D` as two layout copies of
its input and kernel (`permute(...).contiguous()` to NCHW, then back to
channels-last memory) around `conv2d`: a permuted view of a contiguous NHWC
tensor already is channels-last memory, which oneDNN convolves as it is.
It trains a `BatchNormalization` as a dozen elementwise operations, each
with its own backward: here it is one autograd node with its backward
written out. Both compute what Keras computes, to float32 rounding; the
layers of `keras_ortho.models._fast_layers` call them on the PyTorch backend
only. `RandomPadCrop` and `RandomHorizontalFlip` move the same pixels here
as their portable code does, in a few PyTorch operators instead of a few
dozen Keras ones.
"""

import torch
import torch.nn.functional as F
from keras.src.backend import in_stateless_scope

_TO_CHANNELS_FIRST = (0, 3, 1, 2)
_TO_CHANNELS_LAST = (0, 2, 3, 1)
_KERNEL_TO_TORCH = (3, 2, 0, 1)
_BATCH_AXES = (0, 1, 2)


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


class _BatchNormalization(torch.autograd.Function):
    """Training-mode batch normalization of NHWC inputs over their last
    axis: Keras' arithmetic in 5 passes over the activations forward and 5
    backward, instead of autograd through Keras' dozen operations.

    Not `torch.nn.functional.batch_norm`: its channels-last CPU kernels sum
    in float32 one element after the other, so at 131,072 values per channel
    (ResNet-20's first stage) its mean, variance and gamma/beta gradients are
    off by 1e-5 relative, 100 times Keras', and its input gradient's error,
    a per-channel offset, adds up in the layers below. Every sum here is
    `torch.sum`'s cascade; the statistics are Keras' (E[x^2] - E[x]^2).
    """

    @staticmethod
    def forward(ctx, inputs, gamma, beta, epsilon):
        # The batch statistics are outputs without gradients: no zero
        # tensors for them in the backward, which only `outputs` reaches.
        ctx.set_materialize_grads(False)
        mean = torch.mean(inputs, dim=_BATCH_AXES)
        # x * x is `torch.square`'s arithmetic, without its dispatch to pow.
        variance = torch.mean(inputs * inputs, dim=_BATCH_AXES) - mean * mean
        inverse_std = torch.rsqrt(variance + epsilon)
        scale = inverse_std if gamma is None else inverse_std * gamma
        # Centred before scaled, as Keras: scaling first, x * scale +
        # (beta - mean * scale) as PyTorch's fused kernel does, loses the
        # digits of a mean large against the spread. The backward reuses
        # the centred values, which spares it a pass and frees the inputs.
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
        beta_gradient = torch.sum(output_gradient, dim=_BATCH_AXES)
        # sum(dy * (x - mean)): gamma's gradient, over inverse_std.
        projection = torch.sum(centered * output_gradient, dim=_BATCH_AXES)
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
