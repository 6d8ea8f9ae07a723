"""The builders' `Conv2D` and `BatchNormalization` compute what Keras' own
layers compute: on PyTorch, where they take their own path, the
convolution's outputs and gradients agree to float32 rounding, and the
batch normalization's outputs, gradients and moving statistics are at least
as close to a float64 reference as Keras' own; everywhere, their
configuration, weights and `.keras` files are Keras' own."""

import keras
import numpy as np
import pytest

from keras_ortho.models import resnet_cifar
from keras_ortho.models._fast_layers import BatchNormalization
from keras_ortho.models._fast_layers import Conv2D
from tests.toolkit import MIXED_POLICIES
from tests.toolkit import assert_save_load_identical
from tests.toolkit import assert_serialization_round_trip
from tests.toolkit import mixed_precision
from tests.toolkit import to_numpy

ON_TORCH = keras.backend.backend() == "torch"
torch_only = pytest.mark.skipif(
    not ON_TORCH,
    reason="the fast path exists on PyTorch only; elsewhere they run Keras' call",
)
FAST_CLASSES = {
    keras.layers.Conv2D: Conv2D,
    keras.layers.BatchNormalization: BatchNormalization,
}
# float32 rounding of sums over up to 10^5 terms; float16 outputs round at
# 1e-3, bfloat16 ones at 1e-2.
TOLERANCE = {"float32": 1e-5, "mixed_float16": 2e-3, "mixed_bfloat16": 2e-2}


def relative_error(actual, expected):
    """Largest difference over the largest expected value."""
    actual = np.asarray(to_numpy(actual), "float64")
    expected = np.asarray(to_numpy(expected), "float64")
    return np.max(np.abs(actual - expected)) / max(np.max(np.abs(expected)), 1e-30)


def assert_close(actual, expected, tolerance, name):
    """Largest difference within `tolerance` of the largest expected value."""
    error = relative_error(actual, expected)
    assert error <= tolerance, f"{name}: relative difference {error:.2e}"


def assert_as_accurate(actual, keras_value, exact, name, slack=1e-6):
    """`actual` no farther from the float64 `exact` than twice Keras' own
    float32 value is, give or take `slack` (float32 rounding)."""
    error = relative_error(actual, exact)
    keras_error = relative_error(keras_value, exact)
    assert error <= 2 * keras_error + slack, (
        f"{name}: {error:.1e} from float64, Keras {keras_error:.1e}"
    )


def probe(shape):
    """The fixed random weights of `torch_outputs_and_gradients`' sum."""
    return np.random.default_rng(1).normal(size=shape).astype("float32")


def fast_twin(layer, input_shape):
    """The builders' class of `layer`, built, with its config and weights."""
    twin = FAST_CLASSES[type(layer)].from_config(layer.get_config())
    twin.build(input_shape)
    twin.set_weights(layer.get_weights())
    return twin


def torch_outputs_and_gradients(layer, x, training):
    """`layer(x)`, and the gradients of `sum(layer(x) * probe)` for a fixed
    random probe with respect to `x` and each trainable weight."""
    import torch

    inputs = torch.tensor(x, requires_grad=True)
    outputs = layer(inputs, training=training)
    (outputs.float() * torch.tensor(probe(outputs.shape))).sum().backward()
    gradients = {"inputs": inputs.grad}
    for weight in layer.trainable_weights:
        gradients[weight.name] = weight.value.grad
    return outputs.detach(), gradients


