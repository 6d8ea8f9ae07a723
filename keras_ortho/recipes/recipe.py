"""`Recipe`: every setting of one training run, as a frozen dataclass."""

import dataclasses
import numbers

from keras_ortho._distribute import DISTRIBUTIONS
from keras_ortho._validation import validate_bool
from keras_ortho._validation import validate_choice
from keras_ortho._validation import validate_float_in_range
from keras_ortho._validation import validate_int
from keras_ortho._validation import validate_non_negative_float
from keras_ortho._validation import validate_positive_float
from keras_ortho.data import DATASET_NAMES
from keras_ortho.layers.fixed_classifier import INITS as FIXED_INITS
from keras_ortho.layers.fixed_classifier import LOGITS as FIXED_LOGITS
from keras_ortho.layers.random_pad_crop import FILLS as CROP_FILLS
from keras_ortho.recipes.methods import FEATURE_LOSSES
from keras_ortho.recipes.methods import parse_methods
from keras_ortho.recipes.sample_mixing import SampleMixing

MODELS = ("resnet_cifar", "wide_resnet", "resnet18_cifar")
WEIGHT_DECAY_MODES = ("coupled", "decoupled")
LR_SCHEDULES = ("multistep", "plateau")


def _validate_optional_int(value, name, minimum):
    return None if value is None else validate_int(value, name, minimum=minimum)


def _validate_optional_positive_float(value, name):
    return None if value is None else validate_positive_float(value, name)


def _validate_epochs_tuple(value, name):
    if not isinstance(value, (list, tuple)):
        raise TypeError(
            f"Invalid type for argument `{name}`: expected a list or tuple of "
            f"epochs. Received: {name}={value!r}"
        )
    value = tuple(validate_int(v, name, minimum=1) for v in value)
    if list(value) != sorted(set(value)):
        raise ValueError(
            f"Invalid value for argument `{name}`: expected strictly increasing "
            f"epochs. Received: {name}={value!r}"
        )
    return value


def _validate_device_count(devices, distribution, batch_size):
    if distribution != "data_parallel":
        raise ValueError(
            "Invalid recipe: `devices` chooses how many devices of this host "
            "`distribution='data_parallel'` uses. Received: "
            f"devices={devices!r}, distribution={distribution!r}"
        )
    if batch_size % devices:
        raise ValueError(per_device_batch_message(batch_size, devices))


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


