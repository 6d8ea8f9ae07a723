"""The backend-specific switches of keras_ortho/_distribute that need no
devices: XLA's CPU scheduler on TensorFlow, asked for by every recipe."""

import os

import keras
import numpy as np
import pytest

from keras_ortho import _distribute
from keras_ortho import data
from keras_ortho.recipes import get_recipe
from keras_ortho.recipes import training

FLAG = _distribute.XLA_CPU_SCHEDULER_FLAG
OTHER_FLAG = "--xla_cpu_enable_fast_math=false"


def test_ordered_schedule_is_asked_for_on_tensorflow_only(monkeypatch):
    monkeypatch.setenv("XLA_FLAGS", OTHER_FLAG)
    _distribute.prefer_ordered_xla_cpu_schedule()
    if keras.backend.backend() == "tensorflow":
        assert os.environ["XLA_FLAGS"] == f"{OTHER_FLAG} {FLAG}=false"
    else:
        assert os.environ["XLA_FLAGS"] == OTHER_FLAG


def test_a_scheduler_flag_the_user_set_wins(monkeypatch):
    # On TensorFlow, where the flag would otherwise be added: the switch reads
    # only the backend's name and `XLA_FLAGS`, so every backend runs it.
    monkeypatch.setattr(keras.backend, "backend", lambda: "tensorflow")
    monkeypatch.setenv("XLA_FLAGS", f"{FLAG}=true")
    _distribute.prefer_ordered_xla_cpu_schedule()
    assert os.environ["XLA_FLAGS"] == f"{FLAG}=true"


class _StopBeforeTraining(Exception):
    pass


@pytest.mark.parametrize("methods", ["ce", "so", "orth"])
def test_every_recipe_asks_before_anything_compiles(methods, monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr(
        training, "prefer_ordered_xla_cpu_schedule", lambda: calls.append(methods)
    )

    def stop(*args, **kwargs):
        raise _StopBeforeTraining

    # The data-parallel engine is chosen before the model is built.
    monkeypatch.setattr(training, "data_parallelism", stop)
    images = np.zeros((8, 32, 32, 3), "uint8")
    labels = np.arange(8) % 2
    dataset = data.Dataset(images, labels, images, labels, 2, None, "tiny")
    with pytest.raises(_StopBeforeTraining):
        training.train(get_recipe("demo", methods=methods), tmp_path, dataset=dataset)
    assert calls == [methods]
