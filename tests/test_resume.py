"""A training run resumes exactly: every stateful object a user puts in it.

The objects that keep state across steps or epochs (the coupled-decay SGD's
momentum and step count, the warm-up step schedule, a scheduled regularizer
factor, a fixed classifier's vectors with a learned scale and bias, batch-norm
statistics, the streaming ECE) run for four epochs uninterrupted, and again
split after two epochs and resumed from a `.keras` file or by
`keras.callbacks.BackupAndRestore` on a model built anew (as a restarted script
does). Weights and logs must be bit-identical.
"""

import keras
import numpy as np
import pytest

from keras_ortho import callbacks
from keras_ortho import layers
from keras_ortho import metrics
from keras_ortho import regularizers
from keras_ortho.optimizers import CoupledWeightDecaySGD
from keras_ortho.optimizers.schedules import WarmupMultiStepDecay

EPOCHS, SPLIT = 4, 2
RNG = np.random.default_rng(0)
X = RNG.normal(size=(32, 8)).astype("float32")
Y = RNG.integers(0, 4, 32)


def _build():
    keras.utils.set_random_seed(3)
    model = keras.Sequential(
        [
            keras.Input((8,)),
            keras.layers.Dense(
                16,
                activation="relu",
                kernel_regularizer=regularizers.SoftOrthogonality(0.1),
            ),
            keras.layers.BatchNormalization(),
            layers.FixedClassifier(
                4, logits="cosine", scale="learned", use_bias=True, seed=1
            ),
        ]
    )
    # The rate warms up over epoch 0 and decays at epochs 1 and 3.
    schedule = WarmupMultiStepDecay(
        0.1, steps_per_epoch=4, milestones=(1, 3), warmup_epochs=1
    )
    model.compile(
        optimizer=CoupledWeightDecaySGD(
            schedule, momentum=0.9, nesterov=True, coupled_weight_decay=5e-3
        ),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[metrics.ExpectedCalibrationError(num_bins=5, from_logits=True)],
    )
    return model


def _fit(model, extra_callbacks=(), epochs=EPOCHS, **kwargs):
    # The factor changes at epoch 1: the resumed run must know where it started.
    schedule = callbacks.RegularizerSchedule.srip(epochs=(1,), multipliers=(0.1,))
    return model.fit(
        X,
        Y,
        batch_size=8,
        epochs=epochs,
        shuffle=False,
        verbose=0,
        callbacks=[schedule, *extra_callbacks],
        **kwargs,
    ).history


def _weights(model):
    return [keras.ops.convert_to_numpy(v) for v in model.weights]


@pytest.fixture(scope="module")
def uninterrupted():
    model = _build()
    history = _fit(model)
    return history, _weights(model)


class _Interrupt(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == SPLIT:
            raise RuntimeError("Interrupted")


def _resume_from_keras_file(tmp_path):
    model = _build()
    _fit(model, epochs=SPLIT)
    model.save(tmp_path / "model.keras")
    loaded = keras.saving.load_model(tmp_path / "model.keras")
    return loaded, _fit(loaded, initial_epoch=SPLIT)


def _resume_with_backup_and_restore(tmp_path):
    with pytest.raises(RuntimeError, match="Interrupted"):
        _fit(
            _build(),
            [keras.callbacks.BackupAndRestore(tmp_path / "backup"), _Interrupt()],
        )
    rebuilt = _build()
    history = _fit(rebuilt, [keras.callbacks.BackupAndRestore(tmp_path / "backup")])
    return rebuilt, history


@pytest.mark.parametrize(
    "resume",
    [_resume_from_keras_file, _resume_with_backup_and_restore],
    ids=["keras_file", "backup_and_restore"],
)
def test_a_resumed_run_equals_the_uninterrupted_run(resume, uninterrupted, tmp_path):
    want_history, want_weights = uninterrupted
    model, history = resume(tmp_path)
    for key in ("loss", "ece", "ortho_factor"):
        np.testing.assert_array_equal(history[key], want_history[key][SPLIT:], key)
    for got, want, variable in zip(
        _weights(model), want_weights, model.weights, strict=True
    ):
        np.testing.assert_array_equal(got, want, variable.path)