def numpy_batch_norm(x, weights, training, momentum=0.9, epsilon=1e-5):
    """Batch normalization over the last axis in float64: the outputs, the
    gradients of `sum(outputs * probe)` (the probe of
    `torch_outputs_and_gradients`) and the moving statistics after the call."""
    x = x.astype("float64")
    axes = (0, 1, 2)
    weighting = probe(x.shape).astype("float64")
    gamma = weights.get("gamma", 1.0)
    beta = weights.get("beta", 0.0)
    moving_mean, moving_variance = weights["moving_mean"], weights["moving_variance"]
    if training:
        mean, variance = x.mean(axis=axes), x.var(axis=axes)
        moving_mean = momentum * moving_mean + (1 - momentum) * mean
        moving_variance = momentum * moving_variance + (1 - momentum) * variance
    else:
        mean, variance = moving_mean, moving_variance
    inverse_std = 1.0 / np.sqrt(variance + epsilon)
    normalized = (x - mean) * inverse_std
    gradients = {"inputs": weighting * gamma * inverse_std}
    if training:
        gradients["inputs"] = (
            gamma
            * inverse_std
            * (
                weighting
                - weighting.mean(axis=axes)
                - normalized * (weighting * normalized).mean(axis=axes)
            )
        )
    if "gamma" in weights:
        gradients["gamma"] = (weighting * normalized).sum(axis=axes)
        gradients["beta"] = weighting.sum(axis=axes)
    statistics = {"moving_mean": moving_mean, "moving_variance": moving_variance}
    return normalized * gamma + beta, gradients, statistics


def images(shape, seed=0):
    # An offset mean makes E[x^2] - E[x]^2 cancel, as in real activations.
    return (1.0 + 2.0 * np.random.default_rng(seed).normal(size=shape)).astype(
        "float32"
    )


CONV_CASES = [
    (kernel_size, strides, padding)
    for kernel_size in (1, 3)
    for strides in (1, 2)
    for padding in ("same", "valid")
]


@torch_only
@pytest.mark.parametrize("policy", ["float32", *MIXED_POLICIES])
@pytest.mark.parametrize("kernel_size,strides,padding", CONV_CASES)
def test_conv_matches_keras(kernel_size, strides, padding, policy):
    x = images((4, 9, 8, 5))
    with mixed_precision(policy):
        reference = keras.layers.Conv2D(
            6, kernel_size, strides=strides, padding=padding, use_bias=False
        )
        reference.build(x.shape)
        fast = fast_twin(reference, x.shape)
        expected, expected_gradients = torch_outputs_and_gradients(reference, x, True)
        actual, actual_gradients = torch_outputs_and_gradients(fast, x, True)
    assert actual.dtype == expected.dtype
    assert tuple(actual.shape) == tuple(expected.shape)
    assert actual.is_contiguous()
    assert_close(actual, expected, TOLERANCE[policy], "outputs")
    for name, gradient in expected_gradients.items():
        assert_close(actual_gradients[name], gradient, TOLERANCE[policy], name)


@torch_only
def test_conv_takes_the_fast_path_only_where_it_is_exact():
    blank = np.zeros((1, 8, 8, 4), "float32")
    cases = {
        "stride 1, odd kernel": (dict(kernel_size=3), (1, 1)),
        "valid": (dict(kernel_size=2, padding="valid"), (0, 0)),
        "even kernel pads one more pixel at the end": (dict(kernel_size=2), None),
        "stride 2 pads one more pixel at the end": (
            dict(kernel_size=3, strides=2),
            None,
        ),
        "dilation": (dict(kernel_size=3, dilation_rate=2), None),
        "groups": (dict(kernel_size=3, groups=2), None),
    }
    import torch

    for name, (arguments, padding) in cases.items():
        layer = Conv2D(4, padding=arguments.pop("padding", "same"), **arguments)
        assert layer._fast_path_padding(torch.tensor(blank)) == padding, name


