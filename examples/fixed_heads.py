"""
Title: Classifier heads with fixed class vectors
Author: keras_ortho
Date created: 2026/12/01
Last modified: 2026/12/01
Description: Replace the learned Dense head with `FixedClassifier` (random,
    orthogonal or simplex-ETF class vectors), train, and measure the neural collapse
    of the features.
Accelerator: CPU (a few minutes on the committed CIFAR-10 subset), GPU for full datasets
"""

"""
## Introduction

The last layer of a classifier maps a feature `h` to one logit per class,
`l_c = h . w_c`. Its class vectors `w_c` need not be learned: drawn once and
frozen, they cost no parameters and no gradient, and the network learns to
put each class's features along its vector (Hoffer et al., ICLR 2018; Shalev
et al., 2020). Training with a learned head tends to the same geometry on its
own: late in training the features of each class collapse onto their mean,
and the class means spread out as a *simplex equiangular tight frame* (ETF),
all pairwise cosines equal to `-1 / (C - 1)` (neural collapse, Papyan et al.,
PNAS 2020). A fixed simplex-ETF head imposes that end point from the start.

`keras_ortho.layers.FixedClassifier` is a drop-in for `Dense(num_classes)`.
This example trains the same CIFAR ResNet with four heads and measures:

- NC1, `within_class_variability`: the spread of each class around its mean
  against the spread of the means (0 when each class has collapsed);
- NC2, `etf_distance` of the centred class means: 0 for a simplex ETF;
- the ETF distance of the head's class vectors themselves;
- NC3, self-duality: the distance between the normalised class means and the
  normalised class vectors (0 when the features align with their vectors).

On a GPU, train on a full dataset:

```
python examples/fixed_heads.py --dataset cifar100 --epochs 200 --depth 56
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

parser = argparse.ArgumentParser(description="Fixed classifier heads.")
parser.add_argument("--dataset", default="cifar10_subset")
parser.add_argument("--data-dir", default=None)
parser.add_argument("--epochs", type=int, default=10)
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

data = keras_ortho.data.load_dataset(args.dataset, data_dir=args.data_dir)
x_train, y_train = data.x_train[::train_every], data.y_train[::train_every]
x_test, y_test = data.x_test[::test_every], data.y_test[::test_every]
num_classes = data.num_classes
print(data)

"""
## Four heads

`FixedClassifier(units, init=...)` draws `units` unit-norm class vectors from
`seed` and stores them as a non-trainable weight, so a `.keras` file keeps
them. `"uniform"` is the random draw of Shalev et al., `"orthogonal"` an
orthonormal set (Hoffer et al.), `"simplex_etf"` the frame neural collapse
converges to. `resnet_cifar(classifier=...)` puts any head on top of the
pooled features; the features are the output of its layer `"features"`.
"""

heads = {
    "learned Dense": lambda: keras.layers.Dense(num_classes),
    "fixed random": lambda: keras_ortho.layers.FixedClassifier(
        num_classes, init="uniform", seed=0
    ),
    "fixed orthogonal": lambda: keras_ortho.layers.FixedClassifier(
        num_classes, init="orthogonal", seed=0
    ),
    "fixed simplex ETF": lambda: keras_ortho.layers.FixedClassifier(
        num_classes, init="simplex_etf", seed=0
    ),
}


def class_vectors(head):
    """The head's class vectors, one row per class."""
    if isinstance(head, keras_ortho.layers.FixedClassifier):
        return keras.ops.convert_to_numpy(head.class_vectors).T
    return keras.ops.convert_to_numpy(head.kernel).T


def self_duality(means, vectors):
    """NC3: || M / ||M||_F - W / ||W||_F ||_F for class means `M` and class
    vectors `W`, one row per class."""
    return float(
        np.linalg.norm(
            means / np.linalg.norm(means) - vectors / np.linalg.norm(vectors)
        )
    )


"""
## Training and measures

Each model starts from the same weights below the head (one seed) and is
trained with the same schedule. The measures are taken on the training
features, where neural collapse is defined.
"""

augmentation = [
    keras_ortho.layers.RandomPadCrop(4),
    keras_ortho.layers.RandomHorizontalFlip(),
]
results = {}
for name, make_head in heads.items():
    keras.utils.set_random_seed(0)
    head = make_head()
    classifier = keras_ortho.models.resnet_cifar(
        args.depth, num_classes=num_classes, classifier=head
    )
    model = keras.Sequential([keras.Input(x_train.shape[1:], dtype="uint8")])
    for layer in [*augmentation, classifier]:
        model.add(layer)
    model.compile(
        optimizer=keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    head_parameters = sum(int(np.prod(w.shape)) for w in head.trainable_weights)
    print(f"\n{name}: {head_parameters} trainable parameters in the head")
    model.fit(
        x_train, y_train, batch_size=args.batch_size, epochs=args.epochs, verbose=2
    )
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)

    features = keras.Model(classifier.input, classifier.get_layer("features").output)
    train_features = features.predict(x_train, batch_size=256, verbose=0)
    means = keras_ortho.metrics.class_means(train_features, y_train)
    results[name] = {
        "accuracy": accuracy,
        "NC1": keras_ortho.metrics.within_class_variability(train_features, y_train),
        "NC2": keras_ortho.metrics.etf_distance(means),
        "head ETF": keras_ortho.metrics.etf_distance(class_vectors(head)),
        "NC3": self_duality(means, class_vectors(head)),
    }

print(f"\n{'head':<18}" + "".join(f"{key:>10}" for key in results[name]))
for name, measures in results.items():
    print(f"{name:<18}" + "".join(f"{value:10.3f}" for value in measures.values()))

"""
## The picture

One panel per measure, one bar per head. The simplex-ETF head has an ETF
distance of 0 by construction; with it, the class means only have to align
with their vectors (NC3), and not also find the frame (NC2).
"""

figure = Figure(figsize=(16, 3.6), layout="constrained")
axes = figure.subplots(1, 5)
names = list(results)
for ax, measure in zip(axes, results[names[0]], strict=True):
    ax.bar(range(len(names)), [results[n][measure] for n in names], color="C0")
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=8)
    ax.set_title(measure)
path = os.path.join(args.output_dir, "fixed_heads.png")
figure.savefig(path)
print(f"Saved {path}")

"""
## What to take away

- `FixedClassifier` replaces `Dense(num_classes)` anywhere; its vectors are a
  non-trainable weight, saved with the model, identical on every backend.
- `init="simplex_etf"` starts from the geometry that a learned head reaches
  only at the end of long training; `logits="cosine"` with a `scale` (fixed
  or `"learned"`) normalises the features too.
- `keras_ortho.metrics.within_class_variability`, `class_means` and
  `etf_distance` measure neural collapse on any features.
"""
