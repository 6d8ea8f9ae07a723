"""Logging filter orthogonality, operator spectra and feature geometry at the
end of each epoch."""

import keras
import numpy as np

from keras_ortho import diagnostics
from keras_ortho._model_graph import feature_extractor
from keras_ortho._validation import validate_bool
from keras_ortho._validation import validate_int
from keras_ortho.diagnostics.feature_statistics import FEATURE_STATISTICS
from keras_ortho.diagnostics.feature_statistics import feature_statistics

FILTER_MEASURES = (
    "so_residual",
    "normalized_so_residual",
    "mutual_coherence",
    "sigma_max",
)
# Each operator-spectrum measure and its summary over the monitored kernels:
# the extreme singular values bound the network's Lipschitz constant and its
# conditioning, an average would hide the one layer that breaks them.
SPECTRUM_SUMMARIES = {
    "sigma_max": ("max", np.max),
    "sigma_min": ("min", np.min),
    "stable_rank": ("mean", np.mean),
}


class OrthogonalityMonitor(keras.callbacks.Callback):
    """Adds filter orthogonality and held-out feature statistics to the epoch logs.

    At the end of every epoch, outside the compiled train step (so training
    steps cost nothing more), the monitor measures

    - every kernel's filter orthogonality (`keras_ortho.diagnostics.
      filter_orthogonality`), logged per kernel as `"ortho/<layer>/<measure>"`
      and averaged over the monitored kernels as `"ortho/mean/<measure>"`;
      a layer with two kernels (SeparableConv) logs
      `"ortho/<layer>.<kernel>/<measure>"`;
    - with `operator_spectra=True`, the singular values of every kernel's
      linear map, the convolution as an operator on images
      (`keras_ortho.diagnostics.convolution_spectra`): logged per kernel as
      `"spectrum/<layer>/sigma_max"`, `".../sigma_min"` and
      `".../stable_rank"`, and summarised as `"spectrum/max/sigma_max"`,
      `"spectrum/min/sigma_min"` and `"spectrum/mean/stable_rank"`;
    - with `data`, the features of the held-out images, logged as
      `"features/<statistic>"`: OPL's `s` and `d`
      (`opl_statistics`, `d` over `|cos|`), `compactness`
      (`intra_class_compactness`), `separability`
      (`inter_class_separability`) and `effective_rank`.

    The values go into the epoch's `logs`, so `History`, the progress bar,
    `CSVLogger` and `TensorBoard` (which groups the names at the `/`)
    receive them when they come after this callback in the list.

    The features are the output of the layer named by `feature_layer`. By
    default: the input of the classifier head, the last `Dense` or
    `keras_ortho.layers.FixedClassifier` layer (as for
    `keras_ortho.models.with_features`). Nested models are searched too; a
    feature layer inside a nested model is fed the held-out images directly,
    skipping the outer model's layers in front of it (such as augmentation
    layers, which do nothing at inference).

    Args:
        data: `None`, or a held-out batch `(x, y)`: images as the model (or
            the nested model holding the feature layer) takes them, and
            integer labels `(N,)` or one-hot `(N, K)`. A few hundred images
            with several of each class are enough.
        feature_layer: the name of the layer (or the layer) whose output is
            the features; `None` for the default above.
        layers: `None` to monitor every kernel, or a list of layer names.
        per_layer: whether to log each kernel's measures, besides their mean.
            With `False` only the `"ortho/mean/..."` columns are written,
            which keeps a deep network's CSV narrow.
        filter_measures: the filter measures to log, a subset of
            `"so_residual"`, `"normalized_so_residual"`,
            `"mutual_coherence"` and `"sigma_max"`.
        feature_statistics: the feature statistics to log, a subset of `"s"`,
            `"d"`, `"compactness"`, `"separability"` and `"effective_rank"`.
        batch_size: images per forward pass over `data`.
        operator_spectra: whether to log the operator spectra too. They cost
            one SVD per frequency of each convolution's input size (e.g.
            1024 SVDs of `cin x cout` matrices for a 32 x 32 input), in
            NumPy, every epoch; off by default.
        spatial_shape: for the operator spectra, `None` to use each layer's
            input size (Functional and Sequential models), or one input size
            for every convolution (needed for subclassed models); see
            `convolution_spectra`.

    Example:

    ```python
    model = keras.Sequential(
        [
            keras.Input((16, 16, 3)),
            keras.layers.Conv2D(8, 3, activation="relu"),
            keras.layers.GlobalAveragePooling2D(),
            keras.layers.Dense(4),
        ]
    )
    model.compile(
        optimizer="sgd",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    x, y = np.random.rand(64, 16, 16, 3), np.random.randint(0, 4, 64)
    x_val, y_val = np.random.rand(32, 16, 16, 3), np.random.randint(0, 4, 32)
    monitor = keras_ortho.callbacks.OrthogonalityMonitor(
        data=(x_val, y_val), per_layer=False
    )
    history = model.fit(
        x,
        y,
        epochs=2,
        verbose=0,
        callbacks=[monitor, keras.callbacks.CSVLogger("log.csv")],
    )
    history.history["features/s"], history.history["ortho/mean/so_residual"]
    ```

    Reference:
        The measures of Bansal et al., NeurIPS 2018 (filters) and Ranasinghe
        et al., ICCV 2021 (OPL's `s` and `d`); see `keras_ortho.diagnostics`.
    """

    def __init__(
        self,
        data=None,
        feature_layer=None,
        layers=None,
        per_layer=True,
        filter_measures=FILTER_MEASURES,
        feature_statistics=FEATURE_STATISTICS,
        batch_size=256,
        operator_spectra=False,
        spatial_shape=None,
    ):
        super().__init__()
        self.data = _validate_data(data)
        if feature_layer is not None and not isinstance(
            feature_layer, (str, keras.layers.Layer)
        ):
            raise TypeError(
                "Invalid type for argument `feature_layer`: expected None, a "
                f"layer name or a keras.layers.Layer. Received: "
                f"feature_layer={feature_layer!r}"
            )
        self.feature_layer = feature_layer
        self.layers = _validate_names(layers, "layers", None)
        self.per_layer = validate_bool(per_layer, "per_layer")
        self.filter_measures = _validate_names(
            filter_measures, "filter_measures", FILTER_MEASURES
        )
        self.feature_statistics = _validate_names(
            feature_statistics, "feature_statistics", FEATURE_STATISTICS
        )
        self.batch_size = validate_int(batch_size, "batch_size", minimum=1)
        self.operator_spectra = validate_bool(operator_spectra, "operator_spectra")
        self.spatial_shape = _validate_spatial_shape(spatial_shape)
        self._feature_model = None

    def on_train_begin(self, logs=None):
        if self.layers is not None:
            found = {record.layer_name for record in self._records()}
            missing = [name for name in self.layers if name not in found]
            if missing:
                raise ValueError(
                    "Invalid value for argument `layers`: no kernel of model "
                    f"{self.model.name!r} belongs to layers {missing}. Layers "
                    f"with kernels: {sorted(found)}"
                )
        if self.operator_spectra:
            # A model whose input sizes are unknown fails now, not after an
            # epoch of training.
            self._spectra()
        self._feature_model = None
        if self.data is not None:
            self._feature_model = feature_extractor(self.model, self.feature_layer)

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs.update(self.measure())

    def measure(self):
        """The monitored values now, as the dict added to the epoch logs."""
        values = self._logged("ortho", self._records(), self._filter_summaries())
        if self.operator_spectra:
            values.update(self._logged("spectrum", self._spectra(), SPECTRUM_SUMMARIES))
        if self.data is not None:
            if self._feature_model is None:
                self._feature_model = feature_extractor(self.model, self.feature_layer)
            values.update(self._feature_values())
        return values

    def _records(self):
        return self._monitored(diagnostics.filter_orthogonality(self.model))

    def _spectra(self):
        return self._monitored(
            diagnostics.convolution_spectra(
                self.model, spatial_shape=self.spatial_shape
            )
        )

    def _monitored(self, records):
        if self.layers is None:
            return records
        return [record for record in records if record.layer_name in self.layers]

    def _filter_summaries(self):
        return {measure: ("mean", np.mean) for measure in self.filter_measures}

    def _logged(self, prefix, records, summaries):
        """`{"<prefix>/<kernel>/<measure>": value}` for each record (with
        `per_layer`) and `{"<prefix>/<summary>/<measure>": value}` over them,
        for `summaries` `{measure: (summary, reduce)}`."""
        values = {}
        if self.per_layer:
            kernels_per_layer = {}
            for record in records:
                kernels_per_layer.setdefault(record.layer_name, []).append(record)
            for name, layer_records in kernels_per_layer.items():
                for record in layer_records:
                    key = name
                    if len(layer_records) > 1:
                        key = f"{name}.{record.kernel_path.rsplit('/', 1)[-1]}"
                    for measure in summaries:
                        values[f"{prefix}/{key}/{measure}"] = getattr(record, measure)
        if records:
            for measure, (summary, reduce) in summaries.items():
                values[f"{prefix}/{summary}/{measure}"] = float(
                    reduce([getattr(record, measure) for record in records])
                )
        return values

    def _feature_values(self):
        x, y = self.data
        features = self._feature_model.predict(
            x, batch_size=min(self.batch_size, len(x)), verbose=0
        )
        features = np.asarray(features, "float32").reshape(len(x), -1)
        statistics = feature_statistics(features, y, self.feature_statistics)
        return {f"features/{name}": value for name, value in statistics.items()}


