"""Training batches, and random augmentation, that depend only on the seed and
the epoch, so that a run resumed by `keras.callbacks.BackupAndRestore` sees
the same batches and the same random draws as an uninterrupted one."""

import keras
import numpy as np

from keras_ortho._model_graph import walk_layers

# Separates the mixing draws' random streams from the batch order's
# `(seed, epoch)` and the seed generators' `(seed, epoch, index)`.
_MIXING_STREAM = 1


class EpochShuffledBatches(keras.utils.PyDataset):
    """Batches of `(images, targets(labels))` in a fresh seeded order per epoch.

    Keras' own shuffling draws from a global random state that a resumed run
    does not restore; here epoch `e` uses the permutation of
    `numpy.random.default_rng((seed, e))`, set by `EpochSeeding` at the start
    of each epoch. The last partial batch is dropped, so every step has the same
    shape and is compiled once.

    With a `SampleMixing`, batch `b` of epoch `e` is instead
    `(draw.model_inputs(images), draw.soft_labels(labels, num_classes))`, the
    draw made with `default_rng((seed, 1, e, b))`.
    """

    def __init__(
        self,
        images,
        labels,
        batch_size,
        seed,
        targets,
        max_batches=None,
        mixing=None,
        num_classes=None,
    ):
        super().__init__()
        self.images = images
        self.labels = labels
        self.batch_size = min(batch_size, len(images))
        self.seed = seed
        self.targets = targets
        self.mixing = mixing
        self.num_classes = num_classes
        self.batch_count = len(images) // self.batch_size
        if max_batches is not None:
            self.batch_count = min(self.batch_count, max_batches)
        self.set_epoch(0)

    def set_epoch(self, epoch):
        self.epoch = epoch
        self.order = np.random.default_rng((self.seed, epoch)).permutation(
            len(self.images)
        )

    def __len__(self):
        return self.batch_count

    def __getitem__(self, index):
        rows = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        images, labels = self.images[rows], self.labels[rows]
        if self.mixing is None:
            return images, self.targets(labels)
        rng = np.random.default_rng((self.seed, _MIXING_STREAM, self.epoch, index))
        draw = self.mixing.draw(rng, len(rows), *images.shape[1:3])
        return draw.model_inputs(images), draw.soft_labels(labels, self.num_classes)


def _seed_generators(model):
    """Every `keras.random.SeedGenerator` held by a layer of `model` (Dropout,
    random augmentation), nested layers included, in walk order."""
    return [
        value
        for layer in walk_layers(model)
        for value in vars(layer).values()
        if isinstance(value, keras.random.SeedGenerator)
    ]


class EpochSeeding(keras.callbacks.Callback):
    """At the start of every epoch, including the first epoch of a resumed
    run, sets the order of `batches` and restarts each random layer's seed
    generator from a state derived from `(seed, epoch, index)`.

    `BackupAndRestore` saves weights and optimizer state but not the states of
    seed generators, so a resumed run would otherwise draw other crops, flips
    and dropout masks than an uninterrupted one.
    """

    def __init__(self, batches, seed):
        super().__init__()
        self.batches = batches
        self.seed = seed

    def on_epoch_begin(self, epoch, logs=None):
        self.batches.set_epoch(epoch)
        for index, generator in enumerate(_seed_generators(self.model)):
            rng = np.random.default_rng((self.seed, epoch, index))
            state = np.array([rng.integers(2**31), 0])
            generator.state.assign(state.astype(generator.state.dtype))


class ValidationBatches(keras.utils.PyDataset):
    """The validation arrays in consecutive batches of `batch_size` (the
    last one partial), as `fit` would batch them: the form in which each
    process of a multi-process run takes its share."""

    def __init__(self, data, batch_size):
        super().__init__()
        self.data = data
        self.batch_size = batch_size
        self.size = len(keras.tree.flatten(data)[0])

    def __len__(self):
        return -(-self.size // self.batch_size)

    def __getitem__(self, index):
        rows = slice(index * self.batch_size, (index + 1) * self.batch_size)
        return keras.tree.map_structure(lambda array: array[rows], self.data)
