"""Hard orthogonality constraints for any Keras kernel."""

from keras_ortho.constraints.attach import attach
from keras_ortho.constraints.orthogonal import Orthogonal
from keras_ortho.constraints.orthogonal import orthogonal_projection

__all__ = [
    "Orthogonal",
    "attach",
    "orthogonal_projection",
]
