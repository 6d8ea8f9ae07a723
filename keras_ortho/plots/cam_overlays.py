"""Class activation maps drawn over their images, with localisation boxes."""

import numpy as np
from keras import ops

from keras_ortho._validation import validate_int
from keras_ortho._validation import validate_non_negative_float
from keras_ortho.plots._figure import panel_grid


def plot_cam_overlays(
    images,
    maps,
    ground_truth_boxes=None,
    predicted_boxes=None,
    titles=None,
    columns=8,
    alpha=0.5,
    cmap="jet",
):
    """Draws each map over its image, with optional boxes.

    Args:
        images: `(N, H, W, 3)` or `(N, H, W)` images: uint8 (0..255) or
            floats, each float image min-max scaled for display.
        maps: `(N, H, W)` maps at the images' size, e.g. from
            `keras_ortho.diagnostics.class_activation_maps` (upsampled,
            normalised to [0, 1]).
        ground_truth_boxes: optional `(N, 4)` boxes `(x0, y0, x1, y1)`,
            inclusive pixels, drawn in green; `(-1, -1, -1, -1)` draws none.
        predicted_boxes: optional `(N, 4)` boxes drawn in red (e.g.
            `keras_ortho.diagnostics.bounding_boxes(maps)`).
        titles: optional `N` strings, one per panel.
        columns: panels per row.
        alpha: the opacity of the map over the image, in [0, 1].
        cmap: the matplotlib colormap of the maps.

    Returns:
        The `matplotlib.figure.Figure`.

    Example:

    ```python
    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(4)(x))
    images = np.random.rand(4, 16, 16, 3)
    maps = keras_ortho.diagnostics.class_activation_maps(model, images)
    boxes = keras_ortho.diagnostics.bounding_boxes(maps)
    figure = keras_ortho.plots.plot_cam_overlays(images, maps, predicted_boxes=boxes)
    ```

    Reference:
        B. Zhou et al., "Learning Deep Features for Discriminative
        Localization", CVPR 2016.
    """
    images = np.asarray(ops.convert_to_numpy(images))
    maps = np.asarray(ops.convert_to_numpy(maps), "float64")
    if maps.ndim != 3 or images.shape[:3] != maps.shape:
        raise ValueError(
            "Invalid `maps`: expected (N, H, W) maps matching the images "
            f"{images.shape[:3]}. Received: maps of shape {maps.shape}"
        )
    count = len(images)
    boxes = {}
    for name, value, color in (
        ("ground_truth_boxes", ground_truth_boxes, "lime"),
        ("predicted_boxes", predicted_boxes, "red"),
    ):
        if value is not None:
            value = np.asarray(ops.convert_to_numpy(value)).astype("int64")
            if value.shape != (count, 4):
                raise ValueError(
                    f"Invalid `{name}`: expected ({count}, 4) boxes "
                    f"(x0, y0, x1, y1). Received: shape {value.shape}"
                )
            boxes[color] = value
    if titles is not None and len(titles) != count:
        raise ValueError(
            f"Invalid `titles`: expected {count} titles, one per image. "
            f"Received: {len(titles)}"
        )
    columns = validate_int(columns, "columns", minimum=1)
    alpha = validate_non_negative_float(alpha, "alpha")
    if alpha > 1:
        raise ValueError(
            f"Invalid value for argument `alpha`: expected a number in [0, 1]. "
            f"Received: alpha={alpha!r}"
        )

    figure, axes = panel_grid(count, columns, 1.8, 1.9)
    from matplotlib.patches import Rectangle

    for index, ax in zip(range(count), axes.flat, strict=False):
        ax.set_axis_off()
        ax.imshow(_displayable(images[index]), cmap="gray")
        ax.imshow(maps[index], cmap=cmap, alpha=alpha)
        for color, value in boxes.items():
            x0, y0, x1, y1 = value[index]
            if x1 >= x0 >= 0 and y1 >= y0 >= 0:
                # Inclusive pixel boxes span from the first pixel's outer edge.
                ax.add_patch(
                    Rectangle(
                        (x0 - 0.5, y0 - 0.5),
                        x1 - x0 + 1,
                        y1 - y0 + 1,
                        fill=False,
                        edgecolor=color,
                        linewidth=1.5,
                    )
                )
        if titles is not None:
            ax.set_title(titles[index], fontsize=7)
    return figure


def _displayable(image):
    if image.dtype == np.uint8:
        return image
    image = image.astype("float64")
    low, high = image.min(), image.max()
    return (image - low) / (high - low) if high > low else np.zeros_like(image)
