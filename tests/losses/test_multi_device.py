"""Multi-device semantics of the batch-dependent losses (see
docs/losses/multi_device.md): JAX `DataParallel` sees the global batch;
TensorFlow `MirroredStrategy` sees local shards, or the global batch with
`cross_replica=True`."""

import keras
import numpy as np
import pytest

from keras_ortho import losses
from keras_ortho._distribute import mirrored_strategy
from tests import toolkit
from tests.conftest import BACKEND
from tests.conftest import MULTI_DEVICE_COUNT

pytestmark = pytest.mark.multi_device

RNG = np.random.default_rng(3)
X = RNG.normal(size=(16, 5)).astype("float32")
Y = np.array([0, 1, 2, 1, 0, 2, 2, 1, 3, 0, 1, 3, 2, 0, 1, 2])
FEATURES = RNG.normal(size=(16, 6)).astype("float32")


def _model(weights=None):
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(6)])
    if weights is not None:
        model.set_weights(weights)
    return model


def _one_sgd_step(model, loss, x, y):
    """Returns the weights after one SGD step (learning rate 1) and the loss."""
    model.compile(optimizer=keras.optimizers.SGD(1.0), loss=loss, jit_compile=False)
    history = model.fit(x, y, batch_size=len(x), epochs=1, shuffle=False, verbose=0)
    return model.get_weights(), history.history["loss"][-1]


@pytest.mark.skipif(BACKEND != "jax", reason="keras.distribution on JAX")
@pytest.mark.parametrize("absolute", ["elementwise", "mean"])
def test_jax_data_parallel_sees_the_global_batch(absolute):
    devices = keras.distribution.list_devices("cpu")
    assert len(devices) == MULTI_DEVICE_COUNT == 8
    initial = _model().get_weights()
    loss = losses.OrthogonalProjectionLoss(absolute=absolute)
    want_weights, want_loss = _one_sgd_step(_model(initial), loss, X, Y)
    keras.distribution.set_distribution(
        keras.distribution.DataParallel(devices=devices)
    )
    try:
        got_weights, got_loss = _one_sgd_step(_model(initial), loss, X, Y)
    finally:
        keras.distribution.set_distribution(None)
    np.testing.assert_allclose(got_loss, want_loss, rtol=1e-6)
    for got, want in zip(got_weights, want_weights, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def _strategy():
    # The process's one strategy over these devices, shared with the recipes:
    # collectives of two strategies on the same devices interfere.
    return mirrored_strategy(MULTI_DEVICE_COUNT)


@pytest.mark.skipif(BACKEND != "tensorflow", reason="tf.distribute")
@pytest.mark.parametrize("absolute", ["elementwise", "none", "mean"])
def test_tensorflow_cross_replica_values_equal_single_device(absolute):
    strategy = _strategy()
    shard = len(Y) // MULTI_DEVICE_COUNT

    def local(context):
        rows = slice(context.replica_id_in_sync_group * shard, None)
        return Y[rows][:shard], FEATURES[rows][:shard]

    labels, features = strategy.experimental_distribute_values_from_function(local)
    per_sample = strategy.run(
        lambda y, f: losses.orthogonal_projection_loss(
            y, f, absolute=absolute, cross_replica=True
        ),
        args=(labels, features),
    )
    got = toolkit.to_numpy(strategy.gather(per_sample, axis=0))
    want = losses.orthogonal_projection_loss(Y, FEATURES, absolute=absolute)
    np.testing.assert_allclose(got, toolkit.to_numpy(want), rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(BACKEND != "tensorflow", reason="tf.distribute")
def test_tensorflow_cross_replica_gradients_equal_single_device():
    initial = _model().get_weights()
    loss = losses.OrthogonalProjectionLoss(cross_replica=True)
    want_weights, want_loss = _one_sgd_step(_model(initial), loss, X, Y)
    with _strategy().scope():
        model = _model(initial)
        got_weights, got_loss = _one_sgd_step(model, loss, X, Y)
    np.testing.assert_allclose(got_loss, want_loss, rtol=1e-5)
    for got, want in zip(got_weights, want_weights, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(BACKEND != "tensorflow", reason="tf.distribute")
def test_tensorflow_local_shards_are_averaged_not_summed():
    # Without gathering each replica sees its shard; the update must be the
    # mean of the shards' single-device updates (a scalar loss would give N x).
    initial = _model().get_weights()
    loss = losses.OrthogonalProjectionLoss()
    shard = len(Y) // MULTI_DEVICE_COUNT
    shard_weights = [
        _one_sgd_step(_model(initial), loss, X[i : i + shard], Y[i : i + shard])[0]
        for i in range(0, len(Y), shard)
    ]
    with _strategy().scope():
        model = _model(initial)
        got_weights, _ = _one_sgd_step(model, loss, X, Y)
    for index, got in enumerate(got_weights):
        want = np.mean([weights[index] for weights in shard_weights], axis=0)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
