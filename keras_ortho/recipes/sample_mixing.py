"""MixUp and CutMix: the random draws on the host, the pixels on the device.

Mixing two samples changes their label, which a layer inside the model cannot
do, and `keras.layers.MixUp`/`CutMix` draw from a Beta distribution whose
gamma sampler has no XLA kernel on TensorFlow. So the work is split: per
batch, `SampleMixing.draw` picks the partners, the mixing weight and the
CutMix box with NumPy and computes the soft labels;
`keras_ortho.layers.MixWithPartners`, the last augmentation layer of the
training model, blends the (already cropped and flipped) images with those
inputs inside the compiled step. The draws
depend only on the generator they are given, so they are the same on every
backend, and a resumed run repeats them.
"""

import dataclasses
import math
from typing import NamedTuple

import keras
import numpy as np

from keras_ortho._validation import validate_float_in_range
from keras_ortho._validation import validate_non_negative_float

PARTNERS = "mix_partners"
IMAGE_WEIGHTS = "mix_image_weights"
BOXES = "mix_boxes"


class MixingDraw(NamedTuple):
    """The mixing of one batch of `n` images.

    Image `i` becomes `w_i x_i + (1 - w_i) x_{p_i}` outside its box and
    `x_{p_i}` inside it; its label becomes `l_i onehot(y_i) + (1 - l_i)
    onehot(y_{p_i})`.

    Attributes:
        partners: `p`, int32 `(n,)`, the partner of each image in the batch.
        image_weights: `w`, float32 `(n,)`.
        boxes: int32 `(n, 4)`, `(top, left, bottom, right)` with the bottom
            and right edges excluded; an empty box pastes nothing.
        label_weights: `l`, float32 `(n,)`, the share of the image's own
            label.
    """

    partners: np.ndarray
    image_weights: np.ndarray
    boxes: np.ndarray
    label_weights: np.ndarray

    @classmethod
    def identity(cls, batch_size):
        """The draw that leaves every image and label as it is."""
        return cls(
            np.arange(batch_size, dtype=np.int32),
            np.ones(batch_size, np.float32),
            np.zeros((batch_size, 4), np.int32),
            np.ones(batch_size, np.float32),
        )

    @staticmethod
    def symbolic_inputs():
        """The `keras.Input`s a model takes a draw through, keyed and named as
        `model_inputs` keys the arrays, in `MixWithPartners`' order."""
        return {
            PARTNERS: keras.Input((), dtype="int32", name=PARTNERS),
            IMAGE_WEIGHTS: keras.Input((), dtype="float32", name=IMAGE_WEIGHTS),
            BOXES: keras.Input((4,), dtype="int32", name=BOXES),
        }

    def model_inputs(self, images):
        """The training model's inputs: `images` and this draw."""
        return {
            "images": images,
            PARTNERS: self.partners,
            IMAGE_WEIGHTS: self.image_weights,
            BOXES: self.boxes,
        }

    def soft_labels(self, labels, num_classes):
        """The mixed one-hot labels, float32 `(n, num_classes)`."""
        own = np.eye(num_classes, dtype=np.float32)[labels]
        weights = self.label_weights[:, None]
        return weights * own + (1 - weights) * own[self.partners]


