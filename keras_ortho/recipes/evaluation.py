"""What every recipe run reports: accuracy, calibration, and the feature and
filter orthogonality of the trained model."""

import numpy as np

from keras_ortho import diagnostics
from keras_ortho import metrics
from keras_ortho.models.with_features import FEATURES
from keras_ortho.models.with_features import LOGITS

EVALUATION_BATCH_SIZE = 500


def evaluate(feature_model, x_test, y_test):
    """Test accuracy, ECE, OPL's feature statistics and filter orthogonality.

    Args:
        feature_model: a model with outputs `{"logits", "features"}`
            (`keras_ortho.models.with_features` of the classifier).
        x_test: test images.
        y_test: integer test labels.

    Returns:
        A dict: `test_accuracy`, `ece` (15 bins), `feature_s` and
        `feature_d` (OPL's mean same-class and |different-class| cosine of
        the pooled test features), `filter_so_residual` and
        `filter_coherence` (means over the convolution and Dense kernels of
        `||W^T W - I||_F^2` and of the mutual coherence).
    """
    outputs = feature_model.predict(
        x_test, batch_size=min(EVALUATION_BATCH_SIZE, len(x_test)), verbose=0
    )
    logits = np.asarray(outputs[LOGITS], dtype=np.float32)
    features = np.asarray(outputs[FEATURES], dtype=np.float32)
    statistics = diagnostics.opl_statistics(features, y_test)
    records = diagnostics.filter_orthogonality(feature_model)
    return {
        "test_accuracy": float(np.mean(np.argmax(logits, axis=-1) == y_test)),
        "ece": metrics.expected_calibration_error(y_test, logits, from_logits=True),
        "feature_s": statistics.s,
        "feature_d": statistics.d,
        "filter_so_residual": float(np.mean([r.so_residual for r in records])),
        "filter_coherence": float(np.mean([r.mutual_coherence for r in records])),
    }
