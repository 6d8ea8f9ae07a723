"""Creating figures without pyplot, importing matplotlib only when plotting, and
the scaffolding the plots share (panel grids, one line style per model).

Figures are `matplotlib.figure.Figure` objects made directly, not through
`pyplot`: they need no GUI backend, keep no global state, and render with
`figure.savefig(...)` anywhere (Jupyter displays them too).
"""

import math

# Dashes that tell apart the lines of models whose curves coincide.
LINE_STYLES = ("-", "--", ":", "-.")


def new_figure(width, height):
    """A `matplotlib.figure.Figure` of `width` x `height` inches."""
    return _figure_class()(figsize=(width, height), layout="constrained")


def figure_of(ax, width, height):
    """`(figure, ax)`: a new figure and axes when `ax` is None, else `ax`'s."""
    if ax is None:
        figure = new_figure(width, height)
        return figure, figure.add_subplot()
    return ax.figure, ax


def panel_grid(count, columns, panel_width, panel_height):
    """`(figure, axes)`: a new figure holding `count` panels, at most `columns`
    per row, each `panel_width` x `panel_height` inches.

    `axes` is the `(rows, columns)` array of the grid; the panels after the
    first `count` are hidden.
    """
    columns = min(columns, max(count, 1))
    rows = max(1, math.ceil(count / columns))
    figure = new_figure(panel_width * columns, panel_height * rows)
    axes = figure.subplots(rows, columns, squeeze=False)
    for ax in axes.flat[count:]:
        ax.set_axis_off()
    return figure, axes


def line_style(index):
    """The dash pattern of the `index`-th model's line."""
    return LINE_STYLES[index % len(LINE_STYLES)]


def by_label(value, name, is_one, expected):
    """`value` as a non-empty dict `{label: one}`, for the plots that compare
    models: one alone (`is_one(value)`) becomes `{"model": value}`.

    Raises a TypeError naming the argument `name` and the `expected` one
    otherwise.
    """
    if is_one(value):
        return {"model": value}
    if isinstance(value, dict) and value and all(map(is_one, value.values())):
        return value
    raise TypeError(
        f"Invalid type for argument `{name}`: expected {expected}, or a "
        f"non-empty dict {{label: that}}. Received: {name} of type "
        f"{type(value).__name__}"
    )


def _figure_class():
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(
            "keras_ortho.plots needs matplotlib, which is not installed. "
            "Install the `plot` extra: pip install 'keras-ortho[plot]'"
        ) from error
    return Figure
