"""The report of a comparison directory: one measured page per run, and an
index that puts the methods side by side in rounded, readable tables and
pictures, with plain notes where something is missing."""

import json
import pathlib
import re
import warnings

import keras
import numpy as np
import pytest
from PIL import Image

from keras_ortho import data
from keras_ortho import report
from keras_ortho.recipes.results import RESULTS_JSON as RESULTS_FILE
from keras_ortho.recipes.training import HISTORY_FILE
from keras_ortho.recipes.training import MODEL_FILE

COMPARISON_PNGS = (
    "accuracy_and_ece.png",
    "cosine_histogram_comparison.png",
    "subselection_curves.png",
    "filter_orthogonality.png",
)
RUN_PNGS = (
    "training_history.png",
    "gram_matrices.png",
    "reliability_diagram.png",
    "cosine_histograms.png",
    "subselection_curves.png",
    "class_activation_maps.png",
)
# What must never reach a page: a traceback, an exception's class name, a
# Python repr.
INTERNAL_TEXT = re.compile(
    r"Traceback|Error\b|Exception|BadZipFile|Errno|File \"|<class |object at 0x"
)
# A decimal number in a cell.
CELL_NUMBER = re.compile(r">[-+]?(\d[\d,]*\.\d+|\.\d+)<")


def _assert_rounded(html):
    """No cell shows a decimal number of more than 5 significant digits (a
    percentage such as 100.00 has 5; a raw float has 16 or 17)."""
    for number in CELL_NUMBER.findall(html):
        digits = number.replace(",", "").replace(".", "").lstrip("0")
        assert len(digits) <= 5, number


@pytest.fixture(scope="module")
def dataset():
    full = data.load_dataset("cifar10_subset")
    # 30 test images, 3 of each class, keep the reports fast.
    chosen = np.concatenate([np.flatnonzero(full.y_test == k)[:3] for k in range(10)])
    return data.Dataset(
        x_train=full.x_train[:32],
        y_train=full.y_train[:32],
        x_test=full.x_test[chosen],
        y_test=full.y_test[chosen],
        num_classes=full.num_classes,
        class_names=full.class_names,
        name=full.name,
    )


