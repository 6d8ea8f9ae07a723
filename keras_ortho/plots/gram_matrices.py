"""Heatmaps of the filter Gram matrices of a model's layers."""

import numpy as np

from keras_ortho._model_kernels import filter_cosines
from keras_ortho._model_kernels import filter_matrix_float64
from keras_ortho._model_kernels import model_kernels
from keras_ortho._validation import validate_bool
from keras_ortho._validation import validate_int
from keras_ortho.plots._figure import panel_grid


def plot_gram_matrices(model, layers=None, normalize=True, max_kernels=16, columns=4):
    """Plots the Gram matrix of each kernel's filters as a heatmap.

    With the filter matrix `W` `(fan_in, filters)` of a kernel (one column
    per output filter, as `keras_ortho.diagnostics.filter_orthogonality` reads
    it), each panel shows

    ```
    normalize=True:   Ŵ^T Ŵ, the cosines cos(w_i, w_j), on [-1, 1]
    normalize=False:  W^T W - I, on [-r, r] with r its largest |entry|
    ```

    An orthogonal layer shows the identity (normalised) or zero. The panel
    title gives the layer, `fan_in x filters` and the soft-orthogonality
    residual of what is shown (`sum_{i != j} cos^2`, or `||W^T W - I||_F^2`).

    Args:
        model: a built `keras.Model` or layer; nested models and the
            sublayers of custom layers are walked.
        layers: `None` for every kernel, or a list of layer names.
        normalize: whether to show cosines rather than `W^T W - I`.
        max_kernels: at most this many panels; from more kernels, this many
            are taken evenly spaced in layer order, first and last included.
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
    figure = keras_ortho.plots.plot_gram_matrices(model, max_kernels=8)
    figure.savefig("gram.png")
    ```

    Reference:
        N. Bansal, X. Chen, Z. Wang, "Can We Gain More from Orthogonality
        Regularizations in Training Deep CNNs?", NeurIPS 2018.
    """
    if layers is not None and (
        isinstance(layers, str) or not isinstance(layers, (list, tuple))
    ):
        raise TypeError(
            "Invalid type for argument `layers`: expected None or a list of "
            f"layer names. Received: layers={layers!r}"
        )
    validate_bool(normalize, "normalize")
    max_kernels = validate_int(max_kernels, "max_kernels", minimum=1)
    columns = validate_int(columns, "columns", minimum=1)
    kernels = [
        (layer.name, kernel.variable, kernel.kernel_layout)
        for layer, kernel in model_kernels(model)
        if layers is None or layer.name in layers
    ]
    if not kernels:
        raise ValueError(
            f"Invalid `layers`: model {model.name!r} has no kernel to plot in "
            f"layers={layers!r}"
        )
    if len(kernels) > max_kernels:
        picked = np.unique(np.linspace(0, len(kernels) - 1, max_kernels).round())
        kernels = [kernels[int(i)] for i in picked]

    figure, axes = panel_grid(len(kernels), columns, 3.0, 3.0)
    for ax, (name, variable, layout) in zip(axes.flat, kernels, strict=False):
        matrix = filter_matrix_float64(variable, layout)
        fan_in, filters = matrix.shape
        if normalize:
            shown = filter_cosines(matrix)
            residual = float(np.sum(shown[~np.eye(filters, dtype=bool)] ** 2))
            limit = 1.0
        else:
            shown = matrix.T @ matrix - np.eye(filters)
            residual = float(np.sum(shown**2))
            limit = max(float(np.abs(shown).max()), 1e-12)
        image = ax.imshow(
            shown, cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest"
        )
        ax.set_title(f"{name}\n{fan_in}x{filters}, SO {residual:.3g}", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
        if not normalize:
            figure.colorbar(image, ax=ax, shrink=0.8)
    if normalize:
        figure.colorbar(image, ax=axes, shrink=0.8, label="cos(w_i, w_j)")
    figure.suptitle("Filter Gram matrices" + (" (cosines)" if normalize else ""))
    return figure
