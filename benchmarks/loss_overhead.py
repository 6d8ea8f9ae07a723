"""Training-step time of a CIFAR ResNet with cross-entropy plus a feature
loss, over the time with cross-entropy alone.

The baseline is `keras_ortho.models.resnet_cifar(depth)` trained with
cross-entropy. Each candidate is the same network (same initial weights)
wrapped by `keras_ortho.models.with_features`, trained with cross-entropy on
the logits plus a feature loss on the pooled features, the labels passed once
through `keras_ortho.models.feature_targets`: `opl`,
`OrthogonalProjectionLoss` (weight 1, the recipes' default), and `os`,
`OrthogonalSphereLoss` (weight 0.1, the recipes' default). SGD with
momentum; the backend's default compilation (XLA on JAX and TensorFlow; on
torch Keras' default `jit_compile="auto"`, which does not use torch.compile).
The step is timed as `fit` runs it, in alternating blocks (see `_timing.py`).

Goal: CE + OPL / CE <= 1.03 on CPU and <= 1.02 on a GPU (a plain PyTorch
loop measured 1.015 on an H100); `os` is reported for information.

    KERAS_BACKEND=jax python benchmarks/loss_overhead.py
    KERAS_BACKEND=torch python benchmarks/loss_overhead.py \
        --depth 20 --rounds 2 --steps 3
"""

import argparse

import _timing
import keras

from keras_ortho import losses
from keras_ortho import models

# name -> (feature loss, its weight in the total loss)
FEATURE_LOSSES = {
    "opl": (lambda: losses.OrthogonalProjectionLoss(), 1.0),
    "os": (lambda: losses.OrthogonalSphereLoss(), 0.1),
}
DEFAULT_LOSSES = "opl,os"
WITH_GOAL = ("ce+opl",)
CPU_GOAL = 1.03
GPU_GOAL = 1.02
NUM_CLASSES = 10


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    _timing.add_common_arguments(parser)
    parser.add_argument(
        "--losses",
        default=DEFAULT_LOSSES,
        type=lambda text: _timing.parse_list(text, FEATURE_LOSSES, "--losses"),
        help=f"comma-separated feature losses added to cross-entropy, of "
        f"{', '.join(FEATURE_LOSSES)} (default {DEFAULT_LOSSES})",
    )
    args = parser.parse_args(argv)
    _timing.validate_arguments(parser, args)
    return args


def cross_entropy():
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def optimizer():
    return keras.optimizers.SGD(0.01, momentum=0.9)


def baseline_model(depth, jit_compile):
    model = models.resnet_cifar(depth, num_classes=NUM_CLASSES)
    model.compile(optimizer=optimizer(), loss=cross_entropy(), jit_compile=jit_compile)
    return model


def feature_loss_model(depth, name, jit_compile, weights_from):
    classifier = models.resnet_cifar(depth, num_classes=NUM_CLASSES)
    _timing.copy_weights(weights_from, classifier)
    model = models.with_features(classifier)
    feature_loss, weight = FEATURE_LOSSES[name]
    model.compile(
        optimizer=optimizer(),
        loss={"logits": cross_entropy(), "features": feature_loss()},
        loss_weights={"logits": 1.0, "features": weight},
        jit_compile=jit_compile,
    )
    return model


def main(argv=None):
    args = parse_arguments(argv)
    keras.utils.set_random_seed(args.seed)
    jit_compile = _timing.jit_compile_setting(args.jit_compile)
    x, y = _timing.random_batch(args.batch_size, NUM_CLASSES, args.seed)

    print(f"building and compiling ResNet-{args.depth} configurations")
    base = baseline_model(args.depth, jit_compile)
    models_by_name = {
        name: feature_loss_model(args.depth, name, jit_compile, weights_from=base)
        for name in args.losses
    }
    baseline = _timing.training_step(base, x, y)
    candidates = {}
    for name, model in models_by_name.items():
        candidates[f"ce+{name}"] = _timing.training_step(
            model, x, models.feature_targets(y)
        )
        print(f"  compiled ce+{name}")

    results = _timing.measure_alternating(
        baseline, candidates, args.rounds, args.steps, args.warmup_steps
    )

    title = "Feature-loss overhead: step time with CE + loss / with CE alone"
    _timing.publish(title, args, jit_compile, results, WITH_GOAL, CPU_GOAL, GPU_GOAL)


if __name__ == "__main__":
    main()
