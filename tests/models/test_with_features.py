import importlib
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_ortho import layers
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


def _compile(model):
    model.compile(
        optimizer="sgd",
        loss={
            "logits": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            "features": losses.OrthogonalProjectionLoss(),
        },
        loss_weights={"logits": 1.0, "features": 0.5},
        jit_compile=False,
    )


def test_fit_with_labels_passed_once():
    # The compiled step is the contract's (tests/test_contract.py).
    model = models.with_features(_subclassed())
    _compile(model)
    history = model.fit(X, models.feature_targets(Y), batch_size=8, verbose=0)
    logs = {k: v[-1] for k, v in history.history.items()}
    np.testing.assert_allclose(
        logs["loss"], logs["logits_loss"] + 0.5 * logs["features_loss"], rtol=1e-5
    )


@pytest.mark.parametrize("kind", ["functional", "sequential"])
def test_evaluate_matches_the_loss_on_each_output(kind):
    model = models.with_features(BUILDERS[kind]())
    _compile(model)
    logs = model.evaluate(
        X, models.feature_targets(Y), batch_size=8, verbose=0, return_dict=True
    )
    features = model(X)["features"]
    want = losses.OrthogonalProjectionLoss()(Y, features)
    np.testing.assert_allclose(logs["features_loss"], toolkit.to_numpy(want), rtol=1e-5)


def test_feature_targets_do_not_copy():
    targets = models.feature_targets(Y)
    assert targets["logits"] is Y and targets["features"] is Y


def test_subclassed_wrapper_round_trips():
    keras.saving.register_keras_serializable("tests")(_Subclassed)
    model = _subclassed()
    wrapped = models.with_features(model, feature_layer="hidden")
    config = wrapped.get_config()
    # The position of `hidden` in the walk: the model, then its attributes.
    assert config["feature_layer"] == 1

    revived = models.FeatureOutputsModel.from_config(config)
    revived.model.set_weights(model.get_weights())
    np.testing.assert_allclose(
        toolkit.to_numpy(revived(X)["features"]),
        toolkit.to_numpy(model.get_layer("hidden")(X)),
        rtol=1e-6,
    )


_NET_MODULE = """
import keras


@keras.saving.register_keras_serializable("test_with_features")
class Net(keras.Model):
    # Layers with generated names ("dense", "dense_1", ...), which differ in
    # a process that made other layers first.
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = keras.layers.Dense(6, activation="relu")
        self.pool = keras.layers.Dense(4, activation="relu")
        self.head = keras.layers.Dense(3)

    def call(self, inputs):
        return self.head(self.pool(self.hidden(inputs)))
"""

_LOAD_SCRIPT = """
import sys

import keras
import numpy as np

sys.path.insert(0, sys.argv[1])
import net_module  # noqa: E402, F401  (registers Net)

import keras_ortho  # noqa: E402, F401

folder = sys.argv[1]
x = np.load(f"{folder}/x.npy")
for name in sys.argv[2:]:
    model = keras.saving.load_model(f"{folder}/{name}.keras")
    features = model(x)["features"]
    np.save(f"{folder}/{name}.npy", keras.ops.convert_to_numpy(features))
"""


def test_subclassed_model_reloads_in_a_fresh_process(tmp_path):
    # Both choices of feature layer, loaded in one fresh process: the head's
    # input (the default) and a named layer.
    (tmp_path / "net_module.py").write_text(_NET_MODULE)
    sys.path.insert(0, str(tmp_path))
    try:
        net_module = importlib.import_module("net_module")
    finally:
        sys.path.remove(str(tmp_path))
    for _ in range(3):
        keras.layers.Dense(1)  # this process's generated names move on
    want = {}
    for name in ("head-input", "named"):
        net = net_module.Net(name="my_net")
        net(X)
        wrapped = models.with_features(
            net, feature_layer=None if name == "head-input" else net.hidden
        )
        wrapped(X)
        wrapped.save(tmp_path / f"{name}.keras")
        features = net.pool(net.hidden(X)) if name == "head-input" else net.hidden(X)
        want[name] = toolkit.to_numpy(features)
    np.save(tmp_path / "x.npy", X)

    subprocess.run(
        [sys.executable, "-c", _LOAD_SCRIPT, str(tmp_path), *want],
        check=True,
        env={**os.environ, "KERAS_BACKEND": keras.backend.backend()},
        capture_output=True,
    )

    for name, features in want.items():
        np.testing.assert_allclose(
            np.load(tmp_path / f"{name}.npy"), features, rtol=1e-6, err_msg=name
        )


