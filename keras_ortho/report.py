"""`keras-ortho report RUN_DIR`: the diagnostic plots of a training run as PNG
files and an HTML page.

A run directory (as `keras_ortho.recipes.train` writes it) may hold

- `results.json`: a list of result dicts, each with a `"settings"` dict
  naming the `"dataset"`;
- `history.csv`: the epoch logs (`keras.callbacks.CSVLogger`);
- `model.keras`: the trained classifier, images -> logits.

The report shows what it finds: the results table, the training curves, and,
with the model, each kernel's filter-Gram residual beside its operator
spectrum and the Gram matrices of the filters; with its test images too, the
test-set metrics, the reliability diagram, the cosine histograms
of the features, the sub-selection curves and the class activation maps.
A comparison directory (`keras-ortho compare`), whose results name runs in
sub-directories, gets a report per run and a page that puts the methods side
by side: their results, accuracy and ECE as bars, their feature cosine
histograms on shared axes and their per-kernel filter residuals on one plot.
Each run is measured once; its page and the comparison page draw on the same
numbers.
"""

import csv
import dataclasses
import json
import os
import warnings
import zipfile

import keras
import numpy as np

from keras_ortho import data as ortho_data
from keras_ortho import metrics
from keras_ortho import plots
from keras_ortho._model_graph import find_head
from keras_ortho._report_html import Figure
from keras_ortho._report_html import Link
from keras_ortho._report_html import Page
from keras_ortho._report_html import Table
from keras_ortho._report_html import render_html
from keras_ortho._report_tables import RESULT_COLUMNS
from keras_ortho._report_tables import RUN_SETTINGS
from keras_ortho._report_tables import TEST_SET_COLUMNS
from keras_ortho._report_tables import comparison_rows
from keras_ortho._report_tables import kernel_rows
from keras_ortho._report_tables import method_columns
from keras_ortho._report_tables import vertical_rows
from keras_ortho._report_tables import without_settings
from keras_ortho._validation import validate_int
from keras_ortho._validation import validate_optional_path
from keras_ortho.callbacks.orthogonality_monitor import feature_extractor
from keras_ortho.callbacks.orthogonality_monitor import feature_statistics
from keras_ortho.recipes.results import RESULTS_JSON as RESULTS_FILE
from keras_ortho.recipes.training import HISTORY_FILE
from keras_ortho.recipes.training import MODEL_FILE

REPORT_DIR = "report"
INDEX_FILE = "index.html"
SUBSELECTION_FRACTIONS = (1.0, 0.75, 0.5, 0.25, 0.125, 0.0625)
PREDICT_BATCH_SIZE = 256
FIGURE_DPI = 100
TRAIN_HINT = "keras_ortho.recipes.train (or keras-ortho train) writes it"


TEST_SET_CAPTION = (
    "ECE and MCE over 15 confidence bins. Feature s: the mean cosine of "
    "same-class feature pairs (1 is most compact); |d|: the mean |cosine| of "
    "different-class pairs (0 is most orthogonal). Sub-selection AUC: the mean "
    "accuracy as feature dimensions are dropped at random or largest "
    "activation first."
)


@dataclasses.dataclass(frozen=True)
class _Options:
    data_dir: str | None
    max_images: int
    cam_images: int
    seed: int


@dataclasses.dataclass(frozen=True)
class _ActivationMaps:
    images: np.ndarray
    maps: np.ndarray
    predicted_boxes: np.ndarray
    ground_truth_boxes: np.ndarray | None
    titles: list


@dataclasses.dataclass(frozen=True)
class _TestSet:
    """The model's outputs and measures on the report's test images."""

    dataset_name: str
    labels: np.ndarray
    logits: np.ndarray
    features: np.ndarray
    measures: dict
    curves: dict
    activation_maps: _ActivationMaps | None


@dataclasses.dataclass
class _Run:
    """What the report measures of one run, once, for its own page and the
    comparison page."""

    results: list
    notes: list
    history: dict | None = None
    model: keras.Model | None = None
    kernels: list = dataclasses.field(default_factory=list)
    spectra: dict = dataclasses.field(default_factory=dict)
    test_set: _TestSet | None = None


