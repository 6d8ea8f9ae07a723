"""Delta-orthogonal initialization of convolution kernels (Xiao et al., 2018)."""

import keras
import numpy as np
from keras import ops

from keras_ortho._export import register_serializable
from keras_ortho._validation import validate_positive_float
from keras_ortho.initializers._haar import generator
from keras_ortho.initializers._haar import haar_orthogonal
from keras_ortho.initializers._haar import validate_seed


@register_serializable
class DeltaOrthogonal(keras.initializers.Initializer):
    """Initializes a convolution kernel with an orthogonal matrix at its
    spatial centre and zeros elsewhere.

    For a kernel `(*spatial, cin, cout)`:

    ```
    K[centre] = gain * H,   K[x] = 0 for x != centre,   centre = spatial // 2
    ```

    with `H` `(cin, cout)` drawn uniformly (Haar) among the matrices with
    orthonormal rows (columns when `cin > cout`). The convolution then acts
    as `H^T` at every position: with stride 1 and `cin <= cout` it is an
    isometry, all its singular values `gain`, whatever the padding (exactly
    so for circular padding, and for zero padding since only the centre tap
    is non-zero). This is what lets Xiao et al. train 10,000-layer plain
    CNNs. For an even size the centre is `size // 2`. A 2-D (Dense) kernel
    gets `gain * H` itself.

    It reads the last two axes as the channel matrix, so it also suits
    transposed convolutions (`(*spatial, cout, cin)`: the same property
    holds for `H` transposed); a depthwise kernel, whose channels do not mix,
    has no orthogonal delta initialization other than `±gain` per channel.

    As with Keras' initializers, an integer `seed` gives the same values on
    every call; values are drawn with NumPy's PCG64 generator, so a seed gives
    the same kernel on TensorFlow, JAX and PyTorch.

    Args:
        gain: the scale of the centre matrix, a finite number > 0 (default 1).
        seed: `None` or an integer >= 0.

    Example:

    ```python
    layer = keras.layers.Conv2D(
        64, 3, padding="same",
        kernel_initializer=keras_ortho.initializers.DeltaOrthogonal(seed=0),
    )
    ```

    Reference:
        L. Xiao, Y. Bahri, J. Sohl-Dickstein, S. S. Schoenholz, J. Pennington,
        "Dynamical Isometry and a Mean Field Theory of CNNs: How to Train
        10,000-Layer Vanilla Convolutional Neural Networks", ICML 2018
        (Algorithm 2).
    """

    def __init__(self, gain=1.0, seed=None):
        self.gain = validate_positive_float(gain, "gain")
        self.seed = validate_seed(seed)

    def __call__(self, shape, dtype=None):
        shape = tuple(int(size) for size in shape)
        if not 2 <= len(shape) <= 5:
            raise ValueError(
                "Invalid `shape` for DeltaOrthogonal: expected a Dense or "
                f"convolution kernel shape of rank 2 to 5. Received: shape={shape}"
            )
        *spatial, channels, filters = shape
        centre_matrix = haar_orthogonal(generator(self.seed), (1, channels, filters))
        kernel = np.zeros(shape, dtype="float32")
        kernel[tuple(size // 2 for size in spatial)] = self.gain * centre_matrix[0]
        return ops.convert_to_tensor(kernel, dtype=dtype or keras.config.floatx())

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}
