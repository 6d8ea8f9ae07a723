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


def demo(**changes):
    """The demo recipe at test size: ResNet-8, CE + OPL + SO, two epochs of
    four steps of 16 real CIFAR-10 images, a new learning rate after the
    first."""
    small = {
        "methods": "opl,so",
        "train_size": 64,
        "test_size": 40,
        "batch_size": 16,
        "lr_milestones": (1,),
        "jit_compile": BACKEND == "jax",
    }
    if BACKEND == "tensorflow":
        # Under tf.distribute each replica draws its own crops and flips for
        # its shard, not the single-device draws for the global batch.
        small.update(crop_padding=0, horizontal_flip=False)
    return get_recipe("demo", **{**small, **changes})


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


# Each process of a multi-process run: the demo recipe with the changes given
# as JSON, on the devices of the process, then JAX's orderly shutdown.
PROCESS_SCRIPT = """
import json, sys
import jax
from keras_ortho.data import load_dataset
from keras_ortho.recipes import get_recipe, train
recipe = get_recipe("demo", **json.loads(sys.argv[1]))
train(recipe, sys.argv[2], load_dataset("cifar10_subset"), verbose=0)
jax.distributed.shutdown()
"""
PROCESS_TIMEOUT = 240


def _free_local_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run_processes(count, devices_per_process, changes, run_dir):
    """Runs the recipe in `count` local processes that form one JAX cluster
    on 127.0.0.1; every wait is bounded."""
    common = {
        **os.environ,
        "KERAS_BACKEND": "jax",
        "XLA_FLAGS": (f"--xla_force_host_platform_device_count={devices_per_process}"),
        "KERAS_DISTRIBUTION_JOB_ADDRESSES": f"127.0.0.1:{_free_local_port()}",
        "KERAS_DISTRIBUTION_NUM_PROCESSES": str(count),
    }
    arguments = [sys.executable, "-c", PROCESS_SCRIPT, json.dumps(changes), run_dir]
    processes = [
        subprocess.Popen(
            arguments,
            env={**common, "KERAS_DISTRIBUTION_PROCESS_ID": str(index)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for index in range(count)
    ]
    try:
        outputs = [p.communicate(timeout=PROCESS_TIMEOUT)[0] for p in processes]
    finally:
        for process in processes:
            process.kill()
    for process, output in zip(processes, outputs, strict=True):
        assert process.returncode == 0, output[-3000:]


@pytest.mark.skipif(BACKEND != "jax", reason="multi-process JAX (gloo on CPUs)")
def test_two_processes_train_as_one_device(runs, tmp_path):
    recipe = demo(distribution="data_parallel")
    changes = {
        "methods": "opl,so",
        **{k: recipe.to_dict()[k] for k in ("train_size", "test_size", "batch_size")},
        "lr_milestones": list(recipe.lr_milestones),
        "jit_compile": True,
        "distribution": "data_parallel",
    }
    _run_processes(2, 2, changes, str(tmp_path))
    one = runs["one_device"]
    saved = keras.saving.load_model(tmp_path / "model.keras")
    for got, want in zip(saved.weights, one["weights"], strict=True):
        np.testing.assert_allclose(to_numpy(got), want, rtol=0, atol=WEIGHT_ATOL)
    [results] = json.loads((tmp_path / "results.json").read_text())
    assert (results["processes"], results["replicas"]) == (2, 2 * 2)
    for key in ("test_accuracy", "feature_s", "feature_d", "ece"):
        np.testing.assert_allclose(
            results[key], one["results"][key], rtol=1e-4, atol=1e-6
        )
    # Process 0 writes the run's files; process 1 only its log (the same
    # one) and its backup, which the end of training removed.
    chief_log = (tmp_path / "history.csv").read_text()
    assert (tmp_path / "process_1" / "history.csv").read_text() == chief_log
    assert sorted(os.listdir(tmp_path / "process_1")) == ["history.csv"]
    assert chief_log.splitlines()[0] == one["csv"][0]


@pytest.mark.skipif(BACKEND != "jax", reason="Keras' cluster variables (JAX)")
def test_a_multi_process_run_refuses_a_device_count(monkeypatch):
    monkeypatch.setenv("KERAS_DISTRIBUTION_NUM_PROCESSES", "2")
    with pytest.raises(ValueError, match="every device of every process"):
        data_parallelism("data_parallel", devices=2)


@pytest.mark.skipif(BACKEND != "tensorflow", reason="TF_CONFIG")
def test_tensorflow_refuses_a_cluster_of_workers(tmp_path, monkeypatch):
    cluster = {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}
    monkeypatch.setenv("TF_CONFIG", json.dumps({"cluster": cluster}))
    recipe = demo(distribution="data_parallel")
    with pytest.raises(ValueError, match="KERAS_BACKEND=jax"):
        train(recipe, tmp_path, synthetic_dataset(), verbose=0)


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
