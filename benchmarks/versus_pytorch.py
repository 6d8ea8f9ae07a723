"""Training speed side by side: a plain PyTorch eager loop against the
keras_ortho recipe's `model.fit` on each Keras backend, and a plain Keras
`fit` of the same network.

Three kinds of run train the same CIFAR ResNet (`--depth`, default 20) at the
same batch size on the same random uint8 images (10 classes), each in its own
Python process:

- `torch_loop`: the loop of the reference codes (kahnchana/opl, the SRIP
  code), written here in plain PyTorch and nowhere in the library: the
  ResNet of `keras_ortho.models.resnet_cifar` in `torch.nn` (same layers,
  initialisation, BatchNorm momentum and epsilon), pad-4 random crop and
  horizontal flip, `torch.optim.SGD(momentum=0.9, weight_decay=5e-4)` (coupled
  decay) with a per-step warm-up, cross-entropy, and for `opl,so` OPL on the
  pooled features plus `1e-4 * sum ||W^T W - I||_F^2` over every kernel, both
  written here from the formulas of docs/losses/orthogonal_projection_loss.md
  and docs/regularizers/soft_orthogonality.md. The augmentation runs on whole
  batches with torch ops (what torchvision's per-sample `RandomCrop(32, 4)` and
  `RandomHorizontalFlip` compute, without the per-image PIL cost), so the
  reference is a strong one.
- `recipe`: `keras_ortho.recipes.train` of the `opl_cifar100` preset cut to
  10 classes and `--depth`, with `--methods` (`ce` or `opl,so`), on each
  Keras backend: the recipe's batches, on-device crop and flip, losses,
  regularizer, `CoupledWeightDecaySGD` and callbacks, as a user runs it.
- `keras_fit`: `keras_ortho.models.resnet_cifar(depth)` compiled with Keras'
  `SGD(0.1, momentum=0.9)` and cross-entropy, `fit` on NumPy arrays without
  augmentation: what the recipe's own overhead is measured against.

Every run trains two epochs of `--steps` steps; the first compiles and warms
up, the second is timed from its start to the end of its last step (its loss
read back, which waits for the device). The runs alternate: each round
starts every configuration once, in a rotating order, and each ratio is the
median over rounds of the ratio within a round, so a change of the machine's
load between rounds cancels. The 1-minute load average is read before and
after every run and the library versions are printed with every figure.

    python benchmarks/versus_pytorch.py --json results/versus_pytorch.json
    python benchmarks/versus_pytorch.py --depth 8 --batch-size 32 --steps 3 \\
        --rounds 1    # a quick check that everything runs

Given the CIFAR-10 JPEG file (`--data`), the script instead trains the PyTorch
loop and the recipe on each backend for a short schedule (`--epochs`, default
10, on `--train-size` training images, rate x0.2 at half and three quarters
of the epochs) for each of `--seeds` and reports test accuracy side by side,
so that speed is never bought with accuracy:

    python benchmarks/versus_pytorch.py --data ../shared/data/cifar10_jpeg.npz \\
        --backends jax --methods ce --seeds 0,1
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

NUM_CLASSES = 10
TEST_IMAGES = 256
# The opl_cifar100 schedule (and the reference code's): SGD 0.1, momentum 0.9,
# coupled weight decay 5e-4, a one-epoch linear warm-up, rate x0.2 at milestones.
LEARNING_RATE = 0.1
MOMENTUM = 0.9
WEIGHT_DECAY = 5e-4
WARMUP_EPOCHS = 1
LR_DECAY = 0.2
OPL_GAMMA = 0.5
OPL_WEIGHT = 1.0
SO_FACTOR = 1e-4
CROP_PADDING = 4
KINDS = ("torch_loop", "recipe", "keras_fit")
BACKENDS = ("jax", "tensorflow", "torch")
METHODS = ("ce", "opl,so")
HERE = os.path.dirname(os.path.abspath(__file__))


def load_average():
    try:
        with open("/proc/loadavg") as file:
            return float(file.read().split()[0])
    except OSError:
        return os.getloadavg()[0] if hasattr(os, "getloadavg") else None


# --------------------------------------------------------------------------
# Data shared by every kind of run.


def random_images(count, seed):
    """`count` random uint8 CIFAR-shaped images and 10-class int64 labels."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (count, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, NUM_CLASSES, count).astype(np.int64)
    return images, labels


