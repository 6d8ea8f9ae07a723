"""The pre-activation Wide ResNet of Zagoruyko & Komodakis (WRN-d-k)."""

import functools

import keras

from keras_ortho._export import register_serializable
from keras_ortho._validation import validate_int
from keras_ortho._validation import validate_non_negative_float
from keras_ortho.models import _blocks


def _bn_relu(x, name):
    return _blocks.relu(_blocks.batch_norm(x, f"{name}_bn"), f"{name}_relu")


def _wide_block(x, filters, strides, dropout, initializer, regularizer, name):
    """BN-ReLU-conv3x3-BN-ReLU-dropout-conv3x3 plus the shortcut. Where the
    shape changes, the 1x1 shortcut convolution reads the pre-activated input
    (as the residual branch does); otherwise the raw input is added."""
    activated = _bn_relu(x, f"{name}_preact1")
    residual = _blocks.conv(
        activated, filters, 3, strides, initializer, regularizer, f"{name}_conv1"
    )
    residual = _bn_relu(residual, f"{name}_preact2")
    if dropout:
        residual = keras.layers.Dropout(dropout, name=f"{name}_dropout")(residual)
    residual = _blocks.conv(
        residual, filters, 3, 1, initializer, regularizer, f"{name}_conv2"
    )
    shortcut = x
    if strides != 1 or x.shape[-1] != filters:
        shortcut = _blocks.conv(
            activated,
            filters,
            1,
            strides,
            initializer,
            regularizer,
            f"{name}_shortcut_conv",
        )
    return keras.layers.Add(name=f"{name}_add")([residual, shortcut])


@register_serializable
def wide_resnet(
    depth=28,
    width=10,
    dropout=0.3,
    num_classes=10,
    input_shape=(32, 32, 3),
    kernel_regularizer=None,
    classifier=None,
    name=None,
    mean=_blocks.CIFAR10_MEAN,
    std=_blocks.CIFAR10_STD,
):
    """Wide ResNet WRN-`depth`-`width` (Zagoruyko & Komodakis, 2016).

    A 3x3 convolution with 16 filters, then three stages of
    `n = (depth - 4) / 6` pre-activation wide blocks of widths `16 * width`,
    `32 * width` and `64 * width` (stride 2 at the first block of stages 2
    and 3), a final BN + ReLU, global average pooling and the classifier. A
    wide block is BN-ReLU-conv3x3-BN-ReLU-dropout-conv3x3 added to its input,
    or to a 1x1 convolution of the pre-activated input where the shape
    changes. Convolutions are initialised from N(0, 2 / (k * k * filters))
    (He, fan-out), as in the SRIP code.

    Trainable parameters with 10 classes: WRN-16-8 10,961,370; WRN-28-10
    36,479,194.

    The model takes images with values in 0..255 (uint8 or float) and
    normalises them inside, `(x / 255 - mean) / std` per channel. The SRIP
    code normalises with mean (125.3, 123.0, 113.9) / 255 and std
    (63.0, 62.1, 66.7) / 255; pass those to reproduce it exactly.

    Args:
        depth: `6n + 4` for an integer `n >= 1`: 16, 22, 28, 40, ...
        width: the widening factor `k`, an integer >= 1.
        dropout: dropout rate between the two convolutions of each block, in
            [0, 1); 0 leaves the Dropout layers out.
        num_classes: number of classes of the default Dense head.
        input_shape: `(height, width, channels)` of one image.
        kernel_regularizer: a regularizer applied to every convolution kernel
            (stem, residual and shortcut) and the default Dense head's kernel;
            one shared instance (see `resnet_cifar`).
        classifier: None for `Dense(num_classes, name="classifier")`, or any
            Keras layer mapping the pooled features to logits, used as given.
        name: the model's name; defaults to `"wide_resnet{depth}_{width}"`.
        mean: per-channel mean of images scaled to [0, 1] (CIFAR-10 by
            default), or None together with `std` to skip normalisation.
        std: per-channel standard deviation on the same scale.

    Returns:
        A Functional `keras.Model` mapping images to logits; the pooled
        features are `model.get_layer("features").output`.

    Example:

    ```python
    # WRN-16-2; the SRIP recipe trains WRN-28-10, wide_resnet(28, 10).
    model = keras_ortho.models.wide_resnet(
        16, 2, dropout=0.3, kernel_regularizer=keras_ortho.regularizers.SRIP(1e-2)
    )
    ```

    Reference:
        S. Zagoruyko, N. Komodakis, "Wide Residual Networks", BMVC 2016. As
        trained by `Wide-Resnet/train_n.py` of the SRIP code (Bansal et al.,
        NeurIPS 2018), whose network follows xternalz/WideResNet-pytorch.
    """
    depth = validate_int(depth, "depth", minimum=10)
    if (depth - 4) % 6:
        raise ValueError(
            "Invalid value for argument `depth`: expected 6n + 4 (16, 22, 28, "
            f"40, ...). Received: depth={depth!r}"
        )
    width = validate_int(width, "width", minimum=1)
    dropout = validate_non_negative_float(dropout, "dropout")
    if dropout >= 1:
        raise ValueError(
            "Invalid value for argument `dropout`: expected a rate in [0, 1). "
            f"Received: dropout={dropout!r}"
        )
    initializer = keras.initializers.VarianceScaling(
        2.0, "fan_out", "untruncated_normal"
    )
    widths = (16 * width, 32 * width, 64 * width)
    blocks_per_stage = (depth - 4) // 6
    name = name or f"wide_resnet{depth}_{width}"

    def body(x, regularizer):
        x = _blocks.conv(x, 16, 3, 1, initializer, regularizer, "stem_conv")
        block = functools.partial(
            _wide_block,
            dropout=dropout,
            initializer=initializer,
            regularizer=regularizer,
        )
        x = _blocks.residual_stages(x, widths, blocks_per_stage, block)
        return _bn_relu(x, "final")

    return _blocks.image_classifier(
        body, num_classes, input_shape, kernel_regularizer, classifier, name, mean, std
    )
