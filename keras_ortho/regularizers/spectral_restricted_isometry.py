"""Spectral restricted isometry (SRIP): the spectral norm of the Gram minus I."""

import numpy as np
from keras import ops

from keras_ortho._export import register_serializable
from keras_ortho._kernel_matrix import filter_matrix
from keras_ortho._ops import l2_normalize
from keras_ortho._ops import safe_norm
from keras_ortho._validation import validate_bool
from keras_ortho._validation import validate_choice
from keras_ortho._validation import validate_int
from keras_ortho.regularizers._base import FunctionRegularizer

GRAMS = ("filters", "inputs", "smaller")
STARTS = ("normal", "uniform")


def _validated_options(power_iterations, gram, squared, start, seed):
    return {
        "power_iterations": validate_int(
            power_iterations, "power_iterations", minimum=1
        ),
        "gram": validate_choice(gram, "gram", GRAMS),
        "squared": validate_bool(squared, "squared"),
        "start": validate_choice(start, "start", STARTS),
        "seed": validate_int(seed, "seed", minimum=0),
    }


def _start_vector(size, start, seed):
    """The power iteration's start vector, drawn with NumPy when the step is
    traced so it is identical on every backend and every call."""
    rng = np.random.default_rng(seed)
    if start == "normal":
        return rng.standard_normal(size).astype("float32")
    return rng.random(size).astype("float32")


def _residual_gram_product(matrix, vector, side):
    """`(G - I) v` with `G = W^T W` (`"columns"`) or `W W^T` (`"rows"`).

    Two matrix-vector products instead of forming `G`: the fan-in Gram of a
    wide convolution would be `fan_in x fan_in`.
    """
    if side == "columns":
        product = ops.matmul(ops.transpose(matrix), ops.matmul(matrix, vector))
    else:
        product = ops.matmul(matrix, ops.matmul(ops.transpose(matrix), vector))
    return product - vector


@register_serializable
def spectral_restricted_isometry(
    kernel,
    power_iterations=2,
    gram="filters",
    squared=False,
    start="normal",
    seed=0,
    start_vector=None,
    kernel_layout="auto",
):
    """Power-iteration estimate of `sigma_max(G - I)` of a kernel, unweighted.

    With `W` the filter matrix `(fan_in, filters)` and `M = G - I` (symmetric)
    for `G = W^T W` (`gram="filters"`), `W W^T` (`"inputs"`) or the smaller of
    the two (`"smaller"`):

    ```
    v_0 = start vector
    v_k = M v_{k-1} / ||M v_{k-1}||        k = 1 .. power_iterations
    estimate = ||M v_K||                   (squared=True: ||M v_K||^2)
    ```

    The estimate is a lower bound of `sigma_max(M)` that converges to it as
    `power_iterations` grows (when `v_0` is not orthogonal to the top
    eigenvector). Gradients flow through every iteration, as in the reference
    code. A zero `M v` normalises to zero, so the estimate is then 0 with a
    finite gradient.

    Args:
        kernel: a Keras kernel of rank 2 to 5.
        power_iterations: number of power steps K, an integer >= 1. The
            steps are unrolled into the traced graph.
        gram: `"filters"`, `"inputs"` or `"smaller"`.
        squared: return the estimate squared.
        start: distribution of the start vector: `"normal"` (N(0, 1)) or
            `"uniform"` (U[0, 1), as `torch.rand` in the CIFAR reference).
        seed: seed of `np.random.default_rng` drawing the start vector, an
            integer >= 0.
        start_vector: overrides the drawn start vector: an array with as many
            entries as the Gram has rows, in the row order of `W` (Keras
            flattening `(*spatial, cin)` for `gram="inputs"`).
        kernel_layout: see `keras_ortho.regularizers.SpectralRestrictedIsometry`.

    Returns:
        A float32 scalar.
    """
    options = _validated_options(power_iterations, gram, squared, start, seed)
    return _spectral_restricted_isometry(
        kernel, kernel_layout=kernel_layout, start_vector=start_vector, **options
    )


