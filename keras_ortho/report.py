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

import os

from keras_ortho import data as ortho_data
from keras_ortho._report.html import Link
from keras_ortho._report.pages import INDEX_FILE
from keras_ortho._report.pages import write_comparison_page
from keras_ortho._report.pages import write_run_page
from keras_ortho._report.runs import Options
from keras_ortho._report.runs import find_sub_runs
from keras_ortho._report.runs import load_report_dataset
from keras_ortho._report.runs import measure_run
from keras_ortho._report.runs import read_results
from keras_ortho._validation import validate_int
from keras_ortho._validation import validate_optional_path

__all__ = ["INDEX_FILE", "REPORT_DIR", "write_report"]

REPORT_DIR = "report"


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
    with a Dense head (`keras_ortho.diagnostics.class_activation_maps`); for
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
    options = Options(
        data_dir=validate_optional_path(data_dir, "data_dir"),
        max_images=validate_int(max_images, "max_images", minimum=1),
        cam_images=validate_int(cam_images, "cam_images", minimum=0),
        seed=validate_int(seed, "seed", minimum=0),
    )
    title = os.path.basename(os.path.abspath(run_dir))
    notes = []
    results = read_results(run_dir, notes)
    sub_runs = find_sub_runs(run_dir, results)
    if not sub_runs:
        run = measure_run(run_dir, results, notes, dataset, options)
        return write_run_page(run, output_dir, title)

    if dataset is None:
        dataset = load_report_dataset(results, options.data_dir, notes)
    runs = {}
    for name in sub_runs:
        sub_dir = os.path.join(run_dir, name)
        sub_notes = []
        run = measure_run(
            sub_dir,
            read_results(sub_dir, sub_notes),
            sub_notes,
            dataset,
            options,
            load_dataset=False,
        )
        write_run_page(
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
    return write_comparison_page(results, runs, output_dir, title, notes)
