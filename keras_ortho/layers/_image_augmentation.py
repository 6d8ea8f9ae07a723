"""The base of the per-sample image augmentation layers."""

import keras

from keras_ortho._validation import validate_int


class ImageAugmentation(keras.layers.Layer):
    """Applies `augment(images)` when `training=True`, the identity otherwise.

    Images are a channels-last batch `(batch, height, width, channels)`.
    Float images are cast to the layer's compute dtype, as every Keras layer
    does, and integer images keep their dtype (uint8 stays uint8, to be
    normalised after augmentation); the output has that dtype and the input's
    shape. Random draws come from a `keras.random.SeedGenerator` attribute,
    so they advance on every step, also inside a compiled `fit`.

    Subclasses implement `augment(images)`, with the batch size read from
    `keras.ops.shape(images)[0]`.
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = None if seed is None else validate_int(seed, "seed", minimum=0)
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(
                f"{type(self).__name__} expects a batch of channels-last images "
                "(batch, height, width, channels). Received input shape "
                f"{tuple(input_shape)}"
            )

    def call(self, images, training=False):
        if not training:
            return images
        return self.augment(images)

    def augment(self, images):
        raise NotImplementedError(
            f"{type(self).__name__} must implement `augment(images)`."
        )

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_output_spec(self, images, *args, **kwargs):
        # Keras' default spec, built from `compute_output_shape`, would give
        # the compute dtype even to uint8 images.
        return keras.KerasTensor(images.shape, dtype=images.dtype)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}
