"""Hard orthogonality: the projection of a kernel's filter matrix onto the
matrices with orthonormal columns (or rows), applied after every step."""

import math

import keras
from keras import ops

from keras_ortho._export import register_serializable
from keras_ortho._kernel_matrix import filter_groups
from keras_ortho._kernel_matrix import kernel_from_filter_groups
from keras_ortho._kernel_matrix import resolve_layout
from keras_ortho._kernel_matrix import validate_kernel_layout
from keras_ortho._model_graph import KernelLayouts
from keras_ortho._validation import validate_choice
from keras_ortho._validation import validate_int
from keras_ortho._validation import validate_positive_float

METHODS = ("bjorck", "svd", "qr")
DEFAULT_BJORCK_STEPS = 3

# Squarings of the Gram matrix in the spectral-norm bound (`_sigma_max_bound`).
# With r = min(fan_in, filters), the bound overestimates sigma_max by at most
# r^(1 / 2^(GRAM_SQUARINGS + 2)): 1.025 for r = 576.
GRAM_SQUARINGS = 5
# Guards the logarithms of a zero kernel's norms; any positive tiny value works.
_TINY = 1e-30


def resolve_kernel_layout(kernel, kernel_layout, name):
    """The layout of `kernel`: `kernel_layout` itself, or for `"auto"` the one
    the kernel's rank leaves no doubt about (rank 2 is Dense)."""
    rank = len(kernel.shape)
    if kernel_layout == "auto" and rank != 2:
        path = getattr(kernel, "path", None)
        which = f"kernel {path!r}" if path else "the kernel"
        raise ValueError(
            f"{name}(kernel_layout='auto') cannot tell how {which} of shape "
            f"{tuple(kernel.shape)} is stored: a plain, a transposed and a "
            "depthwise convolution kernel all have this rank. Pass "
            "kernel_layout='conv' (Conv1D/2D/3D, SeparableConv pointwise), "
            "'conv_transpose' (Conv*Transpose) or 'depthwise' "
            "(DepthwiseConv, SeparableConv depthwise), or place it with "
            "keras_ortho.constraints.attach, which reads the layout from "
            "each layer."
        )
    return resolve_layout(rank, kernel_layout)


def _transpose(matrices):
    return ops.transpose(matrices, (0, 2, 1))


def _frobenius_norm(matrices):
    """`||M||_F` of each matrix of a `(groups, p, q)` stack, `(groups, 1, 1)`."""
    return ops.sqrt(ops.sum(ops.square(matrices), axis=(1, 2), keepdims=True))


def _log_sigma_max_bound(gram):
    """`log` of an upper bound on `sigma_max(A)` from `G = A^T A` `(groups, q, q)`.

    Gram iteration (Delattre et al., 2023): for a positive semi-definite `G`
    of rank r and any k, `lambda_max(G)^k <= ||G^k||_F <= sqrt(r) lambda_max(G)^k`.
    Squaring `G` `GRAM_SQUARINGS` times, each time divided by its Frobenius
    norm (kept in the log) so nothing overflows, gives `||G^(2^n)||_F^(1/2^n)`.
    """
    log_bound = ops.zeros_like(gram[:, :1, :1])
    for i in range(GRAM_SQUARINGS):
        norm = ops.maximum(_frobenius_norm(gram), _TINY)
        gram = gram / norm
        log_bound = log_bound + ops.log(norm) / 2.0**i
        gram = ops.matmul(gram, gram)
    norm = ops.maximum(_frobenius_norm(gram), _TINY)
    log_bound = log_bound + ops.log(norm) / 2.0**GRAM_SQUARINGS
    # The bound is on lambda_max(G) = sigma_max(A)^2.
    return log_bound / 2.0


def _bjorck(tall, steps):
    """`steps` Björck steps `A <- A (3 I - A^T A) / 2` on tall `(groups, p, q)`
    matrices, after scaling each so that its largest singular value lies in
    `[r^(-1/2^(n+3)), r^(1/2^(n+3))]` (n = `GRAM_SQUARINGS`, r = q), well
    inside the basin `(0, sqrt(3))` where the steps converge to the polar
    factor."""
    # Dividing by the largest entry first keeps the Gram of any kernel, huge
    # or tiny, in float32 range; a zero kernel stays zero.
    largest = ops.amax(ops.abs(tall), axis=(1, 2), keepdims=True)
    tall = tall / ops.where(largest > 0, largest, ops.ones_like(largest))
    gram = ops.matmul(_transpose(tall), tall)
    rank = tall.shape[-1]
    log_target = math.log(rank) / 2.0 ** (GRAM_SQUARINGS + 3)
    factor = ops.exp(log_target - _log_sigma_max_bound(gram))
    factor = ops.where(largest > 0, factor, ops.ones_like(factor))
    tall = tall * factor
    gram = gram * ops.square(factor)
    for step in range(steps):
        if step:
            gram = ops.matmul(_transpose(tall), tall)
        tall = 1.5 * tall - 0.5 * ops.matmul(tall, gram)
    return tall


