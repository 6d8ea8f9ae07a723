"""
Title: Orthogonal kernels on your own network and on keras.applications
Author: keras_ortho
Date created: 2026/12/01
Last modified: 2026/12/01
Description: Pass orthogonality regularizers as `kernel_regularizer=`, attach them to a
    built `keras.applications` model, schedule their factor during `fit`, and plot how
    far each layer's filters are from orthogonal before and after training.
Accelerator: CPU (a few minutes on the committed CIFAR-10 subset), GPU for full datasets
"""

"""
## Introduction

A kernel orthogonality regularizer penalises the distance of a layer's filters
from an orthonormal set. With `W` the kernel read as a matrix with one column
per output filter (a `k x k x c_in` convolution filter is one column of length
`k * k * c_in`), soft orthogonality (SO) adds

```
factor * ||W^T W - I||_F^2
```

to the loss, and SRIP (Bansal et al., NeurIPS 2018) adds `factor` times the
spectral norm of `W^T W - I`. Both are `keras.regularizers.Regularizer`s, so
they go where Keras takes one:

1. `kernel_regularizer=` on the layers of a network you write;
2. `keras_ortho.regularizers.attach` on a model that is already built, such
   as a `keras.applications` network;
3. `keras_ortho.callbacks.RegularizerSchedule` changes their factor between
   epochs;
4. `keras_ortho.diagnostics.filter_orthogonality` measures every kernel, which we
   plot per layer before and after training.

On a GPU, train on a full dataset:

```
python examples/kernel_regularizers.py --dataset cifar100 --epochs 200
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

parser = argparse.ArgumentParser(description="Orthogonal kernel regularizers.")
parser.add_argument("--dataset", default="cifar10_subset")
parser.add_argument("--data-dir", default=None)
parser.add_argument("--epochs", type=int, default=8)
parser.add_argument("--width", type=int, default=32, help="filters of the first conv")
parser.add_argument("--batch-size", type=int, default=128)
parser.add_argument(
    "--output-dir", default=os.path.join(tempfile.gettempdir(), "keras_ortho")
)
args = parser.parse_args()

# `KERAS_ORTHO_EXAMPLE_SIZE=toy` shrinks everything so that the test suite can
# run this file in seconds; the code path stays the same.
if os.environ.get("KERAS_ORTHO_EXAMPLE_SIZE") == "toy":
    args.epochs, args.width, args.batch_size = 1, 8, 20
    # Every 250th training and 40th test image: 20 (one batch) and 25, of
    # every class. One batch shape per model: XLA compiles each step once.
    train_every, test_every = 250, 40
else:
    train_every = test_every = 1
os.makedirs(args.output_dir, exist_ok=True)
keras.utils.set_random_seed(0)

data = keras_ortho.data.load_dataset(args.dataset, data_dir=args.data_dir)
x_train, y_train = data.x_train[::train_every], data.y_train[::train_every]
x_test, y_test = data.x_test[::test_every], data.y_test[::test_every]
print(data)

"""
## 1. Your own network: `kernel_regularizer=`

A small VGG-style network. The convolutions get soft orthogonality; the
classifier head is left free. One regularizer object can be shared by several
layers: keras_ortho regularizers hold no state but their `factor`.
"""


def small_convnet(kernel_regularizer=None):
    inputs = keras.Input(x_train.shape[1:], dtype="uint8")
    x = keras.layers.Rescaling(1 / 255)(inputs)
    for stage, filters in enumerate((args.width, 2 * args.width, 4 * args.width)):
        for block in (1, 2):
            x = keras.layers.Conv2D(
                filters,
                3,
                padding="same",
                use_bias=False,
                kernel_regularizer=kernel_regularizer,
                name=f"conv{stage + 1}_{block}",
            )(x)
            x = keras.layers.BatchNormalization()(x)
            x = keras.layers.ReLU()(x)
        x = keras.layers.MaxPooling2D()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(data.num_classes, name="head")(x)
    return keras.Model(inputs, outputs)


def compile_and_fit(model, learning_rate=0.05, callbacks=()):
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate, momentum=0.9),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    model.fit(
        x_train,
        y_train,
        batch_size=args.batch_size,
        epochs=args.epochs,
        callbacks=list(callbacks),
        verbose=2,
    )
    _, accuracy = model.evaluate(x_test, y_test, verbose=0)
    return accuracy


"""
`filter_orthogonality` returns one record per kernel; `so_residual` is
`||W^T W - I||_F^2`, the quantity SO penalises. We record it at
initialisation (the same seed gives both networks the same initial weights).
"""

keras.utils.set_random_seed(1)
plain = small_convnet()
keras.utils.set_random_seed(1)
orthogonal = small_convnet(keras_ortho.regularizers.SoftOrthogonality(1e-3))


def residuals(model):
    return {
        record.layer_name: record.so_residual
        for record in keras_ortho.diagnostics.filter_orthogonality(model)
    }


initial = residuals(plain)
accuracy = {
    "plain": compile_and_fit(plain),
    "SO 1e-3": compile_and_fit(orthogonal),
}

"""
## 2. A `keras.applications` model: `attach`

