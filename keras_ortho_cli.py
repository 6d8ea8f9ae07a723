"""The `keras-ortho` console script: `keras-ortho train ...`, `keras-ortho
compare ...`, `keras-ortho report RUN_DIR`.

A module of its own, outside the `keras_ortho` package: importing anything in
`keras_ortho` runs its `__init__`, which imports Keras and the backend (seconds,
and TensorFlow's log lines) to register every object for `load_model`. Help and
malformed options need none of that, so the parser imports only the standard
library, and a command imports keras_ortho when it runs.

Each subcommand is a function `_add_<name>_command(subparsers)` that declares
its options and sets `handler`, a function of the parsed arguments returning
the exit status; adding a subcommand is one more such function and one line
in `build_parser`.
"""

import argparse
import importlib.util
import os
import sys

DEFAULT_RUNS_DIR = "runs"


def _load_names():
    """`keras_ortho/_names.py`, executed on its own: the dataset, preset and
    method names, without importing the `keras_ortho` package."""
    package = importlib.util.find_spec("keras_ortho")
    path = os.path.join(package.submodule_search_locations[0], "_names.py")
    spec = importlib.util.spec_from_file_location("keras_ortho._names", path)
    names = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(names)
    return names


_NAMES = _load_names()

# Command-line option -> recipe setting (the name `Recipe.replace` takes),
# for the settings every subcommand shares.
_RECIPE_OPTIONS = (
    ("--dataset", "dataset", str, f"dataset: {', '.join(_NAMES.DATASET_NAMES)}"),
    ("--epochs", "epochs", int, "training epochs"),
    ("--batch-size", "batch_size", int, "images per step"),
    ("--learning-rate", "learning_rate", float, "base learning rate"),
    ("--weight-decay", "weight_decay", float, "weight-decay coefficient"),
    ("--depth", "depth", int, "network depth"),
    ("--width", "width", int, "Wide ResNet widening factor"),
    ("--crop-padding", "crop_padding", int, "pad-and-crop padding, 0 for none"),
    ("--randaugment-ops", "randaugment_ops", int, "RandAugment ops, 0 for none"),
    ("--randaugment-magnitude", "randaugment_magnitude", int, "RandAugment bin"),
    ("--cutout", "cutout", int, "Cutout square side, 0 for none"),
    ("--mixup-alpha", "mixup_alpha", float, "MixUp Beta parameter, 0 for none"),
    ("--cutmix-alpha", "cutmix_alpha", float, "CutMix Beta parameter, 0 for none"),
    ("--mixing-probability", "mixing_probability", float, "share of mixed batches"),
    ("--regularizer-factor", "regularizer_factor", float, "kernel regularizer factor"),
    ("--train-size", "train_size", int, "training images to keep"),
    ("--test-size", "test_size", int, "test images to keep"),
    ("--steps-per-epoch", "steps_per_epoch", int, "cap on steps per epoch"),
    ("--seed", "seed", int, "random seed"),
    (
        "--distribution",
        "distribution",
        str,
        "none, or data_parallel on Keras' engine (JAX, TensorFlow), over "
        "every process of the cluster that KERAS_DISTRIBUTION_* (JAX) or "
        "TF_CONFIG (TensorFlow) describes",
    ),
    ("--devices", "devices", int, "devices of this host to use (default: all)"),
)


def _add_recipe_options(parser):
    parser.add_argument(
        "--recipe",
        default="demo",
        choices=_NAMES.RECIPE_NAMES,
        help="the preset to start from (default: demo)",
    )
    parser.add_argument("--data-dir", default=None, help="local copy of the dataset")
    parser.add_argument(
        "--run-dir",
        default=None,
        help=f"output directory (default: {DEFAULT_RUNS_DIR}/<recipe>)",
    )
    parser.add_argument(
        "--verbose",
        type=int,
        choices=(0, 1, 2),
        default=None,
        help="Keras fit verbosity (default: progress bar in a terminal)",
    )
    for flag, _, kind, text in _RECIPE_OPTIONS:
        parser.add_argument(flag, type=kind, default=None, help=f"{text} (override)")
    parser.add_argument(
        "--synchronized-batch-norm",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="BatchNormalization statistics of the global batch (default) or "
        "of each device's share (--no-synchronized-batch-norm, TensorFlow)",
    )


def _recipe_from(arguments, **changes):
    """The recipe the options describe; invalid settings exit with status 2
    and the validation message, as argparse does for malformed options."""
    from keras_ortho import recipes

    overrides = {
        field: getattr(arguments, field)
        for _, field, _, _ in _RECIPE_OPTIONS
        if getattr(arguments, field) is not None
    }
    if arguments.synchronized_batch_norm is not None:
        overrides["synchronized_batch_norm"] = arguments.synchronized_batch_norm
    try:
        return recipes.get_recipe(arguments.recipe, **overrides, **changes)
    except (ValueError, TypeError) as error:
        arguments.parser.error(str(error))


def _run_dir(arguments, recipe):
    return arguments.run_dir or os.path.join(DEFAULT_RUNS_DIR, recipe.name)


