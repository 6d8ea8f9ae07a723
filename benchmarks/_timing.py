"""The measurement shared by the overhead benchmarks.

Every configuration is a compiled Keras model with its own training step. A
step is timed as `fit` runs it, without `fit`'s per-epoch setup: the model's
`train_function` on one batch already on the device, with the training state
carried from step to step as `fit` carries it (on JAX, `train_on_batch` would
write every variable back after each step, which `fit` does once per epoch).
Converting the returned loss to a Python float waits for the step to finish.

Configurations are timed in alternating blocks, every candidate between two
baseline blocks (`baseline, A, baseline, B, ..., baseline`), over several
rounds, so that a change of the machine's load hits the baseline and the
candidates alike. A candidate's ratio is the median, over its blocks, of its
block time divided by the mean of the two baseline blocks around it.
"""

import argparse
import json
import os
import platform
import statistics
import time

import keras
import numpy as np


def add_common_arguments(parser):
    """The flags both benchmarks share."""
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument(
        "--rounds", type=int, default=5, help="alternating rounds (default 5)"
    )
    parser.add_argument(
        "--steps", type=int, default=10, help="timed steps per block (default 10)"
    )
    parser.add_argument(
        "--warmup-steps",
        type=int,
        default=3,
        help="untimed steps per configuration after compilation (default 3)",
    )
    parser.add_argument(
        "--depth", type=int, default=56, help="CIFAR ResNet depth, 6n + 2"
    )
    parser.add_argument(
        "--jit-compile",
        choices=("default", "true", "false", "auto"),
        default="default",
        help=(
            "`jit_compile` of `model.compile`. `default`: True on JAX and "
            "TensorFlow (XLA), Keras' own default 'auto' on torch (no "
            "torch.compile), which is what a torch user gets"
        ),
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", metavar="PATH", help="write the results here")


def jit_compile_setting(choice):
    if choice == "default":
        return "auto" if keras.backend.backend() == "torch" else True
    return {"true": True, "false": False, "auto": "auto"}[choice]


def validate_arguments(parser, args):
    for name in ("batch_size", "rounds", "steps"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.warmup_steps < 0:
        parser.error("--warmup-steps must be >= 0")
    if args.depth < 8 or (args.depth - 2) % 6:
        parser.error(f"--depth must be 6n + 2 (20, 32, 44, 56, ...); got {args.depth}")


def parse_list(text, choices, flag):
    """`"a,b"` -> `("a", "b")`, each checked against `choices`."""
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    unknown = [name for name in names if name not in choices]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"{flag}: expected a comma-separated list of {', '.join(choices)}; "
            f"got {text!r}"
        )
    return names


def random_batch(batch_size, num_classes, seed):
    """Images with values in 0..255 (uint8) and integer labels, on the device."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(batch_size, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, num_classes, size=(batch_size,), dtype=np.int32)
    return keras.ops.convert_to_tensor(images), keras.ops.convert_to_tensor(labels)


def copy_weights(source, target):
    """Gives `target` (same architecture) the weights of `source`."""
    target.set_weights(source.get_weights())


def training_step(model, x, y):
    """Returns a function running one training step of the compiled `model` on
    `(x, y)` as `fit` runs it, and returning the loss as a float.

    `train_on_batch` is called once first: it builds the model and the
    optimizer and compiles the step. On JAX the step carries the state tuple
    of Keras' JAX trainer (trainable, non-trainable, optimizer and metrics
    variable values, in that order) and donates it to each step, so the
    model's variables are stale once timing starts: use the model for
    nothing else.
    """
    model.train_on_batch(x, y)
    data = (x, y, None)
    backend = keras.backend.backend()
    if backend == "jax":
        state = (
            [v.value for v in model.trainable_variables],
            [v.value for v in model.non_trainable_variables],
            [v.value for v in model.optimizer.variables],
            [v.value for v in model.metrics_variables],
        )

        def step():
            nonlocal state
            logs, state = model.train_function(state, iter([data]))
            return float(logs["loss"])

    elif backend == "tensorflow":

        def step():
            return float(model.train_function(iter([data]))["loss"])

    elif backend == "torch":
        model.train()

        def step():
            return float(model.train_function([data])["loss"])

    else:
        raise ValueError(f"Unsupported Keras backend: {backend!r}")
    return step


def penalty_step(penalty, kernels):
    """Returns a function computing the value and the gradient of
    `penalty(kernels)` (a scalar of the model's kernel variables) compiled as
    the backend's training step is (XLA on JAX and TensorFlow, eager on
    torch), and returning the value as a float.

    Timed in alternation with a training step, it measures a regularizer's
    extra work directly: a few milliseconds, where the step-time ratio has to
    resolve them against block-to-block noise of the whole step.
    """
    # Copies: on JAX the training steps donate (free) the variables' buffers.
    values = [
        keras.ops.convert_to_tensor(np.array(keras.ops.convert_to_numpy(kernel.value)))
        for kernel in kernels
    ]
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        compiled = jax.jit(jax.value_and_grad(penalty))
        return lambda: float(compiled(values)[0])
    if backend == "tensorflow":
        import tensorflow as tf

        variables = [tf.Variable(value) for value in values]

        @tf.function(jit_compile=True)
        def value_and_gradient():
            with tf.GradientTape() as tape:
                value = penalty(variables)
            return value, tape.gradient(value, variables)

        return lambda: float(value_and_gradient()[0])
    if backend == "torch":
        import torch

        leaves = [value.detach().clone().requires_grad_(True) for value in values]

        def value_and_gradient():
            value = penalty(leaves)
            torch.autograd.grad(value, leaves)
            return float(value)

        return value_and_gradient
    raise ValueError(f"Unsupported Keras backend: {backend!r}")


class EpochClock(keras.callbacks.Callback):
    """Times epoch `timed_epoch` of a `fit` from its start to the end of its
    last step.

    Keras calls `on_train_batch_end` with the step's logs converted to floats,
    i.e. once the device has finished the step. The clock is safe to run on
    Keras' callback thread (`async_safe`), so it neither adds a host round
    trip to each step nor turns off Keras' asynchronous callback dispatch,
    which a plain `on_train_batch_end` callback would.
    """

    async_safe = True

    def __init__(self, timed_epoch=1):
        super().__init__()
        self.timed_epoch = timed_epoch
        self.start = None
        self.seconds = None

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.timed_epoch:
            self.start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        last = batch == self.params["steps"] - 1
        if last and self.start is not None and self.seconds is None:
            self.seconds = time.perf_counter() - self.start


def _block(step, steps):
    """Seconds per step of `steps` consecutive steps: each timed on its own."""
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        loss = step()
        times.append(time.perf_counter() - start)
        if not np.isfinite(loss):
            raise FloatingPointError(f"the training loss is {loss}")
    return times


def measure_alternating(baseline, candidates, rounds, steps, warmup_steps, log=print):
    """Times `baseline` and each of `candidates` (name -> step function).

    Returns a dict: `"baseline"` and each candidate's name map to
    `{"median_ms", "min_ms", "step_ms"}`, candidates also to `"ratio"` (median
    of the paired block ratios), `"ratio_min"` (fastest step over fastest
    baseline step, the least load-sensitive estimate) and `"block_ratios"`.
    """
    for name, step in [("baseline", baseline), *candidates.items()]:
        for _ in range(warmup_steps):
            step()
        log(f"  warmed up {name}")
    baseline_times = []
    times = {name: [] for name in candidates}
    block_ratios = {name: [] for name in candidates}
    names = list(candidates)
    for round_index in range(rounds):
        # Rotating the order keeps any candidate from always following the same one.
        shift = round_index % len(names) if names else 0
        order = names[shift:] + names[:shift]
        before = _block(baseline, steps)
        baseline_times.extend(before)
        for name in order:
            block = _block(candidates[name], steps)
            after = _block(baseline, steps)
            baseline_times.extend(after)
            times[name].extend(block)
            reference = (statistics.median(before) + statistics.median(after)) / 2
            block_ratios[name].append(statistics.median(block) / reference)
            before = after
        log(
            f"  round {round_index + 1}/{rounds}: "
            + ", ".join(f"{n} {block_ratios[n][-1]:.3f}" for n in names)
        )
    results = {"baseline": _summary(baseline_times)}
    baseline_min = min(baseline_times)
    for name in names:
        results[name] = {
            **_summary(times[name]),
            "ratio": statistics.median(block_ratios[name]),
            "ratio_min": min(times[name]) / baseline_min,
            "block_ratios": block_ratios[name],
        }
    return results


def _summary(seconds):
    return {
        "median_ms": 1e3 * statistics.median(seconds),
        "min_ms": 1e3 * min(seconds),
        "step_ms": [1e3 * s for s in seconds],
    }


def environment():
    """The backend, device, versions and CPU count the numbers were taken on."""
    backend = keras.backend.backend()
    info = {
        "backend": backend,
        "keras": keras.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": platform.processor() or "unknown",
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
    }
    if hasattr(os, "getloadavg"):
        info["load_average_1min"] = round(os.getloadavg()[0], 2)
    if backend == "jax":
        import jax

        device = jax.devices()[0]
        info["jax"] = jax.__version__
        info["device"] = f"{device.platform}: {device.device_kind}"
    elif backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        info["tensorflow"] = tf.__version__
        info["device"] = (
            "gpu: "
            + tf.config.experimental.get_device_details(gpus[0]).get(
                "device_name", gpus[0].name
            )
            if gpus
            else "cpu"
        )
    elif backend == "torch":
        import torch

        info["torch"] = torch.__version__
        info["device"] = (
            f"cuda: {torch.cuda.get_device_name(0)}"
            if torch.cuda.is_available()
            else "cpu"
        )
        info["torch_threads"] = torch.get_num_threads()
    return info


def on_gpu(info):
    return not info["device"].startswith("cpu")


def print_environment(info):
    """One indented line of `environment()`'s entries."""
    print("  " + ", ".join(f"{k}={v}" for k, v in info.items()))


