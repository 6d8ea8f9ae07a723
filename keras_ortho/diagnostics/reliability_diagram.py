"""The reliability diagram: accuracy and mean confidence per confidence bin,
the bins of `keras_ortho.metrics.expected_calibration_error`."""

import dataclasses

import numpy as np

from keras_ortho._export import register_serializable
from keras_ortho.metrics.calibration import bin_edges
from keras_ortho.metrics.calibration import calibration_bins


@dataclasses.dataclass(frozen=True)
class ReliabilityDiagramResult:
    """The data of a reliability diagram.

    Attributes:
        bin_edges: float32 `(M + 1,)`, the edges of the right-closed bins.
        accuracy: float `(M,)`, the (weighted) fraction of correct predictions
            per bin; 0 in empty bins.
        confidence: float `(M,)`, the (weighted) mean confidence per bin; 0 in
            empty bins.
        count: float `(M,)`, the number (total weight) of predictions per bin.
    """

    bin_edges: np.ndarray
    accuracy: np.ndarray
    confidence: np.ndarray
    count: np.ndarray


@register_serializable
def reliability_diagram(
    y_true, y_pred, num_bins=15, from_logits=False, sample_weight=None
):
    """Per-bin accuracy, mean confidence and count: the reliability diagram.

    Bins as in `keras_ortho.metrics.expected_calibration_error`. A perfectly
    calibrated model has `accuracy == confidence` in every non-empty bin;
    empty bins have count 0 (mask them with `count > 0` when plotting).

    Args:
        y_true: integer labels `(N,)` or `(N, 1)`, or one-hot labels `(N, K)`.
        y_pred: class probabilities `(N, K)`, or logits with `from_logits=True`.
        num_bins: the number of bins `M`, an integer >= 1.
        from_logits: whether `y_pred` holds logits.
        sample_weight: optional per-sample weights `(N,)`.

    Returns:
        A `ReliabilityDiagramResult(bin_edges, accuracy, confidence, count)`.

    Example:

    ```python
    import matplotlib.pyplot as plt

    y_test = np.random.randint(0, 3, 100)
    probs = keras.ops.softmax(np.random.randn(100, 3))
    diagram = keras_ortho.diagnostics.reliability_diagram(
        y_test, probs, num_bins=10
    )
    centres = (diagram.bin_edges[:-1] + diagram.bin_edges[1:]) / 2
    plt.bar(centres, diagram.accuracy, width=0.1)
    ```

    Reference:
        A. Niculescu-Mizil, R. Caruana, "Predicting Good Probabilities with
        Supervised Learning", ICML 2005; Guo et al., 2017.
    """
    count, accuracy, confidence = calibration_bins(
        y_true, y_pred, num_bins, from_logits, sample_weight
    )
    return ReliabilityDiagramResult(
        bin_edges=bin_edges(len(count)),
        accuracy=accuracy,
        confidence=confidence,
        count=count,
    )
