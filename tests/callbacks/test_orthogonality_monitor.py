import csv

import keras
import numpy as np
import pytest

from keras_ortho import callbacks
from keras_ortho import diagnostics
from keras_ortho import layers
from tests import toolkit
from tests.diagnostics.test_convolution_singular_values import circular_operator_np

NUM_CLASSES = 3


def _classifier(features_name="features", head=None):
    images = keras.Input((6, 6, 2), name="images")
    x = keras.layers.Conv2D(5, 3, name="conv")(images)
    x = keras.layers.SeparableConv2D(4, 2, name="sep")(x)
    x = keras.layers.GlobalAveragePooling2D(name=features_name)(x)
    head = head or keras.layers.Dense(NUM_CLASSES, name="classifier")
    return keras.Model(images, head(x), name="classifier_model")


def _data(count=12, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(count, 6, 6, 2)).astype("float32")
    y = np.arange(count) % NUM_CLASSES
    return x, y


def _features(model, x):
    pooled = model.get_layer("features").output
    return np.asarray(keras.Model(model.inputs, pooled).predict(x, verbose=0))


def _reference_filter_measures(kernel_matrix):
    # W is (fan_in, filters); explicit loops over filter pairs.
    w = np.asarray(kernel_matrix, "float64")
    filters = w.shape[1]
    so = normalized = coherence = 0.0
    for i in range(filters):
        for j in range(filters):
            dot = float(w[:, i] @ w[:, j])
            so += (dot - (i == j)) ** 2
            if i != j:
                cos = dot / (np.linalg.norm(w[:, i]) * np.linalg.norm(w[:, j]))
                normalized += cos**2
                coherence = max(coherence, abs(cos))
    sigma = np.abs(np.linalg.eigvalsh(w.T @ w - np.eye(filters))).max()
    return {
        "so_residual": so,
        "normalized_so_residual": normalized,
        "mutual_coherence": coherence,
        "sigma_max": sigma,
    }


def _reference_kernel_measures(model):
    conv = toolkit.to_numpy(model.get_layer("conv").kernel)
    depthwise = toolkit.to_numpy(model.get_layer("sep").depthwise_kernel)
    pointwise = toolkit.to_numpy(model.get_layer("sep").pointwise_kernel)
    dense = toolkit.to_numpy(model.get_layer("classifier").kernel)
    # Conv kernels (kh, kw, in, out) flatten to (kh * kw * in, out); the
    # depthwise kernel (kh, kw, in, 1) has one filter of length kh * kw per
    # input channel.
    return {
        "conv": _reference_filter_measures(conv.reshape(-1, conv.shape[-1])),
        "sep.depthwise_kernel": _reference_filter_measures(
            depthwise.reshape(-1, depthwise.shape[2])
        ),
        "sep.pointwise_kernel": _reference_filter_measures(
            pointwise.reshape(-1, pointwise.shape[-1])
        ),
        "classifier": _reference_filter_measures(dense),
    }


def _reference_feature_statistics(features, labels):
    h = np.asarray(features, "float64")
    norms = np.linalg.norm(h, axis=1)
    unit = h / np.where(norms > 0, norms, 1.0)[:, None]
    same, different = [], []
    per_class = {c: [] for c in np.unique(labels)}
    for i in range(len(h)):
        for j in range(len(h)):
            if i == j:
                continue
            cos = float(unit[i] @ unit[j])
            if labels[i] == labels[j]:
                same.append(cos)
                per_class[labels[i]].append(cos)
            else:
                different.append(abs(cos))
    means = np.stack([h[labels == c].mean(axis=0) for c in per_class])
    centred = means - h.mean(axis=0)
    centred /= np.linalg.norm(centred, axis=1, keepdims=True)
    classes = len(per_class)
    off_diagonal = [
        centred[a] @ centred[b]
        for a in range(classes)
        for b in range(classes)
        if a != b
    ]
    singular = np.linalg.svd(h - h.mean(axis=0), compute_uv=False)
    p = singular[singular > 0] / singular.sum()
    return {
        "s": np.mean(same),
        "d": np.mean(different),
        "compactness": np.mean([np.mean(v) for v in per_class.values()]),
        "separability": 1.0 - np.mean(off_diagonal),
        "effective_rank": np.exp(-np.sum(p * np.log(p))),
    }


def _monitor_on(model, **kwargs):
    monitor = callbacks.OrthogonalityMonitor(**kwargs)
    monitor.set_model(model)
    monitor.on_train_begin()
    return monitor


def test_values_match_a_brute_force_reference():
    model = _classifier()
    x, y = _data()
    values = _monitor_on(model, data=(x, y)).measure()

    kernels = _reference_kernel_measures(model)
    for kernel, measures in kernels.items():
        for measure, want in measures.items():
            got = values[f"ortho/{kernel}/{measure}"]
            np.testing.assert_allclose(got, want, rtol=1e-5, err_msg=kernel)
    for measure in callbacks.orthogonality_monitor.FILTER_MEASURES:
        want = np.mean([kernels[k][measure] for k in kernels])
        np.testing.assert_allclose(values[f"ortho/mean/{measure}"], want, rtol=1e-5)
    statistics = _reference_feature_statistics(_features(model, x), y)
    for name, want in statistics.items():
        np.testing.assert_allclose(
            values[f"features/{name}"], want, rtol=1e-4, err_msg=name
        )
    assert len(values) == 4 * 4 + 4 + 5


