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
sub-directories, gets a report per run, linked from its page.
"""

import csv
import dataclasses
import json
import os

import keras
import numpy as np

from keras_ortho import data as ortho_data
from keras_ortho import metrics
from keras_ortho import plots
from keras_ortho._model_graph import find_head
from keras_ortho._report_html import Page
from keras_ortho._report_html import render_html
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


@dataclasses.dataclass(frozen=True)
class _Options:
    data_dir: str | None
    max_images: int
    cam_images: int
    seed: int


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
    directory lacks is skipped with a note on the page.

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
    os.makedirs(output_dir, exist_ok=True)

    page = Page(title=f"keras_ortho report: {os.path.abspath(run_dir)}")
    results = _read_results(run_dir, page)
    sub_runs = _sub_runs(run_dir, results)
    if sub_runs:
        dataset = dataset or _load_dataset(results, options.data_dir, page)
        for name in sub_runs:
            sub_page = write_report(
                os.path.join(run_dir, name),
                os.path.join(output_dir, name),
                dataset=dataset,
                data_dir=options.data_dir,
                max_images=options.max_images,
                cam_images=options.cam_images,
                seed=options.seed,
            )
            page.links.append((name, os.path.relpath(sub_page, output_dir)))
    else:
        _add_history(run_dir, output_dir, page)
        _add_model_diagnostics(run_dir, output_dir, page, results, dataset, options)
    path = os.path.join(output_dir, INDEX_FILE)
    with open(path, "w", encoding="utf-8") as file:
        file.write(render_html(page))
    return path


def _read_results(run_dir, page):
    path = os.path.join(run_dir, RESULTS_FILE)
    if not os.path.exists(path):
        page.notes.append(f"No {RESULTS_FILE} in the run directory.")
        return []
    with open(path, encoding="utf-8") as file:
        results = json.load(file)
    if isinstance(results, dict):
        results = [results]
    rows = [
        {key: value for key, value in result.items() if key != "settings"}
        for result in results
    ]
    page.tables.append(("Results", rows))
    return results


def _sub_runs(run_dir, results):
    """The sub-directories of a comparison that hold a run of their own."""
    names = [str(result.get("method", "")) for result in results]
    return [
        name
        for name in names
        if name and os.path.exists(os.path.join(run_dir, name, RESULTS_FILE))
    ]


def _load_dataset(results, data_dir, page):
    names = {r.get("settings", {}).get("dataset", r.get("dataset")) for r in results}
    names.discard(None)
    if len(names) != 1:
        page.notes.append(
            "No dataset to evaluate on: results.json names "
            f"{sorted(names) or 'none'}; pass `dataset` or --dataset."
        )
        return None
    name = names.pop()
    try:
        return ortho_data.load_dataset(name, data_dir=data_dir)
    except (ImportError, OSError, ValueError) as error:
        page.notes.append(f"Could not load the test images of {name!r}: {error}")
        return None


def _add_history(run_dir, output_dir, page):
    path = os.path.join(run_dir, HISTORY_FILE)
    if not os.path.exists(path):
        page.notes.append(f"No {HISTORY_FILE}: no training curves.")
        return
    with open(path, newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    if not rows:
        page.notes.append(f"{HISTORY_FILE} is empty: no training curves.")
        return
    history = {key: [_to_float(row[key]) for row in rows] for key in rows[0]}
    # CSVLogger writes empty `val_` columns for every key when fit has no
    # validation data.
    history = {
        key: values for key, values in history.items() if not np.all(np.isnan(values))
    }
    figure = plots.plot_training_history(history)
    _save(figure, output_dir, "training_history.png", "Training curves", page)


def _to_float(text):
    try:
        return float(text)
    except (TypeError, ValueError):
        return float("nan")


def _add_model_diagnostics(run_dir, output_dir, page, results, dataset, options):
    path = os.path.join(run_dir, MODEL_FILE)
    if not os.path.exists(path):
        page.notes.append(
            f"No {MODEL_FILE} in the run directory: no test-set diagnostics."
        )
        return
    model = keras.saving.load_model(path, compile=False)
    _add_kernel_table(model, page)
    figure = plots.plot_gram_matrices(model)
    _save(figure, output_dir, "gram_matrices.png", "Filter Gram matrices", page)

    if dataset is None:
        dataset = _load_dataset(results, options.data_dir, page)
    if dataset is None:
        return
    chosen = np.arange(len(dataset.x_test))
    if len(chosen) > options.max_images:
        rng = np.random.default_rng(options.seed)
        chosen = np.sort(rng.permutation(len(chosen))[: options.max_images])
    images = dataset.x_test[chosen]
    labels = dataset.y_test[chosen]
    extractor = feature_extractor(model)
    head = find_head(model)
    features = extractor.predict(images, batch_size=PREDICT_BATCH_SIZE, verbose=0)
    features = np.asarray(features, "float32").reshape(len(images), -1)
    logits = np.asarray(
        model.predict(images, batch_size=PREDICT_BATCH_SIZE, verbose=0), "float32"
    )
    summary = {
        "test images": len(images),
        "accuracy": float(np.mean(np.argmax(logits, axis=-1) == labels)),
        "ECE (15 bins)": metrics.expected_calibration_error(
            labels, logits, from_logits=True
        ),
        "MCE (15 bins)": metrics.maximum_calibration_error(
            labels, logits, from_logits=True
        ),
        "NLL": metrics.negative_log_likelihood(labels, logits, from_logits=True),
        "Brier": metrics.brier_score(labels, logits, from_logits=True),
        **{
            f"features {name}": value
            for name, value in feature_statistics(features, labels).items()
        },
    }

    figure = plots.plot_reliability_diagram(labels, logits, from_logits=True)
    _save(figure, output_dir, "reliability_diagram.png", "Reliability diagram", page)
    figure = plots.plot_cosine_histograms(features, labels, seed=options.seed)
    _save(figure, output_dir, "cosine_histograms.png", "Feature cosines", page)

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
        summary[f"sub-selection AUC ({name})"] = curve.area_under_curve
    figure = plots.plot_subselection_curves(curves)
    _save(figure, output_dir, "subselection_curves.png", "Feature sub-selection", page)

    _add_class_activation_maps(
        model, dataset, chosen, output_dir, page, summary, options.cam_images
    )
    rows = [{"metric": name, "value": value} for name, value in summary.items()]
    page.tables.insert(0, (f"Test set ({dataset.name})", rows))


def _add_kernel_table(model, page):
    """One row per kernel: its filter-Gram residual and coherence
    (`filter_orthogonality`) beside its operator spectrum
    (`convolution_spectra`), joined on the kernel path."""
    try:
        spectra = {r.kernel_path: r for r in metrics.convolution_spectra(model)}
    except ValueError as error:
        page.notes.append(f"No operator spectra: {error}")
        spectra = {}
    rows = []
    for record in metrics.filter_orthogonality(model):
        row = {
            "kernel": record.kernel_path,
            "SO residual": record.so_residual,
            "mutual coherence": record.mutual_coherence,
        }
        spectrum = spectra.get(record.kernel_path)
        if spectrum is not None:
            row.update(
                {
                    "input size": "x".join(map(str, spectrum.spatial_shape)) or "-",
                    "sigma_max": spectrum.sigma_max,
                    "sigma_min": spectrum.sigma_min,
                    "stable rank": spectrum.stable_rank,
                }
            )
        rows.append(row)
    page.tables.append(("Kernels: filter Gram residual and operator spectrum", rows))


def _add_class_activation_maps(
    model, dataset, chosen, output_dir, page, summary, cam_images
):
    if cam_images == 0:
        return
    images, labels = dataset.x_test[chosen], dataset.y_test[chosen]
    shown = np.unique(np.linspace(0, len(chosen) - 1, cam_images).round().astype(int))
    try:
        maps = metrics.class_activation_maps(
            model, images[shown], class_indices=labels[shown]
        )
    except ValueError as error:
        page.notes.append(f"No class activation maps: {error}")
        return
    predicted_boxes = metrics.bounding_boxes(maps)
    ground_truth = None
    if dataset.boxes_test is not None:
        ground_truth = dataset.boxes_test[chosen]
        score = metrics.localization_score(model, images, ground_truth, labels)
        summary["CAM GT-known localisation"] = score.gt_known_accuracy
        summary["CAM top-1 localisation"] = score.top1_accuracy
        ground_truth = ground_truth[shown]
    names = dataset.class_names or [str(k) for k in range(dataset.num_classes)]
    figure = plots.plot_cam_overlays(
        images[shown],
        maps,
        ground_truth_boxes=ground_truth,
        predicted_boxes=predicted_boxes,
        titles=[names[int(k)] for k in labels[shown]],
    )
    _save(
        figure,
        output_dir,
        "class_activation_maps.png",
        "Class activation maps of the true class (red: CAM box"
        + (", green: ground truth)" if ground_truth is not None else ")"),
        page,
    )


def _save(figure, output_dir, name, caption, page):
    figure.savefig(os.path.join(output_dir, name), dpi=FIGURE_DPI)
    page.figures.append((name, caption))