def write_report(
    run_dir,
    output_dir=None,
    dataset=None,
    data_dir=None,
    max_images=1000,
    cam_images=16,
    seed=0,
):
    """Writes the diagnostic plots of a run directory and an HTML page.

    With `model.keras` and the test images, the model runs on `max_images`
    test images (a seeded random draw; all of them if there are fewer) of the
    dataset named in `results.json` (or `dataset`), and the report adds:
    accuracy, ECE/MCE (15 bins), NLL, Brier score, the feature statistics of
    `keras_ortho.callbacks.OrthogonalityMonitor`, the area under the random
    and activation-ranked sub-selection curves and, for datasets with boxes
    (Tiny ImageNet), the CAM localisation accuracy. CAMs need a GAP model
    with a Dense head (`keras_ortho.metrics.class_activation_maps`); for
    other heads the page says why they are missing. Anything the run
    directory lacks is skipped with a note on the page saying what is
    missing and how to get it.

    A comparison directory (`keras_ortho.recipes.compare`) gets one page per
    run and an index that compares them: the results table, accuracy and ECE
    as bars, the feature cosine histograms of every method on shared axes,
    the filter-Gram residual of each kernel of every method on one plot, and
    the sub-selection curves. All methods are evaluated on the same test
    images.

    Args:
        run_dir: the run (or comparison) directory.
        output_dir: where the PNG files and `index.html` go; `None` for
            `run_dir/report`. Sub-runs of a comparison go to
            `output_dir/<run>`.
        dataset: a `keras_ortho.data.Dataset` to evaluate on; `None` loads the
            dataset named in `results.json` with `keras_ortho.data.
            load_dataset(name, data_dir)`.
        data_dir: the local copy of the dataset, for `load_dataset`.
        max_images: the number of test images evaluated.
        cam_images: the number of class activation maps drawn, of test
            images evenly spaced among the evaluated ones.
        seed: the seed of the draw of test images and of the random
            sub-selection masks.

    Returns:
        The path of the HTML page.

    Example:

    ```python
    from keras_ortho.report import write_report

    # A run to report on: the demo recipe cut to 64 images and one epoch.
    recipe = keras_ortho.recipes.get_recipe(
        "demo", epochs=1, train_size=64, test_size=64
    )
    keras_ortho.recipes.train(recipe, "runs/demo", verbose=0)
    page = write_report("runs/demo")
    ```
    """
    run_dir = validate_optional_path(run_dir, "run_dir")
    if run_dir is None or not os.path.isdir(run_dir):
        raise ValueError(
            "Invalid value for argument `run_dir`: expected an existing "
            f"directory. Received: run_dir={run_dir!r}"
        )
    output_dir = validate_optional_path(output_dir, "output_dir")
    if output_dir is None:
        output_dir = os.path.join(run_dir, REPORT_DIR)
    if dataset is not None and not isinstance(dataset, ortho_data.Dataset):
        raise TypeError(
            "Invalid type for argument `dataset`: expected None or a "
            f"keras_ortho.data.Dataset. Received: dataset of type "
            f"{type(dataset).__name__}"
        )
    options = _Options(
        data_dir=validate_optional_path(data_dir, "data_dir"),
        max_images=validate_int(max_images, "max_images", minimum=1),
        cam_images=validate_int(cam_images, "cam_images", minimum=0),
        seed=validate_int(seed, "seed", minimum=0),
    )
    title = os.path.basename(os.path.abspath(run_dir))
    notes = []
    results = _read_results(run_dir, notes)
    sub_runs = _sub_runs(run_dir, results)
    if not sub_runs:
        run = _measure_run(run_dir, results, notes, dataset, options)
        return _write_run_page(run, output_dir, title)

    if dataset is None:
        dataset = _load_dataset(results, options.data_dir, notes)
    runs = {}
    for name in sub_runs:
        sub_dir = os.path.join(run_dir, name)
        sub_notes = []
        run = _measure_run(
            sub_dir,
            _read_results(sub_dir, sub_notes),
            sub_notes,
            dataset,
            options,
            load_dataset=False,
        )
        _write_run_page(
            run,
            os.path.join(output_dir, name),
            f"{title} / {name}",
            links=[Link(f"← {title}", f"../{INDEX_FILE}")],
        )
        if run.model is None:
            notes.append(
                f"{name}: no model to measure, so the feature and kernel plots "
                "leave it out; its report says what is missing."
            )
        # The comparison needs the measures only.
        run.model = None
        runs[name] = run
    return _write_comparison_page(results, runs, output_dir, title, notes)


