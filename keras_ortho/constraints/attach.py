"""Placing a constraint on the kernels of a model that is already built."""

from keras_ortho._attachment import attach_to_kernels


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
    return attach_to_kernels(model, constraint, layers, overwrite, "constraint")
