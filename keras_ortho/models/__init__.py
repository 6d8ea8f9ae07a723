"""Model builders and model utilities."""

from keras_ortho.models.resnet18_cifar import resnet18_cifar
from keras_ortho.models.resnet_cifar import resnet_cifar
from keras_ortho.models.wide_resnet import wide_resnet
from keras_ortho.models.with_features import FeatureOutputsModel
from keras_ortho.models.with_features import feature_targets
from keras_ortho.models.with_features import with_features

__all__ = [
    "FeatureOutputsModel",
    "feature_targets",
    "resnet18_cifar",
    "resnet_cifar",
    "wide_resnet",
    "with_features",
]
