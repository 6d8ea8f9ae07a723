"""Per-sample random horizontal flip."""

import keras
from keras import ops

from keras_ortho._export import register_serializable
from keras_ortho.layers._image_augmentation import ImageAugmentation

if keras.backend.backend() == "torch":
    from keras_ortho import _torch_fast_paths
else:
    _torch_fast_paths = None


@register_serializable
class RandomHorizontalFlip(ImageAugmentation):
    """Mirrors each image left-right with probability 1/2, per sample.

    The identity unless called with `training=True`. Integer images keep
    their dtype; float images come out in the layer's compute dtype.
    Compiles with `jit_compile=True` on TensorFlow, JAX and PyTorch.

    Args:
        seed: an integer >= 0 or None.
        **kwargs: base `keras.layers.Layer` arguments (`name`, ...).

    Example:

    ```python
    images = np.random.randint(0, 256, (8, 32, 32, 3), dtype="uint8")
    flipped = keras_ortho.layers.RandomHorizontalFlip(seed=0)(images, training=True)
    ```

    Reference:
        torchvision's `RandomHorizontalFlip()` of the CIFAR recipes of the
        OPL, SRIP and fixed-classifier code.
    """

    def augment(self, images):
        flip = keras.random.uniform((ops.shape(images)[0],), seed=self.seed_generator)
        if _torch_fast_paths is not None and _torch_fast_paths.is_eager(images):
            return _torch_fast_paths.flip_where(images, flip < 0.5)
        return ops.where(
            (flip < 0.5)[:, None, None, None], ops.flip(images, axis=2), images
        )
