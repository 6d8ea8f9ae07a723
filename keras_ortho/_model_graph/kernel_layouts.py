"""Finding the layout of a kernel that Keras hands a regularizer or a
constraint, from Keras' own caller on the stack."""

import sys
import weakref

import keras

from keras_ortho._model_graph.kernels import KERNEL_KINDS
from keras_ortho._model_graph.kernels import find_kernel

# Keras calls a weight's regularizer from here, on the variable or, in a
# stateless scope (JAX's traced train step), on its current value.
_REGULARIZATION_LOSSES = keras.Layer._get_regularization_losses.__code__
# How far up the stack Keras' caller is looked for: the optimizer applies
# constraints about ten frames below the trainer's `train_step`.
_MAX_FRAMES = 30


class KernelLayouts:
    """The layouts of the kernels Keras applies a regularizer or a constraint
    to, read from the layer that holds each kernel, once per kernel.

    Keras hands a regularizer or a constraint the kernel alone, never its
    layer, and a rank-4 kernel may be a convolution's, a transposed
    convolution's or a depthwise one's. The layer is found through Keras'
    own caller on the stack: `Layer._get_regularization_losses` (which holds
    the variable and the layer, possibly a model) for a regularizer, the
    trainer's `train_step` (which holds the model) for a constraint. Both are
    private frames; the regularizer and constraint tests train a model on
    every backend, so a change in Keras fails them.
    """

    def __init__(self):
        # id(variable) -> (weakref to the variable, its layout).
        self._found = {}

    def layout(self, kernel, owner):
        """The layout of `kernel` in the layer holding it, or `None` when no
        Keras caller holds it (a call on a tensor, a custom training loop).

        Raises a ValueError, naming `owner` (the regularizer or constraint
        class) and `kernel_layout=`, when the layer is one whose kernel
        layout keras_ortho does not know.
        """
        layout = self._cached(kernel)
        if layout is not None:
            return layout
        variable, holder = _keras_caller(kernel)
        if variable is None:
            return None
        layout = self._cached(variable)
        if layout is not None:
            return layout
        located = find_kernel(holder, variable)
        if located is None:
            raise ValueError(
                f"{owner}(kernel_layout='auto') cannot tell how kernel "
                f"{variable.path!r} of shape {tuple(variable.shape)} is stored: "
                f"it is not the kernel of one of the {KERNEL_KINDS}. Pass "
                "`kernel_layout=`: 'conv' (*spatial, in, out), 'conv_transpose' "
                "(*spatial, out, in), 'depthwise' (*spatial, in, multiplier) or "
                "an EinsumDense equation such as 'abc,cde->abde'."
            )
        layout = located[1].kernel_layout
        self._found[id(variable)] = (weakref.ref(variable), layout)
        return layout

    def _cached(self, variable):
        found = self._found.get(id(variable))
        if found is not None and found[0]() is variable:
            return found[1]
        return None


def _keras_caller(kernel):
    """`(variable, layer or model holding it)` from the Keras frame applying a
    regularizer or constraint to `kernel`, else `(None, None)`."""
    frame = sys._getframe(1)
    for _ in range(_MAX_FRAMES):
        if frame is None:
            break
        if frame.f_code is _REGULARIZATION_LOSSES:
            return frame.f_locals.get("variable"), frame.f_locals.get("self")
        holder = frame.f_locals.get("self")
        if (
            frame.f_code.co_name == "train_step"
            and isinstance(holder, keras.Model)
            and isinstance(kernel, keras.Variable)
        ):
            return kernel, holder
        frame = frame.f_back
    return None, None
