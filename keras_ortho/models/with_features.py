"""Expose a classifier's features as a second output, for losses on features."""

import keras

from keras_ortho._export import register_serializable
from keras_ortho._model_graph import find_features
from keras_ortho._model_graph import layer_position

LOGITS = "logits"
FEATURES = "features"


@register_serializable
def with_features(model, feature_layer=None):
    """Returns a model with outputs `{"logits": ..., "features": ...}`.

    Losses on features (`keras_ortho.losses.OrthogonalProjectionLoss`,
    `OrthogonalSphereLoss`) need the features as a model output. The new model
    shares every layer and weight with `model`; its `"logits"` output is
    `model`'s output.

    Args:
        model: a Keras classifier that outputs logits: Functional, Sequential
            (built, e.g. with a `keras.Input`) or subclassed (called at least
            once, so that its layers exist), nested models included.
        feature_layer: the layer whose output is the features, by name or as
            a layer. By default, the features are the input of the classifier
            head: the last `Dense` or `keras_ortho.layers.FixedClassifier`
            layer, nested layers included (last in graph order for Functional
            and Sequential models, in attribute order for subclassed ones).

    Returns:
        A Functional model when the feature layer is called in `model`'s own
        graph; otherwise (subclassed models, a head inside a nested model) a
        `FeatureOutputsModel` that records the features while `model` runs.

    Raises:
        ValueError: the feature layer cannot be found, `model` has not been
            built or has more than one output, or its last layer applies a
            softmax (outputs are probabilities, not logits).

    Example:

    ```python
    classifier = keras.Sequential(
        [
            keras.Input((16, 16, 3)),
            keras.layers.Conv2D(8, 3, activation="relu"),
            keras.layers.GlobalAveragePooling2D(),  # the features
            keras.layers.Dense(4),  # the head
        ]
    )
    model = keras_ortho.models.with_features(classifier)
    model.compile(
        optimizer="sgd",
        loss={
            "logits": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            "features": keras_ortho.losses.OrthogonalProjectionLoss(),
        },
        loss_weights={"logits": 1.0, "features": 1.0},
    )
    x, y = np.random.rand(32, 16, 16, 3), np.random.randint(0, 4, 32)
    model.fit(x, keras_ortho.models.feature_targets(y), verbose=0)
    ```
    """
    if not isinstance(model, keras.Model):
        raise TypeError(
            "Invalid `model`: expected a keras.Model. "
            f"Received: model of type {type(model).__name__}"
        )
    if feature_layer is not None and not isinstance(feature_layer, (str, keras.Layer)):
        raise TypeError(
            "Invalid type for argument `feature_layer`: expected None, a layer "
            f"name or a keras.Layer. Received: feature_layer={feature_layer!r} "
            f"of type {type(feature_layer).__name__}"
        )
    features = find_features(model, feature_layer)
    if features.owner is not model:
        return FeatureOutputsModel(
            model, None if feature_layer is None else features.layer
        )
    if len(model.outputs) != 1:
        raise ValueError(
            "Invalid `model`: expected a classifier with a single output. "
            f"Received: a model with {len(model.outputs)} outputs"
        )
    return keras.Model(
        model.inputs,
        {LOGITS: model.outputs[0], FEATURES: features.tensor},
        name=f"{model.name}_with_features",
    )


@register_serializable
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


@register_serializable
class FeatureOutputsModel(keras.Model):
    """A classifier with its features as a second output, for any model.

    Made by `with_features` for subclassed models, whose intermediate tensors
    are not part of a graph, and for heads inside nested models. The feature
    layer's `call` is wrapped once, when this model is made, to keep its
    latest input (the head's, by default) or output; the wrapper changes
    nothing else, so `model` itself behaves as before.

    The config refers to the feature layer by its position in the walk of
    `model`'s layers, not by its name: generated names (`"dense_3"`) differ in
    the process that loads the model.

    Args:
        model: the classifier.
        feature_layer: `None` for the input of the classifier head (see
            `with_features`), or the layer whose output is the features: a
            layer of `model`, its name, or its position in the walk (what
            `get_config` stores).
    """

    def __init__(self, model, feature_layer=None, **kwargs):
        super().__init__(**kwargs)
        self.model = model
        features = find_features(model, feature_layer)
        self.feature_layer = (
            None if feature_layer is None else layer_position(model, features.layer)
        )
        self._latest_features = _keep_latest_features(features.layer, features.is_input)

    def call(self, inputs, training=None):
        logits = self.model(inputs, training=training)
        return {LOGITS: logits, FEATURES: self._latest_features()}

    def get_config(self):
        return {
            **super().get_config(),
            "model": keras.saving.serialize_keras_object(self.model),
            "feature_layer": self.feature_layer,
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
