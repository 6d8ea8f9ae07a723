"""Training-step time of a CIFAR ResNet with an optional augmentation, over
the time with the recipes' standard pad-4 crop and horizontal flip alone.

Every configuration is the training model a recipe builds: uint8 images,
`RandomPadCrop(4)` and `RandomHorizontalFlip()`, then
`keras_ortho.models.resnet_cifar(depth)` (same initial weights everywhere),
SGD with momentum, the backend's default compilation (XLA on JAX and
TensorFlow; Keras' default `jit_compile="auto"` on torch). Candidates add, in
the recipes' order, `randaugment` (`RandAugment(2, 9)`), `cutout`
(`Cutout(16)`), or `cutmix`/`mixup` (`MixWithPartners` fed by one
`SampleMixing` draw, with the soft labels and `CategoricalCrossentropy`; the
draw itself is made on the host by the data pipeline and is not timed
here). The step is timed as `fit` runs it, in alternating blocks (see
`_timing.py`). No goal: the numbers say what each option costs.

    KERAS_BACKEND=jax python benchmarks/augmentation_overhead.py
    KERAS_BACKEND=jax python benchmarks/augmentation_overhead.py \
        --depth 20 --rounds 2 --steps 3
"""

import argparse

import _timing
import keras
import numpy as np

from keras_ortho import layers
from keras_ortho import models
from keras_ortho.recipes import MixingDraw
from keras_ortho.recipes import SampleMixing

AUGMENTATIONS = ("randaugment", "cutout", "cutmix", "mixup")
MIXINGS = {
    "cutmix": SampleMixing(cutmix_alpha=1.0),
    "mixup": SampleMixing(mixup_alpha=1.0),
}
NUM_CLASSES = 10
IMAGE_SHAPE = (32, 32, 3)


def parse_arguments(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    _timing.add_common_arguments(parser)
    parser.add_argument(
        "--augmentations",
        default=",".join(AUGMENTATIONS),
        type=lambda text: _timing.parse_list(text, AUGMENTATIONS, "--augmentations"),
        help=f"comma-separated candidates of {', '.join(AUGMENTATIONS)} (default all)",
    )
    args = parser.parse_args(argv)
    _timing.validate_arguments(parser, args)
    return args


def training_model(depth, augmentation, jit_compile, weights_from=None):
    images = keras.Input(IMAGE_SHAPE, dtype="uint8", name="images")
    x = layers.RandomHorizontalFlip()(layers.RandomPadCrop(4)(images))
    inputs = images
    if augmentation == "randaugment":
        x = layers.RandAugment(2, 9)(x)
    elif augmentation == "cutout":
        x = layers.Cutout(16)(x)
    elif augmentation in MIXINGS:
        draw = MixingDraw.symbolic_inputs()
        x = layers.MixWithPartners()([x, *draw.values()])
        inputs = {"images": images, **draw}
    classifier = models.resnet_cifar(depth, num_classes=NUM_CLASSES)
    if weights_from is not None:
        _timing.copy_weights(weights_from, classifier)
    model = keras.Model(inputs, classifier(x))
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    if augmentation in MIXINGS:
        loss = keras.losses.CategoricalCrossentropy(from_logits=True)
    model.compile(
        optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
        loss=loss,
        jit_compile=jit_compile,
    )
    return model, classifier


def batch_for(augmentation, images, labels, seed):
    if augmentation not in MIXINGS:
        return images, labels
    rng = np.random.default_rng(seed)
    draw = MIXINGS[augmentation].draw(rng, len(labels), *IMAGE_SHAPE[:2])
    x = {
        name: keras.ops.convert_to_tensor(array)
        for name, array in draw.model_inputs(images).items()
    }
    soft = draw.soft_labels(keras.ops.convert_to_numpy(labels), NUM_CLASSES)
    return x, keras.ops.convert_to_tensor(soft)


def main(argv=None):
    args = parse_arguments(argv)
    keras.utils.set_random_seed(args.seed)
    jit_compile = _timing.jit_compile_setting(args.jit_compile)
    images, labels = _timing.random_batch(args.batch_size, NUM_CLASSES, args.seed)

    print(f"building and compiling ResNet-{args.depth} configurations")
    base, base_classifier = training_model(args.depth, None, jit_compile)
    baseline = _timing.training_step(base, images, labels)
    candidates = {}
    for name in args.augmentations:
        model, _ = training_model(args.depth, name, jit_compile, base_classifier)
        x, y = batch_for(name, images, labels, args.seed)
        candidates[name] = _timing.training_step(model, x, y)
        print(f"  compiled {name}")

    results = _timing.measure_alternating(
        baseline, candidates, args.rounds, args.steps, args.warmup_steps
    )
    title = "Augmentation overhead: step time with the option / with crop + flip"
    _timing.publish(title, args, jit_compile, results, (), None, None)


if __name__ == "__main__":
    main()