def test_logs_reach_history_and_csv_logger(tmp_path):
    # The compiled fit step with the monitor is the contract's
    # (tests/test_contract.py); the monitor measures between epochs.
    model = _classifier()
    model.compile(
        optimizer="sgd",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    x, y = _data()
    x_val, y_val = _data(seed=1)
    monitor = callbacks.OrthogonalityMonitor(data=(x_val, y_val))
    log_path = tmp_path / "history.csv"
    history = model.fit(
        x,
        y,
        batch_size=12,
        epochs=2,
        verbose=0,
        callbacks=[monitor, keras.callbacks.CSVLogger(str(log_path))],
    )

    final = monitor.measure()
    for key, value in final.items():
        assert len(history.history[key]) == 2, key
        np.testing.assert_allclose(history.history[key][-1], value, rtol=1e-6)
    # The weights changed between the two epochs, and so did the logs.
    assert history.history["ortho/conv/so_residual"][0] != pytest.approx(
        final["ortho/conv/so_residual"], rel=1e-9
    )
    statistics = _reference_feature_statistics(_features(model, x_val), y_val)
    np.testing.assert_allclose(final["features/s"], statistics["s"], rtol=1e-4)
    with open(log_path, newline="") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 2
    np.testing.assert_allclose(
        float(rows[-1]["ortho/mean/so_residual"]), final["ortho/mean/so_residual"]
    )


@pytest.mark.parametrize("policy", toolkit.MIXED_POLICIES)
def test_measures_of_a_mixed_precision_model(policy):
    # A fit step under each policy is the contract's (tests/test_contract.py);
    # here the measures of a half-precision model, reduced in float32.
    x, y = _data()
    with toolkit.mixed_precision(policy):
        model = _classifier()
        values = _monitor_on(model, data=(x, y), per_layer=False).measure()
    for key, value in values.items():
        assert np.isfinite(value), key
    statistics = _reference_feature_statistics(_features(model, x), y)
    np.testing.assert_allclose(values["features/s"], statistics["s"], rtol=1e-3)


def test_summary_mode_and_filters():
    model = _classifier()
    x, y = _data()
    summary = _monitor_on(model, per_layer=False).measure()
    assert sorted(summary) == sorted(
        f"ortho/mean/{m}" for m in callbacks.orthogonality_monitor.FILTER_MEASURES
    )

    dense_only = _monitor_on(
        model,
        data=(x, y),
        layers=["classifier"],
        filter_measures=["mutual_coherence"],
        feature_statistics=["s", "effective_rank"],
    ).measure()
    want = _reference_kernel_measures(model)["classifier"]["mutual_coherence"]
    assert sorted(dense_only) == [
        "features/effective_rank",
        "features/s",
        "ortho/classifier/mutual_coherence",
        "ortho/mean/mutual_coherence",
    ]
    np.testing.assert_allclose(dense_only["ortho/mean/mutual_coherence"], want)


def test_operator_spectra_are_those_of_the_explicit_operator():
    model = _classifier()
    values = _monitor_on(model, operator_spectra=True).measure()

    # The conv layer's circular operator on its 6 x 6 input, entry by entry.
    kernel = toolkit.to_numpy(model.get_layer("conv").kernel).astype("float64")
    singular = np.linalg.svd(circular_operator_np(kernel, 6, 1), compute_uv=False)
    np.testing.assert_allclose(
        [
            values["spectrum/conv/sigma_max"],
            values["spectrum/conv/sigma_min"],
            values["spectrum/conv/stable_rank"],
        ],
        [singular.max(), singular.min(), np.sum(singular**2) / singular.max() ** 2],
        rtol=1e-6,
    )
    records = diagnostics.convolution_spectra(model)
    keys = ["conv", "sep.depthwise_kernel", "sep.pointwise_kernel", "classifier"]
    for key, record in zip(keys, records, strict=True):
        for measure in ("sigma_max", "sigma_min", "stable_rank"):
            assert values[f"spectrum/{key}/{measure}"] == getattr(record, measure)
    assert values["spectrum/max/sigma_max"] == max(r.sigma_max for r in records)
    assert values["spectrum/min/sigma_min"] == min(r.sigma_min for r in records)
    np.testing.assert_allclose(
        values["spectrum/mean/stable_rank"], np.mean([r.stable_rank for r in records])
    )
    assert len([key for key in values if key.startswith("spectrum/")]) == 4 * 3 + 3
    assert not any(key.startswith("spectrum/") for key in _monitor_on(model).measure())


def test_operator_spectra_reach_history_and_need_a_size_for_subclassed_models():
    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.conv = keras.layers.Conv2D(3, 3, padding="same")
            self.pool = keras.layers.GlobalAveragePooling2D()

        def call(self, x):
            return self.pool(self.conv(x))

    model = Net()
    model(np.zeros((1, 6, 6, 2), "float32"))
    with pytest.raises(ValueError, match="spatial_shape"):
        _monitor_on(model, operator_spectra=True)

    model.compile(optimizer="sgd", loss="mse")
    x, _ = _data()
    monitor = callbacks.OrthogonalityMonitor(
        operator_spectra=True, spatial_shape=6, per_layer=False
    )
    history = model.fit(x, np.zeros((12, 3)), epochs=1, verbose=0, callbacks=[monitor])
    (record,) = diagnostics.convolution_spectra(model, spatial_shape=6)
    assert history.history["spectrum/max/sigma_max"] == [record.sigma_max]
    assert history.history["spectrum/min/sigma_min"] == [record.sigma_min]


def _head_input_features(model, head_name, x):
    head_input = model.get_layer(head_name).input
    return np.asarray(keras.Model(model.inputs, head_input).predict(x, verbose=0))


@pytest.mark.parametrize("head", ["dense", "fixed"])
def test_default_feature_layer_is_the_head_input(head):
    classifier = (
        keras.layers.Dense(NUM_CLASSES, name="head")
        if head == "dense"
        else layers.FixedClassifier(NUM_CLASSES, seed=3, name="head")
    )
    model = _classifier(features_name="pool", head=classifier)
    x, y = _data()
    values = _monitor_on(model, data=(x, y), feature_statistics=["d"]).measure()
    features = _head_input_features(model, "head", x)
    want = _reference_feature_statistics(features, y)["d"]
    np.testing.assert_allclose(values["features/d"], want, rtol=1e-4)


def test_features_of_a_classifier_nested_behind_augmentation():
    # As in keras_ortho.recipes: the monitor finds the nested "features"
    # layer and feeds the held-out images to the nested classifier.
    classifier = _classifier()
    images = keras.Input((6, 6, 2))
    model = keras.Model(images, classifier(keras.layers.RandomFlip()(images)))
    x, y = _data()
    values = _monitor_on(model, data=(x, y), feature_statistics=["s"]).measure()
    want = _reference_feature_statistics(_features(classifier, x), y)["s"]
    np.testing.assert_allclose(values["features/s"], want, rtol=1e-4)
    assert "ortho/conv/so_residual" in values


def test_named_feature_layer():
    model = _classifier()
    x, y = _data()
    values = _monitor_on(
        model, data=(x, y), feature_layer="sep", feature_statistics=["d"]
    ).measure()
    sep = keras.Model(model.inputs, model.get_layer("sep").output)
    features = np.asarray(sep.predict(x, verbose=0)).reshape(len(x), -1)
    want = _reference_feature_statistics(features, y)["d"]
    np.testing.assert_allclose(values["features/d"], want, rtol=1e-4)


def test_single_class_batch_of_one_is_finite():
    model = _classifier()
    x, _ = _data(count=1)
    values = _monitor_on(model, data=(x, np.zeros(1, "int64"))).measure()
    assert all(np.isfinite(v) for v in values.values())
    assert values["features/s"] == 0.0
    assert values["features/d"] == 0.0


def test_invalid_arguments():
    x, y = _data()
    with pytest.raises(TypeError, match="data"):
        callbacks.OrthogonalityMonitor(data=x)
    with pytest.raises(ValueError, match="12 images and 3 labels"):
        callbacks.OrthogonalityMonitor(data=(x, y[:3]))
    with pytest.raises(TypeError, match="layers"):
        callbacks.OrthogonalityMonitor(layers="conv")
    with pytest.raises(ValueError, match="filter_measures"):
        callbacks.OrthogonalityMonitor(filter_measures=["frobenius"])
    with pytest.raises(ValueError, match="feature_statistics"):
        callbacks.OrthogonalityMonitor(feature_statistics=[])
    with pytest.raises(TypeError, match="feature_layer"):
        callbacks.OrthogonalityMonitor(feature_layer=3)
    with pytest.raises(TypeError, match="per_layer"):
        callbacks.OrthogonalityMonitor(per_layer=1)
    with pytest.raises(ValueError, match="batch_size"):
        callbacks.OrthogonalityMonitor(batch_size=0)
    with pytest.raises(TypeError, match="operator_spectra"):
        callbacks.OrthogonalityMonitor(operator_spectra="epoch")
    with pytest.raises(ValueError, match="spatial_shape"):
        callbacks.OrthogonalityMonitor(spatial_shape=(32, 0))

    model = _classifier()
    with pytest.raises(ValueError, match=r"\['missing'\]"):
        _monitor_on(model, layers=["missing"])
    with pytest.raises(ValueError, match="'nowhere'"):
        _monitor_on(model, data=(x, y), feature_layer="nowhere")
    no_head = keras.Sequential([keras.Input((6, 6, 2)), keras.layers.Conv2D(2, 3)])
    with pytest.raises(ValueError, match="Cannot find the classifier head"):
        _monitor_on(no_head, data=(x, y))
