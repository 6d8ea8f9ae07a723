"""Data-parallel scaling of a recipe: images per second against device count.

Runs `keras_ortho.recipes.train` with `distribution="data_parallel"` on the
first 1, 2, 4, ... devices of the machine (and all of them), on random uint8
images shaped like the recipe's dataset, and times the second of two epochs
of `--steps` steps as `throughput.py` does. The global batch is the recipe's
at every device count (the recipe's semantics: same batch, same learning
rate), so each device gets `batch / devices` images (strong scaling). The
scaling efficiency at `n` devices is `(images/s at n) / (n * images/s at 1)`;
the one-device figure is the recipe without distribution (with `--devices`,
the smallest count given is the reference).

On a GPU machine, every GPU, the `opl_cifar100` recipe (ResNet-56, CE + OPL):

    KERAS_BACKEND=jax python benchmarks/distribution_scaling.py
    KERAS_BACKEND=tensorflow python benchmarks/distribution_scaling.py

On a CPU, `--virtual-devices N` splits the host into N virtual devices
(XLA's host-platform device count on JAX, logical CPUs on TensorFlow). They
share the same cores, so the figures check the mechanics, not the speed:

    KERAS_BACKEND=jax python benchmarks/distribution_scaling.py \\
        --virtual-devices 4 --depth 8 --steps 3 --batch-size 32

Across processes (several hosts), start the script once per process with
the backend's cluster variables set (`KERAS_DISTRIBUTION_*` on JAX,
`TF_CONFIG` on TensorFlow; docs/recipes/distributed_training.md): it then
measures once, on every device of every process, and process 0 prints the
figure; the one-device reference comes from a run without the variables.

The GPU model, backend and library versions are printed with every figure.
On TensorFlow each device count runs in a process of its own: the collective
groups of one `MirroredStrategy` stay fixed for the life of a process.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipe", default="opl_cifar100")
    parser.add_argument("--methods", default=None, help="default: the recipe's")
    parser.add_argument(
        "--batch-size", type=int, default=None, help="global batch (the recipe's)"
    )
    parser.add_argument("--steps", type=int, default=50, help="timed steps (50)")
    parser.add_argument("--depth", type=int, default=None, help="override the depth")
    parser.add_argument(
        "--devices",
        default=None,
        help="comma-separated device counts (default: 1, 2, 4, ... and all)",
    )
    parser.add_argument(
        "--virtual-devices",
        type=int,
        default=None,
        help="split the CPU into this many virtual devices (mechanics only)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", metavar="PATH", help="write the results here")
    args = parser.parse_args(argv)
    if args.steps < 2:
        parser.error("--steps must be >= 2")
    if args.virtual_devices is not None and args.virtual_devices < 1:
        parser.error("--virtual-devices must be >= 1")
    return args


def create_virtual_devices(count):
    """Splits the host CPU into `count` devices; before any backend starts."""
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    if backend == "jax":
        os.environ["XLA_FLAGS"] = (
            os.environ.get("XLA_FLAGS", "")
            + f" --xla_force_host_platform_device_count={count}"
        )
    elif backend == "tensorflow":
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * count
        )


def device_counts(text, available):
    if text is not None:
        return sorted({int(n) for n in text.split(",")})
    counts = {1, available}
    count = 2
    while count < available:
        counts.add(count)
        count *= 2
    return sorted(counts)


def available_devices():
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return len(
            tf.config.list_logical_devices("GPU")
            or tf.config.list_logical_devices("CPU")
        )
    return len(keras.distribution.list_devices())


def measure(args, recipe, devices):
    import _timing
    import keras
    import throughput

    from keras_ortho import recipes

    if devices is None:  # every device of every process of the cluster
        recipe = recipe.replace(distribution="data_parallel")
    elif devices > 1:
        recipe = recipe.replace(distribution="data_parallel", devices=devices)
    dataset = throughput.random_dataset(
        recipe, recipe.data.batch_size * args.steps, args.seed
    )
    # The second of two epochs, as throughput.py times it.
    clock = _timing.EpochClock(timed_epoch=1)
    keras.backend.clear_session()
    with tempfile.TemporaryDirectory() as run_dir:
        run = recipes.train(
            recipe, run_dir, dataset=dataset, verbose=0, callbacks=[clock]
        )
    devices = run.results["replicas"]
    return {
        "devices": devices,
        "processes": run.results["processes"],
        "per_device_batch": recipe.data.batch_size // devices,
        "seconds": clock.seconds,
        "images_per_second": recipe.data.batch_size * args.steps / clock.seconds,
    }


def measure_in_own_process(argv, devices):
    """`measure` for one device count, in a fresh Python process."""
    argv = list(sys.argv[1:] if argv is None else argv)
    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "result.json")
        subprocess.run(
            [
                sys.executable,
                __file__,
                *argv,
                "--devices",
                str(devices),
                "--json",
                path,
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        with open(path) as file:
            return json.load(file)["results"][0]


def main(argv=None):
    args = parse_arguments(argv)
    if args.virtual_devices is not None:
        create_virtual_devices(args.virtual_devices)
    import _timing
    import keras

    from keras_ortho import recipes
    from keras_ortho._distribute import DATA_PARALLEL_BACKENDS
    from keras_ortho._distribute import cluster_processes
    from keras_ortho._distribute import data_parallelism

    if keras.backend.backend() not in DATA_PARALLEL_BACKENDS:
        sys.exit(
            f"Keras has no data-parallel engine on {keras.backend.backend()!r}; "
            f"run with KERAS_BACKEND set to one of {DATA_PARALLEL_BACKENDS}."
        )

    changes = {"epochs": 2, "steps_per_epoch": args.steps, "seed": args.seed}
    for field in ("methods", "batch_size", "depth"):
        if getattr(args, field) is not None:
            changes[field] = getattr(args, field)
    recipe = recipes.get_recipe(args.recipe, **changes)
    info = _timing.environment()
    info["virtual_devices"] = args.virtual_devices
    _timing.print_environment(info)
    results = []
    if cluster_processes() > 1:
        if args.devices is not None or args.virtual_devices is not None:
            sys.exit("A cluster run uses every device of every process.")
        result = measure(args, recipe, None)
        # Process 0 reports; a multi-worker TensorFlow strategy must come
        # before any other TensorFlow work, so no one-device run precedes it.
        if data_parallelism("data_parallel").is_chief:
            methods = "+".join(recipe.orthogonality.methods)
            print(
                f"{recipe.name} ({methods}), global batch "
                f"{recipe.data.batch_size}, {result['devices']} device(s) in "
                f"{result['processes']} processes: "
                f"{result['images_per_second']:,.0f} images/s ({args.steps} "
                f"steps in {result['seconds']:.2f} s), {info['backend']}"
            )
            if args.json:
                _timing.write_results(args.json, info, [result])
        return
    counts = device_counts(args.devices, available_devices())
    batch_size = recipe.data.batch_size
    methods, network = "+".join(recipe.orthogonality.methods), recipe.network
    for devices in counts:
        if batch_size % devices:
            print(f"{devices} devices: skipped, {batch_size} does not split")
            continue
        if keras.backend.backend() == "tensorflow" and len(counts) > 1:
            result = measure_in_own_process(argv, devices)
        else:
            result = measure(args, recipe, devices)
        # Relative to the smallest count measured (1 unless --devices says).
        base = results[0] if results else result
        result["efficiency"] = (result["images_per_second"] / devices) / (
            base["images_per_second"] / base["devices"]
        )
        results.append(result)
        print(
            f"{recipe.name} ({methods}, {network.model}-{network.depth}), "
            f"global batch {batch_size}, {devices} "
            f"device(s): {result['images_per_second']:,.0f} images/s, scaling "
            f"efficiency {result['efficiency']:.2f} ({args.steps} steps in "
            f"{result['seconds']:.2f} s) on {info['device']}, {info['backend']}"
        )
    if args.json:
        _timing.write_results(args.json, info, results)


if __name__ == "__main__":
    sys.exit(main())
