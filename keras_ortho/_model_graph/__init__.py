"""The one walk through a model's layers, and the one rule for its classifier
head and features, shared by everything in keras_ortho that reads a model
(`attach`, `with_features`, the monitor, the report, the diagnostics and plots).

The walk reaches every layer Keras itself tracks, the layers that
`model.weights` and `model.losses` are gathered from: the layers of
Functional and Sequential graphs, the attributes of subclassed models, and
the sublayers of custom layers (keras-hub's transformer blocks, for example).

One module per concept: the walk and positions in it (`walk`), the kernels a
selection names (`kernels`), a kernel's layout read from Keras' caller
(`kernel_layouts`), and the classifier's head and features (`features`).
"""

from keras_ortho._model_graph.features import HEAD_KINDS
from keras_ortho._model_graph.features import Features
from keras_ortho._model_graph.features import feature_extractor
from keras_ortho._model_graph.features import find_features
from keras_ortho._model_graph.features import find_head
from keras_ortho._model_graph.kernel_layouts import KernelLayouts
from keras_ortho._model_graph.kernels import KERNEL_KINDS
from keras_ortho._model_graph.kernels import find_kernel
from keras_ortho._model_graph.kernels import select_kernels
from keras_ortho._model_graph.walk import ancestors
from keras_ortho._model_graph.walk import layer_at
from keras_ortho._model_graph.walk import layer_position
from keras_ortho._model_graph.walk import sublayers
from keras_ortho._model_graph.walk import walk_layers

__all__ = [
    "HEAD_KINDS",
    "KERNEL_KINDS",
    "Features",
    "KernelLayouts",
    "ancestors",
    "feature_extractor",
    "find_features",
    "find_head",
    "find_kernel",
    "layer_at",
    "layer_position",
    "select_kernels",
    "sublayers",
    "walk_layers",
]
