"""Training-step time of a CIFAR ResNet with `keras_ortho.constraints.Orthogonal`
on every kernel, over the time without.

Every configuration is `keras_ortho.models.resnet_cifar(depth)` with the same
initial weights and SGD with momentum; each candidate has the constraint on
every convolution and Dense kernel (placed with
`keras_ortho.constraints.attach`, so each kernel is read in its own layout),
which the optimizer applies after every update. The step is timed as `fit`
runs it, in alternating blocks (see `_timing.py`), with the backend's default
compilation (XLA on JAX and TensorFlow; Keras' default `jit_compile="auto"` on
torch, which does not use torch.compile).

Goal: ratio <= 1.10 on a 2-core CPU for Björck with its default steps; SVD
and QR are reported for information.

    KERAS_BACKEND=jax python benchmarks/constraint_overhead.py --depth 20
    KERAS_BACKEND=torch python benchmarks/constraint_overhead.py \
        --constraints bjorck --depth 20 --rounds 2 --steps 3
"""

import argparse

import _timing
import keras

from keras_ortho import constraints
from keras_ortho import models

CONSTRAINTS = {
    "bjorck": lambda: constraints.Orthogonal("bjorck"),
    "svd": lambda: constraints.Orthogonal("svd"),
    "qr": lambda: constraints.Orthogonal("qr"),
    # Keras' own UnitNorm: the cost of applying a constraint at all, with the
    # cheapest projection there is, for comparison.
    "unit_norm": lambda: keras.constraints.UnitNorm(axis=[0, 1, 2]),
}
DEFAULT_CONSTRAINTS = "bjorck,svd,qr"
WITH_GOAL = ("bjorck",)
CPU_GOAL = 1.10
GPU_GOAL = 1.05
NUM_CLASSES = 10


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    _timing.add_common_arguments(parser)
    parser.set_defaults(depth=20)
    parser.add_argument(
        "--constraints",
        default=DEFAULT_CONSTRAINTS,
        type=lambda text: _timing.parse_list(text, CONSTRAINTS, "--constraints"),
        help=f"comma-separated, of {', '.join(CONSTRAINTS)} "
        f"(default {DEFAULT_CONSTRAINTS})",
    )
    args = parser.parse_args(argv)
    _timing.validate_arguments(parser, args)
    return args


def compiled_model(depth, constraint, jit_compile, weights_from=None):
    model = models.resnet_cifar(depth, num_classes=NUM_CLASSES)
    if weights_from is not None:
        _timing.copy_weights(weights_from, model)
    if constraint is not None:
        if isinstance(constraint, keras.constraints.UnitNorm):
            # UnitNorm reads a fixed axis: only the 4-D convolution kernels.
            constraints.attach(model, constraint, layers=_is_conv2d)
        else:
            constraints.attach(model, constraint)
    model.compile(
        optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=jit_compile,
    )
    return model


def _is_conv2d(layer):
    return isinstance(layer, keras.layers.Conv2D)


def main(argv=None):
    args = parse_arguments(argv)
    keras.utils.set_random_seed(args.seed)
    jit_compile = _timing.jit_compile_setting(args.jit_compile)
    x, y = _timing.random_batch(args.batch_size, NUM_CLASSES, args.seed)

    print(f"building and compiling ResNet-{args.depth} configurations")
    baseline_model = compiled_model(args.depth, None, jit_compile)
    models_by_name = {
        name: compiled_model(
            args.depth, CONSTRAINTS[name](), jit_compile, weights_from=baseline_model
        )
        for name in args.constraints
    }
    baseline = _timing.training_step(baseline_model, x, y)
    candidates = {}
    for name, model in models_by_name.items():
        candidates[name] = _timing.training_step(model, x, y)
        print(f"  compiled {name}")

    results = _timing.measure_alternating(
        baseline, candidates, args.rounds, args.steps, args.warmup_steps
    )

    title = "Constraint overhead: step time with Orthogonal on every kernel / without"
    _timing.publish(title, args, jit_compile, results, WITH_GOAL, CPU_GOAL, GPU_GOAL)


if __name__ == "__main__":
    main()
