import keras
import numpy as np
import pytest

from keras_ortho.models import resnet_cifar
from tests.toolkit import MIXED_POLICIES
from tests.toolkit import mixed_precision
from tests.toolkit import to_numpy


def trainable_count(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def reference_parameter_count(depth, num_classes):
    """PyTorch parameter count of pytorchcv's CIFARResNet: bias-free convs,
    BN weight and bias, 1x1 conv + BN projections, Linear with bias."""
    n = (depth - 2) // 6

    def conv_bn(cin, cout, k):
        return k * k * cin * cout + 2 * cout

    total = conv_bn(3, 16, 3)
    cin = 16
    for cout in (16, 32, 64):
        for _ in range(n):
            total += conv_bn(cin, cout, 3) + conv_bn(cout, cout, 3)
            if cin != cout:
                total += conv_bn(cin, cout, 1)
            cin = cout
    return total + 64 * num_classes + num_classes


def test_resnet56_parameter_count_matches_opl_notes():
    # 861,620 is the count the OPL notes give for the reference ResNet-56.
    assert trainable_count(resnet_cifar(56, num_classes=100)) == 861_620


@pytest.mark.parametrize("depth", [20, 32])
def test_parameter_count_matches_formula(depth):
    assert trainable_count(resnet_cifar(depth)) == reference_parameter_count(depth, 10)


def test_features_layer_and_regularized_kernels():
    model = resnet_cifar(20, kernel_regularizer=keras.regularizers.L2(1e-4))
    assert tuple(model.get_layer("features").output.shape) == (None, 64)
    assert tuple(model.output.shape) == (None, 10)
    images = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3), "uint8")
    model(images)
    # Stem, 2 convs in each of 9 blocks, 2 projection shortcuts, the head.
    assert len(model.losses) == 1 + 2 * 9 + 2 + 1
    assert model.get_layer("classifier").kernel_regularizer is not None


def test_normalization_is_per_channel_mean_and_std():
    model = resnet_cifar(20, mean=(0.5, 0.25, 0.0), std=(0.5, 0.25, 0.125))
    probe = keras.Model(model.input, model.get_layer("normalization").output)
    images = np.random.default_rng(0).integers(0, 256, (2, 4, 4, 3)).astype("uint8")
    images = np.tile(images, (1, 8, 8, 1))
    expected = (images / 255.0 - [0.5, 0.25, 0.0]) / [0.5, 0.25, 0.125]
    np.testing.assert_allclose(to_numpy(probe(images)), expected, rtol=1e-5, atol=1e-5)
    unnormalized = resnet_cifar(20, mean=None, std=None)
    assert "normalization" not in [layer.name for layer in unnormalized.layers]


def test_classifier_swap_uses_the_given_layer():
    head = keras.layers.Dense(7, use_bias=False, name="my_head")
    model = resnet_cifar(20, classifier=head)
    assert model.get_layer("my_head") is head
    assert tuple(model.output.shape) == (None, 7)
    assert "classifier" not in [layer.name for layer in model.layers]


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"depth": 21}, ValueError),
        ({"depth": 2}, ValueError),
        ({"depth": 20.0}, TypeError),
        ({"num_classes": 0}, ValueError),
        ({"classifier": "dense"}, TypeError),
        ({"input_shape": (32, 32)}, ValueError),
        ({"input_shape": (32, 32, 1)}, ValueError),
        ({"mean": (0.5, 0.5, 0.5), "std": None}, ValueError),
        ({"std": (0.2, 0.0, 0.2)}, ValueError),
    ],
)
def test_invalid_arguments(kwargs, error):
    with pytest.raises(error):
        resnet_cifar(**kwargs)


@pytest.mark.parametrize("policy", MIXED_POLICIES)
def test_built_under_a_mixed_policy_computes_in_its_dtype(policy):
    # One forward pass. Compiled and mixed-precision fit steps and .keras files
    # are those of its layers and regularizers (tests/test_contract.py) and of
    # the recipes, which train it (tests/recipes/test_training.py) and whose
    # saved model the report reloads (tests/test_report.py).
    images = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3), "uint8")
    compute_dtype = policy.split("_")[1]
    with mixed_precision(policy):
        model = resnet_cifar(8)
    assert model.get_layer("stem_conv").compute_dtype == compute_dtype
    logits = model(images)
    assert keras.backend.standardize_dtype(logits.dtype) == compute_dtype
    assert np.all(np.isfinite(to_numpy(logits).astype("float32")))