def cifar10_subset(path, train_size):
    """The CIFAR-10 JPEG file with a fixed (seed 0) draw of `train_size`
    training images, the same for every kind of run and every seed."""
    from keras_ortho.data import load_cifar10_jpeg

    data = load_cifar10_jpeg(path)
    order = np.random.default_rng(0).permutation(len(data.x_train))
    keep = np.sort(order[:train_size])
    return (
        data.x_train[keep],
        data.y_train[keep].astype(np.int64),
        data.x_test,
        data.y_test.astype(np.int64),
    )


def channel_statistics(images):
    """Per-channel mean and std on [0, 1], as the recipe computes them."""
    pixels = images.reshape(-1, images.shape[-1]).astype(np.float64) / 255.0
    mean = pixels.mean(axis=0)
    std = np.maximum(pixels.std(axis=0), 1 / 255)
    return tuple(float(m) for m in mean), tuple(float(s) for s in std)


def learning_rate_factor(step, steps_per_epoch, milestones):
    """`WarmupMultiStepDecay`'s rate over `LEARNING_RATE` at 0-based `step`."""
    warmup_steps = WARMUP_EPOCHS * steps_per_epoch
    if step < warmup_steps:
        return step / warmup_steps
    epoch = step // steps_per_epoch
    return LR_DECAY ** sum(epoch >= m for m in milestones)


# --------------------------------------------------------------------------
# The plain PyTorch loop (no keras, no keras_ortho).


def torch_modules():
    import torch
    from torch import nn

    class BasicBlock(nn.Module):
        """conv3x3-BN-ReLU-conv3x3-BN + (1x1 conv + BN) shortcut, ReLU."""

        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.shortcut = None
            if stride != 1 or cin != cout:
                self.shortcut = nn.Sequential(
                    nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)
                )

        def forward(self, x):
            out = torch.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            shortcut = x if self.shortcut is None else self.shortcut(x)
            return torch.relu(out + shortcut)

    class CifarResNet(nn.Module):
        """`keras_ortho.models.resnet_cifar` in torch.nn: the same layers in
        the same order, He uniform convolutions, torch's default Linear
        kernel with a zero bias (Keras' Dense), BatchNorm momentum 0.1
        (Keras 0.9) and epsilon 1e-5. Returns `(logits, pooled features)`."""

        def __init__(self, depth, num_classes):
            super().__init__()
            blocks = (depth - 2) // 6
            self.stem = nn.Sequential(
                nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()
            )
            layers, cin = [], 16
            for stage, cout in enumerate((16, 32, 64)):
                for block in range(blocks):
                    stride = 2 if stage > 0 and block == 0 else 1
                    layers.append(BasicBlock(cin, cout, stride))
                    cin = cout
            self.blocks = nn.Sequential(*layers)
            self.classifier = nn.Linear(64, num_classes)
            for module in self.modules():
                if isinstance(module, nn.Conv2d):
                    nn.init.kaiming_uniform_(module.weight, nonlinearity="relu")
            nn.init.zeros_(self.classifier.bias)

        def forward(self, x):
            features = self.blocks(self.stem(x)).mean(dim=(2, 3))
            return self.classifier(features), features

    return CifarResNet


def torch_opl(features, labels, gamma=OPL_GAMMA):
    """OPL: `(1 - s) + gamma * d` over the L2-normalised features, `s` the mean
    cosine of same-class pairs `i != j`, `d` the mean |cosine| of
    different-class pairs (docs/losses/orthogonal_projection_loss.md)."""
    import torch
    import torch.nn.functional as F

    features = F.normalize(features, dim=1)
    cosine = features @ features.t()
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(len(labels), dtype=torch.bool, device=labels.device)
    positive = (same & ~eye).float()
    negative = (~same).float()
    s = (positive * cosine).sum() / positive.sum().clamp(min=1.0)
    d = (negative * cosine).abs().sum() / negative.sum().clamp(min=1.0)
    return 1.0 - s + gamma * d


def torch_soft_orthogonality(kernels, factor=SO_FACTOR):
    """`factor * sum ||W^T W - I||_F^2` (gram="filters"), forming the smaller
    Gram of each filter matrix and adding the constant `filters - fan_in`
    where it is the other (docs/regularizers/soft_orthogonality.md)."""
    import torch

    total = 0.0
    for kernel in kernels:
        rows = kernel.reshape(kernel.shape[0], -1)  # (filters, fan_in) = W^T
        filters, fan_in = rows.shape
        gram = rows @ rows.t() if filters <= fan_in else rows.t() @ rows
        identity = torch.eye(gram.shape[0], dtype=gram.dtype)
        total = total + (gram - identity).square().sum() + max(filters - fan_in, 0)
    return factor * total


