import itertools

import keras
import numpy as np
import pytest
from keras import ops

from keras_ortho import losses
from tests import toolkit
from tests.losses import reference

CASES, ARRAYS = toolkit.load_golden("opl")
VARIANTS = {"root": "none", "cifar": "elementwise"}
RNG = np.random.default_rng(0)
SIGNED = RNG.normal(size=(10, 6)).astype("float32")
LABELS = np.array([0, 2, 1, 0, 2, 2, 1, 0, 3, 1])


def _rows_at_the_kink_of_abs(features, labels):
    """Rows in a different-class pair whose cosine is 0 in exact arithmetic
    but not reliably in float32 (overlapping supports): there |cos| has no
    gradient, the float64 reference takes 0 and float32 rounding picks +-1."""
    f = features.astype("float64")
    cos = f @ f.T
    overlapping = (np.abs(f)[:, None, :] * np.abs(f)[None, :, :]).sum(-1) > 0
    kink = (np.abs(cos) < 1e-6) & overlapping & (labels[:, None] != labels[None, :])
    return kink.any(axis=1)


def _batch_loss(labels, **kwargs):
    return lambda f: ops.mean(losses.orthogonal_projection_loss(labels, f, **kwargs))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["id"])
def test_golden_values_and_gradients(case):
    arrays = toolkit.golden_case_arrays(ARRAYS, case["id"])
    features, labels = arrays["features"].astype("float32"), arrays["labels"]
    for variant, gamma in itertools.product(sorted(VARIANTS), [0.5, 2.0]):
        key = f"{variant}_gamma{gamma}"
        value, grad = toolkit.value_and_grad(
            _batch_loss(labels, gamma=gamma, absolute=VARIANTS[variant]), features
        )
        np.testing.assert_allclose(
            value, arrays[f"loss_{key}"], rtol=1e-5, atol=1e-7, err_msg=key
        )
        _assert_gradient_matches(arrays, key, features, grad, variant == "cifar")

    # s and d of the CIFAR forward: gamma = 0 gives 1 - s, gamma = 1 adds d.
    without_d = np.mean(toolkit.to_numpy(_batch_loss(labels, gamma=0.0)(features)))
    with_d = np.mean(toolkit.to_numpy(_batch_loss(labels, gamma=1.0)(features)))
    np.testing.assert_allclose(1 - without_d, arrays["s_cifar"], atol=2e-6)
    np.testing.assert_allclose(with_d - without_d, arrays["d_cifar"], atol=2e-6)


def _assert_gradient_matches(arrays, key, features, grad, elementwise_abs):
    # The reference's gradient at a zero row is 1e12 times the upstream one
    # (torch normalize); ours is zero. Compare the non-zero rows.
    is_zero_row = np.abs(features).sum(axis=1) == 0
    assert np.all(grad[is_zero_row] == 0)
    compared = ~is_zero_row
    if elementwise_abs:
        compared &= ~_rows_at_the_kink_of_abs(features, arrays["labels"])
    mask = np.repeat(compared[:, None], features.shape[1], axis=1).ravel()
    if f"grad_{key}" in arrays:
        index, want = np.arange(grad.size), arrays[f"grad_{key}"].ravel()
    else:
        index, want = arrays["grad_index"], arrays[f"grad_{key}_sampled"]
    keep = mask[index]
    want, got = want[keep], grad.ravel()[index[keep]]
    scale = np.abs(want).max() if want.size else 1.0
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * scale, err_msg=key)


@pytest.mark.parametrize("absolute", ["elementwise", "none", "mean"])
@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0])
def test_matches_brute_force_numpy(absolute, gamma):
    per_sample = losses.orthogonal_projection_loss(
        LABELS, SIGNED, gamma=gamma, absolute=absolute
    )
    assert tuple(per_sample.shape) == (10,)
    want = reference.opl_np(SIGNED, LABELS, gamma=gamma, absolute=absolute)
    np.testing.assert_allclose(np.mean(toolkit.to_numpy(per_sample)), want, rtol=1e-5)
    loss = losses.OrthogonalProjectionLoss(gamma=gamma, absolute=absolute)
    np.testing.assert_allclose(toolkit.to_numpy(loss(LABELS, SIGNED)), want, rtol=1e-5)


def test_paper_variant_value_from_the_notes():
    # research/opl.md section 1, input B: paper-literal |mean|, gamma 0.5.
    arrays = toolkit.golden_case_arrays(ARRAYS, "case001")
    loss = losses.OrthogonalProjectionLoss(absolute="mean")
    value = loss(arrays["labels"], arrays["features"].astype("float32"))
    np.testing.assert_allclose(toolkit.to_numpy(value), 0.844520032, rtol=1e-6)


