"""The reliability diagram: accuracy against confidence, bin by bin."""

import numpy as np

from keras_ortho import diagnostics
from keras_ortho import metrics
from keras_ortho.plots._figure import figure_of


def plot_reliability_diagram(
    y_true, y_pred, num_bins=15, from_logits=False, ax=None, title=None
):
    """Plots per-bin accuracy against confidence, with the gap to the diagonal.

    The bins are those of `keras_ortho.diagnostics.reliability_diagram` (equal
    width, right-closed). Each non-empty bin `m` draws a bar of height
    `acc(B_m)`, and a hatched bar from `acc(B_m)` to `conf(B_m)` shows the
    calibration gap; a calibrated model follows the diagonal. The legend gives
    the ECE (`keras_ortho.metrics.expected_calibration_error`) in percent.

    Args:
        y_true: integer labels `(N,)` or `(N, 1)`, or one-hot labels `(N, K)`.
        y_pred: class probabilities `(N, K)`, or logits with `from_logits=True`.
        num_bins: the number of bins `M`, an integer >= 1.
        from_logits: whether `y_pred` holds logits.
        ax: a matplotlib `Axes` to draw on; `None` makes a new figure.
        title: the axes' title; `None` for "Reliability diagram".

    Returns:
        The `matplotlib.figure.Figure` drawn on.

    Example:

    ```python
    y_test, logits = np.random.randint(0, 4, 100), np.random.randn(100, 4)
    figure = keras_ortho.plots.plot_reliability_diagram(
        y_test, logits, from_logits=True
    )
    figure.savefig("reliability.png")
    ```

    Reference:
        C. Guo, G. Pleiss, Y. Sun, K. Q. Weinberger, "On Calibration of Modern
        Neural Networks", ICML 2017 (Figure 1).
    """
    diagram = diagnostics.reliability_diagram(
        y_true, y_pred, num_bins=num_bins, from_logits=from_logits
    )
    ece = metrics.expected_calibration_error(
        y_true, y_pred, num_bins=num_bins, from_logits=from_logits
    )
    figure, ax = figure_of(ax, 4.5, 4.5)
    edges = np.asarray(diagram.bin_edges, "float64")
    occupied = diagram.count > 0
    left = edges[:-1][occupied]
    width = np.diff(edges)[occupied]
    accuracy = diagram.accuracy[occupied]
    confidence = diagram.confidence[occupied]
    ax.bar(
        left,
        accuracy,
        width=width,
        align="edge",
        color="tab:blue",
        edgecolor="black",
        label="accuracy",
    )
    ax.bar(
        left,
        confidence - accuracy,
        bottom=accuracy,
        width=width,
        align="edge",
        color="tab:red",
        alpha=0.3,
        hatch="//",
        edgecolor="tab:red",
        label=f"gap (ECE {100 * ece:.2f}%)",
    )
    ax.plot([0, 1], [0, 1], linestyle="--", color="gray", label="calibrated")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.set_title("Reliability diagram" if title is None else title)
    ax.legend(loc="upper left")
    return figure
