"""Where a recipe's training step spends its time, on the active backend.

Counts, for `keras_ortho.recipes.train` of the `opl_cifar100` preset (cut to
10 classes and `--depth`) with `--methods` on random uint8 images:

- host round trips per step: calls that bring a tensor to the host during
  the steps of the second epoch (Keras' `convert_to_numpy`, by caller: the
  callbacks' logs, the feature losses' label checks, ...);
- compiled programs on JAX: XLA compilations (from `jax.monitoring`) during
  the whole `fit` and during the second epoch;
- on torch: the aten operators dispatched per training step for `ce`, `opl`,
  `so` and `opl,so`, and the operators that take the most time in one
  `opl,so` step (`torch.profiler`);
- on torch, the aten operators of one optimizer update of all the variables:
  Keras' `SGD` against the recipes' `CoupledWeightDecaySGD`;
- the regularizer alone (`--regularizer-depth`, default ResNet-56): the ops
  and the time of SO's value and gradient over every kernel, one kernel at a
  time as Keras' per-variable regularizers compute it, and one batched Gram
  per kernel shape (`keras_ortho._grouped_penalty`), with both values.

    KERAS_BACKEND=torch python benchmarks/step_profile.py --json profile_torch.json

Nothing here is timed against a goal: the numbers explain the ratios of
`versus_pytorch.py`, `regularizer_overhead.py` and `loss_overhead.py`.
"""

import argparse
import collections
import json
import statistics
import sys
import tempfile
import time

import _timing
import keras
import versus_pytorch

from keras_ortho import models
from keras_ortho import recipes
from keras_ortho import regularizers
from keras_ortho._grouped_penalty import grouped_soft_orthogonality
from keras_ortho.data import Dataset

BACKEND = keras.backend.backend()


class HostTransfers:
    """Counts Keras' `convert_to_numpy` calls, by calling module, while on."""

    def __init__(self):
        import keras.src.backend as keras_backend

        self.module = keras_backend
        self.original = keras_backend.convert_to_numpy
        self.counts = collections.Counter()
        self.on = False

        def counting(x, *args, **kwargs):
            if self.on:
                caller = sys._getframe(1)
                # Skip keras.ops' own wrapper to name the real caller.
                while caller.f_globals.get("__name__", "").startswith("keras.src.ops"):
                    caller = caller.f_back
                self.counts[caller.f_globals.get("__name__", "?")] += 1
            return self.original(x, *args, **kwargs)

        keras_backend.convert_to_numpy = counting

    def restore(self):
        self.module.convert_to_numpy = self.original


class Compilations:
    """Counts XLA compilations (JAX) while on."""

    def __init__(self):
        self.total = 0
        self.timed = 0
        self.timing = False
        if BACKEND == "jax":
            import jax

            def listener(event, duration, **kwargs):
                if event == "/jax/core/compile/backend_compile_duration":
                    self.total += 1
                    self.timed += self.timing

            jax.monitoring.register_event_duration_secs_listener(listener)


