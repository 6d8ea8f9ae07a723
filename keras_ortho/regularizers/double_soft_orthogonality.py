"""Double soft orthogonality (DSO): soft orthogonality on both Grams."""

from keras_ortho._export import register_serializable
from keras_ortho._kernel_matrix import filter_matrix
from keras_ortho.regularizers._base import FunctionRegularizer
from keras_ortho.regularizers.soft_orthogonality import soft_orthogonality


@register_serializable
def double_soft_orthogonality(kernel, kernel_layout="auto"):
    """Double soft orthogonality of a kernel, unweighted.

    With `W` the filter matrix `(fan_in, filters)` = `(m, n)`:

    ```
    DSO(W) = ||W^T W - I_n||_F^2 + ||W W^T - I_m||_F^2
           = 2 ||G_small - I||_F^2 + |m - n|
    ```

    The two Grams share their non-zero spectrum, so the larger one's residual
    is the smaller one's plus `|m - n|`; only the smaller Gram is formed.

    Args:
        kernel: a Keras kernel of rank 2 to 5.
        kernel_layout: see `keras_ortho.regularizers.DoubleSoftOrthogonality`.

    Returns:
        A float32 scalar.
    """
    fan_in, filters = filter_matrix(kernel, kernel_layout).shape
    smaller = soft_orthogonality(kernel, gram="smaller", kernel_layout=kernel_layout)
    return 2.0 * smaller + float(abs(fan_in - filters))


@register_serializable
class DoubleSoftOrthogonality(FunctionRegularizer):
    """Double soft orthogonality regularizer (DSO).

    `W` is the kernel's filter matrix, one column per output filter of length
    `fan_in = kh * kw * cin` (a Dense kernel `(in, out)` is `W` itself):

    ```
    DSO(W) = factor * (||W^T W - I||_F^2 + ||W W^T - I||_F^2)
    ```

    DSO penalises both Grams so that one formula serves under-complete
    (`filters <= fan_in`) and over-complete (`filters > fan_in`) layers. The
    larger Gram's residual exceeds the smaller one's by the constant
    `|fan_in - filters|`, so DSO's gradient is exactly twice that of
    `SoftOrthogonality(gram="smaller")`; the large Gram is never formed.

    Unlike `keras.regularizers.OrthogonalRegularizer` (mean absolute cosine of
    normalised rows or columns), DSO also pulls every filter's norm to 1 and
    accepts kernels of any rank.

    Args:
        factor: the penalty weight, a finite number >= 0.
        kernel_layout: how the kernel is stored, `"auto"` by default; see
            `OrthogonalityRegularizer`.

    Example:

    ```python
    layer = keras.layers.Conv2D(
        64,
        3,
        kernel_regularizer=keras_ortho.regularizers.DoubleSoftOrthogonality(1e-4),
    )
    ```

    Reference:
        N. Bansal, X. Chen, Z. Wang, "Can We Gain More from Orthogonality
        Regularizations in Training Deep CNNs?", NeurIPS 2018 (DSO). The
        official code (nbansal90/Can-we-Gain-More-from-Orthogonality) has no
        DSO; this matches the paper's formula, checked against the `dso` key of
        the golden data (torch autograd of the same formula).
    """

    def __init__(self, factor, kernel_layout="auto"):
        super().__init__(double_soft_orthogonality, factor, kernel_layout)
