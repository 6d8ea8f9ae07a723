"""Keras layers: classifier heads with fixed class vectors, and image
augmentation that runs per sample inside the compiled training step."""

from keras_ortho.layers.cutout import Cutout
from keras_ortho.layers.fixed_classifier import FixedClassifier
from keras_ortho.layers.mix_with_partners import MixWithPartners
from keras_ortho.layers.rand_augment import RandAugment
from keras_ortho.layers.random_horizontal_flip import RandomHorizontalFlip
from keras_ortho.layers.random_pad_crop import RandomPadCrop

__all__ = [
    "Cutout",
    "FixedClassifier",
    "MixWithPartners",
    "RandAugment",
    "RandomHorizontalFlip",
    "RandomPadCrop",
]
