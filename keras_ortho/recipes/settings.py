"""The groups of a recipe's settings: data, network, optimization,
augmentation and orthogonality methods.

Each group is a frozen dataclass that validates its own fields, and each part
of a run receives only its group: the data split and batches `DataSettings`,
the network builder `NetworkSettings`, the optimizer and its learning-rate
schedule `OptimizationSettings`, the augmentation layers and the MixUp/CutMix
draws `AugmentationSettings`, the losses, kernel regularizers, constraint and
head `OrthogonalitySettings`. A `keras_ortho.recipes.Recipe` composes them; its
`replace` takes every field by its own name (`recipe.replace(depth=20)`), as
each name belongs to one group only.
"""

import dataclasses
import numbers

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
from keras_ortho.recipes.methods import parse_methods
from keras_ortho.recipes.sample_mixing import SampleMixing

MODELS = ("resnet_cifar", "wide_resnet", "resnet18_cifar")
WEIGHT_DECAY_MODES = ("coupled", "decoupled")
LR_SCHEDULES = ("multistep", "plateau")
# RandAugment's magnitude bins, 0..30.
RANDAUGMENT_MAGNITUDES = 31


def _validate_optional_int(value, name, minimum):
    return None if value is None else validate_int(value, name, minimum=minimum)


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


def _store(settings, checked):
    """Replaces the fields of the frozen `settings` by their validated,
    normalised values (`"opl,so"` becomes `("opl", "so")`, a list a tuple)."""
    for field, value in checked.items():
        object.__setattr__(settings, field, value)


@dataclasses.dataclass(frozen=True)
class DataSettings:
    """What a run trains and is evaluated on, and in which batches.

    Attributes:
        dataset: a `keras_ortho.data.DATASET_NAMES` entry.
        batch_size: images per step; the last partial batch of each epoch is
            dropped, and every epoch draws a new order.
        validation_fraction: the part of the training set held out as
            validation data, in [0, 1).
        train_size: keep this many training images (a seeded random draw);
            `None` keeps all.
        test_size: the same for the test images.
        steps_per_epoch: cap on steps per epoch; `None` uses the whole
            training set.
    """

    dataset: str = "cifar10"
    batch_size: int = 128
    validation_fraction: float = 0.0
    train_size: int | None = None
    test_size: int | None = None
    steps_per_epoch: int | None = None

    def __post_init__(self):
        _store(
            self,
            {
                "dataset": validate_choice(self.dataset, "dataset", DATASET_NAMES),
                "batch_size": validate_int(self.batch_size, "batch_size", minimum=1),
                "validation_fraction": validate_float_in_range(
                    self.validation_fraction,
                    "validation_fraction",
                    0,
                    1,
                    include_maximum=False,
                ),
                "train_size": _validate_optional_int(self.train_size, "train_size", 1),
                "test_size": _validate_optional_int(self.test_size, "test_size", 1),
                "steps_per_epoch": _validate_optional_int(
                    self.steps_per_epoch, "steps_per_epoch", 1
                ),
            },
        )


@dataclasses.dataclass(frozen=True)
class NetworkSettings:
    """The network: which builder of `keras_ortho.models`, and its size.

    Attributes:
        model: `"resnet_cifar"` (depth `6n + 2`), `"wide_resnet"` (depth
            `6n + 4`, `width`, `dropout`) or `"resnet18_cifar"`.
        depth: the network depth (ignored by `"resnet18_cifar"`).
        width: the Wide ResNet widening factor.
        dropout: the Wide ResNet dropout rate, in [0, 1).
    """

    model: str = "resnet_cifar"
    depth: int = 56
    width: int = 1
    dropout: float = 0.0

    def __post_init__(self):
        _store(
            self,
            {
                "model": validate_choice(self.model, "model", MODELS),
                "depth": validate_int(self.depth, "depth", minimum=8),
                "width": validate_int(self.width, "width", minimum=1),
                "dropout": validate_float_in_range(
                    self.dropout, "dropout", 0, 1, include_maximum=False
                ),
            },
        )


@dataclasses.dataclass(frozen=True)
class OptimizationSettings:
    """SGD, its weight decay and its learning-rate schedule.

    Attributes:
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
    """

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

    def __post_init__(self):
        _store(
            self,
            {
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
            },
        )


