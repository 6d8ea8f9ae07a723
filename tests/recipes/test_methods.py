import pytest

from keras_ortho import callbacks
from keras_ortho import constraints
from keras_ortho import layers
from keras_ortho import losses
from keras_ortho import regularizers
from keras_ortho.recipes import METHOD_NAMES
from keras_ortho.recipes import OrthogonalitySettings
from keras_ortho.recipes import get_recipe
from keras_ortho.recipes import parse_methods
from keras_ortho.recipes._training_model import build_classifier
from keras_ortho.recipes.methods import method_components
from keras_ortho.recipes.methods import method_label


def test_method_names_cover_the_issue():
    expected = [
        "ce",
        "opl",
        "os",
        "so",
        "dso",
        "mc",
        "srip",
        "ocnn",
        "disentangled",
        "relaxed",
        "orth",
        "fixed",
    ]
    assert sorted(METHOD_NAMES) == sorted(expected)


@pytest.mark.parametrize(
    "methods, expected",
    [
        ("ce", ("ce",)),
        ("opl,so", ("opl", "so")),
        (" OPL , fixed ", ("opl", "fixed")),
        ("ce,opl", ("opl",)),
        (["opl", "so,fixed"], ("opl", "so", "fixed")),
        ("so,so", ("so",)),
    ],
)
def test_parse_methods(methods, expected):
    assert parse_methods(methods) == expected


@pytest.mark.parametrize(
    "methods, match",
    [
        ("", "methods"),
        ("opl,xyz", "xyz"),
        ("opl,os", "feature loss"),
        ("so,srip", "kernel regularizer"),
    ],
)
def test_parse_methods_rejects(methods, match):
    with pytest.raises(ValueError, match=match):
        parse_methods(methods)


def test_parse_methods_type():
    with pytest.raises(TypeError, match="methods"):
        parse_methods(3)


def test_label():
    assert method_label("so,opl") == "so+opl"
    assert method_label("ce") == "ce"


# Each kernel method's regularizer class and the factor it gets by default:
# SRIP 1e-2 (Bansal et al.'s --ortho-decay) and OCNN 0.1 (its -r default),
# 1e-4 for the rest.
@pytest.mark.parametrize(
    "method, regularizer_class, factor",
    [
        ("so", regularizers.SoftOrthogonality, 1e-4),
        ("dso", regularizers.DoubleSoftOrthogonality, 1e-4),
        ("mc", regularizers.MutualCoherence, 1e-4),
        ("srip", regularizers.SpectralRestrictedIsometry, 1e-2),
        ("ocnn", regularizers.OrthogonalConvolution, 0.1),
        ("disentangled", regularizers.DisentangledOrthogonality, 1e-4),
        ("relaxed", regularizers.RelaxedOrthogonality, 1e-4),
    ],
)
def test_kernel_regularizers(method, regularizer_class, factor):
    components = method_components(OrthogonalitySettings(methods=method), 10, seed=0)
    assert type(components.kernel_regularizer) is regularizer_class
    assert components.kernel_regularizer.factor == factor
    assert components.feature_loss is None and components.classifier is None
    scheduled = [
        c for c in components.callbacks if isinstance(c, callbacks.RegularizerSchedule)
    ]
    assert len(scheduled) == (method == "srip")


def test_regularizer_factor_override_and_no_schedule():
    recipe = get_recipe(
        "demo", methods="srip", regularizer_factor=0.5, srip_schedule=False
    )
    components = method_components(recipe.orthogonality, 10, recipe.seed)
    assert components.kernel_regularizer.factor == 0.5
    assert components.callbacks == ()


def test_feature_losses_and_head():
    recipe = get_recipe("demo", methods="opl,fixed", opl_gamma=2.0, opl_weight=0.1)
    components = method_components(recipe.orthogonality, 7, recipe.seed)
    assert isinstance(components.feature_loss, losses.OrthogonalProjectionLoss)
    assert components.feature_loss.gamma == 2.0
    assert components.feature_loss_weight == 0.1
    assert isinstance(components.classifier, layers.FixedClassifier)
    assert components.classifier.units == 7
    assert components.kernel_regularizer is None

    components = method_components(
        OrthogonalitySettings(methods="os", os_blocks=8), 10, seed=0
    )
    assert isinstance(components.feature_loss, losses.OrthogonalSphereLoss)
    assert components.feature_loss.num_blocks == 8
    assert components.feature_loss_weight == 0.1


def test_cosine_head():
    components = method_components(
        get_recipe("fixed_classifier_cosine").orthogonality, 10, seed=0
    )
    assert components.classifier.get_config()["logits"] == "cosine"
    assert components.classifier.get_config()["scale"] == 16.0


def test_orth_places_the_orthogonal_constraint_on_every_kernel():
    recipe = get_recipe("demo", methods="opl,so,orth,fixed")
    components = method_components(recipe.orthogonality, 10, recipe.seed)
    assert isinstance(components.kernel_constraint, constraints.Orthogonal)
    assert isinstance(components.kernel_regularizer, regularizers.SoftOrthogonality)
    model = build_classifier(
        recipe.network, 10, (32, 32, 3), (0.0, 0.0, 0.0), (1.0, 1.0, 1.0), components
    )
    kernels = [v for v in model.trainable_variables if len(v.shape) >= 2]
    assert kernels and all(
        isinstance(v.constraint, constraints.Orthogonal) for v in kernels
    )
    assert (
        method_components(OrthogonalitySettings(), 10, seed=0).kernel_constraint is None
    )
