"""A run's networks: the classifier its `NetworkSettings` and methods
describe, and the training model that augments and mixes the images in front
of it."""

import keras

from keras_ortho import constraints
from keras_ortho import layers as ortho_layers
from keras_ortho import models
from keras_ortho.layers import MixWithPartners
from keras_ortho.recipes.sample_mixing import MixingDraw


def build_classifier(settings, num_classes, input_shape, mean, std, components):
    """The recipe's network, images (0..255) -> logits, with the methods' head
    and kernel regularizer or constraint.

    Args:
        settings: the recipe's `NetworkSettings`.
        num_classes: the number of classes.
        input_shape: the shape of one image.
        mean: per-channel means of the training images, on [0, 1].
        std: their per-channel standard deviations.
        components: the `MethodComponents` of the recipe's methods.

    Returns:
        A `keras.Model`.
    """
    options = {
        "num_classes": num_classes,
        "input_shape": input_shape,
        "kernel_regularizer": components.kernel_regularizer,
        "classifier": components.classifier,
        "mean": mean,
        "std": std,
    }
    if settings.model == "resnet_cifar":
        model = models.resnet_cifar(settings.depth, **options)
    elif settings.model == "wide_resnet":
        model = models.wide_resnet(
            settings.depth, settings.width, dropout=settings.dropout, **options
        )
    else:
        model = models.resnet18_cifar(**options)
    if components.kernel_constraint is not None:
        constraints.attach(model, components.kernel_constraint)
    return model


def augmentation_layers(settings):
    """The on-device augmentation of `settings` (`AugmentationSettings`),
    active only in training: pad-and-crop, horizontal flip, RandAugment and
    Cutout, in this order (torchvision's order in the references), each if
    the settings turn it on."""
    layers = []
    if settings.crop_padding:
        layers.append(
            ortho_layers.RandomPadCrop(
                settings.crop_padding, fill=settings.crop_fill, name="random_pad_crop"
            )
        )
    if settings.horizontal_flip:
        layers.append(ortho_layers.RandomHorizontalFlip(name="random_horizontal_flip"))
    if settings.randaugment_ops:
        layers.append(
            ortho_layers.RandAugment(
                settings.randaugment_ops,
                settings.randaugment_magnitude,
                name="rand_augment",
            )
        )
    if settings.cutout:
        layers.append(ortho_layers.Cutout(settings.cutout, name="cutout"))
    return layers


def training_model(network, input_shape, augmentation, name):
    """`network` (the classifier, or its feature model when a feature loss
    needs the features) behind the augmentation of `augmentation`
    (`AugmentationSettings`); with MixUp/CutMix, the model also takes the
    batch's `MixingDraw` as inputs and mixes last. `name` names the model."""
    images = keras.Input(input_shape, dtype="uint8", name="images")
    x = images
    for layer in augmentation_layers(augmentation):
        x = layer(x)
    inputs = images
    if augmentation.mixing is not None:
        draw = MixingDraw.symbolic_inputs()
        x = MixWithPartners(name="mix_with_partners")([x, *draw.values()])
        inputs = {"images": images, **draw}
    return keras.Model(inputs, network(x), name=name)
