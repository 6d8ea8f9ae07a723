"""The post-activation CIFAR ResNet of He et al. (ResNet-20 ... ResNet-110)."""

import keras

from keras_ortho._export import register_serializable
from keras_ortho._validation import validate_int
from keras_ortho.models import _blocks


@register_serializable
def resnet_cifar(
    depth=56,
    num_classes=10,
    input_shape=(32, 32, 3),
    kernel_regularizer=None,
    classifier=None,
    name=None,
    mean=_blocks.CIFAR10_MEAN,
    std=_blocks.CIFAR10_STD,
):
    """The CIFAR ResNet of He et al. (2016, section 4.2), post-activation.

    A 3x3 convolution with 16 filters + BN + ReLU, then three stages of
    `n = (depth - 2) / 6` basic blocks of widths 16, 32 and 64 (the first
    block of stages 2 and 3 has stride 2), global average pooling and the
    classifier. A basic block is conv3x3-BN-ReLU-conv3x3-BN, added to its
    input (or to a 1x1 conv + BN projection of it where the shape changes)
    and followed by ReLU. The pooled features are therefore non-negative.

    Parameter counts (trainable, 10 / 100 classes): ResNet-20 272,474 /
    278,324; ResNet-56 855,770 / 861,620; ResNet-110 1,730,714 / 1,736,564.

    The model takes images with values in 0..255 (uint8 or float) and
    normalises them inside, `(x / 255 - mean) / std` per channel, so data and
    augmentation can stay uint8 on the device.

    Args:
        depth: `6n + 2` for an integer `n >= 1`: 20, 32, 44, 56, 110, ...
        num_classes: number of classes of the default Dense head.
        input_shape: `(height, width, channels)` of one image.
        kernel_regularizer: a regularizer (instance, name or config) applied
            to every convolution kernel (stem, residual and shortcut) and to
            the default Dense head's kernel. The one instance is shared by all
            layers, which is safe because Keras regularizers, and every
            `keras_ortho` regularizer, are stateless; changing its `factor`
            changes it everywhere.
        classifier: None for `Dense(num_classes, name="classifier")`, or any
            Keras layer mapping the pooled features to logits (for example
            `keras_ortho.layers.FixedClassifier`), used as given.
        name: the model's name; defaults to `"resnet{depth}_cifar"`.
        mean: per-channel mean of images scaled to [0, 1] (CIFAR-10 by
            default), or None together with `std` to skip normalisation.
        std: per-channel standard deviation on the same scale.

    Returns:
        A Functional `keras.Model` mapping images to logits. The pooled
        features are `model.get_layer("features").output`.

    Example:

    ```python
    model = keras_ortho.models.resnet_cifar(
        56,
        num_classes=100,
        kernel_regularizer=keras_ortho.regularizers.SRIP(1e-2),
    )
    features = model.get_layer("features").output
    ```

    Reference:
        K. He, X. Zhang, S. Ren, J. Sun, "Deep Residual Learning for Image
        Recognition", CVPR 2016. Matches pytorchcv's `CIFARResNet` as trained
        by the OPL reference code (Ranasinghe et al., ICCV 2021): projection
        shortcuts (`resize_identity`), bias-free convolutions, He uniform
        initialisation, PyTorch BatchNorm momentum and epsilon.
    """
    depth = validate_int(depth, "depth", minimum=8)
    if (depth - 2) % 6:
        raise ValueError(
            "Invalid value for argument `depth`: expected 6n + 2 (20, 32, 44, "
            f"56, 110, ...). Received: depth={depth!r}"
        )
    # pytorchcv initialises every convolution with kaiming_uniform_ (gain sqrt 2).
    initializer = keras.initializers.HeUniform()
    blocks_per_stage = (depth - 2) // 6
    name = name or f"resnet{depth}_cifar"

    def body(x, regularizer):
        return _blocks.post_activation_resnet(
            x, (16, 32, 64), blocks_per_stage, initializer, regularizer
        )

    return _blocks.image_classifier(
        body, num_classes, input_shape, kernel_regularizer, classifier, name, mean, std
    )
