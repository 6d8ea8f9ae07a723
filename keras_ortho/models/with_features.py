"""Expose a classifier's features as a second output, for losses on features."""

import keras

from keras_ortho._export import keras_ortho_export

LOGITS = "logits"
FEATURES = "features"


@keras_ortho_export
def with_features(model, feature_layer=None):
    """Returns a model with outputs `{"logits": ..., "features": ...}`.

    Losses on features (`keras_ortho.losses.OrthogonalProjectionLoss`,
    `OrthogonalSphereLoss`) need the features as a model output. The new model
    shares every layer and weight with `model`; its `"logits"` output is
    `model`'s output.

    Args:
        model: a Keras classifier: Functional, Sequential (built, e.g. with a
            `keras.Input`) or subclassed (called at least once, so that its
            layers exist).
        feature_layer: the layer whose output is the features, by name or as
            a layer. By default, the features are the input of the last
            `Dense` layer (the classifier head): last in graph order for
            Functional and Sequential models, last in `model.layers` (the
            order the attributes were assigned) for subclassed ones.

    Returns:
        For Functional and Sequential models, a Functional model. For
        subclassed models, a `FeatureOutputsModel` that records the feature
        layer's input or output while `model` runs.

    Raises:
        ValueError: the feature layer cannot be found, or `model` has not been
            built or has more than one output.

    Example:

    ```python
    model = keras_ortho.models.with_features(classifier)
    model.compile(
        optimizer="sgd",
        loss={
            "logits": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            "features": keras_ortho.losses.OrthogonalProjectionLoss(),
        },
        loss_weights={"logits": 1.0, "features": 1.0},
    )
    model.fit(x, keras_ortho.models.feature_targets(y))
    ```
    """
    if not isinstance(model, keras.Model):
        raise TypeError(
            "Invalid `model`: expected a keras.Model. "
            f"Received: model of type {type(model).__name__}"
        )
    layer, features_are_input = _find_feature_layer(model, feature_layer)
    if not hasattr(model, "inputs"):
        return FeatureOutputsModel(model, layer.name, features_are_input)
    if len(model.outputs) != 1:
        raise ValueError(
            "Invalid `model`: expected a classifier with a single output. "
            f"Received: a model with {len(model.outputs)} outputs"
        )
    features = layer.input if features_are_input else layer.output
    return keras.Model(
        model.inputs,
        {LOGITS: model.outputs[0], FEATURES: features},
        name=f"{model.name}_with_features",
    )


@keras_ortho_export
def feature_targets(y):
    """The targets of a `with_features` model from labels passed once.

    Returns `{"logits": y, "features": y}`, two references to the same labels
    (no copy). For a `tf.data.Dataset` of `(x, y)`, map it:
    `dataset.map(lambda x, y: (x, feature_targets(y)))`.

    Args:
        y: the labels, any array or tensor.

    Returns:
        A dict with keys `"logits"` and `"features"`.
    """
    return {LOGITS: y, FEATURES: y}


def _find_feature_layer(model, feature_layer):
    """Returns `(layer, features_are_input)`."""
    if feature_layer is None:
        dense_layers = [
            layer for layer in model.layers if isinstance(layer, keras.layers.Dense)
        ]
        if not dense_layers:
            raise ValueError(
                "Cannot find the feature layer: `model` has no Dense layer whose "
                "input could serve as features. Pass `feature_layer`, the name "
                "of the layer whose output is the features. Received: "
                f"model {model.name!r} with layers {[x.name for x in model.layers]}"
            )
        return dense_layers[-1], True
    name = (
        feature_layer.name if isinstance(feature_layer, keras.Layer) else feature_layer
    )
    if not isinstance(name, str):
        raise TypeError(
            "Invalid `feature_layer`: expected a layer name or a keras.Layer. "
            f"Received: feature_layer={feature_layer!r}"
        )
    for layer in model.layers:
        if layer.name == name:
            return layer, False
    raise ValueError(
        f"Cannot find the feature layer: `model` {model.name!r} has no layer named "
        f"{name!r}. Received: feature_layer={feature_layer!r}; the model's layers "
        f"are {[x.name for x in model.layers]}"
    )


@keras_ortho_export
class FeatureOutputsModel(keras.Model):
    """A subclassed classifier with its features as a second output.

    Made by `with_features` for subclassed models, whose intermediate tensors
    are not part of a graph. The feature layer's `call` is wrapped once, when
    this model is made, to keep its latest input (`features_are_input=True`)
    or output; the wrapper changes nothing else, so `model` itself behaves as
    before.

    Args:
        model: the subclassed classifier.
        feature_layer: the name of a layer in `model.layers`.
        features_are_input: whether the features are that layer's input
            rather than its output.
    """

    def __init__(self, model, feature_layer, features_are_input=False, **kwargs):
        super().__init__(**kwargs)
        self.model = model
        self.feature_layer = feature_layer
        self.features_are_input = features_are_input
        layer, _ = _find_feature_layer(model, feature_layer)
        self._latest_features = _keep_latest_features(layer, features_are_input)

    def call(self, inputs, training=None):
        logits = self.model(inputs, training=training)
        return {LOGITS: logits, FEATURES: self._latest_features()}

    def get_config(self):
        return {
            **super().get_config(),
            "model": keras.saving.serialize_keras_object(self.model),
            "feature_layer": self.feature_layer,
            "features_are_input": self.features_are_input,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["model"] = keras.saving.deserialize_keras_object(config["model"])
        return cls(**config)


def _keep_latest_features(layer, features_are_input):
    """Wraps `layer.call` to keep its latest input or output; returns a
    function that hands it over (and forgets it)."""
    latest = {}
    layer_call = layer.call

    def keeping_call(*args, **kwargs):
        outputs = layer_call(*args, **kwargs)
        latest[FEATURES] = args[0] if features_are_input else outputs
        return outputs

    # Set once, outside any trace: tracing compilers (torch.compile) do not
    # support swapping a module's methods while they trace it.
    layer.call = keeping_call
    return lambda: latest.pop(FEATURES)
