"""The HTML pages of `keras_ortho.report`: one per run, and one that puts the
runs of a comparison side by side."""

import os

from keras_ortho import plots
from keras_ortho._report.html import Figure
from keras_ortho._report.html import Page
from keras_ortho._report.html import Table
from keras_ortho._report.html import render_html
from keras_ortho._report.runs import TRAIN_HINT
from keras_ortho._report.tables import RESULT_COLUMNS
from keras_ortho._report.tables import RUN_SETTINGS
from keras_ortho._report.tables import TEST_SET_COLUMNS
from keras_ortho._report.tables import comparison_rows
from keras_ortho._report.tables import kernel_rows
from keras_ortho._report.tables import method_columns
from keras_ortho._report.tables import vertical_rows
from keras_ortho._report.tables import without_settings
from keras_ortho.recipes.results import RESULTS_JSON as RESULTS_FILE

INDEX_FILE = "index.html"
FIGURE_DPI = 100

TEST_SET_CAPTION = (
    "ECE and MCE over 15 confidence bins. Feature s: the mean cosine of "
    "same-class feature pairs (1 is most compact); |d|: the mean |cosine| of "
    "different-class pairs (0 is most orthogonal). Sub-selection AUC: the mean "
    "accuracy as feature dimensions are dropped at random or largest "
    "activation first."
)


def write_run_page(run, output_dir, title, links=()):
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


def write_comparison_page(results, runs, output_dir, title, notes):
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