def _read_results(run_dir, notes):
    path = os.path.join(run_dir, RESULTS_FILE)
    if not os.path.exists(path):
        notes.append(
            f"No {RESULTS_FILE} in the run directory: no results table; {TRAIN_HINT}."
        )
        return []
    try:
        with open(path, encoding="utf-8") as file:
            results = json.load(file)
    except (OSError, UnicodeDecodeError, ValueError):
        notes.append(
            f"{RESULTS_FILE} could not be read as JSON: no results table. "
            "Rerun the training to rewrite it."
        )
        return []
    if isinstance(results, dict):
        results = [results]
    if not isinstance(results, list) or not all(isinstance(r, dict) for r in results):
        notes.append(
            f"{RESULTS_FILE} does not hold a list of result dicts: no results "
            f"table; {TRAIN_HINT}."
        )
        return []
    return results


def _sub_runs(run_dir, results):
    """The sub-directories of a comparison that hold a run of their own."""
    names = [str(result.get("method", "")) for result in results]
    return [
        name
        for name in names
        if name and os.path.exists(os.path.join(run_dir, name, RESULTS_FILE))
    ]


def _load_dataset(results, data_dir, notes):
    names = {r.get("settings", {}).get("dataset", r.get("dataset")) for r in results}
    names.discard(None)
    if len(names) != 1:
        notes.append(
            f"No test images to evaluate on: {RESULTS_FILE} names "
            + (
                f"the datasets {', '.join(sorted(map(str, names)))}"
                if names
                else "no dataset"
            )
            + "; pass one with --dataset (or `dataset=`)."
        )
        return None
    name = names.pop()
    try:
        return ortho_data.load_dataset(name, data_dir=data_dir)
    except (ImportError, OSError, ValueError) as error:
        note = (
            f"The test images of {name!r} could not be loaded"
            + (f" from {data_dir}" if data_dir else "")
            + ": no test-set diagnostics. Pass --data-dir with a local copy "
            "of the dataset (see keras_ortho.data.load_dataset) or --dataset."
        )
        notes.append(note)
        # The cause is for the terminal, not the page.
        warnings.warn(f"{note} Cause: {error}", stacklevel=3)
        return None


def _measure_run(run_dir, results, notes, dataset, options, load_dataset=True):
    """Reads and measures one run directory, once."""
    run = _Run(results=results, notes=notes, history=_read_history(run_dir, notes))
    run.model = _load_model(run_dir, notes)
    if run.model is None:
        return run
    run.kernels = metrics.filter_orthogonality(run.model)
    try:
        run.spectra = {r.kernel_path: r for r in metrics.convolution_spectra(run.model)}
    except ValueError:
        notes.append(
            "No operator spectra: the input size of the model's convolutions "
            "is not known (a subclassed model, or an input of unknown size). "
            "Build the model on a keras.Input of fixed size to get them."
        )
    if dataset is None and load_dataset:
        dataset = _load_dataset(results, options.data_dir, notes)
    if dataset is None:
        if not load_dataset:
            notes.append(
                "No test-set diagnostics: the comparison's test images could "
                "not be loaded (see the notes of the comparison page)."
            )
        return run
    run.test_set = _evaluate(run.model, dataset, options, notes)
    return run


