"""
Title: Orthogonal features with a loss next to cross-entropy
Author: keras_ortho
Date created: 2026/12/01
Last modified: 2026/12/01
Description: Train a CIFAR ResNet with the Orthogonal Projection Loss on its features,
    monitor the feature geometry during `fit`, and compare calibration and feature
    cosines with plain cross-entropy.
Accelerator: CPU (a few minutes on the committed CIFAR-10 subset), GPU for full datasets
"""

"""
## Introduction

Cross-entropy only asks the logits to rank the right class first. The
**Orthogonal Projection Loss** (OPL, Ranasinghe et al., ICCV 2021) adds a
constraint on the penultimate features themselves: features of the same class
should point the same way (cosine near 1) and features of different classes
should be orthogonal (cosine near 0).

OPL is an ordinary Keras loss. It needs the *features* as a model output,
next to the logits, so this example:

1. builds a classifier and exposes its features with
   `keras_ortho.models.with_features`,
2. compiles it with one loss per output,
   `{"logits": cross-entropy, "features": OrthogonalProjectionLoss()}`,
3. trains with `keras_ortho.callbacks.OrthogonalityMonitor`, which logs the
   feature statistics of held-out images after every epoch,
4. compares the trained model with a plain cross-entropy model: accuracy,
   expected calibration error (ECE) and the histograms of same-class and
   different-class feature cosines.

It runs offline on the CIFAR-10 subset committed with keras_ortho (5,000
training and 1,000 test images). On a GPU, train on a full dataset:

```
python examples/feature_losses.py --dataset cifar100 --epochs 200 --depth 56
```
"""

"""
## Setup
"""

import argparse
import os
import tempfile

import keras
import numpy as np
from matplotlib.figure import Figure

import keras_ortho

parser = argparse.ArgumentParser(description="OPL next to cross-entropy.")
parser.add_argument("--dataset", default="cifar10_subset")
parser.add_argument("--data-dir", default=None)
parser.add_argument("--epochs", type=int, default=15)
parser.add_argument("--depth", type=int, default=20, help="ResNet depth, 6n + 2")
parser.add_argument("--batch-size", type=int, default=128)
parser.add_argument(
    "--output-dir", default=os.path.join(tempfile.gettempdir(), "keras_ortho")
)
args = parser.parse_args()

# `KERAS_ORTHO_EXAMPLE_SIZE=toy` shrinks everything so that the test suite can
# run this file in seconds; the code path stays the same.
if os.environ.get("KERAS_ORTHO_EXAMPLE_SIZE") == "toy":
    args.epochs, args.depth, args.batch_size = 1, 8, 20
    # Every 250th training and 40th test image: 20 (one batch) and 25, of
    # every class. One batch shape per model: XLA compiles each step once.
    train_every, test_every = 250, 40
else:
    train_every = test_every = 1
os.makedirs(args.output_dir, exist_ok=True)
keras.utils.set_random_seed(0)

"""
## The data

`keras_ortho.data.load_dataset` returns uint8 NumPy arrays. The images stay
uint8 until they reach the model, which normalises them itself.
"""

data = keras_ortho.data.load_dataset(args.dataset, data_dir=args.data_dir)
x_train, y_train = data.x_train[::train_every], data.y_train[::train_every]
x_test, y_test = data.x_test[::test_every], data.y_test[::test_every]
print(data)

"""
## The model

`keras_ortho.models.resnet_cifar` is the CIFAR ResNet of He et al.: its last
layers are a global average pooling named `"features"` and a `Dense` head.
`with_features` returns a model with two outputs, `"logits"` (the classifier's
output) and `"features"` (the input of its last `Dense` layer, here the pooled
features), sharing every weight with the classifier.

The augmentation layers of `keras_ortho.layers` draw a new crop and flip per
image at every step, inside the compiled training step, and pass the images
through unchanged at inference.
"""


def build_model(num_classes):
    classifier = keras_ortho.models.resnet_cifar(args.depth, num_classes=num_classes)
    with_features = keras_ortho.models.with_features(classifier)
    images = keras.Input(x_train.shape[1:], dtype="uint8")
    x = keras_ortho.layers.RandomPadCrop(4)(images)
    x = keras_ortho.layers.RandomHorizontalFlip()(x)
    return keras.Model(images, with_features(x)), with_features


