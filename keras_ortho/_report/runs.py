"""What `keras_ortho.report` reads and measures of a run directory, once per
run: its results, training history, kernels and, on the test images, its
predictions, calibration, features and class activation maps."""

import csv
import dataclasses
import json
import os
import warnings
import zipfile

import keras
import numpy as np

from keras_ortho import data as ortho_data
from keras_ortho import diagnostics
from keras_ortho import metrics
from keras_ortho._model_graph import feature_extractor
from keras_ortho._model_graph import find_head
from keras_ortho.diagnostics.feature_statistics import feature_statistics
from keras_ortho.recipes.results import RESULTS_JSON as RESULTS_FILE
from keras_ortho.recipes.training import HISTORY_FILE
from keras_ortho.recipes.training import MODEL_FILE

SUBSELECTION_FRACTIONS = (1.0, 0.75, 0.5, 0.25, 0.125, 0.0625)
PREDICT_BATCH_SIZE = 256
TRAIN_HINT = "keras_ortho.recipes.train (or keras-ortho train) writes it"


@dataclasses.dataclass(frozen=True)
class Options:
    data_dir: str | None
    max_images: int
    cam_images: int
    seed: int


@dataclasses.dataclass(frozen=True)
class ActivationMaps:
    images: np.ndarray
    maps: np.ndarray
    predicted_boxes: np.ndarray
    ground_truth_boxes: np.ndarray | None
    titles: list


@dataclasses.dataclass(frozen=True)
class TestSet:
    """The model's outputs and measures on the report's test images."""

    dataset_name: str
    labels: np.ndarray
    logits: np.ndarray
    features: np.ndarray
    measures: dict
    curves: dict
    activation_maps: ActivationMaps | None


@dataclasses.dataclass
class Run:
    """What the report measures of one run, once, for its own page and the
    comparison page."""

    results: list
    notes: list
    history: dict | None = None
    model: keras.Model | None = None
    kernels: list = dataclasses.field(default_factory=list)
    spectra: dict = dataclasses.field(default_factory=dict)
    test_set: TestSet | None = None


def read_results(run_dir, notes):
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


def find_sub_runs(run_dir, results):
    """The sub-directories of a comparison that hold a run of their own."""
    names = [str(result.get("method", "")) for result in results]
    return [
        name
        for name in names
        if name and os.path.exists(os.path.join(run_dir, name, RESULTS_FILE))
    ]


def load_report_dataset(results, data_dir, notes):
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


def measure_run(run_dir, results, notes, dataset, options, load_dataset=True):
    """Reads and measures one run directory, once."""
    run = Run(results=results, notes=notes, history=_read_history(run_dir, notes))
    run.model = _load_model(run_dir, notes)
    if run.model is None:
        return run
    run.kernels = diagnostics.filter_orthogonality(run.model)
    try:
        run.spectra = {
            r.kernel_path: r for r in diagnostics.convolution_spectra(run.model)
        }
    except ValueError:
        notes.append(
            "No operator spectra: the input size of the model's convolutions "
            "is not known (a subclassed model, or an input of unknown size). "
            "Build the model on a keras.Input of fixed size to get them."
        )
    if dataset is None and load_dataset:
        dataset = load_report_dataset(results, options.data_dir, notes)
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
        "random": diagnostics.feature_subselection_curve(
            features,
            labels,
            head,
            fractions=SUBSELECTION_FRACTIONS,
            mode="random",
            num_seeds=5,
            seed=options.seed,
        ),
        "largest activation": diagnostics.feature_subselection_curve(
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
    return TestSet(
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
        maps = diagnostics.class_activation_maps(
            model, images[shown], class_indices=labels[shown]
        )
    except (TypeError, ValueError):
        notes.append(
            "No class activation maps: they need one GlobalAveragePooling2D "
            "layer feeding the model's final Dense classifier, and this "
            f"model's head is a {type(head).__name__} "
            "(see keras_ortho.diagnostics.class_activation_maps)."
        )
        return None
    ground_truth = None
    if dataset.boxes_test is not None:
        ground_truth = dataset.boxes_test[chosen]
        score = diagnostics.localization_score(model, images, ground_truth, labels)
        measures["cam/gt_known"] = score.gt_known_accuracy
        measures["cam/top1"] = score.top1_accuracy
        ground_truth = ground_truth[shown]
    names = dataset.class_names or [str(k) for k in range(dataset.num_classes)]
    return ActivationMaps(
        images=images[shown],
        maps=maps,
        predicted_boxes=diagnostics.bounding_boxes(maps),
        ground_truth_boxes=ground_truth,
        titles=[names[int(k)] for k in labels[shown]],
    )
