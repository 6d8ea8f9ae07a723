"""Data-parallel recipes on Keras' own engines (docs/recipes/distributed_training.md):
JAX `keras.distribution.DataParallel` and TensorFlow `MirroredStrategy` train
the demo recipe (CE + OPL + SO) as one device does; torch refuses.

The virtual devices are conftest.py's: 8 CPU devices for JAX (the runs use 4 of
them), 4 logical CPUs for TensorFlow.
"""

import json
import os
import socket
import subprocess
import sys

import keras
import numpy as np
import pytest

from keras_ortho._distribute import ReplicaSeeds
from keras_ortho._distribute import data_parallelism
from keras_ortho.data import load_dataset
from keras_ortho.recipes import get_recipe
from keras_ortho.recipes import train
from tests.conftest import BACKEND
from tests.conftest import COMPILE_FOR_TESTS
from tests.conftest import MULTI_DEVICE_COUNT
from tests.recipes.test_training import InterruptAt
from tests.recipes.test_training import Interrupted
from tests.recipes.test_training import synthetic_dataset
from tests.toolkit import to_numpy

pytestmark = pytest.mark.multi_device

DEVICES = 4
DISTRIBUTED = BACKEND in ("jax", "tensorflow")
ALL = MULTI_DEVICE_COUNT

# Both runs compute the same global-batch losses and updates; only the order
# of float32 sums differs (per-device partial sums, then an all-reduce), by
# about 1e-7 of each value. Eight SGD steps with momentum carry that to the
# largest weight difference measured: 4.8e-7 on JAX, 6.0e-7 on TensorFlow
# (synchronized BatchNormalization, the recipe's default). The tolerance
# leaves 30x room for other CPUs; a wrong semantics is far outside it
# (measured on TensorFlow: per-replica BatchNormalization 0.23, OPL on each
# replica's shard 0.57).
WEIGHT_ATOL = 2e-5
LOSS_RTOL = 1e-5


def demo_changes(**changes):
    """The demo recipe's settings at test size: ResNet-8, CE + OPL + SO, two
    epochs of four steps of 16 real CIFAR-10 images, a new learning rate
    after the first (JSON, for the recipe of a subprocess)."""
    small = {
        "methods": "opl,so",
        "train_size": 64,
        "test_size": 40,
        "batch_size": 16,
        "lr_milestones": [1],
        "jit_compile": BACKEND == "jax",
    }
    if BACKEND == "tensorflow":
        # Under tf.distribute each replica draws its own crops and flips for
        # its shard, not the single-device draws for the global batch.
        small.update(crop_padding=0, horizontal_flip=False)
    return {**small, **changes}


def demo(**changes):
    return get_recipe("demo", **demo_changes(**changes))


