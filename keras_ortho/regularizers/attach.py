"""Attaching a regularizer to the kernels of a model that is already built."""

import keras

from keras_ortho._kernel_matrix import regularizable_kernels
from keras_ortho._step_functions import rebuild_step_functions
from keras_ortho._validation import validate_bool

_APPLIES_TO = (
    "`attach` applies to the kernels of Dense, Conv, ConvTranspose, "
    "DepthwiseConv and SeparableConv layers."
)


def attach(model, regularizer, layers=None, overwrite=False):
    """Adds `regularizer` to the kernels of an already-built model.

    Pretrained or library models (`keras.applications`, keras-hub backbones)
    are built without kernel regularizers; `attach` adds one afterwards, so
    that `fit` adds its value to the loss and a `.keras` file saves it.

    The model is walked depth-first through `.layers`, entering nested models
    (Functional, Sequential and subclassed). Every Dense, Conv1D/2D/3D,
    Conv*Transpose, DepthwiseConv1D/2D and SeparableConv1D/2D kernel gets the
    regularizer, both on the variable (what `fit` reads) and on the layer
    attribute (`kernel_regularizer`, `depthwise_regularizer`,
    `pointwise_regularizer`; what `get_config` and `.keras` files read).
    Biases, normalization and embedding weights are left alone. A custom
    `Layer` (not a `Model`) that keeps sublayers as attributes is not entered.

    A regularizer whose config has a `kernel_layout` (every
    `keras_ortho.regularizers.OrthogonalityRegularizer`) is attached as a copy
    per layout, `"dense"`, `"conv"`, `"conv_transpose"` or `"depthwise"`, taken
    from each layer; one with a `stride` (`OrthogonalConvolution`) also gets
    the strides of each convolution. Kernels alike share one copy and the
    object passed is not attached itself. Any other `keras.regularizers.Regularizer`
    is attached as it is.

    If the model was already compiled, its train and test functions are
    rebuilt so that the next `fit` or `evaluate` includes the regularizer.

    Args:
        model: a built `keras.Model` (or a single built layer).
        regularizer: a `keras.regularizers.Regularizer`.
        layers: which layers to regularize: `None` (all), a list or tuple of
            layer names and layer objects, or a callable `layer -> bool`
            called on every layer of the walk. A name matches every layer of
            that name at any depth; a selected nested model selects all its
            layers. A listed layer without a kernel is an error.
        overwrite: whether to replace regularizers the kernels already have.
            If `False`, any existing one raises a ValueError and nothing is
            changed.

    Returns:
        The `(layer name, attribute name)` pairs that received the
        regularizer, in walk order, e.g. `[("conv1", "kernel_regularizer")]`.

    Raises:
        TypeError: if `model`, `regularizer` or `layers` has the wrong type.
        ValueError: if a layer is not built, a listed name or layer is not in
            the model or has no kernel, nothing was selected, or a kernel
            already has a regularizer and `overwrite=False`.

    Example:

    ```python
    model = keras.applications.ResNet50(weights=None, classes=10)
    keras_ortho.regularizers.attach(
        model, keras_ortho.regularizers.SoftOrthogonality(1e-4)
    )
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    ```
    """
    if not isinstance(model, keras.Layer):
        raise TypeError(
            "Invalid type for argument `model`: expected a built keras.Model or "
            f"layer. Received: model={model!r} of type {type(model).__name__}"
        )
    if not isinstance(regularizer, keras.regularizers.Regularizer):
        raise TypeError(
            "Invalid type for argument `regularizer`: expected a "
            f"keras.regularizers.Regularizer. Received: regularizer={regularizer!r} "
            f"of type {type(regularizer).__name__}"
        )
    validate_bool(overwrite, "overwrite")

    targets = _kernel_targets(model, layers)
    if not overwrite:
        _refuse_existing(targets)

    copies = {}
    for layer, kernel in targets:
        layer_regularizer = _for_kernel(regularizer, kernel, copies)
        kernel.variable.regularizer = layer_regularizer
        setattr(layer, kernel.attribute, layer_regularizer)

    if getattr(model, "compiled", False):
        rebuild_step_functions(model)
    return [(layer.name, kernel.attribute) for layer, kernel in targets]


def _walk(layer, seen=None):
    """Yields `layer` and every layer nested in it through `.layers`, each once."""
    seen = set() if seen is None else seen
    if id(layer) in seen:
        return
    seen.add(id(layer))
    yield layer
    if isinstance(layer, keras.Model):
        for child in layer.layers:
            yield from _walk(child, seen)


def _kernel_targets(model, layers):
    """`(layer, RegularizableKernel)` of every selected kernel, each variable
    once."""
    every_layer = list(_walk(model))
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

    targets = []
    seen_variables = set()
    for group in groups:
        kernels = [
            (layer, kernel)
            for top in group
            for layer in _walk(top)
            for kernel in _kernels_of(layer, model)
        ]
        if listed and not kernels:
            raise ValueError(
                f"Invalid value in argument `layers`: layer {group[0].name!r} has "
                f"no kernel to regularize; {_APPLIES_TO}"
            )
        for layer, kernel in kernels:
            if id(kernel.variable) not in seen_variables:
                seen_variables.add(id(kernel.variable))
                targets.append((layer, kernel))
    if not targets:
        raise ValueError(
            f"No kernel to regularize was selected in model {model.name!r} "
            f"(layers={layers!r}); {_APPLIES_TO}"
        )
    return targets


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
            f"Layer {layer.name!r} of model {model.name!r} is not built; `attach` "
            "needs a built model. Build it first, e.g. with "
            "`model.build(input_shape)` or by calling it on a batch."
        ) from None


def _refuse_existing(targets):
    existing = []
    for layer, kernel in targets:
        current = kernel.variable.regularizer or getattr(layer, kernel.attribute, None)
        if current is not None:
            existing.append(f"{layer.name}.{kernel.attribute}={current!r}")
    if existing:
        raise ValueError(
            "Some kernels already have a regularizer: "
            f"{', '.join(existing)}. Pass `overwrite=True` to replace them, or "
            "`layers=` to leave those layers out."
        )


def _for_kernel(regularizer, kernel, copies):
    """`regularizer` for one kernel: a copy with the kernel's `kernel_layout`
    (and, for a regularizer that takes one, such as `OrthogonalConvolution`,
    its `stride`) if the config has them, shared by all kernels alike."""
    try:
        config = regularizer.get_config()
    except NotImplementedError:
        return regularizer
    if "kernel_layout" not in config:
        return regularizer
    overrides = {"kernel_layout": kernel.kernel_layout}
    if "stride" in config and kernel.strides is not None:
        overrides["stride"] = kernel.strides
    key = tuple(sorted(overrides.items()))
    if key not in copies:
        copies[key] = type(regularizer).from_config({**config, **overrides})
    return copies[key]
