"""Robustness to feature sub-selection: accuracy of the trained classifier when
only a fraction of the pooled feature dimensions is kept."""

import dataclasses

import numpy as np
from keras import ops

from keras_ortho._export import register_serializable
from keras_ortho._features import feature_matrix
from keras_ortho._features import label_array
from keras_ortho._validation import validate_bool
from keras_ortho._validation import validate_choice
from keras_ortho._validation import validate_float_in_range
from keras_ortho._validation import validate_int

SUBSELECTION_MODES = ("random", "blocks", "activation", "weight")


@dataclasses.dataclass(frozen=True)
class SubselectionCurveResult:
    """Accuracy against the fraction of feature dimensions kept.

    Attributes:
        fractions: float `(F,)`, the requested fractions `p`.
        kept: int `(F,)`, the number of dimensions (or, in `"blocks"` mode,
            blocks) kept for each fraction.
        accuracies: float `(F, R)`, the top-1 accuracy of each of the `R`
            draws (`R = 1` for the ranked modes).
        accuracy_mean: float `(F,)`, the mean over draws.
        accuracy_std: float `(F,)`, the population standard deviation over
            draws.
    """

    fractions: np.ndarray
    kept: np.ndarray
    accuracies: np.ndarray
    accuracy_mean: np.ndarray
    accuracy_std: np.ndarray

    @property
    def area_under_curve(self):
        """The trapezoidal area under mean accuracy against the fraction kept,
        divided by the range of fractions: the curve's average accuracy."""
        order = np.argsort(self.fractions)
        fractions = self.fractions[order]
        accuracy = self.accuracy_mean[order]
        span = fractions[-1] - fractions[0]
        if span == 0:
            return float(accuracy[0])
        area = np.sum((fractions[1:] - fractions[:-1]) * (accuracy[1:] + accuracy[:-1]))
        return float(area / (2.0 * span))


