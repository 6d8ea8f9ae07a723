import keras
import numpy as np

from keras_ortho.models import resnet18_cifar


def reference_parameter_count(num_classes):
    """PyTorch parameter count of kuangliu's CIFAR ResNet-18."""

    def conv_bn(cin, cout, k):
        return k * k * cin * cout + 2 * cout

    total = conv_bn(3, 64, 3)
    cin = 64
    for cout in (64, 128, 256, 512):
        for _ in range(2):
            total += conv_bn(cin, cout, 3) + conv_bn(cout, cout, 3)
            if cin != cout:
                total += conv_bn(cin, cout, 1)
            cin = cout
    return total + 512 * num_classes + num_classes


class Scaled(keras.layers.Layer):
    """A classifier that is not a Dense layer: features times a fixed matrix."""

    def call(self, features):
        return keras.ops.matmul(features, keras.ops.ones((512, 4)))


def test_parameter_count_features_regularizers():
    model = resnet18_cifar(kernel_regularizer=keras.regularizers.L2(1e-4))
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable == reference_parameter_count(10) == 11_173_962
    assert tuple(model.get_layer("features").output.shape) == (None, 512)
    assert [x for x in model.layers if isinstance(x, keras.layers.MaxPooling2D)] == []
    assert model.get_layer("stem_conv").strides == (1, 1)
    # Stem, 2 convs in each of 8 blocks, 3 projection shortcuts, the head.
    assert len(model.losses) == 1 + 16 + 3 + 1


def test_custom_classifier_and_larger_inputs():
    model = resnet18_cifar(input_shape=(64, 64, 3), classifier=Scaled(name="scaled"))
    images = np.random.default_rng(0).integers(0, 256, (2, 64, 64, 3), "uint8")
    features = keras.Model(model.input, model.get_layer("features").output)(images)
    logits = model(images)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(logits),
        keras.ops.convert_to_numpy(features).sum(axis=1, keepdims=True) * np.ones(4),
        rtol=1e-5,
    )