Library and pretrained models are built without kernel regularizers.
`attach` walks a built model, nested models included, and gives every Dense
and convolution kernel (depthwise ones too, read in their own layout) a copy
of the regularizer. Here: VGG16 built for 32x32 images, from scratch
(`weights=None`: nothing is downloaded), its pooled features followed by a new
`Dense` head, with SRIP on every kernel. Without batch normalization, VGG16
trains from scratch with a lower learning rate.

SRIP's paper lowers the factor during training: `RegularizerSchedule.srip()`
is its 200-epoch CIFAR schedule (x1, then x1e-3 from epoch 20, ...). For a
short run, any `schedule(epoch, initial_factor)` will do; we halve the factor
every epoch. The callback logs the current factor as `ortho_factor`.
"""

backbone = keras.applications.VGG16(
    include_top=False, weights=None, input_shape=x_train.shape[1:], pooling="avg"
)
inputs = keras.Input(x_train.shape[1:], dtype="uint8")
x = backbone(keras.layers.Rescaling(1 / 255)(inputs))
vgg = keras.Model(inputs, keras.layers.Dense(data.num_classes, name="head")(x))
vgg_initial = residuals(vgg)
attached = keras_ortho.regularizers.attach(vgg, keras_ortho.regularizers.SRIP(1e-2))
print(f"SRIP attached to {len(attached)} kernels, e.g. {attached[:3]}")
schedule = keras_ortho.callbacks.RegularizerSchedule(
    lambda epoch, initial_factor: initial_factor * 0.5**epoch, verbose=1
)
accuracy["VGG16 + SRIP"] = compile_and_fit(
    vgg, learning_rate=0.01, callbacks=[schedule]
)

for name, value in accuracy.items():
    print(f"{name:<20} test accuracy {value:.3f}")

"""
## 3. The filter-Gram residual, per layer

Left: the convolutions of our network at initialisation, then trained without
and with SO. Right: every kernel of VGG16 (and its new head) before and after
training with SRIP. The residual is on a log scale.
"""

figure = Figure(figsize=(14, 4.5), layout="constrained")
left, right = figure.subplots(1, 2)
layer_names = list(initial)
positions = np.arange(len(layer_names))
for offset, (label, values) in zip(
    (-0.27, 0.0, 0.27),
    [
        ("initialisation", initial),
        ("trained, plain", residuals(plain)),
        ("trained, SO", residuals(orthogonal)),
    ],
    strict=True,
):
    left.bar(positions + offset, [values[n] for n in layer_names], 0.27, label=label)
left.set_xticks(positions, layer_names, rotation=60, ha="right", fontsize=7)
left.set(yscale="log", ylabel="||W^T W - I||_F^2", title="Your network")
left.legend()
right.plot(list(vgg_initial.values()), marker="o", label="initialisation")
right.plot(list(residuals(vgg).values()), marker="o", label="trained, SRIP")
right.set(
    yscale="log",
    xlabel="kernel, in layer order",
    ylabel="||W^T W - I||_F^2",
    title="VGG16 (attach)",
)
right.legend()
path = os.path.join(args.output_dir, "kernel_regularizers.png")
figure.savefig(path)
print(f"Saved {path}")

"""
## What to take away

- `kernel_regularizer=keras_ortho.regularizers.SoftOrthogonality(...)` (or
  `SRIP`, `MutualCoherence`, `OrthogonalConvolution`, ...) works on any Keras
  layer with a kernel; the regularizer reads the kernel's layout itself.
- `attach` does the same for a model you did not write; a Functional model
  keeps the regularizers through `model.save` and `keras.models.load_model`.
- `RegularizerSchedule` changes the factor between epochs, resumes exactly,
  and costs nothing in epochs where the factor stays the same.
"""
