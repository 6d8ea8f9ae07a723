"""keras_ortho: orthogonality constraints for image classification in Keras 3."""

from keras_ortho import callbacks
from keras_ortho import constraints
from keras_ortho import data
from keras_ortho import diagnostics
from keras_ortho import initializers
from keras_ortho import layers
from keras_ortho import losses
from keras_ortho import metrics
from keras_ortho import models
from keras_ortho import optimizers
from keras_ortho import plots
from keras_ortho import recipes
from keras_ortho import regularizers

__version__ = "0.1.0"

__all__ = [
    "callbacks",
    "constraints",
    "data",
    "diagnostics",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "models",
    "optimizers",
    "plots",
    "recipes",
    "regularizers",
]