@torch_only
@pytest.mark.parametrize("policy", ["float32", *MIXED_POLICIES])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("scale_and_center", [True, False])
def test_batch_norm_matches_keras(training, policy, scale_and_center):
    # 65,536 values per channel: long sums, where PyTorch's own kernel on the
    # NHWC tensor drifts; a channel whose mean is 30 times its spread, where
    # a kernel that scales before it centres, and Keras' E[x^2] - E[x]^2,
    # lose digits. Both layers are held to the float64 NumPy reference: the
    # builders' may differ from Keras' by Keras' own error, never be worse.
    x = images((64, 32, 32, 3))
    x[..., 0] = 30.0 + x[..., 0] / 2.0
    with mixed_precision(policy):
        reference = keras.layers.BatchNormalization(
            momentum=0.9,
            epsilon=1e-5,
            scale=scale_and_center,
            center=scale_and_center,
        )
        reference.build(x.shape)
        rng = np.random.default_rng(2)
        weights = [rng.uniform(0.5, 1.5, w.shape) for w in reference.weights]
        reference.set_weights(weights)
        fast = fast_twin(reference, x.shape)
        expected, expected_gradients = torch_outputs_and_gradients(
            reference, x, training
        )
        actual, actual_gradients = torch_outputs_and_gradients(fast, x, training)
    # The layers take their inputs in the policy's compute dtype.
    rounded = to_numpy(keras.ops.cast(x, fast.compute_dtype)).astype("float64")
    exact, exact_gradients, exact_statistics = numpy_batch_norm(
        rounded,
        dict(zip([w.name for w in reference.weights], weights, strict=True)),
        training,
    )
    assert actual.dtype == expected.dtype
    assert actual.is_contiguous()
    assert_close(actual, exact, TOLERANCE[policy], "outputs")
    assert_as_accurate(actual, expected, exact, "outputs")
    assert expected_gradients.keys() == actual_gradients.keys()
    for name, gradient in actual_gradients.items():
        truth = exact_gradients[name]
        assert_close(gradient, truth, TOLERANCE[policy], name)
        assert_as_accurate(gradient, expected_gradients[name], truth, name)
    for want, got in zip(
        reference.non_trainable_weights, fast.non_trainable_weights, strict=True
    ):
        truth = exact_statistics[want.name]
        assert_close(got, truth, 1e-6, want.name)
        assert_as_accurate(got, want, truth, want.name)


@torch_only
def test_batch_norm_takes_the_fast_path_only_in_training():
    import torch

    x = torch.tensor(images((4, 4, 4, 3)), requires_grad=True)
    layer = BatchNormalization()
    node = type(layer(x, training=True).grad_fn).__name__
    assert node == "_BatchNormalizationBackward", node
    assert type(layer(x, training=False).grad_fn).__name__ != node
    layer.trainable = False
    assert type(layer(x, training=True).grad_fn).__name__ != node


@torch_only
def test_batch_norm_training_step_passes_over_the_activations():
    # Forward: the statistics (PyTorch's kernel, two passes), x - mean,
    # addcmul; backward: the two sums (PyTorch's kernel, one pass), two
    # addcmuls. The moving statistics are updated in place: no assignment
    # copy, no Python-scalar tensors. Rows of 16,384 values: the per-column
    # statistics are smaller than the activations.
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    class Passes(TorchDispatchMode):
        def __init__(self, size, channels):
            super().__init__()
            self.size = size
            self.channels = channels
            self.full_size = []
            self.copies = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            outputs = func(*args, **(kwargs or {}))
            name = func.overloadpacket.__name__
            # Copies, and zero gradients for the batch statistics.
            zero_statistics = name.startswith("zeros") and outputs.shape == (
                self.channels,
            )
            self.copies += name in ("copy_", "_to_copy") or zero_statistics
            reads = [a for a in args if isinstance(a, torch.Tensor)]
            if name not in ("view", "permute", "expand", "detach", "t") and any(
                a.numel() == self.size for a in reads
            ):
                self.full_size.append(name)
            return outputs

    x = torch.tensor(images((16, 16, 16, 8)), requires_grad=True)
    layer = BatchNormalization()
    layer.build(x.shape)
    weighting = torch.tensor(probe(x.shape))
    with Passes(x.numel(), x.shape[-1]) as passes:
        (layer(x, training=True) * weighting).sum().backward()
    forward = ["batch_norm_update_stats", "sub", "addcmul"]
    backward = ["native_batch_norm_backward", "addcmul", "addcmul_"]
    # The probe's product, its sum and the product's backward are the test's.
    probe_passes = ["mul", "sum", "mul"]
    assert sorted(passes.full_size) == sorted([*forward, *backward, *probe_passes]), (
        passes.full_size
    )
    assert passes.copies == 0


