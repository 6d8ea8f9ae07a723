"""Soft orthogonality (SO): the squared Frobenius distance of the Gram to I."""

from keras import ops

from keras_ortho._export import register_serializable
from keras_ortho._kernel_matrix import filter_matrix
from keras_ortho._ops import gram_minus_identity
from keras_ortho._validation import validate_bool
from keras_ortho._validation import validate_choice
from keras_ortho.regularizers._base import FunctionRegularizer

GRAMS = ("filters", "inputs", "smaller")


def _validated_options(gram, squared):
    return {
        "gram": validate_choice(gram, "gram", GRAMS),
        "squared": validate_bool(squared, "squared"),
    }


@register_serializable
def soft_orthogonality(kernel, gram="filters", squared=True, kernel_layout="auto"):
    """Soft orthogonality of a kernel, unweighted.

    With `W` the filter matrix `(fan_in, filters)`:

    ```
    gram="filters":  ||W^T W - I||_F^2      (filters x filters)
    gram="inputs":   ||W W^T - I||_F^2      (fan_in x fan_in)
    gram="smaller":  the smaller of the two
    ```

    The two Grams share their non-zero spectrum, so
    `||W W^T - I_m||_F^2 = ||W^T W - I_n||_F^2 + (m - n)` exactly; the larger
    one is never formed. `squared=False` returns the norm itself,
    `||G - I||_F`, as OCNN's `orth_dist` does.

    Args:
        kernel: a Keras kernel of rank 2 to 5.
        gram: `"filters"`, `"inputs"` or `"smaller"`.
        squared: whether to square the Frobenius norm.
        kernel_layout: see `keras_ortho.regularizers.SoftOrthogonality`.

    Returns:
        A float32 scalar.
    """
    options = _validated_options(gram, squared)
    return _soft_orthogonality(kernel, kernel_layout=kernel_layout, **options)


def _soft_orthogonality(kernel, kernel_layout, gram, squared):
    matrix = filter_matrix(ops.cast(kernel, "float32"), kernel_layout)
    fan_in, filters = matrix.shape
    side = "columns" if filters <= fan_in else "rows"
    value = ops.sum(ops.square(gram_minus_identity(matrix, side)))
    # Offset between the formed (smaller) Gram's residual and the requested one.
    requested = {"filters": filters, "inputs": fan_in}.get(gram, min(fan_in, filters))
    offset = requested - min(fan_in, filters)
    if offset:
        value = value + float(offset)
    return value if squared else ops.sqrt(value)


@register_serializable
class SoftOrthogonality(FunctionRegularizer):
    """Soft orthogonality regularizer (SO): `factor * ||W^T W - I||_F^2`.

    `W` is the kernel's filter matrix, one column per output filter of length
    `fan_in = kh * kw * cin` (a Dense kernel `(in, out)` is `W` itself). SO
    pulls the filters towards an orthonormal set. Where a layer has more
    filters than `fan_in` (over-complete), `W^T W = I` is unreachable and
    `gram="smaller"` penalises the smaller Gram instead, as the public CIFAR
    code of Bansal et al. does; `gram="inputs"` penalises `W W^T`. Which Gram
    is used changes the value by a constant only, so the gradients agree.

    Formula:

    ```
    SO(W) = factor * ||G - I||_F^2,    G = W^T W (filters), W W^T (inputs),
                                       or the smaller of the two
    ```

    With `squared=False` it is `factor * ||G - I||_F`, the unsquared norm of
    OCNN's `orth_dist` (which uses the smaller Gram).

    Unlike `keras.regularizers.OrthogonalRegularizer`, which penalises the mean
    absolute cosine between normalised rows or columns, SO also pulls every
    filter's norm to 1 and accepts kernels of any rank.

    Args:
        factor: the penalty weight, a finite number >= 0.
        gram: `"filters"` (default), `"inputs"` or `"smaller"`.
        squared: square the Frobenius norm (default) or not.
        kernel_layout: how the kernel is stored, `"auto"` by default; see
            `OrthogonalityRegularizer`.

    Example:

    ```python
    layer = keras.layers.Conv2D(
        64, 3, kernel_regularizer=keras_ortho.regularizers.SoftOrthogonality(1e-4)
    )
    ```

    Reference:
        N. Bansal, X. Chen, Z. Wang, "Can We Gain More from Orthogonality
        Regularizations in Training Deep CNNs?", NeurIPS 2018 (SO). Matches
        the closed formula checked against torch autograd in the golden data;
        `gram="smaller", squared=False` matches `orth_dist` of
        samaonline/Orthogonal-Convolutional-Neural-Networks.
    """

    def __init__(self, factor, gram="filters", squared=True, kernel_layout="auto"):
        options = _validated_options(gram, squared)
        super().__init__(_soft_orthogonality, factor, kernel_layout, **options)
