"""`Recipe`: every setting of one training run, in groups, as a frozen
dataclass."""

import dataclasses

from keras_ortho._distribute import DISTRIBUTIONS
from keras_ortho._validation import validate_bool
from keras_ortho._validation import validate_choice
from keras_ortho._validation import validate_int
from keras_ortho.recipes.methods import FEATURE_LOSSES
from keras_ortho.recipes.settings import AugmentationSettings
from keras_ortho.recipes.settings import DataSettings
from keras_ortho.recipes.settings import NetworkSettings
from keras_ortho.recipes.settings import OptimizationSettings
from keras_ortho.recipes.settings import OrthogonalitySettings

# Recipe field -> the class of its group of settings.
GROUPS = {
    "data": DataSettings,
    "network": NetworkSettings,
    "optimization": OptimizationSettings,
    "augmentation": AugmentationSettings,
    "orthogonality": OrthogonalitySettings,
}
# Every grouped setting's name -> its group: the names are unique across the
# groups, so `replace` and the command line take them without the group.
GROUP_OF_SETTING = {
    field.name: group
    for group, settings_class in GROUPS.items()
    for field in dataclasses.fields(settings_class)
}


def per_device_batch_message(batch_size, replicas):
    """Why `batch_size` cannot be split among `replicas` devices."""
    return (
        f"Invalid recipe: the global batch of {batch_size} images does not "
        f"split evenly among {replicas} devices. Data-parallel training keeps "
        "the recipe's batch size and learning rate, and each device gets "
        "batch_size / devices images: choose a batch_size that is a multiple "
        f"of {replicas}, or a device count that divides {batch_size}. "
        f"Received: batch_size={batch_size}, devices={replicas}"
    )


def _validate_group(value, name):
    expected = GROUPS[name]
    if not isinstance(value, expected):
        raise TypeError(
            f"Invalid type for argument `{name}`: expected a "
            f"keras_ortho.recipes.{expected.__name__}. Received: {name} of type "
            f"{type(value).__name__}"
        )


