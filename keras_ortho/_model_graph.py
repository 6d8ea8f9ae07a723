"""The one walk through a model's layers, and the one rule for its classifier
head and features, shared by everything in keras_ortho that reads a model
(`attach`, `with_features`, the monitor, the report, the metrics and plots).

The walk reaches every layer Keras itself tracks, the layers that
`model.weights` and `model.losses` are gathered from: the layers of
Functional and Sequential graphs, the attributes of subclassed models, and
the sublayers of custom layers (keras-hub's transformer blocks, for example).
"""

import sys
import typing
import weakref

import keras

from keras_ortho._kernel_matrix import regularizable_kernels
from keras_ortho.layers.fixed_classifier import FixedClassifier

KERNEL_KINDS = (
    "Dense, EinsumDense, Conv1D/2D/3D, Conv*Transpose, DepthwiseConv1D/2D and "
    "SeparableConv1D/2D layers"
)
HEAD_KINDS = (keras.layers.Dense, FixedClassifier)


def sublayers(layer):
    """The layers `layer` tracks directly, in the order Keras tracks them:
    graph order for Functional models, `add` order for Sequential ones,
    attribute order for subclassed models and custom layers."""
    # Keras has no public accessor for a plain layer's sublayers; this is the
    # list `Model.layers`, `Layer.weights` and `Layer.losses` are built from.
    return layer._flatten_layers(include_self=False, recursive=False)


def walk_layers(model):
    """Yields `model` and every layer nested in it, depth first in
    `sublayers` order, each layer once."""
    for layer, _ in _walk_with_parents(model):
        yield layer


def _walk_with_parents(root):
    seen = set()
    pending = [(root, None)]
    while pending:
        layer, parent = pending.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        yield layer, parent
        pending.extend((child, layer) for child in reversed(sublayers(layer)))


def ancestors(model, layer):
    """The layers from `model` down to the one that tracks `layer` directly,
    outermost first (empty for `model` itself)."""
    parents = {id(child): parent for child, parent in _walk_with_parents(model)}
    chain = []
    parent = parents[id(layer)]
    while parent is not None:
        chain.append(parent)
        parent = parents[id(parent)]
    return chain[::-1]


def layer_position(model, layer):
    """The index of `layer` in `walk_layers(model)`: unlike a generated layer
    name, the same in every process that builds the model."""
    for position, candidate in enumerate(walk_layers(model)):
        if candidate is layer:
            return position
    raise ValueError(f"Layer {layer.name!r} is not part of model {model.name!r}.")