@dataclasses.dataclass(frozen=True)
class SampleMixing:
    """Which batches are mixed, and how: MixUp, CutMix, or one of the two.

    A batch is mixed with probability `probability`. A mixed batch uses MixUp
    if only `mixup_alpha > 0`, CutMix if only `cutmix_alpha > 0`, and either
    with probability 1/2 if both are (timm's `switch_prob`). As in both
    reference codes, one weight and one box are drawn per batch and the
    partners are a random permutation of the batch:

    - MixUp: `lam ~ Beta(mixup_alpha, mixup_alpha)`; the image is
      `lam x_i + (1 - lam) x_p` and the label weight is `lam`.
    - CutMix: `lam ~ Beta(cutmix_alpha, cutmix_alpha)`; a box of side
      `floor(H sqrt(1 - lam))` by `floor(W sqrt(1 - lam))` centred at a
      uniformly drawn pixel, clipped to the image, is pasted from the partner,
      and the label weight is the image's own area left,
      `1 - box area / (H W)`.

    Training on the soft labels with cross-entropy is exactly the references'
    `lam * CE(y_i) + (1 - lam) * CE(y_p)`, since cross-entropy is linear in
    its target.

    Attributes:
        mixup_alpha: MixUp's Beta parameter; 0 turns MixUp off. Zhang et al.
            use 1 on CIFAR.
        cutmix_alpha: CutMix's Beta parameter; 0 turns CutMix off. Yun et al.
            use 1 on CIFAR.
        probability: the probability that a batch is mixed, in (0, 1] (the
            CutMix code's `cutmix_prob`, 0.5 in its CIFAR commands).

    Example:

    ```python
    mixing = keras_ortho.recipes.SampleMixing(cutmix_alpha=1.0, probability=0.5)
    draw = mixing.draw(np.random.default_rng(0), 128, 32, 32)
    labels = np.random.randint(0, 10, 128)
    soft_labels = draw.soft_labels(labels, num_classes=10)
    ```

    Reference:
        H. Zhang et al., "mixup: Beyond Empirical Risk Minimization", ICLR
        2018 (the `mixup_data`/`mixup_criterion` of its CIFAR code);
        S. Yun et al., "CutMix: Regularization Strategy to Train Strong
        Classifiers with Localizable Features", ICCV 2019 (the `rand_bbox`
        box and area-adjusted weight of its code).
    """

    mixup_alpha: float = 0.0
    cutmix_alpha: float = 0.0
    probability: float = 1.0

    def __post_init__(self):
        mixup_alpha = validate_non_negative_float(self.mixup_alpha, "mixup_alpha")
        cutmix_alpha = validate_non_negative_float(self.cutmix_alpha, "cutmix_alpha")
        probability = validate_float_in_range(
            self.probability, "probability", 0, 1, include_minimum=False
        )
        if not (mixup_alpha or cutmix_alpha):
            raise ValueError(
                "SampleMixing needs `mixup_alpha > 0` or `cutmix_alpha > 0`. "
                f"Received: mixup_alpha={self.mixup_alpha!r}, "
                f"cutmix_alpha={self.cutmix_alpha!r}"
            )
        object.__setattr__(self, "mixup_alpha", mixup_alpha)
        object.__setattr__(self, "cutmix_alpha", cutmix_alpha)
        object.__setattr__(self, "probability", probability)

    def draw(self, rng, batch_size, height, width):
        """The mixing of one batch.

        Args:
            rng: a `numpy.random.Generator`.
            batch_size: the number of images.
            height: the images' height.
            width: the images' width.

        Returns:
            A `MixingDraw`.
        """
        if rng.random() >= self.probability:
            return MixingDraw.identity(batch_size)
        use_cutmix = bool(self.cutmix_alpha)
        if self.mixup_alpha and self.cutmix_alpha:
            use_cutmix = rng.random() < 0.5
        partners = rng.permutation(batch_size).astype(np.int32)
        if not use_cutmix:
            lam = rng.beta(self.mixup_alpha, self.mixup_alpha)
            return MixingDraw(
                partners,
                np.full(batch_size, lam, np.float32),
                np.zeros((batch_size, 4), np.int32),
                np.full(batch_size, lam, np.float32),
            )
        lam = rng.beta(self.cutmix_alpha, self.cutmix_alpha)
        side = math.sqrt(1.0 - lam)
        cut_height, cut_width = int(height * side), int(width * side)
        centre_y, centre_x = rng.integers(height), rng.integers(width)
        top, bottom = np.clip(
            [centre_y - cut_height // 2, centre_y + cut_height // 2], 0, height
        )
        left, right = np.clip(
            [centre_x - cut_width // 2, centre_x + cut_width // 2], 0, width
        )
        own_share = 1.0 - (bottom - top) * (right - left) / (height * width)
        return MixingDraw(
            partners,
            np.ones(batch_size, np.float32),
            np.tile(np.array([top, left, bottom, right], np.int32), (batch_size, 1)),
            np.full(batch_size, own_share, np.float32),
        )