@dataclasses.dataclass(frozen=True)
class AugmentationSettings:
    """The training-time augmentation: on-device layers and sample mixing.

    Attributes:
        crop_padding: pad-and-crop augmentation padding in pixels; 0 turns it
            off.
        crop_fill: how the crop pads: `"zeros"` (torchvision's default) or
            `"reflect"` (the SRIP Wide ResNet code).
        horizontal_flip: whether to flip images left-right at random.
        randaugment_ops: operations per image of
            `keras_ortho.layers.RandAugment` (applied after the crop and
            flip); 0 turns it off.
        randaugment_magnitude: its magnitude bin, 0..30 (torchvision's
            default 9).
        cutout: the side of the Cutout square; 0 turns it off.
        mixup_alpha: MixUp's Beta parameter; 0 (default) turns MixUp off.
        cutmix_alpha: CutMix's Beta parameter; 0 (default) turns CutMix off.
        mixing_probability: the probability that a batch is mixed when MixUp
            or CutMix is on (`keras_ortho.recipes.SampleMixing`). Mixed
            samples have soft labels, so the classification loss becomes
            `CategoricalCrossentropy` and the training accuracy counts the
            larger share; the feature losses (`opl`, `os`) need one label per
            sample and do not combine with mixing.
    """

    crop_padding: int = 4
    crop_fill: str = "zeros"
    horizontal_flip: bool = True
    randaugment_ops: int = 0
    randaugment_magnitude: int = 9
    cutout: int = 0
    mixup_alpha: float = 0.0
    cutmix_alpha: float = 0.0
    mixing_probability: float = 1.0

    def __post_init__(self):
        _store(
            self,
            {
                "crop_padding": validate_int(self.crop_padding, "crop_padding", 0),
                "crop_fill": validate_choice(self.crop_fill, "crop_fill", CROP_FILLS),
                "horizontal_flip": validate_bool(
                    self.horizontal_flip, "horizontal_flip"
                ),
                "randaugment_ops": validate_int(
                    self.randaugment_ops, "randaugment_ops", minimum=0
                ),
                "randaugment_magnitude": validate_int(
                    self.randaugment_magnitude, "randaugment_magnitude", minimum=0
                ),
                "cutout": validate_int(self.cutout, "cutout", minimum=0),
                "mixup_alpha": validate_non_negative_float(
                    self.mixup_alpha, "mixup_alpha"
                ),
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
            },
        )
        if self.randaugment_magnitude >= RANDAUGMENT_MAGNITUDES:
            raise ValueError(
                "Invalid value for argument `randaugment_magnitude`: expected a "
                "magnitude bin in 0..30 (RandAugment's 31 bins). Received: "
                f"randaugment_magnitude={self.randaugment_magnitude!r}"
            )

    @property
    def mixing(self):
        """The `SampleMixing` of these settings, or `None` when MixUp and
        CutMix are off."""
        if not (self.mixup_alpha or self.cutmix_alpha):
            return None
        return SampleMixing(
            self.mixup_alpha, self.cutmix_alpha, probability=self.mixing_probability
        )


@dataclasses.dataclass(frozen=True)
class OrthogonalitySettings:
    """The methods a run adds to cross-entropy, and their options.

    Attributes:
        methods: what is added to cross-entropy, a tuple of
            `keras_ortho.recipes.METHOD_NAMES` or a comma-separated string
            (`"opl,so"`); `("ce",)` is plain cross-entropy.
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
    """

    methods: tuple = ("ce",)
    opl_gamma: float = 0.5
    opl_weight: float = 1.0
    os_blocks: int = 16
    os_weight: float = 0.1
    regularizer_factor: float | None = None
    srip_schedule: bool = True
    fixed_init: str = "uniform"
    fixed_logits: str = "dot"
    fixed_scale: float | str | None = None

    def __post_init__(self):
        _store(
            self,
            {
                "methods": parse_methods(self.methods),
                "opl_gamma": validate_non_negative_float(self.opl_gamma, "opl_gamma"),
                "opl_weight": validate_non_negative_float(
                    self.opl_weight, "opl_weight"
                ),
                "os_blocks": validate_int(self.os_blocks, "os_blocks", minimum=1),
                "os_weight": validate_non_negative_float(self.os_weight, "os_weight"),
                "regularizer_factor": None
                if self.regularizer_factor is None
                else validate_non_negative_float(
                    self.regularizer_factor, "regularizer_factor"
                ),
                "srip_schedule": validate_bool(self.srip_schedule, "srip_schedule"),
                "fixed_init": validate_choice(
                    self.fixed_init, "fixed_init", FIXED_INITS
                ),
                "fixed_logits": validate_choice(
                    self.fixed_logits, "fixed_logits", FIXED_LOGITS
                ),
            },
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
