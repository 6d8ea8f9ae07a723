import numpy as np
import pytest

from keras_ortho import diagnostics
from keras_ortho import initializers

RNG = np.random.default_rng(0)


def circular_operator_np(kernel, n, stride):
    """The explicit matrix of a 2-D cross-correlation with circular padding,
    `y[p, o] = sum_{x, c} K[x, c, o] u[(p s + x) mod n, c]`, built entry by
    entry."""
    kh, kw, channels, filters = kernel.shape
    m = n // stride
    matrix = np.zeros((n * n * channels, m * m * filters))
    for p in np.ndindex(m, m):
        for x in np.ndindex(kh, kw):
            source = tuple((pi * stride + xi) % n for pi, xi in zip(p, x, strict=True))
            for c in range(channels):
                row = (source[0] * n + source[1]) * channels + c
                column = (p[0] * m + p[1]) * filters
                matrix[row, column : column + filters] += kernel[x][c]
    return matrix


def depthwise_as_conv_np(kernel):
    """A depthwise kernel `(kh, kw, cin, m)` as the plain kernel
    `(kh, kw, cin, cin * m)` with zeros between channels."""
    kh, kw, channels, multiplier = kernel.shape
    plain = np.zeros((kh, kw, channels, channels * multiplier))
    for c in range(channels):
        plain[:, :, c, c * multiplier : (c + 1) * multiplier] = kernel[:, :, c, :]
    return plain


