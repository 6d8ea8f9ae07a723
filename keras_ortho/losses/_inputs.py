"""Checks and conversions of `(y_true, y_pred)` shared by the feature losses.

Shapes are checked when the loss is traced, from static shapes. Label values
are checked only where reading them is free: when they are concrete and
already in host memory (NumPy arrays, or CPU tensors on an eager call: a
direct call of the loss, or an eager training step on a CPU). Inside a
compiled step (XLA, `tf.function`, `jax.jit`, `torch.compile`) the values are
unknown when the step is traced, and on an accelerator reading them would
copy them to the host and stall the device every step (the default eager
`fit` on the torch backend); there the checks are skipped and labels are used
as given, as Keras' own losses use them.
"""

import numpy as np
from keras import ops

from keras_ortho._host_values import host_values


def features_of(y_pred):
    """`y_pred` as float32 features of shape `(batch, dim)`."""
    shape = tuple(y_pred.shape)
    if len(shape) != 2:
        raise ValueError(
            "Invalid `y_pred`: expected features of rank 2, (batch_size, dim). "
            f"Received: y_pred.shape={shape}"
        )
    return ops.cast(y_pred, "float32")


def class_ids_of(y_true, features, num_classes=None):
    """Class ids `(batch,)` (float32) from integer labels `(batch,)` or
    `(batch, 1)`, or one-hot labels `(batch, num_classes)`."""
    shape = tuple(y_true.shape)
    if len(shape) not in (1, 2):
        raise ValueError(
            "Invalid `y_true`: expected class labels of shape (batch_size,) or "
            "(batch_size, 1), or one-hot labels (batch_size, num_classes). "
            f"Received: y_true.shape={shape}"
        )
    labels_batch, features_batch = shape[0], features.shape[0]
    if None not in (labels_batch, features_batch) and labels_batch != features_batch:
        raise ValueError(
            "Invalid `y_true`: its batch size must equal that of `y_pred`. "
            f"Received: y_true.shape={shape}, y_pred.shape={tuple(features.shape)}"
        )
    one_hot = len(shape) == 2 and shape[1] != 1
    if one_hot and num_classes is not None and shape[1] != num_classes:
        raise ValueError(
            f"Invalid `y_true`: one-hot labels must have num_classes={num_classes} "
            f"columns. Received: y_true.shape={shape}"
        )
    _check_label_values(y_true, one_hot, num_classes)
    if one_hot:
        return ops.cast(ops.argmax(y_true, axis=1), "float32")
    return ops.cast(ops.reshape(y_true, (-1,)), "float32")


def _check_label_values(y_true, one_hot, num_classes):
    values = host_values(y_true)
    if values is None:
        return
    if one_hot:
        is_binary = np.all((values == 0) | (values == 1))
        if not (is_binary and np.all(values.sum(axis=1) == 1)):
            raise ValueError(
                "Invalid `y_true`: labels of shape (batch_size, num_classes) must "
                "be one-hot (a single 1 per row, zeros elsewhere). Received rows "
                f"such as {values[0].tolist()}"
            )
        return
    if not np.all(np.isfinite(values)) or np.any(values != np.round(values)):
        bad = values[~np.isfinite(values) | (values != np.round(values))]
        raise ValueError(
            "Invalid `y_true`: class labels must be whole numbers. Received "
            f"values such as {bad.ravel()[:3].tolist()}"
        )
    if num_classes is not None and np.any((values < 0) | (values >= num_classes)):
        raise ValueError(
            f"Invalid `y_true`: class labels must lie in [0, {num_classes}). "
            f"Received values in [{values.min()}, {values.max()}]"
        )