class StepWatch(keras.callbacks.Callback):
    """Turns the counters on for epoch 1; on torch, counts aten ops of step
    `op_step` of epoch 1 and profiles it."""

    def __init__(self, transfers, compilations, op_step, profile):
        super().__init__()
        self.transfers = transfers
        self.compilations = compilations
        self.op_step = op_step
        self.profile = profile
        self.epoch = None
        self.aten_ops = None
        self.profile_table = None
        self._mode = None
        self._profiler = None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        self.transfers.on = epoch == 1
        self.compilations.timing = epoch == 1

    def on_epoch_end(self, epoch, logs=None):
        self.transfers.on = False
        self.compilations.timing = False

    def on_train_batch_begin(self, batch, logs=None):
        if BACKEND != "torch" or self.epoch != 1 or batch != self.op_step:
            return
        self._mode = OpCounter()
        self._mode.__enter__()

    def on_train_batch_end(self, batch, logs=None):
        if batch == self.params["steps"] - 1:
            # Per-epoch work (the backup's weight saving) is not per step.
            self.transfers.on = False
        if self._mode is not None:
            self._mode.__exit__(None, None, None)
            self.aten_ops = self._mode.counts
            self._mode = None
        if (
            self.profile
            and BACKEND == "torch"
            and self.epoch == 1
            and batch == self.op_step + 1
        ):
            self._profiler.__exit__(None, None, None)
            self.profile_table = self._profiler.key_averages().table(
                sort_by="self_cpu_time_total", row_limit=15
            )
        if (
            self.profile
            and BACKEND == "torch"
            and self.epoch == 1
            and batch == self.op_step
        ):
            import torch

            self._profiler = torch.profiler.profile(
                activities=[torch.profiler.ProfilerActivity.CPU]
            )
            self._profiler.__enter__()


def OpCounter():
    from torch.utils._python_dispatch import TorchDispatchMode

    class Counter(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.counts = collections.Counter()

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            self.counts[str(func.overloadpacket.__name__)] += 1
            return func(*args, **(kwargs or {}))

    return Counter()


def profile_recipe(args, methods, profile):
    steps = args.steps
    images, labels = versus_pytorch.random_images(args.batch_size * steps, 0)
    test = versus_pytorch.random_images(64, 1)
    recipe = recipes.get_recipe(
        "opl_cifar100",
        dataset="cifar10",
        depth=args.depth,
        methods=methods,
        batch_size=args.batch_size,
        epochs=2,
        steps_per_epoch=steps,
        lr_milestones=(),
    )
    dataset = Dataset(images, labels, test[0], test[1], 10, None, "random")
    transfers = HostTransfers()
    compilations = Compilations()
    watch = StepWatch(transfers, compilations, op_step=steps // 2, profile=profile)
    clock = _timing.EpochClock(timed_epoch=1)
    try:
        with tempfile.TemporaryDirectory() as run_dir:
            recipes.train(
                recipe, run_dir, dataset=dataset, verbose=0, callbacks=[watch, clock]
            )
    finally:
        transfers.restore()
    result = {
        "methods": methods,
        "host_transfers_per_step": {
            k: v / steps for k, v in sorted(transfers.counts.items())
        },
        "seconds_per_step": clock.seconds / steps,
    }
    if BACKEND == "jax":
        result["xla_compilations_fit"] = compilations.total
        result["xla_compilations_timed_epoch"] = compilations.timed
    if watch.aten_ops is not None:
        result["aten_ops_per_step"] = sum(watch.aten_ops.values())
        result["aten_ops_top"] = dict(watch.aten_ops.most_common(12))
        # `.item()`/`int(tensor)`: a device-to-host read (a sync on a GPU).
        result["aten_scalar_reads_per_step"] = watch.aten_ops["_local_scalar_dense"]
    if watch.profile_table is not None:
        result["torch_profile"] = watch.profile_table
    keras.backend.clear_session()
    return result


def regularizer_kernels(depth):
    model = models.resnet_cifar(depth, num_classes=10)
    return [
        layer.kernel
        for layer in model.layers
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense))
    ]


def penalty_functions(kernels):
    so = regularizers.SoftOrthogonality(1e-4)

    def per_kernel(values):
        return sum(so(v) for v in values)

    def grouped(values):
        return grouped_soft_orthogonality(values, factor=1e-4)

    return {"per_kernel": per_kernel, "per_shape": grouped}


