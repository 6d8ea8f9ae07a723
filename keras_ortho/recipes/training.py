"""Running a recipe: data, model, `model.fit` with resumable backups, and the
evaluation every run reports."""

import dataclasses
import os
import time

import keras

from keras_ortho import data as ortho_data
from keras_ortho import models
from keras_ortho._distribute import ProcessShare
from keras_ortho._distribute import ReplicaSeeds
from keras_ortho._distribute import batch_norm_statistics
from keras_ortho._distribute import data_parallelism
from keras_ortho._distribute import prefer_ordered_xla_cpu_schedule
from keras_ortho._validation import validate_optional_path
from keras_ortho.models.with_features import FEATURES
from keras_ortho.models.with_features import LOGITS
from keras_ortho.recipes._batches import EpochSeeding
from keras_ortho.recipes._batches import EpochShuffledBatches
from keras_ortho.recipes._batches import ValidationBatches
from keras_ortho.recipes._data_splits import channel_statistics
from keras_ortho.recipes._data_splits import split_dataset
from keras_ortho.recipes._epoch_backup import EpochBackup
from keras_ortho.recipes._optimization import make_optimizer
from keras_ortho.recipes._optimization import schedule_callbacks
from keras_ortho.recipes._training_model import build_classifier
from keras_ortho.recipes._training_model import training_model
from keras_ortho.recipes.evaluation import evaluate
from keras_ortho.recipes.methods import method_components
from keras_ortho.recipes.methods import method_label
from keras_ortho.recipes.recipe import Recipe
from keras_ortho.recipes.recipe import per_device_batch_message
from keras_ortho.recipes.results import write_results
from keras_ortho.recipes.sample_mixing import MixingDraw

BACKUP_DIR = "backup"
HISTORY_FILE = "history.csv"
MODEL_FILE = "model.keras"


@dataclasses.dataclass(frozen=True)
class TrainingRun:
    """The outcome of `train`.

    Attributes:
        recipe: the recipe that ran.
        model: the trained classifier (images -> logits), without augmentation.
        history: `History.history` of the `fit` call (after a resume, only
            the epochs it ran).
        results: the evaluation dict written to `results.json`.
    """

    recipe: Recipe
    model: keras.Model
    history: dict
    results: dict


def _compile(model, optimizer, components, mixing, jit_compile):
    """Cross-entropy on the logits (on soft labels when `mixing` is on), the
    methods' feature loss on the features, and accuracy."""
    if mixing is None:
        cross_entropy = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        accuracy = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
    else:
        cross_entropy = keras.losses.CategoricalCrossentropy(from_logits=True)
        accuracy = keras.metrics.CategoricalAccuracy(name="accuracy")
    if components.feature_loss is None:
        loss, loss_weights, compiled_metrics = cross_entropy, None, [accuracy]
    else:
        loss = {LOGITS: cross_entropy, FEATURES: components.feature_loss}
        loss_weights = {
            LOGITS: 1.0,
            FEATURES: components.feature_loss_weight,
        }
        compiled_metrics = {LOGITS: [accuracy]}
    model.compile(
        optimizer=optimizer,
        loss=loss,
        loss_weights=loss_weights,
        metrics=compiled_metrics,
        jit_compile=jit_compile,
    )


def _targets(components):
    if components.feature_loss is None:
        return lambda labels: labels
    return models.feature_targets


def _validation_data(splits, mixing, components, num_classes):
    """The held-out images and their targets, in the training model's format
    (with an identity mixing draw and one-hot labels when mixing is on)."""
    if splits.x_val is None:
        return None
    if mixing is None:
        return splits.x_val, _targets(components)(splits.y_val)
    identity = MixingDraw.identity(len(splits.x_val))
    return (
        identity.model_inputs(splits.x_val),
        identity.soft_labels(splits.y_val, num_classes),
    )


def _local_copy(classifier):
    """The trained classifier with its weights on this process's default
    device: after a multi-process run they live on every process's devices,
    where a computation of one process alone cannot read them."""
    local = keras.models.clone_model(classifier)
    local.set_weights(classifier.get_weights())
    return local