def _fixed_head_functional():
    inputs = keras.Input((5,))
    hidden = keras.layers.Dense(6, activation="relu", name="hidden")(inputs)
    bottleneck = keras.layers.Dense(16, name="bottleneck")(hidden)
    logits = layers.FixedClassifier(3, name="head")(bottleneck)
    return keras.Model(inputs, logits)


def test_fixed_classifier_head_takes_its_input_as_features():
    model = _fixed_head_functional()
    outputs = models.with_features(model)(X)
    bottleneck = model.get_layer("bottleneck")(model.get_layer("hidden")(X))
    assert tuple(outputs["features"].shape) == (8, 16)
    np.testing.assert_allclose(
        toolkit.to_numpy(outputs["features"]), toolkit.to_numpy(bottleneck), rtol=1e-6
    )


def test_fixed_classifier_head_of_a_subclassed_model():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.hidden = keras.layers.Dense(16)
            self.head = layers.FixedClassifier(3)

        def call(self, inputs):
            return self.head(self.hidden(inputs))

    net = Net()
    net(X)
    outputs = models.with_features(net)(X)
    np.testing.assert_allclose(
        toolkit.to_numpy(outputs["features"]),
        toolkit.to_numpy(net.hidden(X)),
        rtol=1e-6,
    )


def test_head_inside_a_nested_model():
    inner = _fixed_head_functional()
    outer = keras.Sequential([keras.Input((5,)), keras.layers.Identity(), inner])
    outputs = models.with_features(outer)(X)
    np.testing.assert_allclose(
        toolkit.to_numpy(outputs["logits"]), toolkit.to_numpy(outer(X)), rtol=1e-6
    )
    bottleneck = inner.get_layer("bottleneck")(inner.get_layer("hidden")(X))
    np.testing.assert_allclose(
        toolkit.to_numpy(outputs["features"]), toolkit.to_numpy(bottleneck), rtol=1e-6
    )


def test_a_keras_application_with_softmax_is_refused_with_the_fix():
    def mobilenet(**kwargs):
        return keras.applications.MobileNetV2(
            weights=None, input_shape=(32, 32, 3), classes=10, alpha=0.35, **kwargs
        )

    with pytest.raises(ValueError, match=r"softmax.*classifier_activation=None"):
        models.with_features(mobilenet())
    model = models.with_features(mobilenet(classifier_activation=None))
    assert tuple(model.output["features"].shape) == (None, 1280)


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_unknown_feature_layer_is_a_clear_error(kind):
    with pytest.raises(ValueError, match=r"feature layer.*'missing'"):
        models.with_features(BUILDERS[kind](), feature_layer="missing")


def test_model_without_dense_layer_is_a_clear_error():
    model = keras.Sequential([keras.Input((4, 4, 1)), keras.layers.Conv2D(2, 3)])
    with pytest.raises(
        ValueError, match=r"no Dense or .*FixedClassifier.*feature_layer"
    ):
        models.with_features(model)


def test_invalid_arguments():
    with pytest.raises(TypeError, match="model"):
        models.with_features(keras.layers.Dense(3))
    with pytest.raises(TypeError, match="feature_layer"):
        models.with_features(_functional(), feature_layer=3)