def _outcome(run, run_dir):
    saved = keras.saving.load_model(run_dir / "model.keras")
    return {
        "weights": [to_numpy(w) for w in run.model.weights],
        "saved_weights": [to_numpy(w) for w in saved.weights],
        "saved_synchronized": [
            layer.synchronized
            for layer in saved.layers
            if isinstance(layer, keras.layers.BatchNormalization)
        ],
        "history": run.history,
        "results": run.results,
        "csv": (run_dir / "history.csv").read_text().splitlines(),
        "run_dir": run_dir,
    }


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The demo recipe on one device and on 4, and a 4-device run
    interrupted after its first epoch, then resumed."""
    if not DISTRIBUTED:
        pytest.skip("Keras has no data-parallel engine on torch")
    dataset = load_dataset("cifar10_subset")
    outcomes = {}
    for name, recipe in (
        ("one_device", demo()),
        ("data_parallel", demo(distribution="data_parallel", devices=DEVICES)),
    ):
        keras.backend.clear_session(free_memory=False)
        run_dir = tmp_path_factory.mktemp(name)
        outcomes[name] = _outcome(train(recipe, run_dir, dataset, verbose=0), run_dir)
    recipe = demo(distribution="data_parallel", devices=DEVICES)
    run_dir = tmp_path_factory.mktemp("resumed")
    keras.backend.clear_session(free_memory=False)
    with pytest.raises(Interrupted):
        train(recipe, run_dir, dataset, verbose=0, callbacks=[InterruptAt(1)])
    keras.backend.clear_session(free_memory=False)
    resumed = train(recipe, run_dir, dataset, verbose=0)
    outcomes["resumed"] = _outcome(resumed, run_dir)
    return outcomes


def test_data_parallel_ends_as_one_device(runs):
    one, parallel = runs["one_device"], runs["data_parallel"]
    assert parallel["results"]["replicas"] == DEVICES
    assert one["results"]["replicas"] == 1
    for got, want in zip(parallel["weights"], one["weights"], strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=WEIGHT_ATOL)
    for key, want in one["history"].items():
        np.testing.assert_allclose(parallel["history"][key], want, rtol=LOSS_RTOL)
    for key in ("test_accuracy", "feature_s", "feature_d", "ece"):
        np.testing.assert_allclose(
            parallel["results"][key], one["results"][key], rtol=1e-4, atol=1e-6
        )


def test_interrupted_data_parallel_run_resumes_to_the_same_end(runs):
    uninterrupted, resumed = runs["data_parallel"], runs["resumed"]
    # Only the second epoch ran after the resume; the CSV log holds both.
    assert len(resumed["history"]["loss"]) == 1
    assert resumed["csv"] == uninterrupted["csv"]
    for got, want in zip(resumed["weights"], uninterrupted["weights"], strict=True):
        np.testing.assert_array_equal(got, want)
    for key in ("test_accuracy", "feature_s", "feature_d", "filter_so_residual"):
        assert resumed["results"][key] == uninterrupted["results"][key]


def test_the_saved_model_is_the_trained_one_and_loads_anywhere(runs):
    parallel = runs["data_parallel"]
    for got, want in zip(parallel["saved_weights"], parallel["weights"], strict=True):
        np.testing.assert_array_equal(got, want)
    # Synchronized only while training: Keras refuses `synchronized=True`
    # outside TensorFlow, and the file must load on every backend.
    assert parallel["saved_synchronized"]
    assert not any(parallel["saved_synchronized"])
    [saved] = json.loads((parallel["run_dir"] / "results.json").read_text())
    assert saved["settings"]["distribution"] == "data_parallel"
    assert saved["replicas"] == DEVICES


# Each process of a multi-process JAX run, in its own directory (its "host"):
# `compare` with one method, on the devices of the process, then JAX's
# orderly shutdown.
PROCESS_SCRIPT = """
import json, sys
import jax
from keras_ortho.data import load_dataset
from keras_ortho.recipes import compare, get_recipe
recipe = get_recipe("demo", **json.loads(sys.argv[1]))
compare(recipe, ["opl,so"], "uninterrupted", load_dataset("cifar10_subset"), verbose=0)
jax.distributed.shutdown()
"""
PROCESS_TIMEOUT = 240


def _free_local_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run_cluster(changes, launches, tmp_path):
    """Runs each `(script, environment)` of `launches` with the recipe
    changes in a local process of its own, process `i` in `tmp_path/host_i`,
    all at once; every wait is bounded. Returns the hosts' directories."""
    hosts = [tmp_path / f"host_{index}" for index in range(len(launches))]
    processes = []
    for host, (script, environment) in zip(hosts, launches, strict=True):
        host.mkdir()
        processes.append(
            subprocess.Popen(
                [sys.executable, "-c", script, json.dumps(changes)],
                cwd=host,
                env={**os.environ, **environment},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    try:
        outputs = [p.communicate(timeout=PROCESS_TIMEOUT)[0] for p in processes]
    finally:
        for process in processes:
            process.kill()
    for process, output in zip(processes, outputs, strict=True):
        assert process.returncode == 0, output[-3000:]
    return hosts


def _saved_weights(path):
    return [to_numpy(w) for w in keras.saving.load_model(path).weights]


def _check_only_the_chief_writes(hosts):
    """The chief writes the run's and the comparison's files; the other
    process only what it needs to resume (its backup, removed at the end, and
    its log, the chief's), in its own folder. Returns the chief's log."""
    chief, other = (host / "uninterrupted" for host in hosts)
    chief_log = (chief / "opl+so" / "history.csv").read_text()
    assert sorted(os.listdir(chief)) == ["opl+so", "results.csv", "results.json"]
    assert os.listdir(other) == ["opl+so"]
    assert os.listdir(other / "opl+so") == ["process_1"]
    assert os.listdir(other / "opl+so" / "process_1") == ["history.csv"]
    assert (other / "opl+so" / "process_1" / "history.csv").read_text() == chief_log
    return chief_log


@pytest.mark.skipif(BACKEND != "jax", reason="multi-process JAX (gloo on CPUs)")
def test_two_processes_train_as_one_device(runs, tmp_path):
    port = _free_local_port()
    launches = [
        (
            PROCESS_SCRIPT,
            {
                "KERAS_BACKEND": "jax",
                # The suite's compile flags (tests/conftest.py), 2 devices each.
                "XLA_FLAGS": "--xla_force_host_platform_device_count=2 "
                + COMPILE_FOR_TESTS,
                "KERAS_DISTRIBUTION_JOB_ADDRESSES": f"127.0.0.1:{port}",
                "KERAS_DISTRIBUTION_NUM_PROCESSES": "2",
                "KERAS_DISTRIBUTION_PROCESS_ID": str(index),
            },
        )
        for index in range(2)
    ]
    changes = demo_changes(distribution="data_parallel")
    hosts = _run_cluster(changes, launches, tmp_path)
    one = runs["one_device"]
    chief = hosts[0] / "uninterrupted"
    weights = _saved_weights(chief / "opl+so" / "model.keras")
    for got, want in zip(weights, one["weights"], strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=WEIGHT_ATOL)
    [results] = json.loads((chief / "results.json").read_text())
    assert (results["processes"], results["replicas"]) == (2, 2 * 2)
    for key in ("test_accuracy", "feature_s", "feature_d", "ece"):
        np.testing.assert_allclose(
            results[key], one["results"][key], rtol=1e-4, atol=1e-6
        )
    chief_log = _check_only_the_chief_writes(hosts)
    assert chief_log.splitlines()[0] == one["csv"][0]


@pytest.mark.skipif(BACKEND != "jax", reason="Keras' cluster variables (JAX)")
def test_a_multi_process_run_refuses_a_device_count(monkeypatch):
    monkeypatch.setenv("KERAS_DISTRIBUTION_NUM_PROCESSES", "2")
    with pytest.raises(ValueError, match="every device of every process"):
        data_parallelism("data_parallel", devices=2)


# Each worker of a TensorFlow cluster, in its own directory (its "host"):
# `compare` with one method, then a run interrupted at its second epoch and
# resumed in the same process (the strategy is made once per process).
WORKER_SCRIPT = """
import json, sys
import keras
from keras_ortho.data import load_dataset
from keras_ortho.recipes import compare, get_recipe, train

class Interrupted(Exception):
    pass

class InterruptAtSecondEpoch(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 1:
            raise Interrupted

recipe = get_recipe("demo", **json.loads(sys.argv[1]))
dataset = load_dataset("cifar10_subset")
compare(recipe, ["opl,so"], "uninterrupted", dataset, verbose=0)
keras.backend.clear_session(free_memory=False)
try:
    train(recipe, "resumed", dataset, verbose=0, callbacks=[InterruptAtSecondEpoch()])
    sys.exit("the run was not interrupted")
except Interrupted:
    pass
keras.backend.clear_session(free_memory=False)
train(recipe, "resumed", dataset, verbose=0)
"""


# One process training the same 2 replicas with MirroredStrategy.
REFERENCE_SCRIPT = """
import json, sys
import tensorflow as tf
[cpu] = tf.config.list_physical_devices("CPU")
two_cpus = [tf.config.LogicalDeviceConfiguration()] * 2
tf.config.set_logical_device_configuration(cpu, two_cpus)
from keras_ortho.data import load_dataset
from keras_ortho.recipes import get_recipe, train
recipe = get_recipe("demo", **json.loads(sys.argv[1]))
train(recipe, "reference", load_dataset("cifar10_subset"), verbose=0)
"""


@pytest.mark.skipif(BACKEND != "tensorflow", reason="TF_CONFIG workers")
def test_two_tensorflow_workers_train_as_one_process(tmp_path):
    # MultiWorkerMirroredStrategy on CPUs runs one replica per worker: 2
    # replicas of 8 images. The reference is one process with the same 2
    # replicas (MirroredStrategy): the same shards, losses and updates; only
    # the all-reduces cross processes, in another summation order (largest
    # weight difference measured: 3.6e-7), hence the one-device tolerance.
    # (Both 2-replica runs differ from one device by up to 5.4e-3 in this
    # recipe, where 4 replicas differ by 6e-7: not the multi-worker engine.)
    workers = [f"127.0.0.1:{_free_local_port()}" for _ in range(2)]
    launches = [
        (
            WORKER_SCRIPT,
            {
                "KERAS_BACKEND": "tensorflow",
                "TF_CONFIG": json.dumps(
                    {
                        "cluster": {"worker": workers},
                        "task": {"type": "worker", "index": index},
                    }
                ),
            },
        )
        for index in range(2)
    ]
    # The reference in a process of its own: two MirroredStrategy instances
    # of different sizes cannot share one process (their collectives share
    # group keys), and this one's is the 4-device strategy.
    launches.append((REFERENCE_SCRIPT, {"KERAS_BACKEND": "tensorflow"}))
    changes = demo_changes(distribution="data_parallel")
    hosts = _run_cluster(changes, launches, tmp_path)
    reference_dir = hosts[2] / "reference"
    chief = hosts[0] / "uninterrupted"
    weights = _saved_weights(chief / "opl+so" / "model.keras")
    reference = _saved_weights(reference_dir / "model.keras")
    for got, want in zip(weights, reference, strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=WEIGHT_ATOL)
    [results] = json.loads((chief / "results.json").read_text())
    [reference_results] = json.loads((reference_dir / "results.json").read_text())
    assert results["engine"] == "tf.distribute.MultiWorkerMirroredStrategy"
    assert (results["processes"], results["replicas"]) == (2, 2)
    assert reference_results["replicas"] == 2
    for key in ("test_accuracy", "feature_s", "feature_d", "ece"):
        np.testing.assert_allclose(
            results[key], reference_results[key], rtol=1e-4, atol=1e-6
        )
    chief_log = _check_only_the_chief_writes(hosts[:2])
    # Interrupted after its first epoch, the resumed run ends as the
    # uninterrupted one: the same weights, bit for bit, and log.
    resumed = hosts[0] / "resumed"
    assert (resumed / "history.csv").read_text() == chief_log
    for got, want in zip(_saved_weights(resumed / "model.keras"), weights, strict=True):
        np.testing.assert_array_equal(got, want)


@pytest.mark.skipif(BACKEND != "tensorflow", reason="TF_CONFIG workers")
def test_tensorflow_workers_refuse_a_device_count(monkeypatch):
    cluster = {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster}))
    with pytest.raises(ValueError, match="every device of every worker"):
        data_parallelism("data_parallel", devices=2)


