"""`kernel_layout="auto"` reads each kernel in its own layer's layout when the
regularizer is passed straight to a layer, inside and outside a compiled
train step, and refuses to guess where the layer does not tell."""

import keras
import numpy as np
import pytest

from keras_ortho import regularizers
from tests import toolkit
from tests.regularizers import reference

FACTOR = 0.5


def test_every_layer_type_reads_its_own_layout():
    # Each layer is given an "auto" regularizer; the NumPy reference reads
    # the kernel with the layout written out by hand for that layer type.
    reference.check_layer_types(
        lambda layout: regularizers.SoftOrthogonality(FACTOR),
        reference.soft_orthogonality_np,
        FACTOR,
    )


def _auto():
    return regularizers.SoftOrthogonality(FACTOR)


def _model():
    inputs = keras.Input((6, 6, 3))
    transposed = keras.layers.Conv2DTranspose(
        5, 3, padding="same", kernel_regularizer=_auto(), name="transpose"
    )(inputs)
    depthwise = keras.layers.DepthwiseConv2D(
        3, depth_multiplier=2, padding="same", depthwise_regularizer=_auto()
    )(inputs)
    separable = keras.layers.SeparableConv2D(
        5,
        3,
        padding="same",
        depthwise_regularizer=_auto(),
        pointwise_regularizer=_auto(),
        name="separable",
    )(inputs)
    x = keras.layers.Concatenate()([transposed, depthwise, separable])
    x = keras.layers.Reshape((36, 16))(x)
    x = keras.layers.EinsumDense(
        "abc,cde->abde", (36, 2, 3), kernel_regularizer=_auto(), name="einsum"
    )(x)
    x = keras.layers.Flatten()(x)
    return keras.Model(inputs, keras.layers.Dense(2)(x))


def _numpy_penalty(model):
    def so(matrix):
        gram = matrix.T @ matrix - np.eye(matrix.shape[1])
        return FACTOR * np.sum(gram**2)

    def kernel(layer, name="kernel"):
        return toolkit.to_numpy(getattr(model.get_layer(layer), name))

    depthwise = next(
        layer for layer in model.layers if type(layer).__name__ == "DepthwiseConv2D"
    )
    return (
        so(reference.filter_matrix_of(kernel("transpose"), "conv_transpose"))
        + so(reference.filter_matrix_of(kernel(depthwise.name), "depthwise"))
        + so(
            reference.filter_matrix_of(
                kernel("separable", "depthwise_kernel"), "depthwise"
            )
        )
        + so(
            reference.filter_matrix_of(kernel("separable", "pointwise_kernel"), "conv")
        )
        + so(reference.einsum_filter_matrix_of(kernel("einsum"), "abc,cde->abde"))
    )


@pytest.mark.parametrize("jit_compile", [False, True], ids=["eager", "jit"])
def test_layouts_are_found_in_a_train_step(jit_compile):
    model = _model()
    x = np.random.default_rng(0).normal(size=(4, 6, 6, 3)).astype("float32")
    y = np.random.default_rng(1).normal(size=(4, 2)).astype("float32")
    # A zero learning rate keeps the weights: the step's loss is the MSE of
    # the current model plus the penalties of the current kernels.
    model.compile(
        optimizer=keras.optimizers.SGD(0.0), loss="mse", jit_compile=jit_compile
    )
    history = model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    mse = np.mean((toolkit.to_numpy(model(x)) - y) ** 2)
    np.testing.assert_allclose(
        history.history["loss"][0] - mse, _numpy_penalty(model), rtol=1e-4
    )


class _CustomConv(keras.layers.Layer):
    def __init__(self, regularizer, **kwargs):
        super().__init__(**kwargs)
        self.regularizer = regularizer

    def build(self, input_shape):
        self.kernel = self.add_weight(
            shape=(3, 3, input_shape[-1], 4), regularizer=self.regularizer
        )

    def call(self, x):
        return keras.ops.conv(x, self.kernel, padding="same")


def test_a_kernel_of_an_unknown_layer_is_not_guessed():
    layer = _CustomConv(regularizers.SoftOrthogonality(FACTOR), name="custom")
    layer.build((None, 6, 6, 3))
    with pytest.raises(ValueError, match=r"custom/.*kernel_layout="):
        layer.losses  # noqa: B018

    layer = _CustomConv(regularizers.SoftOrthogonality(FACTOR, kernel_layout="conv"))
    layer.build((None, 6, 6, 3))
    want = FACTOR * reference.soft_orthogonality_np(
        toolkit.to_numpy(layer.kernel), "conv"
    )
    np.testing.assert_allclose(
        float(toolkit.to_numpy(layer.losses[0])), want, rtol=1e-5
    )


def test_a_kernel_of_an_unknown_layer_is_refused_in_fit():
    inputs = keras.Input((6, 6, 3))
    outputs = _CustomConv(regularizers.SoftOrthogonality(FACTOR))(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss="mse", jit_compile=True)
    x = np.zeros((2, 6, 6, 3), "float32")
    with pytest.raises(ValueError, match="kernel_layout="):
        model.fit(x, np.zeros((2, 6, 6, 4), "float32"), verbose=0)


def test_an_einsum_equation_is_a_kernel_layout():
    regularizer = regularizers.SoftOrthogonality(FACTOR, kernel_layout="abc,cde->abde")
    toolkit.assert_serialization_round_trip(regularizer)
    kernel = np.random.default_rng(2).normal(size=(6, 2, 3)).astype("float32")
    want = FACTOR * np.sum(
        (
            reference.einsum_filter_matrix_of(kernel, "abc,cde->abde").T
            @ reference.einsum_filter_matrix_of(kernel, "abc,cde->abde")
            - np.eye(6)
        )
        ** 2
    )
    np.testing.assert_allclose(
        float(toolkit.to_numpy(regularizer(kernel))), want, rtol=1e-5
    )
    with pytest.raises(ValueError, match="kernel_layout"):
        regularizers.SoftOrthogonality(FACTOR, kernel_layout="ab,bc->abc")
