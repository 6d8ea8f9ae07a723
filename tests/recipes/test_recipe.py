import dataclasses
import json

import pytest

from keras_ortho.recipes import RECIPE_NAMES
from keras_ortho.recipes import AugmentationSettings
from keras_ortho.recipes import DataSettings
from keras_ortho.recipes import NetworkSettings
from keras_ortho.recipes import OptimizationSettings
from keras_ortho.recipes import OrthogonalitySettings
from keras_ortho.recipes import Recipe
from keras_ortho.recipes import get_recipe
from keras_ortho.recipes.presets import PRESETS
from keras_ortho.recipes.recipe import GROUPS


def test_opl_cifar100_matches_the_reference():
    # opl.md section 2: train.py -net resnet56 -lr 0.1 -b 128 -opl_ratio 1.0
    # -opl_gamma 0.5, SGD momentum 0.9, wd 5e-4, 200 epochs, x0.2 at
    # 60/120/160, one warm-up epoch.
    recipe = get_recipe("opl_cifar100")
    network, optimization = recipe.network, recipe.optimization
    assert recipe.data.dataset == "cifar100"
    assert (network.model, network.depth) == ("resnet_cifar", 56)
    assert recipe.orthogonality.methods == ("opl",)
    assert (recipe.orthogonality.opl_gamma, recipe.orthogonality.opl_weight) == (
        0.5,
        1.0,
    )
    assert (
        optimization.learning_rate,
        optimization.momentum,
        optimization.nesterov,
    ) == (0.1, 0.9, False)
    assert (optimization.weight_decay, optimization.weight_decay_mode) == (
        5e-4,
        "coupled",
    )
    assert (recipe.data.batch_size, recipe.epochs) == (128, 200)
    assert optimization.warmup_epochs == 1
    assert (optimization.lr_milestones, optimization.lr_decay) == ((60, 120, 160), 0.2)


def test_srip_wrn_matches_the_reference():
    # kernel_ortho.md section 2.2: WRN-28-10, dropout 0.3, Nesterov SGD 0.1,
    # wd 5e-4, x0.2 at 60/120/160, 200 epochs, batch 128, ortho-decay 1e-2.
    recipe = get_recipe("srip_wrn")
    network, optimization = recipe.network, recipe.optimization
    assert (network.model, network.depth, network.width, network.dropout) == (
        "wide_resnet",
        28,
        10,
        0.3,
    )
    orthogonality = recipe.orthogonality
    assert orthogonality.methods == ("srip",)
    assert orthogonality.regularizer_factor == 1e-2
    assert orthogonality.srip_schedule and optimization.nesterov
    assert (optimization.learning_rate, optimization.weight_decay) == (0.1, 5e-4)
    assert recipe.data.batch_size == 128
    assert (optimization.lr_milestones, optimization.lr_decay, recipe.epochs) == (
        (60, 120, 160),
        0.2,
        200,
    )
    assert recipe.augmentation.crop_fill == "reflect"


def test_fixed_classifier_presets():
    # fixed_classifier.md sections 2 and 5: ResNet-18, Nesterov SGD 0.1,
    # momentum 0.9, batch 32, 80 epochs, plateau x0.2 patience 3; weight
    # decay 5e-4 with dot logits, 0 with cosine logits.
    dot, cosine = get_recipe("fixed_classifier"), get_recipe("fixed_classifier_cosine")
    for recipe in (dot, cosine):
        optimization = recipe.optimization
        assert recipe.network.model == "resnet18_cifar"
        assert recipe.orthogonality.methods == ("fixed",)
        assert (
            optimization.learning_rate,
            optimization.momentum,
            optimization.nesterov,
        ) == (0.1, 0.9, True)
        assert (recipe.data.batch_size, recipe.epochs) == (32, 80)
        assert (
            optimization.lr_schedule,
            optimization.lr_decay,
            optimization.plateau_patience,
        ) == ("plateau", 0.2, 3)
        assert recipe.orthogonality.fixed_init == "uniform"
    assert (dot.orthogonality.fixed_logits, dot.optimization.weight_decay) == (
        "dot",
        5e-4,
    )
    assert (cosine.orthogonality.fixed_logits, cosine.optimization.weight_decay) == (
        "cosine",
        0.0,
    )
    assert cosine.orthogonality.fixed_scale == 16.0


