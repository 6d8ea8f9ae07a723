import numpy as np
import pytest
from keras import ops

from keras_ortho._ops import l2_normalize
from keras_ortho._ops import safe_norm
from tests import toolkit

ROWS = np.array([[3.0, 4.0, 0.0], [0.0, 0.0, 0.0], [1.0, -2.0, 2.0]], "float32")


def test_l2_normalize_matches_numpy_and_keeps_zero_rows():
    got = toolkit.to_numpy(l2_normalize(ops.convert_to_tensor(ROWS), axis=1))
    norms = np.linalg.norm(ROWS, axis=1, keepdims=True)
    want = ROWS / np.where(norms > 0, norms, 1.0)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert np.all(got[1] == 0.0)


def test_safe_norm_matches_numpy():
    got = toolkit.to_numpy(safe_norm(ops.convert_to_tensor(ROWS), axis=1))
    np.testing.assert_allclose(got, np.linalg.norm(ROWS, axis=1), rtol=1e-6)


@pytest.mark.parametrize("function", [l2_normalize, safe_norm])
def test_gradient_at_the_zero_vector_is_zero(function):
    _, grad = toolkit.value_and_grad(
        lambda x: ops.sum(function(x)), np.zeros((3,), "float32")
    )
    np.testing.assert_array_equal(grad, 0.0)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_non_finite_entry_gives_nan_never_a_finite_value(bad):
    # The guards test for zero norms: a NaN or Inf norm must not take the
    # zero branch (as `norm > eps` would, NaN failing every comparison).
    rows = ROWS.copy()
    rows[2, 1] = bad
    normalized = toolkit.to_numpy(l2_normalize(ops.convert_to_tensor(rows), axis=1))
    norms = toolkit.to_numpy(safe_norm(ops.convert_to_tensor(rows), axis=1))
    assert np.isnan(normalized[2]).any()
    assert not np.isfinite(norms[2])
    # Other rows are untouched.
    np.testing.assert_allclose(normalized[0], [0.6, 0.8, 0.0], rtol=1e-6)
    np.testing.assert_allclose(norms[:2], [5.0, 0.0], rtol=1e-6)
