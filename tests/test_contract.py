"""The contract every public Keras object of keras_ortho keeps, checked once here.

The objects are discovered, not listed: every class exported by a public
subpackage that derives from a Keras base (regularizer, constraint, initializer,
loss, metric, layer, model, callback, optimizer, learning-rate schedule). Each
needs an entry in `CONTRACT` (constructor arguments where the defaults do not
suffice, and for layers the arguments of Keras' own `run_layer_test`);
`test_every_public_keras_object_has_a_contract_entry` fails for one without.

For every object:
- serialization: `get_config`/`from_config` and Keras' serializer through JSON
  (callbacks excepted: Keras callbacks have no config);
- a `.keras` save and load of a model using it gives identical outputs and the
  same object back, without `custom_objects`;
- one `fit` step with `jit_compile=True`;
- one `fit` step under `mixed_float16` and under `mixed_bfloat16`, with
  penalties, losses and metric results in float32 and layer outputs in the
  layer's compute dtype;
- for layers, Keras' own `keras.src.testing.TestCase.run_layer_test`.

The per-object test files keep each object's own numerics and behaviours.
"""

import dataclasses
import importlib
import inspect
import json
import pkgutil

import keras
import numpy as np
import pytest
from keras.src.testing import TestCase

import keras_ortho
from tests import toolkit

# Most specific first: a Model is a Layer.
KINDS = {
    "optimizer": keras.optimizers.Optimizer,
    "schedule": keras.optimizers.schedules.LearningRateSchedule,
    "regularizer": keras.regularizers.Regularizer,
    "constraint": keras.constraints.Constraint,
    "initializer": keras.initializers.Initializer,
    "loss": keras.losses.Loss,
    "metric": keras.metrics.Metric,
    "callback": keras.callbacks.Callback,
    "model": keras.Model,
    "layer": keras.layers.Layer,
}

# Bases exported for users to subclass: their contract is their subclasses'.
ABSTRACT_BASES = {"OrthogonalityRegularizer"}

IMAGE_SHAPE = (4, 8, 8, 3)
FEATURE_DIM = 6
NUM_CLASSES = 3


def public_keras_classes():
    """`{qualified public name: class}` of every Keras class exported by a
    public subpackage of keras_ortho, each class once (under its first name)."""
    found = {}
    packages = [keras_ortho.__name__]
    packages += [
        info.name
        for info in pkgutil.walk_packages(keras_ortho.__path__, "keras_ortho.")
        if info.ispkg and not any(p.startswith("_") for p in info.name.split("."))
    ]
    for package_name in sorted(packages):
        package = importlib.import_module(package_name)
        names = getattr(package, "__all__", None) or [
            name for name in vars(package) if not name.startswith("_")
        ]
        for name in sorted(names):
            obj = getattr(package, name)
            if (
                inspect.isclass(obj)
                and issubclass(obj, tuple(KINDS.values()))
                and obj.__module__.startswith("keras_ortho.")
                and obj not in found.values()
            ):
                found[f"{package_name}.{name}"] = obj
    return found


def kind_of(cls):
    return next(kind for kind, base in KINDS.items() if issubclass(cls, base))


@dataclasses.dataclass(frozen=True)
class Contract:
    """How to make one object for the contract.

    `kwargs`: constructor arguments, used everywhere. `options`: further
    constructor arguments, all different from their defaults, that the
    serialization round trip must carry (options that would not fit the small
    models below, such as another kernel layout). For layers, `inputs` names
    the model inputs (`"images"`, `"mixing"` or `"features"`) and `layer_test`
    holds the expected values `run_layer_test` checks.
    """

    kwargs: dict = dataclasses.field(default_factory=dict)
    options: dict = dataclasses.field(default_factory=dict)
    inputs: str = ""
    layer_test: dict = dataclasses.field(default_factory=dict)


_AUGMENTATION_LAYER_TEST = {
    "expected_output_shape": IMAGE_SHAPE,
    "expected_output_dtype": "float32",
    "expected_num_trainable_weights": 0,
    "expected_num_non_trainable_weights": 0,
    "expected_num_seed_generators": 1,
    "expected_num_losses": 0,
    "supports_masking": False,
}