def test_every_preset_is_named_after_its_key():
    assert set(RECIPE_NAMES) >= {"opl_cifar100", "srip_wrn", "fixed_classifier", "os"}
    for name, recipe in PRESETS.items():
        assert recipe.name == name


def test_replace_validates_and_parses():
    recipe = get_recipe("demo").replace(methods="opl,so", epochs=3)
    assert recipe.orthogonality.methods == ("opl", "so") and recipe.epochs == 3
    assert get_recipe("demo", methods=["so"]).orthogonality.methods == ("so",)
    with pytest.raises(ValueError, match="epochs"):
        get_recipe("demo", epochs=0)
    with pytest.raises(TypeError, match=r"no_such_setting.*crop_padding"):
        get_recipe("demo").replace(no_such_setting=1)


def test_replace_by_name_changes_only_the_group_holding_it():
    demo = get_recipe("demo")
    recipe = demo.replace(depth=20, crop_padding=0, epochs=5, seed=3)
    assert recipe.network == dataclasses.replace(demo.network, depth=20)
    assert recipe.augmentation == dataclasses.replace(demo.augmentation, crop_padding=0)
    assert (recipe.epochs, recipe.seed) == (5, 3)
    for group in ("data", "optimization", "orthogonality"):
        assert getattr(recipe, group) is getattr(demo, group)


def test_replace_by_name_equals_replace_by_group():
    demo = get_recipe("demo")
    augmentation = AugmentationSettings(crop_padding=0, horizontal_flip=False)
    assert demo.replace(augmentation=augmentation) == demo.replace(
        crop_padding=0, horizontal_flip=False
    )
    by_group = get_recipe(
        "demo", network=NetworkSettings(model="wide_resnet", depth=10, width=2)
    )
    assert by_group == get_recipe("demo", model="wide_resnet", depth=10, width=2)
    with pytest.raises(TypeError, match="either the group `augmentation`"):
        demo.replace(augmentation=augmentation, cutout=4)


def test_every_setting_name_is_unique():
    names = [f.name for f in dataclasses.fields(Recipe) if f.name not in GROUPS]
    for settings_class in GROUPS.values():
        names += [f.name for f in dataclasses.fields(settings_class)]
    assert len(names) == len(set(names))
    assert not set(names) & set(GROUPS)


@pytest.mark.parametrize(
    "settings_class, changes, match",
    [
        (DataSettings, {"dataset": "mnist"}, "dataset"),
        (DataSettings, {"batch_size": 0}, "batch_size"),
        (DataSettings, {"validation_fraction": 1.0}, "validation_fraction"),
        (DataSettings, {"train_size": 0}, "train_size"),
        (DataSettings, {"steps_per_epoch": 0}, "steps_per_epoch"),
        (NetworkSettings, {"model": "vgg"}, "model"),
        (NetworkSettings, {"depth": 4}, "depth"),
        (NetworkSettings, {"dropout": 1.0}, "dropout"),
        (OptimizationSettings, {"learning_rate": 0.0}, "learning_rate"),
        (OptimizationSettings, {"momentum": 1.5}, "momentum"),
        (OptimizationSettings, {"nesterov": 1}, "nesterov"),
        (OptimizationSettings, {"weight_decay_mode": "l2"}, "weight_decay_mode"),
        (OptimizationSettings, {"lr_schedule": "cosine"}, "lr_schedule"),
        (OptimizationSettings, {"lr_milestones": (5, 2)}, "lr_milestones"),
        (OptimizationSettings, {"lr_milestones": 5}, "lr_milestones"),
        (AugmentationSettings, {"crop_fill": "edge"}, "crop_fill"),
        (AugmentationSettings, {"randaugment_ops": -1}, "randaugment_ops"),
        (AugmentationSettings, {"randaugment_magnitude": 31}, "randaugment_magnitude"),
        (AugmentationSettings, {"mixup_alpha": -1.0}, "mixup_alpha"),
        (AugmentationSettings, {"mixing_probability": 0.0}, "mixing_probability"),
        (OrthogonalitySettings, {"methods": "opl,xyz"}, "methods"),
        (OrthogonalitySettings, {"os_blocks": 0}, "os_blocks"),
        (OrthogonalitySettings, {"regularizer_factor": -1.0}, "regularizer_factor"),
        (OrthogonalitySettings, {"fixed_logits": "l2"}, "fixed_logits"),
        (OrthogonalitySettings, {"fixed_scale": "big"}, "fixed_scale"),
    ],
)
def test_each_group_validates_its_settings(settings_class, changes, match):
    with pytest.raises((ValueError, TypeError), match=f"`{match}`"):
        settings_class(**changes)
    # The same message through the recipe, by the setting's name alone.
    with pytest.raises((ValueError, TypeError), match=f"`{match}`"):
        Recipe().replace(**changes)


