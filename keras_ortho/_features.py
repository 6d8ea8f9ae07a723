"""Input handling shared by the feature metrics, the diagnostics and the plots:
feature matrices, labels, and per-class sums."""

import numpy as np
from keras import ops


def feature_matrix(features):
    """`features` as a float32 `(N, D)` tensor; raises on any other rank."""
    features = ops.cast(ops.convert_to_tensor(features), "float32")
    if len(features.shape) != 2:
        raise ValueError(
            "Invalid `features`: expected a matrix of shape (num_samples, "
            f"feature_dim). Received: features of shape {tuple(features.shape)}"
        )
    return features


def label_array(labels, num_samples):
    """Integer labels as a NumPy array `(N,)` from integer labels `(N,)` or
    `(N, 1)`, or one-hot labels `(N, K)`."""
    labels = np.asarray(ops.convert_to_numpy(labels))
    if labels.ndim == 2 and labels.shape[1] > 1:
        labels = labels.argmax(axis=1)
    labels = labels.reshape(-1)
    if labels.shape[0] != num_samples:
        raise ValueError(
            "Invalid `labels`: expected one label per sample "
            f"({num_samples}). Received: {labels.shape[0]} labels"
        )
    return labels


def class_index(labels, num_samples):
    """Maps `labels` to `0..C-1` over the classes present, in sorted order.

    Returns `(index, num_classes)` with `index` an int32 NumPy array `(N,)`.
    """
    classes, index = np.unique(label_array(labels, num_samples), return_inverse=True)
    return index.astype("int32"), len(classes)


def class_sums(features, index, num_classes):
    """Per-class sums of the rows of `features`: float32 `(C, D)`, and counts `(C,)`."""
    membership = ops.one_hot(ops.convert_to_tensor(index), num_classes, dtype="float32")
    return ops.matmul(ops.transpose(membership), features), ops.sum(membership, axis=0)


def per_class_means(features, index, num_classes):
    """The mean row of `features` per class: float32 `(C, D)`."""
    sums, counts = class_sums(features, index, num_classes)
    return sums / ops.expand_dims(counts, -1)


def to_float(x):
    """A scalar tensor as a Python float."""
    return float(ops.convert_to_numpy(x))