@dataclasses.dataclass(frozen=True)
class Recipe:
    """The settings of one training run: the run's own (name, epochs, seed,
    compilation, devices) and five groups, each handed to the part of the
    run that uses it.

    A recipe is immutable. `recipe.replace(...)` returns a validated copy and
    takes every setting by its name alone, whichever group holds it
    (`recipe.replace(epochs=5, depth=20, methods="opl,so")`), or a whole group
    (`recipe.replace(augmentation=AugmentationSettings(crop_padding=0))`).
    `keras_ortho.recipes.get_recipe(name, **settings)` returns a paper preset
    changed the same way, and `keras_ortho.recipes.train(recipe, run_dir)`
    runs it. `to_dict()` lists every setting under its name, as `replace`
    takes it: `Recipe().replace(**recipe.to_dict()) == recipe`.

    Args:
        name: the recipe's name (a preset name, or any label).
        epochs: training epochs.
        seed: the seed of weights, data order, augmentation, subsets and the
            fixed class vectors.
        jit_compile: passed to `model.compile` (`True`, `False`, `"auto"`).
        distribution: `"none"` (one device) or `"data_parallel"` (every
            device of this host, or `devices` of them), on Keras' own
            engines: JAX `keras.distribution.DataParallel`, TensorFlow
            `tf.distribute.MirroredStrategy`; torch has none. The global
            batch keeps `batch_size` and the learning rate; each device gets
            `batch_size / devices` images. On JAX, with Keras' cluster
            variables set (`KERAS_DISTRIBUTION_NUM_PROCESSES`,
            `KERAS_DISTRIBUTION_JOB_ADDRESSES`,
            `KERAS_DISTRIBUTION_PROCESS_ID`), the run spans every device of
            every process (`keras.distribution.initialize()`); on
            TensorFlow, with a `TF_CONFIG` cluster of several workers, every
            device of every worker (`MultiWorkerMirroredStrategy`).
        devices: with `"data_parallel"`, how many of this host's devices to
            use (the first ones); `None` uses all. Must divide `batch_size`.
        synchronized_batch_norm: whether BatchNormalization normalises with
            the statistics of the global batch (as on one device) rather than
            of each replica's shard. JAX `DataParallel` always uses the global
            batch; TensorFlow uses Keras' `synchronized=True` for it.
        data: a `DataSettings`: dataset, batch size, validation split and
            the sizes tests and demos shrink.
        network: a `NetworkSettings`: `model` (the architecture), `depth`,
            `width`, `dropout`.
        optimization: an `OptimizationSettings`: SGD, weight decay and the
            learning-rate schedule.
        augmentation: an `AugmentationSettings`: crop, flip, RandAugment,
            Cutout, MixUp and CutMix.
        orthogonality: an `OrthogonalitySettings`: `methods` (`"opl,so"`)
            and their weights, factors and head options.

    The groups are named apart from the settings `model` (the architecture's
    name) and `methods` (the chosen methods), which keep the names the
    command line and every preset use: `recipe.network.model`,
    `recipe.orthogonality.methods`.

    Example:

    ```python
    recipe = keras_ortho.recipes.get_recipe("demo", methods="opl,so", depth=14)
    print(recipe.network.depth, recipe.orthogonality.methods)
    short = recipe.replace(epochs=1, crop_padding=0)
    no_augmentation = recipe.replace(
        augmentation=keras_ortho.recipes.AugmentationSettings(
            crop_padding=0, horizontal_flip=False
        )
    )
    ```
    """

    name: str = "custom"
    epochs: int = 200
    seed: int = 0
    jit_compile: bool | str = "auto"
    distribution: str = "none"
    devices: int | None = None
    synchronized_batch_norm: bool = True
    data: DataSettings = dataclasses.field(default_factory=DataSettings)
    network: NetworkSettings = dataclasses.field(default_factory=NetworkSettings)
    optimization: OptimizationSettings = dataclasses.field(
        default_factory=OptimizationSettings
    )
    augmentation: AugmentationSettings = dataclasses.field(
        default_factory=AugmentationSettings
    )
    orthogonality: OrthogonalitySettings = dataclasses.field(
        default_factory=OrthogonalitySettings
    )

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(
                "Invalid value for argument `name`: expected a non-empty str. "
                f"Received: name={self.name!r}"
            )
        for group in GROUPS:
            _validate_group(getattr(self, group), group)
        checked = {
            "epochs": validate_int(self.epochs, "epochs", minimum=1),
            "seed": validate_int(self.seed, "seed", minimum=0),
            "distribution": validate_choice(
                self.distribution, "distribution", DISTRIBUTIONS
            ),
            "devices": None
            if self.devices is None
            else validate_int(self.devices, "devices", minimum=1),
            "synchronized_batch_norm": validate_bool(
                self.synchronized_batch_norm, "synchronized_batch_norm"
            ),
        }
        if not (self.jit_compile is True or self.jit_compile is False) and (
            self.jit_compile != "auto"
        ):
            raise ValueError(
                "Invalid value for argument `jit_compile`: expected True, False "
                f'or "auto". Received: jit_compile={self.jit_compile!r}'
            )
        for field, value in checked.items():
            object.__setattr__(self, field, value)
        self._check_across_groups()

    def _check_across_groups(self):
        """The rules that tie settings of different groups together."""
        data, augmentation = self.data, self.augmentation
        if self.optimization.lr_schedule == "plateau" and not (
            data.validation_fraction
        ):
            raise ValueError(
                'Invalid recipe: `lr_schedule="plateau"` watches the validation '
                "accuracy and needs `validation_fraction > 0`. Received: "
                f"validation_fraction={data.validation_fraction!r}"
            )
        if self.devices is not None:
            if self.distribution != "data_parallel":
                raise ValueError(
                    "Invalid recipe: `devices` chooses how many devices of this "
                    "host `distribution='data_parallel'` uses. Received: "
                    f"devices={self.devices!r}, "
                    f"distribution={self.distribution!r}"
                )
            if data.batch_size % self.devices:
                raise ValueError(
                    per_device_batch_message(data.batch_size, self.devices)
                )
        methods = self.orthogonality.methods
        mixed_with = [m for m in methods if m in FEATURE_LOSSES]
        if augmentation.mixing is not None and mixed_with:
            raise ValueError(
                f"Invalid recipe: the feature loss {mixed_with[0]!r} needs one "
                "label per sample, and MixUp/CutMix give mixed samples soft "
                "labels. Turn mixing off (mixup_alpha=0, cutmix_alpha=0) or "
                f"drop {mixed_with[0]!r} from methods. Received: "
                f"methods={methods!r}, "
                f"mixup_alpha={augmentation.mixup_alpha!r}, "
                f"cutmix_alpha={augmentation.cutmix_alpha!r}"
            )

    def replace(self, **changes):
        """A validated copy with `changes` applied.

        Args:
            **changes: settings by name, whichever group holds them
                (`epochs=5`, `depth=20`, `crop_padding=0`), and whole groups
                (`augmentation=AugmentationSettings(...)`). A group and one
                of its own settings cannot be given together.

        Returns:
            A `Recipe`.
        """
        own = [field.name for field in dataclasses.fields(self)]
        unknown = sorted(set(changes) - set(own) - set(GROUP_OF_SETTING))
        if unknown:
            names = [name for name in own if name not in GROUPS]
            raise TypeError(
                f"Unknown recipe settings: {unknown}. Known settings: "
                f"{names + list(GROUP_OF_SETTING)}, or a whole group: "
                f"{list(GROUPS)}"
            )
        recipe_changes = {name: changes[name] for name in own if name in changes}
        for group in GROUPS:
            settings = {
                name: value
                for name, value in changes.items()
                if GROUP_OF_SETTING.get(name) == group
            }
            if not settings:
                continue
            if group in changes:
                received = ", ".join(
                    f"{name}={value!r}" for name, value in settings.items()
                )
                raise TypeError(
                    f"Invalid arguments: give either the group `{group}` or its "
                    f"settings {sorted(settings)}, not both. Received: "
                    f"{group}={changes[group]!r}, {received}"
                )
            recipe_changes[group] = dataclasses.replace(
                getattr(self, group), **settings
            )
        return dataclasses.replace(self, **recipe_changes)

    def to_dict(self):
        """Every setting under its own name, as `replace` and the command
        line take them, in a JSON-ready dict (tuples become lists)."""
        settings = {
            field.name: getattr(self, field.name)
            for field in dataclasses.fields(self)
            if field.name not in GROUPS
        }
        for group in GROUPS:
            settings.update(dataclasses.asdict(getattr(self, group)))
        return {
            name: list(value) if isinstance(value, tuple) else value
            for name, value in settings.items()
        }
