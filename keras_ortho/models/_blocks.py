"""Pieces shared by the CIFAR-style builders: argument checks, the input
normalisation, convolutions padded as PyTorch pads them, residual stages and
the head."""

import functools
import numbers

import keras

from keras_ortho._validation import validate_int
from keras_ortho._validation import validate_positive_float
from keras_ortho.models import _fast_layers

CIFAR10_MEAN = (0.4914, 0.4822, 0.4465)
CIFAR10_STD = (0.2470, 0.2435, 0.2616)

# PyTorch's BatchNorm2d defaults: running = 0.9 * running + 0.1 * batch, eps 1e-5.
BATCH_NORM_MOMENTUM = 0.9
BATCH_NORM_EPSILON = 1e-5


def torch_default_initializer():
    """`nn.Conv2d`/`nn.Linear`'s default `kaiming_uniform_(a=sqrt(5))`:
    U(-b, b) with b = 1 / sqrt(fan_in)."""
    return keras.initializers.VarianceScaling(1.0 / 3.0, "fan_in", "uniform")


def validate_input_shape(input_shape, channels):
    """Returns `(height, width, channels)`; height and width may be None."""
    if (
        not isinstance(input_shape, (tuple, list))
        or len(input_shape) != 3
        or any(
            not (d is None or (isinstance(d, numbers.Integral) and d >= 1))
            for d in input_shape[:2]
        )
    ):
        raise ValueError(
            "Invalid value for argument `input_shape`: expected "
            "(height, width, channels) with positive integers (height and "
            f"width may be None). Received: input_shape={input_shape!r}"
        )
    validate_int(input_shape[2], "input_shape[2]", minimum=1)
    if channels is not None and input_shape[2] != channels:
        raise ValueError(
            "Invalid value for argument `input_shape`: its channel count must "
            f"match the {channels} entries of `mean` and `std`. Received: "
            f"input_shape={input_shape!r}"
        )
    return tuple(input_shape)


def _validate_statistic(values, name, positive):
    if not isinstance(values, (tuple, list)) or not values:
        raise ValueError(
            f"Invalid value for argument `{name}`: expected a non-empty tuple "
            f"of per-channel floats. Received: {name}={values!r}"
        )
    check = validate_positive_float if positive else _validate_finite
    return tuple(check(v, f"{name}[{i}]") for i, v in enumerate(values))


def _validate_finite(value, name):
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or value != value
        or abs(value) == float("inf")
    ):
        raise ValueError(
            f"Invalid value for argument `{name}`: expected a finite number. "
            f"Received: {name}={value!r}"
        )
    return float(value)


def validate_statistics(mean, std):
    """Returns `(mean, std, channels)`; both None turns normalisation off."""
    if mean is None and std is None:
        return None, None, None
    if mean is None or std is None:
        raise ValueError(
            "Invalid value for arguments `mean` and `std`: pass both or "
            f"neither. Received: mean={mean!r}, std={std!r}"
        )
    mean = _validate_statistic(mean, "mean", positive=False)
    std = _validate_statistic(std, "std", positive=True)
    if len(mean) != len(std):
        raise ValueError(
            "Invalid value for arguments `mean` and `std`: expected one entry "
            f"per channel in each. Received: mean={mean!r}, std={std!r}"
        )
    return mean, std, len(mean)


def validate_classifier(classifier):
    if classifier is not None and not isinstance(classifier, keras.layers.Layer):
        raise TypeError(
            "Invalid type for argument `classifier`: expected None or a Keras "
            f"layer mapping features to logits. Received: classifier={classifier!r} "
            f"of type {type(classifier).__name__}"
        )
    return classifier


def model_input(input_shape, mean, std):
    """The image input (values in 0..255, any dtype) and its normalised
    float tensor: `(x / 255 - mean) / std` per channel."""
    images = keras.Input(shape=input_shape, name="images")
    if mean is None:
        return images, images
    normalized = keras.layers.Normalization(
        mean=[255.0 * m for m in mean],
        variance=[(255.0 * s) ** 2 for s in std],
        name="normalization",
    )(images)
    return images, normalized