def torch_augment(images, generator):
    """Pad-4 random crop (zero fill) and horizontal flip of uint8 NHWC images,
    per sample, as torchvision's `RandomCrop(32, padding=4)` and
    `RandomHorizontalFlip()`."""
    import torch
    import torch.nn.functional as F

    batch, height, width, _ = images.shape
    padded = F.pad(
        images, (0, 0, CROP_PADDING, CROP_PADDING, CROP_PADDING, CROP_PADDING)
    )
    offsets = torch.randint(0, 2 * CROP_PADDING + 1, (2, batch), generator=generator)
    rows = torch.arange(height)[None, :] + offsets[0][:, None]
    cols = torch.arange(width)[None, :] + offsets[1][:, None]
    flip = torch.rand(batch, generator=generator) < 0.5
    cols = torch.where(flip[:, None], cols.flip(1), cols)
    index = torch.arange(batch)[:, None, None]
    return padded[index, rows[:, :, None], cols[:, None, :]]


def run_torch_loop(args, method, images, labels, test=None, clock_epoch=1):
    """Trains the torch ResNet; returns seconds of epoch `clock_epoch` (or
    None) and the test accuracy when `test` is given."""
    import torch
    import torch.nn.functional as F

    torch.manual_seed(args.seed)
    model = torch_modules()(args.depth, NUM_CLASSES)
    # Normalised with the training images' statistics, as the recipe does.
    mean, std = channel_statistics(images)
    mean = torch.tensor(mean).view(1, 3, 1, 1) * 255.0
    std = torch.tensor(std).view(1, 3, 1, 1) * 255.0
    optimizer = torch.optim.SGD(
        model.parameters(),
        lr=LEARNING_RATE,
        momentum=MOMENTUM,
        weight_decay=WEIGHT_DECAY,
    )
    steps_per_epoch = len(images) // args.batch_size
    milestones = schedule_milestones(args.epochs) if test is not None else ()
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda step: learning_rate_factor(step, steps_per_epoch, milestones),
    )
    kernels = [
        m.weight
        for m in model.modules()
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))
    ]
    with_opl_so = method == "opl,so"
    generator = torch.Generator().manual_seed(args.seed)
    all_images, all_labels = torch.from_numpy(images), torch.from_numpy(labels)
    seconds = None
    model.train()
    for epoch in range(args.epochs):
        start = time.perf_counter()
        order = torch.randperm(len(images), generator=generator)
        for step in range(steps_per_epoch):
            rows = order[step * args.batch_size : (step + 1) * args.batch_size]
            x = torch_augment(all_images[rows], generator)
            x = (x.permute(0, 3, 1, 2).float() - mean) / std
            y = all_labels[rows]
            logits, features = model(x)
            loss = F.cross_entropy(logits, y)
            if with_opl_so:
                loss = loss + OPL_WEIGHT * torch_opl(features, y)
                loss = loss + torch_soft_orthogonality(kernels)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            # The reference loops log the loss every step.
            loss_value = loss.item()
        if epoch == clock_epoch:
            seconds = time.perf_counter() - start
        if not np.isfinite(loss_value):
            raise FloatingPointError(f"the training loss is {loss_value}")
    accuracy = None
    if test is not None:
        model.eval()
        correct = 0
        with torch.no_grad():
            for first in range(0, len(test[0]), 500):
                x = torch.from_numpy(test[0][first : first + 500])
                x = (x.permute(0, 3, 1, 2).float() - mean) / std
                predicted = model(x)[0].argmax(1).numpy()
                correct += int((predicted == test[1][first : first + 500]).sum())
        accuracy = correct / len(test[0])
    return seconds, accuracy