@pytest.mark.skipif(BACKEND != "tensorflow", reason="TF_CONFIG workers")
def test_tensorflow_workers_need_a_fresh_process(tmp_path, monkeypatch):
    import tensorflow as tf

    tf.constant(0)  # this process has run TensorFlow
    config = {
        "cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]},
        "task": {"type": "worker", "index": 0},
    }
    monkeypatch.setenv("TF_CONFIG", json.dumps(config))
    recipe = demo(distribution="data_parallel")
    with pytest.raises(ValueError, match="Start the run in a fresh process"):
        train(recipe, tmp_path / "run", synthetic_dataset(), verbose=0)
    assert not (tmp_path / "run").exists()


@pytest.mark.skipif(not DISTRIBUTED, reason="no engine on torch")
@pytest.mark.parametrize(
    "changes, match",
    [
        # Every device of the host, by default: 8 on JAX, 4 on TensorFlow.
        (
            {"batch_size": 10},
            f"10 images does not split evenly among {MULTI_DEVICE_COUNT}",
        ),
        ({"devices": 2 * ALL}, f"this host has {ALL} device"),
        ({"devices": 4, "validation_fraction": 0.1}, "3 validation images"),
    ],
)
def test_uneven_splits_are_refused(changes, match, tmp_path):
    recipe = demo(distribution="data_parallel", **changes)
    with pytest.raises(ValueError, match=match):
        train(recipe, tmp_path, synthetic_dataset(), verbose=0)


