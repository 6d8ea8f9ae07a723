"""The operator singular values of every kernel of a model, summarised per
layer: the Lipschitz constant and conditioning of each linear map."""

import dataclasses

import keras
import numpy as np

from keras_ortho._export import register_serializable
from keras_ortho._model_kernels import filter_matrix_float64
from keras_ortho._model_kernels import model_kernels
from keras_ortho.diagnostics.convolution_singular_values import (
    circular_convolution_singular_values,
)
from keras_ortho.diagnostics.convolution_singular_values import per_dimension

CONVOLUTION_LAYOUTS = ("conv", "conv_transpose", "depthwise")


@dataclasses.dataclass(frozen=True)
class OperatorSpectrumResult:
    """The singular values of one layer's linear map, summarised.

    Attributes:
        layer_name: the name of the layer holding the kernel.
        kernel_path: the kernel variable's path, e.g. `"conv2d/kernel"`; the
            key `keras_ortho.diagnostics.filter_orthogonality` records share.
        kernel_layout: `"dense"`, `"conv"`, `"conv_transpose"` or
            `"depthwise"`.
        spatial_shape: the input size the operator acts on (`()` for Dense).
        sigma_max: the largest singular value, the layer's Lipschitz constant
            (operator 2-norm).
        sigma_min: the smallest singular value.
        stable_rank: `sum_k sigma_k^2 / sigma_max^2`, between 1 and the
            number of singular values.
        num_singular_values: how many singular values the operator has.
    """

    layer_name: str
    kernel_path: str
    kernel_layout: str
    spatial_shape: tuple
    sigma_max: float
    sigma_min: float
    stable_rank: float
    num_singular_values: int


@register_serializable
def convolution_spectra(model, spatial_shape=None):
    """The operator singular values of every kernel of `model`, summarised.

    For each kernel `keras_ortho.regularizers.attach` reaches, the exact
    singular values of the layer's linear map: those of the filter matrix `W`
    for a Dense (or EinsumDense) kernel, and for a convolution those of the
    circular convolution on the layer's input size, by
    `circular_convolution_singular_values` (with the layer's strides,
    dilation and groups). With zero padding the operator
    differs from the circular one only at the border; the Fourier spectrum is
    the usual estimate at full size (Sedghi et al.), and
    `convolution_singular_values` gives the exact one on small inputs.

    An orthogonal convolution has `sigma_max = sigma_min = 1`; a small filter
    Gram residual (`filter_orthogonality`) does not imply it.

    Args:
        model: a built `keras.Model` or layer.
        spatial_shape: `None` (default) to use each layer's input size, known
            for layers of a Functional or Sequential model; or one size (an
            integer or tuple) for every convolution, e.g. for a subclassed
            model. For a SeparableConv the depthwise kernel sees it, the
            pointwise one the depthwise output.

    Returns:
        A list of `OperatorSpectrumResult`s, one per kernel, in layer order.

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
    for record in keras_ortho.diagnostics.convolution_spectra(model):
        print(record.layer_name, record.sigma_max, record.sigma_min)
    ```

    Reference:
        H. Sedghi, V. Gupta, P. M. Long, "The Singular Values of
        Convolutional Layers", ICLR 2019.
    """
    return [
        _layer_spectrum(layer, kernel, spatial_shape)
        for layer, kernel in model_kernels(model)
    ]


def _layer_input_size(layer, rank, spatial_shape):
    if spatial_shape is not None:
        return per_dimension(spatial_shape, rank, "spatial_shape")
    try:
        shape = tuple(layer.input.shape)
    except (AttributeError, ValueError):
        shape = None
    if shape is None or len(shape) != rank + 2 or None in shape[1:-1]:
        raise ValueError(
            f"The input size of layer {layer.name!r} is not known (a subclassed "
            "model, or an input of unknown size). Pass `spatial_shape`, e.g. "
            "spatial_shape=(32, 32)."
        )
    if (
        keras.config.image_data_format() == "channels_first"
        or getattr(layer, "data_format", "channels_last") == "channels_first"
    ):
        return tuple(shape[2:])
    return tuple(shape[1:-1])


def _layer_spectrum(layer, kernel, spatial_shape):
    variable, layout = kernel.variable, kernel.kernel_layout
    if layout not in CONVOLUTION_LAYOUTS:
        # A Dense (or EinsumDense) kernel maps each input vector by W.
        size = ()
        matrix = filter_matrix_float64(variable, layout)
        values = np.linalg.svd(matrix, compute_uv=False)
    else:
        rank = len(variable.shape) - 2
        size = _layer_input_size(layer, rank, spatial_shape)
        strides, dilation = tuple(layer.strides), tuple(layer.dilation_rate)
        if kernel.attribute == "pointwise_regularizer":
            # The 1x1 pointwise kernel reads the depthwise output.
            size = tuple(-(-n // s) for n, s in zip(size, strides, strict=True))
            strides, dilation = 1, 1
        values = circular_convolution_singular_values(
            variable,
            size,
            strides=strides,
            dilation_rate=dilation,
            groups=getattr(layer, "groups", 1) if layout == "conv" else 1,
            kernel_layout=layout,
        )
    largest = float(values.max())
    return OperatorSpectrumResult(
        layer_name=layer.name,
        kernel_path=variable.path,
        kernel_layout=layout,
        spatial_shape=size,
        sigma_max=largest,
        sigma_min=float(values.min()),
        stable_rank=float(np.sum(values**2) / largest**2) if largest > 0 else 0.0,
        num_singular_values=int(values.size),
    )
