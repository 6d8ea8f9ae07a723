"""A classifier head whose class vectors are drawn at random and kept fixed."""

import numbers
import random

import keras
from keras import ops

from keras_ortho._export import register_serializable
from keras_ortho._ops import l2_normalize
from keras_ortho._validation import validate_bool
from keras_ortho._validation import validate_choice
from keras_ortho._validation import validate_int
from keras_ortho._validation import validate_positive_float
from keras_ortho.layers._class_vectors import INITS
from keras_ortho.layers._class_vectors import class_vectors

LOGITS = ("dot", "cosine")
LEARNED = "learned"
# Hoffer et al.'s `Proj` head starts its learned scale at 10.
DEFAULT_INITIAL_SCALE = 10.0
# Seeds drawn for `seed=None` stay within the non-negative int32 range, which
# every JSON reader and `numpy.random.default_rng` accept.
_SEED_BOUND = 2**31


def _validate_scale(scale, logits):
    if logits == "dot":
        if scale is not None:
            raise ValueError(
                'Invalid value for argument `scale`: `logits="dot"` takes no '
                "scale (the feature norm acts as the temperature); pass "
                f'`logits="cosine"` to scale cosines. Received: scale={scale!r}'
            )
        return None
    if scale == LEARNED:
        return scale
    if scale is None or not isinstance(scale, numbers.Real):
        raise ValueError(
            'Invalid value for argument `scale`: `logits="cosine"` needs a '
            f'finite number > 0 or "{LEARNED}". Received: scale={scale!r}'
        )
    return validate_positive_float(scale, "scale")


def _validate_initial_scale(initial_scale, scale):
    if scale != LEARNED:
        if initial_scale is not None:
            raise ValueError(
                "Invalid value for argument `initial_scale`: it sets where a "
                f'learned scale starts and needs `scale="{LEARNED}"`. Received: '
                f"initial_scale={initial_scale!r} with scale={scale!r}"
            )
        return None
    if initial_scale is None:
        return DEFAULT_INITIAL_SCALE
    return validate_positive_float(initial_scale, "initial_scale")