def value_and_gradient(function, kernels):
    """A callable returning (value, gradients) of `function` over the kernel
    values, compiled as the backend's training step is (XLA on JAX and
    TensorFlow, eager on torch)."""
    values = [keras.ops.convert_to_tensor(k.value) for k in kernels]
    if BACKEND == "jax":
        import jax

        compiled = jax.jit(jax.value_and_grad(function))
        return lambda: compiled(values), values
    if BACKEND == "tensorflow":
        import tensorflow as tf

        variables = [tf.Variable(v) for v in values]

        @tf.function(jit_compile=True)
        def step():
            with tf.GradientTape() as tape:
                value = function(variables)
            return value, tape.gradient(value, variables)

        return step, values
    import torch

    leaves = [v.detach().clone().requires_grad_(True) for v in values]

    def step():
        value = function(leaves)
        gradients = torch.autograd.grad(value, leaves)
        return value, gradients

    return step, values


def profile_regularizer(depth, repeats):
    kernels = regularizer_kernels(depth)
    shapes = collections.Counter(tuple(k.shape) for k in kernels)
    result = {
        "model": f"resnet{depth}_cifar",
        "kernels": len(kernels),
        "shapes": len(shapes),
    }
    for name, function in penalty_functions(kernels).items():
        step, _ = value_and_gradient(function, kernels)
        value, _ = step()
        seconds = []
        for _ in range(repeats):
            start = time.perf_counter()
            value, _ = step()
            float(keras.ops.convert_to_numpy(value))
            seconds.append(time.perf_counter() - start)
        entry = {
            "value": float(keras.ops.convert_to_numpy(value)),
            "median_ms": 1e3 * statistics.median(seconds),
            "min_ms": 1e3 * min(seconds),
        }
        if BACKEND == "torch":
            with OpCounter() as counter:
                step()
            entry["aten_ops"] = sum(counter.counts.values())
        result[name] = entry
    return result


def profile_optimizers(depth):
    """aten ops of one update of a ResNet's variables on torch: Keras' SGD
    (which torch runs as a few multi-tensor `_foreach` ops) against the
    recipes' `CoupledWeightDecaySGD` (one Python update per variable)."""
    from keras_ortho.optimizers import CoupledWeightDecaySGD

    model = models.resnet_cifar(depth, num_classes=10)
    variables = model.trainable_variables
    gradients = [keras.ops.ones_like(v.value) for v in variables]
    optimizers = {
        "keras_sgd": keras.optimizers.SGD(0.1, momentum=0.9),
        "coupled_weight_decay_sgd": CoupledWeightDecaySGD(
            0.1, momentum=0.9, coupled_weight_decay=5e-4
        ),
    }
    result = {"model": f"resnet{depth}_cifar", "variables": len(variables)}
    for name, optimizer in optimizers.items():
        optimizer.build(variables)
        optimizer.apply(gradients, variables)
        with OpCounter() as counter:
            optimizer.apply(gradients, variables)
        result[name] = sum(counter.counts.values())
    return result


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--depth", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=6, help="steps per epoch")
    parser.add_argument(
        "--methods",
        default="ce;opl;so;opl,so",
        help="semicolon-separated recipe methods (default 'ce;opl;so;opl,so')",
    )
    parser.add_argument("--regularizer-depth", type=int, default=56)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--json", metavar="PATH")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_arguments(argv)
    info = _timing.environment()
    _timing.print_environment(info)
    output = {"environment": info, "recipes": [], "regularizer": None}
    for methods in args.methods.split(";"):
        result = profile_recipe(args, methods, profile=methods == "opl,so")
        output["recipes"].append(result)
        table = result.pop("torch_profile", None)
        print(json.dumps(result, indent=1))
        if table:
            print(table)
            result["torch_profile"] = table
    output["regularizer"] = profile_regularizer(args.regularizer_depth, args.repeats)
    print(json.dumps(output["regularizer"], indent=1))
    if BACKEND == "torch":
        output["optimizer_aten_ops"] = profile_optimizers(args.depth)
        print(json.dumps(output["optimizer_aten_ops"], indent=1))
    output["load_average_end"] = versus_pytorch.load_average()
    if args.json:
        with open(args.json, "w") as file:
            json.dump(output, file, indent=1)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
