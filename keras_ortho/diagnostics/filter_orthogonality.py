"""How orthogonal each layer's filters are: the SO residual, mutual coherence
and spectral norm of `W^T W - I`, for every kernel of any model."""

import dataclasses

import numpy as np

from keras_ortho._export import register_serializable
from keras_ortho._model_kernels import filter_cosines
from keras_ortho._model_kernels import filter_matrix_float64
from keras_ortho._model_kernels import model_kernels


@dataclasses.dataclass(frozen=True)
class FilterOrthogonalityResult:
    """Orthogonality measures of one kernel's filter matrix `W` `(fan_in, filters)`.

    Attributes:
        layer_name: the name of the layer holding the kernel.
        kernel_path: the kernel variable's path, e.g. `"conv2d/kernel"`.
        kernel_layout: how the kernel is read (`"dense"`, `"conv"`,
            `"conv_transpose"`, `"depthwise"` or an EinsumDense equation).
        kernel_shape: the kernel's shape in its Keras layout.
        fan_in: the length of each filter (rows of `W`).
        filters: the number of filters (columns of `W`).
        so_residual: `||W^T W - I||_F^2`, the soft-orthogonality penalty.
        normalized_so_residual: `||Ŵ^T Ŵ - I||_F^2` with unit-norm columns
            `ŵ_j = w_j / ||w_j||`: the sum of squared cosines between distinct
            filters, insensitive to filter norms (relevant before batch norm).
        mutual_coherence: `max_{i != j} |cos(w_i, w_j)|` (0 with one filter).
        sigma_max: the spectral norm `||W^T W - I||_2`, the largest
            `|sigma_k(W)^2 - 1|`; at least 1 when there are more filters than
            `fan_in`.
    """

    layer_name: str
    kernel_path: str
    kernel_layout: str
    kernel_shape: tuple
    fan_in: int
    filters: int
    so_residual: float
    normalized_so_residual: float
    mutual_coherence: float
    sigma_max: float


@register_serializable
def filter_orthogonality(model):
    """Per-kernel filter orthogonality of every layer of `model`.

    Walks the layers of `model` (nested models and the sublayers of custom
    layers included, each layer once) and, for each Dense, EinsumDense, Conv,
    Conv*Transpose, DepthwiseConv and SeparableConv kernel, measures its
    filter matrix `W` (one column per output filter of length `fan_in`; see
    `keras_ortho.regularizers.SoftOrthogonality`):

    ```
    so_residual            = ||W^T W - I||_F^2
    normalized_so_residual = ||Ŵ^T Ŵ - I||_F^2 = sum_{i != j} cos(w_i, w_j)^2
    mutual_coherence       = max_{i != j} |cos(w_i, w_j)|
    sigma_max              = ||W^T W - I||_2 = max_k |lambda_k(W^T W) - 1|
    ```

    Computed exactly in float64 NumPy (eigenvalues by `eigvalsh`); a zero
    filter has cosine 0 with every other filter.

    Args:
        model: a built `keras.Model` or a single built layer.

    Returns:
        A list of `FilterOrthogonalityResult`s, one per kernel, in layer order.

    Example:

    ```python
    model = keras.Sequential(
        [
            keras.Input((16, 16, 3)),
            keras.layers.Conv2D(8, 3, padding="same", activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(4),
        ]
    )
    for record in keras_ortho.diagnostics.filter_orthogonality(model):
        print(record.layer_name, record.so_residual, record.mutual_coherence)
    ```

    Reference:
        N. Bansal, X. Chen, Z. Wang, "Can We Gain More from Orthogonality
        Regularizations in Training Deep CNNs?", NeurIPS 2018 (SO, MC, SRIP
        measure these three quantities).
    """
    return [
        _measure(layer.name, kernel.variable, kernel.kernel_layout)
        for layer, kernel in model_kernels(model)
    ]


def _measure(layer_name, variable, layout):
    matrix = filter_matrix_float64(variable, layout)
    fan_in, filters = matrix.shape
    residual = matrix.T @ matrix - np.eye(filters)
    off_diagonal = filter_cosines(matrix)[~np.eye(filters, dtype=bool)]
    return FilterOrthogonalityResult(
        layer_name=layer_name,
        kernel_path=variable.path,
        kernel_layout=layout,
        kernel_shape=tuple(variable.shape),
        fan_in=int(fan_in),
        filters=int(filters),
        so_residual=float(np.sum(residual**2)),
        normalized_so_residual=float(np.sum(off_diagonal**2)),
        mutual_coherence=float(np.abs(off_diagonal).max()) if filters > 1 else 0.0,
        sigma_max=float(np.abs(np.linalg.eigvalsh(residual)).max()),
    )