@torch_only
def test_batch_norm_of_an_empty_batch_is_keras():
    x = images((0, 4, 4, 3))
    reference = keras.layers.BatchNormalization()
    reference.build(x.shape)
    fast = fast_twin(reference, x.shape)
    expected = reference(x, training=True)
    actual = fast(x, training=True)
    assert tuple(actual.shape) == tuple(expected.shape) == x.shape
    for want, got in zip(
        reference.non_trainable_weights, fast.non_trainable_weights, strict=True
    ):
        np.testing.assert_array_equal(to_numpy(got), to_numpy(want))


@torch_only
def test_batch_norm_of_one_value_per_channel_is_beta():
    x = images((1, 1, 1, 3))
    reference = keras.layers.BatchNormalization()
    reference.build(x.shape)
    fast = fast_twin(reference, x.shape)
    expected, expected_gradients = torch_outputs_and_gradients(reference, x, True)
    actual, actual_gradients = torch_outputs_and_gradients(fast, x, True)
    np.testing.assert_array_equal(to_numpy(actual), to_numpy(expected))
    for name, gradient in expected_gradients.items():
        np.testing.assert_allclose(
            to_numpy(actual_gradients[name]), to_numpy(gradient), atol=1e-6
        )


@torch_only
def test_stateless_call_matches_keras():
    x = images((8, 8, 8, 4))
    reference = keras.layers.BatchNormalization(momentum=0.9)
    reference.build(x.shape)
    fast = fast_twin(reference, x.shape)
    results = [
        layer.stateless_call(
            [w.value for w in layer.trainable_weights],
            [w.value for w in layer.non_trainable_weights],
            keras.ops.convert_to_tensor(x),
            training=True,
        )
        for layer in (reference, fast)
    ]
    (expected, expected_state), (actual, actual_state) = results
    assert_close(actual, expected, 1e-5, "outputs")
    for want, got in zip(expected_state, actual_state, strict=True):
        assert_close(got, want, 1e-6, "moving statistics")
    # The layer's own variables are left alone.
    np.testing.assert_array_equal(to_numpy(fast.moving_mean), np.zeros(4))


def with_layer_classes(model, classes):
    """A copy of `model` with the same weights, its `Conv2D` and
    `BatchNormalization` layers of the given classes."""
    by_base = {base: classes[base] for base in FAST_CLASSES}

    def clone(layer):
        for base, cls in by_base.items():
            if isinstance(layer, base):
                return cls.from_config(layer.get_config())
        return layer.__class__.from_config(layer.get_config())

    copy = keras.models.clone_model(model, clone_function=clone)
    copy.set_weights(model.get_weights())
    return copy


KERAS_CLASSES = {base: base for base in FAST_CLASSES}


