"""
Title: Fine-tuning a keras-hub backbone with OPL and soft orthogonality
Author: keras_ortho
Date created: 2026/12/01
Last modified: 2026/12/01
Description: Put a classifier on a keras-hub image backbone, find its feature layer,
    add the Orthogonal Projection Loss, and regularize the backbone's kernels with a
    lower factor than the new head's.
Accelerator: CPU (a few minutes on the committed CIFAR-10 subset), GPU for full datasets
"""

"""
## Introduction

keras-hub backbones are Keras models, so everything in keras_ortho applies to
them. This example shows the three decisions a fine-tuning run makes:

1. **Where the features are.** A backbone returns a feature map; the
   classifier pools it and maps it to logits with a `Dense` head. The pooled
   vector is what OPL should shape, and `keras_ortho.models.with_features`
   finds it as the input of the last `Dense` layer.
2. **Which kernels to regularize.** `keras_ortho.regularizers.attach` walks
   the whole model, into the backbone's blocks; its `layers=` argument
   selects a part.
3. **How strongly.** Pretrained kernels already encode what the backbone
   learned: pull them towards orthogonality gently (a small factor), and the
   new, randomly initialised head harder.

To stay offline, the backbone is built from its config, with random weights.
With internet access, `keras_hub.models.ResNetBackbone.from_preset(...)` loads
pretrained weights instead; the rest of the code is the same. On a GPU:

```
python examples/fine_tune_keras_hub.py --dataset cifar100 --epochs 30
```
"""

"""
## Setup
"""

import argparse
import os
import tempfile

import keras
import keras_hub
from matplotlib.figure import Figure

import keras_ortho

parser = argparse.ArgumentParser(description="Fine-tune a keras-hub backbone.")
parser.add_argument("--dataset", default="cifar10_subset")
parser.add_argument("--data-dir", default=None)
parser.add_argument("--epochs", type=int, default=6)
parser.add_argument("--batch-size", type=int, default=128)
parser.add_argument(
    "--output-dir", default=os.path.join(tempfile.gettempdir(), "keras_ortho")
)
args = parser.parse_args()

# `KERAS_ORTHO_EXAMPLE_SIZE=toy` shrinks everything so that the test suite can
# run this file in seconds; the code path stays the same.
toy = os.environ.get("KERAS_ORTHO_EXAMPLE_SIZE") == "toy"
if toy:
    args.epochs, args.batch_size = 1, 20
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
## The backbone, from its config

A small basic-block ResNet (ResNet-18's blocks, fewer stages).
"""

backbone = keras_hub.models.ResNetBackbone(
    input_conv_filters=[64],
    input_conv_kernel_sizes=[3],
    stackwise_num_filters=[64, 128] if toy else [64, 128, 256],
    stackwise_num_blocks=[1, 1] if toy else [2, 2, 2],
    stackwise_num_strides=[1, 2] if toy else [1, 2, 2],
    block_type="basic_block",
    image_shape=x_train.shape[1:],
)
print(f"{backbone.name}: {backbone.count_params():,} parameters")
print("its last layers:", [layer.name for layer in backbone.layers[-3:]])
print("its output:", backbone.output.shape)

"""
## The classifier and its feature layer

Pixels go in as uint8 and are scaled to [0, 1]; the feature map is pooled
into a vector, and a new `Dense` head gives the logits. `with_features`
exposes the head's input, the pooled vector, as the `"features"` output.
"""

images = keras.Input(x_train.shape[1:], dtype="uint8")
x = keras.layers.Rescaling(1 / 255)(images)
x = keras_ortho.layers.RandomHorizontalFlip()(x)
x = backbone(x)
x = keras.layers.GlobalAveragePooling2D(name="pooled")(x)
logits = keras.layers.Dense(data.num_classes, name="head")(x)
classifier = keras.Model(images, logits)
model = keras_ortho.models.with_features(classifier)
print("features:", model.outputs)

"""
## Which kernels, and how strongly

`attach` returns what it regularized. The backbone gets soft orthogonality
with factor 1e-5, the head with 1e-3: a hundred times weaker on the part that
would be pretrained. `layers=` takes layer names, layer objects, or a
predicate; naming the nested backbone selects every kernel inside it.
"""

backbone_kernels = keras_ortho.regularizers.attach(
    classifier, keras_ortho.regularizers.SoftOrthogonality(1e-5), layers=[backbone]
)
head_kernels = keras_ortho.regularizers.attach(
    classifier, keras_ortho.regularizers.SoftOrthogonality(1e-3), layers=["head"]
)
print(f"{len(backbone_kernels)} backbone kernels, e.g. {backbone_kernels[:2]}")
print(f"{len(head_kernels)} head kernel: {head_kernels}")

"""
## Training with OPL

As in the feature-losses example: one loss per output. A lower learning rate
than from scratch suits fine-tuning.
"""

model.compile(
    optimizer=keras.optimizers.SGD(0.02, momentum=0.9),
    loss={
        "logits": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        "features": keras_ortho.losses.OrthogonalProjectionLoss(gamma=0.5),
    },
    metrics={"logits": ["accuracy"]},
)
monitor = keras_ortho.callbacks.OrthogonalityMonitor(
    data=(x_test[::2], y_test[::2]), feature_layer="pooled", per_layer=False
)
history = model.fit(
    x_train,
    keras_ortho.models.feature_targets(y_train),
    batch_size=args.batch_size,
    epochs=args.epochs,
    callbacks=[monitor],
    verbose=2,
)
outputs = model.predict(x_test, batch_size=256, verbose=0)
ece = keras_ortho.metrics.expected_calibration_error(
    y_test, outputs["logits"], from_logits=True
)
accuracy = (outputs["logits"].argmax(axis=-1) == y_test).mean()
print(f"test accuracy {accuracy:.3f}, ECE {ece:.3f}")

"""
## The picture

The held-out feature cosines after fine-tuning, and the mean filter-Gram
residual of the regularized kernels during training.
"""

figure = Figure(figsize=(11, 4), layout="constrained")
left, right = figure.subplots(1, 2)
keras_ortho.plots.plot_cosine_histograms(
    outputs["features"], y_test, ax=left, title="Test feature cosines"
)
right.plot(history.history["ortho/mean/so_residual"], marker="o")
right.set(xlabel="epoch", ylabel="mean ||W^T W - I||_F^2", title="Kernels")
path = os.path.join(args.output_dir, "fine_tune_keras_hub.png")
figure.savefig(path)
print(f"Saved {path}")

"""
## What to take away

- A keras-hub backbone nests like any Keras model: pool its output, add a
  head, and `with_features` finds the features at the head's input.
- `attach(..., layers=[backbone])` and `layers=["head"]` give each part its
  own factor.
- A model whose regularizers sit inside a keras-hub backbone cannot keep them
  in a `.keras` file (the backbone saves its constructor arguments only):
  save the weights, rebuild, and `attach` again.
"""