def test_groups_normalise_their_values():
    assert OrthogonalitySettings(methods="ce,opl").methods == ("opl",)
    assert OptimizationSettings(lr_milestones=[3, 5]).lr_milestones == (3, 5)
    assert isinstance(DataSettings(validation_fraction=0).validation_fraction, float)


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"jit_compile": "yes"}, "jit_compile"),
        ({"name": ""}, "name"),
        ({"epochs": 0}, "epochs"),
        ({"seed": -1}, "seed"),
        ({"distribution": "ddp"}, "distribution"),
        ({"devices": 0, "distribution": "data_parallel"}, "devices"),
        ({"synchronized_batch_norm": 1}, "synchronized_batch_norm"),
        ({"data": {"dataset": "cifar10"}}, "DataSettings"),
        ({"orthogonality": "opl"}, "OrthogonalitySettings"),
        # The rules across groups.
        ({"lr_schedule": "plateau"}, "validation_fraction"),
        ({"cutmix_alpha": 1.0, "methods": "opl"}, "feature loss 'opl'"),
        ({"mixup_alpha": 1.0, "methods": "os,so"}, "feature loss 'os'"),
        ({"devices": 2}, "distribution='data_parallel'"),
        ({"devices": 3, "distribution": "data_parallel"}, "multiple of 3"),
    ],
)
def test_invalid_recipes(changes, match):
    with pytest.raises((ValueError, TypeError), match=match):
        Recipe().replace(**changes)


def test_unknown_preset():
    with pytest.raises(ValueError, match="name"):
        get_recipe("resnet1000")


def test_to_dict_lists_every_setting_by_name():
    recipe = get_recipe("srip_wrn", mixup_alpha=0.5)
    settings = recipe.to_dict()
    assert settings["lr_milestones"] == [60, 120, 160]
    assert settings["methods"] == ["srip"]
    assert settings["model"] == "wide_resnet" and settings["mixup_alpha"] == 0.5
    assert not set(settings) & set(GROUPS)
    # As results.json stores it, and reads it back into the same recipe.
    assert Recipe().replace(**json.loads(json.dumps(settings))) == recipe


def test_a_results_json_of_the_flat_recipe_reads_back():
    # The settings of a run written before the settings were grouped: the
    # same names, in the order of the flat dataclass.
    stored = {
        "name": "demo",
        "dataset": "cifar10_subset",
        "model": "resnet_cifar",
        "depth": 8,
        "methods": ["opl", "so"],
        "epochs": 1,
        "batch_size": 16,
        "lr_milestones": [1],
        "crop_padding": 4,
        "train_size": 64,
        "seed": 0,
        "distribution": "none",
        "devices": None,
    }
    recipe = Recipe().replace(**stored)
    assert recipe.orthogonality.methods == ("opl", "so")
    assert recipe.data.batch_size == 16 and recipe.network.depth == 8


def test_mixing_settings():
    assert get_recipe("demo").augmentation.mixing is None
    mixing = get_recipe(
        "demo", mixup_alpha=0.2, cutmix_alpha=1.0, mixing_probability=0.5
    ).augmentation.mixing
    assert (mixing.mixup_alpha, mixing.cutmix_alpha, mixing.probability) == (
        0.2,
        1.0,
        0.5,
    )
