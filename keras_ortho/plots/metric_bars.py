"""Scalar results of several methods as bar charts, one panel per metric."""

import math

from keras_ortho.plots._figure import new_figure


def plot_metric_bars(values, value_format="{:.2f}", title=None):
    """Plots a few scalar metrics of several methods side by side: one panel
    per metric, one bar per method, each bar labelled with its value.

    Each metric gets its own y axis (test accuracy near 90 % and ECE near
    3 % share no scale). A method without a value for a metric (missing or
    NaN) gets no bar, and "n/a" in its place.

    Args:
        values: a dict `{method: {metric: value}}`, e.g.
            `{"CE": {"accuracy (%)": 91.2, "ECE (%)": 3.1}, ...}`; the
            metrics appear in the order they are first met.
        value_format: the format of the bar labels.
        title: the figure's title; `None` for none.

    Returns:
        The `matplotlib.figure.Figure`.

    Example:

    ```python
    results = {
        "CE": {"test accuracy (%)": 91.2, "ECE (%)": 3.1},
        "OPL": {"test accuracy (%)": 92.0, "ECE (%)": 2.4},
    }
    figure = keras_ortho.plots.plot_metric_bars(results)
    ```
    """
    if (
        not isinstance(values, dict)
        or not values
        or not all(isinstance(v, dict) for v in values.values())
    ):
        raise TypeError(
            "Invalid type for argument `values`: expected a non-empty dict "
            "{method: {metric: value}}. Received: values of type "
            f"{type(values).__name__}"
        )
    if not isinstance(value_format, str):
        raise TypeError(
            "Invalid type for argument `value_format`: expected a format "
            f"string such as '{{:.2f}}'. Received: {value_format!r}"
        )
    methods = [str(method) for method in values]
    metrics = list(dict.fromkeys(m for scores in values.values() for m in scores))
    if not metrics:
        raise ValueError(
            "Invalid `values`: expected at least one metric. Received: "
            f"values={values!r}"
        )
    figure = new_figure(max(4.0, 0.9 * len(methods) + 1.5) * len(metrics), 3.4)
    if title is not None:
        figure.suptitle(title)
    for index, metric in enumerate(metrics):
        ax = figure.add_subplot(1, len(metrics), index + 1)
        heights = [_value(scores.get(metric)) for scores in values.values()]
        positions = range(len(methods))
        bars = ax.bar(
            positions,
            [0.0 if math.isnan(h) else h for h in heights],
            color=f"C{index}",
            width=0.6,
        )
        ax.bar_label(
            bars,
            labels=[
                "n/a" if math.isnan(h) else value_format.format(h) for h in heights
            ],
            padding=2,
        )
        ax.set_xticks(list(positions), methods)
        ax.set_title(str(metric))
        ax.margins(y=0.15)
        for spine in ("top", "right"):
            ax.spines[spine].set_visible(False)
    return figure


def _value(value):
    if value is None:
        return float("nan")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            return float(value)  # NumPy and backend scalars
        except (TypeError, ValueError):
            raise TypeError(
                "Invalid `values`: expected numbers (or None for a missing "
                f"value). Received: {value!r}"
            ) from None
    return float(value)
