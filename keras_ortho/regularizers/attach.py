"""Attaching a regularizer to the kernels of a model that is already built."""

from keras_ortho._attachment import attach_to_kernels


def attach(model, regularizer, layers=None, overwrite=False):
    """Adds `regularizer` to the kernels of an already-built model.

    Pretrained or library models (`keras.applications`, keras-hub backbones)
    are built without kernel regularizers; `attach` adds one afterwards, so
    that `fit` adds its value to the loss and a `.keras` file saves it.

    The model is walked depth first through every layer Keras tracks: nested
    Functional, Sequential and subclassed models and the sublayers of custom
    layers (keras-hub's transformer blocks, for example). Every Dense,
    EinsumDense, Conv1D/2D/3D, Conv*Transpose, DepthwiseConv1D/2D and
    SeparableConv1D/2D kernel gets the regularizer, both on the variable (what
    `fit` reads) and on the layer attribute (`kernel_regularizer`,
    `depthwise_regularizer`, `pointwise_regularizer`; what `get_config` and
    `.keras` files read). Biases, normalization and embedding weights are left
    alone.

    A regularizer whose config has a `kernel_layout` (every
    `keras_ortho.regularizers.OrthogonalityRegularizer`) is attached as a copy
    per layout, `"dense"`, `"conv"`, `"conv_transpose"`, `"depthwise"` or the
    EinsumDense equation, taken from each layer; one with a `stride`
    (`OrthogonalConvolution`) also gets the strides of each convolution.
    Kernels alike share one copy and the object passed is not attached
    itself. Any other `keras.regularizers.Regularizer` is attached as it is.

    Saving: a Functional or Sequential model records its layers' configs, so a
    `.keras` file keeps the attached regularizers. Other models and layers
    record their constructor arguments only (keras-hub backbones, subclassed
    models, custom layers), so their layers would load without them; a model
    or layer of that kind that holds an attached kernel refuses to be
    serialized (`model.save`, `get_config`), with a message saying to save
    the weights and call `attach` again after rebuilding the model.

    If the model was already compiled, its train and test functions are
    rebuilt so that the next `fit` or `evaluate` includes the regularizer.

    Args:
        model: a built `keras.Model` (or a single built layer).
        regularizer: a `keras.regularizers.Regularizer`.
        layers: which layers to regularize: `None` (all), a list or tuple of
            layer names and layer objects, or a callable `layer -> bool`
            called on every layer of the walk. A name matches every layer of
            that name at any depth; a selected nested model or custom layer
            selects all its layers. A listed layer without a kernel is an
            error.
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
    model = keras.applications.ResNet50(
        weights=None, input_shape=(32, 32, 3), classes=10
    )
    keras_ortho.regularizers.attach(
        model, keras_ortho.regularizers.SoftOrthogonality(1e-4)
    )
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    ```
    """
    return attach_to_kernels(model, regularizer, layers, overwrite, "regularizer")
