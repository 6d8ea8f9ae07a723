import numpy as np
import pytest

from keras_ortho.optimizers.schedules import WarmupMultiStepDecay
from tests.toolkit import to_numpy


def reference_learning_rate(step, base, steps_per_epoch, milestones, decay, warmup):
    """The OPL CIFAR schedule, step by step: per-iteration warm-up
    `base * iteration / total`, then MultiStepLR stepped with the epoch."""
    warmup_steps = warmup * steps_per_epoch
    if step < warmup_steps:
        return base * step / warmup_steps
    epoch = step // steps_per_epoch
    rate = base
    for milestone in milestones:
        if epoch >= milestone:
            rate *= decay
    return rate


@pytest.mark.parametrize("warmup", [0, 1, 2])
def test_matches_numpy_reference(warmup):
    schedule = WarmupMultiStepDecay(
        0.1, steps_per_epoch=7, milestones=(3, 5, 8), decay=0.2, warmup_epochs=warmup
    )
    for step in range(70):
        expected = reference_learning_rate(step, 0.1, 7, (3, 5, 8), 0.2, warmup)
        np.testing.assert_allclose(to_numpy(schedule(step)), expected, rtol=1e-6)


def test_opl_recipe_values():
    # OPL CIFAR-100: lr 0.1, then 0.02 from epoch 60, 0.004 from 120, 0.0008
    # from 160 (research notes, opl.md section 2); 391 steps per epoch.
    schedule = WarmupMultiStepDecay(
        0.1, steps_per_epoch=391, milestones=(60, 120, 160), warmup_epochs=1
    )
    points = {0: 0.0, 391: 0.1, 60 * 391 - 1: 0.1, 60 * 391: 0.02}
    points.update({120 * 391: 0.004, 160 * 391: 0.0008, 199 * 391: 0.0008})
    for step, expected in points.items():
        np.testing.assert_allclose(to_numpy(schedule(step)), expected, rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"initial_learning_rate": 0.0}, ValueError),
        ({"steps_per_epoch": 0}, ValueError),
        ({"milestones": (5, 3)}, ValueError),
        ({"milestones": 5}, TypeError),
        ({"decay": -0.1}, ValueError),
        ({"warmup_epochs": 1.5}, TypeError),
    ],
)
def test_invalid_arguments(kwargs, error):
    arguments = {"initial_learning_rate": 0.1, "steps_per_epoch": 10, **kwargs}
    with pytest.raises(error, match=next(iter(kwargs))):
        WarmupMultiStepDecay(**arguments)
