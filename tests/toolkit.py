"""The test toolkit every object's tests use (as keras-hub and keras-rs keep their own).

- `assert_serialization_round_trip(obj)`: `get_config`/`from_config`, and
  `keras.saving.serialize_keras_object`/`deserialize_keras_object` through JSON.
- `assert_save_load_identical(model, inputs, tmp_path)`: a `.keras` save and
  load gives identical outputs.
- `fit_one_step(model, x, y, loss)`: one `fit` step with `jit_compile=True`.

`tests/test_contract.py` applies the first four to every public Keras object.
- `MIXED_POLICIES` and `mixed_precision(policy)`: a run under mixed_float16 and
  mixed_bfloat16.
- `load_golden(name)`: the reference values committed under `tests/golden/`.
- `every_kernel_type_model()`, `every_kernel_placed(kind)` and
  `SubclassedClassifier`: the models the two `attach` functions are tested on.
- `to_numpy(x)`, `value_and_grad(fn, x)`: backend-neutral evaluation and
  gradients of a scalar function.
"""

import contextlib
import json
import pathlib

import keras
import numpy as np

GOLDEN_DIR = pathlib.Path(__file__).parent / "golden"
MIXED_POLICIES = ("mixed_float16", "mixed_bfloat16")


def to_numpy(x):
    """Returns a backend tensor or variable as a NumPy array."""
    return keras.ops.convert_to_numpy(x)