CONTRACT = {
    # Regularizers
    "DisentangledOrthogonality": Contract(
        {"factor": 1e-2},
        {
            "diagonal_weight": 0.5,
            "correlation_weight": 2.0,
            "normalize_correlations": False,
            "correlation_power": 1.5,
            "kernel_layout": "conv_transpose",
        },
    ),
    "DoubleSoftOrthogonality": Contract(
        {"factor": 1e-2}, {"kernel_layout": "depthwise"}
    ),
    "MutualCoherence": Contract(
        {"factor": 1e-2},
        {"reduction": "mean", "gram": "inputs", "kernel_layout": "conv_transpose"},
    ),
    "OrthogonalConvolution": Contract(
        {"factor": 1e-2},
        {"stride": (2, 1), "padding": "reference", "kernel_layout": "depthwise"},
    ),
    "RelaxedOrthogonality": Contract(
        {"factor": 1e-2, "target_rank": 0.5},
        {
            "diagonal_weight": 0.5,
            "correlation_weight": 2.0,
            "correlation_power": 1.5,
            "kernel_layout": "depthwise",
        },
    ),
    "SoftOrthogonality": Contract(
        {"factor": 1e-2},
        {"gram": "smaller", "squared": False, "kernel_layout": "depthwise"},
    ),
    "SpectralRestrictedIsometry": Contract(
        {"factor": 1e-2, "gram": "smaller"},
        {
            "power_iterations": 4,
            "squared": True,
            "start": "uniform",
            "seed": 3,
            "kernel_layout": "depthwise",
        },
    ),
    # Constraints and initializers
    "Orthogonal": Contract(
        {}, {"method": "svd", "bjorck_steps": 7, "gain": 0.5, "kernel_layout": "conv"}
    ),
    "DeltaOrthogonal": Contract({"seed": 3}, {"gain": 0.5}),
    "OrthogonalFilters": Contract({"seed": 3, "kernel_layout": "conv"}, {"gain": 2.0}),
    # Losses and metrics
    "OrthogonalProjectionLoss": Contract(
        {},
        {
            "gamma": 2.0,
            "absolute": "mean",
            "num_classes": 4,
            "cross_replica": True,
            "reduction": "sum",
            "name": "opl",
        },
    ),
    "OrthogonalSphereLoss": Contract(
        {"num_blocks": 2},
        {"squared": True, "gram": "features", "reduction": "sum", "name": "os"},
    ),
    "ExpectedCalibrationError": Contract(
        {"num_bins": 5}, {"from_logits": True, "name": "calibration"}
    ),
    # Callbacks: `data` is filled in with the batch the model is fitted on.
    "OrthogonalityMonitor": Contract(
        {"filter_measures": ("so_residual",), "feature_statistics": ("s", "d")}
    ),
    "RegularizerSchedule": Contract({"schedule": lambda epoch, factor: factor / 2}),
    # Optimizers and schedules
    "CoupledWeightDecaySGD": Contract(
        {"learning_rate": 0.1, "momentum": 0.9, "coupled_weight_decay": 5e-4},
        {"nesterov": True, "exclude_from_coupled_weight_decay": ("bias",)},
    ),
    "WarmupMultiStepDecay": Contract(
        {"initial_learning_rate": 0.1, "steps_per_epoch": 2, "milestones": (2,)},
        {"decay": 0.1, "warmup_epochs": 1, "name": "warmup"},
    ),
    # Layers and models
    "Cutout": Contract(
        {"size": 4, "seed": 1},
        {"fill_value": (125.3, 123.0, 113.9)},
        "images",
        _AUGMENTATION_LAYER_TEST,
    ),
    "RandAugment": Contract(
        {"seed": 1},
        {"num_ops": 3, "magnitude": 5, "num_magnitude_bins": 11, "fill_value": 128},
        "images",
        _AUGMENTATION_LAYER_TEST,
    ),
    "RandomHorizontalFlip": Contract(
        {"seed": 1}, {}, "images", _AUGMENTATION_LAYER_TEST
    ),
    "RandomPadCrop": Contract(
        {"padding": 2, "seed": 1},
        {"fill": "reflect"},
        "images",
        _AUGMENTATION_LAYER_TEST,
    ),
    "MixWithPartners": Contract(
        {},
        {"name": "mix"},
        "mixing",
        {**_AUGMENTATION_LAYER_TEST, "expected_num_seed_generators": 0},
    ),
    "FixedClassifier": Contract(
        {"units": NUM_CLASSES, "init": "orthogonal", "seed": 2},
        {
            "logits": "cosine",
            "scale": "learned",
            "initial_scale": 2.5,
            "use_bias": True,
            "trainable_vectors": True,
        },
        "features",
        {
            "expected_output_shape": (4, NUM_CLASSES),
            "expected_output_dtype": "float32",
            "expected_num_trainable_weights": 0,
            "expected_num_non_trainable_weights": 1,
            "expected_num_seed_generators": 0,
            "expected_num_losses": 0,
            "supports_masking": False,
        },
    ),
    "FeatureOutputsModel": Contract(),
}

