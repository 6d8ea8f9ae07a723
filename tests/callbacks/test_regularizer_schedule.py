import keras
import numpy as np
import pytest

from keras_ortho import callbacks
from keras_ortho import regularizers
from keras_ortho.callbacks.regularizer_schedule import srip_step_schedule
from tests import toolkit
from tests.conftest import BACKEND
from tests.regularizers import reference


def _reference_multiplier(one_based_epoch, first=20):
    # `adjust_ortho_decay_rate` of Wide-Resnet/train_n.py (Bansal et al.),
    # transcribed: it is called with the 1-based epoch and multiplies.
    if one_based_epoch > 120:
        return 0.0
    if one_based_epoch > 70:
        return 1e-6
    if one_based_epoch > 50:
        return 1e-4
    if one_based_epoch > first:
        return 1e-3
    return 1.0


def test_srip_step_schedule_matches_the_reference_code():
    schedule = srip_step_schedule()
    for epoch in range(200):
        want = 0.01 * _reference_multiplier(epoch + 1)
        assert schedule(epoch, 0.01) == pytest.approx(want, rel=1e-12), epoch
    # The first change lands on 0-based epoch 20, the 21st epoch.
    assert schedule(19, 0.01) == 0.01
    assert schedule(20, 0.01) == pytest.approx(1e-5)
    assert schedule(119, 1.0) == pytest.approx(1e-6)
    assert schedule(120, 1.0) == 0.0


def test_srip_thresholds_are_parameters():
    imagenet = srip_step_schedule(epochs=(30, 50, 70, 120))
    for epoch in range(150):
        want = 2.0 * _reference_multiplier(epoch + 1, first=30)
        assert imagenet(epoch, 2.0) == pytest.approx(want, rel=1e-12), epoch
    preset = callbacks.RegularizerSchedule.srip(epochs=(1, 3), multipliers=(0.5, 0.0))
    assert [preset.schedule(e, 4.0) for e in range(5)] == [4.0, 2.0, 2.0, 0.0, 0.0]


def _model(factors=(0.5, 0.5)):
    # Zero inputs, no biases and zero targets: the data loss is exactly 0 and
    # the logged loss is the regularization alone.
    first_factor, second_factor = factors
    return keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(
                6,
                use_bias=False,
                kernel_regularizer=regularizers.SoftOrthogonality(first_factor),
            ),
            keras.layers.Dense(
                5,
                use_bias=False,
                kernel_regularizer=regularizers.SoftOrthogonality(second_factor),
            ),
        ]
    )


def _penalties(model):
    """NumPy SO of the two kernels."""
    return tuple(
        reference.soft_orthogonality_np(toolkit.to_numpy(layer.kernel), "dense")
        for layer in model.layers
    )


def _fit(
    model,
    schedule,
    epochs,
    jit_compile,
    extra_callbacks=(),
    learning_rate=0.0,
    **fit_kwargs,
):
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=learning_rate),
        loss="mse",
        jit_compile=jit_compile,
    )
    return model.fit(
        np.zeros((2, 4), "float32"),
        np.zeros((2, 5), "float32"),
        batch_size=2,
        epochs=epochs,
        verbose=0,
        callbacks=[schedule, *extra_callbacks],
        **fit_kwargs,
    ).history


# A jit-compiled step is compiled once per new factor; a `torch.compile` costs
# about 10 s on 2 cores, so on torch the fit crosses a single change.
JIT_EPOCHS = 2 if keras.backend.backend() == "torch" else 5


def test_fit_loss_follows_the_schedule_jit_compiled():
    model = _model()
    penalty = sum(_penalties(model))
    schedule = callbacks.RegularizerSchedule.srip(epochs=(1, 2, 3, 4))

    history = _fit(model, schedule, epochs=JIT_EPOCHS, jit_compile=True)

    factors = [0.5 * m for m in (1.0, 1e-3, 1e-4, 1e-6, 0.0)][:JIT_EPOCHS]
    np.testing.assert_allclose(history["ortho_factor"], factors, rtol=1e-12)
    np.testing.assert_allclose(
        history["loss"], [f * penalty for f in factors], rtol=1e-5, atol=0
    )
    # The learning rate of 0 kept the kernels, and so the penalty, fixed.
    np.testing.assert_allclose(sum(_penalties(model)), penalty, rtol=1e-12)


