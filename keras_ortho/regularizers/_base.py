"""The base class every kernel-orthogonality regularizer derives from."""

import keras
from keras import ops

from keras_ortho._kernel_matrix import KERNEL_LAYOUTS
from keras_ortho._validation import validate_choice
from keras_ortho._validation import validate_non_negative_float


class OrthogonalityRegularizer(keras.regularizers.Regularizer):
    """`factor * penalty(kernel)`, computed in float32 whatever the kernel dtype.

    Subclasses implement `penalty(kernel)`, which receives the kernel in its
    Keras layout cast to float32 and returns a float32 scalar, and extend
    `get_config` with their own options.

    `factor` is read when the training step is traced, so a change made during
    training takes effect once the step is compiled again:
    `keras_ortho.callbacks.RegularizerSchedule` does both. A factor of 0 skips
    the penalty's computation altogether.

    `initial_factor` is the factor a schedule computes the current `factor`
    from: `RegularizerSchedule` sets it to `factor` when it first meets the
    regularizer (`None` until then) and saves it in the config, so that a
    model loaded from a `.keras` file resumes its schedule from the same
    starting factor. Set it back to `None` to start a new schedule from the
    current factor.

    Args:
        factor: the weight of the penalty, a finite number >= 0.
        kernel_layout: how the kernel is stored: `"auto"` (a 2-D weight is a
            Dense kernel, anything else a plain convolution kernel), `"dense"`,
            `"conv"`, `"conv_transpose"` or `"depthwise"`. Pass
            `"conv_transpose"` on Conv*Transpose layers and `"depthwise"` on
            depthwise kernels; `keras_ortho.regularizers.attach` sets it for
            you.
    """

    def __init__(self, factor, kernel_layout="auto"):
        self.factor = factor
        self.initial_factor = None
        self.kernel_layout = validate_choice(
            kernel_layout, "kernel_layout", KERNEL_LAYOUTS
        )

    @property
    def factor(self):
        return self._factor

    @factor.setter
    def factor(self, value):
        self._factor = validate_non_negative_float(value, "factor")

    def __call__(self, kernel):
        if self.factor == 0.0:
            return ops.zeros((), dtype="float32")
        kernel = ops.cast(kernel, "float32")
        return ops.multiply(
            ops.convert_to_tensor(self.factor, dtype="float32"), self.penalty(kernel)
        )

    def penalty(self, kernel):
        """The unweighted penalty of a float32 `kernel`: a float32 scalar."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement `penalty(kernel)`."
        )

    def get_config(self):
        config = {"factor": self.factor, "kernel_layout": self.kernel_layout}
        if self.initial_factor is not None:
            config["initial_factor"] = self.initial_factor
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        initial_factor = config.pop("initial_factor", None)
        regularizer = cls(**config)
        if initial_factor is not None:
            regularizer.initial_factor = validate_non_negative_float(
                initial_factor, "initial_factor"
            )
        return regularizer

    def __repr__(self):
        options = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({options})"
