"""Training throughput of a recipe: images per second of its `model.fit`.

Runs `keras_ortho.recipes.train` as a user would, on random uint8 images of
the recipe's dataset shape (so no download is needed), for two epochs of
`--steps` steps: the first compiles and warms up, the second is timed, from
its start to the end of its last step (`_timing.EpochClock`, which adds no
per-step host round trip of its own). Everything `fit` does per step is inside
the timed span: the recipe's host batches (`keras.utils.PyDataset`), the
on-device augmentation, the losses and regularizers, the optimizer.

Default: the `opl_cifar100` recipe (ResNet-56, CE + OPL) with SO on every
kernel (`--methods opl,so`), at batch 128 in float32 (the paper's setting) and
batch 512 under `mixed_bfloat16`, on the active Keras backend:

    KERAS_BACKEND=jax python benchmarks/throughput.py
    KERAS_BACKEND=torch python benchmarks/throughput.py --configs 128:float32
    KERAS_BACKEND=jax python benchmarks/throughput.py --depth 8 --steps 3 \
        --configs 16:float32    # a quick check on a CPU

The GPU model, backend and library versions are printed with every figure.
"""

import argparse
import tempfile

import _timing
import keras
import numpy as np

from keras_ortho import recipes
from keras_ortho.data import Dataset

TEST_IMAGES = 256


def parse_configs(text):
    """`"128:float32,512:mixed_bfloat16"` -> `[(128, "float32"), ...]`."""
    configs = []
    for item in text.split(","):
        batch, _, policy = item.strip().partition(":")
        if not batch.isdigit() or int(batch) < 1 or not policy:
            raise argparse.ArgumentTypeError(
                f"--configs: expected BATCH:POLICY items such as 128:float32; "
                f"got {item!r}"
            )
        configs.append((int(batch), policy))
    return configs


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--recipe", default="opl_cifar100", choices=recipes.RECIPE_NAMES
    )
    parser.add_argument("--methods", default="opl,so", help="default: opl,so")
    parser.add_argument(
        "--configs",
        type=parse_configs,
        default=parse_configs("128:float32,512:mixed_bfloat16"),
        help="comma-separated BATCH:DTYPE_POLICY (default "
        "128:float32,512:mixed_bfloat16)",
    )
    parser.add_argument(
        "--steps", type=int, default=100, help="timed steps (default 100)"
    )
    parser.add_argument("--depth", type=int, default=None, help="override the depth")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", metavar="PATH", help="write the results here")
    args = parser.parse_args(argv)
    if args.steps < 2:
        parser.error("--steps must be >= 2")
    return args


def random_dataset(recipe, images, seed):
    """Random uint8 images and labels shaped like the recipe's dataset."""
    num_classes = {"cifar100": 100, "tiny_imagenet": 200}.get(recipe.data.dataset, 10)
    side = 64 if recipe.data.dataset == "tiny_imagenet" else 32
    rng = np.random.default_rng(seed)
    return Dataset(
        x_train=rng.integers(0, 256, (images, side, side, 3), dtype=np.uint8),
        y_train=rng.integers(0, num_classes, images),
        x_test=rng.integers(0, 256, (TEST_IMAGES, side, side, 3), dtype=np.uint8),
        y_test=rng.integers(0, num_classes, TEST_IMAGES),
        num_classes=num_classes,
        class_names=None,
        name=f"random_{recipe.data.dataset}",
    )


def measure(args, batch_size, policy):
    changes = {
        "methods": args.methods,
        "batch_size": batch_size,
        "epochs": 2,
        "steps_per_epoch": args.steps,
        "seed": args.seed,
    }
    if args.depth is not None:
        changes["depth"] = args.depth
    recipe = recipes.get_recipe(args.recipe, **changes)
    dataset = random_dataset(recipe, batch_size * args.steps, args.seed)
    clock = _timing.EpochClock(timed_epoch=1)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        with tempfile.TemporaryDirectory() as run_dir:
            recipes.train(
                recipe, run_dir, dataset=dataset, verbose=0, callbacks=[clock]
            )
    finally:
        keras.config.set_dtype_policy(previous)
    return {
        "recipe": recipe.name,
        "methods": "+".join(recipe.orthogonality.methods),
        "model": f"{recipe.network.model}-{recipe.network.depth}",
        "batch_size": batch_size,
        "dtype_policy": policy,
        "timed_steps": args.steps,
        "seconds": clock.seconds,
        "images_per_second": batch_size * args.steps / clock.seconds,
    }


def main(argv=None):
    args = parse_arguments(argv)
    info = _timing.environment()
    _timing.print_environment(info)
    results = []
    for batch_size, policy in args.configs:
        keras.backend.clear_session()
        result = measure(args, batch_size, policy)
        results.append(result)
        print(
            f"{result['recipe']} ({result['methods']}, {result['model']}), "
            f"batch {batch_size}, {policy}: {result['images_per_second']:,.0f} "
            f"images/s ({args.steps} steps in {result['seconds']:.2f} s) on "
            f"{info['device']}, {info['backend']}"
        )
    if args.json:
        _timing.write_results(args.json, info, results)


if __name__ == "__main__":
    main()