class _TrainFunctionProbe(keras.callbacks.Callback):
    """Records the train function each step runs with."""

    def __init__(self):
        super().__init__()
        self.functions = []

    def on_train_batch_begin(self, batch, logs=None):
        self.functions.append(self.model.train_function)


def test_steps_are_rebuilt_on_change_only_and_validation_follows():
    # jit_compile="auto" compiles with XLA on TensorFlow and JAX, where a stale
    # train or test function would keep the old factor; torch runs eagerly.
    # The probe holds on to every train function, as any callback may: on JAX
    # that alone made a new jit of the train step reuse the old trace.
    model = _model(factors=(0.5, 2.0))
    first_penalty, second_penalty = _penalties(model)
    multipliers = [1.0, 1.0, 0.1, 0.1]
    schedule = callbacks.RegularizerSchedule(lambda epoch, f: f * multipliers[epoch])
    probe = _TrainFunctionProbe()
    zeros = (np.zeros((2, 4), "float32"), np.zeros((2, 5), "float32"))

    history = _fit(
        model,
        schedule,
        epochs=4,
        jit_compile="auto",
        extra_callbacks=[probe],
        validation_data=zeros,
    )

    want = [m * (0.5 * first_penalty + 2.0 * second_penalty) for m in multipliers]
    np.testing.assert_allclose(history["loss"], want, rtol=1e-5)
    np.testing.assert_allclose(history["val_loss"], want, rtol=1e-5)
    # Two initial factors: one log entry each.
    np.testing.assert_allclose(
        history["ortho_factor_0.5"], np.multiply(0.5, multipliers)
    )
    np.testing.assert_allclose(
        history["ortho_factor_2.0"], np.multiply(2.0, multipliers)
    )
    assert "ortho_factor" not in history
    first, second, third, fourth = probe.functions
    assert first is second and third is fourth
    assert second is not third


def test_a_second_fit_continues_from_the_initial_factor():
    model = _model()
    schedule = callbacks.RegularizerSchedule(lambda epoch, f: f * 10.0**-epoch)

    first = _fit(model, schedule, epochs=2, jit_compile=False)
    second = _fit(model, schedule, epochs=4, jit_compile=False, initial_epoch=2)

    np.testing.assert_allclose(first["ortho_factor"], [0.5, 0.05])
    np.testing.assert_allclose(second["ortho_factor"], [0.005, 0.0005])


def test_only_the_given_regularizers_are_scheduled():
    model = _model()
    first, second = model.layers
    schedule = callbacks.RegularizerSchedule(
        lambda epoch, f: 0.0, regularizers=first.kernel.regularizer
    )

    history = _fit(model, schedule, epochs=2, jit_compile=False)

    assert history["ortho_factor"] == [0.0, 0.0]
    assert first.kernel.regularizer.factor == 0.0
    assert second.kernel.regularizer.factor == 0.5


def test_after_attach_schedule_the_copies_on_the_model():
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(6), keras.layers.Dense(5)]
    )
    regularizer = regularizers.SoftOrthogonality(0.5)
    regularizers.attach(model, regularizer)

    passed = callbacks.RegularizerSchedule(lambda e, f: f, regularizers=[regularizer])
    with pytest.raises(ValueError, match="`attach` attaches copies"):
        _fit(model, passed, epochs=1, jit_compile=False)

    found = callbacks.RegularizerSchedule(lambda epoch, f: f * (epoch + 1))
    history = _fit(model, found, epochs=2, jit_compile=False)
    assert history["ortho_factor"] == [0.5, 1.0]
    assert model.layers[0].kernel.regularizer.factor == 1.0
    assert model.layers[1].kernel.regularizer.factor == 1.0
    assert regularizer.factor == 0.5