def test_devices_need_data_parallel_and_divide_the_batch():
    with pytest.raises(ValueError, match="distribution='data_parallel'"):
        demo(devices=4)
    with pytest.raises(ValueError, match="multiple of 3"):
        demo(distribution="data_parallel", devices=3)


@pytest.mark.skipif(BACKEND != "jax", reason="JAX DataParallel")
def test_jax_has_no_per_replica_batch_norm(tmp_path):
    recipe = demo(distribution="data_parallel", synchronized_batch_norm=False)
    with pytest.raises(ValueError, match="always those of the global batch"):
        train(recipe, tmp_path, synthetic_dataset(), verbose=0)


@pytest.mark.skipif(BACKEND != "tensorflow", reason="tf.distribute on CPUs")
def test_tensorflow_refuses_xla_over_several_cpus(tmp_path):
    recipe = demo(distribution="data_parallel", jit_compile=True)
    with pytest.raises(ValueError, match="cannot compile the training step"):
        train(recipe, tmp_path, synthetic_dataset(), verbose=0)


@pytest.mark.skipif(BACKEND != "tensorflow", reason="tf.distribute replicas")
def test_each_tensorflow_replica_draws_its_own_stream():
    parallelism = data_parallelism("data_parallel", DEVICES)
    with parallelism.scope():
        import tensorflow as tf

        strategy = tf.distribute.get_strategy()
        dropout = keras.layers.Dropout(0.5, seed=3)
        model = keras.Sequential([keras.Input((4,)), dropout])
    want = to_numpy(keras.random.uniform((8,), seed=keras.random.SeedGenerator(3)))
    seeds = ReplicaSeeds()
    seeds.set_model(model)
    seeds.on_epoch_begin(0)
    draws = strategy.run(
        tf.function(lambda: keras.random.uniform((8,), seed=dropout.seed_generator))
    )
    draws = [to_numpy(d) for d in strategy.experimental_local_results(draws)]
    # Replica 0 keeps the single-device stream; the others each have theirs.
    np.testing.assert_array_equal(draws[0], want)
    assert len({d.tobytes() for d in draws}) == DEVICES


@pytest.mark.skipif(BACKEND != "torch", reason="the refusal on torch")
def test_torch_refuses_with_the_backends_that_support_it(tmp_path):
    recipe = demo(distribution="data_parallel")
    with pytest.raises(ValueError, match=r"JAX backend .* TensorFlow backend"):
        train(recipe, tmp_path / "run", synthetic_dataset(), verbose=0)
    assert not (tmp_path / "run").exists()
