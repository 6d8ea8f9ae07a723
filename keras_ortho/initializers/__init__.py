"""Orthogonal initializers for any Keras kernel, the same on every backend."""

from keras_ortho.initializers.delta_orthogonal import DeltaOrthogonal
from keras_ortho.initializers.orthogonal_filters import OrthogonalFilters

__all__ = [
    "DeltaOrthogonal",
    "OrthogonalFilters",
]
