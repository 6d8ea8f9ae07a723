"""CoupledWeightDecaySGD's update on the PyTorch backend, for all variables at once.

Keras' generic `update_step` runs one small chain of operators per variable;
on PyTorch, which dispatches each operator eagerly, that is several hundred
dispatches per step for a ResNet (Keras' own SGD avoids it the same way, with
`torch._foreach_*` operators). The arithmetic is the one of
`CoupledWeightDecaySGD.update_step`, applied to lists of tensors.
"""

import torch


@torch.no_grad()
def coupled_weight_decay_sgd_update(optimizer, grads, variables, learning_rate):
    """Applies one coupled-weight-decay SGD step to every variable in place."""
    values = [variable.value for variable in variables]
    grads = [
        torch.as_tensor(grad, dtype=value.dtype, device=value.device)
        for grad, value in zip(grads, values, strict=True)
    ]
    indices = [optimizer._get_variable_index(variable) for variable in variables]
    decayed = [
        position for position, index in enumerate(indices) if optimizer._decayed[index]
    ]
    if decayed:
        decayed_grads = torch._foreach_add(
            [grads[position] for position in decayed],
            [values[position] for position in decayed],
            alpha=optimizer.coupled_weight_decay,
        )
        for position, grad in zip(decayed, decayed_grads, strict=True):
            grads[position] = grad

    learning_rate = float(learning_rate)
    if optimizer.momentum == 0:
        torch._foreach_add_(values, grads, alpha=-learning_rate)
        return
    buffers = [optimizer.momentums[index].value for index in indices]
    torch._foreach_mul_(buffers, _scalar_like(optimizer.momentum, buffers))
    torch._foreach_add_(buffers, grads)
    if optimizer.nesterov:
        torch._foreach_add_(values, grads, alpha=-learning_rate)
        torch._foreach_add_(values, buffers, alpha=-learning_rate * optimizer.momentum)
    else:
        torch._foreach_add_(values, buffers, alpha=-learning_rate)


def _scalar_like(value, tensors):
    """`value` as a 0-dim tensor of `tensors`' common dtype and device, or
    the Python number where their dtypes differ. A Python number in an
    in-place product becomes a new tensor (a copy) per variable on the CPU;
    the 0-dim tensor is the same number rounded to the same dtype, once."""
    if len({tensor.dtype for tensor in tensors}) != 1:
        return value
    return torch.full((), value, dtype=tensors[0].dtype, device=tensors[0].device)
