import keras
import keras_hub
import numpy as np
import pytest

from keras_ortho import regularizers
from tests import toolkit
from tests.regularizers import reference

FACTOR = 0.3
EVERY_KERNEL = toolkit.every_kernel_placed("regularizer")


def _numpy_penalty(model, expected, factor=FACTOR):
    return sum(
        factor
        * reference.soft_orthogonality_np(
            toolkit.to_numpy(getattr(model.get_layer(name), kernel)), layout
        )
        for name, _, kernel, layout in expected
    )


def _regularization_loss(model):
    return float(sum(toolkit.to_numpy(loss) for loss in model.losses))


def _regularized_variables(model):
    return [v.path for v in model.trainable_variables if v.regularizer is not None]


def test_every_kernel_type_gets_its_layout():
    model = toolkit.every_kernel_type_model()
    regularizer = regularizers.SoftOrthogonality(FACTOR)

    attached = regularizers.attach(model, regularizer)

    assert attached == [(name, attr) for name, attr, _, _ in EVERY_KERNEL]
    for name, attribute, kernel, layout in EVERY_KERNEL:
        layer = model.get_layer(name)
        on_variable = getattr(layer, kernel).regularizer
        assert isinstance(on_variable, regularizers.SoftOrthogonality)
        assert on_variable.kernel_layout == layout
        assert on_variable.factor == FACTOR
        assert getattr(layer, attribute) is on_variable
        assert layer.get_config()[attribute]["config"]["kernel_layout"] == layout
    # Biases and BatchNormalization weights stay unregularized.
    assert len(_regularized_variables(model)) == len(EVERY_KERNEL)
    # The object passed in is copied per layout, not changed.
    assert regularizer.kernel_layout == "auto"
    np.testing.assert_allclose(
        _regularization_loss(model), _numpy_penalty(model, EVERY_KERNEL), rtol=1e-5
    )


def _nested_models():
    inner_functional_input = keras.Input((6, 6, 4))
    inner_functional = keras.Model(
        inner_functional_input,
        keras.layers.Conv2D(5, 3, name="inner_conv")(inner_functional_input),
        name="inner_functional",
    )
    inner_sequential = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(4, name="inner_dense")],
        name="inner_sequential",
    )
    sequential = keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            keras.layers.Conv2D(4, 3, name="outer_conv"),
            inner_functional,
            keras.layers.GlobalAveragePooling2D(),
            inner_sequential,
            keras.layers.Dense(2, name="outer_dense"),
        ],
        name="outer_sequential",
    )
    inputs = keras.Input((8, 8, 3))
    functional = keras.Model(inputs, sequential(inputs), name="outer_functional")
    return functional, sequential


NESTED_KERNELS = [
    ("outer_conv", "kernel_regularizer", "kernel", "conv"),
    ("inner_conv", "kernel_regularizer", "kernel", "conv"),
    ("inner_dense", "kernel_regularizer", "kernel", "dense"),
    ("outer_dense", "kernel_regularizer", "kernel", "dense"),
]


def _layers_by_name(model):
    by_name = {}
    for layer in model.layers:
        by_name[layer.name] = layer
        if isinstance(layer, keras.Model):
            by_name.update(_layers_by_name(layer))
    return by_name


def test_sequential_nested_in_functional_with_nested_models():
    functional, sequential = _nested_models()

    attached = regularizers.attach(functional, regularizers.SoftOrthogonality(FACTOR))

    assert attached == [(name, attr) for name, attr, _, _ in NESTED_KERNELS]
    assert len(_regularized_variables(functional)) == len(NESTED_KERNELS)
    # Each kernel is counted once in the loss, whatever its depth.
    assert len(functional.losses) == len(NESTED_KERNELS)
    layers = _layers_by_name(functional)
    want = sum(
        FACTOR
        * reference.soft_orthogonality_np(toolkit.to_numpy(layers[name].kernel), layout)
        for name, _, _, layout in NESTED_KERNELS
    )
    np.testing.assert_allclose(_regularization_loss(functional), want, rtol=1e-5)
    np.testing.assert_allclose(_regularization_loss(sequential), want, rtol=1e-5)