def zero_padded_operator_np(kernel, n, stride, padding):
    """The explicit matrix of a 2-D cross-correlation with Keras' zero
    padding: `"valid"`, or `"same"` with `ceil(n / s)` outputs and the total
    padding split `floor` before, `ceil` after."""
    k, _, channels, filters = kernel.shape
    if padding == "valid":
        m, before = (n - k) // stride + 1, 0
    else:
        m = -(-n // stride)
        before = max((m - 1) * stride + k - n, 0) // 2
    matrix = np.zeros((n * n * channels, m * m * filters))
    for p in np.ndindex(m, m):
        for x in np.ndindex(k, k):
            source = [pi * stride + xi - before for pi, xi in zip(p, x, strict=True)]
            if not all(0 <= s < n for s in source):
                continue
            for c in range(channels):
                row = (source[0] * n + source[1]) * channels + c
                column = (p[0] * m + p[1]) * filters
                matrix[row, column : column + filters] += kernel[x][c]
    return matrix


def _svd(matrix):
    return np.sort(np.linalg.svd(matrix, compute_uv=False))[::-1]


def _compare(got, want):
    # Zero singular values are counted differently by the two sides only in
    # their number; compare the leading ones and require the rest to be ~0.
    count = min(len(got), len(want))
    np.testing.assert_allclose(got[:count], want[:count], rtol=1e-6, atol=1e-6)
    assert np.all(np.abs(got[count:]) < 1e-6) and np.all(np.abs(want[count:]) < 1e-6)


@pytest.mark.parametrize(
    "k, channels, filters, n, stride",
    [
        (3, 2, 3, 6, 1),
        (3, 3, 2, 6, 2),
        (1, 4, 4, 4, 2),
        (5, 2, 2, 4, 1),
        (2, 3, 5, 4, 2),
    ],
)
def test_fourier_matches_the_explicit_circular_operator(
    k, channels, filters, n, stride
):
    kernel = RNG.standard_normal((k, k, channels, filters))
    got = diagnostics.circular_convolution_singular_values(
        kernel, (n, n), strides=stride, kernel_layout="conv"
    )
    _compare(got, _svd(circular_operator_np(kernel, n, stride)))


@pytest.mark.parametrize("stride", [1, 2])
def test_fourier_depthwise_and_grouped(stride):
    depthwise = RNG.standard_normal((3, 3, 3, 2))
    got = diagnostics.circular_convolution_singular_values(
        depthwise, 4, strides=stride, kernel_layout="depthwise"
    )
    plain = depthwise_as_conv_np(depthwise)
    _compare(got, _svd(circular_operator_np(plain, 4, stride)))

    # A grouped Conv2D(groups=2) kernel (3, 3, cin / 2, filters).
    grouped = RNG.standard_normal((3, 3, 2, 4))
    plain = np.zeros((3, 3, 4, 4))
    plain[:, :, :2, :2] = grouped[..., :2]
    plain[:, :, 2:, 2:] = grouped[..., 2:]
    got = diagnostics.circular_convolution_singular_values(
        grouped, 4, strides=stride, groups=2, kernel_layout="conv"
    )
    _compare(got, _svd(circular_operator_np(plain, 4, stride)))


def test_fourier_transposed_is_the_adjoint_convolution():
    kernel = RNG.standard_normal((3, 3, 4, 2))  # Conv2DTranspose(4) on 2 channels
    got = diagnostics.circular_convolution_singular_values(
        kernel, 3, strides=2, kernel_layout="conv_transpose"
    )
    _compare(got, _svd(circular_operator_np(kernel, 6, 2)))


def test_fourier_dilation():
    kernel = RNG.standard_normal((2, 2, 2, 3))
    dilated = np.zeros((3, 3, 2, 3))
    dilated[::2, ::2] = kernel
    got = diagnostics.circular_convolution_singular_values(
        kernel, 6, dilation_rate=2, kernel_layout="conv"
    )
    _compare(got, _svd(circular_operator_np(dilated, 6, 1)))


@pytest.mark.parametrize("channels, filters", [(4, 4), (3, 8), (8, 3)])
def test_delta_orthogonal_is_orthogonal_with_circular_padding(channels, filters):
    kernel = initializers.DeltaOrthogonal(gain=1.0, seed=3)((3, 3, channels, filters))
    values = diagnostics.circular_convolution_singular_values(
        kernel, (8, 8), kernel_layout="conv"
    )
    assert len(values) == 64 * min(channels, filters)
    np.testing.assert_allclose(values, 1.0, atol=1e-6)


@pytest.mark.parametrize(
    "k, stride, padding",
    [(3, 1, "same"), (3, 2, "same"), (3, 2, "valid"), (2, 2, "same")],
)
def test_impulse_response_matches_the_explicit_zero_padded_operator(k, stride, padding):
    kernel = RNG.standard_normal((k, k, 2, 3)).astype("float32")
    got = diagnostics.convolution_singular_values(
        kernel, (5, 5), strides=stride, padding=padding, kernel_layout="conv"
    )
    want = _svd(zero_padded_operator_np(kernel.astype(np.float64), 5, stride, padding))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_impulse_response_depthwise_and_transposed():
    depthwise = RNG.standard_normal((3, 3, 2, 2)).astype("float32")
    got = diagnostics.convolution_singular_values(
        depthwise, 5, strides=2, padding="same", kernel_layout="depthwise"
    )
    plain = depthwise_as_conv_np(depthwise.astype(np.float64))
    np.testing.assert_allclose(
        got, _svd(zero_padded_operator_np(plain, 5, 2, "same")), rtol=1e-5, atol=1e-5
    )
    # A "valid" transposed convolution on n inputs is the adjoint of the
    # "valid" convolution on (n - 1) s + k inputs.
    transposed = RNG.standard_normal((3, 3, 2, 3)).astype("float32")
    got = diagnostics.convolution_singular_values(
        transposed, 3, strides=2, kernel_layout="conv_transpose"
    )
    want = _svd(zero_padded_operator_np(transposed.astype(np.float64), 7, 2, "valid"))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "call, match",
    [
        (
            lambda k: diagnostics.circular_convolution_singular_values(
                k, 5, strides=2, kernel_layout="conv"
            ),
            "spatial_shape",
        ),
        (
            lambda k: diagnostics.circular_convolution_singular_values(k, 4),
            "kernel_layout",
        ),
        (
            lambda k: diagnostics.circular_convolution_singular_values(
                k, (4, 4, 4), kernel_layout="conv"
            ),
            "spatial_shape",
        ),
        (
            lambda k: diagnostics.circular_convolution_singular_values(
                k, 4, groups=3, kernel_layout="conv"
            ),
            "groups",
        ),
        (
            lambda k: diagnostics.convolution_singular_values(
                k, 4, padding="full", kernel_layout="conv"
            ),
            "padding",
        ),
        (
            lambda k: diagnostics.convolution_singular_values(
                k, 200, kernel_layout="conv"
            ),
            "spatial_shape",
        ),
    ],
)
def test_invalid_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call(np.ones((3, 3, 2, 4), "float32"))