@register_serializable
class FixedClassifier(keras.layers.Layer):
    """A classifier head with random class vectors that stay fixed in training.

    `units` unit-norm class vectors `w_c` are drawn once, with NumPy, from
    `seed` and stored as a non-trainable float32 weight `class_vectors` of
    shape `(dim, units)`, which `.keras` files save. The logits of a feature
    `h` in R^dim are

    ```
    logits="dot":     l_c = h . w_c                       (+ b_c)
    logits="cosine":  l_c = s * (h / ||h||) . (w_c / ||w_c||)   (+ b_c)
    ```

    In dot mode the raw feature meets unit class vectors, so
    `l_c = ||h|| cos(h, w_c)` and the feature norm acts as a learned
    temperature. In cosine mode `s` is the fixed number `scale`, or one
    trainable scalar (`scale="learned"`, starting at `initial_scale`), and
    both sides are normalised in every call, in float32.

    Samplers (`init`), all unit-normalised:

    - `"uniform"`: integer coordinates uniform on {-100, ..., 99}, as in the
      public code of Shalev et al.; pairwise cosines are about
      `0 +- 1/sqrt(dim)`.
    - `"normal"`: Gaussian coordinates; the same cosine spread.
    - `"orthogonal"`: exactly orthonormal, Haar-distributed vectors (Hoffer et
      al.); needs `units <= dim`.
    - `"hadamard"`: rows of the Sylvester Hadamard matrix cut to `dim`
      columns, with random column signs (Hoffer et al.); needs
      `units <= dim`. They are exactly orthogonal when `units` is at most the
      largest power of two dividing `dim` (so for any power-of-two
      `dim >= units`); otherwise they are Hoffer et al.'s truncated rows,
      nearly orthogonal, and `build` warns with their largest |cosine|.
    - `"simplex_etf"`: a simplex equiangular tight frame
      `sqrt(K/(K-1)) P (I - 11^T/K)` on a Haar-random orthonormal basis `P`,
      pairwise cosine exactly `-1/(K-1)` for `K = units`; needs
      `units <= dim + 1` (the frame spans `K - 1` dimensions).

    One seed gives bit-identical vectors on every backend. Keras optimizers
    apply `weight_decay` to trainable variables only, so the fixed vectors are
    untouched by it; `trainable_vectors=True` gives the learned baseline from
    the same initialisation. The vectors stay float32 under mixed precision
    and are cast to the compute dtype for the matmul.

    Args:
        units: the number of classes, an integer >= 2.
        init: the sampler: `"uniform"` (default), `"normal"`, `"orthogonal"`,
            `"hadamard"` or `"simplex_etf"`.
        logits: `"dot"` (default) or `"cosine"`.
        scale: cosine mode only, and required there: a fixed number > 0, or
            `"learned"` for one trainable scalar.
        initial_scale: where a learned scale starts; only with
            `scale="learned"`, default 10 (Hoffer et al.'s `Proj`).
        use_bias: add a trainable bias, initialised at zero. Default False:
            the reference code's bias is a constant shared by all classes,
            which cancels in the softmax.
        trainable_vectors: train the class vectors too (the learned
            baseline). Default False. The layer's own `trainable` keeps its
            Keras meaning (freeze every weight of the layer).
        seed: a non-negative integer. `None` draws one at construction from
            Python's global RNG (which `keras.utils.set_random_seed` seeds)
            and records it in `get_config`, so a layer rebuilt from its config
            draws the same vectors.
        **kwargs: base layer arguments (`name`, `dtype`, ...).

    Input shape:
        `(..., dim)`, with `dim` known.

    Output shape:
        `(..., units)`: the logits, in the compute dtype.

    Example:

    ```python
    # In place of keras.layers.Dense(10) on top of a pooled feature:
    head = keras_ortho.layers.FixedClassifier(10, seed=0)
    cosine_head = keras_ortho.layers.FixedClassifier(
        10, init="simplex_etf", logits="cosine", scale=16.0, seed=0
    )
    ```

    Reference:
        G. Shalev, G.-L. Shalev, J. Keshet, "Redesigning the classification
        layer by randomizing the class representation vectors",
        arXiv:2011.08704 (2020); `"uniform"` with `logits="dot"` or
        `"cosine"` matches MLSpeech/FixedClassificationLayer (`run_stl.py`)
        without its constant bias. E. Hoffer, I. Hubara, D. Soudry, "Fix your
        classifier: the marginal value of training the last weight layer",
        ICLR 2018 (`"orthogonal"`, `"hadamard"`, learned scale; their
        `fixed_proj.py` also normalises the feature). Simplex ETF: Z. Zhu et
        al., NeurIPS 2021; Y. Yang et al., NeurIPS 2022.
    """

    def __init__(
        self,
        units,
        init="uniform",
        logits="dot",
        scale=None,
        initial_scale=None,
        use_bias=False,
        trainable_vectors=False,
        seed=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = validate_int(units, "units", minimum=2)
        self.init = validate_choice(init, "init", INITS)
        self.logits = validate_choice(logits, "logits", LOGITS)
        self.scale = _validate_scale(scale, self.logits)
        self.initial_scale = _validate_initial_scale(initial_scale, self.scale)
        self.use_bias = validate_bool(use_bias, "use_bias")
        self.trainable_vectors = validate_bool(trainable_vectors, "trainable_vectors")
        if seed is None:
            seed = random.randrange(_SEED_BOUND)
        self.seed = validate_int(seed, "seed", minimum=0)

    def build(self, input_shape):
        dim = input_shape[-1]
        if dim is None:
            raise ValueError(
                "FixedClassifier needs the last input dimension to be known. "
                f"Received: input_shape={input_shape}"
            )
        vectors = class_vectors(self.init, dim, self.units, self.seed)
        self.class_vectors = self.add_weight(
            name="class_vectors",
            shape=(dim, self.units),
            initializer=lambda shape, dtype: ops.convert_to_tensor(vectors, dtype),
            dtype="float32",
            trainable=self.trainable_vectors,
        )
        self.learned_scale = None
        if self.scale == LEARNED:
            self.learned_scale = self.add_weight(
                name="scale",
                shape=(),
                initializer=keras.initializers.Constant(self.initial_scale),
            )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias", shape=(self.units,), initializer="zeros"
            )
        self.input_spec = keras.InputSpec(min_ndim=2, axes={-1: dim})

    def call(self, inputs):
        if self.logits == "dot":
            outputs = ops.matmul(
                inputs, ops.cast(self.class_vectors, self.compute_dtype)
            )
        else:
            # Norms are reduced in float32: a float16 sum of squares overflows
            # once ||h|| exceeds 256.
            features = l2_normalize(ops.cast(inputs, "float32"), axis=-1)
            vectors = l2_normalize(ops.cast(self.class_vectors, "float32"), axis=0)
            cosines = ops.matmul(
                ops.cast(features, self.compute_dtype),
                ops.cast(vectors, self.compute_dtype),
            )
            scale = self.scale if self.learned_scale is None else self.learned_scale
            outputs = ops.multiply(cosines, ops.cast(scale, self.compute_dtype))
        if self.bias is not None:
            outputs = ops.add(outputs, ops.cast(self.bias, self.compute_dtype))
        return outputs

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "init": self.init,
            "logits": self.logits,
            "scale": self.scale,
            "initial_scale": self.initial_scale,
            "use_bias": self.use_bias,
            "trainable_vectors": self.trainable_vectors,
            "seed": self.seed,
        }
