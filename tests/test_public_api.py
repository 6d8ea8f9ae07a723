"""The public API: the names each package exports, pinned.

A package's public names are its `__all__`. The snapshot below is the API a
user codes against: a name added to or dropped from an `__all__` fails here
with the difference, so the change is deliberate (update the snapshot, and the
docs pages that name the object). A name imported into a package's
`__init__.py` but left out of its `__all__` fails too: a package exports what
`__all__` says and nothing else, besides its own submodules.
"""

import difflib
import importlib
import inspect
import pkgutil
import types

import keras
import pytest

PUBLIC_API = {
    "keras_ortho": [
        "callbacks",
        "constraints",
        "data",
        "diagnostics",
        "initializers",
        "layers",
        "losses",
        "metrics",
        "models",
        "optimizers",
        "plots",
        "recipes",
        "regularizers",
    ],
    "keras_ortho.callbacks": ["OrthogonalityMonitor", "RegularizerSchedule"],
    "keras_ortho.constraints": ["Orthogonal", "attach", "orthogonal_projection"],
    "keras_ortho.data": [
        "DATASET_NAMES",
        "Dataset",
        "demo_subset_path",
        "load_cifar10",
        "load_cifar100",
        "load_cifar10_jpeg",
        "load_dataset",
        "load_svhn",
        "load_tiny_imagenet",
    ],
    "keras_ortho.initializers": ["DeltaOrthogonal", "OrthogonalFilters"],
    "keras_ortho.layers": [
        "Cutout",
        "FixedClassifier",
        "MixWithPartners",
        "RandAugment",
        "RandomHorizontalFlip",
        "RandomPadCrop",
    ],
    "keras_ortho.losses": [
        "OrthogonalProjectionLoss",
        "OrthogonalSphereLoss",
        "orthogonal_projection_loss",
        "orthogonal_sphere_loss",
    ],
    "keras_ortho.diagnostics": [
        "FilterOrthogonalityResult",
        "LocalizationResult",
        "OPLStatisticsResult",
        "OperatorSpectrumResult",
        "ReliabilityDiagramResult",
        "SubselectionCurveResult",
        "bounding_boxes",
        "circular_convolution_singular_values",
        "class_activation_maps",
        "convolution_singular_values",
        "convolution_spectra",
        "feature_subselection_curve",
        "filter_orthogonality",
        "localization_score",
        "opl_statistics",
        "reliability_diagram",
    ],
    "keras_ortho.metrics": [
        "ExpectedCalibrationError",
        "box_iou",
        "brier_score",
        "class_means",
        "effective_rank",
        "etf_distance",
        "expected_calibration_error",
        "inter_class_separability",
        "intra_class_compactness",
        "maximum_calibration_error",
        "negative_log_likelihood",
        "within_class_variability",
    ],
    "keras_ortho.models": [
        "FeatureOutputsModel",
        "feature_targets",
        "resnet18_cifar",
        "resnet_cifar",
        "wide_resnet",
        "with_features",
    ],
    "keras_ortho.optimizers": ["CoupledWeightDecaySGD", "schedules"],
    "keras_ortho.optimizers.schedules": ["WarmupMultiStepDecay"],
    "keras_ortho.plots": [
        "plot_cam_overlays",
        "plot_cosine_histogram_comparison",
        "plot_cosine_histograms",
        "plot_filter_orthogonality",
        "plot_gram_matrices",
        "plot_metric_bars",
        "plot_reliability_diagram",
        "plot_subselection_curves",
        "plot_training_history",
    ],
    "keras_ortho.recipes": [
        "AugmentationSettings",
        "DataSettings",
        "METHOD_NAMES",
        "MixingDraw",
        "NetworkSettings",
        "OptimizationSettings",
        "OrthogonalitySettings",
        "RECIPE_NAMES",
        "Recipe",
        "SampleMixing",
        "compare",
        "format_table",
        "get_recipe",
        "parse_methods",
        "train",
    ],
    "keras_ortho.regularizers": [
        "DisentangledOrthogonality",
        "DoubleSoftOrthogonality",
        "MutualCoherence",
        "OrthogonalConvolution",
        "OrthogonalityRegularizer",
        "RelaxedOrthogonality",
        "SRIP",
        "SoftOrthogonality",
        "SpectralRestrictedIsometry",
        "attach",
        "disentangled_orthogonality",
        "double_soft_orthogonality",
        "mutual_coherence",
        "orthogonal_convolution",
        "relaxed_orthogonality",
        "soft_orthogonality",
        "spectral_restricted_isometry",
    ],
}

# The Keras kinds whose objects a `.keras` file stores by registered name.
SERIALIZABLE_KINDS = (
    keras.layers.Layer,
    keras.losses.Loss,
    keras.metrics.Metric,
    keras.regularizers.Regularizer,
    keras.constraints.Constraint,
    keras.initializers.Initializer,
    keras.optimizers.Optimizer,
    keras.optimizers.schedules.LearningRateSchedule,
)
# Bases to subclass, never saved themselves: their subclasses register.
BASE_CLASSES = {"keras_ortho.regularizers.OrthogonalityRegularizer"}


def _packages():
    """Every package under keras_ortho, private ones (`_name`) excepted."""
    import keras_ortho

    yield "keras_ortho"
    for info in pkgutil.walk_packages(keras_ortho.__path__, "keras_ortho."):
        if info.ispkg and not any(p.startswith("_") for p in info.name.split(".")):
            yield info.name


def _difference(expected, received):
    return "\n".join(
        difflib.unified_diff(
            expected, received, "snapshot", "__all__", lineterm="", n=0
        )
    )


def test_the_snapshot_covers_every_package():
    assert sorted(_packages()) == sorted(PUBLIC_API)


@pytest.mark.parametrize("package", sorted(PUBLIC_API))
def test_public_names_match_the_snapshot(package):
    received = sorted(importlib.import_module(package).__all__)
    expected = PUBLIC_API[package]
    assert received == expected, (
        f"The public names of {package} changed; if on purpose, update "
        f"PUBLIC_API in {__name__} and the docs pages that name them:\n"
        + _difference(expected, received)
    )


@pytest.mark.parametrize("package", sorted(PUBLIC_API))
def test_a_package_exports_its_all_and_nothing_else(package):
    module = importlib.import_module(package)
    exported = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        # Its own submodules are attributes of a package once imported.
        and not (
            isinstance(value, types.ModuleType)
            and value.__name__ == f"{package}.{name}"
            and name not in module.__all__
        )
    }
    assert exported == set(module.__all__), (
        f"{package} has public names outside its __all__: "
        f"{sorted(exported - set(module.__all__))}; missing: "
        f"{sorted(set(module.__all__) - exported)}"
    )


@pytest.mark.parametrize("package", sorted(PUBLIC_API))
def test_every_public_keras_object_is_registered(package):
    module = importlib.import_module(package)
    for name in module.__all__:
        value = getattr(module, name)
        if f"{package}.{name}" in BASE_CLASSES or not (
            inspect.isclass(value) and issubclass(value, SERIALIZABLE_KINDS)
        ):
            continue
        registered_name = keras.saving.get_registered_name(value)
        assert registered_name.startswith("keras_ortho>"), (
            f"{package}.{name} is not registered for Keras serialization"
        )
        assert keras.saving.get_registered_object(registered_name) is value
