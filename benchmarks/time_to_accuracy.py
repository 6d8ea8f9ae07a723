"""Time to accuracy on real CIFAR-10: a 15-epoch ResNet-56 schedule, CE and
CE + OPL, trained with `keras_ortho.recipes.train` on the active backend.

The schedule: SGD 0.1 with a 1-epoch linear warm-up, momentum 0.9, coupled
weight decay 5e-4, batch 128, rate x0.2 at epochs 7 and 11, pad-4 crop and
horizontal flip, 15 epochs, evaluated on the 10,000 test images. The data is
the CIFAR-10 JPEG file (`keras_ortho.data.load_cifar10_jpeg`; the full file is
not in the repository, pass its path). For each method the script prints the
test accuracy, the training time (`fit`, compilation included) and the
training time without the first epoch (which holds the compilation), with
the device, backend and versions:

    KERAS_BACKEND=jax python benchmarks/time_to_accuracy.py \
        --data ../shared/data/cifar10_jpeg.npz
    KERAS_BACKEND=jax python benchmarks/time_to_accuracy.py \
        --data ../shared/data/cifar10_jpeg.npz --epochs 1 --depth 8 \
        --train-size 1024 --test-size 512    # a quick check on a CPU
"""

import argparse
import os
import tempfile
import time

import _timing
import keras

from keras_ortho import data
from keras_ortho import recipes

SCHEDULE = {
    "dataset": "cifar10_jpeg",
    "model": "resnet_cifar",
    "depth": 56,
    "epochs": 15,
    "batch_size": 128,
    "learning_rate": 0.1,
    "warmup_epochs": 1,
    "momentum": 0.9,
    "weight_decay": 5e-4,
    "weight_decay_mode": "coupled",
    "lr_milestones": (7, 11),
    "lr_decay": 0.2,
    "crop_padding": 4,
    "horizontal_flip": True,
}


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--data", required=True, help="the CIFAR-10 JPEG .npz (cifar10_jpeg.npz)"
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        default=["ce", "opl"],
        help="methods to time, each a recipe method string (default: ce opl)",
    )
    parser.add_argument("--epochs", type=int, default=SCHEDULE["epochs"])
    parser.add_argument("--depth", type=int, default=SCHEDULE["depth"])
    parser.add_argument("--train-size", type=int, default=None)
    parser.add_argument("--test-size", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", metavar="PATH", help="write the results here")
    return parser.parse_args(argv)


class EpochClock(keras.callbacks.Callback):
    """The wall time of every epoch."""

    def __init__(self):
        super().__init__()
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.start)


def main(argv=None):
    args = parse_arguments(argv)
    info = _timing.environment()
    _timing.print_environment(info)
    dataset = data.load_cifar10_jpeg(args.data)
    results = []
    for methods in args.methods:
        keras.backend.clear_session()
        recipe = recipes.Recipe().replace(
            name="time_to_accuracy",
            **{**SCHEDULE, "epochs": args.epochs, "depth": args.depth},
            methods=methods,
            train_size=args.train_size,
            test_size=args.test_size,
            seed=args.seed,
        )
        clock = EpochClock()
        with tempfile.TemporaryDirectory() as run_dir:
            run = recipes.train(
                recipe,
                os.path.join(run_dir, "run"),
                dataset=dataset,
                verbose=0,
                callbacks=[clock],
            )
        result = {
            "method": run.results["method"],
            "model": f"resnet{args.depth}_cifar",
            "epochs": args.epochs,
            "test_accuracy": run.results["test_accuracy"],
            "train_seconds": run.results["train_seconds"],
            "epoch_seconds": clock.seconds,
            "seconds_after_first_epoch": sum(clock.seconds[1:]),
        }
        results.append(result)
        print(
            f"{result['method']}: test accuracy {100 * result['test_accuracy']:.2f} % "
            f"after {args.epochs} epochs; training {result['train_seconds']:.1f} s "
            f"(first epoch, with compilation, {clock.seconds[0]:.1f} s) on "
            f"{info['device']}, {info['backend']}"
        )
    if args.json:
        _timing.write_results(args.json, info, results)


if __name__ == "__main__":
    main()
