import keras
import numpy as np
import pytest

from keras_ortho.models import wide_resnet


def trainable_count(model):
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def reference_parameter_count(depth, width, num_classes):
    """PyTorch parameter count of the WRN of Zagoruyko & Komodakis: bias-free
    convs, two BNs per block, 1x1 shortcut conv where the width changes, a
    final BN and a Linear with bias."""
    n = (depth - 4) // 6
    total = 3 * 3 * 3 * 16
    cin = 16
    for cout in (16 * width, 32 * width, 64 * width):
        for _ in range(n):
            total += 2 * cin + 9 * cin * cout + 2 * cout + 9 * cout * cout
            if cin != cout:
                total += cin * cout
            cin = cout
    return total + 2 * cin + cin * num_classes + num_classes


def test_parameter_count_matches_formula():
    # WRN-28-10 differs from WRN-16-8 only in n and k; building its 36.5M
    # parameters would cost more test time than it checks.
    assert trainable_count(wide_resnet(16, 8)) == reference_parameter_count(16, 8, 10)


def test_wrn_28_10_has_36_5_million_parameters():
    # The published size of WRN-28-10 (Zagoruyko & Komodakis, Table 1).
    assert round(reference_parameter_count(28, 10, 10) / 1e6, 1) == 36.5


def test_features_regularizers_and_initializer():
    model = wide_resnet(16, 2, kernel_regularizer=keras.regularizers.L2(1e-4))
    assert tuple(model.get_layer("features").output.shape) == (None, 128)
    model(np.zeros((1, 32, 32, 3), "float32"))
    # Stem, 2 convs in each of 3 x 2 blocks, 3 shortcuts (every stage widens).
    assert len(model.losses) == 1 + 2 * 6 + 3 + 1
    kernel = keras.ops.convert_to_numpy(model.get_layer("stage3_block2_conv2").kernel)
    expected_std = np.sqrt(2.0 / (3 * 3 * 128))
    assert abs(kernel.std() / expected_std - 1) < 0.05
    dropouts = [x for x in model.layers if isinstance(x, keras.layers.Dropout)]
    assert len(dropouts) == 6 and dropouts[0].rate == 0.3
    assert not any(
        isinstance(x, keras.layers.Dropout) for x in wide_resnet(10, 1, 0.0).layers
    )


def test_classifier_swap():
    head = keras.layers.Dense(3, name="other_head")
    model = wide_resnet(10, 1, classifier=head)
    assert model.get_layer("other_head") is head
    assert tuple(model.output.shape) == (None, 3)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"depth": 27}, ValueError),
        ({"width": 0}, ValueError),
        ({"dropout": 1.0}, ValueError),
        ({"dropout": -0.1}, ValueError),
        ({"classifier": 3}, TypeError),
    ],
)
def test_invalid_arguments(kwargs, error):
    with pytest.raises(error):
        wide_resnet(**kwargs)
