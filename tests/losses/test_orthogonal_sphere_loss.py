import keras
import numpy as np
import pytest
from keras import ops

from keras_ortho import losses
from tests import toolkit
from tests.losses import reference

FEATURES = np.random.default_rng(0).normal(size=(5, 12)).astype("float32")
LABELS = np.array([0, 1, 0, 2, 1])


@pytest.mark.parametrize("num_blocks", [1, 3, 4])
@pytest.mark.parametrize("squared", [False, True])
def test_blocks_match_brute_force_numpy(num_blocks, squared):
    per_sample = losses.orthogonal_sphere_loss(
        LABELS, FEATURES, num_blocks=num_blocks, squared=squared
    )
    want = reference.os_blocks_np(FEATURES, num_blocks, squared=squared)
    np.testing.assert_allclose(toolkit.to_numpy(per_sample), want, rtol=1e-5, atol=1e-6)
    loss = losses.OrthogonalSphereLoss(num_blocks=num_blocks, squared=squared)
    np.testing.assert_allclose(
        toolkit.to_numpy(loss(LABELS, FEATURES)), want.mean(), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("squared", [False, True])
def test_feature_gram_matches_brute_force_numpy(squared):
    per_sample = losses.orthogonal_sphere_loss(
        LABELS, FEATURES, gram="features", squared=squared
    )
    want = reference.os_features_np(FEATURES, squared=squared)
    np.testing.assert_allclose(toolkit.to_numpy(per_sample), [want] * 5, rtol=1e-5)


def test_orthonormal_blocks_give_zero_with_finite_gradient():
    # 4 blocks of 4: block a of sample 0 lies along its own axis a.
    features = np.zeros((2, 16), "float32")
    features[0, [0, 5, 10, 15]] = [2.0, -1.0, 0.5, 3.0]
    features[1] = FEATURES[0, :4].repeat(4)
    value, grad = toolkit.value_and_grad(
        lambda f: ops.mean(losses.orthogonal_sphere_loss(LABELS[:2], f, num_blocks=4)),
        features,
    )
    per_sample = reference.os_blocks_np(features, 4)
    assert per_sample[0] == 0.0
    np.testing.assert_allclose(value, per_sample.mean(), rtol=1e-6)
    assert np.all(np.isfinite(grad))


@pytest.mark.parametrize("gram", ["blocks", "features"])
@pytest.mark.parametrize(
    "features",
    [np.zeros((3, 8), "float32"), FEATURES[:1, :8]],
    ids=["zero_rows", "batch_of_one"],
)
def test_degenerate_batches_are_finite(gram, features):
    value, grad = toolkit.value_and_grad(
        lambda f: ops.mean(
            losses.orthogonal_sphere_loss(LABELS[: len(features)], f, 4, gram=gram)
        ),
        features,
    )
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    if gram == "blocks":
        want = reference.os_blocks_np(features, 4).mean()
    else:
        want = reference.os_features_np(features)
    np.testing.assert_allclose(value, want, rtol=1e-6)


@pytest.mark.parametrize("squared", [False, True])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_features_give_nan(bad, squared):
    # A NaN used to take the zero-norm branch and give 0.0, a perfect value.
    features = FEATURES.copy()
    features[2, 5] = bad
    blocks = toolkit.to_numpy(
        losses.orthogonal_sphere_loss(LABELS, features, 3, squared=squared)
    )
    # Per sample: only the sample with the bad entry is NaN; the mean is NaN.
    assert np.isnan(blocks[2])
    np.testing.assert_allclose(
        np.delete(blocks, 2),
        np.delete(reference.os_blocks_np(FEATURES, 3, squared=squared), 2),
        rtol=1e-5,
    )
    assert np.isnan(toolkit.to_numpy(losses.OrthogonalSphereLoss(3)(LABELS, features)))
    # The feature Gram is a batch quantity: every sample is NaN.
    batch = losses.orthogonal_sphere_loss(
        LABELS, features, gram="features", squared=squared
    )
    assert np.all(np.isnan(toolkit.to_numpy(batch)))


def test_single_class_batches_are_finite():
    # The labels are ignored: a single-class batch is just a batch.
    value, grad = toolkit.value_and_grad(
        lambda f: ops.mean(losses.orthogonal_sphere_loss(np.zeros(5), f, 3)), FEATURES
    )
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    np.testing.assert_allclose(
        value, reference.os_blocks_np(FEATURES, 3).mean(), rtol=1e-5
    )


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_low_precision_features_are_computed_in_float32(dtype):
    low = ops.cast(FEATURES, dtype)
    value = losses.orthogonal_sphere_loss(LABELS, low, num_blocks=3)
    assert keras.backend.standardize_dtype(value.dtype) == "float32"
    rounded = toolkit.to_numpy(ops.cast(low, "float32"))
    np.testing.assert_allclose(
        toolkit.to_numpy(value), reference.os_blocks_np(rounded, 3), rtol=1e-5
    )


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="num_blocks=5"):
        losses.OrthogonalSphereLoss(num_blocks=5)(LABELS, FEATURES)
    with pytest.raises(ValueError, match="y_pred"):
        losses.OrthogonalSphereLoss(num_blocks=2)(LABELS, FEATURES[:, :, None])


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"num_blocks": 0}, ValueError, "num_blocks"),
        ({"num_blocks": 2.0}, TypeError, "num_blocks"),
        ({"squared": "yes"}, TypeError, "squared"),
        ({"gram": "filters"}, ValueError, "gram"),
    ],
)
def test_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        losses.OrthogonalSphereLoss(**kwargs)
    with pytest.raises(error, match=match):
        losses.orthogonal_sphere_loss(LABELS, FEATURES, **kwargs)