def test_a_model_without_orthogonality_regularizer_is_refused():
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(5, kernel_regularizer="l2")]
    )
    schedule = callbacks.RegularizerSchedule(lambda epoch, f: f)
    with pytest.raises(ValueError, match="found no OrthogonalityRegularizer"):
        _fit(model, schedule, epochs=1, jit_compile=False)


def test_an_invalid_scheduled_factor_is_refused():
    schedule = callbacks.RegularizerSchedule(lambda epoch, f: -f)
    with pytest.raises(ValueError, match=r"schedule\(0, 0\.5\)"):
        _fit(_model(), schedule, epochs=1, jit_compile=False)


def test_verbose_prints_each_change(capsys):
    schedule = callbacks.RegularizerSchedule(
        lambda epoch, f: f * (1 + (epoch > 1)), verbose=1
    )
    _fit(_model(), schedule, epochs=3, jit_compile=False)
    printed = capsys.readouterr().out
    assert "Epoch 3: RegularizerSchedule set the orthogonality factor" in printed
    assert "Epoch 1" not in printed and "Epoch 2" not in printed


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"schedule": 0.1}, TypeError, "`schedule`"),
        ({"regularizers": []}, TypeError, "`regularizers`"),
        ({"regularizers": [keras.regularizers.L2(0.1)]}, TypeError, "`regularizers`"),
        ({"regularizers": "all"}, TypeError, "`regularizers`"),
        ({"verbose": 2}, ValueError, "`verbose`"),
        ({"verbose": "1"}, TypeError, "`verbose`"),
    ],
)
def test_invalid_arguments(kwargs, error, match):
    arguments = {"schedule": lambda epoch, f: f, **kwargs}
    with pytest.raises(error, match=match):
        callbacks.RegularizerSchedule(**arguments)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"epochs": 20, "multipliers": 0.1}, TypeError, "`epochs`"),
        ({"epochs": (), "multipliers": ()}, ValueError, "at least one"),
        ({"epochs": (1, 2), "multipliers": (0.1,)}, ValueError, "same number"),
        ({"epochs": (5, 5), "multipliers": (0.1, 0.0)}, ValueError, "increasing"),
        ({"epochs": (-1,), "multipliers": (0.1,)}, ValueError, "`epochs`"),
        ({"epochs": (1.5,), "multipliers": (0.1,)}, TypeError, "`epochs`"),
        ({"epochs": (1,), "multipliers": (-0.1,)}, ValueError, "`multipliers`"),
    ],
)
def test_invalid_srip_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        srip_step_schedule(**kwargs)
    with pytest.raises(error, match=match):
        callbacks.RegularizerSchedule.srip(**kwargs)


# Resuming: epochs 0-4 of an uninterrupted run against the same epochs split
# at epoch 3, the factor changing at epochs 1, 2 and 4 and not at the split.
# The only gradient is the penalty's, so the kernels, and the later losses,
# record every factor used before.
RESUME_EPOCHS, SPLIT_EPOCH = 5, 3
RESUME_LEARNING_RATE = 0.05


def _seeded_model():
    keras.utils.set_random_seed(7)
    return _model()


def _resume_fit(model, schedule, epochs, **kwargs):
    return _fit(
        model,
        schedule,
        epochs=epochs,
        jit_compile=False,
        learning_rate=RESUME_LEARNING_RATE,
        **kwargs,
    )


def _resume_schedule():
    return callbacks.RegularizerSchedule.srip(
        epochs=(1, 2, 4), multipliers=(1e-3, 1e-4, 0.0)
    )