def layer_at(model, position):
    """The layer at `position` of `walk_layers(model)`."""
    for index, layer in enumerate(walk_layers(model)):
        if index == position:
            return layer
    raise ValueError(
        f"Invalid layer position {position}: model {model.name!r} has fewer "
        "layers. Was it built by other code than the model saved?"
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
# stateless scope (JAX's traced train step), on its current value.
_REGULARIZATION_LOSSES = keras.Layer._get_regularization_losses.__code__
# How far up the stack Keras' caller is looked for: the optimizer applies
# constraints about ten frames below the trainer's `train_step`.
_MAX_FRAMES = 30


class KernelLayouts:
    """The layouts of the kernels Keras applies a regularizer or a constraint
    to, read from the layer that holds each kernel, once per kernel.

    Keras hands a regularizer or a constraint the kernel alone, never its
    layer, and a rank-4 kernel may be a convolution's, a transposed
    convolution's or a depthwise one's. The layer is found through Keras'
    own caller on the stack: `Layer._get_regularization_losses` (which holds
    the variable and the layer, possibly a model) for a regularizer, the
    trainer's `train_step` (which holds the model) for a constraint. Both are
    private frames; the regularizer and constraint tests train a model on
    every backend, so a change in Keras fails them.
    """

    def __init__(self):
        # id(variable) -> (weakref to the variable, its layout).
        self._found = {}

    def layout(self, kernel, owner):
        """The layout of `kernel` in the layer holding it, or `None` when no
        Keras caller holds it (a call on a tensor, a custom training loop).

        Raises a ValueError, naming `owner` (the regularizer or constraint
        class) and `kernel_layout=`, when the layer is one whose kernel
        layout keras_ortho does not know.
        """
        layout = self._cached(kernel)
        if layout is not None:
            return layout
        variable, holder = _keras_caller(kernel)
        if variable is None:
            return None
        layout = self._cached(variable)
        if layout is not None:
            return layout
        located = find_kernel(holder, variable)
        if located is None:
            raise ValueError(
                f"{owner}(kernel_layout='auto') cannot tell how kernel "
                f"{variable.path!r} of shape {tuple(variable.shape)} is stored: "
                f"it is not the kernel of one of the {KERNEL_KINDS}. Pass "
                "`kernel_layout=`: 'conv' (*spatial, in, out), 'conv_transpose' "
                "(*spatial, out, in), 'depthwise' (*spatial, in, multiplier) or "
                "an EinsumDense equation such as 'abc,cde->abde'."
            )
        layout = located[1].kernel_layout
        self._found[id(variable)] = (weakref.ref(variable), layout)
        return layout

    def _cached(self, variable):
        found = self._found.get(id(variable))
        if found is not None and found[0]() is variable:
            return found[1]
        return None


def _keras_caller(kernel):
    """`(variable, layer or model holding it)` from the Keras frame applying a
    regularizer or constraint to `kernel`, else `(None, None)`."""
    frame = sys._getframe(1)
    for _ in range(_MAX_FRAMES):
        if frame is None:
            break
        if frame.f_code is _REGULARIZATION_LOSSES:
            return frame.f_locals.get("variable"), frame.f_locals.get("self")
        holder = frame.f_locals.get("self")
        if (
            frame.f_code.co_name == "train_step"
            and isinstance(holder, keras.Model)
            and isinstance(kernel, keras.Variable)
        ):
            return kernel, holder
        frame = frame.f_back
    return None, None


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


class Features(typing.NamedTuple):
    """Where a classifier's features are.

    Attributes:
        layer: the layer whose input or output is the features.
        is_input: whether the features are `layer`'s input (the head's)
            rather than its output.
        owner: the Functional or Sequential model whose graph `layer` is
            called in directly, or `None` (a subclassed model or custom
            layer holds it).
    """

    layer: keras.Layer
    is_input: bool
    owner: keras.Model | None

    @property
    def tensor(self):
        """The symbolic features in `owner`'s graph."""
        return self.layer.input if self.is_input else self.layer.output


def find_head(model):
    """The classifier head of `model`: its last `Dense` or
    `keras_ortho.layers.FixedClassifier` layer in walk order (graph order for
    Functional and Sequential models, attribute order for subclassed ones),
    nested models and custom layers included.

    Raises:
        ValueError: `model` has no such layer, or its output goes through a
            softmax (probabilities, not logits).
    """
    walked = list(walk_layers(model))
    heads = [layer for layer in walked if isinstance(layer, HEAD_KINDS)]
    if not heads:
        raise ValueError(
            f"Cannot find the classifier head of model {model.name!r}: it has no "
            "Dense or keras_ortho.layers.FixedClassifier layer. Pass "
            "`feature_layer`, the name of the layer whose output is the features."
        )
    head = heads[-1]
    for layer in {id(head): head, id(walked[-1]): walked[-1]}.values():
        if _applies_softmax(layer):
            raise ValueError(
                f"Invalid `model`: its layer {layer.name!r} applies a softmax, so "
                f"model {model.name!r} outputs probabilities, not logits. Build it "
                "without the final softmax (e.g. `keras.applications.ResNet50("
                "classifier_activation=None)` or `Dense(..., activation=None)`) "
                "and give the loss `from_logits=True`."
            )
    return head


def find_features(model, feature_layer=None):
    """Where the features of classifier `model` are: by default, the input of
    its head (`find_head`); with `feature_layer` (a name, a layer, or a
    position from `layer_position`), that layer's output.

    Raises:
        TypeError: `feature_layer` has the wrong type.
        ValueError: no such layer, or no head (see `find_head`).
    """
    parents = {id(layer): parent for layer, parent in _walk_with_parents(model)}
    if feature_layer is None:
        layer, is_input = find_head(model), True
    else:
        layer, is_input = _named_layer(model, feature_layer), False
    parent = parents[id(layer)]
    owner = parent if _has_graph(parent) else None
    return Features(layer, is_input, owner)


def _named_layer(model, feature_layer):
    if isinstance(feature_layer, int) and not isinstance(feature_layer, bool):
        return layer_at(model, feature_layer)
    if isinstance(feature_layer, keras.Layer):
        matches = [x for x in walk_layers(model) if x is feature_layer]
    elif isinstance(feature_layer, str):
        matches = [x for x in walk_layers(model) if x.name == feature_layer]
    else:
        raise TypeError(
            "Invalid type for argument `feature_layer`: expected None, a layer "
            f"name or a keras.Layer. Received: feature_layer={feature_layer!r} "
            f"of type {type(feature_layer).__name__}"
        )
    if not matches:
        name = getattr(feature_layer, "name", feature_layer)
        raise ValueError(
            f"Cannot find the feature layer: model {model.name!r} has no layer "
            f"named {name!r} (nested layers included). Its layers are "
            f"{[x.name for x in sublayers(model)]}"
        )
    return matches[0]


def _has_graph(layer):
    return isinstance(layer, keras.Model) and getattr(layer, "inputs", None) is not None


def _applies_softmax(layer):
    if isinstance(layer, keras.layers.Softmax):
        return True
    activation = getattr(layer, "activation", None)
    return getattr(activation, "__name__", None) == "softmax"


def feature_extractor(model, feature_layer=None):
    """A Functional model from images to the features of `model`.

    The features are found as `keras_ortho.models.with_features` finds them:
    the input of the classifier head, or the output of `feature_layer` (a
    name or a layer), nested models included. A feature layer inside a
    nested model is fed the images directly, skipping the outer model's
    layers in front of it (such as augmentation layers, which do nothing at
    inference).
    """
    features = find_features(model, feature_layer)
    if features.owner is None:
        raise ValueError(
            f"Cannot find the features of model {model.name!r} in a Functional "
            f"or Sequential graph: layer {features.layer.name!r} is called by a "
            "subclassed model or custom layer. Pass `feature_layer`, a layer "
            "called in a Functional or Sequential graph."
        )
    owner = features.owner
    return keras.Model(owner.inputs, features.tensor, name=f"{owner.name}_features")