@dataclasses.dataclass(frozen=True)
class Recipe:
    """The settings of one training run: data, model, methods, optimiser,
    learning-rate schedule, augmentation and the sizes tests and demos shrink.

    A recipe is immutable; `recipe.replace(epochs=5, methods="opl,so")` returns
    a validated copy. `keras_ortho.recipes.get_recipe(name, **overrides)`
    returns a paper preset, and `keras_ortho.recipes.train(recipe, run_dir)`
    runs it.

    Attributes:
        name: the recipe's name (a preset name, or any label).
        dataset: a `keras_ortho.data.DATASET_NAMES` entry.
        model: `"resnet_cifar"` (depth `6n + 2`), `"wide_resnet"` (depth
            `6n + 4`, `width`, `dropout`) or `"resnet18_cifar"`.
        depth: the network depth (ignored by `"resnet18_cifar"`).
        width: the Wide ResNet widening factor.
        dropout: the Wide ResNet dropout rate, in [0, 1).
        methods: what is added to cross-entropy, a tuple of
            `keras_ortho.recipes.METHOD_NAMES` or a comma-separated string
            (`"opl,so"`); `("ce",)` is plain cross-entropy.
        epochs: training epochs.
        batch_size: images per step; the last partial batch of each epoch is
            dropped, and every epoch draws a new order.
        learning_rate: the base learning rate of SGD.
        momentum: the SGD momentum.
        nesterov: whether to use Nesterov momentum.
        weight_decay: the weight-decay coefficient.
        weight_decay_mode: `"coupled"` (L2 added to the gradient before the
            momentum, as PyTorch's SGD and every reference recipe:
            `CoupledWeightDecaySGD`) or `"decoupled"` (Keras' own
            `weight_decay`, SGDW style).
        lr_schedule: `"multistep"` (`WarmupMultiStepDecay`) or `"plateau"`
            (`keras.callbacks.ReduceLROnPlateau` on the validation accuracy,
            which needs `validation_fraction > 0`).
        warmup_epochs: linear warm-up epochs (multistep only).
        lr_milestones: 0-based epochs at which the rate is multiplied by
            `lr_decay` (multistep), e.g. `(60, 120, 160)`.
        lr_decay: the multiplier at each milestone, or at each plateau.
        plateau_patience: epochs without improvement before a plateau decay.
        validation_fraction: the part of the training set held out as
            validation data, in [0, 1).
        crop_padding: pad-and-crop augmentation padding in pixels; 0 turns it
            off.
        crop_fill: how the crop pads: `"zeros"` (torchvision's default) or
            `"reflect"` (the SRIP Wide ResNet code).
        horizontal_flip: whether to flip images left-right at random.
        randaugment_ops: operations per image of `keras_ortho.data.RandAugment`
            (applied after the crop and flip); 0 turns it off.
        randaugment_magnitude: its magnitude bin, 0..30 (torchvision's default 9).
        cutout: the side of the Cutout square; 0 turns it off.
        mixup_alpha: MixUp's Beta parameter; 0 (default) turns MixUp off.
        cutmix_alpha: CutMix's Beta parameter; 0 (default) turns CutMix off.
        mixing_probability: the probability that a batch is mixed when MixUp
            or CutMix is on (`keras_ortho.recipes.SampleMixing`). Mixed
            samples have soft labels, so the classification loss becomes
            `CategoricalCrossentropy` and the training accuracy counts the
            larger share; the feature losses (`opl`, `os`) need one label per
            sample and do not combine with mixing.
        opl_gamma: OPL's weight of the different-class term.
        opl_weight: the weight of OPL in the total loss.
        os_blocks: the number of OS feature blocks.
        os_weight: the weight of the OS loss in the total loss.
        regularizer_factor: the kernel regularizer's factor; `None` uses the
            method's default (`keras_ortho.recipes.methods.DEFAULT_FACTORS`).
        srip_schedule: whether SRIP's factor follows Bansal et al.'s step
            schedule (`keras_ortho.callbacks.RegularizerSchedule.srip`).
        fixed_init: the `FixedClassifier` class-vector sampler.
        fixed_logits: `"dot"` or `"cosine"`.
        fixed_scale: the cosine scale (a number, or `"learned"`); `None` in
            dot mode.
        train_size: keep this many training images (a seeded random draw);
            `None` keeps all.
        test_size: the same for the test images.
        steps_per_epoch: cap on steps per epoch; `None` uses the whole
            training set.
        seed: the seed of weights, data order, augmentation and subsets.
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
    """

    name: str = "custom"
    dataset: str = "cifar10"
    model: str = "resnet_cifar"
    depth: int = 56
    width: int = 1
    dropout: float = 0.0
    methods: tuple = ("ce",)
    epochs: int = 200
    batch_size: int = 128
    learning_rate: float = 0.1
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 5e-4
    weight_decay_mode: str = "coupled"
    lr_schedule: str = "multistep"
    warmup_epochs: int = 0
    lr_milestones: tuple = (60, 120, 160)
    lr_decay: float = 0.2
    plateau_patience: int = 3
    validation_fraction: float = 0.0
    crop_padding: int = 4
    crop_fill: str = "zeros"
    horizontal_flip: bool = True
    randaugment_ops: int = 0
    randaugment_magnitude: int = 9
    cutout: int = 0
    mixup_alpha: float = 0.0
    cutmix_alpha: float = 0.0
    mixing_probability: float = 1.0
    opl_gamma: float = 0.5
    opl_weight: float = 1.0
    os_blocks: int = 16
    os_weight: float = 0.1
    regularizer_factor: float | None = None
    srip_schedule: bool = True
    fixed_init: str = "uniform"
    fixed_logits: str = "dot"
    fixed_scale: float | str | None = None
    train_size: int | None = None
    test_size: int | None = None
    steps_per_epoch: int | None = None
    seed: int = 0
    jit_compile: bool | str = "auto"
    distribution: str = "none"
    devices: int | None = None
    synchronized_batch_norm: bool = True

    def __post_init__(self):
        checked = {
            "dataset": validate_choice(self.dataset, "dataset", DATASET_NAMES),
            "model": validate_choice(self.model, "model", MODELS),
            "depth": validate_int(self.depth, "depth", minimum=8),
            "width": validate_int(self.width, "width", minimum=1),
            "dropout": validate_float_in_range(
                self.dropout, "dropout", 0, 1, include_maximum=False
            ),
            "methods": parse_methods(self.methods),
            "epochs": validate_int(self.epochs, "epochs", minimum=1),
            "batch_size": validate_int(self.batch_size, "batch_size", minimum=1),
            "learning_rate": validate_positive_float(
                self.learning_rate, "learning_rate"
            ),
            "momentum": validate_float_in_range(self.momentum, "momentum", 0, 1),
            "nesterov": validate_bool(self.nesterov, "nesterov"),
            "weight_decay": validate_non_negative_float(
                self.weight_decay, "weight_decay"
            ),
            "weight_decay_mode": validate_choice(
                self.weight_decay_mode, "weight_decay_mode", WEIGHT_DECAY_MODES
            ),
            "lr_schedule": validate_choice(
                self.lr_schedule, "lr_schedule", LR_SCHEDULES
            ),
            "warmup_epochs": validate_int(self.warmup_epochs, "warmup_epochs", 0),
            "lr_milestones": _validate_epochs_tuple(
                self.lr_milestones, "lr_milestones"
            ),
            "lr_decay": validate_non_negative_float(self.lr_decay, "lr_decay"),
            "plateau_patience": validate_int(
                self.plateau_patience, "plateau_patience", minimum=0
            ),
            "validation_fraction": validate_float_in_range(
                self.validation_fraction,
                "validation_fraction",
                0,
                1,
                include_maximum=False,
            ),
            "crop_padding": validate_int(self.crop_padding, "crop_padding", 0),
            "crop_fill": validate_choice(self.crop_fill, "crop_fill", CROP_FILLS),
            "horizontal_flip": validate_bool(self.horizontal_flip, "horizontal_flip"),
            "randaugment_ops": validate_int(
                self.randaugment_ops, "randaugment_ops", minimum=0
            ),
            "randaugment_magnitude": validate_int(
                self.randaugment_magnitude, "randaugment_magnitude", minimum=0
            ),
            "cutout": validate_int(self.cutout, "cutout", minimum=0),
            "mixup_alpha": validate_non_negative_float(self.mixup_alpha, "mixup_alpha"),
            "cutmix_alpha": validate_non_negative_float(
                self.cutmix_alpha, "cutmix_alpha"
            ),
            "mixing_probability": validate_float_in_range(
                self.mixing_probability,
                "mixing_probability",
                0,
                1,
                include_minimum=False,
            ),
            "opl_gamma": validate_non_negative_float(self.opl_gamma, "opl_gamma"),
            "opl_weight": validate_non_negative_float(self.opl_weight, "opl_weight"),
            "os_blocks": validate_int(self.os_blocks, "os_blocks", minimum=1),
            "os_weight": validate_non_negative_float(self.os_weight, "os_weight"),
            "regularizer_factor": None
            if self.regularizer_factor is None
            else validate_non_negative_float(
                self.regularizer_factor, "regularizer_factor"
            ),
            "srip_schedule": validate_bool(self.srip_schedule, "srip_schedule"),
            "fixed_init": validate_choice(self.fixed_init, "fixed_init", FIXED_INITS),
            "fixed_logits": validate_choice(
                self.fixed_logits, "fixed_logits", FIXED_LOGITS
            ),
            "train_size": _validate_optional_int(self.train_size, "train_size", 1),
            "test_size": _validate_optional_int(self.test_size, "test_size", 1),
            "steps_per_epoch": _validate_optional_int(
                self.steps_per_epoch, "steps_per_epoch", 1
            ),
            "seed": validate_int(self.seed, "seed", minimum=0),
            "distribution": validate_choice(
                self.distribution, "distribution", DISTRIBUTIONS
            ),
            "devices": _validate_optional_int(self.devices, "devices", 1),
            "synchronized_batch_norm": validate_bool(
                self.synchronized_batch_norm, "synchronized_batch_norm"
            ),
        }
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(
                "Invalid value for argument `name`: expected a non-empty str. "
                f"Received: name={self.name!r}"
            )
        if self.fixed_scale is not None and not (
            self.fixed_scale == "learned"
            or (
                isinstance(self.fixed_scale, numbers.Real)
                and not isinstance(self.fixed_scale, bool)
            )
        ):
            raise ValueError(
                "Invalid value for argument `fixed_scale`: expected None, a "
                f'number > 0 or "learned". Received: fixed_scale={self.fixed_scale!r}'
            )
        if not (self.jit_compile is True or self.jit_compile is False) and (
            self.jit_compile != "auto"
        ):
            raise ValueError(
                "Invalid value for argument `jit_compile`: expected True, False "
                f'or "auto". Received: jit_compile={self.jit_compile!r}'
            )
        if checked["lr_schedule"] == "plateau" and not checked["validation_fraction"]:
            raise ValueError(
                'Invalid recipe: `lr_schedule="plateau"` watches the validation '
                "accuracy and needs `validation_fraction > 0`. Received: "
                f"validation_fraction={self.validation_fraction!r}"
            )
        if checked["devices"] is not None:
            _validate_device_count(
                checked["devices"], checked["distribution"], checked["batch_size"]
            )
        for field, value in checked.items():
            object.__setattr__(self, field, value)
        if checked["randaugment_magnitude"] > 30:
            raise ValueError(
                "Invalid value for argument `randaugment_magnitude`: expected a "
                "magnitude bin in 0..30 (RandAugment's 31 bins). Received: "
                f"randaugment_magnitude={self.randaugment_magnitude!r}"
            )
        mixed_with = [m for m in checked["methods"] if m in FEATURE_LOSSES]
        if self.mixing is not None and mixed_with:
            raise ValueError(
                f"Invalid recipe: the feature loss {mixed_with[0]!r} needs one "
                "label per sample, and MixUp/CutMix give mixed samples soft "
                "labels. Turn mixing off (mixup_alpha=0, cutmix_alpha=0) or "
                f"drop {mixed_with[0]!r} from methods. Received: "
                f"methods={self.methods!r}, mixup_alpha={self.mixup_alpha!r}, "
                f"cutmix_alpha={self.cutmix_alpha!r}"
            )

    @property
    def mixing(self):
        """The recipe's `SampleMixing`, or `None` when MixUp and CutMix are
        off."""
        if not (self.mixup_alpha or self.cutmix_alpha):
            return None
        return SampleMixing(
            self.mixup_alpha, self.cutmix_alpha, probability=self.mixing_probability
        )

    def replace(self, **changes):
        """A validated copy with `changes` applied."""
        unknown = sorted(set(changes) - {f.name for f in dataclasses.fields(self)})
        if unknown:
            raise TypeError(
                f"Unknown recipe settings: {unknown}. Known settings: "
                f"{[f.name for f in dataclasses.fields(self)]}"
            )
        return dataclasses.replace(self, **changes)

    def to_dict(self):
        """The settings as a JSON-ready dict (tuples become lists)."""
        return {
            field.name: list(value) if isinstance(value, tuple) else value
            for field in dataclasses.fields(self)
            for value in (getattr(self, field.name),)
        }
