"""One filter-orthogonality measure per kernel, for one or several models."""

from keras_ortho._validation import validate_choice
from keras_ortho.diagnostics.filter_orthogonality import FilterOrthogonalityResult
from keras_ortho.plots._figure import by_label
from keras_ortho.plots._figure import figure_of
from keras_ortho.plots._figure import line_style

MEASURES = {
    "so_residual": "SO residual ||W^T W - I||_F^2",
    "normalized_so_residual": "normalized SO residual",
    "mutual_coherence": "mutual coherence",
    "sigma_max": "||W^T W - I||_2",
}
MARKERS = ("o", "s", "^", "D", "v", "P")


def plot_filter_orthogonality(records, measure="so_residual", ax=None, title=None):
    """Plots a filter-orthogonality measure of each kernel against its
    position in the model, one line per model.

    The kernels are numbered 1, 2, ... in the order of
    `keras_ortho.diagnostics.filter_orthogonality` (the model's layers, input to
    output), so models of one architecture line up kernel by kernel: a
    regularized model's line lies below the plain one wherever the
    regularizer reached. The y axis is logarithmic when every value is
    positive. The legend gives each model's mean over its kernels.

    Args:
        records: the list `keras_ortho.diagnostics.filter_orthogonality(model)`
            returns, or a dict `{label: that list}` to compare models (e.g.
            `{"CE": ..., "CE + SO": ...}`).
        measure: the `FilterOrthogonalityResult` attribute plotted: `"so_residual"`
            (`||W^T W - I||_F^2`), `"normalized_so_residual"`,
            `"mutual_coherence"` or `"sigma_max"` (`||W^T W - I||_2`).
        ax: a matplotlib `Axes` to draw on; `None` makes a new figure.
        title: the axes' title; `None` for "Filter orthogonality per kernel".

    Returns:
        The `matplotlib.figure.Figure` drawn on.

    Example:

    ```python
    model = keras.Sequential(
        [
            keras.Input((16, 16, 3)),
            keras.layers.Conv2D(8, 3, activation="relu"),
            keras.layers.Conv2D(8, 3, activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(4),
        ]
    )
    records = keras_ortho.diagnostics.filter_orthogonality(model)
    figure = keras_ortho.plots.plot_filter_orthogonality({"initial": records})
    ```
    """
    measure = validate_choice(measure, "measure", tuple(MEASURES))
    records = by_label(
        records,
        "records",
        _is_kernel_records,
        "the list keras_ortho.diagnostics.filter_orthogonality(model) returns",
    )
    figure, ax = figure_of(ax, 6.0, 3.6)
    values = {
        label: [getattr(record, measure) for record in kernels]
        for label, kernels in records.items()
    }
    for index, (label, series) in enumerate(values.items()):
        if series:
            mean = sum(series) / len(series)
            # Markers and dashes tell apart the lines of models that coincide.
            ax.plot(
                range(1, len(series) + 1),
                series,
                color=f"C{index}",
                marker=MARKERS[index % len(MARKERS)],
                linestyle=line_style(index),
                label=f"{label} (mean {mean:.3g})",
            )
    everything = [value for series in values.values() for value in series]
    if everything and min(everything) > 0:
        from matplotlib import ticker

        ax.set_yscale("log")
        # Plain numbers at 1, 2 and 5 times each power of ten: readable on
        # the one or two decades a model's kernels usually span.
        plain = ticker.FuncFormatter(lambda value, _: f"{value:g}")
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_locator(ticker.LogLocator(subs=(2.0, 5.0)))
        ax.yaxis.set_minor_formatter(plain)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("kernel, input to output")
    ax.set_ylabel(MEASURES[measure])
    ax.set_title("Filter orthogonality per kernel" if title is None else title)
    if everything:
        ax.legend(loc="best", fontsize="small")
    return figure


def _is_kernel_records(value):
    return isinstance(value, (list, tuple)) and all(
        isinstance(record, FilterOrthogonalityResult) for record in value
    )
