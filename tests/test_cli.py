import csv
import json

import keras
import pytest

from keras_ortho import cli

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
