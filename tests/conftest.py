"""Test session set-up, run once per backend (`KERAS_BACKEND` is fixed per process).

Virtual devices for the multi-device tests are created here, before any backend
initialises: 8 CPU devices for JAX, 4 logical CPUs for TensorFlow.
"""

import os

BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")
MULTI_DEVICE_COUNT = {"jax": 8, "tensorflow": 4}.get(BACKEND, 1)

if BACKEND == "jax":
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "")
        + f" --xla_force_host_platform_device_count={MULTI_DEVICE_COUNT}"
    )
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

if BACKEND == "tensorflow":
    import tensorflow as tf

    _cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        _cpu, [tf.config.LogicalDeviceConfiguration()] * MULTI_DEVICE_COUNT
    )

import keras  # noqa: E402
import pytest  # noqa: E402

if keras.backend.backend() != BACKEND:
    raise RuntimeError(
        f"KERAS_BACKEND={BACKEND!r} but Keras runs {keras.backend.backend()!r}; "
        "check ~/.keras/keras.json and KERAS_HOME."
    )


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    """Each test starts from a clean session, float32 policy and fixed seeds.

    `free_memory=False` skips the full garbage collection `clear_session` runs
    by default: 0.1 to 0.3 s per test, a quarter of the suite's time.
    """
    keras.backend.clear_session(free_memory=False)
    keras.config.set_dtype_policy("float32")
    keras.utils.set_random_seed(1234)
    yield
    keras.config.set_dtype_policy("float32")
