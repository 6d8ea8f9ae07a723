"""Scheduling the factor of orthogonality regularizers epoch by epoch."""

import bisect
import itertools

import keras

from keras_ortho._step_functions import rebuild_step_functions
from keras_ortho._validation import validate_int
from keras_ortho._validation import validate_non_negative_float
from keras_ortho.regularizers import OrthogonalityRegularizer

SRIP_EPOCHS = (20, 50, 70, 120)
SRIP_MULTIPLIERS = (1e-3, 1e-4, 1e-6, 0.0)


def srip_step_schedule(epochs=SRIP_EPOCHS, multipliers=SRIP_MULTIPLIERS):
    """The step schedule of Bansal et al.'s CIFAR code, as a `schedule` for
    `RegularizerSchedule`.

    Returns `schedule(epoch, initial_factor)`: `initial_factor` before
    `epochs[0]`, and `initial_factor * multipliers[i]` from the 0-based epoch
    `epochs[i]` on. The defaults give

    | 0-based epochs | factor               |
    |----------------|----------------------|
    | 0-19           | initial              |
    | 20-49          | initial * 1e-3       |
    | 50-69          | initial * 1e-4       |
    | 70-119         | initial * 1e-6       |
    | 120 on         | 0                    |

    The reference calls `adjust_ortho_decay_rate(epoch + 1)` with its 0-based
    loop epoch and tests `epoch + 1 > 20`, so its first change lands on
    0-based epoch 20, the 21st epoch. Its ImageNet script changes first at
    epoch 30: `epochs=(30, 50, 70, 120)`.

    Args:
        epochs: strictly increasing 0-based epochs at which the multiplier
            changes.
        multipliers: the multiplier of the initial factor from each of
            `epochs` on, finite numbers >= 0, as many as `epochs`.

    Returns:
        A callable `(epoch, initial_factor) -> factor`.

    Example:

    ```python
    schedule = keras_ortho.callbacks.regularizer_schedule.srip_step_schedule()
    schedule(19, 0.01), schedule(20, 0.01)  # (0.01, 1e-05)
    ```

    Reference:
        N. Bansal, X. Chen, Z. Wang, "Can We Gain More from Orthogonality
        Regularizations in Training Deep CNNs?", NeurIPS 2018; matches
        `adjust_ortho_decay_rate` in `Wide-Resnet/train_n.py` of
        nbansal90/Can-we-Gain-More-from-Orthogonality.
    """
    if not isinstance(epochs, (list, tuple)) or not isinstance(
        multipliers, (list, tuple)
    ):
        raise TypeError(
            "Invalid type for arguments `epochs` and `multipliers`: expected two "
            f"lists or tuples. Received: epochs={epochs!r}, "
            f"multipliers={multipliers!r}"
        )
    if not epochs or len(epochs) != len(multipliers):
        raise ValueError(
            "Invalid value for arguments `epochs` and `multipliers`: expected "
            "the same number (at least one) of each. Received: "
            f"epochs={epochs!r}, multipliers={multipliers!r}"
        )
    epochs = tuple(validate_int(epoch, "epochs", minimum=0) for epoch in epochs)
    if any(later <= earlier for earlier, later in itertools.pairwise(epochs)):
        raise ValueError(
            "Invalid value for argument `epochs`: expected strictly increasing "
            f"epochs. Received: epochs={epochs!r}"
        )
    factors = (
        1.0,
        *(validate_non_negative_float(value, "multipliers") for value in multipliers),
    )

    def schedule(epoch, initial_factor):
        return initial_factor * factors[bisect.bisect_right(epochs, epoch)]

    return schedule