def _verbose(arguments):
    return "auto" if arguments.verbose is None else arguments.verbose


def _report(results, run_dir):
    from keras_ortho.recipes import format_table
    from keras_ortho.recipes.results import RESULTS_CSV
    from keras_ortho.recipes.results import RESULTS_JSON

    print(format_table(results))
    print(
        f"\nResults: {os.path.join(run_dir, RESULTS_JSON)}, "
        f"{os.path.join(run_dir, RESULTS_CSV)}"
    )


def _train(arguments):
    from keras_ortho import recipes

    changes = {} if arguments.method is None else {"methods": arguments.method}
    recipe = _recipe_from(arguments, **changes)
    run_dir = _run_dir(arguments, recipe)
    run = recipes.train(
        recipe, run_dir, data_dir=arguments.data_dir, verbose=_verbose(arguments)
    )
    _report([run.results], run_dir)
    return 0


def _compare(arguments):
    from keras_ortho import recipes

    recipe = _recipe_from(arguments)
    try:
        methods = [recipes.parse_methods(m) for m in arguments.methods]
    except ValueError as error:
        arguments.parser.error(str(error))
    run_dir = _run_dir(arguments, recipe)
    results = recipes.compare(
        recipe,
        methods,
        run_dir,
        data_dir=arguments.data_dir,
        verbose=_verbose(arguments),
    )
    _report(results, run_dir)
    return 0


def _add_train_command(subparsers):
    parser = subparsers.add_parser(
        "train",
        help="train one recipe and evaluate it",
        description="Train a recipe with model.fit on the active Keras backend "
        "(KERAS_BACKEND) and write results.json and results.csv to the run "
        "directory. Rerunning an interrupted run resumes it.",
    )
    _add_recipe_options(parser)
    parser.add_argument(
        "--method",
        default=None,
        help="comma-separated methods, e.g. opl,so (default: the recipe's); "
        f"from {', '.join(_NAMES.METHOD_NAMES)}",
    )
    parser.set_defaults(handler=_train, parser=parser)


def _add_compare_command(subparsers):
    parser = subparsers.add_parser(
        "compare",
        help="train one recipe with several methods and print a table",
        description="Train the recipe once per method combination, print a "
        "table of test accuracy, ECE and feature/filter orthogonality, and "
        "write results.json and results.csv to the run directory.",
    )
    _add_recipe_options(parser)
    parser.add_argument(
        "--methods",
        nargs="+",
        default=["ce", "opl", "so", "fixed"],
        help="method combinations, each comma-separated (default: ce opl so fixed)",
    )
    parser.set_defaults(handler=_compare, parser=parser)


def _add_report_command(subparsers):
    parser = subparsers.add_parser(
        "report",
        help="write the diagnostic plots of a run as PNG files and an HTML page",
        description="Write the plots of a training (or comparison) run "
        "directory to RUN_DIR/report: training curves, filter Gram matrices "
        "and, with model.keras and the test images, the reliability diagram, "
        "feature cosine histograms, sub-selection curves and class "
        "activation maps, with an index.html page.",
    )
    parser.add_argument("run_dir", metavar="RUN_DIR", help="the run directory")
    parser.add_argument(
        "--output-dir", default=None, help="where to write (default: RUN_DIR/report)"
    )
    parser.add_argument(
        "--dataset",
        default=None,
        choices=_NAMES.DATASET_NAMES,
        help="dataset of the test images (default: the one in results.json)",
    )
    parser.add_argument("--data-dir", default=None, help="local copy of the dataset")
    parser.add_argument(
        "--max-images", type=int, default=1000, help="test images to evaluate"
    )
    parser.add_argument(
        "--cam-images", type=int, default=16, help="class activation maps to draw"
    )
    parser.set_defaults(handler=_write_report, parser=parser)


def _write_report(arguments):
    from keras_ortho.data import load_dataset
    from keras_ortho.report import write_report

    dataset = None
    if arguments.dataset is not None:
        dataset = load_dataset(arguments.dataset, data_dir=arguments.data_dir)
    try:
        path = write_report(
            arguments.run_dir,
            output_dir=arguments.output_dir,
            dataset=dataset,
            data_dir=arguments.data_dir,
            max_images=arguments.max_images,
            cam_images=arguments.cam_images,
        )
    except (TypeError, ValueError) as error:
        arguments.parser.error(str(error))
    print(f"Report: {path}")
    return 0


def build_parser():
    """The argument parser of `keras-ortho`, with one subparser per command."""
    parser = argparse.ArgumentParser(
        prog="keras-ortho",
        description="Orthogonality constraints for image classification in Keras 3.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    _add_train_command(subparsers)
    _add_compare_command(subparsers)
    _add_report_command(subparsers)
    return parser


def main(argv=None):
    """Runs `keras-ortho` with `argv` (default: `sys.argv[1:]`) and returns
    the exit status; invalid options exit with status 2."""
    arguments = build_parser().parse_args(argv)
    return arguments.handler(arguments)


if __name__ == "__main__":
    sys.exit(main())
