import pytest

from keras_ortho.recipes import RECIPE_NAMES
from keras_ortho.recipes import Recipe
from keras_ortho.recipes import get_recipe
from keras_ortho.recipes.presets import PRESETS


def test_opl_cifar100_matches_the_reference():
    # opl.md section 2: train.py -net resnet56 -lr 0.1 -b 128 -opl_ratio 1.0
    # -opl_gamma 0.5, SGD momentum 0.9, wd 5e-4, 200 epochs, x0.2 at
    # 60/120/160, one warm-up epoch.
    recipe = get_recipe("opl_cifar100")
    assert (recipe.dataset, recipe.model, recipe.depth) == (
        "cifar100",
        "resnet_cifar",
        56,
    )
    assert recipe.methods == ("opl",)
    assert (recipe.opl_gamma, recipe.opl_weight) == (0.5, 1.0)
    assert (recipe.learning_rate, recipe.momentum, recipe.nesterov) == (0.1, 0.9, False)
    assert (recipe.weight_decay, recipe.weight_decay_mode) == (5e-4, "coupled")
    assert (recipe.batch_size, recipe.epochs, recipe.warmup_epochs) == (128, 200, 1)
    assert (recipe.lr_milestones, recipe.lr_decay) == ((60, 120, 160), 0.2)


def test_srip_wrn_matches_the_reference():
    # kernel_ortho.md section 2.2: WRN-28-10, dropout 0.3, Nesterov SGD 0.1,
    # wd 5e-4, x0.2 at 60/120/160, 200 epochs, batch 128, ortho-decay 1e-2.
    recipe = get_recipe("srip_wrn")
    assert (recipe.model, recipe.depth, recipe.width, recipe.dropout) == (
        "wide_resnet",
        28,
        10,
        0.3,
    )
    assert recipe.methods == ("srip",) and recipe.regularizer_factor == 1e-2
    assert recipe.srip_schedule and recipe.nesterov
    assert (recipe.learning_rate, recipe.weight_decay, recipe.batch_size) == (
        0.1,
        5e-4,
        128,
    )
    assert (recipe.lr_milestones, recipe.lr_decay, recipe.epochs) == (
        (60, 120, 160),
        0.2,
        200,
    )


def test_fixed_classifier_presets():
    # fixed_classifier.md sections 2 and 5: ResNet-18, Nesterov SGD 0.1,
    # momentum 0.9, batch 32, 80 epochs, plateau x0.2 patience 3; weight
    # decay 5e-4 with dot logits, 0 with cosine logits.
    dot, cosine = get_recipe("fixed_classifier"), get_recipe("fixed_classifier_cosine")
    for recipe in (dot, cosine):
        assert recipe.model == "resnet18_cifar" and recipe.methods == ("fixed",)
        assert (recipe.learning_rate, recipe.momentum, recipe.nesterov) == (
            0.1,
            0.9,
            True,
        )
        assert (recipe.batch_size, recipe.epochs) == (32, 80)
        assert (recipe.lr_schedule, recipe.lr_decay, recipe.plateau_patience) == (
            "plateau",
            0.2,
            3,
        )
        assert recipe.fixed_init == "uniform"
    assert (dot.fixed_logits, dot.weight_decay) == ("dot", 5e-4)
    assert (cosine.fixed_logits, cosine.weight_decay) == ("cosine", 0.0)


def test_every_preset_is_named_after_its_key():
    assert set(RECIPE_NAMES) >= {"opl_cifar100", "srip_wrn", "fixed_classifier", "os"}
    for name, recipe in PRESETS.items():
        assert recipe.name == name


def test_replace_validates_and_parses():
    recipe = get_recipe("demo").replace(methods="opl,so", epochs=3)
    assert recipe.methods == ("opl", "so") and recipe.epochs == 3
    assert get_recipe("demo", methods=["so"]).methods == ("so",)
    with pytest.raises(ValueError, match="epochs"):
        get_recipe("demo", epochs=0)
    with pytest.raises(TypeError, match="no_such_setting"):
        get_recipe("demo").replace(no_such_setting=1)


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"dataset": "mnist"}, "dataset"),
        ({"model": "vgg"}, "model"),
        ({"momentum": 1.5}, "momentum"),
        ({"weight_decay_mode": "l2"}, "weight_decay_mode"),
        ({"lr_milestones": (5, 2)}, "lr_milestones"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
        ({"lr_schedule": "plateau"}, "validation_fraction"),
        ({"fixed_scale": "big"}, "fixed_scale"),
        ({"jit_compile": "yes"}, "jit_compile"),
        ({"name": ""}, "name"),
        ({"train_size": 0}, "train_size"),
        ({"mixing_probability": 0.0}, "mixing_probability"),
        ({"randaugment_magnitude": 31}, "randaugment_magnitude"),
        ({"randaugment_ops": -1}, "randaugment_ops"),
        ({"mixup_alpha": -1.0}, "mixup_alpha"),
        ({"cutmix_alpha": 1.0, "methods": "opl"}, "feature loss 'opl'"),
        ({"mixup_alpha": 1.0, "methods": "os,so"}, "feature loss 'os'"),
        ({"distribution": "ddp"}, "distribution"),
        ({"devices": 0, "distribution": "data_parallel"}, "devices"),
        ({"devices": 2}, "distribution='data_parallel'"),
        ({"devices": 3, "distribution": "data_parallel"}, "multiple of 3"),
        ({"synchronized_batch_norm": 1}, "synchronized_batch_norm"),
    ],
)
def test_invalid_settings(changes, match):
    with pytest.raises((ValueError, TypeError), match=match):
        Recipe(**changes)


def test_unknown_preset():
    with pytest.raises(ValueError, match="name"):
        get_recipe("resnet1000")


def test_to_dict_is_json_ready():
    settings = get_recipe("srip_wrn").to_dict()
    assert settings["lr_milestones"] == [60, 120, 160]
    assert settings["methods"] == ["srip"]
    assert Recipe(**settings) == get_recipe("srip_wrn")


def test_mixing_settings():
    assert get_recipe("demo").mixing is None
    mixing = get_recipe(
        "demo", mixup_alpha=0.2, cutmix_alpha=1.0, mixing_probability=0.5
    ).mixing
    assert (mixing.mixup_alpha, mixing.cutmix_alpha, mixing.probability) == (
        0.2,
        1.0,
        0.5,
    )