PUBLIC = public_keras_classes()
OBJECTS = {
    name: cls for name, cls in PUBLIC.items() if cls.__name__ not in ABSTRACT_BASES
}


def _by_kind(*kinds):
    return pytest.mark.parametrize(
        "cls",
        [cls for cls in OBJECTS.values() if kind_of(cls) in kinds],
        ids=lambda cls: cls.__name__,
    )


def make(cls):
    return cls(**CONTRACT[cls.__name__].kwargs)


# ---------------------------------------------------------------- the data


def images(dtype="uint8"):
    rng = np.random.default_rng(0)
    return rng.integers(1, 256, IMAGE_SHAPE).astype(dtype)


def labels():
    return np.array([0, 1, 2, 1])


def features():
    return np.random.default_rng(1).normal(size=(4, FEATURE_DIM)).astype("float32")


def mixing_inputs(batch_images):
    """`(images, partners, image_weights, boxes)` of `MixWithPartners`."""
    batch = len(batch_images)
    return (
        batch_images,
        np.roll(np.arange(batch, dtype="int32"), 1),
        np.full(batch, 0.3, "float32"),
        np.tile(np.array([[1, 2, 5, 6]], "int32"), (batch, 1)),
    )


LOGITS_LOSS = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def classifier(**kernel_options):
    """A small convolutional classifier; `kernel_options` (a regularizer,
    constraint or initializer) go to both convolution kernels (3x3 and 1x1)."""

    def options():
        return {f"kernel_{key}": make() for key, make in kernel_options.items()}

    inputs = keras.Input(IMAGE_SHAPE[1:])
    x = keras.layers.Conv2D(4, 3, **options())(inputs)
    x = keras.layers.Conv2D(4, 1, **options())(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, keras.layers.Dense(NUM_CLASSES)(x))


def layer_model(layer, inputs):
    """`layer` inside a model that trains: images are rescaled, pooled and
    classified; features pass through a Dense first."""
    if inputs == "features":
        model_inputs = keras.Input((FEATURE_DIM,))
        outputs = layer(keras.layers.Dense(FEATURE_DIM)(model_inputs))
        return keras.Model(model_inputs, outputs), features()
    batch = images()
    if inputs == "mixing":
        data = mixing_inputs(batch)
        model_inputs = tuple(keras.Input(x.shape[1:], dtype=x.dtype) for x in data)
    else:
        data = batch
        model_inputs = keras.Input(IMAGE_SHAPE[1:], dtype="uint8")
    x = keras.layers.Rescaling(1 / 255)(layer(model_inputs))
    outputs = keras.layers.Dense(NUM_CLASSES)(keras.layers.GlobalAveragePooling2D()(x))
    return keras.Model(model_inputs, outputs), data


def feature_model():
    """A model whose output is features, for a loss on features."""
    return keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(FEATURE_DIM, activation="relu")]
    )


