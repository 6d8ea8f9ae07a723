"""ResNet-18 with a CIFAR stem: 3x3 stride-1 convolution and no max-pool."""

from keras_ortho._export import register_serializable
from keras_ortho.models import _blocks


@register_serializable
def resnet18_cifar(
    num_classes=10,
    input_shape=(32, 32, 3),
    kernel_regularizer=None,
    classifier=None,
    name=None,
    mean=_blocks.CIFAR10_MEAN,
    std=_blocks.CIFAR10_STD,
):
    """ResNet-18 for small images: a 3x3 stride-1 stem and no max-pool.

    A 3x3 convolution with 64 filters + BN + ReLU, then four stages of two
    post-activation basic blocks (conv3x3-BN-ReLU-conv3x3-BN, 1x1 conv + BN
    shortcut where the shape changes, ReLU after the addition) of widths 64,
    128, 256 and 512 (stride 2 at the first block of stages 2 to 4), global
    average pooling (512 features) and the classifier. 11,173,962 trainable
    parameters with 10 classes.

    On 32x32 inputs the global pooling equals the reference's
    `avg_pool2d(4)`. On larger inputs (STL-10 96x96, Tiny ImageNet 64x64)
    the reference's fixed 4x4 pool keeps a spatial grid (4608 features on
    STL-10); this builder always pools globally, to 512 features.

    The model takes images with values in 0..255 (uint8 or float) and
    normalises them inside, `(x / 255 - mean) / std` per channel.

    Args:
        num_classes: number of classes of the default Dense head.
        input_shape: `(height, width, channels)` of one image.
        kernel_regularizer: a regularizer applied to every convolution kernel
            and the default Dense head's kernel; one shared instance (see
            `resnet_cifar`).
        classifier: None for `Dense(num_classes, name="classifier")`, or any
            Keras layer mapping the pooled features to logits, used as given.
        name: the model's name; defaults to `"resnet18_cifar"`.
        mean: per-channel mean of images scaled to [0, 1] (CIFAR-10 by
            default), or None together with `std` to skip normalisation.
        std: per-channel standard deviation on the same scale.

    Returns:
        A Functional `keras.Model` mapping images to logits; the pooled
        features are `model.get_layer("features").output`.

    Example:

    ```python
    model = keras_ortho.models.resnet18_cifar(
        num_classes=200,
        input_shape=(64, 64, 3),
        classifier=keras_ortho.layers.FixedClassifier(units=200),
    )
    ```

    Reference:
        K. He, X. Zhang, S. Ren, J. Sun, "Deep Residual Learning for Image
        Recognition", CVPR 2016. Matches the encoder of
        MLSpeech/FixedClassificationLayer (kuangliu/pytorch-cifar's
        ResNet18): PyTorch's default initialisation, BatchNorm momentum and
        epsilon.
    """
    initializer = _blocks.torch_default_initializer()
    name = name or "resnet18_cifar"

    def body(x, regularizer):
        return _blocks.post_activation_resnet(
            x, (64, 128, 256, 512), 2, initializer, regularizer
        )

    return _blocks.image_classifier(
        body, num_classes, input_shape, kernel_regularizer, classifier, name, mean, std
    )