"""
## Training: cross-entropy alone, then with OPL

Both models are compiled with a dict of losses keyed by output name. The
baseline gives the features output no loss (weight 0); the OPL model weighs it
1 with `gamma=0.5`, the paper's CIFAR setting. `feature_targets(y)` passes the
labels to both outputs.

`OrthogonalityMonitor` measures the held-out features after each epoch and
adds `features/s` (mean same-class cosine, up is better) and `features/d`
(mean absolute different-class cosine, down is better) to the logs, next to
the filter orthogonality of every kernel.
"""


def train(feature_loss_weight):
    model, with_features = build_model(data.num_classes)
    model.compile(
        optimizer=keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
        loss={
            "logits": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            "features": keras_ortho.losses.OrthogonalProjectionLoss(gamma=0.5),
        },
        loss_weights={"logits": 1.0, "features": feature_loss_weight},
        metrics={"logits": ["accuracy"]},
    )
    monitor = keras_ortho.callbacks.OrthogonalityMonitor(
        data=(x_test[::2], y_test[::2]), per_layer=False
    )
    history = model.fit(
        x_train,
        keras_ortho.models.feature_targets(y_train),
        batch_size=args.batch_size,
        epochs=args.epochs,
        callbacks=[monitor],
        verbose=2,
    )
    return with_features, history


results = {}
for name, weight in [("cross-entropy", 0.0), ("cross-entropy + OPL", 1.0)]:
    print(f"\n{name}")
    results[name] = train(weight)

"""
## Evaluation: accuracy, calibration and feature geometry

`with_features` predicts logits and features in one pass.
`keras_ortho.metrics.expected_calibration_error` bins the test predictions by
confidence (15 equal-width bins) and averages the gap between confidence and
accuracy; `opl_statistics` gives the paper's `s` and `d` on the test set.
"""

predictions = {
    name: with_features.predict(x_test, batch_size=256, verbose=0)
    for name, (with_features, _) in results.items()
}
print(f"\n{'method':<22} {'accuracy':>8} {'ECE':>6} {'s':>6} {'d':>6}")
for name, outputs in predictions.items():
    accuracy = np.mean(np.argmax(outputs["logits"], axis=-1) == y_test)
    ece = keras_ortho.metrics.expected_calibration_error(
        y_test, outputs["logits"], from_logits=True
    )
    statistics = keras_ortho.diagnostics.opl_statistics(outputs["features"], y_test)
    print(
        f"{name:<22} {accuracy:8.3f} {ece:6.3f} {statistics.s:6.3f} {statistics.d:6.3f}"
    )

"""
## Feature cosines, side by side

For every pair of test images, the cosine of their features: same-class pairs
in one histogram, different-class pairs in the other. With OPL the
different-class cosines gather around 0 and the same-class ones move towards
1. The figure and the `features/s` curve logged by the monitor are saved to
the output folder.
"""

figure = Figure(figsize=(15, 4), layout="constrained")
axes = figure.subplots(1, 3)
for ax, (name, (_, history)) in zip(axes, results.items(), strict=False):
    features = predictions[name]["features"]
    keras_ortho.plots.plot_cosine_histograms(features, y_test, ax=ax, title=name)
    axes[2].plot(history.history["features/s"], marker="o", label=f"{name}: s")
    axes[2].plot(history.history["features/d"], marker="x", label=f"{name}: d")
axes[2].set(xlabel="epoch", ylabel="mean cosine", title="Held-out features in fit")
axes[2].legend()
path = os.path.join(args.output_dir, "feature_losses.png")
figure.savefig(path)
print(f"\nSaved {path}")

"""
## What to take away

- A feature loss is one more entry in the `loss` dict of `compile`; the
  model only needs its features as an output (`with_features`).
- `OrthogonalityMonitor` follows the feature geometry during `fit` at no cost
  to the training step.
- The same recipe works with `keras_ortho.losses.OrthogonalSphereLoss`, or with
  your own network: `with_features(model)` takes the input of its last `Dense`
  layer, or the layer you name with `feature_layer=`.
"""
