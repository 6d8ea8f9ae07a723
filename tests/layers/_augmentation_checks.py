"""Shared helpers of the augmentation layers' tests."""

import numpy as np


def distinct_images(batch=16, size=12, channels=3, seed=0):
    """uint8 images with values in 1..255, so a zero marks filled pixels."""
    rng = np.random.default_rng(seed)
    return rng.integers(1, 256, (batch, size, size, channels)).astype("uint8")
