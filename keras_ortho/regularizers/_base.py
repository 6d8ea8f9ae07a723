"""The base class every kernel-orthogonality regularizer derives from."""

import keras
from keras import ops

from keras_ortho._kernel_matrix import canonical_kernel
from keras_ortho._kernel_matrix import validate_kernel_layout
from keras_ortho._model_graph import KernelLayouts
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
        kernel_layout: how the kernel is stored: `"auto"`, `"dense"`,
            `"conv"`, `"conv_transpose"`, `"depthwise"` or an EinsumDense
            equation such as `"abc,cde->abde"`. With `"auto"`, a 2-D weight
            is a Dense kernel; a kernel of higher rank takes the layout of the
            layer that holds it (a `kernel_regularizer=` of Conv2DTranspose
            reads it as `"conv_transpose"`, a `depthwise_regularizer=` as
            `"depthwise"`, an EinsumDense kernel by its equation), and a
            ValueError asks for `kernel_layout` when that layer is of another
            kind. Called directly on a tensor, `"auto"` reads rank 3 to 5 as
            a plain convolution kernel. `keras_ortho.regularizers.attach` sets
            the layout of each kernel for you.
    """

    def __init__(self, factor, kernel_layout="auto"):
        self.factor = factor
        self.initial_factor = None
        self.kernel_layout = validate_kernel_layout(kernel_layout)
        self._kernel_layouts = KernelLayouts()

    @property
    def factor(self):
        return self._factor

    @factor.setter
    def factor(self, value):
        self._factor = validate_non_negative_float(value, "factor")

    def __call__(self, kernel):
        if self.factor == 0.0:
            return ops.zeros((), dtype="float32")
        if self.kernel_layout == "auto" and len(kernel.shape) > 2:
            # `penalty` reads "auto" right on a plain convolution kernel.
            kernel = canonical_kernel(kernel, self._layout_of(kernel))
        kernel = ops.cast(kernel, "float32")
        return ops.multiply(
            ops.convert_to_tensor(self.factor, dtype="float32"), self.penalty(kernel)
        )

    def _layout_of(self, kernel):
        """The layout of the layer kernel Keras is regularizing, found from
        the layer that holds it; `"conv"` for a kernel passed directly."""
        layout = self._kernel_layouts.layout(kernel, type(self).__name__)
        return "conv" if layout is None else layout

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


class FunctionRegularizer(OrthogonalityRegularizer):
    """An `OrthogonalityRegularizer` whose penalty a function computes:
    `fn(kernel, kernel_layout=..., **options)`.

    The regularizers' `keras.losses.LossFunctionWrapper`: a subclass declares
    its signature and docstring, validates its options once and passes them
    here with the unvalidated function its public one calls after the same
    checks; this base writes `penalty` and `get_config`. Each option is an
    attribute of the same name (`regularizer.gram`), which `penalty` reads,
    and the config holds the options under those names after `factor` and
    `kernel_layout`, so `from_config` calls the subclass's own signature.

    Args:
        fn: `fn(kernel, kernel_layout, **options)`, a float32 scalar.
        factor: the weight of the penalty, a finite number >= 0.
        kernel_layout: how the kernel is stored.
        **options: the validated options of `fn`.
    """

    def __init__(self, fn, factor, kernel_layout, **options):
        super().__init__(factor, kernel_layout)
        self._penalty_function = fn
        self._option_names = tuple(options)
        for option, value in options.items():
            setattr(self, option, value)

    def penalty(self, kernel):
        return self._penalty_function(
            kernel, kernel_layout=self.kernel_layout, **self._options()
        )

    def get_config(self):
        return {**super().get_config(), **self._options()}

    def _options(self):
        return {option: getattr(self, option) for option in self._option_names}