def test_fit_loss_includes_the_regularization():
    # The same compiled model trained with a learning rate of 0 (weights
    # frozen) on the same batch, before and after `attach`: the loss grows by
    # exactly the NumPy penalty, so `fit` rebuilt its step and includes it.
    # jit_compile="auto": XLA on TensorFlow and JAX, where the step traced by
    # the first fit would otherwise be reused; torch runs eagerly, as its
    # compile of every layer type here takes minutes on 2 cores.
    model = toolkit.every_kernel_type_model()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 8, 8, 3)).astype("float32")
    y = np.array([0, 1, 2, 1])
    optimizer = keras.optimizers.SGD(learning_rate=0.0)
    loss = "sparse_categorical_crossentropy"
    without = toolkit.fit_one_step(
        model, x, y, loss, optimizer=optimizer, jit_compile="auto"
    )

    regularizers.attach(model, regularizers.SoftOrthogonality(FACTOR))
    history = model.fit(x, y, batch_size=4, epochs=1, verbose=0)

    with_attached = history.history["loss"][-1]
    np.testing.assert_allclose(
        with_attached - without,
        _numpy_penalty(model, EVERY_KERNEL),
        rtol=1e-4,
    )


def test_every_kernel_of_a_keras_application():
    model = keras.applications.MobileNetV2(
        weights=None, input_shape=(32, 32, 3), classes=10, alpha=0.35
    )
    layouts = {"Conv2D": "conv", "DepthwiseConv2D": "depthwise", "Dense": "dense"}
    attributes = {"DepthwiseConv2D": "depthwise_regularizer"}
    kernel_layers = [layer for layer in model.layers if type(layer).__name__ in layouts]

    attached = regularizers.attach(model, regularizers.SoftOrthogonality(1e-4))

    assert len(kernel_layers) == 53
    assert len(attached) == len(kernel_layers)
    for layer in kernel_layers:
        kind = type(layer).__name__
        attribute = attributes.get(kind, "kernel_regularizer")
        assert layer.kernel.regularizer.kernel_layout == layouts[kind], layer.name
        assert getattr(layer, attribute) is layer.kernel.regularizer
        config = layer.get_config()[attribute]
        assert config["class_name"] == "SoftOrthogonality"
        assert config["config"]["kernel_layout"] == layouts[kind]
    assert len(_regularized_variables(model)) == len(kernel_layers)


def test_save_load_keeps_the_regularizers(tmp_path):
    model = toolkit.every_kernel_type_model()
    regularizers.attach(model, regularizers.SoftOrthogonality(FACTOR, gram="smaller"))
    x = np.random.default_rng(1).normal(size=(2, 8, 8, 3)).astype("float32")

    loaded = toolkit.assert_save_load_identical(model, x, tmp_path)

    for name, attribute, kernel, layout in EVERY_KERNEL:
        regularizer = getattr(loaded.get_layer(name), kernel).regularizer
        assert isinstance(regularizer, regularizers.SoftOrthogonality)
        assert regularizer.get_config() == {
            "factor": FACTOR,
            "kernel_layout": layout,
            "gram": "smaller",
            "squared": True,
        }
        assert getattr(loaded.get_layer(name), attribute) is regularizer
    np.testing.assert_allclose(
        _regularization_loss(loaded), _regularization_loss(model), rtol=1e-6
    )


@pytest.mark.parametrize(
    "select, expected",
    [
        (
            ["conv", "dense"],
            [("conv", "kernel_regularizer"), ("dense", "kernel_regularizer")],
        ),
        (
            lambda layer: isinstance(layer, keras.layers.SeparableConv2D),
            [
                ("separable", "depthwise_regularizer"),
                ("separable", "pointwise_regularizer"),
            ],
        ),
    ],
    ids=["names", "callable"],
)
def test_layer_selection(select, expected):
    model = toolkit.every_kernel_type_model()
    assert regularizers.attach(model, regularizers.SoftOrthogonality(1.0), select) == (
        expected
    )
    assert len(_regularized_variables(model)) == len(expected)


