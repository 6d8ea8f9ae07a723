"""The learning-rate schedule of the reference CIFAR recipes: a linear warm-up,
then step decay at fixed epochs."""

import keras
from keras import ops

from keras_ortho._export import register_serializable
from keras_ortho._validation import validate_int
from keras_ortho._validation import validate_non_negative_float
from keras_ortho._validation import validate_positive_float


def _validate_milestones(milestones):
    if not isinstance(milestones, (list, tuple)):
        raise TypeError(
            "Invalid type for argument `milestones`: expected a list or tuple of "
            f"epochs. Received: milestones={milestones!r}"
        )
    milestones = tuple(validate_int(m, "milestones", minimum=1) for m in milestones)
    if list(milestones) != sorted(set(milestones)):
        raise ValueError(
            "Invalid value for argument `milestones`: expected strictly increasing "
            f"epochs. Received: milestones={milestones!r}"
        )
    return milestones


@register_serializable
class WarmupMultiStepDecay(keras.optimizers.schedules.LearningRateSchedule):
    """A linear warm-up over the first epochs, then the rate times `decay` at
    each milestone epoch.

    With `s` the optimizer step (0-based), `e = floor(s / steps_per_epoch)`
    the 0-based epoch, `W = warmup_epochs * steps_per_epoch` and `n(e)` the
    number of milestones `<= e`:

    ```
    lr(s) = initial_learning_rate * s / W              if s < W
    lr(s) = initial_learning_rate * decay ** n(e)      otherwise
    ```

    The warm-up starts at 0 on the first step, as the reference's per-iteration
    warm-up (`base_lr * iteration / total_iterations`). The decay is the closed
    form of PyTorch's `MultiStepLR(milestones, gamma=decay)` stepped with the
    epoch; milestones count 0-based epochs, so `milestones=(60,)` applies the
    decay from the 61st epoch on.

    Args:
        initial_learning_rate: the rate after the warm-up, a number > 0.
        steps_per_epoch: optimizer steps per epoch, an integer >= 1.
        milestones: strictly increasing 0-based epochs at which the rate is
            multiplied by `decay`.
        decay: the multiplier at each milestone, a number >= 0 (0.2 in the OPL
            and SRIP recipes).
        warmup_epochs: epochs of linear warm-up, an integer >= 0.
        name: the schedule's name.

    Example:

    ```python
    schedule = keras_ortho.optimizers.schedules.WarmupMultiStepDecay(
        0.1, steps_per_epoch=391, milestones=(60, 120, 160), warmup_epochs=1
    )
    optimizer = keras.optimizers.SGD(schedule, momentum=0.9)
    ```

    Reference:
        K. Ranasinghe et al., "Orthogonal Projection Loss", ICCV 2021:
        `classification/cifar/train.py` of kahnchana/opl (a one-epoch
        per-iteration warm-up, then `MultiStepLR([60, 120, 160], 0.2)`).
    """

    def __init__(
        self,
        initial_learning_rate,
        steps_per_epoch,
        milestones=(),
        decay=0.2,
        warmup_epochs=0,
        name="warmup_multi_step_decay",
    ):
        super().__init__()
        self.initial_learning_rate = validate_positive_float(
            initial_learning_rate, "initial_learning_rate"
        )
        self.steps_per_epoch = validate_int(
            steps_per_epoch, "steps_per_epoch", minimum=1
        )
        self.milestones = _validate_milestones(milestones)
        self.decay = validate_non_negative_float(decay, "decay")
        self.warmup_epochs = validate_int(warmup_epochs, "warmup_epochs", minimum=0)
        if not isinstance(name, str):
            raise TypeError(
                "Invalid type for argument `name`: expected a str. "
                f"Received: name={name!r} of type {type(name).__name__}"
            )
        self.name = name

    def __call__(self, step):
        step = ops.cast(step, "float32")
        epoch = ops.floor(step / float(self.steps_per_epoch))
        learning_rate = ops.convert_to_tensor(self.initial_learning_rate, "float32")
        for milestone in self.milestones:
            learning_rate = ops.where(
                epoch >= float(milestone), learning_rate * self.decay, learning_rate
            )
        if self.warmup_epochs:
            warmup_steps = float(self.warmup_epochs * self.steps_per_epoch)
            learning_rate = ops.where(
                step < warmup_steps,
                self.initial_learning_rate * step / warmup_steps,
                learning_rate,
            )
        return learning_rate

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "steps_per_epoch": self.steps_per_epoch,
            "milestones": list(self.milestones),
            "decay": self.decay,
            "warmup_epochs": self.warmup_epochs,
            "name": self.name,
        }
