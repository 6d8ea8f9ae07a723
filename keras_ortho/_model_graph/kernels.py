"""The kernels of a model: those a `layers=` selection names (`attach`), and
the kernel that a variable is (`KernelLayouts`)."""

import keras

from keras_ortho._kernel_matrix import regularizable_kernels
from keras_ortho._model_graph.walk import walk_layers

KERNEL_KINDS = (
    "Dense, EinsumDense, Conv1D/2D/3D, Conv*Transpose, DepthwiseConv1D/2D and "
    "SeparableConv1D/2D layers"
)


def select_kernels(model, layers=None):
    """The kernels of `model` that `layers` selects, each variable once, in
    walk order, as `(layer, RegularizableKernel)` pairs.

    Args:
        model: a built `keras.Model` or layer.
        layers: `None` (every kernel), a list or tuple of layer names and
            layer objects, or a callable `layer -> bool` called on every
            layer of the walk. A name matches every layer of that name at any
            depth; a selected model or custom layer selects every kernel in
            it. A listed layer without a kernel is an error.

    Raises:
        TypeError: `layers` has the wrong type.
        ValueError: a listed name or layer is not in `model` or has no
            kernel, a layer is not built, or nothing was selected.
    """
    every_layer = list(walk_layers(model))
    listed = isinstance(layers, (list, tuple))
    if layers is None:
        groups = [[model]]
    elif listed:
        groups = [_find(model, every_layer, entry) for entry in layers]
    elif callable(layers) and not isinstance(layers, keras.Layer):
        groups = [[layer] for layer in every_layer if layers(layer)]
    else:
        raise TypeError(
            "Invalid type for argument `layers`: expected None, a list of layer "
            "names or layers, or a callable `layer -> bool`. "
            f"Received: layers={layers!r} of type {type(layers).__name__}"
        )

    selected = []
    seen_variables = set()
    for group in groups:
        kernels = [
            (layer, kernel)
            for top in group
            for layer in walk_layers(top)
            for kernel in _kernels_of(layer, model)
        ]
        if listed and not kernels:
            raise ValueError(
                f"Invalid value in argument `layers`: layer {group[0].name!r} has "
                f"no kernel; kernels are those of {KERNEL_KINDS}."
            )
        for layer, kernel in kernels:
            if id(kernel.variable) not in seen_variables:
                seen_variables.add(id(kernel.variable))
                selected.append((layer, kernel))
    if not selected:
        raise ValueError(
            f"No kernel was selected in model {model.name!r} (layers={layers!r}); "
            f"kernels are those of {KERNEL_KINDS}."
        )
    return selected


def find_kernel(model, variable):
    """`(layer, RegularizableKernel)` for `variable` if it is a kernel of a
    layer in `model`, else `None`."""
    for layer in walk_layers(model):
        if not layer.built:
            continue
        for kernel in regularizable_kernels(layer):
            if kernel.variable is variable:
                return layer, kernel
    return None


# Keras calls a weight's regularizer from here, on the variable or, in a
def _find(model, every_layer, entry):
    """The layers of `model` that a `layers=` entry names: all layers of that
    name, or the layer object itself."""
    if isinstance(entry, str):
        matches = [layer for layer in every_layer if layer.name == entry]
        if not matches:
            names = [layer.name for layer in every_layer[1:]]
            raise ValueError(
                f"Invalid value in argument `layers`: no layer named {entry!r} in "
                f"model {model.name!r}. Existing layers are: {names}"
            )
        return matches
    if isinstance(entry, keras.Layer):
        if not any(layer is entry for layer in every_layer):
            raise ValueError(
                "Invalid value in argument `layers`: layer "
                f"{entry.name!r} is not part of model {model.name!r}."
            )
        return [entry]
    raise TypeError(
        "Invalid type in argument `layers`: expected layer names (str) or "
        f"keras layers. Received: {entry!r} of type {type(entry).__name__}"
    )


def _kernels_of(layer, model):
    try:
        return list(regularizable_kernels(layer))
    except AttributeError:
        # An unbuilt kernel layer has no kernel variable yet.
        if layer.built:
            raise
        raise ValueError(
            f"Layer {layer.name!r} of model {model.name!r} is not built; a built "
            "model is needed. Build it first, e.g. with `model.build(input_shape)` "
            "or by calling it on a batch."
        ) from None
