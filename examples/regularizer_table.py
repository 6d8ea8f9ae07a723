"""What each kernel-orthogonality regularizer costs on a small CNN.

For every regularizer of `keras_ortho.regularizers` listed below, builds the
same small CNN, attaches the regularizer to all its kernels with
`keras_ortho.regularizers.attach`, and prints the penalty at initialization
(factor 1) and the time of a training step with it divided by the time
without it (steps timed alternately after a warm-up, medians compared).
Runs on the active Keras backend:

    KERAS_BACKEND=jax python examples/regularizer_table.py
"""

import statistics
import time

import keras
import numpy as np

import keras_ortho

# Regularizer class names in `keras_ortho.regularizers` and their options; the
# ones this version does not have yet are listed as missing.
REGULARIZERS = [
    ("SoftOrthogonality", {}),
    ("DoubleSoftOrthogonality", {}),
    ("MutualCoherence", {}),
    ("SpectralRestrictedIsometry", {}),
    ("OrthogonalConvolution", {}),
    ("DisentangledOrthogonality", {}),
    ("RelaxedOrthogonality", {}),
]
BATCH_SIZE = 32
WARMUP_STEPS = 3
TIMED_STEPS = 7


def small_cnn():
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input((16, 16, 3)),
            keras.layers.Conv2D(16, 3, padding="same", activation="relu"),
            keras.layers.Conv2D(32, 3, strides=2, padding="same", activation="relu"),
            keras.layers.Conv2D(64, 3, strides=2, padding="same", activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(10),
        ]
    )


def compiled(model):
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


def step_seconds(model, x, y):
    # `train_on_batch` returns Python floats, so the step has finished.
    start = time.perf_counter()
    model.train_on_batch(x, y)
    return time.perf_counter() - start


def relative_step_time(regularized, baseline, x, y):
    for _ in range(WARMUP_STEPS):
        step_seconds(regularized, x, y)
        step_seconds(baseline, x, y)
    with_times, without_times = [], []
    for _ in range(TIMED_STEPS):
        with_times.append(step_seconds(regularized, x, y))
        without_times.append(step_seconds(baseline, x, y))
    return statistics.median(with_times) / statistics.median(without_times)


def main():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(BATCH_SIZE, 16, 16, 3)).astype("float32")
    y = rng.integers(0, 10, size=BATCH_SIZE)
    baseline = compiled(small_cnn())

    print(f"Keras {keras.__version__}, backend {keras.backend.backend()}")
    print(f"{'regularizer':<28} {'penalty at init':>16} {'step time / none':>17}")
    missing = []
    for name, options in REGULARIZERS:
        regularizer_class = getattr(keras_ortho.regularizers, name, None)
        if regularizer_class is None:
            missing.append(name)
            continue
        model = small_cnn()
        keras_ortho.regularizers.attach(model, regularizer_class(1.0, **options))
        penalty = sum(float(keras.ops.convert_to_numpy(v)) for v in model.losses)
        ratio = relative_step_time(compiled(model), baseline, x, y)
        print(f"{name:<28} {penalty:>16.4f} {ratio:>16.2f}x")
    if missing:
        print(f"Not in this version yet: {', '.join(missing)}")


if __name__ == "__main__":
    main()
