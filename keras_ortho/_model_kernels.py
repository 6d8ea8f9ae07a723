"""The kernels of a model that the diagnostics and plots measure: every kernel
`keras_ortho.regularizers.attach` reaches, in layer order, its filter matrix
in float64, and the cosines between its filters."""

import keras
import numpy as np
from keras import ops

from keras_ortho._kernel_matrix import filter_matrix
from keras_ortho._kernel_matrix import regularizable_kernels
from keras_ortho._model_graph import walk_layers


def model_kernels(model):
    """`[(layer, RegularizableKernel)]` for every kernel of `model` (nested
    models and the sublayers of custom layers included, each layer once)."""
    if not isinstance(model, keras.layers.Layer):
        raise TypeError(
            "Invalid type for argument `model`: expected a keras.Model or "
            f"keras.layers.Layer. Received: model of type {type(model).__name__}"
        )
    return [
        (layer, kernel)
        for layer in walk_layers(model)
        for kernel in regularizable_kernels(layer)
    ]


def filter_matrix_float64(variable, kernel_layout):
    """The filter matrix `W` `(fan_in, filters)` of a kernel, as float64 NumPy."""
    matrix = ops.convert_to_numpy(filter_matrix(variable, kernel_layout))
    return np.asarray(matrix, "float64")


def filter_cosines(matrix):
    """`Ŵ^T Ŵ`, the cosines between the columns (filters) of `matrix`; a zero
    filter has cosine 0 with every filter, itself included."""
    norms = np.linalg.norm(matrix, axis=0)
    unit = matrix / np.where(norms > 0, norms, 1.0)
    return unit.T @ unit
