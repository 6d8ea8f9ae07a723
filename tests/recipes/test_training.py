import csv
import dataclasses
import json
import math
import os
import threading

import keras
import numpy as np
import pytest

from keras_ortho.data import Dataset
from keras_ortho.optimizers import CoupledWeightDecaySGD
from keras_ortho.recipes import RECIPE_NAMES
from keras_ortho.recipes import AugmentationSettings
from keras_ortho.recipes import compare
from keras_ortho.recipes import format_table
from keras_ortho.recipes import get_recipe
from keras_ortho.recipes import train
from keras_ortho.recipes._batches import EpochShuffledBatches
from keras_ortho.recipes._optimization import make_optimizer
from keras_ortho.recipes._training_model import augmentation_layers
from tests.toolkit import to_numpy

BACKEND = keras.backend.backend()
# One XLA-compiled fit per recipe on JAX (the backend the demo uses); the
# torch.compile and TF XLA variants of the same graphs would cost minutes.
JIT_COMPILE = BACKEND == "jax"


def synthetic_dataset(num_train=32, num_test=20, size=16, num_classes=10):
    rng = np.random.default_rng(0)
    return Dataset(
        x_train=rng.integers(0, 256, (num_train, size, size, 3), dtype=np.uint8),
        y_train=np.arange(num_train, dtype=np.int64) % num_classes,
        x_test=rng.integers(0, 256, (num_test, size, size, 3), dtype=np.uint8),
        y_test=np.arange(num_test, dtype=np.int64) % num_classes,
        num_classes=num_classes,
        class_names=None,
        name="synthetic",
    )


def tiny(name, **changes):
    """The preset at test size: 2 steps of 8 images, the smallest network of
    its family (ResNet-18 recipes run on ResNet-8: their head, loss,
    optimiser and schedule are what is tested here)."""
    recipe = get_recipe(name)
    small = {"epochs": 1, "batch_size": 8, "steps_per_epoch": 2}
    if recipe.network.model == "wide_resnet":
        small.update(depth=10, width=1)
    else:
        small.update(model="resnet_cifar", depth=8)
    return recipe.replace(**{**small, "jit_compile": JIT_COMPILE, **changes})


class RecordsJitCompile(keras.callbacks.Callback):
    """Records whether `fit` really compiled the training model: Keras turns
    `jit_compile` off, with only a warning, for layers that do not support
    it."""

    def on_train_begin(self, logs=None):
        self.jit_compile = self.model.jit_compile


@pytest.mark.parametrize("name", RECIPE_NAMES)
def test_every_recipe_fits(name, tmp_path):
    recipe = tiny(name)
    compiled = RecordsJitCompile()
    run = train(
        recipe, tmp_path, dataset=synthetic_dataset(), verbose=0, callbacks=[compiled]
    )
    assert compiled.jit_compile is JIT_COMPILE

    assert all(math.isfinite(v) for v in run.history["loss"])
    results = run.results
    assert results["recipe"] == name and results["test_images"] == 20
    for key in ("test_accuracy", "ece", "feature_s", "feature_d"):
        assert math.isfinite(results[key])
    assert 0 <= results["test_accuracy"] <= 1 and 0 <= results["ece"] <= 1
    assert results["filter_so_residual"] > 0 and 0 < results["filter_coherence"] <= 1

    # The backup is removed once training finishes; the results are written.
    assert not os.path.exists(tmp_path / "backup")
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved[0]["method"] == results["method"]
    assert (tmp_path / "results.csv").read_text().startswith("recipe,method,")


def test_every_augmentation_fits_with_a_validation_split(tmp_path):
    recipe = tiny(
        "fixed_classifier",
        methods="fixed,so",
        randaugment_ops=2,
        cutout=4,
        mixup_alpha=1.0,
        cutmix_alpha=1.0,
        validation_fraction=0.25,
    )
    compiled = RecordsJitCompile()
    run = train(
        recipe, tmp_path, dataset=synthetic_dataset(), verbose=0, callbacks=[compiled]
    )
    assert compiled.jit_compile is JIT_COMPILE
    assert all(math.isfinite(v) for v in run.history["loss"])
    assert math.isfinite(run.history["val_loss"][0])
    assert 0 <= run.results["test_accuracy"] <= 1


def test_augmentation_order():
    def layer_names(settings):
        return [type(layer).__name__ for layer in augmentation_layers(settings)]

    settings = AugmentationSettings(randaugment_ops=1, cutout=8)
    assert layer_names(settings) == [
        "RandomPadCrop",
        "RandomHorizontalFlip",
        "RandAugment",
        "Cutout",
    ]
    bare = dataclasses.replace(
        settings, crop_padding=0, horizontal_flip=False, randaugment_ops=0
    )
    assert layer_names(bare) == ["Cutout"]


class RecordsBatchEndThreads(keras.callbacks.Callback):
    """Records the threads `fit` runs batch ends on. It only adds to a set,
    which any thread may do, so it is async-safe and leaves Keras' choice of
    dispatch to the recipe's own callbacks."""

    async_safe = True

    def __init__(self):
        super().__init__()
        self.threads = set()

    def on_train_batch_end(self, batch, logs=None):
        self.threads.add(threading.current_thread())


def test_fit_runs_batch_ends_asynchronously(tmp_path):
    # Keras runs batch ends on a thread pool, so that the next step is
    # dispatched while the last one's logs are read, on the thread-safe
    # backends (JAX, torch), unless a callback with a batch hook is not
    # async-safe: Keras' BackupAndRestore has one, the recipe's backup is safe.
    recorder = RecordsBatchEndThreads()
    train(
        tiny("demo"),
        tmp_path,
        dataset=synthetic_dataset(),
        verbose=0,
        callbacks=[recorder],
    )
    assert recorder.threads
    on_this_thread = recorder.threads == {threading.current_thread()}
    assert on_this_thread == (BACKEND == "tensorflow")


