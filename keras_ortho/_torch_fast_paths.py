"""PyTorch code for channels-last convolution and batch normalization.

Keras' PyTorch backend runs a channels-last `Conv2D` as two layout copies of
its input and kernel (`permute(...).contiguous()` to NCHW, then back to
channels-last memory) around `conv2d`: a permuted view of a contiguous NHWC
tensor already is channels-last memory, which oneDNN convolves as it is.
It trains a `BatchNormalization` as a dozen elementwise operations, each
with its own backward: here it is one autograd node with its backward
written out. Both compute what Keras computes, to float32 rounding; the
layers of `keras_ortho.models._fast_layers` call them on the PyTorch backend
only.
"""

import torch
import torch.nn.functional as F

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
    axis: Keras' arithmetic, with a backward written out in 7 passes over
    the activations instead of autograd through Keras' dozen operations.

    Not `torch.nn.functional.batch_norm`: its channels-last CPU kernels sum
    in float32 one element after the other, so at 131,072 values per channel
    (ResNet-20's first stage) its mean, variance and gamma/beta gradients are
    off by 1e-5 relative, 100 times Keras', and its input gradient's error,
    a per-channel offset, adds up in the layers below. Every sum here is
    `torch.sum`'s cascade; the statistics are Keras' (E[x^2] - E[x]^2).
    """

    @staticmethod
    def forward(ctx, inputs, gamma, beta, epsilon):
        mean = torch.mean(inputs, dim=_BATCH_AXES)
        variance = torch.mean(torch.square(inputs), dim=_BATCH_AXES) - torch.square(
            mean
        )
        inverse_std = torch.rsqrt(variance + epsilon)
        # Centred before scaled, as Keras: scaling first, x * scale +
        # (beta - mean * scale) as PyTorch's fused kernel does, loses the
        # digits of a mean large against the spread.
        outputs = inputs - mean
        outputs.mul_(inverse_std if gamma is None else inverse_std * gamma)
        if beta is not None:
            outputs.add_(beta)
        ctx.save_for_backward(inputs, gamma, mean, inverse_std)
        ctx.epsilon = epsilon
        ctx.mark_non_differentiable(mean, variance)
        return outputs, mean, variance

    @staticmethod
    def backward(ctx, output_gradient, _mean_gradient, _variance_gradient):
        inputs, gamma, mean, inverse_std = ctx.saved_tensors
        centered = inputs - mean
        beta_gradient = torch.sum(output_gradient, dim=_BATCH_AXES)
        # sum(dy * (x - mean)): gamma's gradient, over inverse_std.
        projection = torch.sum(centered * output_gradient, dim=_BATCH_AXES)
        count = inputs.numel() // inputs.shape[-1]
        scale = inverse_std if gamma is None else inverse_std * gamma
        # The input gradient of x_hat = (x - mean) * inverse_std, with the
        # batch's mean and variance functions of x:
        # (dy - mean(dy) - x_hat * mean(dy * x_hat)) * gamma * inverse_std.
        inputs_gradient = None
        if ctx.needs_input_grad[0]:
            inputs_gradient = torch.addcmul(
                output_gradient - beta_gradient / count,
                centered,
                projection * torch.square(inverse_std) / -count,
            ).mul_(scale)
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
