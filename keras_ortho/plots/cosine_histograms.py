"""Histograms of the pairwise cosines of features, same-class against
different-class pairs."""

from keras_ortho.plots._figure import figure_of
from keras_ortho.plots._pair_cosines import cosine_bin_edges
from keras_ortho.plots._pair_cosines import pair_cosines


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
    test_features, y_test = np.random.rand(64, 16), np.random.randint(0, 4, 64)
    figure = keras_ortho.plots.plot_cosine_histograms(test_features, y_test)
    ```

    Reference:
        K. Ranasinghe et al., "Orthogonal Projections for Improved
        Discriminative Features", ICCV 2021 (the `s` and `d` statistics).
    """
    edges = cosine_bin_edges(bins)
    same, different = pair_cosines(features, labels, max_samples, seed)

    figure, ax = figure_of(ax, 5.5, 3.5)
    for values, name, color in (
        (same, "same class", "tab:blue"),
        (different, "different class", "tab:orange"),
    ):
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