def _polar_svd(tall):
    u, _, vh = ops.svd(tall, full_matrices=False)
    return ops.matmul(u, vh)


def _qr_sign_fixed(tall):
    q, r = ops.qr(tall, mode="reduced")
    diagonal = ops.diagonal(r, axis1=-2, axis2=-1)
    signs = ops.where(diagonal < 0, -ops.ones_like(diagonal), ops.ones_like(diagonal))
    return q * ops.expand_dims(signs, -2)


@register_serializable
def orthogonal_projection(
    kernel,
    method="bjorck",
    bjorck_steps=DEFAULT_BJORCK_STEPS,
    gain=1.0,
    kernel_layout="auto",
):
    """Replaces a kernel's filter matrix by the nearest orthogonal one.

    With `W` the filter matrix `(fan_in, filters)` (see
    `keras_ortho.regularizers.SoftOrthogonality`) and `W = U S V^T` its thin
    SVD:

    ```
    P(W) = gain * U V^T      (the polar factor: orthonormal columns if
                              filters <= fan_in, orthonormal rows otherwise)
    ```

    `U V^T` is the matrix with orthonormal columns (rows) nearest to `W` in
    the Frobenius norm. A depthwise kernel is projected per input channel:
    each channel's `(kh * kw, multiplier)` matrix separately.

    Args:
        kernel: a Keras kernel (tensor or variable) of rank 2 to 5.
        method: `"bjorck"`, `"svd"` or `"qr"`; see
            `keras_ortho.constraints.Orthogonal`.
        bjorck_steps: the number of Björck steps, an integer >= 0.
        gain: the scale `gain` of the result, a finite number > 0.
        kernel_layout: `"auto"`, `"dense"`, `"conv"`, `"conv_transpose"` or
            `"depthwise"`; see `keras_ortho.constraints.Orthogonal`.

    Returns:
        The projected kernel, of the same shape and dtype as `kernel`.
    """
    validate_choice(method, "method", METHODS)
    validate_int(bjorck_steps, "bjorck_steps", minimum=0)
    gain = validate_positive_float(gain, "gain")
    validate_kernel_layout(kernel_layout)
    layout = resolve_kernel_layout(kernel, kernel_layout, "orthogonal_projection")
    dtype = keras.backend.standardize_dtype(kernel.dtype)
    shape = tuple(kernel.shape)

    groups = filter_groups(ops.cast(kernel, "float32"), layout)
    fan_in, filters = groups.shape[1:]
    wide = filters > fan_in
    tall = _transpose(groups) if wide else groups
    if method == "bjorck":
        tall = _bjorck(tall, bjorck_steps)
    else:
        # torch's SVD and QR raise on NaN or Inf: factor a finite stand-in
        # and give NaN back where the kernel was not finite.
        finite = ops.all(ops.isfinite(tall), axis=(1, 2), keepdims=True)
        stand_in = ops.where(finite, tall, ops.zeros_like(tall))
        factor = _polar_svd if method == "svd" else _qr_sign_fixed
        tall = ops.where(finite, factor(stand_in), float("nan"))
    if gain != 1.0:
        tall = tall * gain
    groups = _transpose(tall) if wide else tall
    return ops.cast(kernel_from_filter_groups(groups, shape, layout), dtype)


