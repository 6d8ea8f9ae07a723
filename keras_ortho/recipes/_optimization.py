"""A run's optimizer and learning-rate schedule, from its
`OptimizationSettings`."""

import keras

from keras_ortho.optimizers import CoupledWeightDecaySGD
from keras_ortho.optimizers.schedules import WarmupMultiStepDecay
from keras_ortho.recipes._resumable_plateau import ResumablePlateau


def make_optimizer(settings, steps_per_epoch):
    """SGD with the learning-rate schedule and weight decay of `settings`.

    Args:
        settings: the recipe's `OptimizationSettings`.
        steps_per_epoch: the training steps of one epoch, which turn the
            schedule's epochs into steps.

    Returns:
        A `keras.optimizers.Optimizer`: `CoupledWeightDecaySGD` for
        `weight_decay_mode="coupled"`, else `keras.optimizers.SGD`.
    """
    if settings.lr_schedule == "multistep":
        learning_rate = WarmupMultiStepDecay(
            settings.learning_rate,
            steps_per_epoch,
            milestones=settings.lr_milestones,
            decay=settings.lr_decay,
            warmup_epochs=settings.warmup_epochs,
        )
    else:
        learning_rate = settings.learning_rate
    if settings.weight_decay_mode == "coupled":
        return CoupledWeightDecaySGD(
            learning_rate,
            momentum=settings.momentum,
            nesterov=settings.nesterov,
            coupled_weight_decay=settings.weight_decay,
        )
    return keras.optimizers.SGD(
        learning_rate,
        momentum=settings.momentum,
        nesterov=settings.nesterov,
        weight_decay=settings.weight_decay or None,
    )


def schedule_callbacks(settings, history_path, monitor):
    """The callbacks that drive the learning rate of `settings`: with
    `lr_schedule="plateau"`, a `ResumablePlateau` on `monitor` (replayed
    from the log at `history_path` on resume); a multistep schedule lives in
    the optimizer and needs none."""
    if settings.lr_schedule != "plateau":
        return []
    return [
        ResumablePlateau(
            history_path,
            monitor=monitor,
            mode="max",
            factor=settings.lr_decay,
            patience=settings.plateau_patience,
            min_delta=1e-4,
        )
    ]
