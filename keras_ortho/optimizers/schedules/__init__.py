"""Learning-rate schedules, as `keras.optimizers.schedules` keeps them."""

from keras_ortho.optimizers.schedules.warmup_multi_step_decay import (
    WarmupMultiStepDecay,
)

__all__ = [
    "WarmupMultiStepDecay",
]
