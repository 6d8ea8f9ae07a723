"""Optimizers and learning-rate schedules of the reference training recipes."""

from keras_ortho.optimizers import schedules
from keras_ortho.optimizers.coupled_weight_decay_sgd import CoupledWeightDecaySGD

__all__ = [
    "CoupledWeightDecaySGD",
    "schedules",
]
