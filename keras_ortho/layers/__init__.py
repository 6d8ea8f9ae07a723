"""Classifier heads with fixed class vectors."""

from keras_ortho.layers.fixed_classifier import FixedClassifier
