"""The image side of MixUp and CutMix: each image blended with a partner."""

import keras
from keras import ops

from keras_ortho._export import register_serializable


@register_serializable
class MixWithPartners(keras.layers.Layer):
    """Blends each image with a partner image of its batch, inside `fit`.

    Called as `layer([images, partners, image_weights, boxes], training)`
    with the arrays of a `keras_ortho.recipes.MixingDraw`: in training, image
    `i` becomes

    ```
    x_{p_i}                          inside its box (top, left, bottom, right)
    w_i x_i + (1 - w_i) x_{p_i}      elsewhere
    ```

    computed in float32 and returned in the layer's compute dtype (float32
    under the default policy, whatever the images' dtype, since a blend of
    uint8 pixels is fractional). In inference the images pass through, cast
    the same way. One gather and two selects: it compiles with
    `jit_compile=True` on TensorFlow, JAX and PyTorch.

    Args:
        **kwargs: base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Example:

    ```python
    images = np.random.randint(0, 256, (8, 32, 32, 3), dtype="uint8")
    mixing = keras_ortho.recipes.SampleMixing(cutmix_alpha=1.0)
    draw = mixing.draw(np.random.default_rng(0), 8, 32, 32)
    mixed = keras_ortho.layers.MixWithPartners()(
        [images, draw.partners, draw.image_weights, draw.boxes], training=True
    )
    ```

    Reference:
        The image side of MixUp (Zhang et al., ICLR 2018) and CutMix (Yun et
        al., ICCV 2019); `keras_ortho.recipes.SampleMixing` draws the
        parameters.
    """

    def __init__(self, **kwargs):
        # Not autocast: the partners and boxes are integers, and the weights
        # stay float32 whatever the policy.
        super().__init__(autocast=False, **kwargs)

    def call(self, inputs, training=False):
        images, partners, image_weights, boxes = inputs
        images = ops.cast(images, "float32")
        if not training:
            return ops.cast(images, self.compute_dtype)
        partner_images = ops.take(images, ops.cast(partners, "int32"), axis=0)
        _, height, width, _ = ops.shape(images)
        boxes = ops.cast(boxes, "int32")
        rows = ops.arange(height, dtype="int32")[None, :]
        cols = ops.arange(width, dtype="int32")[None, :]
        in_rows = ops.logical_and(rows >= boxes[:, 0:1], rows < boxes[:, 2:3])
        in_cols = ops.logical_and(cols >= boxes[:, 1:2], cols < boxes[:, 3:4])
        in_box = ops.logical_and(in_rows[:, :, None], in_cols[:, None, :])
        weights = ops.cast(image_weights, "float32")[:, None, None, None]
        blended = weights * images + (1 - weights) * partner_images
        mixed = ops.where(in_box[..., None], partner_images, blended)
        return ops.cast(mixed, self.compute_dtype)