@register_serializable
class Orthogonal(keras.constraints.Constraint):
    """Keeps a kernel's filter matrix orthogonal: projects it after every step.

    Keras applies a constraint after each optimizer update
    (`variable.assign(constraint(variable))`). This one replaces the kernel's
    filter matrix `W` `(fan_in, filters)`, one column per output filter (see
    `keras_ortho.regularizers.SoftOrthogonality`), by the nearest matrix with
    orthonormal columns, times `gain`; where the layer has more filters than
    `fan_in` (over-complete) only orthonormal rows are possible, and it
    projects onto those. A depthwise kernel is projected per input channel.
    It is the hard end of the soft orthogonality penalties: `W^T W = I`
    (`W W^T = I` when over-complete) after every step, exactly for
    `method="svd"`, to float32 precision for `"bjorck"` within a few steps.

    Formula, with `W = U S V^T` the thin SVD:

    ```
    "svd":     W <- gain * U V^T                       (the polar factor)
    "bjorck":  A <- A * c / s,   then bjorck_steps x   A <- A (3 I - A^T A) / 2
    "qr":      W = Q R,   W <- gain * Q diag(sign(diag(R)))
    ```

    `"bjorck"` converges to the polar factor `U V^T` when every singular value
    of `A` lies in `(0, sqrt(3))`, the error shrinking quadratically (a
    relative error of 1e-2 left by an SGD step falls to 1e-4, then 1e-8). The
    scaling puts any kernel there without randomness or data-dependent loops:
    `s` is the Gram-iteration bound `||(W^T W)^(2^n)||_F^(1/2^(n+1))` with
    n = 5 squarings, which is never below `sigma_max(W)` and at most
    `r^(1/2^(n+2))` times it (r = min(fan_in, filters); 1.025 for r = 576),
    and `c = r^(1/2^(n+3))` centres the scaled `sigma_max` on 1 within that
    ratio. Small singular values grow by about 1.5x per step, so a
    badly-conditioned kernel (such as a fresh `he_normal` one) needs several
    calls (training steps) or more steps to converge; the default 3 steps
    restore a kernel that one SGD step moved off orthogonality to float32
    precision. `bjorck_steps=0` only rescales.

    `"qr"` returns an orthonormal basis of the span of the filters that keeps
    the first filter's direction: a retraction, not the nearest point.

    The projection runs in float32 whatever the variable's dtype and is
    stored back in that dtype. It has no gradient (Keras applies constraints
    outside the differentiated step).

    Args:
        method: `"bjorck"` (default; matmuls only, fast on every device),
            `"svd"` (the exact polar factor) or `"qr"`.
        bjorck_steps: the number of Björck steps, an integer >= 0 (default
            3); unrolled, so the step compiles to a fixed program.
        gain: the scale of the result, `W^T W = gain^2 I`; a finite
            number > 0 (default 1).
        kernel_layout: how the kernel is stored: `"dense"`, `"conv"`
            (Conv1D/2D/3D, SeparableConv pointwise), `"conv_transpose"`,
            `"depthwise"` (DepthwiseConv, SeparableConv depthwise), or
            `"auto"` (default): a 2-D kernel is Dense, and a kernel of higher
            rank takes the layout of the layer that holds it in the model
            `fit` trains (found once per kernel); elsewhere (a custom
            training loop, a direct call) a ValueError asks for
            `kernel_layout` rather than guess. `keras_ortho.constraints.attach`
            sets it for you.

    Example:

    ```python
    layer = keras.layers.Conv2DTranspose(
        64,
        3,
        kernel_initializer=keras_ortho.initializers.OrthogonalFilters(
            kernel_layout="conv_transpose", seed=0
        ),
        kernel_constraint=keras_ortho.constraints.Orthogonal(),
    )
    ```

    Reference:
        Å. Björck, C. Bowie, "An iterative algorithm for computing the best
        estimate of an orthogonal matrix", SIAM J. Numer. Anal. 8(2), 1971.
        B. Delattre, Q. Barthélemy, A. Araujo, A. Allauzen, "Efficient Bound
        of Lipschitz Constant for Convolutional Layers by Gram Iteration",
        ICML 2023 (the scaling).
    """

    def __init__(
        self,
        method="bjorck",
        bjorck_steps=DEFAULT_BJORCK_STEPS,
        gain=1.0,
        kernel_layout="auto",
    ):
        self.method = validate_choice(method, "method", METHODS)
        self.bjorck_steps = validate_int(bjorck_steps, "bjorck_steps", minimum=0)
        self.gain = validate_positive_float(gain, "gain")
        self.kernel_layout = validate_kernel_layout(kernel_layout)
        self._kernel_layouts = KernelLayouts()

    def __call__(self, w):
        layout = self.kernel_layout
        if layout == "auto" and len(w.shape) != 2:
            layout = self._layout_of(w)
        return orthogonal_projection(
            w,
            method=self.method,
            bjorck_steps=self.bjorck_steps,
            gain=self.gain,
            kernel_layout=layout,
        )

    def _layout_of(self, variable):
        """The layout of a kernel of rank 3 to 5 under `"auto"`: that of the
        layer holding it in the model `fit` is training."""
        layout = self._kernel_layouts.layout(variable, type(self).__name__)
        if layout is None:
            # Raises the error that asks for `kernel_layout`.
            resolve_kernel_layout(variable, "auto", type(self).__name__)
        return layout

    def get_config(self):
        return {
            "method": self.method,
            "bjorck_steps": self.bjorck_steps,
            "gain": self.gain,
            "kernel_layout": self.kernel_layout,
        }

    def __repr__(self):
        options = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({options})"
