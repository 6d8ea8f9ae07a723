"""The paper presets: the reference recipes of OPL, SRIP, the fixed classifier
and OS, plus the small offline `demo`."""

from keras_ortho._names import RECIPE_NAMES
from keras_ortho._validation import validate_choice
from keras_ortho.recipes.recipe import Recipe

# Shared by the OPL and SRIP CIFAR recipes: SGD 0.1, momentum 0.9, weight
# decay 5e-4 (coupled, as torch's SGD), batch 128, 200 epochs, rate x0.2 from
# epochs 60, 120 and 160, pad-4 crop and horizontal flip.
_CIFAR_SCHEDULE = {
    "epochs": 200,
    "batch_size": 128,
    "learning_rate": 0.1,
    "momentum": 0.9,
    "weight_decay": 5e-4,
    "weight_decay_mode": "coupled",
    "lr_milestones": (60, 120, 160),
    "lr_decay": 0.2,
}

_FIXED_CLASSIFIER = {
    "model": "resnet18_cifar",
    "dataset": "cifar10",
    "methods": ("fixed",),
    "epochs": 80,
    "batch_size": 32,
    "learning_rate": 0.1,
    "momentum": 0.9,
    "nesterov": True,
    "lr_schedule": "plateau",
    "lr_decay": 0.2,
    "plateau_patience": 3,
    "validation_fraction": 0.1,
}

PRESETS = {
    "opl_cifar100": Recipe(
        name="opl_cifar100",
        dataset="cifar100",
        model="resnet_cifar",
        depth=56,
        methods=("opl",),
        warmup_epochs=1,
        opl_gamma=0.5,
        opl_weight=1.0,
        **_CIFAR_SCHEDULE,
    ),
    "srip_wrn": Recipe(
        name="srip_wrn",
        dataset="cifar10",
        model="wide_resnet",
        depth=28,
        width=10,
        dropout=0.3,
        methods=("srip",),
        nesterov=True,
        crop_fill="reflect",
        regularizer_factor=1e-2,
        srip_schedule=True,
        **_CIFAR_SCHEDULE,
    ),
    "srip_svhn": Recipe(
        name="srip_svhn",
        dataset="svhn",
        model="wide_resnet",
        depth=16,
        width=8,
        dropout=0.4,
        methods=("srip",),
        epochs=160,
        batch_size=256,
        learning_rate=0.01,
        momentum=0.9,
        nesterov=True,
        weight_decay=5e-4,
        lr_milestones=(80, 120),
        lr_decay=0.1,
        crop_padding=0,
        horizontal_flip=False,
        regularizer_factor=1e-2,
        srip_schedule=True,
    ),
    "fixed_classifier": Recipe(
        name="fixed_classifier",
        weight_decay=5e-4,
        fixed_logits="dot",
        **_FIXED_CLASSIFIER,
    ),
    "fixed_classifier_cosine": Recipe(
        name="fixed_classifier_cosine",
        weight_decay=0.0,
        fixed_logits="cosine",
        fixed_scale=16.0,
        **_FIXED_CLASSIFIER,
    ),
    "os": Recipe(
        name="os",
        dataset="cifar10",
        model="resnet18_cifar",
        methods=("os",),
        os_blocks=16,
        os_weight=0.1,
        **_CIFAR_SCHEDULE,
    ),
    "demo": Recipe(
        name="demo",
        dataset="cifar10_subset",
        model="resnet_cifar",
        depth=8,
        methods=("ce",),
        epochs=2,
        batch_size=50,
        learning_rate=0.05,
        momentum=0.9,
        weight_decay=5e-4,
        lr_milestones=(1,),
        lr_decay=0.2,
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
        **overrides: `Recipe` fields to change.

    Returns:
        A `Recipe`.
    """
    name = validate_choice(name, "name", RECIPE_NAMES)
    return PRESETS[name].replace(**overrides)
