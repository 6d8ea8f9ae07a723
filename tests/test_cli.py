import csv
import json
import subprocess
import sys
import textwrap

import keras
import pytest

import keras_ortho_cli as cli
from keras_ortho.recipes import Recipe
from keras_ortho.recipes import methods
from keras_ortho.recipes import presets

BACKEND = keras.backend.backend()
TINY = ["--train-size", "64", "--test-size", "40", "--batch-size", "16"]
TINY += ["--steps-per-epoch", "2", "--epochs", "1", "--verbose", "0"]


def test_train_and_compare_on_the_demo_subset(tmp_path, capsys):
    run_dir = tmp_path / "train"
    status = cli.main(
        [
            "train",
            "--recipe",
            "demo",
            "--method",
            "opl,so",
            "--run-dir",
            str(run_dir),
            *TINY,
        ]
    )
    assert status == 0
    output = capsys.readouterr().out
    assert output.splitlines()[0].split()[:3] == ["method", "test", "acc"]
    assert output.splitlines()[2].split()[0] == "opl+so"
    [result] = json.loads((run_dir / "results.json").read_text())
    assert result["dataset"] == "cifar10_subset"
    assert (result["train_images"], result["test_images"]) == (64, 40)
    assert result["settings"]["methods"] == ["opl", "so"]
    assert result["backend"] == BACKEND

    compare_dir = tmp_path / "compare"
    status = cli.main(
        [
            "compare",
            "--methods",
            "ce",
            "fixed",
            "--cutmix-alpha",
            "1.0",
            "--run-dir",
            str(compare_dir),
            *TINY,
        ]
    )
    assert status == 0
    rows = list(csv.DictReader((compare_dir / "results.csv").open()))
    assert [row["method"] for row in rows] == ["ce", "fixed"]
    saved = json.loads((compare_dir / "results.json").read_text())
    assert [r["settings"]["cutmix_alpha"] for r in saved] == [1.0, 1.0]
    table = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in table[2:4]] == ["ce", "fixed"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--method", "opl,nope"], "nope"),
        (["train", "--epochs", "0"], "epochs"),
        (["train", "--method", "opl", "--mixup-alpha", "1"], "feature loss"),
        (["compare", "--methods", "ce", "so,srip"], "kernel regularizer"),
        (["train", "--recipe", "unknown"], "invalid choice"),
        (["train", "--distribution", "ddp"], "distribution"),
        (["train", "--devices", "2"], "distribution='data_parallel'"),
        (["train", "--distribution", "data_parallel", "--devices", "3"], "of 3"),
        ([], "required"),
    ],
)
def test_invalid_options_exit_with_status_2(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_parser_lists_the_subcommands():
    parser = cli.build_parser()
    help_text = parser.format_help()
    assert "train" in help_text and "compare" in help_text


def test_options_set_the_recipe_settings_by_name():
    argv = ["train", "--recipe", "srip_wrn", "--depth", "16", "--width", "2"]
    argv += ["--batch-size", "64", "--crop-padding", "0", "--cutout", "8"]
    argv += ["--learning-rate", "0.05", "--regularizer-factor", "0.001"]
    argv += ["--train-size", "100", "--epochs", "3", "--dataset", "cifar100"]
    arguments = cli.build_parser().parse_args(argv)
    recipe = cli._recipe_from(arguments, methods="opl,so")
    assert recipe == presets.get_recipe(
        "srip_wrn",
        depth=16,
        width=2,
        batch_size=64,
        crop_padding=0,
        cutout=8,
        learning_rate=0.05,
        regularizer_factor=1e-3,
        train_size=100,
        epochs=3,
        dataset="cifar100",
        methods="opl,so",
    )
    assert (recipe.network.depth, recipe.network.width) == (16, 2)
    assert (recipe.data.dataset, recipe.data.batch_size) == ("cifar100", 64)
    assert (recipe.augmentation.crop_padding, recipe.augmentation.cutout) == (0, 8)
    assert recipe.optimization.learning_rate == 0.05
    assert recipe.orthogonality.regularizer_factor == 1e-3
    # Every option names one setting of the recipe.
    settings = Recipe().to_dict()
    assert all(field in settings for _, field, _, _ in cli._RECIPE_OPTIONS)


def test_distribution_options_set_the_recipe():
    arguments = cli.build_parser().parse_args(
        ["train", "--distribution", "data_parallel", "--devices", "2"]
    )
    recipe = cli._recipe_from(arguments)
    assert (recipe.distribution, recipe.devices) == ("data_parallel", 2)
    assert recipe.synchronized_batch_norm
    arguments = cli.build_parser().parse_args(
        ["train", "--distribution", "data_parallel", "--no-synchronized-batch-norm"]
    )
    assert not cli._recipe_from(arguments).synchronized_batch_norm


# The modules a `keras-ortho --help` must not import: Keras, every backend and
# the keras_ortho package (whose import imports Keras).
HEAVY_MODULES = ("keras", "tensorflow", "jax", "torch", "keras_ortho")


@pytest.mark.parametrize(
    "argv, status",
    [
        (["--help"], 0),
        (["train", "--help"], 0),
        (["compare", "--help"], 0),
        (["report", "--help"], 0),
        (["train", "--recipe", "unknown"], 2),
    ],
)
def test_help_and_option_errors_import_no_keras(argv, status, tmp_path):
    # The console script as installed (pyproject's [project.scripts]), run in
    # a fresh interpreter that then lists the heavy modules it imported; from
    # an empty directory, so that no build metadata in the checkout shadows
    # the installed entry point.
    code = f"""
        import importlib.metadata
        import sys

        [script] = importlib.metadata.entry_points(
            group="console_scripts", name="keras-ortho"
        )
        sys.argv = ["keras-ortho", *{argv!r}]
        try:
            script.load()()
        except SystemExit as stop:
            status = stop.code
        heavy = {HEAVY_MODULES!r}
        imported = sorted(m for m in sys.modules if m.split(".")[0] in heavy)
        print("status", status, "imported", imported, file=sys.stderr)
    """
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert f"status {status} imported []" in result.stderr, result.stderr[-2000:]


def test_help_lists_the_library_names(capsys):
    with pytest.raises(SystemExit):
        cli.main(["train", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert ", ".join(methods.METHOD_NAMES) in help_text
    assert all(name in help_text for name in presets.RECIPE_NAMES)


def test_the_name_lists_are_the_library_mappings():
    # `keras_ortho/_names.py` lists the names; the library maps each to what
    # it stands for, in the same order.
    assert tuple(presets.PRESETS) == presets.RECIPE_NAMES
    mapped_in_order = (
        methods.CROSS_ENTROPY,
        *methods.FEATURE_LOSSES,
        *methods.KERNEL_REGULARIZERS,
        *methods.KERNEL_CONSTRAINTS,
        *methods.HEADS,
    )
    assert mapped_in_order == methods.METHOD_NAMES
    assert cli._NAMES.METHOD_NAMES == methods.METHOD_NAMES
