"""An orthogonal filter matrix for any Keras kernel, the same on every backend."""

import keras
import numpy as np
from keras import ops

from keras_ortho._export import register_serializable
from keras_ortho._kernel_matrix import filter_groups
from keras_ortho._kernel_matrix import kernel_from_filter_groups
from keras_ortho._kernel_matrix import validate_kernel_layout
from keras_ortho._validation import validate_positive_float
from keras_ortho.constraints.orthogonal import resolve_kernel_layout
from keras_ortho.initializers._haar import generator
from keras_ortho.initializers._haar import haar_orthogonal
from keras_ortho.initializers._haar import validate_seed


@register_serializable
class OrthogonalFilters(keras.initializers.Initializer):
    """Initializes a kernel with an orthogonal filter matrix.

    The kernel's filter matrix `W` `(fan_in, filters)`, one column per output
    filter (see `keras_ortho.regularizers.SoftOrthogonality`), is drawn
    uniformly (Haar) among the matrices with orthonormal columns (rows when
    the layer has more filters than `fan_in`), times `gain`:

    ```
    A ~ N(0, 1)^(max x min),  A = Q R,  W = gain * Q diag(sign(diag(R)))
    (transposed when filters > fan_in)
    ```

    A depthwise kernel gets one such matrix `(kh * kw, multiplier)` per input
    channel. This is the starting point `keras_ortho.constraints.Orthogonal`
    keeps: with both, the kernel is orthogonal from the first step on.

    Unlike `keras.initializers.Orthogonal`, which flattens every kernel as
    `(prod(shape[:-1]), shape[-1])` (wrong for transposed and depthwise
    kernels) and draws with the backend's random generator, the values are
    drawn with NumPy's PCG64 generator: one seed gives the same kernel on
    TensorFlow, JAX and PyTorch. As with Keras' initializers, an integer
    `seed` gives the same values on every call; `seed=None` draws a new seed
    from Python's global RNG each call (reproducible after
    `keras.utils.set_random_seed`).

    Args:
        gain: the scale of the filter matrix, a finite number > 0 (default 1).
        seed: `None` or an integer >= 0.
        kernel_layout: how the kernel is stored: `"dense"`, `"conv"`,
            `"conv_transpose"`, `"depthwise"`, or `"auto"` (default), which
            reads a 2-D kernel as Dense and refuses any other rather than
            guess.

    Example:

    ```python
    layer = keras.layers.Conv2DTranspose(
        32,
        3,
        kernel_initializer=keras_ortho.initializers.OrthogonalFilters(
            kernel_layout="conv_transpose", seed=0
        ),
    )
    ```

    Reference:
        A. M. Saxe, J. L. McClelland, S. Ganguli, "Exact solutions to the
        nonlinear dynamics of learning in deep linear neural networks",
        ICLR 2014. F. Mezzadri, "How to generate random matrices from the
        classical compact groups", Notices of the AMS 54(5), 2007.
    """

    def __init__(self, gain=1.0, seed=None, kernel_layout="auto"):
        self.gain = validate_positive_float(gain, "gain")
        self.seed = validate_seed(seed)
        self.kernel_layout = validate_kernel_layout(kernel_layout)

    def __call__(self, shape, dtype=None):
        shape = tuple(int(size) for size in shape)
        template = np.zeros(shape, dtype="float32")
        layout = resolve_kernel_layout(
            template, self.kernel_layout, "OrthogonalFilters"
        )
        group_shape = tuple(filter_groups(template, layout).shape)
        groups = haar_orthogonal(generator(self.seed), group_shape) * self.gain
        kernel = kernel_from_filter_groups(
            ops.convert_to_tensor(groups.astype("float32")), shape, layout
        )
        return ops.cast(kernel, dtype or keras.config.floatx())

    def get_config(self):
        return {
            "gain": self.gain,
            "seed": self.seed,
            "kernel_layout": self.kernel_layout,
        }
