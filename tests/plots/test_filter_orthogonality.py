import keras
import numpy as np
import pytest

from keras_ortho import diagnostics
from keras_ortho import plots
from tests.plots.png import assert_valid_png


def _model(kernel_initializer):
    return keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            keras.layers.Conv2D(4, 3, kernel_initializer=kernel_initializer),
            keras.layers.Conv2D(4, 3, kernel_initializer=kernel_initializer),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(3, kernel_initializer=kernel_initializer),
        ]
    )


def _residual(kernel):
    w = np.asarray(kernel).reshape(-1, kernel.shape[-1])
    return np.sum((w.T @ w - np.eye(w.shape[1])) ** 2)


def test_one_line_per_model_kernel_by_kernel(tmp_path):
    models = {"ones": _model("ones"), "orthogonal": _model("orthogonal")}
    records = {n: diagnostics.filter_orthogonality(m) for n, m in models.items()}
    figure = plots.plot_filter_orthogonality(records)
    (ax,) = figure.axes
    lines = ax.get_lines()
    assert len(lines) == 2
    for line, model in zip(lines, models.values(), strict=True):
        kernels = [layer.kernel for layer in model.layers if hasattr(layer, "kernel")]
        np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3])
        np.testing.assert_allclose(
            line.get_ydata(), [_residual(k) for k in kernels], rtol=1e-4, atol=1e-4
        )
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    ones = [layer.kernel for layer in models["ones"].layers if hasattr(layer, "kernel")]
    assert legend[0] == f"ones (mean {np.mean([_residual(k) for k in ones]):.3g})"
    assert_valid_png(figure, tmp_path / "residuals.png")


def test_log_scale_for_positive_values_and_other_measures():
    records = diagnostics.filter_orthogonality(_model("ones"))
    figure = plots.plot_filter_orthogonality(records)
    assert figure.axes[0].get_yscale() == "log"
    figure = plots.plot_filter_orthogonality(records, measure="mutual_coherence")
    np.testing.assert_allclose(figure.axes[0].get_lines()[0].get_ydata(), 1.0)
    assert "coherence" in figure.axes[0].get_ylabel()


def test_invalid_input():
    with pytest.raises(TypeError, match="records"):
        plots.plot_filter_orthogonality({"a": [1.0, 2.0]})
    with pytest.raises(TypeError, match="records"):
        plots.plot_filter_orthogonality({})
    with pytest.raises(ValueError, match="measure"):
        plots.plot_filter_orthogonality([], measure="frobenius")
