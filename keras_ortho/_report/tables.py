"""The tables of a `keras-ortho report`: readable headings for the keys of
`results.json` and of the report's own measures, numbers rounded for
reading."""

import math

import numpy as np

from keras_ortho._report.html import Link


def _percent(value):
    return f"{100 * value:.2f}"


def _fixed(value):
    return f"{value:.3f}"


def _significant(value):
    if isinstance(value, (int, np.integer)):
        return f"{value:,}"
    return f"{value:.4g}"


def _count(value):
    return f"{int(value):,}"


def _minutes(seconds):
    minutes = seconds / 60
    return f"{minutes:.1f}" if minutes >= 1 else f"{minutes:.2f}"


# The results.json keys `train` writes: (heading, format) of each column.
RESULT_COLUMNS = {
    "method": ("Method", str),
    "test_accuracy": ("Test accuracy (%)", _percent),
    "ece": ("ECE (%)", _percent),
    "feature_s": ("Feature s", _fixed),
    "feature_d": ("Feature |d|", _fixed),
    "filter_so_residual": ("Filter SO residual", _significant),
    "filter_coherence": ("Filter coherence", _fixed),
    "epochs": ("Epochs", _count),
    "train_seconds": ("Time (min)", _minutes),
}
# The keys that describe a run rather than measure it: said once above a
# comparison's table when every run shares them.
RUN_SETTINGS = {
    "recipe": ("Recipe", str),
    "dataset": ("Dataset", str),
    "model": ("Model", str),
    "backend": ("Backend", str),
    "engine": ("Engine", str),
    "replicas": ("Replicas", _count),
    "processes": ("Processes", _count),
    "train_images": ("Train images", _count),
    "test_images": ("Test images", _count),
}
# The settings of a run on one device, not worth a mention.
SINGLE_PROCESS = {"engine": "none", "replicas": 1, "processes": 1}
# The report's own measurements on the test images it draws.
TEST_SET_COLUMNS = {
    "test_images": ("Test images", _count),
    "accuracy": ("Accuracy (%)", _percent),
    "ece": ("ECE (%)", _percent),
    "mce": ("MCE (%)", _percent),
    "nll": ("NLL", _fixed),
    "brier": ("Brier score", _fixed),
    "features/s": ("Feature s", _fixed),
    "features/d": ("Feature |d|", _fixed),
    "features/compactness": ("Compactness", _fixed),
    "features/separability": ("Separability", _fixed),
    "features/effective_rank": ("Effective rank", _significant),
    "subselection/random": ("Sub-selection AUC, random", _fixed),
    "subselection/largest activation": (
        "Sub-selection AUC, largest activation",
        _fixed,
    ),
    "cam/gt_known": ("CAM GT-known localisation (%)", _percent),
    "cam/top1": ("CAM top-1 localisation (%)", _percent),
}


def _readable(value, fmt=_significant):
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float, np.number)):
        if isinstance(value, float) and math.isnan(value):
            return "-"
        return fmt(value)
    return str(value)


def _heading(key):
    """The heading of a key without a column of its own: words, capitalised."""
    words = key.replace("_", " ").replace("/", " ").strip()
    return words[:1].upper() + words[1:]


def without_settings(result):
    """A result dict without the recipe settings `train` stores with it."""
    return {key: value for key, value in result.items() if key != "settings"}


def _cells(values, columns, skip=()):
    """`{heading: rounded text}` of `{key: value}`: the keys of `columns`
    first, in its order, then the others with a heading made of their name."""
    keys = [k for k in columns if k in values] + [k for k in values if k not in columns]
    cells = {}
    for key in keys:
        if key not in skip:
            heading, fmt = columns.get(key, (_heading(key), _significant))
            cells[heading] = _readable(values[key], fmt)
    return cells


def vertical_rows(values, columns):
    """`{key: value}` as rows (Quantity, Value)."""
    return [
        {"Quantity": heading, "Value": text}
        for heading, text in _cells(values, columns).items()
    ]


def method_columns(values, columns, skip=()):
    """`{method: {key: value}}` as rows (Quantity, one column per method)."""
    cells = {method: _cells(v, columns, skip) for method, v in values.items()}
    headings = dict.fromkeys(h for method_cells in cells.values() for h in method_cells)
    return [
        {
            "Quantity": heading,
            **{method: texts.get(heading, "-") for method, texts in cells.items()},
        }
        for heading in headings
    ]


def comparison_rows(results, reports):
    """The comparison's rows, one per method (linked to its page in
    `reports`, `{method: href}`), and the run settings every row shares, said
    once."""
    results = [without_settings(result) for result in results]
    shared = []
    varying = {}
    for key, (heading, fmt) in RUN_SETTINGS.items():
        values = [result.get(key) for result in results]
        if all(value is None for value in values):
            continue
        if len({repr(value) for value in values}) == 1:
            if values[0] != SINGLE_PROCESS.get(key):
                shared.append(f"{heading}: {_readable(values[0], fmt)}")
        else:
            varying[key] = (heading, fmt)
    columns = {**RESULT_COLUMNS, **varying}
    rows = []
    for result in results:
        shown = {
            key: value
            for key, value in result.items()
            if key in columns or key not in RUN_SETTINGS
        }
        row = _cells(shown, columns)
        method = str(result.get("method", ""))
        if method in reports:
            row["Method"] = Link(method, reports[method])
        rows.append(row)
    return rows, shared


def kernel_rows(kernels, spectra):
    """One row per kernel: its filter-Gram residual and coherence
    (`filter_orthogonality`) beside its operator spectrum
    (`convolution_spectra`), joined on the kernel path."""
    rows = []
    for index, record in enumerate(kernels, start=1):
        row = {
            "#": str(index),
            "Kernel": record.kernel_path,
            "SO residual": _significant(record.so_residual),
            "Mutual coherence": _significant(record.mutual_coherence),
        }
        spectrum = spectra.get(record.kernel_path)
        if spectrum is not None:
            row.update(
                {
                    "Input size": "x".join(map(str, spectrum.spatial_shape)) or "-",
                    "sigma max": _significant(spectrum.sigma_max),
                    "sigma min": _significant(spectrum.sigma_min),
                    "Stable rank": _significant(spectrum.stable_rank),
                }
            )
        rows.append(row)
    return rows
