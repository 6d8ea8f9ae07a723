"""Kernel-orthogonality regularizers for any Keras kernel."""

from keras_ortho.regularizers._base import OrthogonalityRegularizer
from keras_ortho.regularizers.soft_orthogonality import SoftOrthogonality
from keras_ortho.regularizers.soft_orthogonality import soft_orthogonality
