import keras
import numpy as np
import pytest

from keras_ortho import diagnostics
from tests.metrics import reference


def _model():
    inner = keras.Sequential(
        [
            keras.Input((8, 8, 6)),
            keras.layers.DepthwiseConv2D(3, depth_multiplier=2, name="depthwise"),
            keras.layers.SeparableConv2D(5, 3, depth_multiplier=1, name="separable"),
        ],
        name="inner",
    )
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(6, 3, padding="same", name="conv")(inputs)
    x = keras.layers.Conv2DTranspose(6, 2, name="transpose")(x)
    x = keras.layers.Cropping2D(((0, 1), (0, 1)))(x)
    x = inner(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    shared = keras.layers.Dense(5, name="shared")
    x = shared(shared(x))
    outputs = keras.layers.Dense(40, name="overcomplete")(x)
    return keras.Model(inputs, outputs)


EXPECTED = [
    ("conv", "kernel", "conv"),
    ("transpose", "kernel", "conv_transpose"),
    ("depthwise", "kernel", "depthwise"),
    ("separable", "depthwise_kernel", "depthwise"),
    ("separable", "pointwise_kernel", "conv"),
    ("shared", "kernel", "dense"),
    ("overcomplete", "kernel", "dense"),
]


def test_every_kernel_matches_numpy():
    model = _model()
    records = diagnostics.filter_orthogonality(model)
    assert [(r.layer_name, r.kernel_layout) for r in records] == [
        (name, layout) for name, _, layout in EXPECTED
    ]
    for record, (name, attribute, layout) in zip(records, EXPECTED, strict=True):
        layer = (
            model.get_layer("inner").get_layer(name)
            if name in ("depthwise", "separable")
            else model.get_layer(name)
        )
        kernel = keras.ops.convert_to_numpy(getattr(layer, attribute))
        assert record.kernel_shape == kernel.shape
        assert record.kernel_path.endswith(f"{name}/{attribute}")
        want = reference.filter_measures(kernel, layout)
        for key, value in want.items():
            np.testing.assert_allclose(
                getattr(record, key), value, rtol=1e-6, err_msg=key
            )
    assert records[-1].sigma_max >= 1.0  # over-complete: W^T W is singular


def test_orthonormal_and_zero_kernels():
    layer = keras.layers.Dense(4, kernel_initializer="orthogonal")
    layer.build((None, 6))
    (record,) = diagnostics.filter_orthogonality(layer)
    assert record.so_residual < 1e-10 and record.mutual_coherence < 1e-6
    assert record.sigma_max < 1e-6 and record.normalized_so_residual < 1e-10

    zero = keras.layers.Dense(3, kernel_initializer="zeros")
    zero.build((None, 2))
    (record,) = diagnostics.filter_orthogonality(zero)
    assert record.so_residual == 3.0 and record.mutual_coherence == 0.0
    assert record.sigma_max == 1.0

    single = keras.layers.Dense(1)
    single.build((None, 2))
    assert diagnostics.filter_orthogonality(single)[0].mutual_coherence == 0.0


def test_layers_without_kernels():
    assert diagnostics.filter_orthogonality(keras.layers.ReLU()) == []


def test_invalid_model():
    with pytest.raises(TypeError, match="model"):
        diagnostics.filter_orthogonality(np.ones((3, 3)))