def _read_history(run_dir, notes):
    path = os.path.join(run_dir, HISTORY_FILE)
    if not os.path.exists(path):
        notes.append(f"No {HISTORY_FILE}: no training curves; {TRAIN_HINT}.")
        return None
    with open(path, newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    if not rows:
        notes.append(f"{HISTORY_FILE} is empty: no training curves.")
        return None
    history = {key: [_to_float(row[key]) for row in rows] for key in rows[0]}
    # CSVLogger writes empty `val_` columns for every key when fit has no
    # validation data.
    return {
        key: values for key, values in history.items() if not np.all(np.isnan(values))
    }


def _to_float(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return float("nan")


def _load_model(run_dir, notes):
    path = os.path.join(run_dir, MODEL_FILE)
    if not os.path.exists(path):
        notes.append(
            f"No {MODEL_FILE} in the run directory: no kernel or test-set "
            f"diagnostics; {TRAIN_HINT}."
        )
        return None
    try:
        return keras.saving.load_model(path, compile=False)
    except (OSError, TypeError, ValueError, zipfile.BadZipFile) as error:
        note = (
            f"{MODEL_FILE} could not be loaded: no kernel or test-set "
            "diagnostics. It may be incomplete, or hold custom objects that "
            "are not registered with keras.saving.register_keras_serializable "
            "in this process; import their module before the report."
        )
        notes.append(note)
        warnings.warn(f"{note} Cause: {error}", stacklevel=3)
        return None


def _evaluate(model, dataset, options, notes):
    try:
        head = find_head(model)
        extractor = feature_extractor(model)
    except ValueError:
        notes.append(
            "No test-set diagnostics: the model's classifier head was not found. "
            "The report needs a model whose last Dense or FixedClassifier layer "
            "outputs logits (no final softmax)."
        )
        return None
    chosen = np.arange(len(dataset.x_test))
    if len(chosen) > options.max_images:
        rng = np.random.default_rng(options.seed)
        chosen = np.sort(rng.permutation(len(chosen))[: options.max_images])
    images = dataset.x_test[chosen]
    labels = dataset.y_test[chosen]
    features = extractor.predict(images, batch_size=PREDICT_BATCH_SIZE, verbose=0)
    features = np.asarray(features, "float32").reshape(len(images), -1)
    logits = np.asarray(
        model.predict(images, batch_size=PREDICT_BATCH_SIZE, verbose=0), "float32"
    )
    measures = {
        "test_images": len(images),
        "accuracy": float(np.mean(np.argmax(logits, axis=-1) == labels)),
        "ece": metrics.expected_calibration_error(labels, logits, from_logits=True),
        "mce": metrics.maximum_calibration_error(labels, logits, from_logits=True),
        "nll": metrics.negative_log_likelihood(labels, logits, from_logits=True),
        "brier": metrics.brier_score(labels, logits, from_logits=True),
        **{
            f"features/{name}": value
            for name, value in feature_statistics(features, labels).items()
        },
    }
    curves = {
        "random": metrics.feature_subselection_curve(
            features,
            labels,
            head,
            fractions=SUBSELECTION_FRACTIONS,
            mode="random",
            num_seeds=5,
            seed=options.seed,
        ),
        "largest activation": metrics.feature_subselection_curve(
            features,
            labels,
            head,
            fractions=SUBSELECTION_FRACTIONS,
            mode="activation",
        ),
    }
    for name, curve in curves.items():
        measures[f"subselection/{name}"] = curve.area_under_curve
    activation_maps = _activation_maps(
        model, dataset, chosen, head, measures, notes, options.cam_images
    )
    return _TestSet(
        dataset_name=dataset.name,
        labels=labels,
        logits=logits,
        features=features,
        measures=measures,
        curves=curves,
        activation_maps=activation_maps,
    )


def _activation_maps(model, dataset, chosen, head, measures, notes, cam_images):
    if cam_images == 0:
        return None
    images, labels = dataset.x_test[chosen], dataset.y_test[chosen]
    shown = np.unique(np.linspace(0, len(chosen) - 1, cam_images).round().astype(int))
    try:
        maps = metrics.class_activation_maps(
            model, images[shown], class_indices=labels[shown]
        )
    except (TypeError, ValueError):
        notes.append(
            "No class activation maps: they need one GlobalAveragePooling2D "
            "layer feeding the model's final Dense classifier, and this "
            f"model's head is a {type(head).__name__} "
            "(see keras_ortho.metrics.class_activation_maps)."
        )
        return None
    ground_truth = None
    if dataset.boxes_test is not None:
        ground_truth = dataset.boxes_test[chosen]
        score = metrics.localization_score(model, images, ground_truth, labels)
        measures["cam/gt_known"] = score.gt_known_accuracy
        measures["cam/top1"] = score.top1_accuracy
        ground_truth = ground_truth[shown]
    names = dataset.class_names or [str(k) for k in range(dataset.num_classes)]
    return _ActivationMaps(
        images=images[shown],
        maps=maps,
        predicted_boxes=metrics.bounding_boxes(maps),
        ground_truth_boxes=ground_truth,
        titles=[names[int(k)] for k in labels[shown]],
    )


# Pages.


def _write_run_page(run, output_dir, title, links=()):
    os.makedirs(output_dir, exist_ok=True)
    page = Page(title=title, links=list(links), notes=run.notes)
    test_set = run.test_set
    if test_set is not None:
        page.summary.append(
            f"Test-set diagnostics on {test_set.measures['test_images']:,} "
            f"test images of {test_set.dataset_name}."
        )
        page.tables.append(
            Table(
                "Test set",
                vertical_rows(test_set.measures, TEST_SET_COLUMNS),
                caption=TEST_SET_CAPTION,
            )
        )
    if run.results:
        page.tables.append(
            Table(
                "Results",
                vertical_rows(
                    without_settings(run.results[0]),
                    {**RESULT_COLUMNS, **RUN_SETTINGS},
                ),
                caption=f"As the training wrote them to {RESULTS_FILE}, on "
                "the whole test set.",
            )
        )
    if run.kernels:
        page.tables.append(
            Table(
                "Kernels: filter Gram residual and operator spectrum",
                kernel_rows(run.kernels, run.spectra),
                caption="SO residual: ||W^T W - I||_F^2 of the filter matrix W; "
                "mutual coherence: the largest |cosine| of two filters; sigma max, "
                "sigma min and stable rank: of the layer's operator (its circular "
                "convolution on the input size).",
            )
        )

    if run.history:
        _add_figure(
            page,
            output_dir,
            plots.plot_training_history(run.history),
            "training_history.png",
            "Training curves",
        )
    if run.model is not None:
        _add_figure(
            page,
            output_dir,
            plots.plot_gram_matrices(run.model),
            "gram_matrices.png",
            "Filter Gram matrices",
        )
    if test_set is not None:
        _add_figure(
            page,
            output_dir,
            plots.plot_reliability_diagram(
                test_set.labels, test_set.logits, from_logits=True
            ),
            "reliability_diagram.png",
            "Reliability diagram",
        )
        _add_figure(
            page,
            output_dir,
            plots.plot_cosine_histograms(test_set.features, test_set.labels),
            "cosine_histograms.png",
            "Feature cosines",
        )
        _add_figure(
            page,
            output_dir,
            plots.plot_subselection_curves(test_set.curves),
            "subselection_curves.png",
            "Feature sub-selection",
        )
        cams = test_set.activation_maps
        if cams is not None:
            _add_figure(
                page,
                output_dir,
                plots.plot_cam_overlays(
                    cams.images,
                    cams.maps,
                    ground_truth_boxes=cams.ground_truth_boxes,
                    predicted_boxes=cams.predicted_boxes,
                    titles=cams.titles,
                ),
                "class_activation_maps.png",
                "Class activation maps of the true class",
                "Red: the box of the CAM"
                + (
                    "; green: the ground truth."
                    if cams.ground_truth_boxes is not None
                    else "."
                ),
            )
    return _write_page(page, output_dir)


def _write_comparison_page(results, runs, output_dir, title, notes):
    os.makedirs(output_dir, exist_ok=True)
    page = Page(title=title, notes=notes)
    page.summary.append(
        f"{len(results)} methods compared"
        + (
            f": {', '.join(str(r.get('method', '?')) for r in results)}."
            if results
            else "."
        )
    )
    rows, shared = comparison_rows(
        results, {name: f"{name}/{INDEX_FILE}" for name in runs}
    )
    if shared:
        page.summary.append(" · ".join(shared))
    page.tables.append(
        Table(
            "Results",
            rows,
            caption=f"As each training wrote them to {RESULTS_FILE}, on the "
            "whole test set. Feature s and |d|: the mean cosine of same-class "
            "and the mean |cosine| of different-class feature pairs; filter SO "
            "residual and coherence: means over the kernels. Each method links "
            "to its own report.",
        )
    )
    tested = {name: run.test_set for name, run in runs.items() if run.test_set}
    if tested:
        test_images = next(iter(tested.values())).measures["test_images"]
        page.tables.append(
            Table(
                f"Test-set diagnostics ({test_images:,} test images, the same "
                "for every method)",
                method_columns(
                    {name: test_set.measures for name, test_set in tested.items()},
                    TEST_SET_COLUMNS,
                    skip=("test_images",),
                ),
                caption=TEST_SET_CAPTION,
            )
        )

    scores = {
        str(result.get("method", "?")): {
            "Test accuracy (%)": _scaled(result.get("test_accuracy"), 100),
            "ECE (%)": _scaled(result.get("ece"), 100),
        }
        for result in results
    }
    if any(
        value is not None for values in scores.values() for value in values.values()
    ):
        _add_figure(
            page,
            output_dir,
            plots.plot_metric_bars(scores),
            "accuracy_and_ece.png",
            "Test accuracy and calibration",
            f"From {RESULTS_FILE}, on the whole test set; a lower ECE is "
            "better calibrated.",
        )
    else:
        page.notes.append(
            f"No accuracy or ECE in {RESULTS_FILE}: no bar chart; {TRAIN_HINT}."
        )
    if tested:
        # Every run is evaluated on the same draw of the same test images.
        labels = next(iter(tested.values())).labels
        _add_figure(
            page,
            output_dir,
            plots.plot_cosine_histogram_comparison(
                {name: test_set.features for name, test_set in tested.items()},
                labels,
            ),
            "cosine_histogram_comparison.png",
            "Feature cosines",
            "Pairwise cosines of the test features, on the same pairs for every "
            "method. Orthogonal class subspaces put the same-class cosines near "
            "1 and the different-class cosines near 0.",
        )
        _add_figure(
            page,
            output_dir,
            plots.plot_subselection_curves(
                {name: test_set.curves["random"] for name, test_set in tested.items()},
                title="Feature sub-selection, random",
            ),
            "subselection_curves.png",
            "Feature sub-selection",
            "Test accuracy as feature dimensions are dropped at random, mean "
            "and one standard deviation over 5 draws.",
        )
    measured = {name: run.kernels for name, run in runs.items() if run.kernels}
    if measured:
        _add_figure(
            page,
            output_dir,
            plots.plot_filter_orthogonality(measured),
            "filter_orthogonality.png",
            "Filter Gram residual per kernel",
            "||W^T W - I||_F^2 of each kernel's filter matrix, numbered from the "
            "input (each report's kernel table lists them).",
        )
    return _write_page(page, output_dir)


def _add_figure(page, output_dir, figure, file_name, title, caption=""):
    figure.savefig(os.path.join(output_dir, file_name), dpi=FIGURE_DPI)
    page.figures.append(Figure(file_name, title, caption))


def _write_page(page, output_dir):
    path = os.path.join(output_dir, INDEX_FILE)
    with open(path, "w", encoding="utf-8") as file:
        file.write(render_html(page))
    return path


def _scaled(value, factor):
    if value is None or not isinstance(value, (int, float)):
        return None
    return factor * value