class RegularizerSchedule(keras.callbacks.Callback):
    """Sets the factor of orthogonality regularizers at the start of each epoch.

    At the start of epoch `e` (0-based) each regularizer's `factor` becomes
    `schedule(e, initial_factor)`: a function of the epoch and of the
    regularizer's `initial_factor`, never of the factor the previous epoch
    left. `initial_factor` is the regularizer's factor when a schedule first
    met it; it is kept on the regularizer and saved in its config. So a run
    resumes exactly where an uninterrupted one would be: a second
    `fit(initial_epoch=...)`, a new `RegularizerSchedule` on the same model,
    `keras.callbacks.BackupAndRestore` after an interruption (on the same
    model, or on one built anew by the same code), or a model loaded from a
    `.keras` file saved mid-schedule and trained on with
    `fit(initial_epoch=...)`. To start a new schedule from the current factor
    instead, set the regularizers' `initial_factor` to `None` first.

    A regularizer's factor is a Python float baked into the train step when
    it is traced, which costs nothing per step. When a factor changes, the
    callback has the model rebuild its train and test functions, so the next
    step is traced, and compiled, once more with the new factor; epochs that
    change nothing cost nothing. With JAX and `jit_compile` it also clears
    JAX's trace caches (`jax.clear_caches()`), without which a new jit of the
    same train step can reuse the old trace. On torch, `torch.compile` keeps
    one graph per distinct set of factors, up to
    `torch._dynamo.config.recompile_limit` (8) graphs, past which it runs the
    step eagerly.

    The current factor is added to the epoch logs, so `History`, `CSVLogger`
    placed after this callback and the progress bar show it: as
    `"ortho_factor"` when the regularizers share one initial factor, else as
    `"ortho_factor_<initial factor>"` (e.g. `"ortho_factor_0.0001"`) for each.

    Args:
        schedule: a callable `(epoch, initial_factor) -> factor`, `epoch`
            0-based, returning a finite number >= 0; e.g.
            `srip_step_schedule()`, or use `RegularizerSchedule.srip()`.
        regularizers: the `keras_ortho.regularizers.OrthogonalityRegularizer`
            objects to schedule, one or a list; each must be the regularizer
            of some trainable variable of the model. `None` (default)
            schedules every one found on the model's trainable variables.
            `keras_ortho.regularizers.attach` attaches copies of the
            regularizer it is given, so use `None` after `attach`.
        verbose: 0 (quiet) or 1 (print each change).

    Example:

    ```python
    from keras_ortho.callbacks import RegularizerSchedule

    srip = keras_ortho.regularizers.SRIP(1e-2)
    model = keras.Sequential(
        [keras.Input((8,)), keras.layers.Dense(4, kernel_regularizer=srip)]
    )
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.random.rand(32, 8), np.random.rand(32, 4)
    # SRIP's own schedule (200 epochs in the paper), or any function:
    model.fit(x, y, epochs=2, verbose=0, callbacks=[RegularizerSchedule.srip()])
    model.fit(
        x,
        y,
        epochs=2,
        verbose=0,
        callbacks=[RegularizerSchedule(lambda epoch, f: f * 0.5**epoch)],
    )
    ```
    """

    def __init__(self, schedule, regularizers=None, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(
                "Invalid type for argument `schedule`: expected a callable "
                f"`(epoch, initial_factor) -> factor`. Received: schedule="
                f"{schedule!r} of type {type(schedule).__name__}"
            )
        self.schedule = schedule
        self.regularizers = _validate_regularizers(regularizers)
        self.verbose = validate_int(verbose, "verbose", minimum=0, maximum=1)
        self._scheduled = []

    @classmethod
    def srip(
        cls,
        epochs=SRIP_EPOCHS,
        multipliers=SRIP_MULTIPLIERS,
        regularizers=None,
        verbose=0,
    ):
        """The schedule of Bansal et al.'s CIFAR code: see `srip_step_schedule`.

        Args:
            epochs: 0-based epochs at which the multiplier changes.
            multipliers: the multiplier of the initial factor from each of
                `epochs` on.
            regularizers: as for `RegularizerSchedule`.
            verbose: as for `RegularizerSchedule`.
        """
        return cls(srip_step_schedule(epochs, multipliers), regularizers, verbose)

    def on_train_begin(self, logs=None):
        on_model = {}
        for variable in self.model.trainable_variables:
            if isinstance(variable.regularizer, OrthogonalityRegularizer):
                on_model.setdefault(id(variable.regularizer), variable.regularizer)
        if self.regularizers is None:
            if not on_model:
                raise ValueError(
                    "RegularizerSchedule found no OrthogonalityRegularizer on the "
                    f"trainable variables of model {self.model.name!r}."
                )
            scheduled = list(on_model.values())
        else:
            missing = [r for r in self.regularizers if id(r) not in on_model]
            if missing:
                raise ValueError(
                    "Invalid value for argument `regularizers`: not the "
                    "regularizer of any trainable variable of model "
                    f"{self.model.name!r}: {missing}. `attach` attaches copies; "
                    "pass `regularizers=None` to schedule every one on the model."
                )
            scheduled = list(self.regularizers)
        for regularizer in scheduled:
            if regularizer.initial_factor is None:
                regularizer.initial_factor = regularizer.factor
        self._scheduled = scheduled

    def on_epoch_begin(self, epoch, logs=None):
        changed = False
        for regularizer in self._scheduled:
            initial = regularizer.initial_factor
            factor = validate_non_negative_float(
                self.schedule(epoch, initial), f"schedule({epoch}, {initial!r})"
            )
            if factor != regularizer.factor:
                regularizer.factor = factor
                changed = True
        if changed:
            rebuild_step_functions(self.model)
            if self.verbose:
                print(
                    f"\nEpoch {epoch + 1}: RegularizerSchedule set the "
                    f"orthogonality factor: {self._factor_logs()}"
                )

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs.update(self._factor_logs())

    def _factor_logs(self):
        by_initial = {}
        for regularizer in self._scheduled:
            by_initial.setdefault(regularizer.initial_factor, regularizer.factor)
        if len(by_initial) == 1:
            return {"ortho_factor": next(iter(by_initial.values()))}
        return {f"ortho_factor_{initial!r}": f for initial, f in by_initial.items()}


def _validate_regularizers(regularizers):
    if regularizers is None:
        return None
    if isinstance(regularizers, OrthogonalityRegularizer):
        regularizers = [regularizers]
    if (
        not isinstance(regularizers, (list, tuple))
        or not regularizers
        or not all(isinstance(r, OrthogonalityRegularizer) for r in regularizers)
    ):
        raise TypeError(
            "Invalid type for argument `regularizers`: expected None, or one or "
            "a non-empty list of keras_ortho.regularizers.OrthogonalityRegularizer. "
            f"Received: regularizers={regularizers!r}"
        )
    return list({id(r): r for r in regularizers}.values())
