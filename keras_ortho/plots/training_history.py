"""Epoch logs (History, CSVLogger) plotted against the epoch."""

import numpy as np

from keras_ortho._validation import validate_int
from keras_ortho.plots._figure import panel_grid

VALIDATION_PREFIX = "val_"


def plot_training_history(history, keys=None, columns=3):
    """Plots each logged quantity against the epoch, one panel per quantity.

    A quantity `x` and its validation counterpart `val_x` share a panel.
    By default every key is plotted except the per-kernel columns
    `"ortho/<layer>/<measure>"` of `keras_ortho.callbacks.OrthogonalityMonitor`
    (their means `"ortho/mean/<measure>"` are kept) and an `"epoch"` column.

    Args:
        history: a dict `{name: list of per-epoch values}`, e.g.
            `model.fit(...).history` or the columns of a `CSVLogger` file.
        keys: the quantities to plot (without their `val_` twins); `None` for
            the default above.
        columns: panels per row.

    Returns:
        The `matplotlib.figure.Figure`.

    Example:

    ```python
    model = keras.Sequential(
        [
            keras.Input((16, 16, 3)),
            keras.layers.Conv2D(8, 3, padding="same", activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(4),
        ]
    )
    model.compile(
        optimizer="sgd",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    x, y = np.random.rand(64, 16, 16, 3), np.random.randint(0, 4, 64)
    monitor = keras_ortho.callbacks.OrthogonalityMonitor((x[:32], y[:32]))
    history = model.fit(x, y, epochs=2, verbose=0, callbacks=[monitor])
    figure = keras_ortho.plots.plot_training_history(history.history)
    ```
    """
    if not isinstance(history, dict) or not history:
        raise TypeError(
            "Invalid type for argument `history`: expected a non-empty dict "
            "{name: per-epoch values}. Received: history of type "
            f"{type(history).__name__}"
        )
    columns = validate_int(columns, "columns", minimum=1)
    if keys is None:
        keys = [key for key in history if _plotted_by_default(key, history)]
    unknown = [key for key in keys if key not in history]
    if unknown or not keys:
        raise ValueError(
            f"Invalid value for argument `keys`: expected names among "
            f"{sorted(history)}. Received: keys={keys!r}"
        )
    figure, axes = panel_grid(len(keys), columns, 3.2, 2.4)
    for ax, key in zip(axes.flat, keys, strict=False):
        for name in (key, VALIDATION_PREFIX + key):
            if name in history:
                values = np.asarray(history[name], "float64")
                ax.plot(np.arange(1, len(values) + 1), values, marker=".", label=name)
        ax.set_title(key, fontsize=9)
        ax.set_xlabel("epoch", fontsize=8)
        ax.tick_params(labelsize=7)
        if VALIDATION_PREFIX + key in history:
            ax.legend(fontsize=7)
    return figure


def _plotted_by_default(key, history):
    if key == "epoch":
        return False
    if key.startswith(VALIDATION_PREFIX) and key[len(VALIDATION_PREFIX) :] in history:
        return False
    parts = key.split("/")
    return not (parts[0] == "ortho" and len(parts) == 3 and parts[1] != "mean")
