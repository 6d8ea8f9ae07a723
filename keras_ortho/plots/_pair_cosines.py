"""The pairwise feature cosines behind the cosine histograms, split into
same-class and different-class pairs, and the histograms' bins."""

import numpy as np
from keras import ops

from keras_ortho._features import label_array
from keras_ortho._validation import validate_int


def cosine_bin_edges(bins):
    """The `bins + 1` edges of equal-width bins over [-1, 1]."""
    bins = validate_int(bins, "bins", minimum=1)
    return np.linspace(-1.0, 1.0, bins + 1)


def pair_cosines(features, labels, max_samples, seed):
    """`(same, different)`: `cos(h_i, h_j)` over the pairs `i < j` of
    same-class and of different-class samples, as float64 NumPy vectors.

    At most `max_samples` samples (a random draw of `seed`) enter the
    `O(N^2)` pairs; the same `seed` and sample count draw the same samples,
    so several models' features of one test set are compared on the same
    pairs. A zero feature vector has cosine 0 with everything.
    """
    max_samples = validate_int(max_samples, "max_samples", minimum=2)
    seed = validate_int(seed, "seed", minimum=0)
    features = np.asarray(ops.convert_to_numpy(features), "float64")
    if features.ndim != 2:
        raise ValueError(
            "Invalid `features`: expected a matrix (num_samples, feature_dim). "
            f"Received: features of shape {features.shape}"
        )
    labels = label_array(labels, len(features))
    if len(features) > max_samples:
        chosen = np.sort(
            np.random.default_rng(seed).permutation(len(features))[:max_samples]
        )
        features, labels = features[chosen], labels[chosen]
    norms = np.linalg.norm(features, axis=1, keepdims=True)
    unit = features / np.where(norms > 0, norms, 1.0)
    cosines = unit @ unit.T
    upper = np.triu(np.ones(cosines.shape, dtype=bool), k=1)
    same = labels[:, None] == labels[None, :]
    return cosines[upper & same], cosines[upper & ~same]