@keras.saving.register_keras_serializable(package="keras_ortho_contract")
class _Subclassed(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.body = keras.layers.Dense(FEATURE_DIM, activation="relu")
        self.head = keras.layers.Dense(NUM_CLASSES)

    def call(self, inputs):
        return self.head(self.body(inputs))


def wrapped_model():
    """A `FeatureOutputsModel`, as `with_features` makes it for a subclassed
    classifier, and its training targets."""
    inner = _Subclassed()
    inner(np.zeros((1, 5), "float32"))
    model = keras_ortho.models.with_features(inner)
    assert type(model) is OBJECTS["keras_ortho.models.FeatureOutputsModel"]
    return model


FEATURE_LOSSES = {
    "logits": LOGITS_LOSS,
    "features": keras_ortho.losses.OrthogonalProjectionLoss(),
}


def _feature_inputs():
    return np.random.default_rng(2).normal(size=(4, 5)).astype("float32")


def setup(cls):
    """`(model, x, y, compile_kwargs, fit_kwargs)`: a model using an instance
    of `cls`, its data, and how it is compiled and fitted."""
    kind = kind_of(cls)
    compile_kwargs, fit_kwargs = {"loss": LOGITS_LOSS}, {}
    x, y = images("float32") / 255, labels()
    if kind in ("regularizer", "constraint", "initializer"):
        model = classifier(**{kind: lambda: make(cls)})
    elif kind == "loss":
        model, x = feature_model(), _feature_inputs()
        compile_kwargs["loss"] = make(cls)
    elif kind == "metric":
        model = classifier()
        model = keras.Model(model.inputs, keras.layers.Softmax()(model.outputs[0]))
        compile_kwargs = {
            "loss": "sparse_categorical_crossentropy",
            "metrics": [make(cls)],
        }
    elif kind == "callback":
        model = classifier(
            regularizer=lambda: keras_ortho.regularizers.SoftOrthogonality(0.1)
        )
        kwargs = dict(CONTRACT[cls.__name__].kwargs)
        if "data" in inspect.signature(cls).parameters:
            kwargs["data"] = (x, y)
        fit_kwargs["callbacks"] = [cls(**kwargs)]
    elif kind == "optimizer":
        model = classifier()
        compile_kwargs["optimizer"] = make(cls)
    elif kind == "schedule":
        model = classifier()
        compile_kwargs["optimizer"] = keras.optimizers.SGD(learning_rate=make(cls))
    elif kind == "model":
        model, x = wrapped_model(), _feature_inputs()
        y = keras_ortho.models.feature_targets(y)
        compile_kwargs["loss"] = FEATURE_LOSSES
    else:
        model, x = layer_model(make(cls), CONTRACT[cls.__name__].inputs)
    return model, x, y, compile_kwargs, fit_kwargs


def fit(model, x, y, compile_kwargs, fit_kwargs, jit_compile=True):
    return toolkit.fit_one_step(
        model, x, y, jit_compile=jit_compile, **compile_kwargs, **fit_kwargs
    )


def _layers_of(layer):
    """`layer` and every layer nested in it."""
    yield layer
    for sublayer in getattr(layer, "layers", []):
        yield from _layers_of(sublayer)


def instances_in(model, cls):
    """Every instance of `cls` a model holds or was compiled with."""
    found = []
    for layer in _layers_of(model):
        if isinstance(layer, cls):
            found.append(layer)
        for attribute in (
            "kernel_regularizer",
            "kernel_constraint",
            "kernel_initializer",
        ):
            if isinstance(getattr(layer, attribute, None), cls):
                found.append(getattr(layer, attribute))
    optimizer = getattr(model, "optimizer", None)
    if isinstance(optimizer, cls):
        found.append(optimizer)
    elif optimizer is not None and issubclass(cls, KINDS["schedule"]):
        schedule = keras.optimizers.schedules.deserialize(
            optimizer.get_config()["learning_rate"]
        )
        found += [schedule] if isinstance(schedule, cls) else []
    if getattr(model, "loss", None) is not None:
        found += [
            loss for loss in keras.tree.flatten(model.loss) if isinstance(loss, cls)
        ]
    if kind_of(cls) == "metric":
        configs = model.get_compile_config()["metrics"]
        metrics = [keras.saving.deserialize_keras_object(c) for c in configs]
        found += [metric for metric in metrics if isinstance(metric, cls)]
    return found


# ------------------------------------------------------------ the contract


def test_every_public_keras_object_has_a_contract_entry():
    missing = sorted(
        name for name, cls in OBJECTS.items() if cls.__name__ not in CONTRACT
    )
    assert not missing, (
        "Public Keras objects without a contract entry in tests/test_contract.py "
        f"(add one to CONTRACT): {missing}"
    )
    stale = sorted(set(CONTRACT) - {cls.__name__ for cls in OBJECTS.values()})
    assert not stale, f"CONTRACT entries of no public object: {stale}"


def test_every_kind_is_found():
    kinds = {kind_of(cls) for cls in OBJECTS.values()}
    assert kinds == set(KINDS), f"no public object of kind {set(KINDS) - kinds}"


def test_abstract_bases_are_the_bases_of_public_objects():
    for name in ABSTRACT_BASES:
        bases = [cls for cls in PUBLIC.values() if cls.__name__ == name]
        for base in bases:
            assert any(issubclass(cls, base) for cls in OBJECTS.values()), (
                f"{name} is listed as abstract but no public object derives from it"
            )


# Constructor arguments every Keras base takes, which its config holds its own way.
_BASE_ARGUMENTS = {"self", "kwargs", "dtype", "reduction", "name"}


@pytest.mark.parametrize(
    "cls",
    [cls for cls in OBJECTS.values() if kind_of(cls) not in ("callback", "model")],
    ids=lambda cls: cls.__name__,
)
def test_serialization_round_trip(cls):
    entry = CONTRACT[cls.__name__]
    obj = cls(**entry.kwargs, **entry.options)
    config = obj.get_config()
    # A complete config: every constructor argument, with the value given.
    arguments = set(inspect.signature(cls.__init__).parameters) - _BASE_ARGUMENTS
    assert arguments <= set(config), f"get_config lacks {arguments - set(config)}"
    restored = toolkit.assert_serialization_round_trip(obj)
    for name, value in {**entry.kwargs, **entry.options}.items():
        got = restored.get_config()[name]
        if isinstance(value, tuple):
            got = tuple(got)
        if isinstance(value, float):  # an optimizer keeps its rate in float32
            value = pytest.approx(value, rel=1e-7)
        assert got == value, f"{name}: {got!r} after the round trip, not {value!r}"
    if kind_of(cls) == "initializer":
        shape = (3, 3, 4, 4)
        np.testing.assert_array_equal(
            toolkit.to_numpy(restored(shape)), toolkit.to_numpy(obj(shape))
        )
    if kind_of(cls) == "schedule":
        for step in (0, 1, 3, 10):
            np.testing.assert_array_equal(
                toolkit.to_numpy(restored(step)), toolkit.to_numpy(obj(step))
            )


def test_model_serialization_round_trip():
    model = wrapped_model()
    serialized = json.loads(json.dumps(keras.saving.serialize_keras_object(model)))
    revived = keras.saving.deserialize_keras_object(serialized)
    assert type(revived) is type(model) and type(revived.model) is type(model.model)
    config, revived_config = model.get_config(), revived.get_config()
    assert (
        revived_config.pop("model")["class_name"] == config.pop("model")["class_name"]
    )
    assert revived_config == config
    x = _feature_inputs()
    revived(x)
    revived.set_weights(model.get_weights())
    for want, got in zip(
        keras.tree.flatten(model(x)), keras.tree.flatten(revived(x)), strict=True
    ):
        np.testing.assert_array_equal(toolkit.to_numpy(got), toolkit.to_numpy(want))


@pytest.mark.parametrize("cls", list(OBJECTS.values()), ids=lambda cls: cls.__name__)
def test_save_load_gives_identical_outputs(cls, tmp_path):
    model, x, y, compile_kwargs, fit_kwargs = setup(cls)
    # Compiled, so that the compile config is saved; trained where training
    # leaves a state to save (optimizer variables, a scheduled factor).
    if kind_of(cls) in ("optimizer", "schedule", "callback"):
        fit(model, x, y, compile_kwargs, fit_kwargs, jit_compile="auto")
    else:
        model.compile(**compile_kwargs)
    loaded = toolkit.assert_save_load_identical(model, x, tmp_path)
    if kind_of(cls) == "callback":
        return
    saved, restored = instances_in(model, cls), instances_in(loaded, cls)
    assert restored, f"the loaded model has no {cls.__name__}"
    assert len(restored) == len(saved)
    for want, got in zip(saved, restored, strict=True):
        assert type(got) is type(want)
        if kind_of(cls) not in ("model", "layer"):
            assert got.get_config() == want.get_config()
    if kind_of(cls) in ("optimizer", "schedule"):
        for want, got in zip(
            model.optimizer.variables, loaded.optimizer.variables, strict=True
        ):
            np.testing.assert_array_equal(toolkit.to_numpy(got), toolkit.to_numpy(want))


def _first_of_each_kind():
    firsts = {}
    for cls in OBJECTS.values():
        firsts.setdefault(kind_of(cls), cls)
    return set(firsts.values())


# On torch `jit_compile=True` is torch.compile, whose Dynamo trace of one
# small fit step costs about 10 s on 2 cores even with the suite's aot_eager
# backend (conftest.py), and 10 to 25 s more with Inductor: the compiled step is
# checked for the first object of each kind, which share their base classes'
# call paths with the others; XLA on JAX and TensorFlow checks every object.
TORCH_COMPILED = _first_of_each_kind()


@pytest.mark.parametrize("cls", list(OBJECTS.values()), ids=lambda cls: cls.__name__)
def test_jit_compiled_fit_step(cls):
    if keras.backend.backend() == "torch" and cls not in TORCH_COMPILED:
        pytest.skip("torch.compile checked on the first object of each kind")
    model, x, y, compile_kwargs, fit_kwargs = setup(cls)
    fit(model, x, y, compile_kwargs, fit_kwargs)
    assert model.jit_compile is True
    if kind_of(cls) == "regularizer":
        assert len(model.losses) == 2


@pytest.mark.parametrize("policy", toolkit.MIXED_POLICIES)
@pytest.mark.parametrize("cls", list(OBJECTS.values()), ids=lambda cls: cls.__name__)
def test_mixed_precision_fit_step(cls, policy):
    # Eager: the compiled step is the test above; an XLA or torch.compile
    # compilation per policy would double the contract's time.
    compute_dtype = keras.DTypePolicy(policy).compute_dtype
    with toolkit.mixed_precision(policy):
        model, x, y, compile_kwargs, fit_kwargs = setup(cls)
        fit(model, x, y, compile_kwargs, fit_kwargs, jit_compile=False)
        kind = kind_of(cls)
        if kind == "regularizer":
            assert [keras.backend.standardize_dtype(v.dtype) for v in model.losses] == [
                "float32",
                "float32",
            ]
        elif kind == "loss":
            low = keras.ops.cast(features(), compute_dtype)
            value = make(cls)(labels(), low)
            assert keras.backend.standardize_dtype(value.dtype) == "float32"
        elif kind == "metric":
            metric = make(cls)
            metric.update_state(labels(), keras.ops.cast(model(x), compute_dtype))
            assert keras.backend.standardize_dtype(metric.result().dtype) == "float32"
            for variable in metric.variables:
                assert keras.backend.standardize_dtype(variable.dtype) == "float32"
        elif kind in ("constraint", "initializer"):
            for weight in model.trainable_weights:
                assert keras.backend.standardize_dtype(weight.dtype) == "float32"
                assert np.all(np.isfinite(toolkit.to_numpy(weight)))
        elif kind == "layer":
            _assert_outputs_in_the_compute_dtype(cls, compute_dtype)


def _assert_outputs_in_the_compute_dtype(cls, compute_dtype):
    entry = CONTRACT[cls.__name__]
    layer = make(cls)
    assert layer.compute_dtype == compute_dtype
    if entry.inputs == "features":
        data = features()
        symbolic = keras.KerasTensor(data.shape, dtype="float32")
    elif entry.inputs == "mixing":
        data = mixing_inputs(images("float32"))
        symbolic = tuple(keras.KerasTensor(x.shape, dtype=x.dtype) for x in data)
    else:
        data = images("float32")
        symbolic = keras.KerasTensor(data.shape, dtype="float32")
    for training in (True, False):
        outputs = layer(data, training=training)
        assert keras.backend.standardize_dtype(outputs.dtype) == compute_dtype
        assert layer(symbolic, training=training).dtype == compute_dtype


@_by_kind("layer")
def test_keras_run_layer_test(cls):
    # Serialization, build, symbolic and eager calls, a training step, and
    # (on TensorFlow and JAX) outputs in the compute dtype under mixed_float16.
    entry = CONTRACT[cls.__name__]
    if entry.inputs == "features":
        data = features()
    elif entry.inputs == "mixing":
        data = mixing_inputs(images("float32"))
    else:
        data = images("float32")
    TestCase().run_layer_test(
        cls,
        init_kwargs=entry.kwargs,
        input_data=data,
        call_kwargs={"training": True},
        **entry.layer_test,
    )