@register_serializable
def feature_subselection_curve(
    features,
    labels,
    classifier,
    fractions=(1.0, 0.75, 0.5, 0.25, 0.125),
    mode="random",
    num_seeds=10,
    num_blocks=16,
    rescale=False,
    seed=0,
):
    """Top-1 accuracy when only a fraction `p` of the feature dimensions is kept.

    For each `p`, a binary mask keeps `k = max(1, round(p * D))` of the `D`
    feature dimensions and zeroes the others; the masked features
    `(mask * h) * (D / k if rescale else 1)` go through the trained classifier
    unchanged (no refitting), and the accuracy is recorded. Which dimensions
    are kept depends on `mode`:

    - `"random"`: a uniformly random subset, drawn afresh for each of
      `num_seeds` draws;
    - `"blocks"`: `max(1, round(p * num_blocks))` of `num_blocks` equal
      contiguous blocks, drawn at random `num_seeds` times (the blocks of the
      OS regularizer);
    - `"activation"`: the `k` dimensions of largest mean absolute activation
      over `features` (one deterministic draw);
    - `"weight"`: the `k` dimensions whose classifier weights (rows of the
      `(D, K)` kernel) have the largest L2 norm (one deterministic draw).

    Args:
        features: `(N, D)` pooled features (the classifier's input).
        labels: integer labels `(N,)` or `(N, 1)`, or one-hot `(N, K)`.
        classifier: a callable mapping `(N, D)` features to `(N, K)` logits or
            probabilities (e.g. the model's Dense head layer), or a pair
            `(kernel, bias)` of arrays `(D, K)` and `(K,)` (bias may be None).
            `"weight"` mode needs the kernel: a pair, or a layer with a
            `kernel` attribute.
        fractions: the fractions `p`, each in (0, 1].
        mode: `"random"`, `"blocks"`, `"activation"` or `"weight"`.
        num_seeds: the number of random draws per fraction, an integer >= 1.
        num_blocks: the number of blocks in `"blocks"` mode; must divide `D`.
        rescale: whether to multiply the kept features by `D / k`, keeping
            their expected sum (as inverted dropout does).
        seed: the seed of the NumPy generator drawing the masks.

    Returns:
        A `SubselectionCurveResult`.

    Example:

    ```python
    head = keras.layers.Dense(4, name="classifier")  # model.get_layer("classifier")
    head.build((None, 16))
    test_features, y_test = np.random.rand(64, 16), np.random.randint(0, 4, 64)
    curve = keras_ortho.diagnostics.feature_subselection_curve(
        test_features, y_test, head, mode="random", num_seeds=10
    )
    print(curve.accuracy_mean, curve.area_under_curve)
    ```

    Reference:
        The robustness-to-feature-sub-selection claim of H. Choi, A. Som,
        P. Turaga, "Role of Orthogonality Constraints in Improving Properties
        of Deep Networks for Image Classification", arXiv 2009.10762. The
        paper's protocol is unavailable; this is the reconstruction of
        `research/os.md` section 4.2, with its choices as arguments.
    """
    mode = validate_choice(mode, "mode", SUBSELECTION_MODES)
    num_seeds = validate_int(num_seeds, "num_seeds", minimum=1)
    num_blocks = validate_int(num_blocks, "num_blocks", minimum=1)
    validate_bool(rescale, "rescale")
    seed = validate_int(seed, "seed", minimum=0)
    fractions = _validate_fractions(fractions)
    features = feature_matrix(features)
    dim = features.shape[1]
    logits_fn, kernel = _classifier(classifier)
    labels = label_array(labels, features.shape[0])

    if mode == "blocks" and dim % num_blocks:
        raise ValueError(
            "Invalid `num_blocks`: expected a divisor of the feature dimension "
            f"{dim}. Received: num_blocks={num_blocks}"
        )
    if mode == "weight" and kernel is None:
        raise ValueError(
            "Invalid `classifier` for mode='weight': expected a (kernel, bias) "
            "pair or a layer with a `kernel` attribute. Received: "
            f"{type(classifier).__name__}"
        )
    if mode == "activation":
        score = np.asarray(ops.convert_to_numpy(ops.mean(ops.abs(features), axis=0)))
    elif mode == "weight":
        score = np.linalg.norm(
            np.asarray(ops.convert_to_numpy(kernel), "float64"), axis=1
        )
    rng = np.random.default_rng(seed)
    draws = num_seeds if mode in ("random", "blocks") else 1

    kept = []
    accuracies = np.zeros((len(fractions), draws))
    for f, fraction in enumerate(fractions):
        units = num_blocks if mode == "blocks" else dim
        keep = max(1, round(fraction * units))
        kept.append(keep)
        for r in range(draws):
            if mode in ("random", "blocks"):
                chosen = rng.permutation(units)[:keep]
            else:
                # A stable sort keeps ties in dimension order.
                chosen = np.argsort(-score, kind="stable")[:keep]
            mask = np.zeros(units, "float32")
            mask[chosen] = 1.0
            if mode == "blocks":
                mask = np.repeat(mask, dim // num_blocks)
            if rescale:
                mask *= dim / float(mask.sum())
            logits = logits_fn(features * ops.convert_to_tensor(mask))
            predicted = np.asarray(ops.convert_to_numpy(ops.argmax(logits, axis=-1)))
            accuracies[f, r] = float(np.mean(predicted == labels))
    return SubselectionCurveResult(
        fractions=np.asarray(fractions),
        kept=np.asarray(kept),
        accuracies=accuracies,
        accuracy_mean=accuracies.mean(axis=1),
        accuracy_std=accuracies.std(axis=1),
    )


def _validate_fractions(fractions):
    if isinstance(fractions, (int, float)) or len(fractions) == 0:
        raise ValueError(
            "Invalid `fractions`: expected a non-empty sequence of numbers in "
            f"(0, 1]. Received: fractions={fractions!r}"
        )
    return [
        validate_float_in_range(p, "fractions", 0, 1, include_minimum=False)
        for p in fractions
    ]


def _classifier(classifier):
    """`(logits_fn, kernel or None)` from a callable or a `(kernel, bias)` pair."""
    if isinstance(classifier, (tuple, list)):
        if len(classifier) != 2:
            raise ValueError(
                "Invalid `classifier`: expected a callable or a (kernel, bias) "
                f"pair. Received: a sequence of length {len(classifier)}"
            )
        kernel = ops.cast(ops.convert_to_tensor(classifier[0]), "float32")
        bias = classifier[1]
        bias = (
            None if bias is None else ops.cast(ops.convert_to_tensor(bias), "float32")
        )

        def linear(x):
            logits = ops.matmul(x, kernel)
            return logits if bias is None else logits + bias

        return linear, kernel
    if not callable(classifier):
        raise TypeError(
            "Invalid `classifier`: expected a callable or a (kernel, bias) pair. "
            f"Received: {type(classifier).__name__}"
        )
    return classifier, getattr(classifier, "kernel", None)