class _Interrupt(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == SPLIT_EPOCH:
            raise RuntimeError("Interrupted")


def _uninterrupted_history():
    return _resume_fit(_seeded_model(), _resume_schedule(), RESUME_EPOCHS)


def _assert_resumed_as_uninterrupted(resumed, uninterrupted):
    np.testing.assert_allclose(
        resumed["ortho_factor"], uninterrupted["ortho_factor"][SPLIT_EPOCH:], rtol=1e-12
    )
    np.testing.assert_allclose(
        resumed["loss"], uninterrupted["loss"][SPLIT_EPOCH:], rtol=1e-6
    )


def test_resume_from_a_keras_file_matches_an_uninterrupted_run(tmp_path):
    uninterrupted = _uninterrupted_history()
    assert uninterrupted["ortho_factor"] == pytest.approx(
        [0.5, 5e-4, 5e-5, 5e-5, 0.0], rel=1e-12
    )
    model = _seeded_model()
    _resume_fit(model, _resume_schedule(), SPLIT_EPOCH)
    model.save(tmp_path / "model.keras")

    loaded = keras.saving.load_model(tmp_path / "model.keras")
    regularizer = loaded.layers[0].kernel.regularizer
    # The current factor and the factor the schedule started from.
    assert regularizer.factor == pytest.approx(5e-5, rel=1e-12)
    assert regularizer.initial_factor == 0.5
    resumed = _resume_fit(
        loaded, _resume_schedule(), RESUME_EPOCHS, initial_epoch=SPLIT_EPOCH
    )
    _assert_resumed_as_uninterrupted(resumed, uninterrupted)


@pytest.mark.parametrize("rebuilt", [False, True], ids=["same_model", "rebuilt"])
def test_resume_from_backup_and_restore_matches_an_uninterrupted_run(tmp_path, rebuilt):
    uninterrupted = _uninterrupted_history()
    model = _seeded_model()
    with pytest.raises(RuntimeError, match="Interrupted"):
        _resume_fit(
            model,
            _resume_schedule(),
            RESUME_EPOCHS,
            extra_callbacks=[
                keras.callbacks.BackupAndRestore(tmp_path / "backup"),
                _Interrupt(),
            ],
        )
    if rebuilt:
        # As in a new process: the same code builds the model anew.
        model = _model()
    # A new schedule and a new backup callback, as a restarted script makes.
    resumed = _resume_fit(
        model,
        _resume_schedule(),
        RESUME_EPOCHS,
        extra_callbacks=[keras.callbacks.BackupAndRestore(tmp_path / "backup")],
    )
    _assert_resumed_as_uninterrupted(resumed, uninterrupted)


def test_initial_factor_none_starts_a_new_schedule_from_the_current_factor():
    model = _model()
    _fit(model, _resume_schedule(), epochs=2, jit_compile=False)
    for layer in model.layers:
        layer.kernel.regularizer.initial_factor = None

    history = _fit(model, _resume_schedule(), epochs=2, jit_compile=False)

    np.testing.assert_allclose(history["ortho_factor"], [5e-4, 5e-7], rtol=1e-12)


@pytest.mark.multi_device
@pytest.mark.skipif(BACKEND == "torch", reason="one device on torch")
def test_the_schedule_applies_under_a_distribution():
    # The rebuilt steps must pick up the new factor on every replica: under
    # `tf.distribute.MirroredStrategy` (model and optimizer built in its scope)
    # and JAX `keras.distribution.DataParallel`. 8 samples split over the 4
    # (TensorFlow) or 8 (JAX) devices.
    multipliers = [1.0, 0.1, 0.1]

    def fit():
        model = _model()
        model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
        history = model.fit(
            np.zeros((8, 4), "float32"),
            np.zeros((8, 5), "float32"),
            batch_size=8,
            epochs=len(multipliers),
            verbose=0,
            callbacks=[
                callbacks.RegularizerSchedule(lambda epoch, f: f * multipliers[epoch])
            ],
        )
        return model, history.history

    if BACKEND == "tensorflow":
        from tests.losses.test_multi_device import _strategy

        with _strategy().scope():
            model, history = fit()
    else:
        keras.distribution.set_distribution(
            keras.distribution.DataParallel(devices=keras.distribution.list_devices())
        )
        try:
            model, history = fit()
        finally:
            keras.distribution.set_distribution(None)
    penalty = sum(_penalties(model))
    np.testing.assert_allclose(
        history["loss"], [0.5 * m * penalty for m in multipliers], rtol=1e-5
    )
