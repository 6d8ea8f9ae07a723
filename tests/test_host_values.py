"""`host_values`: values only where reading them costs no device round trip,
and the feature losses' label checks that rely on it."""

import keras
import numpy as np
import pytest
from keras import ops

from keras_ortho import losses
from keras_ortho._host_values import host_values

BACKEND = keras.backend.backend()
LABELS = np.array([0, 1, 1, 2], dtype="int32")


def _traced(function, x):
    """`function(x)` called while the backend traces a compiled step."""
    if BACKEND == "jax":
        import jax

        return jax.jit(function)(x)
    if BACKEND == "tensorflow":
        import tensorflow as tf

        return tf.function(function)(x)
    import torch

    return torch.compile(function, backend="eager", fullgraph=False)(x)


def test_host_arrays_and_eager_cpu_tensors_are_read():
    np.testing.assert_array_equal(host_values(LABELS), LABELS)
    np.testing.assert_array_equal(host_values([0, 2]), [0, 2])
    np.testing.assert_array_equal(host_values(ops.convert_to_tensor(LABELS)), LABELS)


def test_symbolic_tensors_are_not_read():
    assert host_values(keras.Input((3,))) is None


def test_traced_tensors_are_not_read():
    seen = []

    def record(x):
        seen.append(host_values(x))
        return x + 1

    _traced(record, ops.convert_to_tensor(LABELS))
    assert seen and all(values is None for values in seen)


@pytest.mark.skipif(BACKEND != "torch", reason="a device tensor on torch")
def test_torch_meta_tensors_are_not_read():
    # A tensor off the CPU (the meta device stands in for a GPU here) is never
    # copied to the host.
    import torch

    assert host_values(torch.zeros(4, device="meta")) is None


def test_bad_labels_raise_on_a_direct_call():
    features = np.eye(4, dtype="float32")
    with pytest.raises(ValueError, match="whole numbers"):
        losses.OrthogonalProjectionLoss()(LABELS + 0.5, features)
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        losses.OrthogonalProjectionLoss(num_classes=2)(
            ops.convert_to_tensor(LABELS), features
        )


def test_labels_inside_a_compiled_step_are_used_as_given():
    # The same values as an eager call: no check, no error, no host read.
    features = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    loss = losses.OrthogonalProjectionLoss()
    eager = ops.convert_to_numpy(loss(LABELS, features))

    def compiled(labels):
        return loss(labels, ops.convert_to_tensor(features))

    traced = ops.convert_to_numpy(_traced(compiled, ops.convert_to_tensor(LABELS)))
    np.testing.assert_allclose(traced, eager, rtol=1e-6)
