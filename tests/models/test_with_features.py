import keras
import numpy as np
import pytest

from keras_ortho import losses
from keras_ortho import models
from tests import toolkit

X = np.random.default_rng(0).normal(size=(8, 5)).astype("float32")
Y = np.array([0, 1, 2, 1, 0, 2, 2, 1])


def _functional():
    inputs = keras.Input((5,))
    hidden = keras.layers.Dense(6, activation="relu", name="hidden")(inputs)
    features = keras.layers.Dense(4, activation="relu", name="pool")(hidden)
    return keras.Model(inputs, keras.layers.Dense(3, name="head")(features))


def _sequential():
    return keras.Sequential(
        [
            keras.Input((5,)),
            keras.layers.Dense(6, activation="relu", name="hidden"),
            keras.layers.Dense(4, activation="relu", name="pool"),
            keras.layers.Dense(3, name="head"),
        ]
    )


class _Subclassed(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = keras.layers.Dense(6, activation="relu", name="hidden")
        self.pool = keras.layers.Dense(4, activation="relu", name="pool")
        self.head = keras.layers.Dense(3, name="head")

    def call(self, inputs):
        return self.head(self.pool(self.hidden(inputs)))


def _subclassed():
    model = _Subclassed()
    model(X)
    return model


BUILDERS = {"functional": _functional, "sequential": _sequential, "sub": _subclassed}


def _expected_features(model, layer_name):
    hidden = model.get_layer("hidden")(X)
    features = model.get_layer("pool")(hidden)
    return features if layer_name == "pool" else hidden


@pytest.mark.parametrize("kind", sorted(BUILDERS))
@pytest.mark.parametrize("feature_layer", [None, "hidden"])
def test_outputs_logits_and_features(kind, feature_layer):
    model = BUILDERS[kind]()
    wrapped = models.with_features(model, feature_layer=feature_layer)
    outputs = wrapped(X)
    assert sorted(outputs) == ["features", "logits"]
    np.testing.assert_allclose(
        toolkit.to_numpy(outputs["logits"]), toolkit.to_numpy(model(X)), rtol=1e-6
    )
    want = _expected_features(model, feature_layer or "pool")
    np.testing.assert_allclose(
        toolkit.to_numpy(outputs["features"]), toolkit.to_numpy(want), rtol=1e-6
    )
    assert len(wrapped.trainable_weights) == len(model.trainable_weights)


def _compile(model, jit_compile):
    model.compile(
        optimizer="sgd",
        loss={
            "logits": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            "features": losses.OrthogonalProjectionLoss(),
        },
        loss_weights={"logits": 1.0, "features": 0.5},
        jit_compile=jit_compile,
    )


def test_fit_with_labels_passed_once_jit_compiled():
    model = models.with_features(_subclassed())
    _compile(model, jit_compile=True)
    history = model.fit(X, models.feature_targets(Y), batch_size=8, verbose=0)
    logs = {k: v[-1] for k, v in history.history.items()}
    np.testing.assert_allclose(
        logs["loss"], logs["logits_loss"] + 0.5 * logs["features_loss"], rtol=1e-5
    )


@pytest.mark.parametrize("kind", ["functional", "sequential"])
def test_evaluate_matches_the_loss_on_each_output(kind):
    model = models.with_features(BUILDERS[kind]())
    _compile(model, jit_compile=False)
    logs = model.evaluate(
        X, models.feature_targets(Y), batch_size=8, verbose=0, return_dict=True
    )
    features = model(X)["features"]
    want = losses.OrthogonalProjectionLoss()(Y, features)
    np.testing.assert_allclose(logs["features_loss"], toolkit.to_numpy(want), rtol=1e-5)


def test_feature_targets_do_not_copy():
    targets = models.feature_targets(Y)
    assert targets["logits"] is Y and targets["features"] is Y


def test_save_load_identical(tmp_path):
    model = models.with_features(_functional())
    toolkit.assert_save_load_identical(model, X, tmp_path)


def test_subclassed_wrapper_round_trips():
    keras.saving.register_keras_serializable("tests")(_Subclassed)
    wrapped = models.with_features(_subclassed(), feature_layer="hidden")
    config = wrapped.get_config()
    revived = models.FeatureOutputsModel.from_config(config)
    revived(X)
    assert revived.feature_layer == "hidden" and not revived.features_are_input


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_unknown_feature_layer_is_a_clear_error(kind):
    with pytest.raises(ValueError, match=r"feature layer.*'missing'"):
        models.with_features(BUILDERS[kind](), feature_layer="missing")


def test_model_without_dense_layer_is_a_clear_error():
    model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Conv2D(2, 3)])
    with pytest.raises(ValueError, match=r"no Dense layer.*feature_layer"):
        models.with_features(model)


def test_invalid_arguments():
    with pytest.raises(TypeError, match="model"):
        models.with_features(keras.layers.Dense(3))
    with pytest.raises(TypeError, match="feature_layer"):
        models.with_features(_functional(), feature_layer=3)
