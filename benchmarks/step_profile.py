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
- on torch, for `opl,so`, the same step attributed to its source (`--attribute`
  prints the table): every aten operator `torch.profiler` records (nested ones
  included, as a plain PyTorch step is counted below) and every `copy_`, by
  the training-step phase (forward, loss, regularizer, metrics, optimizer)
  and the innermost keras_ortho or Keras function that issued it, backward
  operators by their autograd node; and the bytes the step's non-view
  operators read and write (tensor arguments and results), the traffic of
  the memory-bound passes over the activations;
- the same counts for one step of `versus_pytorch.py`'s plain PyTorch loop
  (CE + OPL + SO) of the same network, and the operators and copies of one
  `train_on_batch` of the network alone, with the builders' layers and with
  Keras' own;
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
import re
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


# Frames whose functions only route an operator to its source.
ROUTING_MODULES = (
    "keras/src/backend",
    "keras/src/ops",
    "keras/src/utils",
    "keras/src/random",
    "keras/src/tree",
    "keras/src/dtype_policies",
)
VIEW_OPERATORS = frozenset(
    [
        "alias",
        "as_strided",
        "detach",
        "expand",
        "lift_fresh",
        "narrow",
        "numpy_T",
        "permute",
        "reshape",
        "select",
        "slice",
        "split",
        "split_with_sizes",
        "squeeze",
        "t",
        "transpose",
        "unbind",
        "unsqueeze",
        "view",
        "_reshape_alias",
        "_unsafe_view",
    ]
)
PROFILER_FRAME = re.compile(r"^(.*)\(\d+\): (.*)$")


def step_phase_and_source(frames):
    """The training-step phase of an operator and the innermost keras_ortho or
    Keras function that issued it, from its Python `(file, function)` frames,
    outermost first."""
    phase, source = "other", "?"
    for path, function in frames:
        path = path.replace("\\", "/")
        if function in ("_compute_loss", "compute_loss"):
            phase = "loss"
        elif function == "compute_metrics" or (
            function == "update_state" and phase == "other"
        ):
            phase = "metrics"
        elif function == "apply" and "optimizers" in path:
            phase = "optimizer"
        elif "keras_ortho/regularizers" in path and phase == "loss":
            phase = "regularizer"
        elif function == "train_step" and phase == "other":
            phase = "forward"
        if ("keras_ortho/" in path or "keras/src/" in path) and not any(
            module in path for module in ROUTING_MODULES
        ):
            source = path.split("site-packages/")[-1].split("keras_ortho/", 1)
            source = "keras_ortho/" + source[1] if len(source) == 2 else source[0]
            source = f"{source}:{function}"
    return phase, source


def profiler_attribution(profiler):
    """`{(phase, source): [aten ops, copy_ calls]}` of a `torch.profiler`
    run with `with_stack=True`; nested operators count with their caller's
    source, backward ones under their autograd node."""
    table = collections.defaultdict(lambda: [0, 0])
    for event in profiler.events():
        if not event.name.startswith("aten::"):
            continue
        chain = [event]
        while chain[-1].cpu_parent is not None:
            chain.append(chain[-1].cpu_parent)
        nodes = [
            e.name.split(": ")[-1]
            for e in chain
            if e.name.startswith("autograd::engine::evaluate_function")
        ]
        if nodes:
            key = ("backward", nodes[-1])
        else:
            frames = [
                match.groups()
                for match in map(PROFILER_FRAME.match, (e.name for e in chain[::-1]))
                if match
            ]
            key = step_phase_and_source(frames)
        table[key][0] += 1
        table[key][1] += event.name == "aten::copy_"
    return dict(table)