def conv(x, filters, kernel_size, strides, initializer, regularizer, name):
    """A bias-free convolution padded as PyTorch's `padding=k // 2`.

    Keras' `"same"` pads a strided convolution of an even-sized input only at
    the bottom/right, which shifts its sampling grid one pixel away from the
    strided 1x1 shortcut's; explicit symmetric padding keeps both on the
    grid PyTorch uses."""
    if strides > 1 and kernel_size > 1:
        x = keras.layers.ZeroPadding2D(kernel_size // 2, name=f"{name}_pad")(x)
        padding = "valid"
    else:
        padding = "same"
    return _fast_layers.Conv2D(
        filters,
        kernel_size,
        strides=strides,
        padding=padding,
        use_bias=False,
        kernel_initializer=initializer,
        kernel_regularizer=regularizer,
        name=name,
    )(x)


def batch_norm(x, name):
    return _fast_layers.BatchNormalization(
        momentum=BATCH_NORM_MOMENTUM, epsilon=BATCH_NORM_EPSILON, name=name
    )(x)


def relu(x, name):
    return keras.layers.ReLU(name=name)(x)


def post_activation_block(x, filters, strides, initializer, regularizer, name):
    """The basic block of He et al.: conv-BN-ReLU-conv-BN, a 1x1 conv + BN
    shortcut where the shape changes, then ReLU after the addition."""
    residual = conv(x, filters, 3, strides, initializer, regularizer, f"{name}_conv1")
    residual = relu(batch_norm(residual, f"{name}_bn1"), f"{name}_relu1")
    residual = conv(residual, filters, 3, 1, initializer, regularizer, f"{name}_conv2")
    residual = batch_norm(residual, f"{name}_bn2")
    shortcut = x
    if strides != 1 or x.shape[-1] != filters:
        shortcut = conv(
            x, filters, 1, strides, initializer, regularizer, f"{name}_shortcut_conv"
        )
        shortcut = batch_norm(shortcut, f"{name}_shortcut_bn")
    added = keras.layers.Add(name=f"{name}_add")([residual, shortcut])
    return relu(added, f"{name}_out")


def head(x, images, num_classes, classifier, regularizer, name):
    """Global average pooling as the `"features"` layer, then the classifier;
    returns the Functional model."""
    features = keras.layers.GlobalAveragePooling2D(name="features")(x)
    if classifier is None:
        classifier = keras.layers.Dense(
            num_classes,
            kernel_initializer=torch_default_initializer(),
            kernel_regularizer=regularizer,
            name="classifier",
        )
    logits = classifier(features)
    return keras.Model(images, logits, name=name)


def residual_stages(x, widths, blocks_per_stage, block):
    """One stage of `blocks_per_stage` residual blocks per entry of `widths`;
    the first block of every stage after the first has stride 2.
    `block(x, filters, strides, name=...)` builds one block, named
    `stage{s}_block{b}`."""
    for stage, filters in enumerate(widths, start=1):
        for index in range(1, blocks_per_stage + 1):
            strides = 2 if stage > 1 and index == 1 else 1
            x = block(x, filters, strides, name=f"stage{stage}_block{index}")
    return x


def post_activation_resnet(x, widths, blocks_per_stage, initializer, regularizer):
    """The body of He et al.'s ResNet with a CIFAR stem: a 3x3 stride-1
    convolution of `widths[0]` filters + BN + ReLU, then `residual_stages` of
    `post_activation_block`s."""
    x = conv(x, widths[0], 3, 1, initializer, regularizer, "stem_conv")
    x = relu(batch_norm(x, "stem_bn"), "stem_relu")
    block = functools.partial(
        post_activation_block, initializer=initializer, regularizer=regularizer
    )
    return residual_stages(x, widths, blocks_per_stage, block)


def image_classifier(
    body, num_classes, input_shape, kernel_regularizer, classifier, name, mean, std
):
    """Checks the arguments every builder takes, then builds the Functional
    model: the image input normalised inside (`model_input`),
    `body(x, regularizer)` and the `head`.

    `kernel_regularizer` becomes one regularizer instance, shared by every
    kernel of the model.
    """
    num_classes = validate_int(num_classes, "num_classes", minimum=1)
    mean, std, channels = validate_statistics(mean, std)
    input_shape = validate_input_shape(input_shape, channels)
    classifier = validate_classifier(classifier)
    regularizer = keras.regularizers.get(kernel_regularizer)
    images, x = model_input(input_shape, mean, std)
    return head(
        body(x, regularizer), images, num_classes, classifier, regularizer, name
    )
