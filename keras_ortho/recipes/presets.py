"""The paper presets: the reference recipes of OPL, SRIP, the fixed classifier
and OS, plus the small offline `demo`."""

import dataclasses

from keras_ortho._names import RECIPE_NAMES
from keras_ortho._validation import validate_choice
from keras_ortho.recipes.recipe import Recipe
from keras_ortho.recipes.settings import AugmentationSettings
from keras_ortho.recipes.settings import DataSettings
from keras_ortho.recipes.settings import NetworkSettings
from keras_ortho.recipes.settings import OptimizationSettings
from keras_ortho.recipes.settings import OrthogonalitySettings

# The OPL and SRIP CIFAR schedule: SGD 0.1, momentum 0.9, weight decay 5e-4
# (coupled, as torch's SGD), rate x0.2 from epochs 60, 120 and 160, over 200
# epochs of batch 128 with pad-4 crops and horizontal flips.
_CIFAR_EPOCHS = 200
_CIFAR_BATCH_SIZE = 128
_CIFAR_OPTIMIZATION = OptimizationSettings(
    learning_rate=0.1,
    momentum=0.9,
    weight_decay=5e-4,
    weight_decay_mode="coupled",
    lr_milestones=(60, 120, 160),
    lr_decay=0.2,
)

# SRIP at its reference code's factor, with Bansal et al.'s step schedule.
_SRIP = OrthogonalitySettings(
    methods=("srip",), regularizer_factor=1e-2, srip_schedule=True
)

# The fixed-classifier code: ResNet-18, Nesterov SGD 0.1, batch 32, 80 epochs,
# rate x0.2 on a 3-epoch plateau of the accuracy of a held-out tenth.
_FIXED_CLASSIFIER = Recipe(
    name="fixed_classifier",
    epochs=80,
    data=DataSettings(dataset="cifar10", batch_size=32, validation_fraction=0.1),
    network=NetworkSettings(model="resnet18_cifar"),
    optimization=OptimizationSettings(
        learning_rate=0.1,
        momentum=0.9,
        nesterov=True,
        weight_decay=5e-4,
        lr_schedule="plateau",
        lr_decay=0.2,
        plateau_patience=3,
    ),
    orthogonality=OrthogonalitySettings(methods=("fixed",), fixed_logits="dot"),
)

PRESETS = {
    "opl_cifar100": Recipe(
        name="opl_cifar100",
        epochs=_CIFAR_EPOCHS,
        data=DataSettings(dataset="cifar100", batch_size=_CIFAR_BATCH_SIZE),
        network=NetworkSettings(model="resnet_cifar", depth=56),
        optimization=dataclasses.replace(_CIFAR_OPTIMIZATION, warmup_epochs=1),
        orthogonality=OrthogonalitySettings(
            methods=("opl",), opl_gamma=0.5, opl_weight=1.0
        ),
    ),
    "srip_wrn": Recipe(
        name="srip_wrn",
        epochs=_CIFAR_EPOCHS,
        data=DataSettings(dataset="cifar10", batch_size=_CIFAR_BATCH_SIZE),
        network=NetworkSettings(model="wide_resnet", depth=28, width=10, dropout=0.3),
        optimization=dataclasses.replace(_CIFAR_OPTIMIZATION, nesterov=True),
        augmentation=AugmentationSettings(crop_fill="reflect"),
        orthogonality=_SRIP,
    ),
    "srip_svhn": Recipe(
        name="srip_svhn",
        epochs=160,
        data=DataSettings(dataset="svhn", batch_size=256),
        network=NetworkSettings(model="wide_resnet", depth=16, width=8, dropout=0.4),
        optimization=OptimizationSettings(
            learning_rate=0.01,
            momentum=0.9,
            nesterov=True,
            weight_decay=5e-4,
            lr_milestones=(80, 120),
            lr_decay=0.1,
        ),
        augmentation=AugmentationSettings(crop_padding=0, horizontal_flip=False),
        orthogonality=_SRIP,
    ),
    "fixed_classifier": _FIXED_CLASSIFIER,
    "fixed_classifier_cosine": _FIXED_CLASSIFIER.replace(
        name="fixed_classifier_cosine",
        weight_decay=0.0,
        fixed_logits="cosine",
        fixed_scale=16.0,
    ),
    "os": Recipe(
        name="os",
        epochs=_CIFAR_EPOCHS,
        data=DataSettings(dataset="cifar10", batch_size=_CIFAR_BATCH_SIZE),
        network=NetworkSettings(model="resnet18_cifar"),
        optimization=_CIFAR_OPTIMIZATION,
        orthogonality=OrthogonalitySettings(
            methods=("os",), os_blocks=16, os_weight=0.1
        ),
    ),
    "demo": Recipe(
        name="demo",
        epochs=2,
        data=DataSettings(dataset="cifar10_subset", batch_size=50),
        network=NetworkSettings(model="resnet_cifar", depth=8),
        optimization=OptimizationSettings(
            learning_rate=0.05,
            momentum=0.9,
            weight_decay=5e-4,
            lr_milestones=(1,),
            lr_decay=0.2,
        ),
        orthogonality=OrthogonalitySettings(methods=("ce",)),
    ),
}


def get_recipe(name, **overrides):
    """A preset by name, with `overrides` applied (`Recipe.replace`).

    Presets:

    - `"opl_cifar100"`: ResNet-56 on CIFAR-100, CE + OPL (gamma 0.5, weight 1),
      SGD 0.1, momentum 0.9, coupled weight decay 5e-4, batch 128, 200
      epochs, one warm-up epoch, rate x0.2 from epochs 60, 120, 160.
    - `"srip_wrn"`: WRN-28-10 (dropout 0.3) on CIFAR-10, SRIP 1e-2 with its
      step schedule, Nesterov SGD 0.1, coupled weight decay 5e-4, batch 128,
      200 epochs, rate x0.2 from epochs 60, 120, 160, reflect-padded crops.
    - `"srip_svhn"`: WRN-16-8 (dropout 0.4) on SVHN, SRIP 1e-2 with its
      schedule, Nesterov SGD 0.01, batch 256, 160 epochs, rate x0.1 from
      epochs 80 and 120, no augmentation.
    - `"fixed_classifier"`: ResNet-18 with fixed uniform class vectors, dot
      logits, Nesterov SGD 0.1, coupled weight decay 5e-4, batch 32, 80
      epochs, rate x0.2 on a 3-epoch plateau of the validation accuracy.
    - `"fixed_classifier_cosine"`: the same with cosine logits, scale 16 and
      no weight decay.
    - `"os"`: ResNet-18 on CIFAR-10, CE + 0.1 OS (16 blocks), the OPL CIFAR
      schedule without warm-up.
    - `"demo"`: ResNet-8 on the committed CIFAR-10 subset, 2 epochs at batch
      50 (rate 0.05, then 0.01); under a minute per method on 2 CPU cores.

    Every setting can be overridden, e.g.
    `get_recipe("srip_wrn", dataset="cifar100", methods="so")`.

    Args:
        name: one of `RECIPE_NAMES`.
        **overrides: settings to change, each by its name alone
            (`depth=20`, `crop_padding=0`), or whole groups (`Recipe.replace`).

    Returns:
        A `Recipe`.
    """
    name = validate_choice(name, "name", RECIPE_NAMES)
    return PRESETS[name].replace(**overrides)