def write_results(path, info, results):
    """Writes `{"environment": info, "results": results}` as JSON to `path`."""
    with open(path, "w") as file:
        json.dump({"environment": info, "results": results}, file, indent=2)
    print(f"wrote {path}")


def report(title, info, settings, results, goals):
    """Prints the environment and the table; `goals` maps a candidate to its
    goal ratio on this device (absent: reported for information). The verdict
    is taken on the step-time ratio; `additive` (`ratio_additive`, see
    `regularizer_overhead.py`) is the penalty's own cost, a lower bound."""
    print(f"\n{title}")
    print_environment(info)
    print("  " + ", ".join(f"{k}={v}" for k, v in settings.items()))
    header = (
        f"{'configuration':<16}{'median ms':>11}{'min ms':>10}"
        f"{'ratio':>8}{'ratio(min)':>12}{'additive':>10}{'goal':>7}  verdict"
    )
    print(header)
    print("-" * len(header))
    base = results["baseline"]
    print(f"{'baseline':<16}{base['median_ms']:>11.1f}{base['min_ms']:>10.1f}")
    for name, result in results.items():
        if name == "baseline":
            continue
        goal = goals.get(name)
        additive = result.get("ratio_additive")
        verdict = (
            "info" if goal is None else "ok" if result["ratio"] <= goal else "OVER"
        )
        goal_text = "-" if goal is None else f"{goal:.2f}"
        additive_text = "-" if additive is None else f"{additive:.3f}"
        print(
            f"{name:<16}{result['median_ms']:>11.1f}{result['min_ms']:>10.1f}"
            f"{result['ratio']:>8.3f}{result['ratio_min']:>12.3f}"
            f"{additive_text:>10}{goal_text:>7}  {verdict}"
        )


def publish(title, args, jit_compile, results, goal_names, cpu_goal, gpu_goal):
    """Prints the environment and the results, and writes them to `--json`.

    `goal_names` are the candidates that have a goal: `gpu_goal` where the
    backend runs on a GPU, `cpu_goal` otherwise."""
    info = environment()
    goal = gpu_goal if on_gpu(info) else cpu_goal
    goals = {name: goal for name in results if name in goal_names}
    settings = {
        "model": f"resnet{args.depth}_cifar",
        "batch_size": args.batch_size,
        "rounds": args.rounds,
        "steps": args.steps,
        "warmup_steps": args.warmup_steps,
        "jit_compile": jit_compile,
    }
    report(title, info, settings, results, goals)
    if args.json:
        write_json(args.json, title, info, settings, results, goals)


def write_json(path, title, info, settings, results, goals):
    with open(path, "w") as file:
        json.dump(
            {
                "benchmark": title,
                "environment": info,
                "settings": settings,
                "goals": goals,
                "results": results,
            },
            file,
            indent=2,
        )
    print(f"wrote {path}")
