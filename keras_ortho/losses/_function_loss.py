"""The base of the losses that a per-sample loss function computes."""

import keras


class FunctionLoss(keras.losses.Loss):
    """A `keras.losses.Loss` computed by `fn(y_true, y_pred, **options)`.

    As `keras.losses.LossFunctionWrapper`, a subclass only declares its
    signature and docstring and passes its function and options here; this
    base writes `call` and `get_config`. Unlike Keras' wrapper:

    - the subclass validates its options, once; `fn` is the unvalidated
      function the public one calls after its own checks;
    - each option is an attribute of the same name (`loss.gamma`), which
      `call` reads, and `get_config` saves the options under those names but
      not `fn`, so `from_config` calls the subclass's own signature (Keras'
      wrapper saves `fn`, and its subclasses list their options again in a
      `get_config` of their own);
    - `y_true` and `y_pred` reach `fn` as given: labels and features are not
      of one shape, so Keras' matching of their ranks does not apply.

    Args:
        fn: `fn(y_true, y_pred, **options)`, one value per sample.
        name: the loss's name.
        reduction: a Keras loss reduction.
        dtype: the dtype of the loss's computations.
        **options: the validated options of `fn`.
    """

    def __init__(self, fn, name, reduction, dtype, **options):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self._fn = fn
        self._option_names = tuple(options)
        for option, value in options.items():
            setattr(self, option, value)

    def call(self, y_true, y_pred):
        return self._fn(y_true, y_pred, **self._options())

    def get_config(self):
        return {**super().get_config(), **self._options()}

    def _options(self):
        return {option: getattr(self, option) for option in self._option_names}
