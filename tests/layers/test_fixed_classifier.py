import keras
import numpy as np
import pytest

from keras_ortho import layers
from keras_ortho.layers._class_vectors import INITS
from keras_ortho.layers._class_vectors import class_vectors
from tests import toolkit

DIM = 16
UNITS = 5


def _vectors(layer):
    return toolkit.to_numpy(layer.class_vectors)


def _features(shape=(4, DIM), seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def _model(**kwargs):
    return keras.Sequential(
        [
            keras.Input((8,)),
            keras.layers.Dense(DIM, activation="relu"),
            layers.FixedClassifier(UNITS, seed=3, **kwargs),
        ]
    )


def _data():
    rng = np.random.default_rng(1)
    return rng.normal(size=(8, 8)).astype("float32"), np.arange(8) % UNITS


def test_uniform_vectors_equal_an_independent_numpy_draw():
    layer = layers.FixedClassifier(UNITS, seed=2020)
    layer.build((None, DIM))
    integers = np.random.default_rng(2020).integers(-100, 100, size=(UNITS, DIM))
    expected = integers / np.sqrt(np.sum(integers**2, axis=1, keepdims=True))
    assert keras.backend.standardize_dtype(layer.class_vectors.dtype) == "float32"
    np.testing.assert_array_equal(_vectors(layer), expected.T.astype("float32"))


@pytest.mark.parametrize("init", INITS)
def test_vectors_are_the_backend_independent_numpy_bits(init):
    layer = layers.FixedClassifier(UNITS, init=init, seed=9)
    layer.build((None, DIM))
    np.testing.assert_array_equal(_vectors(layer), class_vectors(init, DIM, UNITS, 9))
    assert layer.class_vectors.trainable is False
    assert layer.trainable_weights == []


def test_learned_baseline_starts_from_the_same_vectors():
    fixed = layers.FixedClassifier(UNITS, init="simplex_etf", seed=8)
    learned = layers.FixedClassifier(
        UNITS, init="simplex_etf", seed=8, trainable_vectors=True
    )
    fixed.build((None, DIM))
    learned.build((None, DIM))
    np.testing.assert_array_equal(_vectors(learned), _vectors(fixed))
    assert [w.path for w in learned.trainable_weights] == [learned.class_vectors.path]


@pytest.mark.parametrize("use_bias", [False, True])
def test_dot_logits_match_numpy_loops(use_bias):
    layer = layers.FixedClassifier(UNITS, use_bias=use_bias, seed=4)
    features = _features((2, 3, DIM))
    layer.build(features.shape)
    vectors = _vectors(layer).astype("float64")
    bias = np.linspace(-1.0, 1.0, UNITS)
    if use_bias:
        layer.bias.assign(bias.astype("float32"))
    expected = np.zeros((2, 3, UNITS))
    for index in np.ndindex(2, 3):
        for c in range(UNITS):
            expected[index][c] = np.sum(features[index] * vectors[:, c])
            expected[index][c] += bias[c] if use_bias else 0.0
    np.testing.assert_allclose(toolkit.to_numpy(layer(features)), expected, atol=1e-5)


@pytest.mark.parametrize(
    "scale, initial_scale, expected_scale",
    [(16.0, None, 16.0), ("learned", None, 10.0), ("learned", 3.0, 3.0)],
)
def test_cosine_logits_equal_scale_times_numpy_cosine(
    scale, initial_scale, expected_scale
):
    layer = layers.FixedClassifier(
        UNITS,
        init="normal",
        logits="cosine",
        scale=scale,
        initial_scale=initial_scale,
        seed=6,
    )
    features = _features() * 7.0
    features[1] = 0.0
    layer.build(features.shape)
    vectors = _vectors(layer).astype("float64")
    expected = np.zeros((4, UNITS))
    for b in range(4):
        for c in range(UNITS):
            norms = np.linalg.norm(features[b]) * np.linalg.norm(vectors[:, c])
            if norms > 0:
                cosine = np.dot(features[b], vectors[:, c]) / norms
                expected[b, c] = expected_scale * cosine
    np.testing.assert_allclose(toolkit.to_numpy(layer(features)), expected, atol=1e-5)


def test_cosine_gradient_is_finite_at_a_zero_feature():
    layer = layers.FixedClassifier(UNITS, logits="cosine", scale=8.0, seed=1)
    features = _features()
    features[0] = 0.0
    layer.build(features.shape)
    value, grad = toolkit.value_and_grad(
        lambda x: keras.ops.sum(keras.ops.square(layer(x))), features
    )
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    np.testing.assert_array_equal(grad[0], 0.0)


@pytest.mark.parametrize(
    "optimizer", ["adamw", "sgd"], ids=["AdamW", "SGD_weight_decay"]
)
@pytest.mark.parametrize("trainable_vectors", [False, True])
def test_weight_decay_leaves_fixed_vectors_bit_identical(optimizer, trainable_vectors):
    make = {
        "adamw": lambda: keras.optimizers.AdamW(0.1, weight_decay=0.5),
        "sgd": lambda: keras.optimizers.SGD(0.1, weight_decay=0.5),
    }[optimizer]
    x, y = _data()
    model = _model(trainable_vectors=trainable_vectors)
    head = model.layers[-1]
    before = _vectors(head)
    features_before = toolkit.to_numpy(model.layers[0].kernel)
    toolkit.fit_one_step(
        model,
        x,
        y,
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer=make(),
        jit_compile=False,
    )
    assert not np.array_equal(toolkit.to_numpy(model.layers[0].kernel), features_before)
    if trainable_vectors:
        assert not np.array_equal(_vectors(head), before)
    else:
        np.testing.assert_array_equal(_vectors(head), before)


def test_fit_step_jit_compiled():
    x, y = _data()
    model = _model(logits="cosine", scale="learned", use_bias=True)
    head = model.layers[-1]
    before = _vectors(head)
    optimizer = keras.optimizers.AdamW(0.1, weight_decay=0.5)
    optimizer.exclude_from_weight_decay(var_names=["scale"])
    toolkit.fit_one_step(
        model,
        x,
        y,
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        optimizer=optimizer,
    )
    np.testing.assert_array_equal(_vectors(head), before)
    assert toolkit.to_numpy(head.learned_scale) != 10.0
    assert np.any(toolkit.to_numpy(head.bias) != 0.0)


@pytest.mark.parametrize("policy", toolkit.MIXED_POLICIES)
def test_mixed_precision_fit(policy):
    x, y = _data()
    with toolkit.mixed_precision(policy):
        model = _model(logits="cosine", scale=10.0)
        head = model.layers[-1]
        compute_dtype = keras.DTypePolicy(policy).compute_dtype
        outputs = model(x)
        assert keras.backend.standardize_dtype(outputs.dtype) == compute_dtype
        assert keras.backend.standardize_dtype(head.class_vectors.dtype) == "float32"
        before = _vectors(head)
        toolkit.fit_one_step(
            model,
            x,
            y,
            keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            jit_compile="auto",
        )
        np.testing.assert_array_equal(_vectors(head), before)


@pytest.mark.parametrize("policy", toolkit.MIXED_POLICIES)
def test_cosine_norm_is_reduced_in_float32(policy):
    # ||h||^2 = 16 * 300^2 overflows float16.
    with toolkit.mixed_precision(policy):
        layer = layers.FixedClassifier(
            UNITS, init="orthogonal", logits="cosine", scale=4.0, seed=2
        )
        features = np.full((1, DIM), 300.0, "float32")
        logits = toolkit.to_numpy(keras.ops.cast(layer(features), "float32"))
    vectors = _vectors(layer).astype("float64")
    expected = 4.0 * np.sum(vectors, axis=0) / np.sqrt(DIM)
    np.testing.assert_allclose(logits[0], expected, atol=0.05)


# (init kwargs, trainable weights, non-trainable weights) of the options
# beyond the dot logits `tests/test_contract.py` runs.
LAYER_CONTRACT_CASES = {
    "cosine_fixed_scale": ({"logits": "cosine", "scale": 8.0, "seed": 3}, 0, 1),
    "cosine_learned_scale_bias": (
        {"logits": "cosine", "scale": "learned", "use_bias": True, "seed": 3},
        2,
        1,
    ),
    "learned_vectors": (
        {"init": "orthogonal", "trainable_vectors": True, "seed": 3},
        1,
        0,
    ),
}


@pytest.mark.parametrize("case", LAYER_CONTRACT_CASES)
def test_passes_run_layer_test(case):
    from keras.src.testing import TestCase

    kwargs, trainable, non_trainable = LAYER_CONTRACT_CASES[case]
    TestCase().run_layer_test(
        layers.FixedClassifier,
        init_kwargs={"units": UNITS, **kwargs},
        input_shape=(2, 3, DIM),
        expected_output_shape=(2, 3, UNITS),
        expected_output_dtype="float32",
        expected_num_trainable_weights=trainable,
        expected_num_non_trainable_weights=non_trainable,
        expected_num_seed_generators=0,
        expected_num_losses=0,
        supports_masking=False,
    )


@pytest.mark.parametrize("policy", toolkit.MIXED_POLICIES)
@pytest.mark.parametrize("case", LAYER_CONTRACT_CASES)
def test_outputs_are_in_the_compute_dtype(case, policy):
    # `run_layer_test` checks this on TensorFlow and JAX only (it skips its
    # mixed-precision check on a CPU-only torch), and under mixed_float16 only.
    kwargs, _, _ = LAYER_CONTRACT_CASES[case]
    layer = layers.FixedClassifier(UNITS, dtype=policy, **kwargs)
    outputs = layer(_features())
    assert keras.backend.standardize_dtype(outputs.dtype) == layer.compute_dtype
    assert layer.compute_dtype == keras.DTypePolicy(policy).compute_dtype
    for weight in layer.weights:
        assert keras.backend.standardize_dtype(weight.dtype) == "float32"
    symbolic = layer(keras.Input((DIM,), dtype="float32"))
    assert keras.backend.standardize_dtype(symbolic.dtype) == layer.compute_dtype


@pytest.mark.parametrize("bad", [np.nan, np.inf])
@pytest.mark.parametrize("logits", ["dot", "cosine"])
def test_a_non_finite_feature_gives_no_finite_logit(logits, bad):
    scale = 8.0 if logits == "cosine" else None
    layer = layers.FixedClassifier(UNITS, logits=logits, scale=scale, seed=3)
    features = _features()
    features[1, 4] = bad
    outputs = toolkit.to_numpy(layer(features))
    assert not np.isfinite(outputs[1]).any()
    if logits == "cosine":
        assert np.isnan(outputs[1]).all()
    assert np.isfinite(np.delete(outputs, 1, axis=0)).all()


def test_symbolic_call_on_rank_three_input():
    inputs = keras.Input((7, DIM))
    outputs = layers.FixedClassifier(UNITS, seed=0)(inputs)
    assert tuple(outputs.shape) == (None, 7, UNITS)


def test_save_load_keeps_the_stored_vectors(tmp_path):
    model = _model(logits="cosine", scale="learned", use_bias=True)
    head = model.layers[-1]
    replaced = class_vectors("simplex_etf", DIM, UNITS, 77)
    head.class_vectors.assign(replaced)
    head.bias.assign(np.linspace(0.0, 1.0, UNITS).astype("float32"))
    x, _ = _data()
    loaded = toolkit.assert_save_load_identical(model, x, tmp_path)
    loaded_head = loaded.layers[-1]
    assert isinstance(loaded_head, layers.FixedClassifier)
    np.testing.assert_array_equal(_vectors(loaded_head), replaced)


def test_unseeded_layer_records_its_seed():
    keras.utils.set_random_seed(5)
    first = layers.FixedClassifier(UNITS)
    keras.utils.set_random_seed(5)
    again = layers.FixedClassifier(UNITS)
    assert isinstance(first.seed, int) and first.seed == again.seed
    rebuilt = layers.FixedClassifier.from_config(first.get_config())
    first.build((None, DIM))
    rebuilt.build((None, DIM))
    np.testing.assert_array_equal(_vectors(first), _vectors(rebuilt))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"units": 1}, ValueError, "units"),
        ({"units": 2.0}, TypeError, "units"),
        ({"units": 3, "init": "random"}, ValueError, "init"),
        ({"units": 3, "logits": "arcface"}, ValueError, "logits"),
        ({"units": 3, "logits": "cosine"}, ValueError, "scale"),
        ({"units": 3, "logits": "cosine", "scale": 0.0}, ValueError, "scale"),
        ({"units": 3, "logits": "cosine", "scale": "learnt"}, ValueError, "scale"),
        ({"units": 3, "scale": 10.0}, ValueError, "scale"),
        (
            {"units": 3, "logits": "cosine", "scale": 5.0, "initial_scale": 1.0},
            ValueError,
            "initial_scale",
        ),
        (
            {"units": 3, "logits": "cosine", "scale": "learned", "initial_scale": -1},
            ValueError,
            "initial_scale",
        ),
        ({"units": 3, "use_bias": 1}, TypeError, "use_bias"),
        ({"units": 3, "trainable_vectors": "no"}, TypeError, "trainable_vectors"),
        ({"units": 3, "seed": -1}, ValueError, "seed"),
        ({"units": 3, "seed": 1.5}, TypeError, "seed"),
    ],
)
def test_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        layers.FixedClassifier(**kwargs)


@pytest.mark.parametrize("init", ["orthogonal", "hadamard"])
def test_more_units_than_dimensions_is_rejected_at_build(init):
    layer = layers.FixedClassifier(DIM + 1, init=init, seed=0)
    with pytest.raises(ValueError, match="units"):
        layer.build((None, DIM))


def test_unknown_feature_dimension_is_rejected():
    with pytest.raises(ValueError, match="last input dimension"):
        layers.FixedClassifier(UNITS, seed=0).build((None, None))
