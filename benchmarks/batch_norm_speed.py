"""Training batch normalization on the PyTorch backend, forward and backward,
over the batch-normalization layers of a CIFAR ResNet.

Three implementations of the same layer run on the same NHWC activations
(random, mean 1, spread 2) with the same output gradient, one after the
other over all the network's batch-normalization shapes (ResNet-20 at
batch 128: seven layers each of 128x32x32x16, 128x16x16x32 and
128x8x8x64), in alternating passes:

- `keras`: `keras.layers.BatchNormalization`, trained by autograd through
  Keras' operations;
- `builders`: the layer of `keras_ortho.models` (the builders' networks),
  one autograd node whose sums PyTorch's batch-norm kernels take;
- `pytorch`: `torch.nn.functional.batch_norm` on the channels-last view, the
  fused kernel a plain PyTorch loop of the network runs (less accurate on
  long channels: see docs/benchmarks/speed.md).

Each activation tensor is used once per pass, so the layers read them from
memory, not from a warm cache, as in a training step. Reports the median
and fastest pass of each, in milliseconds.

    KERAS_BACKEND=torch python benchmarks/batch_norm_speed.py --passes 15
"""

import argparse
import os
import statistics
import time

import keras

from keras_ortho.models._fast_layers import BatchNormalization

IMPLEMENTATIONS = ("keras", "builders", "pytorch")


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--depth", type=int, default=20, help="CIFAR ResNet, 6n + 2")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument(
        "--passes", type=int, default=15, help="timed passes of each (default 15)"
    )
    args = parser.parse_args(argv)
    if keras.backend.backend() != "torch":
        parser.error("this benchmark measures the PyTorch backend: KERAS_BACKEND=torch")
    if args.depth < 8 or (args.depth - 2) % 6:
        parser.error(f"--depth must be 6n + 2 with n >= 1. Received: {args.depth}")
    return args


def layer_shapes(depth, batch_size):
    """NHWC shapes of a CIFAR ResNet's batch normalizations: the stem, two
    per block, one per projection shortcut."""
    blocks = (depth - 2) // 6
    shapes = [(batch_size, 32, 32, 16)]
    for stage, (size, width) in enumerate(((32, 16), (16, 32), (8, 64))):
        shapes += [(batch_size, size, size, width)] * (2 * blocks + (stage > 0))
    return shapes


def layer_cases(shapes):
    import torch

    generator = torch.Generator().manual_seed(0)
    cases = []
    for shape in shapes:
        inputs = 1.0 + 2.0 * torch.randn(shape, generator=generator)
        gradient = torch.randn(shape, generator=generator)
        layers = {
            "keras": keras.layers.BatchNormalization(epsilon=1e-5),
            "builders": BatchNormalization(epsilon=1e-5),
        }
        for layer in layers.values():
            layer.build(shape)
        cases.append((inputs, gradient, layers))
    return cases


def one_pass(name, cases):
    import torch
    import torch.nn.functional as F

    for inputs, gradient, layers in cases:
        inputs = inputs.detach().requires_grad_()
        if name == "pytorch":
            channels = inputs.shape[-1]
            gamma = torch.ones(channels, requires_grad=True)
            beta = torch.zeros(channels, requires_grad=True)
            outputs = F.batch_norm(
                inputs.permute(0, 3, 1, 2), None, None, gamma, beta, True, 0.1, 1e-5
            ).permute(0, 2, 3, 1)
        else:
            outputs = layers[name](inputs, training=True)
        outputs.backward(gradient)


def main(argv=None):
    import torch

    args = parse_arguments(argv)
    cases = layer_cases(layer_shapes(args.depth, args.batch_size))
    seconds = {name: [] for name in IMPLEMENTATIONS}
    for name in IMPLEMENTATIONS:
        one_pass(name, cases)
    for index in range(args.passes):
        shift = index % len(IMPLEMENTATIONS)
        for name in IMPLEMENTATIONS[shift:] + IMPLEMENTATIONS[:shift]:
            start = time.perf_counter()
            one_pass(name, cases)
            seconds[name].append(time.perf_counter() - start)
    print(
        f"batch normalization, forward + backward, {len(cases)} layers of "
        f"ResNet-{args.depth} at batch {args.batch_size}; keras "
        f"{keras.__version__}, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), {args.passes} passes, "
        f"1-minute load {os.getloadavg()[0]:.1f}"
    )
    for name in IMPLEMENTATIONS:
        median = 1000 * statistics.median(seconds[name])
        fastest = 1000 * min(seconds[name])
        print(f"  {name:9s} median {median:6.1f} ms   fastest {fastest:6.1f} ms")
    medians = {name: statistics.median(seconds[name]) for name in IMPLEMENTATIONS}
    print(
        f"  builders / keras {medians['builders'] / medians['keras']:.2f}, "
        f"builders / pytorch {medians['builders'] / medians['pytorch']:.2f}"
    )


if __name__ == "__main__":
    main()