def schedule_milestones(epochs):
    """Rate x0.2 at half and at three quarters of a short schedule."""
    return tuple(sorted({max(1, epochs // 2), max(1, (3 * epochs) // 4)}))


# --------------------------------------------------------------------------
# The Keras runs.


def keras_environment():
    import _timing

    return _timing.environment()


def recipe_for(args, method, data_given):
    from keras_ortho import recipes

    changes = {
        "dataset": "cifar10_jpeg" if data_given else "cifar10",
        "depth": args.depth,
        "methods": method,
        "batch_size": args.batch_size,
        "epochs": args.epochs,
        "seed": args.seed,
        "lr_milestones": schedule_milestones(args.epochs) if data_given else (),
    }
    if not data_given:
        changes["steps_per_epoch"] = args.steps
    return recipes.get_recipe("opl_cifar100", **changes)


def run_recipe(args, method, images, labels, test=None):
    import _timing
    import keras

    from keras_ortho import recipes
    from keras_ortho.data import Dataset

    data_given = test is not None
    if test is None:
        test = random_images(TEST_IMAGES, args.seed + 1)
    recipe = recipe_for(args, method, data_given)
    dataset = Dataset(
        x_train=images,
        y_train=labels,
        x_test=test[0],
        y_test=test[1],
        num_classes=NUM_CLASSES,
        class_names=None,
        name="cifar10_jpeg" if data_given else "random_cifar10",
    )
    clock = _timing.EpochClock(timed_epoch=1)
    with tempfile.TemporaryDirectory() as run_dir:
        run = recipes.train(
            recipe, run_dir, dataset=dataset, verbose=0, callbacks=[clock]
        )
    keras.backend.clear_session()
    return clock.seconds, run.results["test_accuracy"]


def run_keras_fit(args, images, labels):
    import _timing
    import keras

    from keras_ortho import models

    keras.utils.set_random_seed(args.seed)
    model = models.resnet_cifar(args.depth, num_classes=NUM_CLASSES)
    model.compile(
        optimizer=keras.optimizers.SGD(LEARNING_RATE, momentum=MOMENTUM),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    clock = _timing.EpochClock(timed_epoch=1)
    model.fit(
        images,
        labels,
        batch_size=args.batch_size,
        epochs=2,
        callbacks=[clock],
        verbose=0,
    )
    return clock.seconds, None


def torch_environment():
    import torch

    return {
        "backend": "torch (plain loop)",
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "numpy": np.__version__,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "device": f"cuda: {torch.cuda.get_device_name(0)}"
        if torch.cuda.is_available()
        else "cpu",
    }


def worker(args):
    """One run in this process; writes its result as JSON to --worker-output."""
    load_before = load_average()
    if args.data:
        images, labels, x_test, y_test = cifar10_subset(args.data, args.train_size)
        test = (x_test, y_test)
    else:
        images, labels = random_images(args.batch_size * args.steps, args.seed)
        test = None
    if args.worker == "torch_loop":
        if test is None:
            args.epochs = 2
        seconds, accuracy = run_torch_loop(args, args.method, images, labels, test)
        info = torch_environment()
    elif args.worker == "recipe":
        if test is None:
            args.epochs = 2
        seconds, accuracy = run_recipe(args, args.method, images, labels, test)
        info = keras_environment()
    else:
        seconds, accuracy = run_keras_fit(args, images, labels)
        info = keras_environment()
    result = {
        "kind": args.worker,
        "backend": info["backend"],
        "method": args.method,
        "seed": args.seed,
        "load_before": load_before,
        "load_after": load_average(),
        "environment": info,
    }
    if seconds is not None and test is None:
        result["seconds"] = seconds
        result["images_per_second"] = args.batch_size * args.steps / seconds
    if accuracy is not None and test is not None:
        result["test_accuracy"] = accuracy
    with open(args.worker_output, "w") as file:
        json.dump(result, file)


# --------------------------------------------------------------------------
# The driver.


def launch(args, kind, backend, method, seed):
    """Runs one configuration in a fresh process and returns its result."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as output:
        path = output.name
    command = [
        sys.executable,
        os.path.abspath(__file__),
        "--worker",
        kind,
        "--method",
        method,
        "--worker-output",
        path,
        "--depth",
        str(args.depth),
        "--batch-size",
        str(args.batch_size),
        "--steps",
        str(args.steps),
        "--seed",
        str(seed),
        "--epochs",
        str(args.epochs),
        "--train-size",
        str(args.train_size),
    ]
    if args.data:
        command += ["--data", args.data]
    env = dict(os.environ)
    if backend is not None:
        env["KERAS_BACKEND"] = backend
    root = os.path.dirname(HERE)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    completed = subprocess.run(command, env=env, capture_output=True, text=True)
    try:
        if completed.returncode:
            raise RuntimeError(
                f"{kind} ({backend}, {method}) failed:\n{completed.stderr[-3000:]}"
            )
        with open(path) as file:
            return json.load(file)
    finally:
        os.unlink(path)


def label(kind, backend, method):
    methods = "ce" if method == "ce" else "ce+opl+so"
    return f"{kind}:{backend or 'torch'}:{methods}"


def speed_configurations(args):
    configurations = [("torch_loop", None, method) for method in args.methods]
    for backend in args.backends:
        configurations += [("recipe", backend, method) for method in args.methods]
        if "ce" in args.methods:
            configurations.append(("keras_fit", backend, "ce"))
    return configurations


def measure_speed(args):
    configurations = speed_configurations(args)
    runs = {label(*c): [] for c in configurations}
    for round_index in range(args.rounds):
        shift = round_index % len(configurations)
        for kind, backend, method in configurations[shift:] + configurations[:shift]:
            result = launch(args, kind, backend, method, args.seed)
            name = label(kind, backend, method)
            runs[name].append(result)
            if args.json:
                # Kept up to date, so an interrupted run leaves what it measured.
                write_json(
                    args.json, {"benchmark": "versus_pytorch speed", "runs": runs}
                )
            print(
                f"  round {round_index + 1}/{args.rounds} {name}: "
                f"{result['images_per_second']:.1f} images/s "
                f"(load {result['load_before']:.2f} -> {result['load_after']:.2f})",
                flush=True,
            )
    return runs


def median_ratio(runs, name, reference):
    """Median over rounds of `name`'s images/s over `reference`'s."""
    if name not in runs or reference not in runs:
        return None
    pairs = zip(runs[name], runs[reference], strict=True)
    return statistics.median(
        a["images_per_second"] / b["images_per_second"] for a, b in pairs
    )


def summarize_speed(args, runs):
    rows = []
    for name, results in runs.items():
        kind, backend, methods = name.split(":")
        method = "ce" if methods == "ce" else "opl,so"
        rows.append(
            {
                "configuration": name,
                "kind": kind,
                "backend": backend,
                "methods": methods,
                "model": f"resnet{args.depth}_cifar",
                "batch_size": args.batch_size,
                "dtype": "float32",
                "images_per_second": statistics.median(
                    r["images_per_second"] for r in results
                ),
                "images_per_second_all": [r["images_per_second"] for r in results],
                "load_average": [(r["load_before"], r["load_after"]) for r in results],
                "versus_torch_loop": median_ratio(
                    runs, name, label("torch_loop", None, method)
                ),
                "versus_keras_fit": median_ratio(
                    runs, name, label("keras_fit", backend, "ce")
                )
                if kind == "recipe"
                else None,
                "versus_ce": median_ratio(runs, label(kind, backend, "ce"), name)
                if methods != "ce"
                else None,
                "environment": results[0]["environment"],
            }
        )
    return rows


def print_speed(args, rows):
    print(
        f"\nResNet-{args.depth}, batch {args.batch_size}, float32, random uint8 "
        f"images; {args.rounds} rounds of one process per configuration, "
        f"{args.steps} timed steps each after {args.steps} warm-up steps"
    )
    header = (
        f"{'configuration':<30}{'images/s':>10}{'/torch loop':>12}"
        f"{'/keras fit':>11}{'step/ce':>9}  load  versions"
    )
    print(header)
    print("-" * len(header))

    def text(value):
        return "-" if value is None else f"{value:.3f}"

    for row in rows:
        env = row["environment"]
        versions = ", ".join(
            f"{k} {env[k]}" for k in ("keras", "jax", "tensorflow", "torch") if k in env
        )
        loads = "/".join(f"{b:.1f}" for b, _ in row["load_average"])
        print(
            f"{row['configuration']:<30}{row['images_per_second']:>10.1f}"
            f"{text(row['versus_torch_loop']):>12}{text(row['versus_keras_fit']):>11}"
            f"{text(row['versus_ce']):>9}  {loads}  {versions}"
        )
    print(
        "\n/torch loop, /keras fit: median over rounds of the within-round ratio "
        "of images/s; step/ce: median ratio of CE's images/s over this one's "
        "(the step-time ratio of CE + OPL + SO to CE)."
    )


def measure_accuracy(args):
    rows = []
    for seed in args.seeds:
        for method in args.methods:
            configurations = [("torch_loop", None)] + [
                ("recipe", backend) for backend in args.backends
            ]
            for kind, backend in configurations:
                result = launch(args, kind, backend, method, seed)
                result["configuration"] = label(kind, backend, method)
                rows.append(result)
                print(
                    f"  seed {seed} {result['configuration']}: test accuracy "
                    f"{100 * result['test_accuracy']:.1f}% (load "
                    f"{result['load_before']:.2f} -> {result['load_after']:.2f})",
                    flush=True,
                )
    return rows


def print_accuracy(args, rows):
    print(
        f"\nResNet-{args.depth}, {args.train_size} CIFAR-10 training images, "
        f"{args.epochs} epochs, batch {args.batch_size}: test accuracy (10,000 "
        "test images)"
    )
    names = list(dict.fromkeys(r["configuration"] for r in rows))
    print(
        f"{'configuration':<30}"
        + "".join(f"{'seed ' + str(s):>10}" for s in args.seeds)
    )
    for name in names:
        by_seed = {
            r["seed"]: r["test_accuracy"] for r in rows if r["configuration"] == name
        }
        print(f"{name:<30}" + "".join(f"{100 * by_seed[s]:>9.1f}%" for s in args.seeds))
    env = {
        k: v
        for r in rows
        for k, v in r["environment"].items()
        if k in ("keras", "jax", "tensorflow", "torch")
    }
    print("  versions: " + ", ".join(f"{k} {v}" for k, v in env.items()))


def parse_list(text, choices, flag):
    names = tuple(
        name.strip()
        for name in text.split(";" if flag == "--methods" else ",")
        if name.strip()
    )
    bad = [n for n in names if n not in choices]
    if bad or not names:
        raise argparse.ArgumentTypeError(
            f"{flag}: expected a list of {', '.join(choices)}; got {text!r}"
        )
    return names


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    parser.add_argument("--depth", type=int, default=20, help="6n + 2 (default 20)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument(
        "--steps", type=int, default=20, help="timed steps per run (default 20)"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating rounds (default 3)"
    )
    parser.add_argument(
        "--backends",
        default=",".join(BACKENDS),
        type=lambda t: parse_list(t, BACKENDS, "--backends"),
        help="Keras backends, comma-separated (default jax,tensorflow,torch)",
    )
    parser.add_argument(
        "--methods",
        default="ce;opl,so",
        type=lambda t: parse_list(t, METHODS, "--methods"),
        help="semicolon-separated recipe methods, of 'ce' and 'opl,so' "
        "(default 'ce;opl,so')",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--data", help="the CIFAR-10 JPEG .npz: measure test accuracy instead"
    )
    parser.add_argument("--epochs", type=int, default=10, help="with --data")
    parser.add_argument("--train-size", type=int, default=10000, help="with --data")
    parser.add_argument(
        "--seeds",
        default="0,1",
        type=lambda t: tuple(int(s) for s in t.split(",")),
        help="with --data (default 0,1)",
    )
    parser.add_argument("--json", metavar="PATH", help="write the results here")
    parser.add_argument("--worker", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--method", default="ce", help=argparse.SUPPRESS)
    parser.add_argument("--worker-output", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.depth < 8 or (args.depth - 2) % 6:
        parser.error(f"--depth must be 6n + 2 (8, 20, 32, 56, ...); got {args.depth}")
    for name in ("batch_size", "steps", "rounds", "epochs", "train_size"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.data and not os.path.exists(args.data):
        parser.error(f"--data: no such file: {args.data}")
    return args


def main(argv=None):
    args = parse_arguments(argv)
    if args.worker:
        worker(args)
        return
    if args.data:
        rows = measure_accuracy(args)
        print_accuracy(args, rows)
        output = {"benchmark": "versus_pytorch accuracy", "runs": rows}
    else:
        runs = measure_speed(args)
        rows = summarize_speed(args, runs)
        print_speed(args, rows)
        output = {"benchmark": "versus_pytorch speed", "rows": rows, "runs": runs}
    output["settings"] = {
        k: v
        for k, v in vars(args).items()
        if k not in ("worker", "method", "worker_output", "json")
    }
    if args.json:
        write_json(args.json, output)
        print(f"wrote {args.json}")


def write_json(path, output):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as file:
        json.dump(output, file, indent=2)


if __name__ == "__main__":
    main()
