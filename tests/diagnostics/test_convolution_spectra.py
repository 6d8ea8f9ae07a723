import keras
import numpy as np
import pytest

from keras_ortho import diagnostics
from tests.diagnostics.test_convolution_singular_values import circular_operator_np


def _model():
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(8, 3, strides=2, padding="same", name="stem")(inputs)
    x = keras.layers.DepthwiseConv2D(3, padding="same", name="depthwise")(x)
    x = keras.layers.SeparableConv2D(6, 3, padding="same", name="separable")(x)
    x = keras.layers.Conv2DTranspose(4, 3, strides=2, padding="same", name="up")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(5, name="head")(x)
    return keras.Model(inputs, outputs)


def test_model_spectra_per_layer():
    model = _model()
    records = {r.kernel_path: r for r in diagnostics.convolution_spectra(model)}
    assert list(records) == [
        "stem/kernel",
        "depthwise/kernel",
        "separable/depthwise_kernel",
        "separable/pointwise_kernel",
        "up/kernel",
        "head/kernel",
    ]
    stem = records["stem/kernel"]
    kernel = keras.ops.convert_to_numpy(model.get_layer("stem").kernel)
    want = np.linalg.svd(
        circular_operator_np(kernel.astype(np.float64), 8, 2), compute_uv=False
    )
    assert stem.spatial_shape == (8, 8) and stem.num_singular_values == 16 * 8
    np.testing.assert_allclose(stem.sigma_max, want[0], rtol=1e-6)
    np.testing.assert_allclose(stem.sigma_min, want[-1], rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(
        stem.stable_rank, np.sum(want**2) / want[0] ** 2, rtol=1e-6
    )
    head = keras.ops.convert_to_numpy(model.get_layer("head").kernel)
    np.testing.assert_allclose(
        records["head/kernel"].sigma_max, np.linalg.norm(head, 2), rtol=1e-6
    )
    assert records["up/kernel"].spatial_shape == (4, 4)
    assert records["separable/pointwise_kernel"].num_singular_values == 16 * 6


def test_model_spectra_need_a_size_for_subclassed_models():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.conv = keras.layers.Conv2D(4, 3)

        def call(self, x):
            return self.conv(x)

    model = Net()
    model(np.zeros((1, 6, 6, 2), "float32"))
    with pytest.raises(ValueError, match="spatial_shape"):
        diagnostics.convolution_spectra(model)
    (record,) = diagnostics.convolution_spectra(model, spatial_shape=6)
    assert record.spatial_shape == (6, 6)