def BytesMoved():
    """A dispatch mode adding up the bytes of the tensor arguments and
    results of every non-view operator, by `(phase, source)` as
    `profiler_attribution` names them."""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_leaves

    def size(values):
        return sum(
            v.numel() * v.element_size()
            for v in tree_leaves(values)
            if isinstance(v, torch.Tensor)
        )

    class Counter(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.counts = collections.Counter()

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            outputs = func(*args, **(kwargs or {}))
            if func.overloadpacket.__name__ in VIEW_OPERATORS:
                return outputs
            node = torch._C._current_autograd_node()
            if node is not None:
                key = ("backward", node.name())
            else:
                frames, frame = [], sys._getframe(1)
                while frame is not None:
                    frames.append((frame.f_code.co_filename, frame.f_code.co_name))
                    frame = frame.f_back
                key = step_phase_and_source(frames[::-1])
            self.counts[key] += size((args, kwargs)) + size(outputs)
            return outputs

    return Counter()


def attribution_rows(operators, moved):
    """Rows `phase, source, aten ops, copy_, MB moved`, most operators first."""
    keys = set(operators) | set(moved)
    rows = [
        [*key, *operators.get(key, [0, 0]), round(moved.get(key, 0) / 1e6, 1)]
        for key in keys
    ]
    return sorted(rows, key=lambda row: (-row[2], -row[4]))


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
    """Turns the counters on for epoch 1; on torch, counts the aten ops of
    step `op_step` of epoch 1 and, with `profile`, the bytes it moves, then
    profiles step `op_step + 1` (operator times) and attributes the
    operators of step `op_step + 2` to their sources."""

    def __init__(self, transfers, compilations, op_step, profile):
        super().__init__()
        self.transfers = transfers
        self.compilations = compilations
        self.op_step = op_step
        self.profile = profile
        self.epoch = None
        self.aten_ops = None
        self.bytes_moved = None
        self.profile_table = None
        self.attribution = None
        self._open = []

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        self.transfers.on = epoch == 1
        self.compilations.timing = epoch == 1

    def on_epoch_end(self, epoch, logs=None):
        self.transfers.on = False
        self.compilations.timing = False

    def on_train_batch_begin(self, batch, logs=None):
        if BACKEND != "torch" or self.epoch != 1:
            return
        import torch

        step = batch - self.op_step
        if step == 0:
            self._open = [("aten_ops", OpCounter())]
            if self.profile:
                self._open.append(("bytes_moved", BytesMoved()))
        elif self.profile and step in (1, 2):
            profiler = torch.profiler.profile(
                activities=[torch.profiler.ProfilerActivity.CPU], with_stack=step == 2
            )
            self._open = [("profile_table" if step == 1 else "attribution", profiler)]
        for _, instrument in self._open:
            instrument.__enter__()

    def on_train_batch_end(self, batch, logs=None):
        if batch == self.params["steps"] - 1:
            # Per-epoch work (the backup's weight saving) is not per step.
            self.transfers.on = False
        for name, instrument in reversed(self._open):
            instrument.__exit__(None, None, None)
            if name == "profile_table":
                instrument = instrument.key_averages().table(
                    sort_by="self_cpu_time_total", row_limit=15
                )
            elif name == "attribution":
                instrument = profiler_attribution(instrument)
            else:
                instrument = instrument.counts
            setattr(self, name, instrument)
        self._open = []


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
    # Three steps from `op_step` on: counted, timed, attributed.
    op_step = max(0, min(steps // 2, steps - 3))
    watch = StepWatch(transfers, compilations, op_step=op_step, profile=profile)
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
    if watch.attribution is not None:
        result["attribution"] = attribution_rows(watch.attribution, watch.bytes_moved)
        result["profiled_aten_ops_per_step"] = sum(
            ops for ops, _ in watch.attribution.values()
        )
        result["profiled_copies_per_step"] = sum(
            copies for _, copies in watch.attribution.values()
        )
        result["megabytes_moved_per_step"] = round(
            sum(watch.bytes_moved.values()) / 1e6
        )
    keras.backend.clear_session()
    return result


def plain_pytorch_step(args):
    """aten ops (`torch.profiler`, nested ones included), `copy_` calls and
    bytes moved by one step of `versus_pytorch.py`'s plain PyTorch loop with
    CE + OPL + SO: its network, augmentation, losses and optimizer."""
    import torch
    import torch.nn.functional as F

    torch.manual_seed(0)
    model = versus_pytorch.torch_modules()(args.depth, 10)
    images, labels = versus_pytorch.random_images(args.batch_size, 0)
    images, labels = torch.from_numpy(images), torch.from_numpy(labels).long()
    mean, std = (torch.full((1, 3, 1, 1), value) for value in (120.0, 60.0))
    optimizer = torch.optim.SGD(
        model.parameters(),
        lr=versus_pytorch.LEARNING_RATE,
        momentum=versus_pytorch.MOMENTUM,
        weight_decay=versus_pytorch.WEIGHT_DECAY,
    )
    kernels = [
        m.weight
        for m in model.modules()
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))
    ]
    generator = torch.Generator().manual_seed(0)

    def step():
        x = versus_pytorch.torch_augment(images, generator)
        x = (x.permute(0, 3, 1, 2).float() - mean) / std
        logits, features = model(x)
        loss = F.cross_entropy(logits, labels)
        loss = loss + versus_pytorch.OPL_WEIGHT * versus_pytorch.torch_opl(
            features, labels
        )
        loss = loss + versus_pytorch.torch_soft_orthogonality(kernels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        loss.item()

    step()
    with torch.profiler.profile(
        activities=[torch.profiler.ProfilerActivity.CPU]
    ) as profiler:
        step()
    operators = collections.Counter(
        e.name for e in profiler.events() if e.name.startswith("aten::")
    )
    with BytesMoved() as moved:
        step()
    return {
        "profiled_aten_ops_per_step": sum(operators.values()),
        "profiled_copies_per_step": operators["aten::copy_"],
        "megabytes_moved_per_step": round(sum(moved.counts.values()) / 1e6),
    }


def train_on_batch_operators(args):
    """aten ops and `copy_` calls (`torch.profiler`) of one `train_on_batch`
    of `models.resnet_cifar(depth)` (SGD with momentum, cross-entropy), with
    the builders' layers and with Keras' `Conv2D` and `BatchNormalization`."""
    import numpy as np
    import torch

    from keras_ortho.models import _fast_layers

    keras_classes = {
        _fast_layers.Conv2D: keras.layers.Conv2D,
        _fast_layers.BatchNormalization: keras.layers.BatchNormalization,
    }
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (args.batch_size, 32, 32, 3)).astype("float32")
    y = rng.integers(0, 10, args.batch_size)
    result = {}
    for name in ("builders_layers", "keras_layers"):
        model = models.resnet_cifar(args.depth, num_classes=10)
        if name == "keras_layers":
            model = keras.models.clone_model(
                model,
                clone_function=lambda layer: keras_classes.get(
                    type(layer), type(layer)
                ).from_config(layer.get_config()),
            )
        model.compile(
            keras.optimizers.SGD(0.1, momentum=0.9),
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        model.train_on_batch(x, y)
        with torch.profiler.profile(
            activities=[torch.profiler.ProfilerActivity.CPU]
        ) as profiler:
            model.train_on_batch(x, y)
        operators = collections.Counter(
            e.name for e in profiler.events() if e.name.startswith("aten::")
        )
        result[name] = {
            "aten_ops": sum(operators.values()),
            "copies": operators["aten::copy_"],
        }
    return result


def print_attribution(rows, limit):
    print(f"{'phase':<12} {'source':<72} {'ops':>6} {'copy_':>6} {'MB':>7}")
    for phase, source, operators, copies, megabytes in rows[:limit]:
        print(f"{phase:<12} {source:<72} {operators:>6} {copies:>6} {megabytes:>7}")


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
    parser.add_argument(
        "--attribute",
        type=int,
        default=0,
        metavar="ROWS",
        help="on torch, print the ROWS largest sources of the opl,so step's operators",
    )
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
        rows = result.pop("attribution", None)
        print(json.dumps(result, indent=1))
        if table:
            print(table)
            result["torch_profile"] = table
        if rows:
            if args.attribute:
                print_attribution(rows, args.attribute)
            result["attribution"] = rows
    output["regularizer"] = profile_regularizer(args.regularizer_depth, args.repeats)
    print(json.dumps(output["regularizer"], indent=1))
    if BACKEND == "torch":
        output["train_on_batch"] = train_on_batch_operators(args)
        print("train_on_batch of the network:", output["train_on_batch"])
        output["plain_pytorch_step"] = plain_pytorch_step(args)
        print("plain PyTorch loop, CE + OPL + SO:", output["plain_pytorch_step"])
        output["optimizer_aten_ops"] = profile_optimizers(args.depth)
        print(json.dumps(output["optimizer_aten_ops"], indent=1))
    output["load_average_end"] = versus_pytorch.load_average()
    if args.json:
        with open(args.json, "w") as file:
            json.dump(output, file, indent=1)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