def value_and_grad(fn, x, jit=True):
    """Evaluates a scalar `fn(x)` and its gradient with respect to `x`.

    `x` is a NumPy array; it is passed to `fn` as a float32 (or its own dtype)
    backend tensor. Returns NumPy `(value, gradient)`. On JAX, `jit=True`
    compiles `fn` and its gradient as one program: much faster than op by op
    for most functions, much slower for long unrolled loops.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        x_tensor = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(x_tensor)
            value = fn(x_tensor)
        grad = tape.gradient(value, x_tensor)
        return value.numpy(), grad.numpy()
    if backend == "jax":
        import jax

        value_and_grad_fn = jax.value_and_grad(fn)
        if jit:
            value_and_grad_fn = jax.jit(value_and_grad_fn)
        value, grad = value_and_grad_fn(jax.numpy.asarray(x))
        return np.asarray(value), np.asarray(grad)
    if backend == "torch":
        import torch

        x_tensor = torch.tensor(x, requires_grad=True)
        value = fn(x_tensor)
        value.backward()
        return value.detach().numpy(), x_tensor.grad.numpy()
    raise NotImplementedError(f"No gradient helper for backend {backend!r}.")


def assert_serialization_round_trip(obj):
    """Round-trips `obj` through its config and through Keras' serializer
    (with JSON in between); returns the deserialized copy."""
    config = obj.get_config()
    json.dumps(config)
    revived = type(obj).from_config(config)
    assert type(revived) is type(obj)
    assert revived.get_config() == config

    serialized = keras.saving.serialize_keras_object(obj)
    restored = keras.saving.deserialize_keras_object(json.loads(json.dumps(serialized)))
    assert type(restored) is type(obj)
    assert restored.get_config() == config
    return restored


def assert_save_load_identical(model, inputs, tmp_path):
    """Saves `model` as `.keras`, loads it back without `custom_objects`, and
    checks the predictions are bit-identical. Returns the loaded model."""
    path = pathlib.Path(tmp_path) / "model.keras"
    expected = model.predict(inputs, verbose=0)
    model.save(path)
    loaded = keras.saving.load_model(path)
    actual = loaded.predict(inputs, verbose=0)
    for want, got in zip(
        keras.tree.flatten(expected), keras.tree.flatten(actual), strict=True
    ):
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
    return loaded


def fit_one_step(
    model,
    x,
    y,
    loss,
    optimizer="sgd",
    jit_compile=True,
    callbacks=None,
    **compile_kwargs,
):
    """Compiles (with `jit_compile=True` unless told otherwise), runs one `fit`
    step on the whole batch with `callbacks` and returns the training loss,
    asserting it is finite.

    Mixed-precision runs pass `jit_compile="auto"`: XLA on TensorFlow and JAX,
    eager on torch, where each `torch.compile` (Dynamo's trace) costs about 10 s
    on 2 cores.
    """
    model.compile(
        optimizer=optimizer, loss=loss, jit_compile=jit_compile, **compile_kwargs
    )
    batch_size = len(keras.tree.flatten(x)[0])
    history = model.fit(
        x, y, batch_size=batch_size, epochs=1, verbose=0, callbacks=callbacks
    )
    value = history.history["loss"][-1]
    assert np.isfinite(value), f"fit produced a non-finite loss: {value}"
    return value


@contextlib.contextmanager
def mixed_precision(policy):
    """Runs the block under a global dtype policy, restoring float32 after."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def load_golden(name):
    """Returns `(cases, arrays)` of `tests/golden/<name>.npz`: the case list of
    `index.json` and the arrays, keyed `caseNNN/<quantity>`."""
    index = json.loads((GOLDEN_DIR / "index.json").read_text())
    file_name = f"{name}.npz"
    cases = index["files"][file_name]["cases"]
    with np.load(GOLDEN_DIR / file_name) as data:
        arrays = {key: data[key] for key in data.files}
    return cases, arrays


def golden_case_arrays(arrays, case_id):
    """The arrays of one golden case, keyed by quantity name."""
    prefix = f"{case_id}/"
    return {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}


def golden_kernel_gradient(case, quantity):
    """Flat indices into the Keras-layout kernel and the reference gradient of
    `quantity` at those positions (all of it, or the stored sample)."""
    full_key = f"grad_{quantity}"
    if full_key in case:
        grad = case[full_key]
        grad_keras = grad.T if grad.ndim == 2 else grad.transpose(2, 3, 1, 0)
        return np.arange(grad_keras.size), grad_keras.ravel()
    return case["grad_index_keras"], case[f"grad_{quantity}_sampled"]


def every_kernel_type_model():
    """A built Functional model with a kernel of every layout that
    `regularizers.attach` and `constraints.attach` place on, listed in
    `EVERY_KERNEL_TYPE`, and BatchNormalization weights they leave alone."""
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(6, 3, name="conv")(inputs)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.DepthwiseConv2D(3, depth_multiplier=2, name="depthwise")(x)
    x = keras.layers.SeparableConv2D(5, 3, depth_multiplier=2, name="separable")(x)
    x = keras.layers.Conv2DTranspose(4, 3, name="transpose")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(3, name="dense")(x)
    return keras.Model(inputs, outputs, name="every_kernel_type")


# Written out by hand for `every_kernel_type_model`, in layer order:
# (layer name, attribute prefix, kernel attribute, kernel layout).
EVERY_KERNEL_TYPE = [
    ("conv", "kernel", "kernel", "conv"),
    ("depthwise", "depthwise", "kernel", "depthwise"),
    ("separable", "depthwise", "depthwise_kernel", "depthwise"),
    ("separable", "pointwise", "pointwise_kernel", "conv"),
    ("transpose", "kernel", "kernel", "conv_transpose"),
    ("dense", "kernel", "kernel", "dense"),
]


def every_kernel_placed(kind):
    """`EVERY_KERNEL_TYPE` with the layer attribute that `attach` sets for
    `kind` (`"regularizer"` or `"constraint"`): `(layer name, attribute,
    kernel attribute, kernel layout)`."""
    return [
        (name, f"{prefix}_{kind}", kernel, layout)
        for name, prefix, kernel, layout in EVERY_KERNEL_TYPE
    ]


class SubclassedClassifier(keras.Model):
    """A subclassed model: its config records its constructor arguments, not
    its layers' configs, as a keras-hub backbone's does."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.conv = keras.layers.Conv2D(4, 3, name="conv")
        self.pool = keras.layers.GlobalAveragePooling2D()
        self.head = keras.layers.Dense(2, name="head")

    def call(self, x):
        return self.head(self.pool(self.conv(x)))