def _check_even_split(batch_size, x_val, validation_fraction, replicas):
    """Every training batch, and every validation batch but the last (of
    `len(x_val) % batch_size` images), splits evenly among the replicas."""
    if batch_size % replicas:
        raise ValueError(per_device_batch_message(batch_size, replicas))
    if x_val is not None and len(x_val) % replicas:
        raise ValueError(
            f"Invalid recipe: the {len(x_val)} validation images do not split "
            f"evenly among {replicas} devices, as every batch must in "
            "data-parallel training. Choose a validation_fraction that holds "
            f"out a multiple of {replicas} images. Received: "
            f"validation_fraction={validation_fraction!r}"
        )


def train(recipe, run_dir, dataset=None, data_dir=None, verbose="auto", callbacks=()):
    """Trains `recipe` with `model.fit` on the active backend and evaluates it.

    The training set is split (seeded) into training and validation images,
    both optionally cut to `train_size`/`test_size`; the network normalises
    the uint8 images itself, with per-channel statistics of the training
    images, and augments them on the device. Every run keeps a
    `keras.callbacks.BackupAndRestore` backup in `run_dir/backup` (per epoch,
    with Keras' asynchronous batch-end callbacks left on): calling
    `train` again with the same `run_dir` after an interruption continues
    from the last completed epoch, with the batches and random draws
    (augmentation, dropout) an uninterrupted run would have seen: both are
    derived from the seed and the epoch. Epoch logs go to `run_dir/history.csv`,
    the trained classifier (images -> logits) to `run_dir/model.keras` and the
    evaluation to `run_dir/results.json` and `results.csv`.

    With `recipe.distribution="data_parallel"` the model trains on Keras'
    engine of the backend (docs/recipes/distributed_training.md): the same
    global batches, losses and updates, split among the devices.

    Args:
        recipe: a `keras_ortho.recipes.Recipe`.
        run_dir: the run's directory (created if needed).
        dataset: a `keras_ortho.data.Dataset` to train on; `None` loads
            `recipe.data.dataset` with `keras_ortho.data.load_dataset`.
        data_dir: passed to `load_dataset` when `dataset` is `None`.
        verbose: `model.fit`'s verbosity (`"auto"`: Keras' progress bar).
        callbacks: extra Keras callbacks, run after the recipe's own.

    Returns:
        A `TrainingRun`.

    Example:

    ```python
    # The demo recipe, cut to 128 training images and one epoch:
    recipe = keras_ortho.recipes.get_recipe(
        "demo", methods="opl", epochs=1, train_size=128, test_size=128
    )
    run = keras_ortho.recipes.train(recipe, "runs/demo_opl", verbose=0)
    print(run.results["test_accuracy"])
    ```
    """
    if not isinstance(recipe, Recipe):
        raise TypeError(
            "Invalid type for argument `recipe`: expected a "
            f"keras_ortho.recipes.Recipe. Received: recipe of type "
            f"{type(recipe).__name__}"
        )
    run_dir = validate_optional_path(run_dir, "run_dir")
    if run_dir is None:
        raise ValueError("Invalid value for argument `run_dir`: expected a path.")
    if dataset is None:
        dataset = ortho_data.load_dataset(recipe.data.dataset, data_dir=data_dir)
    elif not isinstance(dataset, ortho_data.Dataset):
        raise TypeError(
            "Invalid type for argument `dataset`: expected None or a "
            f"keras_ortho.data.Dataset. Received: dataset of type "
            f"{type(dataset).__name__}"
        )
    prefer_ordered_xla_cpu_schedule()
    parallelism = data_parallelism(
        recipe.distribution, recipe.devices, recipe.synchronized_batch_norm
    )
    # Process 0 writes the run's files; every other process of a
    # multi-process run keeps its own backup and log (what it needs to
    # resume) in a folder of its own.
    log_dir = run_dir
    if not parallelism.is_chief:
        log_dir = os.path.join(run_dir, f"process_{parallelism.process_index}")
    os.makedirs(log_dir, exist_ok=True)
    keras.utils.set_random_seed(recipe.seed)

    splits = split_dataset(dataset, recipe.data, recipe.seed)
    input_shape = tuple(splits.x_train.shape[1:])
    mean, std = channel_statistics(splits.x_train)
    components = method_components(
        recipe.orthogonality, dataset.num_classes, recipe.seed
    )
    mixing = recipe.augmentation.mixing
    batches = EpochShuffledBatches(
        splits.x_train,
        splits.y_train,
        recipe.data.batch_size,
        recipe.seed,
        _targets(components),
        max_batches=recipe.data.steps_per_epoch,
        mixing=mixing,
        num_classes=dataset.num_classes,
    )
    _check_even_split(
        batches.batch_size,
        splits.x_val,
        recipe.data.validation_fraction,
        parallelism.num_replicas,
    )
    jit_compile = recipe.jit_compile
    if not parallelism.xla:
        if jit_compile is True:
            raise ValueError(
                f"Invalid recipe: {parallelism.engine} over several CPU "
                "devices cannot compile the training step with XLA. Use "
                'jit_compile=False or "auto". Received: jit_compile=True'
            )
        jit_compile = False
    with parallelism.scope():
        classifier = build_classifier(
            recipe.network, dataset.num_classes, input_shape, mean, std, components
        )
        feature_model = models.with_features(classifier, feature_layer="features")
        model = training_model(
            classifier if components.feature_loss is None else feature_model,
            input_shape,
            recipe.augmentation,
            name=f"{classifier.name}_training",
        )
        optimizer = make_optimizer(recipe.optimization, len(batches))
        _compile(model, optimizer, components, mixing, jit_compile)

    validation_data = _validation_data(splits, mixing, components, dataset.num_classes)
    # Full validation batches split evenly among the devices.
    validation_batch_size = batches.batch_size
    if parallelism.process_count > 1 and not parallelism.engine_shards_input:
        shares = (parallelism.process_index, parallelism.process_count)
        batches = ProcessShare(batches, *shares)
        if validation_data is not None:
            validation_data = ProcessShare(
                ValidationBatches(validation_data, validation_batch_size), *shares
            )
        validation_batch_size = None
    history_path = os.path.join(log_dir, HISTORY_FILE)
    monitor = "val_accuracy"
    if components.feature_loss is not None:
        monitor = f"val_{LOGITS}_accuracy"
    fit_callbacks = [
        EpochBackup(os.path.join(log_dir, BACKUP_DIR)),
        EpochSeeding(batches, recipe.seed),
        *([ReplicaSeeds()] if parallelism.tensorflow_replicas else []),
        *components.callbacks,
        *schedule_callbacks(recipe.optimization, history_path, monitor),
        keras.callbacks.CSVLogger(history_path, append=True),
        *callbacks,
    ]

    start = time.perf_counter()
    with (
        parallelism.scope(),
        batch_norm_statistics(model, parallelism, recipe.synchronized_batch_norm),
    ):
        history = model.fit(
            batches,
            epochs=recipe.epochs,
            # The batches shuffle themselves, per epoch and seed; Keras' own
            # shuffle of the batch order draws from an unsaved global state.
            shuffle=False,
            validation_data=validation_data,
            validation_batch_size=validation_batch_size,
            callbacks=fit_callbacks,
            verbose=verbose,
        )
    train_seconds = time.perf_counter() - start
    # Saved and evaluated outside the engine's scope: JAX DataParallel would
    # shard every test batch, which the test set's size need not allow.
    if parallelism.process_count > 1:
        classifier = _local_copy(classifier)
        feature_model = models.with_features(classifier, feature_layer="features")
    if parallelism.is_chief:
        classifier.save(os.path.join(run_dir, MODEL_FILE))
    results = {
        "recipe": recipe.name,
        "method": method_label(recipe.orthogonality.methods),
        "dataset": dataset.name,
        "model": classifier.name,
        "backend": keras.backend.backend(),
        "engine": parallelism.engine,
        "replicas": parallelism.num_replicas,
        "processes": parallelism.process_count,
        "epochs": recipe.epochs,
        "train_images": len(splits.x_train),
        "test_images": len(splits.x_test),
        **evaluate(feature_model, splits.x_test, splits.y_test),
        "train_seconds": train_seconds,
        "settings": recipe.to_dict(),
    }
    if parallelism.is_chief:
        write_results([results], run_dir)
    return TrainingRun(recipe, classifier, history.history, results)
