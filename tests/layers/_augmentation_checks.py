"""Shared helpers of the augmentation layers' tests."""

import keras
import numpy as np

from tests.toolkit import fit_one_step


def distinct_images(batch=16, size=12, channels=3, seed=0):
    """uint8 images with values in 1..255, so a zero marks filled pixels."""
    rng = np.random.default_rng(seed)
    return rng.integers(1, 256, (batch, size, size, channels)).astype("uint8")


def jit_fit_with(layer):
    """One jit `fit` step of a tiny model with `layer` inside; asserts that
    Keras kept `jit_compile=True` instead of falling back to eager."""
    images = distinct_images(batch=4, size=8)
    inputs = keras.Input((8, 8, 3), dtype="uint8")
    x = keras.layers.Rescaling(1 / 255)(layer(inputs))
    logits = keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(x))
    model = keras.Model(inputs, logits)
    fit_one_step(
        model,
        images,
        np.array([0, 1, 0, 1]),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    assert model.jit_compile is True
