import keras
import numpy as np
import pytest

from keras_ortho import diagnostics
from tests.metrics import reference


def _gap_model(size=6, channels=2, filters=3, classes=4, kernel_size=3, strides=1):
    inputs = keras.Input((size, size, channels))
    x = keras.layers.Conv2D(
        filters, kernel_size, strides=strides, padding="same", name="conv"
    )(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(0.5)(x)
    x = keras.layers.Dense(classes, name="classifier")(x)
    outputs = keras.layers.Softmax()(x)
    return keras.Model(inputs, outputs)


def _images(seed, n=3, size=6, channels=2):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, size, size, channels)).astype("float32")


def _brute_force_cams(model, images, targets):
    conv = model.get_layer("conv")
    kernel, bias = (keras.ops.convert_to_numpy(w) for w in conv.weights)
    weights = keras.ops.convert_to_numpy(model.get_layer("classifier").kernel)
    feature_maps = reference.conv2d_same(images, kernel, bias)
    cams = np.zeros(feature_maps.shape[:3])
    for n, target in enumerate(targets):
        for c in range(feature_maps.shape[-1]):
            cams[n] += weights[c, target] * feature_maps[n, ..., c]
    logits = feature_maps.mean(axis=(1, 2)) @ weights
    return cams, logits.argmax(axis=1)


def test_cam_and_grad_cam_match_numpy():
    model, images = _gap_model(), _images(0)
    targets = np.array([2, 0, 3])
    cams, predicted = _brute_force_cams(model, images, targets)
    got = diagnostics.class_activation_maps(
        model, images, targets, upsample=False, normalize=False, batch_size=2
    )
    np.testing.assert_allclose(got, cams, rtol=1e-5, atol=1e-5)
    grad_cam = diagnostics.class_activation_maps(
        model, images, targets, method="grad_cam", upsample=False, normalize=False
    )
    np.testing.assert_allclose(grad_cam, np.maximum(cams, 0) / 36, rtol=1e-5, atol=1e-6)
    predicted_cams, _ = _brute_force_cams(model, images, predicted)
    got = diagnostics.class_activation_maps(
        model, images, upsample=False, normalize=False
    )
    np.testing.assert_allclose(got, predicted_cams, rtol=1e-5, atol=1e-5)


def test_sequential_model_matches_numpy():
    # A Sequential model has `inputs` but no `input`; its CAMs are those of
    # the same layers in a Functional model.
    model = keras.Sequential(
        [
            keras.Input((6, 6, 2)),
            keras.layers.Conv2D(3, 3, padding="same", name="conv"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(4, name="classifier"),
        ]
    )
    images, targets = _images(1), np.array([1, 3, 0])
    cams, _ = _brute_force_cams(model, images, targets)
    got = diagnostics.class_activation_maps(
        model, images, targets, upsample=False, normalize=False
    )
    np.testing.assert_allclose(got, cams, rtol=1e-5, atol=1e-5)


def test_upsampled_and_normalised_maps_match_numpy():
    # A 1x1 convolution with stride 2 gives 4x4 maps for 8x8 images.
    model = _gap_model(size=8, kernel_size=1, strides=2)
    images = _images(1, size=8)
    targets = np.array([1, 1, 2])
    conv = model.get_layer("conv")
    kernel, bias = (keras.ops.convert_to_numpy(w) for w in conv.weights)
    weights = keras.ops.convert_to_numpy(model.get_layer("classifier").kernel)
    got = diagnostics.class_activation_maps(model, images, targets)
    assert got.shape == (3, 8, 8)
    for n, target in enumerate(targets):
        small = np.zeros((4, 4))
        for y in range(4):
            for x in range(4):
                features = images[n, 2 * y, 2 * x] @ kernel[0, 0] + bias
                small[y, x] = features @ weights[:, target]
        big = reference.bilinear_resize(small, 8, 8)
        big = (big - big.min()) / (big.max() - big.min())
        np.testing.assert_allclose(got[n], big, rtol=1e-4, atol=1e-5)


def test_normalised_map_of_nan_image_is_nan_and_constant_map_is_zero():
    model, images = _gap_model(), _images(3)
    conv = model.get_layer("conv")
    kernel, bias = conv.get_weights()
    # A zero kernel makes every map constant (the bias alone).
    conv.set_weights([np.zeros_like(kernel), bias + 1.0])
    constant = diagnostics.class_activation_maps(model, images, upsample=False)
    np.testing.assert_array_equal(constant, np.zeros_like(constant))
    conv.set_weights([kernel, bias])
    images[0, 2, 3, 1] = np.nan
    got = diagnostics.class_activation_maps(model, images, np.array([0, 1, 2]))
    assert np.isnan(got[0]).any()
    assert np.isfinite(got[1:]).all()
    want = diagnostics.class_activation_maps(model, images[1:], np.array([1, 2]))
    np.testing.assert_allclose(got[1:], want, rtol=1e-6, atol=1e-7)


def test_rejects_heads_that_are_not_linear():
    inputs = keras.Input((6, 6, 2))
    x = keras.layers.Conv2D(3, 3)(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dense(5, activation="relu")(x)
    outputs = keras.layers.Dense(2)(x)
    model = keras.Model(inputs, outputs)
    with pytest.raises(ValueError, match="classifier"):
        diagnostics.class_activation_maps(model, _images(0))
    no_pool = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="GlobalAveragePooling2D"):
        diagnostics.class_activation_maps(no_pool, np.ones((1, 4), "float32"))


def test_explicit_classifier_layer():
    model, images = _gap_model(), _images(2)
    by_name = diagnostics.class_activation_maps(
        model, images, classifier_layer="classifier"
    )
    automatic = diagnostics.class_activation_maps(model, images)
    np.testing.assert_allclose(by_name, automatic)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"method": "score_cam"}, ValueError, "method"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"upsample": 1}, TypeError, "upsample"),
    ],
)
def test_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        diagnostics.class_activation_maps(_gap_model(), _images(0), **kwargs)