def test_layer_objects_and_nested_model_names_select_their_kernels():
    functional, sequential = _nested_models()
    regularizer = regularizers.SoftOrthogonality(1.0)

    attached = regularizers.attach(
        functional,
        regularizer,
        layers=["inner_functional", sequential.get_layer("outer_dense")],
    )

    assert attached == [
        ("inner_conv", "kernel_regularizer"),
        ("outer_dense", "kernel_regularizer"),
    ]
    assert len(_regularized_variables(functional)) == 2


def test_any_keras_regularizer_is_attached_as_is():
    model = toolkit.every_kernel_type_model()
    l2 = keras.regularizers.L2(0.1)

    regularizers.attach(model, l2, layers=["conv", "dense"])

    assert model.get_layer("conv").kernel.regularizer is l2
    assert model.get_layer("dense").kernel_regularizer is l2
    want = sum(
        0.1 * np.sum(toolkit.to_numpy(model.get_layer(name).kernel) ** 2)
        for name in ("conv", "dense")
    )
    np.testing.assert_allclose(_regularization_loss(model), want, rtol=1e-5)


def test_a_single_built_layer():
    layer = keras.layers.Conv2DTranspose(3, 2)
    layer.build((None, 4, 4, 5))

    attached = regularizers.attach(layer, regularizers.SoftOrthogonality(1.0))

    assert attached == [(layer.name, "kernel_regularizer")]
    assert layer.kernel.regularizer.kernel_layout == "conv_transpose"


def test_existing_regularizers_are_kept_unless_overwrite():
    inputs = keras.Input((5,))
    hidden = keras.layers.Dense(4, name="free")(inputs)
    outputs = keras.layers.Dense(
        2, name="taken", kernel_regularizer=keras.regularizers.L2(0.1)
    )(hidden)
    model = keras.Model(inputs, outputs)
    regularizer = regularizers.SoftOrthogonality(1.0)

    with pytest.raises(ValueError, match=r"taken\.kernel_regularizer=.*overwrite"):
        regularizers.attach(model, regularizer)
    # Nothing was changed by the refused call.
    assert model.get_layer("free").kernel.regularizer is None
    assert isinstance(
        model.get_layer("taken").kernel.regularizer, keras.regularizers.L2
    )

    regularizers.attach(model, regularizer, overwrite=True)
    for name in ("free", "taken"):
        layer = model.get_layer(name)
        assert isinstance(layer.kernel.regularizer, regularizers.SoftOrthogonality)
        assert layer.kernel_regularizer is layer.kernel.regularizer


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"layers": ["nope"]}, ValueError, r"no layer named 'nope'.*Existing layers"),
        ({"layers": ["bn"]}, ValueError, "'bn' has no kernel"),
        ({"layers": "conv"}, TypeError, "`layers`"),
        ({"layers": [3]}, TypeError, "`layers`"),
        ({"layers": lambda layer: False}, ValueError, "No kernel was selected"),
        ({"regularizer": "l2"}, TypeError, "`regularizer`"),
        ({"overwrite": 1}, TypeError, "`overwrite`"),
    ],
    ids=[
        "unknown-name",
        "no-kernel",
        "str",
        "int",
        "selects-nothing",
        "str-reg",
        "int",
    ],
)
def test_invalid_arguments(kwargs, error, match):
    model = toolkit.every_kernel_type_model()
    arguments = {"regularizer": regularizers.SoftOrthogonality(1.0), **kwargs}
    with pytest.raises(error, match=match):
        regularizers.attach(model, **arguments)
    assert _regularized_variables(model) == []


def test_layer_of_another_model_is_refused():
    model = toolkit.every_kernel_type_model()
    stranger = keras.layers.Dense(3)
    stranger.build((None, 4))
    with pytest.raises(ValueError, match="not part of model"):
        regularizers.attach(model, regularizers.SoftOrthogonality(1.0), [stranger])


