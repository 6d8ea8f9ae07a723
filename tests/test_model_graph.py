"""The one model walk: every kernel Keras tracks, EinsumDense filter matrices,
and the one head rule, on models as users bring them (keras-hub built from
config, nothing downloaded; subclassed; nested)."""

import keras
import keras_hub
import numpy as np
import pytest

from keras_ortho import layers as ortho_layers
from keras_ortho import regularizers
from keras_ortho._kernel_matrix import filter_matrix
from keras_ortho._model_graph import find_features
from keras_ortho._model_graph import find_head
from keras_ortho._model_graph import layer_at
from keras_ortho._model_graph import layer_position
from keras_ortho._model_graph import select_kernels
from keras_ortho._model_graph import walk_layers
from tests import toolkit
from tests.regularizers import reference


def _tiny_vit():
    return keras_hub.models.ViTBackbone(
        image_shape=(16, 16, 3),
        patch_size=4,
        num_layers=2,
        num_heads=2,
        hidden_dim=8,
        mlp_dim=16,
    )


def _kernels_keras_tracks(model):
    """Every trainable kernel variable, read off Keras' own weight list by
    name: Dense, EinsumDense and Conv layers call theirs `kernel`."""
    return {id(v) for v in model.trainable_weights if v.path.endswith("/kernel")}


def test_every_kernel_of_a_keras_hub_vit_is_reached():
    model = _tiny_vit()
    selected = select_kernels(model)

    assert {id(kernel.variable) for _, kernel in selected} == _kernels_keras_tracks(
        model
    )
    # 1 patch embedding, then per block 4 attention EinsumDense and 2 MLP Dense.
    kinds = [type(layer).__name__ for layer, _ in selected]
    assert kinds == ["Conv2D"] + 2 * (4 * ["EinsumDense"] + 2 * ["Dense"])


def test_attach_regularizes_every_vit_kernel_with_its_layout():
    model = _tiny_vit()
    regularizers.attach(model, regularizers.SoftOrthogonality(0.1))
    want = 0.0
    for layer in walk_layers(model):
        for variable in layer._trainable_variables:
            if not variable.path.endswith("/kernel"):
                continue
            kernel = toolkit.to_numpy(variable)
            if isinstance(layer, keras.layers.EinsumDense):
                matrix = reference.einsum_filter_matrix_of(kernel, layer.equation)
            else:
                layout = "dense" if kernel.ndim == 2 else "conv"
                matrix = reference.filter_matrix_of(kernel, layout)
            gram = matrix.T @ matrix - np.eye(matrix.shape[1])
            want += 0.1 * np.sum(gram**2)
    got = sum(float(toolkit.to_numpy(loss)) for loss in model.losses)
    assert len(model.losses) == 13
    np.testing.assert_allclose(got, want, rtol=1e-5)


EINSUM_CASES = [
    # (equation, input shape without batch, output_shape, bias_axes)
    ("abc,cde->abde", (5, 6), (5, 2, 3), None),  # attention query (hidden, h, d)
    ("abcd,cde->abe", (5, 2, 3), (5, 6), None),  # attention output (h, d, hidden)
    ("abc,bcd->abd", (4, 6), (4, 3), None),  # one weight matrix per position
    ("ab,bc->ac", (6,), (4,), None),  # a Dense written as an equation
]


@pytest.mark.parametrize("equation, input_shape, output_shape, bias", EINSUM_CASES)
def test_einsum_dense_filter_matrix(equation, input_shape, output_shape, bias):
    layer = keras.layers.EinsumDense(equation, output_shape, bias_axes=bias)
    layer.build((None, *input_shape))
    kernel = toolkit.to_numpy(layer.kernel)

    matrix = toolkit.to_numpy(filter_matrix(layer.kernel, equation))

    np.testing.assert_allclose(
        matrix, reference.einsum_filter_matrix_of(kernel, equation)
    )


def test_einsum_filter_matrix_maps_inputs_to_outputs():
    # For the query projection, the layer is x @ W with W its filter matrix:
    # rows are the input axis, columns the (head, head_dim) outputs.
    layer = keras.layers.EinsumDense("abc,cde->abde", (5, 2, 3))
    x = np.random.default_rng(0).normal(size=(2, 5, 6)).astype("float32")
    y = toolkit.to_numpy(layer(x)).reshape(2, 5, 6)
    matrix = toolkit.to_numpy(filter_matrix(layer.kernel, "abc,cde->abde"))
    np.testing.assert_allclose(y, x @ matrix, rtol=1e-5, atol=1e-6)


class _Block(keras.layers.Layer):
    """A custom layer holding kernels as attributes, as keras-hub blocks do."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.expand = keras.layers.Dense(8, name="expand")
        self.project = keras.layers.Dense(4, name="project")

    def call(self, x):
        return self.project(self.expand(x))


class _Net(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.block = _Block(name="block")
        self.bottleneck = keras.layers.Dense(16, name="bottleneck")
        self.head = ortho_layers.FixedClassifier(3, name="head")

    def call(self, x):
        return self.head(self.bottleneck(self.block(x)))


def test_walk_is_depth_first_in_tracking_order_each_layer_once():
    net = _Net(name="net")
    net(np.zeros((1, 4), "float32"))
    inputs = keras.Input((4,))
    outer = keras.Model(inputs, net(inputs), name="outer")

    names = [layer.name for layer in walk_layers(outer)]

    assert names == [
        "outer",
        outer.layers[0].name,  # the InputLayer
        "net",
        "block",
        "expand",
        "project",
        "bottleneck",
        "head",
    ]
    assert layer_at(outer, layer_position(outer, net.head)) is net.head


def test_head_is_the_last_dense_or_fixed_classifier_and_features_its_input():
    net = _Net()
    net(np.zeros((1, 4), "float32"))
    assert find_head(net) is net.head
    features = find_features(net)
    assert features.layer is net.head and features.is_input
    assert features.owner is None  # a subclassed model has no graph

    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(16, name="bottleneck")(inputs)
    head = ortho_layers.FixedClassifier(3, name="head")
    functional = keras.Model(inputs, head(hidden))
    features = find_features(functional)
    assert features.owner is functional and features.tensor is hidden


@pytest.mark.parametrize(
    "last",
    [
        lambda: keras.layers.Dense(3, activation="softmax"),
        lambda: keras.layers.Softmax(),
        lambda: keras.layers.Activation("softmax"),
    ],
    ids=["dense-softmax", "softmax-layer", "activation-layer"],
)
def test_a_softmax_output_is_refused(last):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5), last()])
    with pytest.raises(ValueError, match=r"softmax.*logits.*activation=None"):
        find_head(model)