def two_training_steps(model, x, y):
    """The losses and the weights (as float64) after each of two steps."""
    model.compile(
        keras.optimizers.SGD(0.1, momentum=0.9),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    steps = []
    for _ in range(2):
        loss = model.train_on_batch(x, y)
        steps.append((loss, [to_numpy(w).astype("float64") for w in model.weights]))
    return steps


class Float64BatchNormalization(keras.layers.BatchNormalization):
    """Keras' training batch normalization in its inputs' dtype: Keras' own
    layer computes in `result_type(inputs, "float32")`, which is float32 for
    float64 inputs too."""

    def call(self, inputs, training=None, mask=None):
        if not training:
            return super().call(inputs, training=training, mask=mask)
        mean, variance = keras.ops.moments(inputs, axes=(0, 1, 2))
        for moving, batch in (
            (self.moving_mean, mean),
            (self.moving_variance, variance),
        ):
            moving.assign(moving * self.momentum + batch * (1.0 - self.momentum))
        return keras.ops.batch_normalization(
            inputs, mean, variance, -1, self.beta, self.gamma, self.epsilon
        )


@torch_only
def test_resnet20_training_steps_match_keras():
    # Each weight after one and two steps is held to a float64 run: the
    # builders' layers no farther from it than twice Keras' float32 layers.
    # (After the second step, BN betas are sums that cancel: Keras' layers
    # differ from float64 by up to 1e-2 relative there.) Unnormalized pixels
    # make the stem's activations a mean large against their spread, where
    # Keras' E[x^2] - E[x]^2 loses digits.
    model = resnet_cifar(20, num_classes=10)
    assert {type(layer) for layer in model.layers} >= {Conv2D, BatchNormalization}
    rng = np.random.default_rng(3)
    x = rng.integers(0, 256, (32, 32, 32, 3)).astype("float32")
    y = rng.integers(0, 10, 32)
    fast = with_layer_classes(model, FAST_CLASSES)
    assert {type(layer) for layer in fast.layers} >= {Conv2D, BatchNormalization}
    reference = with_layer_classes(model, KERAS_CLASSES)
    assert not {type(layer) for layer in reference.layers} & set(FAST_CLASSES.values())
    fast_steps = two_training_steps(fast, x, y)
    keras_steps = two_training_steps(reference, x, y)
    with mixed_precision("float64"):
        exact = with_layer_classes(
            resnet_cifar(20, num_classes=10),
            {
                **KERAS_CLASSES,
                keras.layers.BatchNormalization: Float64BatchNormalization,
            },
        )
        exact.set_weights(model.get_weights())
        exact_steps = two_training_steps(exact, x, y)
    paths = [w.path for w in reference.weights]
    for (fast_loss, fast_weights), (keras_loss, keras_weights), (
        exact_loss,
        exact_weights,
    ) in zip(fast_steps, keras_steps, exact_steps, strict=True):
        np.testing.assert_allclose(fast_loss, exact_loss, rtol=1e-5)
        np.testing.assert_allclose(keras_loss, exact_loss, rtol=1e-5)
        for path, got, want, exact_weight in zip(
            paths, fast_weights, keras_weights, exact_weights, strict=True
        ):
            assert_as_accurate(got, want, exact_weight, path, slack=1e-5)


@torch_only
@pytest.mark.inductor
def test_compiled_training_step_matches_keras():
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", use_bias=False)(inputs)
    x = keras.layers.BatchNormalization()(x)
    outputs = keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(x))
    model = keras.Model(inputs, outputs)
    x = images((16, 8, 8, 3))
    y = np.random.default_rng(4).integers(0, 2, 16)
    weights = []
    for classes in (KERAS_CLASSES, FAST_CLASSES):
        copy = with_layer_classes(model, classes)
        copy.compile(
            "sgd",
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            jit_compile=True,
        )
        copy.fit(x, y, batch_size=16, epochs=1, verbose=0)
        weights.append(copy.weights)
    for want, got in zip(*weights, strict=True):
        assert_close(got, want, 1e-5, want.path)


@pytest.mark.parametrize(
    "layer",
    [Conv2D(8, 3, strides=2, padding="same"), BatchNormalization(momentum=0.9)],
    ids=["Conv2D", "BatchNormalization"],
)
def test_config_is_keras_own(layer):
    base = next(base for base, cls in FAST_CLASSES.items() if cls is type(layer))
    assert layer.get_config() == base.from_config(layer.get_config()).get_config()
    assert_serialization_round_trip(layer)


def test_keras_file_and_weights_round_trip_across_the_classes(tmp_path):
    model = resnet_cifar(8, num_classes=3, input_shape=(16, 16, 3))
    x = np.random.default_rng(5).integers(0, 256, (4, 16, 16, 3)).astype("float32")
    fast = with_layer_classes(model, FAST_CLASSES)
    loaded = assert_save_load_identical(fast, x, tmp_path)
    assert {type(layer) for layer in loaded.layers} >= {Conv2D, BatchNormalization}
    # Weights saved by Keras' layers load into the builders' and the reverse.
    rng = np.random.default_rng(6)
    reference = with_layer_classes(model, KERAS_CLASSES)
    reference.set_weights(
        [w + rng.uniform(0.1, 0.2, w.shape) for w in reference.get_weights()]
    )
    keras_copy = with_layer_classes(model, KERAS_CLASSES)
    for source, target in ((reference, fast), (fast, keras_copy)):
        path = tmp_path / f"{source.name}_{len(list(tmp_path.iterdir()))}.weights.h5"
        source.save_weights(path)
        target.load_weights(path)
        for want, got in zip(source.weights, target.weights, strict=True):
            np.testing.assert_array_equal(to_numpy(got), to_numpy(want))
