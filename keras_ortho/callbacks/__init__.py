"""Training callbacks."""

from keras_ortho.callbacks.orthogonality_monitor import OrthogonalityMonitor
from keras_ortho.callbacks.regularizer_schedule import RegularizerSchedule

__all__ = [
    "OrthogonalityMonitor",
    "RegularizerSchedule",
]
