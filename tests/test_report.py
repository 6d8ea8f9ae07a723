import json
import re

import keras
import numpy as np
import pytest
from PIL import Image

import keras_ortho_cli as cli
from keras_ortho import callbacks
from keras_ortho import data
from keras_ortho import diagnostics
from keras_ortho import layers
from keras_ortho import report
from keras_ortho.recipes.results import RESULTS_JSON as RESULTS_FILE
from keras_ortho.recipes.training import HISTORY_FILE
from keras_ortho.recipes.training import MODEL_FILE

MODEL_PNGS = (
    "gram_matrices.png",
    "reliability_diagram.png",
    "cosine_histograms.png",
    "subselection_curves.png",
    "class_activation_maps.png",
)


def _tiny_classifier(head=None):
    images = keras.Input((32, 32, 3), name="images")
    x = keras.layers.Rescaling(1 / 255)(images)
    x = keras.layers.Conv2D(8, 3, strides=2, activation="relu", name="conv")(x)
    x = keras.layers.GlobalAveragePooling2D(name="features")(x)
    head = head or keras.layers.Dense(10, name="classifier")
    return keras.Model(images, head(x))


def _train_run(run_dir, dataset, head=None):
    """A run directory as keras_ortho.recipes.train leaves it, plus the model."""
    run_dir.mkdir(parents=True)
    model = _tiny_classifier(head)
    model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(
        dataset.x_train[:64],
        dataset.y_train[:64],
        epochs=1,
        batch_size=32,
        verbose=0,
        callbacks=[
            callbacks.OrthogonalityMonitor(
                data=(dataset.x_test[:20], dataset.y_test[:20])
            ),
            keras.callbacks.CSVLogger(str(run_dir / HISTORY_FILE)),
        ],
    )
    model.save(run_dir / MODEL_FILE)
    results = [
        {
            "method": "ce",
            "test_accuracy": 0.125,
            "settings": {"dataset": dataset.name, "seed": 0},
        }
    ]
    (run_dir / RESULTS_FILE).write_text(json.dumps(results))


@pytest.fixture(scope="module")
def dataset():
    full = data.load_dataset("cifar10_subset")
    # 40 test images, 4 of each class, keep the report fast.
    chosen = np.concatenate([np.flatnonzero(full.y_test == k)[:4] for k in range(10)])
    return data.Dataset(
        x_train=full.x_train[:64],
        y_train=full.y_train[:64],
        x_test=full.x_test[chosen],
        y_test=full.y_test[chosen],
        num_classes=full.num_classes,
        class_names=full.class_names,
        name=full.name,
    )


def _assert_valid_pngs(directory, names):
    for name in names:
        with Image.open(directory / name) as image:
            image.verify()
        with Image.open(directory / name) as image:
            assert image.format == "PNG", name
            assert image.size[0] > 0 and image.size[1] > 0, name


def _image_sources(page):
    return re.findall(r'<img src="([^"]+)"', page.read_text())


def test_report_of_a_tiny_run(tmp_path, dataset):
    run_dir = tmp_path / "run"
    _train_run(run_dir, dataset)
    page = report.write_report(run_dir, dataset=dataset, max_images=30, cam_images=4)

    output = run_dir / report.REPORT_DIR
    assert page == str(output / report.INDEX_FILE)
    expected = ("training_history.png", *MODEL_PNGS)
    _assert_valid_pngs(output, expected)
    assert sorted(_image_sources(output / report.INDEX_FILE)) == sorted(expected)
    html = (output / report.INDEX_FILE).read_text()
    assert '<td class="text">Test images</td><td>30</td>' in html
    assert '<td class="text">Test accuracy (%)</td><td>12.50</td>' in html
    assert "Notes" not in html

    # Each kernel's row: filter-Gram residual, then its operator spectrum.
    model = keras.saving.load_model(run_dir / MODEL_FILE, compile=False)
    spectra = diagnostics.convolution_spectra(model)
    assert [r.kernel_path for r in spectra] == ["conv/kernel", "classifier/kernel"]
    for index, (gram, spectrum) in enumerate(
        zip(diagnostics.filter_orthogonality(model), spectra, strict=True), start=1
    ):
        size = "x".join(map(str, spectrum.spatial_shape)) or "-"
        cells = [
            str(index),
            spectrum.kernel_path,
            f"{gram.so_residual:.4g}",
            f"{gram.mutual_coherence:.4g}",
            size,
            f"{spectrum.sigma_max:.4g}",
            f"{spectrum.sigma_min:.4g}",
            f"{spectrum.stable_rank:.4g}",
        ]
        # The kernel path and input size are text, the rest numbers.
        row = "".join(
            f'<td class="text">{c}</td>' if column in (1, 4) else f"<td>{c}</td>"
            for column, c in enumerate(cells)
        )
        assert f"<tr>{row}</tr>" in html
    assert "<th>sigma max</th><th>sigma min</th><th>Stable rank</th>" in html


def test_cli_reports_a_run_and_notes_what_is_missing(tmp_path, dataset, capsys):
    # A FixedClassifier head: no CAMs (they need a Dense head), everything else.
    run_dir = tmp_path / "fixed"
    _train_run(run_dir, dataset, head=layers.FixedClassifier(10, seed=0))
    output = tmp_path / "out"
    status = cli.main(
        [
            "report",
            str(run_dir),
            "--output-dir",
            str(output),
            "--max-images",
            "20",
            "--cam-images",
            "2",
        ]
    )
    assert status == 0
    assert str(output / report.INDEX_FILE) in capsys.readouterr().out
    _assert_valid_pngs(output, MODEL_PNGS[:4])
    assert not (output / "class_activation_maps.png").exists()
    html = (output / report.INDEX_FILE).read_text()
    assert "No class activation maps" in html
    assert '<td class="text">Test images</td><td>20</td>' in html


def test_comparison_directory_links_one_report_per_run(tmp_path):
    root = tmp_path / "compare"
    for method in ("ce", "opl"):
        (root / method).mkdir(parents=True)
        result = [{"method": method, "settings": {"dataset": "cifar10_subset"}}]
        (root / method / RESULTS_FILE).write_text(json.dumps(result))
    results = [{"method": m, "test_accuracy": 0.5} for m in ("ce", "opl")]
    (root / RESULTS_FILE).write_text(json.dumps(results))

    page = report.write_report(root, data_dir=tmp_path / "no_data")
    with open(page) as file:
        html = file.read()
    assert '<a href="ce/index.html">ce</a>' in html
    assert '<a href="opl/index.html">opl</a>' in html
    sub_page = (root / report.REPORT_DIR / "opl" / report.INDEX_FILE).read_text()
    assert "No model.keras" in sub_page
    assert "No history.csv" in sub_page


def test_invalid_arguments(tmp_path):
    with pytest.raises(ValueError, match="run_dir"):
        report.write_report(tmp_path / "missing")
    with pytest.raises(TypeError, match="dataset"):
        report.write_report(tmp_path, dataset="cifar10")
    with pytest.raises(ValueError, match="max_images"):
        report.write_report(tmp_path, max_images=0)
    with pytest.raises(SystemExit):
        cli.main(["report", str(tmp_path / "missing")])
