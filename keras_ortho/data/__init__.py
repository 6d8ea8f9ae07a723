"""Dataset loaders returning uint8 arrays."""

from keras_ortho.data.catalog import DATASET_NAMES
from keras_ortho.data.catalog import load_dataset
from keras_ortho.data.cifar10_jpeg import demo_subset_path
from keras_ortho.data.cifar10_jpeg import load_cifar10_jpeg
from keras_ortho.data.dataset import Dataset
from keras_ortho.data.tfds_datasets import load_cifar10
from keras_ortho.data.tfds_datasets import load_cifar100
from keras_ortho.data.tfds_datasets import load_svhn
from keras_ortho.data.tiny_imagenet import load_tiny_imagenet

__all__ = [
    "DATASET_NAMES",
    "Dataset",
    "demo_subset_path",
    "load_cifar10",
    "load_cifar10_jpeg",
    "load_cifar100",
    "load_dataset",
    "load_svhn",
    "load_tiny_imagenet",
]
