"""Results of recipe runs: the comparison table and the JSON/CSV files."""

import csv
import json
import os

RESULTS_JSON = "results.json"
RESULTS_CSV = "results.csv"


def _percent(value):
    return f"{100 * value:.2f}"


# (key, heading, format) of each table column.
TABLE_COLUMNS = (
    ("method", "method", str),
    ("test_accuracy", "test acc %", _percent),
    ("ece", "ECE %", _percent),
    ("feature_s", "feature s", "{:.3f}".format),
    ("feature_d", "feature |d|", "{:.3f}".format),
    ("filter_so_residual", "filter SO", "{:.4g}".format),
    ("filter_coherence", "filter MC", "{:.3f}".format),
    ("train_seconds", "train s", "{:.0f}".format),
)


def format_table(results):
    """An aligned text table of `results` (dicts as `train` returns them).

    Columns: method, test accuracy, ECE, OPL's feature `s` (mean same-class
    cosine, higher is more compact) and `|d|` (mean |different-class cosine|,
    lower is more orthogonal), the mean SO residual and mutual coherence of
    the kernels, and the training time.
    """
    rows = [[heading for _, heading, _ in TABLE_COLUMNS]]
    for result in results:
        rows.append([fmt(result[key]) for key, _, fmt in TABLE_COLUMNS])
    widths = [max(len(row[i]) for row in rows) for i in range(len(TABLE_COLUMNS))]
    lines = []
    for index, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])]
        cells += [
            cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append("  ".join(cells))
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


def write_results(results, run_dir):
    """Writes `results` to `run_dir/results.json` (everything, settings
    included) and `run_dir/results.csv` (one row per run, without settings).

    Returns:
        The two paths.
    """
    json_path = os.path.join(run_dir, RESULTS_JSON)
    csv_path = os.path.join(run_dir, RESULTS_CSV)
    with open(json_path, "w") as file:
        json.dump(results, file, indent=2)
    fields = [key for key in results[0] if key != "settings"]
    with open(csv_path, "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(results)
    return json_path, csv_path
