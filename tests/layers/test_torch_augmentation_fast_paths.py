"""On PyTorch, `RandomPadCrop` and `RandomHorizontalFlip` take a few PyTorch
operators instead of their portable Keras code: the same draws, the same
pixels."""

import keras
import numpy as np
import pytest

from keras_ortho.layers import RandomHorizontalFlip
from keras_ortho.layers import RandomPadCrop
from keras_ortho.layers import random_horizontal_flip
from keras_ortho.layers import random_pad_crop
from tests.toolkit import to_numpy

pytestmark = pytest.mark.skipif(
    keras.backend.backend() != "torch",
    reason="the PyTorch paths exist on PyTorch only",
)

CASES = [
    (RandomPadCrop, random_pad_crop, "pad_crop", {"padding": 4}),
    (RandomPadCrop, random_pad_crop, "pad_crop", {"padding": 1}),
    (RandomHorizontalFlip, random_horizontal_flip, "flip_where", {}),
]


def batch(dtype, shape=(16, 10, 7, 3)):
    """Images with values in 1..255, so a zero marks a padded pixel."""
    return np.random.default_rng(0).integers(1, 256, shape).astype(dtype)


@pytest.mark.parametrize("dtype", ["uint8", "float32"])
@pytest.mark.parametrize("layer_class,module,function,kwargs", CASES)
def test_same_pixels_as_the_portable_code(
    monkeypatch, layer_class, module, function, kwargs, dtype
):
    images = batch(dtype)
    calls = []
    fast_paths = module._torch_fast_paths
    original = getattr(fast_paths, function)

    def counted(*args):
        calls.append(function)
        return original(*args)

    monkeypatch.setattr(fast_paths, function, counted)
    # Two steps each: the seed generator advances between them.
    fast_layer = layer_class(seed=7, **kwargs)
    fast = [to_numpy(fast_layer(images, training=True)) for _ in range(2)]
    assert calls == [function, function]
    monkeypatch.setattr(module, "_torch_fast_paths", None)
    portable_layer = layer_class(seed=7, **kwargs)
    portable = [to_numpy(portable_layer(images, training=True)) for _ in range(2)]
    assert fast[0].dtype == portable[0].dtype == images.dtype
    for got, want in zip(fast, portable, strict=True):
        np.testing.assert_array_equal(got, want)
    # The draws differ per sample: not an identity or one shared shift.
    assert not np.array_equal(fast[0], images)
    assert not np.array_equal(fast[0], fast[1])


def test_reflect_fill_keeps_the_portable_code(monkeypatch):
    monkeypatch.setattr(
        random_pad_crop._torch_fast_paths,
        "pad_crop",
        lambda *args: pytest.fail("reflect fill took the zero-fill path"),
    )
    images = batch("uint8")
    RandomPadCrop(2, fill="reflect", seed=0)(images, training=True)
