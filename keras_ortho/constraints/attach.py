"""Placing a constraint on the kernels of a model that is already built."""

import keras

from keras_ortho._attachment import refuse_serializing_where_lost
from keras_ortho._model_graph import select_kernels
from keras_ortho._step_functions import rebuild_step_functions
from keras_ortho._validation import validate_bool


def attach(model, constraint, layers=None, overwrite=False):
    """Places `constraint` on the kernels of an already-built model.

    The sibling of `keras_ortho.regularizers.attach`, with the same walk and
    layer selection: every Dense, Conv1D/2D/3D, Conv*Transpose,
    DepthwiseConv1D/2D and SeparableConv1D/2D kernel of `model` and of the
    models nested in it gets the constraint, both on the variable (what the
    optimizer applies after each step) and on the layer attribute
    (`kernel_constraint`, `depthwise_constraint`, `pointwise_constraint`;
    what `get_config` and `.keras` files read).

    A constraint whose config has a `kernel_layout` (such as
    `keras_ortho.constraints.Orthogonal`) is placed as a copy per layout,
    `"dense"`, `"conv"`, `"conv_transpose"` or `"depthwise"`, taken from each
    layer; kernels alike share one copy, and the object passed is not placed
    itself. Any other `keras.constraints.Constraint` is placed as it is.

    The kernels keep their current values until the next optimizer step
    projects them. A model whose config records its constructor arguments
    rather than its layers' configs (keras-hub backbones, subclassed models)
    would save a file that loads without the constraints, so it refuses to
    be saved instead, with a message that says to save the weights, build
    the model again, `attach` and load the weights. If the model was already
    compiled, its train function is rebuilt so that the next `fit` applies
    the constraint.

    Args:
        model: a built `keras.Model` (or a single built layer).
        constraint: a `keras.constraints.Constraint`.
        layers: which layers to constrain: `None` (all), a list or tuple of
            layer names and layer objects, or a callable `layer -> bool`; as
            in `keras_ortho.regularizers.attach`.
        overwrite: whether to replace constraints the kernels already have.
            If `False`, any existing one raises a ValueError and nothing is
            changed.

    Returns:
        The `(layer name, attribute name)` pairs that received the
        constraint, in walk order, e.g. `[("conv1", "kernel_constraint")]`.

    Raises:
        TypeError: if `model`, `constraint` or `layers` has the wrong type.
        ValueError: if a layer is not built, a listed name or layer is not in
            the model or has no kernel, nothing was selected, or a kernel
            already has a constraint and `overwrite=False`.

    Example:

    ```python
    model = keras_ortho.models.resnet_cifar(20, num_classes=10)
    keras_ortho.constraints.attach(model, keras_ortho.constraints.Orthogonal())
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    ```
    """
    if not isinstance(model, keras.Layer):
        raise TypeError(
            "Invalid type for argument `model`: expected a built keras.Model or "
            f"layer. Received: model={model!r} of type {type(model).__name__}"
        )
    if not isinstance(constraint, keras.constraints.Constraint):
        raise TypeError(
            "Invalid type for argument `constraint`: expected a "
            f"keras.constraints.Constraint. Received: constraint={constraint!r} "
            f"of type {type(constraint).__name__}"
        )
    validate_bool(overwrite, "overwrite")

    targets = [
        (layer, kernel, kernel.attribute.replace("_regularizer", "_constraint"))
        for layer, kernel in select_kernels(model, layers)
    ]
    if not overwrite:
        _refuse_existing(targets)

    copies = {}
    for layer, kernel, attribute in targets:
        layer_constraint = _for_layout(constraint, kernel.kernel_layout, copies)
        kernel.variable.constraint = layer_constraint
        setattr(layer, attribute, layer_constraint)
    refuse_serializing_where_lost(
        model,
        [(layer, attribute) for layer, _, attribute in targets],
        "keras_ortho.constraints.attach",
    )

    if getattr(model, "compiled", False):
        rebuild_step_functions(model)
    return [(layer.name, attribute) for layer, _, attribute in targets]


def _refuse_existing(targets):
    existing = []
    for layer, kernel, attribute in targets:
        current = kernel.variable.constraint or getattr(layer, attribute, None)
        if current is not None:
            existing.append(f"{layer.name}.{attribute}={current!r}")
    if existing:
        raise ValueError(
            "Some kernels already have a constraint: "
            f"{', '.join(existing)}. Pass `overwrite=True` to replace them, or "
            "`layers=` to leave those layers out."
        )


def _for_layout(constraint, kernel_layout, copies):
    """`constraint` for a kernel of `kernel_layout`: a copy with that
    `kernel_layout` if the config has one, shared by all kernels alike."""
    try:
        config = constraint.get_config()
    except NotImplementedError:
        return constraint
    if "kernel_layout" not in config:
        return constraint
    if kernel_layout not in copies:
        copies[kernel_layout] = type(constraint).from_config(
            {**config, "kernel_layout": kernel_layout}
        )
    return copies[kernel_layout]
