import math

import keras
import numpy as np
import pytest

from keras_ortho.recipes.sample_mixing import MixingDraw
from keras_ortho.recipes.sample_mixing import SampleMixing
from tests.toolkit import to_numpy

HEIGHT, WIDTH = 12, 10


def reference_rand_bbox(rng, height, width, lam):
    """Yun et al.'s `rand_bbox`: a box of `floor(side * sqrt(1 - lam))`
    centred at a uniform pixel, each edge clipped to the image."""
    cut_h, cut_w = int(height * math.sqrt(1 - lam)), int(width * math.sqrt(1 - lam))
    cy, cx = rng.integers(height), rng.integers(width)
    top, bottom = max(cy - cut_h // 2, 0), min(cy + cut_h // 2, height)
    left, right = max(cx - cut_w // 2, 0), min(cx + cut_w // 2, width)
    return top, left, bottom, right


def draws(mixing, count, batch_size=8, seed=0):
    rng = np.random.default_rng(seed)
    return [mixing.draw(rng, batch_size, HEIGHT, WIDTH) for _ in range(count)]


def test_mixup_draws_one_beta_weight_and_a_permutation_per_batch():
    all_draws = draws(SampleMixing(mixup_alpha=0.4), 2000)
    for draw in all_draws[:20]:
        assert sorted(draw.partners) == list(range(8))
        assert len(set(draw.image_weights)) == 1
        np.testing.assert_array_equal(draw.label_weights, draw.image_weights)
        assert not draw.boxes.any()
    lam = np.array([d.label_weights[0] for d in all_draws])
    # Beta(0.4, 0.4): mean 1/2, variance 1 / (4 (2 alpha + 1)) = 1/7.2.
    assert abs(lam.mean() - 0.5) < 0.03
    assert abs(lam.var() - 1 / 7.2) < 0.01


def test_cutmix_boxes_and_weights_follow_the_reference():
    all_draws = draws(SampleMixing(cutmix_alpha=1.0), 2000)
    for draw in all_draws:
        top, left, bottom, right = draw.boxes[0]
        assert (draw.boxes == draw.boxes[0]).all()
        assert 0 <= top <= bottom <= HEIGHT and 0 <= left <= right <= WIDTH
        area = (bottom - top) * (right - left)
        np.testing.assert_allclose(
            draw.label_weights, 1 - area / (HEIGHT * WIDTH), rtol=1e-6
        )
        np.testing.assert_array_equal(draw.image_weights, 1.0)
    # The distribution of the own-label share matches an independent
    # sampler of the reference box (lam ~ Beta(1, 1) = uniform).
    rng = np.random.default_rng(123)
    reference = []
    for _ in range(4000):
        top, left, bottom, right = reference_rand_bbox(
            rng, HEIGHT, WIDTH, rng.uniform()
        )
        reference.append(1 - (bottom - top) * (right - left) / (HEIGHT * WIDTH))
    ours = np.array([d.label_weights[0] for d in all_draws])
    assert abs(ours.mean() - np.mean(reference)) < 0.02
    assert abs(np.median(ours) - np.median(reference)) < 0.04


def test_probability_and_switching():
    all_draws = draws(
        SampleMixing(mixup_alpha=1.0, cutmix_alpha=1.0, probability=0.6), 2000
    )
    # A CutMix box may be empty (lam near 1), so the kinds are told apart by
    # the partners and the image weights, not by the box.
    identity = [d for d in all_draws if (d.partners == np.arange(8)).all()]
    mixup = [d for d in all_draws if (d.image_weights < 1).all()]
    cutmix = [
        d
        for d in all_draws
        if (d.image_weights == 1).all() and (d.partners != np.arange(8)).any()
    ]
    for draw in identity:
        np.testing.assert_array_equal(draw.label_weights, 1.0)
        assert not draw.boxes.any()
    assert len(identity) + len(cutmix) + len(mixup) == 2000
    assert abs(len(identity) / 2000 - 0.4) < 0.04
    assert abs(len(cutmix) / 2000 - 0.3) < 0.04
    assert abs(len(mixup) / 2000 - 0.3) < 0.04


def test_soft_labels_give_the_references_paired_cross_entropy():
    labels = np.array([0, 1, 2, 3])
    draw = MixingDraw(
        np.array([1, 0, 3, 2], np.int32),
        np.full(4, 0.3, np.float32),
        np.zeros((4, 4), np.int32),
        np.full(4, 0.3, np.float32),
    )
    soft = draw.soft_labels(labels, 5)
    for i in range(4):
        expected = np.zeros(5)
        expected[labels[i]] += 0.3
        expected[labels[draw.partners[i]]] += 0.7
        np.testing.assert_allclose(soft[i], expected, rtol=1e-6)
    logits = np.random.default_rng(0).normal(size=(4, 5)).astype("float32")
    mixed = keras.losses.CategoricalCrossentropy(from_logits=True, reduction=None)
    paired = keras.losses.SparseCategoricalCrossentropy(
        from_logits=True, reduction=None
    )
    np.testing.assert_allclose(
        to_numpy(mixed(soft, logits)),
        0.3 * to_numpy(paired(labels, logits))
        + 0.7 * to_numpy(paired(labels[draw.partners], logits)),
        rtol=1e-5,
    )
    identity = MixingDraw.identity(4)
    np.testing.assert_array_equal(identity.soft_labels(labels, 5), np.eye(5)[labels])


def test_invalid_arguments():
    with pytest.raises(ValueError, match="mixup_alpha > 0"):
        SampleMixing()
    with pytest.raises(ValueError, match="probability"):
        SampleMixing(mixup_alpha=1.0, probability=0.0)
    with pytest.raises(ValueError, match="cutmix_alpha"):
        SampleMixing(cutmix_alpha=-1.0)
    with pytest.raises(ValueError, match="mixup_alpha"):
        SampleMixing(mixup_alpha=math.inf)