def test_unbuilt_model_and_non_model_are_refused():
    unbuilt = keras.Sequential([keras.layers.Dense(3, name="unbuilt_dense")])
    with pytest.raises(ValueError, match=r"'unbuilt_dense'.*not built"):
        regularizers.attach(unbuilt, regularizers.SoftOrthogonality(1.0))
    with pytest.raises(TypeError, match="`model`"):
        regularizers.attach("resnet", regularizers.SoftOrthogonality(1.0))


def test_orthogonal_convolution_gets_each_layers_strides():
    model = keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            keras.layers.Conv2D(4, 3, strides=2, name="strided"),
            keras.layers.SeparableConv2D(4, 3, strides=(1, 2), name="separable"),
            keras.layers.Flatten(),
            keras.layers.Dense(2, name="head"),
        ]
    )
    regularizers.attach(model, regularizers.OrthogonalConvolution(0.1))
    strided = model.get_layer("strided").kernel_regularizer
    separable = model.get_layer("separable")
    assert strided.stride == (2, 2)
    assert separable.depthwise_regularizer.stride == (1, 2)
    assert separable.pointwise_regularizer.stride == (1, 1)
    assert model.get_layer("head").kernel_regularizer.kernel_layout == "dense"


def _tiny_resnet_backbone():
    # The smallest ResNet keras-hub accepts (its first stage has 64 filters).
    return keras_hub.models.ResNetBackbone(
        input_conv_filters=[64],
        input_conv_kernel_sizes=[3],
        stackwise_num_filters=[64, 16],
        stackwise_num_blocks=[1, 1],
        stackwise_num_strides=[1, 2],
        block_type="basic_block",
        image_shape=(32, 32, 3),
    )


def test_keras_hub_backbone_refuses_a_save_that_would_drop_them(tmp_path):
    # keras-hub backbones save their constructor arguments, not their layers'
    # configs: a .keras file would load without the attached regularizers.
    backbone = _tiny_resnet_backbone()
    attached = regularizers.attach(backbone, regularizers.SoftOrthogonality(FACTOR))
    inputs = keras.Input((32, 32, 3))
    pooled = keras.layers.GlobalAveragePooling2D()(backbone(inputs))
    classifier = keras.Model(inputs, keras.layers.Dense(3)(pooled))
    convs = [x for x in backbone.layers if isinstance(x, keras.layers.Conv2D)]
    assert len(attached) == len(convs) == 6
    # Attaching again through the Functional model that holds the backbone.
    regularizers.attach(
        classifier, regularizers.SoftOrthogonality(FACTOR), layers=convs, overwrite=True
    )

    for model in (backbone, classifier):
        with pytest.raises(ValueError, match=r"ResNetBackbone.*save_weights.*attach"):
            model.save(tmp_path / "model.keras")

    # What the message says to do: weights, then the same attach on a rebuilt
    # backbone, gives the same penalties.
    backbone.save_weights(tmp_path / "backbone.weights.h5")
    rebuilt = _tiny_resnet_backbone()
    regularizers.attach(rebuilt, regularizers.SoftOrthogonality(FACTOR))
    rebuilt.load_weights(tmp_path / "backbone.weights.h5")
    want = sum(
        FACTOR * reference.soft_orthogonality_np(toolkit.to_numpy(conv.kernel), "conv")
        for conv in convs
    )
    np.testing.assert_allclose(_regularization_loss(rebuilt), want, rtol=1e-5)


def test_subclassed_model_refuses_a_save_that_would_drop_them(tmp_path):
    model = toolkit.SubclassedClassifier(name="net")
    model(np.zeros((1, 6, 6, 3), "float32"))
    regularizers.attach(model, regularizers.SoftOrthogonality(FACTOR))
    with pytest.raises(ValueError, match=r"'net'.*conv.kernel_regularizer"):
        model.save(tmp_path / "model.keras")
    # Layers whose configs the saved file records keep theirs.
    functional, _ = _nested_models()
    regularizers.attach(functional, regularizers.SoftOrthogonality(FACTOR))
    functional.save(tmp_path / "functional.keras")
