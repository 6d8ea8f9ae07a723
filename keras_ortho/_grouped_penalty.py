"""Soft orthogonality of many kernels at once: one batched Gram per kernel shape.

Keras computes a `kernel_regularizer` once per variable, so a CIFAR ResNet-56
with SO on every kernel runs 58 small Gram computations per step, while its
kernels have only 9 distinct shapes. Stacking the kernels of one shape and
forming their Grams with one batched matmul gives the same sum with about a
sixth of the operators, which is what an eager (torch) or launch-bound (GPU)
step pays for. The value equals the per-kernel sum of
`keras_ortho.regularizers.SoftOrthogonality` up to float32 rounding.
"""

from keras import ops


def _filter_matrices(kernels):
    """`(count, fan_in, filters)`: Keras kernels `(..., fan_in_part, filters)`
    of one shape (Dense or convolution layout) stacked as filter matrices."""
    stacked = ops.stack([ops.cast(kernel, "float32") for kernel in kernels])
    filters = stacked.shape[-1]
    return ops.reshape(stacked, (len(kernels), -1, filters))


def grouped_soft_orthogonality(kernels, factor):
    """`factor * sum_k ||W_k^T W_k - I||_F^2` over `kernels`, by shape group.

    Each filter matrix `W` `(fan_in, filters)` forms its smaller Gram; where
    that is `W W^T` the constant `filters - fan_in` is added, as
    `SoftOrthogonality(gram="filters")` does.

    Args:
        kernels: Dense or plain convolution kernels (any mix of shapes).
        factor: the penalty weight.

    Returns:
        A float32 scalar.
    """
    groups = {}
    for kernel in kernels:
        groups.setdefault(tuple(kernel.shape), []).append(kernel)
    total = ops.zeros((), "float32")
    for group in groups.values():
        matrices = _filter_matrices(group)
        fan_in, filters = matrices.shape[1], matrices.shape[2]
        transposed = ops.transpose(matrices, (0, 2, 1))
        if filters <= fan_in:
            gram = ops.matmul(transposed, matrices)
        else:
            gram = ops.matmul(matrices, transposed)
        residual = gram - ops.eye(gram.shape[-1], dtype="float32")
        total = total + ops.sum(ops.square(residual))
        if filters > fan_in:
            total = total + float(len(group) * (filters - fan_in))
    return ops.multiply(ops.convert_to_tensor(factor, "float32"), total)
