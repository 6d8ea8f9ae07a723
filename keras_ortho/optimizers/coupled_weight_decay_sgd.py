"""SGD with weight decay coupled into the gradient, as PyTorch's SGD applies it."""

import keras
from keras import ops

from keras_ortho._export import register_serializable
from keras_ortho._validation import validate_bool
from keras_ortho._validation import validate_non_negative_float


def _validate_exclusions(exclude):
    if isinstance(exclude, str) or not isinstance(exclude, (list, tuple)):
        raise TypeError(
            "Invalid type for argument `exclude_from_coupled_weight_decay`: "
            "expected a list or tuple of variable-path substrings. Received: "
            f"exclude_from_coupled_weight_decay={exclude!r}"
        )
    if not all(isinstance(part, str) and part for part in exclude):
        raise ValueError(
            "Invalid value for argument `exclude_from_coupled_weight_decay`: "
            "expected non-empty strings. Received: "
            f"exclude_from_coupled_weight_decay={exclude!r}"
        )
    return tuple(exclude)


@register_serializable
class CoupledWeightDecaySGD(keras.optimizers.SGD):
    """SGD with momentum, Nesterov and L2 weight decay exactly as `torch.optim.SGD`.

    PyTorch adds the decay to the gradient before the momentum (coupled, or
    L2, weight decay); the momentum buffer holds gradients, and the learning
    rate multiplies the whole step. With `g` the gradient of variable `w`,
    `lambda = coupled_weight_decay`, `mu = momentum` and `lr` the current rate:

    ```
    g = g + lambda * w
    b = mu * b + g                        (b starts at 0, so b_1 = g_1)
    w = w - lr * (g + mu * b)             nesterov=True
    w = w - lr * b                        nesterov=False
    ```

    Keras' own `weight_decay` argument is decoupled (AdamW/SGDW style: `w`
    shrinks by `lr * weight_decay` outside the momentum), and
    `keras.optimizers.SGD` keeps `lr * g` in its momentum; both differ from
    the reference recipes once the rate changes. Every trainable variable is
    decayed, batch-norm scales and offsets and biases included, as
    `SGD(model.parameters(), weight_decay=...)` does, unless its path
    contains one of `exclude_from_coupled_weight_decay`. Non-trainable
    weights (e.g. the fixed class vectors of
    `keras_ortho.layers.FixedClassifier`) are never touched.

    Args:
        learning_rate: a float, a `keras.optimizers.schedules.LearningRateSchedule`
            or a callable, as for `keras.optimizers.SGD`.
        momentum: `mu`, a float in [0, 1].
        nesterov: whether to use Nesterov momentum.
        coupled_weight_decay: `lambda`, a finite number >= 0.
        exclude_from_coupled_weight_decay: substrings of variable paths
            (e.g. `("bn", "bias")`) whose variables get no decay.
        name: the optimizer's name.
        **kwargs: other `keras.optimizers.Optimizer` arguments (`clipnorm`,
            `use_ema`, `loss_scale_factor`, ...). `weight_decay` is refused:
            it would add a second, decoupled decay.

    Example:

    ```python
    optimizer = keras_ortho.optimizers.CoupledWeightDecaySGD(
        0.1, momentum=0.9, nesterov=True, coupled_weight_decay=5e-4
    )
    ```

    Reference:
        PyTorch `torch.optim.SGD` (dampening 0), as used by the OPL
        (kahnchana/opl), SRIP (nbansal90/Can-we-Gain-More-from-Orthogonality)
        and fixed-classifier (MLSpeech/FixedClassificationLayer) recipes.
    """

    def __init__(
        self,
        learning_rate=0.01,
        momentum=0.0,
        nesterov=False,
        coupled_weight_decay=0.0,
        exclude_from_coupled_weight_decay=(),
        name="coupled_weight_decay_sgd",
        **kwargs,
    ):
        if kwargs.get("weight_decay") is not None:
            raise ValueError(
                "Invalid argument `weight_decay`: CoupledWeightDecaySGD applies "
                "`coupled_weight_decay` inside the gradient; a decoupled "
                "`weight_decay` on top would decay twice. Received: "
                f"weight_decay={kwargs['weight_decay']!r}"
            )
        kwargs.pop("weight_decay", None)
        momentum = validate_non_negative_float(momentum, "momentum")
        if momentum > 1:
            raise ValueError(
                "Invalid value for argument `momentum`: expected a float in "
                f"[0, 1]. Received: momentum={momentum!r}"
            )
        super().__init__(
            learning_rate=learning_rate,
            momentum=momentum,
            nesterov=validate_bool(nesterov, "nesterov"),
            name=name,
            **kwargs,
        )
        self.coupled_weight_decay = validate_non_negative_float(
            coupled_weight_decay, "coupled_weight_decay"
        )
        self.exclude_from_coupled_weight_decay = _validate_exclusions(
            exclude_from_coupled_weight_decay
        )

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        # By index, as `update_step` reads it: on TensorFlow it receives the
        # backend variables, which have no Keras path.
        self._decayed = [
            self.coupled_weight_decay > 0
            and not any(
                part in variable.path for part in self.exclude_from_coupled_weight_decay
            )
            for variable in variables
        ]

    def update_step(self, gradient, variable, learning_rate):
        learning_rate = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        if self._decayed[self._get_variable_index(variable)]:
            decay = ops.cast(self.coupled_weight_decay, variable.dtype)
            gradient = gradient + decay * variable
        step = gradient
        if self.momentum != 0:
            momentum = ops.cast(self.momentum, variable.dtype)
            buffer = self.momentums[self._get_variable_index(variable)]
            new_buffer = momentum * buffer + gradient
            self.assign(buffer, new_buffer)
            step = gradient + momentum * new_buffer if self.nesterov else new_buffer
        self.assign_sub(variable, learning_rate * step)

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        if keras.backend.backend() == "torch":
            from keras_ortho.optimizers._torch_coupled_update import (
                coupled_weight_decay_sgd_update,
            )

            coupled_weight_decay_sgd_update(
                self, grads, trainable_variables, learning_rate
            )
        else:
            super()._backend_update_step(grads, trainable_variables, learning_rate)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        # Keras' `from_config` replaces a serialized schedule in the dict it is
        # given; a copy leaves the caller's config as it was.
        return super().from_config(dict(config), custom_objects=custom_objects)

    def get_config(self):
        config = super().get_config()
        config.pop("weight_decay", None)
        return {
            **config,
            "coupled_weight_decay": self.coupled_weight_decay,
            "exclude_from_coupled_weight_decay": list(
                self.exclude_from_coupled_weight_decay
            ),
        }
