"""Streaming expected calibration error, for `model.compile(metrics=...)`."""

import keras
from keras import ops

from keras_ortho._export import register_serializable
from keras_ortho._validation import validate_bool
from keras_ortho.metrics.calibration import bin_totals
from keras_ortho.metrics.calibration import validate_num_bins


@register_serializable
class ExpectedCalibrationError(keras.metrics.Metric):
    """Expected calibration error (ECE), accumulated over batches.

    Keeps, per equal-width confidence bin, the (weighted) count, the sum of
    confidences and the sum of correct predictions, so the result over several
    batches equals `keras_ortho.metrics.expected_calibration_error` on their
    concatenation:

    ```
    ECE = sum_m (|B_m| / n) * |acc(B_m) - conf(B_m)|
        = (1 / n) sum_m |sum_{i in B_m} correct_i - sum_{i in B_m} c_i|
    ```

    with `c_i = max_k p_ik`. Bins are right-closed, `(m / M, (m + 1) / M]`, a
    confidence of 0 falls into the first bin; empty bins contribute nothing.
    The state is float32 whatever the dtype policy, and `update_state` runs
    under `jit_compile=True` on every backend.

    Args:
        num_bins: the number of bins `M`, an integer >= 1 (15 as in Guo et al.).
        from_logits: whether predictions are logits (softmax is applied) rather
            than probabilities.
        name: the metric's name.
        dtype: the dtype of `result()`; the state is always float32.

    Example:

    ```python
    model = keras.Sequential(
        [keras.Input((8,)), keras.layers.Dense(4, activation="softmax")]
    )
    model.compile(
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy", keras_ortho.metrics.ExpectedCalibrationError()],
    )
    x, y = np.random.rand(64, 8), np.random.randint(0, 4, 64)
    model.fit(x, y, verbose=0).history["ece"]
    ```

    Reference:
        C. Guo, G. Pleiss, Y. Sun, K. Q. Weinberger, "On Calibration of Modern
        Neural Networks", ICML 2017.
    """

    def __init__(self, num_bins=15, from_logits=False, name="ece", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.num_bins = validate_num_bins(num_bins)
        self.from_logits = validate_bool(from_logits, "from_logits")
        self.bin_count = self._bin_variable("bin_count")
        self.bin_confidence_sum = self._bin_variable("bin_confidence_sum")
        self.bin_correct_sum = self._bin_variable("bin_correct_sum")

    def _bin_variable(self, name):
        return self.add_variable(
            shape=(self.num_bins,), initializer="zeros", dtype="float32", name=name
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        count, confidence_sum, correct_sum = bin_totals(
            y_true, y_pred, self.num_bins, sample_weight, self.from_logits
        )
        self.bin_count.assign_add(count)
        self.bin_confidence_sum.assign_add(confidence_sum)
        self.bin_correct_sum.assign_add(correct_sum)

    def result(self):
        total = ops.sum(self.bin_count)
        gap_sum = ops.sum(ops.abs(self.bin_correct_sum - self.bin_confidence_sum))
        ece = ops.divide_no_nan(gap_sum, total)
        return ops.cast(ece, self.dtype)

    def reset_state(self):
        for variable in self.variables:
            variable.assign(ops.zeros(variable.shape, dtype=variable.dtype))

    def get_config(self):
        return {
            **super().get_config(),
            "num_bins": self.num_bins,
            "from_logits": self.from_logits,
        }