def _validate_data(data):
    if data is None:
        return None
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise TypeError(
            "Invalid type for argument `data`: expected None or a pair "
            f"(x, y) of held-out images and labels. Received: data of type "
            f"{type(data).__name__}"
        )
    x, y = data
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(
            "Invalid value for argument `data`: expected as many labels as "
            f"images, at least one. Received: {len(x)} images and {len(y)} "
            "labels"
        )
    return x, y


def _validate_spatial_shape(spatial_shape):
    if spatial_shape is None:
        return None
    sizes = (spatial_shape,) if isinstance(spatial_shape, int) else spatial_shape
    if not isinstance(sizes, (tuple, list)) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in sizes
    ):
        raise ValueError(
            "Invalid value for argument `spatial_shape`: expected None, a "
            "positive integer or a tuple of them. Received: "
            f"spatial_shape={spatial_shape!r}"
        )
    return spatial_shape


def _validate_names(names, argument, choices):
    if names is None and choices is None:
        return None
    if isinstance(names, str) or not isinstance(names, (list, tuple)):
        raise TypeError(
            f"Invalid type for argument `{argument}`: expected a list of "
            f"strings. Received: {argument}={names!r}"
        )
    names = tuple(names)
    bad = [n for n in names if not isinstance(n, str) or (choices and n not in choices)]
    if bad or not names:
        expected = "names" if choices is None else f"names among {list(choices)}"
        raise ValueError(
            f"Invalid value for argument `{argument}`: expected a non-empty "
            f"list of {expected}. Received: {argument}={names!r}"
        )
    return names
