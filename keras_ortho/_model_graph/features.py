"""The one rule for a classifier's head and features, shared by
`with_features`, the monitor and the report."""

import typing

import keras

from keras_ortho._model_graph.walk import layer_at
from keras_ortho._model_graph.walk import sublayers
from keras_ortho._model_graph.walk import walk_layers
from keras_ortho._model_graph.walk import walk_with_parents
from keras_ortho.layers.fixed_classifier import FixedClassifier

HEAD_KINDS = (keras.layers.Dense, FixedClassifier)


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
    parents = {id(layer): parent for layer, parent in walk_with_parents(model)}
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