def _spectral_restricted_isometry(
    kernel,
    kernel_layout,
    power_iterations,
    gram,
    squared,
    start,
    seed,
    start_vector=None,
):
    matrix = filter_matrix(ops.cast(kernel, "float32"), kernel_layout)
    fan_in, filters = matrix.shape
    if gram == "smaller":
        gram = "filters" if filters <= fan_in else "inputs"
    side, size = ("columns", filters) if gram == "filters" else ("rows", fan_in)

    if start_vector is None:
        vector = ops.convert_to_tensor(_start_vector(size, start, seed))
    else:
        vector = ops.cast(ops.convert_to_tensor(start_vector), "float32")
        if int(np.prod(vector.shape)) != size:
            raise ValueError(
                f"Invalid `start_vector` for gram={gram!r}: expected {size} "
                f"entries (the Gram's size). Received: shape {tuple(vector.shape)}"
            )
    vector = ops.reshape(vector, (size, 1))

    residual = _residual_gram_product(matrix, vector, side)
    for _ in range(power_iterations):
        vector = l2_normalize(residual, axis=0)
        residual = _residual_gram_product(matrix, vector, side)
    if squared:
        return ops.sum(ops.square(residual))
    return safe_norm(residual)


@register_serializable
class SpectralRestrictedIsometry(FunctionRegularizer):
    """Spectral restricted isometry property regularizer (SRIP).

    `W` is the kernel's filter matrix, one column per output filter of length
    `fan_in = kh * kw * cin` (a Dense kernel `(in, out)` is `W` itself):

    ```
    SRIP(W) = factor * sigma_max(G - I),   G = W^T W (filters), W W^T (inputs),
                                           or the smaller of the two
    ```

    `sigma_max` of the symmetric `M = G - I` is estimated by
    `power_iterations` power steps inside the training step:
    `v_k = M v_{k-1} / ||M v_{k-1}||`, estimate `||M v_K||` (`squared=True`:
    its square). The start vector `v_0` is drawn with NumPy from `seed` when
    the step is traced, so it is deterministic and the same on every backend.
    Gradients flow through the iterations, as in the reference code.

    Which Gram: the two Grams share their non-zero eigenvalues, but the larger
    one also has eigenvalue 0, so `sigma_max(G_large - I) >= 1`. In an
    over-complete layer (`filters > fan_in`) the filter Gram therefore has a
    floor of 1 and `gram="smaller"` (or `"inputs"`) is the reachable target;
    for an ordinary convolution (`fan_in > filters`) `gram="inputs"` has the
    floor.

    The public reference code corresponds to:

    - Wide-ResNet CIFAR `l2_reg_ortho`: `gram="smaller", power_iterations=1,
      squared=True, start="uniform"`.
    - ImageNet / SVHN `l2_reg_ortho`: `gram="inputs", power_iterations=1,
      squared=True` (normal start). That code computes
      `u = normalize(u_0)`, `v = normalize(M^T u)`, `u = normalize(M v)`,
      `sigma = u . M v`. As `M` is symmetric, `M^T u` is `M u_0` up to a
      positive scale, so `v` is one power step `v_1`; and since
      `u = M v / ||M v||`, `sigma = ||M v_1||`, the one-step estimate here.

    Both draw a fresh random start vector at every call; here it is fixed by
    `seed`.

    Unlike `keras.regularizers.OrthogonalRegularizer` (mean absolute cosine of
    normalised rows or columns), SRIP targets the identity (filter norms
    included) and only the worst direction of `G - I`.

    Args:
        factor: the penalty weight, a finite number >= 0.
        power_iterations: power steps per evaluation, an integer >= 1
            (default 2).
        gram: `"filters"` (default), `"inputs"` or `"smaller"`.
        squared: penalise the squared estimate (as the PyTorch reference code
            does) instead of the estimate itself (default, the paper's
            formula).
        start: `"normal"` (default) or `"uniform"` start vector.
        seed: seed of the start vector, an integer >= 0.
        kernel_layout: how the kernel is stored, `"auto"` by default; see
            `OrthogonalityRegularizer`.

    Example:

    ```python
    layer = keras.layers.Conv2D(
        64,
        3,
        kernel_regularizer=keras_ortho.regularizers.SRIP(1e-2, gram="smaller"),
    )
    ```

    Reference:
        N. Bansal, X. Chen, Z. Wang, "Can We Gain More from Orthogonality
        Regularizations in Training Deep CNNs?", NeurIPS 2018 (SRIP).
        Matches `l2_reg_ortho` of nbansal90/Can-we-Gain-More-from-Orthogonality
        in `Wide-Resnet/train_n.py` and in `Imagenet/resnet/train_n.py` /
        `SVHN/train.py` with the options above and the same start vector.
    """

    def __init__(
        self,
        factor,
        power_iterations=2,
        gram="filters",
        squared=False,
        start="normal",
        seed=0,
        kernel_layout="auto",
    ):
        options = _validated_options(power_iterations, gram, squared, start, seed)
        super().__init__(
            _spectral_restricted_isometry, factor, kernel_layout, **options
        )


SRIP = SpectralRestrictedIsometry
