"""Checks and conversions of `(y_true, y_pred)` shared by the feature losses.

Shapes are checked when the loss is traced, from static shapes. Label values
can only be checked where they are concrete: on eager calls (a direct call of
the loss, or `fit` with `run_eagerly=True`). Inside a compiled step (XLA,
`tf.function`, `jax.jit`) the values are unknown when the step is traced, so
those checks are skipped and labels are used as given.
"""

import numpy as np
from keras import ops


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


def _concrete_values(x):
    """The NumPy values of `x`, or None while a compiled step is traced."""
    try:
        return np.asarray(ops.convert_to_numpy(x))
    except Exception:  # symbolic (tf.function) or traced (jax.jit) tensor
        return None


def _check_label_values(y_true, one_hot, num_classes):
    values = _concrete_values(y_true)
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