def _classifier(kernel_initializer):
    images = keras.Input((32, 32, 3))
    x = keras.layers.Rescaling(1 / 255)(images)
    x = keras.layers.Conv2D(
        8, 3, strides=2, activation="relu", kernel_initializer=kernel_initializer
    )(x)
    x = keras.layers.Conv2D(
        8, 3, strides=2, activation="relu", kernel_initializer=kernel_initializer
    )(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(images, keras.layers.Dense(10)(x))


def _run(run_dir, method, dataset, kernel_initializer):
    """A run directory as keras_ortho.recipes.train leaves it."""
    run_dir.mkdir(parents=True)
    model = _classifier(kernel_initializer)
    model.compile(
        optimizer="sgd",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.fit(
        dataset.x_train,
        dataset.y_train,
        epochs=1,
        batch_size=32,
        verbose=0,
        callbacks=[keras.callbacks.CSVLogger(str(run_dir / HISTORY_FILE))],
    )
    model.save(run_dir / MODEL_FILE)
    result = {
        "recipe": "demo",
        "method": method,
        "dataset": dataset.name,
        "backend": keras.backend.backend(),
        "engine": "none",
        "replicas": 1,
        "epochs": 1,
        "test_images": 30,
        "test_accuracy": 0.8125 if method == "ce" else 0.84375,
        "ece": 0.0345678 if method == "ce" else 0.0212345,
        "feature_s": 0.61234567,
        "train_seconds": 90.123 if method == "ce" else 30.0,
        "my_score": 0.123456789,
        "settings": {"dataset": dataset.name},
    }
    (run_dir / RESULTS_FILE).write_text(json.dumps([result]))
    return result


@pytest.fixture(scope="module")
def comparison(tmp_path_factory, dataset):
    """A comparison of two methods, reported once: `(run_dir, output_dir,
    number of model loads)`."""
    root = tmp_path_factory.mktemp("reports") / "cifar_compare"
    results = [
        _run(root / "ce", "ce", dataset, "glorot_uniform"),
        _run(root / "so", "so", dataset, "orthogonal"),
    ]
    (root / RESULTS_FILE).write_text(json.dumps(results))
    loads = []
    load_model = keras.saving.load_model

    def counted_load_model(*args, **kwargs):
        loads.append(args)
        return load_model(*args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(keras.saving, "load_model", counted_load_model)
        report.write_report(root, dataset=dataset, max_images=30, cam_images=2)
    return root, root / report.REPORT_DIR, len(loads)


def _assert_valid_pngs(directory, names):
    for name in names:
        with Image.open(directory / name) as image:
            image.verify()
        with Image.open(directory / name) as image:
            assert image.format == "PNG", name
            assert image.size[0] > 100 and image.size[1] > 100, name


def _headings(html):
    return re.findall(r"<th[^>]*>([^<]*)</th>", html)


def _image_sources(html):
    return re.findall(r'<img src="([^"]+)"', html)


def test_index_puts_the_methods_side_by_side(comparison):
    root, output, _ = comparison
    html = (output / report.INDEX_FILE).read_text()
    # The run directory's base name, not its absolute path.
    assert "<title>cifar_compare</title>" in html
    assert "<h1>cifar_compare</h1>" in html
    assert str(root) not in html
    # Settings every run shares are said once; the single-device ones not at all.
    assert "Recipe: demo · Dataset: cifar10_subset" in html
    assert "Engine" not in html and "Replicas" not in html

    # Readable headings, values rounded: 0.8125 -> 81.25 %, 90.123 s -> 1.5 min.
    for heading in (
        "Method",
        "Test accuracy (%)",
        "ECE (%)",
        "Feature s",
        "Epochs",
        "Time (min)",
        "My score",
    ):
        assert heading in _headings(html)
    ce_row = (
        '<td class="text"><a href="ce/index.html">ce</a></td>'
        "<td>81.25</td><td>3.46</td><td>0.612</td><td>1</td><td>1.5</td>"
        "<td>0.1235</td>"
    )
    assert ce_row in html
    assert '<a href="so/index.html">so</a></td><td>84.38</td><td>2.12</td>' in html
    for internal in ("test_accuracy", "train_seconds", "feature_s", "my_score"):
        assert internal not in html
    _assert_rounded(html)
    assert not INTERNAL_TEXT.search(html)
    assert "Notes" not in html

    # The test-set diagnostics: one column per method, on the same images.
    assert "Test-set diagnostics (30 test images" in html
    assert '<th class="text">Quantity</th><th>ce</th><th>so</th>' in html

    assert _image_sources(html) == list(COMPARISON_PNGS)
    _assert_valid_pngs(output, COMPARISON_PNGS)


def test_each_run_is_measured_once_for_both_pages(comparison):
    _, output, loads = comparison
    assert loads == 2
    for method in ("ce", "so"):
        html = (output / method / report.INDEX_FILE).read_text()
        assert f"<title>cifar_compare / {method}</title>" in html
        assert '<a href="../index.html">← cifar_compare</a>' in html
        assert _image_sources(html) == list(RUN_PNGS)
        _assert_valid_pngs(output / method, RUN_PNGS)
        assert '<td class="text">Test images</td><td>30</td>' in html
        assert '<td class="text">Recipe</td><td class="text">demo</td>' in html
        assert '<th class="text">Quantity</th><th>Value</th>' in html
        # One run's results read down a Quantity / Value table.
        assert '<td class="text">Epochs</td><td>1</td>' in html
        _assert_rounded(html)
        assert not INTERNAL_TEXT.search(html)
    # The run with orthogonal kernels: both conv residuals far below the other
    # run's, as the comparison's residual plot shows them.
    ce = (output / "ce" / report.INDEX_FILE).read_text()
    so = (output / "so" / report.INDEX_FILE).read_text()
    assert '<td class="text">Test accuracy (%)</td><td>81.25</td>' in ce
    assert '<td class="text">Time (min)</td><td>0.50</td>' in so
    assert '<th>#</th><th class="text">Kernel</th><th>SO residual</th>' in so
    assert re.search(r"<td>1</td><td class=\"text\">conv2d\w*/kernel</td>", so)
    for orthogonal, glorot in zip(_residuals(so)[:2], _residuals(ce)[:2], strict=True):
        assert orthogonal < 0.1 * glorot


def _residuals(html):
    rows = re.findall(
        r"<td>\d+</td><td class=\"text\">[^<]+</td><td>([^<]+)</td>", html
    )
    return [float(value) for value in rows]


def test_missing_pieces_are_plain_notes(tmp_path, dataset):
    root = tmp_path / "broken"
    _run(root / "ce", "ce", dataset, "glorot_uniform")
    (root / "ce" / MODEL_FILE).write_bytes(b"not a zip file")
    (root / "opl").mkdir()
    (root / "opl" / RESULTS_FILE).write_text("{not json")
    results = [
        {"method": "ce", "test_accuracy": 0.5, "settings": {"dataset": "no_such_set"}},
        {"method": "opl", "settings": {"dataset": "no_such_set"}},
    ]
    (root / RESULTS_FILE).write_text(json.dumps(results))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        page = report.write_report(root)
    # The causes go to the terminal as warnings, not to the page.
    assert len(caught) >= 2
    html = pathlib.Path(page).read_text(encoding="utf-8")
    assert not INTERNAL_TEXT.search(html)
    assert "The test images of &#x27;no_such_set&#x27; could not be loaded" in html
    assert "ce: no model to measure" in html
    assert "opl: no model to measure" in html
    # The bar chart shows what results.json has; ce's accuracy, nothing else.
    assert _image_sources(html) == ["accuracy_and_ece.png"]

    ce = (root / report.REPORT_DIR / "ce" / report.INDEX_FILE).read_text()
    assert "model.keras could not be loaded" in ce
    assert not INTERNAL_TEXT.search(ce)
    opl = (root / report.REPORT_DIR / "opl" / report.INDEX_FILE).read_text()
    assert "results.json could not be read as JSON" in opl
    assert "No model.keras in the run directory" in opl
    assert "keras_ortho.recipes.train (or keras-ortho train) writes it" in opl
    assert not INTERNAL_TEXT.search(opl)
