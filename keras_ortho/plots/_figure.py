"""Creating figures without pyplot, importing matplotlib only when plotting.

Figures are `matplotlib.figure.Figure` objects made directly, not through
`pyplot`: they need no GUI backend, keep no global state, and render with
`figure.savefig(...)` anywhere (Jupyter displays them too).
"""


def new_figure(width, height):
    """A `matplotlib.figure.Figure` of `width` x `height` inches."""
    return _figure_class()(figsize=(width, height), layout="constrained")


def figure_of(ax, width, height):
    """`(figure, ax)`: a new figure and axes when `ax` is None, else `ax`'s."""
    if ax is None:
        figure = new_figure(width, height)
        return figure, figure.add_subplot()
    return ax.figure, ax


def _figure_class():
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(
            "keras_ortho.plots needs matplotlib, which is not installed. "
            "Install the `plot` extra: pip install 'keras-ortho[plot]'"
        ) from error
    return Figure
