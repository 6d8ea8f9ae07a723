"""Histograms of the pairwise cosines of features, same-class against
different-class pairs."""

import numpy as np
from keras import ops

from keras_ortho._validation import validate_int
from keras_ortho.metrics._features import label_array
from keras_ortho.plots._figure import figure_of


def plot_cosine_histograms(
    features, labels, bins=50, max_samples=2000, seed=0, ax=None, title=None
):
    """Plots the distribution of `cos(h_i, h_j)` over same-class and
    different-class pairs `i < j`.

    Features with orthogonal class subspaces (OPL, OS) put the same-class
    cosines near 1 and the different-class cosines near 0; the legend gives
    the mean of each group (OPL's `s`, and the signed `d`). A zero feature
    vector has cosine 0 with everything. Both histograms are normalised to
    unit area, since different-class pairs far outnumber same-class ones.

    Args:
        features: `(N, D)` features.
        labels: integer labels `(N,)` or `(N, 1)`, or one-hot `(N, K)`.
        bins: the number of histogram bins over [-1, 1].
        max_samples: at most this many samples (a seeded random draw) enter
            the `O(N^2)` pairs.
        seed: the seed of that draw.
        ax: a matplotlib `Axes` to draw on; `None` makes a new figure.
        title: the axes' title; `None` for "Pairwise feature cosines".

    Returns:
        The `matplotlib.figure.Figure` drawn on.

    Example:

    ```python
    figure = keras_ortho.plots.plot_cosine_histograms(test_features, y_test)
    ```

    Reference:
        K. Ranasinghe et al., "Orthogonal Projections for Improved
        Discriminative Features", ICCV 2021 (the `s` and `d` statistics).
    """
    bins = validate_int(bins, "bins", minimum=1)
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

    figure, ax = figure_of(ax, 5.5, 3.5)
    edges = np.linspace(-1.0, 1.0, bins + 1)
    for mask, name, color in (
        (upper & same, "same class", "tab:blue"),
        (upper & ~same, "different class", "tab:orange"),
    ):
        values = cosines[mask]
        if values.size:
            ax.hist(
                values,
                bins=edges,
                density=True,
                alpha=0.6,
                color=color,
                label=f"{name} (mean {values.mean():.3f}, {values.size} pairs)",
            )
    ax.set_xlim(-1, 1)
    ax.set_xlabel("cosine similarity")
    ax.set_ylabel("density")
    ax.set_title("Pairwise feature cosines" if title is None else title)
    ax.legend(loc="best")
    return figure