def test_mean_variant_gradient_matches_finite_differences():
    fn = _batch_loss(LABELS, absolute="mean")
    _, grad = toolkit.value_and_grad(fn, SIGNED.astype("float64"))
    step = 1e-4
    for i, j in [(0, 0), (3, 2), (9, 5)]:
        up, down = SIGNED.astype("float64"), SIGNED.astype("float64")
        up[i, j] += step
        down[i, j] -= step
        numeric = (
            reference.opl_np(up, LABELS, absolute="mean")
            - reference.opl_np(down, LABELS, absolute="mean")
        ) / (2 * step)
        np.testing.assert_allclose(grad[i, j], numeric, rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize(
    "labels",
    [
        LABELS.reshape(-1, 1),
        LABELS.astype("float32"),
        np.eye(4, dtype="float32")[LABELS],
    ],
    ids=["column", "float", "one_hot"],
)
def test_label_formats_agree(labels):
    want = toolkit.to_numpy(losses.OrthogonalProjectionLoss()(LABELS, SIGNED))
    got = toolkit.to_numpy(
        losses.OrthogonalProjectionLoss(num_classes=4)(labels, SIGNED)
    )
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_sample_weight_and_reductions():
    weights = np.linspace(0.0, 2.0, 10).astype("float32")
    per_sample = toolkit.to_numpy(
        losses.OrthogonalProjectionLoss(reduction=None)(LABELS, SIGNED)
    )
    weighted = losses.OrthogonalProjectionLoss()(LABELS, SIGNED, sample_weight=weights)
    np.testing.assert_allclose(
        toolkit.to_numpy(weighted), np.sum(weights * per_sample) / 10, rtol=1e-5
    )
    total = losses.OrthogonalProjectionLoss(reduction="sum")(LABELS, SIGNED)
    np.testing.assert_allclose(toolkit.to_numpy(total), per_sample.sum(), rtol=1e-5)


@pytest.mark.parametrize(
    "features, labels, want",
    [
        (SIGNED[:1], np.array([3]), 1.0),
        (SIGNED[:4], np.array([1, 1, 1, 1]), None),
        (SIGNED[:4], np.array([7, 1, 4, 0]), None),
        (np.zeros((5, 6), "float32"), np.array([0, 0, 1, 1, 2]), 1.0),
        (np.concatenate([SIGNED[:3], np.zeros((2, 6), "float32")]), LABELS[:5], None),
    ],
    ids=["batch_of_one", "single_class", "all_distinct", "all_zero", "zero_rows"],
)
def test_edge_cases_are_finite(features, labels, want):
    value, grad = toolkit.value_and_grad(_batch_loss(labels), features)
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    expected = reference.opl_np(features, labels) if want is None else want
    np.testing.assert_allclose(value, expected, rtol=1e-5)


@pytest.mark.parametrize("absolute", ["elementwise", "none", "mean"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_features_give_nan(bad, absolute):
    # Every anchor pairs with the bad row, so every sample is NaN.
    features = SIGNED.copy()
    features[4, 2] = bad
    per_sample = losses.orthogonal_projection_loss(LABELS, features, absolute=absolute)
    assert np.all(np.isnan(toolkit.to_numpy(per_sample)))
    loss = losses.OrthogonalProjectionLoss(absolute=absolute)
    assert np.isnan(toolkit.to_numpy(loss(LABELS, features)))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_low_precision_features_are_computed_in_float32(dtype):
    low = ops.cast(SIGNED, dtype)
    value = losses.orthogonal_projection_loss(LABELS, low)
    assert keras.backend.standardize_dtype(value.dtype) == "float32"
    rounded = toolkit.to_numpy(ops.cast(low, "float32"))
    np.testing.assert_allclose(
        np.mean(toolkit.to_numpy(value)), reference.opl_np(rounded, LABELS), rtol=1e-5
    )


@pytest.mark.parametrize(
    "labels, features, match",
    [
        (LABELS, SIGNED[:, :, None], "y_pred"),
        (LABELS, SIGNED[0], "y_pred"),
        (LABELS[:9], SIGNED, "y_true"),
        (LABELS.reshape(2, 5, 1), SIGNED, "y_true"),
        (LABELS + 0.5, SIGNED, "y_true.*whole numbers"),
        (np.full((10, 4), 0.25, "float32"), SIGNED, "y_true.*one-hot"),
        (np.eye(3, dtype="float32")[LABELS % 3], SIGNED, "y_true.*num_classes=4"),
        (LABELS + 4, SIGNED, r"y_true.*\[0, 4\)"),
    ],
    ids=[
        "rank3_features",
        "rank1_features",
        "batch_mismatch",
        "rank3_labels",
        "fractional_labels",
        "soft_labels",
        "one_hot_width",
        "label_range",
    ],
)
def test_bad_inputs_name_the_argument(labels, features, match):
    with pytest.raises(ValueError, match=match):
        losses.OrthogonalProjectionLoss(num_classes=4)(labels, features)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"gamma": -1.0}, ValueError, "gamma"),
        ({"gamma": "1"}, ValueError, "gamma"),
        ({"absolute": "abs"}, ValueError, "absolute"),
        ({"num_classes": 0}, ValueError, "num_classes"),
        ({"num_classes": 2.0}, TypeError, "num_classes"),
        ({"cross_replica": 1}, TypeError, "cross_replica"),
        ({"reduction": "max"}, ValueError, "reduction"),
    ],
)
def test_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        losses.OrthogonalProjectionLoss(**kwargs)
    if "reduction" not in kwargs:
        with pytest.raises(error, match=match):
            losses.orthogonal_projection_loss(LABELS, SIGNED, **kwargs)