def test_mixing_draws_depend_only_on_seed_epoch_and_batch():
    dataset = synthetic_dataset()
    mixing = get_recipe("demo", cutmix_alpha=1.0).augmentation.mixing

    def batches():
        return EpochShuffledBatches(
            dataset.x_train,
            dataset.y_train,
            8,
            seed=3,
            targets=None,
            mixing=mixing,
            num_classes=10,
        )

    first, second = batches(), batches()
    first.set_epoch(2)
    second.set_epoch(2)
    # Batches read out of order give the same draws.
    expected = [first[i] for i in range(len(first))]
    for index in reversed(range(len(second))):
        (inputs, labels), (want_inputs, want_labels) = second[index], expected[index]
        for key in want_inputs:
            np.testing.assert_array_equal(inputs[key], want_inputs[key])
        np.testing.assert_array_equal(labels, want_labels)
    first.set_epoch(3)
    assert not np.array_equal(first[0][1], expected[0][1])


def test_make_optimizer():
    recipe = get_recipe("opl_cifar100")
    coupled = make_optimizer(recipe.optimization, steps_per_epoch=391)
    assert isinstance(coupled, CoupledWeightDecaySGD)
    assert coupled.coupled_weight_decay == 5e-4 and coupled.momentum == 0.9
    schedule = coupled.get_config()["learning_rate"]["config"]
    assert schedule["steps_per_epoch"] == 391 and schedule["warmup_epochs"] == 1

    decoupled = make_optimizer(
        recipe.replace(weight_decay_mode="decoupled").optimization, 391
    )
    assert isinstance(decoupled, keras.optimizers.SGD)
    assert not isinstance(decoupled, CoupledWeightDecaySGD)
    assert decoupled.weight_decay == 5e-4

    plateau = make_optimizer(get_recipe("fixed_classifier").optimization, 100)
    assert plateau.nesterov
    assert float(to_numpy(plateau.learning_rate)) == pytest.approx(0.1)


class Interrupted(Exception):
    pass


class InterruptAt(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise Interrupted(epoch)


@pytest.mark.skipif(BACKEND != "jax", reason="the resume test runs on JAX (CPU)")
def test_interrupted_run_resumes_to_the_same_weights(tmp_path):
    # Every random input of a step: the batch order, the crop, flip and
    # RandAugment draws on the device, the MixUp/CutMix draws on the host;
    # and the optimizer's state.
    recipe = tiny(
        "demo",
        methods="so",
        randaugment_ops=1,
        mixup_alpha=1.0,
        cutmix_alpha=1.0,
        epochs=3,
        steps_per_epoch=None,
    )
    dataset = synthetic_dataset()

    uninterrupted = train(recipe, tmp_path / "a", dataset=dataset, verbose=0)

    with pytest.raises(Interrupted):
        train(
            recipe,
            tmp_path / "b",
            dataset=dataset,
            verbose=0,
            callbacks=[InterruptAt(2)],
        )
    metadata = json.loads(
        (tmp_path / "b" / "backup" / "training_metadata.json").read_text()
    )
    assert metadata["epoch"] == 2
    resumed = train(recipe, tmp_path / "b", dataset=dataset, verbose=0)

    # Only the third epoch ran after the resume.
    assert len(resumed.history["loss"]) == 1
    assert len(uninterrupted.history["loss"]) == 3
    for expected, actual in zip(
        uninterrupted.model.weights, resumed.model.weights, strict=True
    ):
        np.testing.assert_array_equal(to_numpy(actual), to_numpy(expected))


def _logged(run_dir, column):
    with open(run_dir / "history.csv", newline="") as handle:
        return [float(row[column]) for row in csv.DictReader(handle)]


def test_resumed_plateau_schedule_decays_as_the_uninterrupted_one(tmp_path):
    # Patience 2 on a validation accuracy that barely moves: decays every few
    # epochs, so a resume that forgot the counters (best, wait) would decay
    # two epochs late.
    recipe = tiny(
        "demo",
        methods="ce",
        lr_schedule="plateau",
        plateau_patience=2,
        lr_decay=0.5,
        validation_fraction=0.25,
        epochs=7,
        steps_per_epoch=1,
    )
    dataset = synthetic_dataset()
    train(recipe, tmp_path / "a", dataset=dataset, verbose=0)
    with pytest.raises(Interrupted):
        train(
            recipe,
            tmp_path / "b",
            dataset=dataset,
            verbose=0,
            callbacks=[InterruptAt(4)],
        )
    train(recipe, tmp_path / "b", dataset=dataset, verbose=0)

    rates = _logged(tmp_path / "a", "learning_rate")
    # The schedule decays after the resume point, from counters set before it.
    assert rates[4] == rates[3] > rates[6]
    assert _logged(tmp_path / "b", "learning_rate") == rates
    assert _logged(tmp_path / "b", "val_accuracy") == _logged(
        tmp_path / "a", "val_accuracy"
    )


def test_compare_writes_a_table(tmp_path):
    recipe = tiny("demo")
    results = compare(
        recipe, ["ce", "so,fixed"], tmp_path, dataset=synthetic_dataset(), verbose=0
    )
    assert [r["method"] for r in results] == ["ce", "so+fixed"]
    assert os.path.exists(tmp_path / "so+fixed" / "results.json")
    assert len(json.loads((tmp_path / "results.json").read_text())) == 2
    lines = format_table(results).splitlines()
    assert lines[0].split()[:3] == ["method", "test", "acc"]
    assert [line.split()[0] for line in lines[2:]] == ["ce", "so+fixed"]
