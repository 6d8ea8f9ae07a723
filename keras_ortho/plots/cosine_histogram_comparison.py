"""Several models' feature cosine histograms on shared axes: same-class pairs
in one panel, different-class pairs in the other."""

from keras_ortho.plots._figure import line_style
from keras_ortho.plots._figure import new_figure
from keras_ortho.plots._pair_cosines import cosine_bin_edges
from keras_ortho.plots._pair_cosines import pair_cosines


def plot_cosine_histogram_comparison(
    features, labels, bins=50, max_samples=2000, seed=0
):
    """Plots the distribution of `cos(h_i, h_j)` over same-class and
    different-class pairs `i < j` for several models' features of one test
    set, one outlined histogram per model.

    The left panel holds the same-class pairs, the right panel the
    different-class pairs; both share their axes, so the histograms of all
    models compare at a glance. Features with orthogonal class subspaces (OPL,
    OS) put the same-class cosines near 1 and the different-class cosines
    near 0; the legend gives each model's mean cosine (OPL's `s` and the
    signed `d`). Each histogram is normalised to unit area. Every model's
    features are measured on the same pairs (the same draw of at most
    `max_samples` samples), as in `plot_cosine_histograms`.

    Args:
        features: a dict `{label: (N, D) features}`, e.g. the test-set
            features of each method, all of the same `N` samples.
        labels: the samples' integer labels `(N,)` or `(N, 1)`, or one-hot
            `(N, K)`.
        bins: the number of histogram bins over [-1, 1].
        max_samples: at most this many samples enter the `O(N^2)` pairs.
        seed: the seed of that draw.

    Returns:
        The `matplotlib.figure.Figure`.

    Example:

    ```python
    y = np.random.randint(0, 4, 64)
    features = {
        "CE": np.random.rand(64, 16),
        "OPL": np.eye(16)[y * 4] + 0.1 * np.random.rand(64, 16),
    }
    figure = keras_ortho.plots.plot_cosine_histogram_comparison(features, y)
    ```

    Reference:
        K. Ranasinghe et al., "Orthogonal Projections for Improved
        Discriminative Features", ICCV 2021 (the `s` and `d` statistics).
    """
    edges = cosine_bin_edges(bins)
    if not isinstance(features, dict) or not features:
        raise TypeError(
            "Invalid type for argument `features`: expected a non-empty dict "
            "{label: (N, D) features}. Received: features of type "
            f"{type(features).__name__}"
        )
    cosines = {
        name: pair_cosines(values, labels, max_samples, seed)
        for name, values in features.items()
    }

    figure = new_figure(10.0, 3.6)
    same_ax = figure.add_subplot(1, 2, 1)
    different_ax = figure.add_subplot(1, 2, 2, sharex=same_ax, sharey=same_ax)
    for index, (name, pairs) in enumerate(cosines.items()):
        for ax, values in zip((same_ax, different_ax), pairs, strict=True):
            if values.size:
                ax.hist(
                    values,
                    bins=edges,
                    density=True,
                    histtype="step",
                    linewidth=1.5,
                    color=f"C{index}",
                    # Dashes tell apart the outlines of models that coincide.
                    linestyle=line_style(index),
                    label=f"{name} (mean {values.mean():.3f})",
                )
    same_ax.set_xlim(-1, 1)
    for ax, title in (
        (same_ax, "Same-class pairs"),
        (different_ax, "Different-class pairs"),
    ):
        ax.set_title(title)
        ax.set_xlabel("cosine similarity")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(loc="upper left", fontsize="small")
    same_ax.set_ylabel("density")
    return figure
