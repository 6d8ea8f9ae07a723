"""Test session set-up, run once per backend (`KERAS_BACKEND` is fixed per process).

Virtual devices for the multi-device tests are created here, before any backend
initialises: 8 CPU devices for JAX, 4 logical CPUs for TensorFlow.

XLA compiles the suite's programs (JAX's, and TensorFlow's under `jit_compile`)
for a short compile, not a fast run (`COMPILE_FOR_TESTS`): the suite's models
are small and each step runs a few times, so compiling is most of its time.
LLVM's optimisation level 0 and XLA's loop emitters instead of its fusion
emitters, in one codegen split, compile the demo recipe's JAX programs in a
third of the time of the defaults with the same losses to the last bit, and a
ResNet-8 `fit` on TensorFlow in 1.3 s instead of 3.4 s; a ResNet-20 step at
batch 128, which the suite never runs, is 1.4 times slower (measured on this
CPU).

On torch, `jit_compile=True` (`torch.compile`) uses the `aot_eager` backend:
Dynamo traces the step and AOTAutograd builds its forward and backward graphs
as for Inductor, without Inductor's C++ code generation, which costs about 20
s per small fit step on a cold cache (35 s against 14 s for a one-layer
model, measured on this CPU). Tests marked `inductor` compile with PyTorch's
default backend, Inductor.

On torch each test process computes on one thread (`OMP_NUM_THREADS=1`, also
for the tutorials' subprocesses): the suite runs two processes on the two
cores, so more threads only contend (the contract and regularizer tests: 124 s
against 100 s). TensorFlow keeps its threads: with one intra-op thread its
4-replica run leaves the one-device run's weights by more than the
data-parallel test's tolerance. XLA's CPU runtime on JAX measured no faster
on one thread.

On JAX, each test process also keeps the programs XLA compiled in a
persistent compilation cache of its own, in a temporary folder removed at the
end: tests that build the same model again (a resumed run, a reloaded model)
load its compiled steps instead of compiling them anew.
"""

import functools
import os
import shutil
import tempfile

BACKEND = os.environ.get("KERAS_BACKEND", "tensorflow")
MULTI_DEVICE_COUNT = {"jax": 8, "tensorflow": 4}.get(BACKEND, 1)

COMPILE_FOR_TESTS = (
    "--xla_backend_optimization_level=0"
    " --xla_cpu_use_fusion_emitters=false"
    " --xla_cpu_parallel_codegen_split_count=1"
)

if BACKEND == "jax":
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "")
        + f" --xla_force_host_platform_device_count={MULTI_DEVICE_COUNT} "
        + COMPILE_FOR_TESTS
    )
elif BACKEND == "tensorflow":
    os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " " + COMPILE_FOR_TESTS
elif BACKEND == "torch":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
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

_compilation_cache_dir = None
_torch_compile_backend = {"default": "aot_eager"}

if BACKEND == "torch":
    import torch

    _torch_compile = torch.compile

    @functools.wraps(_torch_compile)
    def _compile_for_tests(*args, **kwargs):
        kwargs.setdefault("backend", _torch_compile_backend["default"])
        return _torch_compile(*args, **kwargs)

    torch.compile = _compile_for_tests


def pytest_configure(config):
    global _compilation_cache_dir
    if BACKEND == "jax":
        import jax

        _compilation_cache_dir = tempfile.mkdtemp(prefix="keras_ortho_xla_cache_")
        jax.config.update("jax_compilation_cache_dir", _compilation_cache_dir)
        # Steps and models take longer than this to compile, single ops less.
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.3)


@pytest.fixture(autouse=True)
def _torch_compile_backend_of_the_test(request):
    """PyTorch's own default backend, Inductor, for tests marked `inductor`."""
    if request.node.get_closest_marker("inductor") is None:
        yield
        return
    _torch_compile_backend["default"] = "inductor"
    yield
    _torch_compile_backend["default"] = "aot_eager"


def pytest_unconfigure(config):
    if _compilation_cache_dir is not None:
        shutil.rmtree(_compilation_cache_dir, ignore_errors=True)


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
