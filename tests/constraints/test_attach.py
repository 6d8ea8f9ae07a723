import keras
import numpy as np
import pytest

from keras_ortho import constraints
from tests import toolkit
from tests.constraints import reference

EXPECTED = toolkit.every_kernel_placed("constraint")


def _data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(8, 8, 8, 3)).astype("float32"), rng.integers(0, 3, 8)


def test_every_kernel_is_projected_with_its_layout_after_fit():
    model = toolkit.every_kernel_type_model()
    model.compile(
        optimizer="sgd",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        # XLA on TensorFlow and JAX; torch.compile is covered in
        # test_orthogonal.py (each compile costs minutes on 2 cores).
        jit_compile="auto",
    )
    model.fit(*_data(), batch_size=8, epochs=1, verbose=0)
    # Placed after compiling and a first fit: the step is rebuilt.
    placed = constraints.attach(model, constraints.Orthogonal(method="svd"))
    assert placed == [(name, attribute) for name, attribute, _, _ in EXPECTED]
    model.fit(*_data(), batch_size=8, epochs=1, verbose=0)
    for name, attribute, weight, layout in EXPECTED:
        layer = model.get_layer(name)
        constraint = getattr(layer, attribute)
        assert getattr(layer, weight).constraint is constraint
        assert constraint.kernel_layout == layout
        values = reference.singular_values_of_groups(
            toolkit.to_numpy(getattr(layer, weight)), layout
        )
        np.testing.assert_allclose(values, 1.0, atol=1e-5, err_msg=f"{name}.{weight}")
    assert model.get_layer("bn").gamma.constraint is None


def test_copies_are_shared_per_layout_and_the_argument_is_not_placed():
    model = toolkit.every_kernel_type_model()
    original = constraints.Orthogonal(gain=2.0)
    constraints.attach(model, original)
    depthwise = model.get_layer("depthwise").depthwise_constraint
    assert depthwise is model.get_layer("separable").depthwise_constraint
    assert depthwise is not original and depthwise.gain == 2.0
    assert original.kernel_layout == "auto"


def test_save_load_keeps_the_constraints(tmp_path):
    model = toolkit.every_kernel_type_model()
    constraints.attach(model, constraints.Orthogonal(bjorck_steps=5))
    loaded = toolkit.assert_save_load_identical(model, _data()[0], tmp_path)
    for name, attribute, weight, layout in EXPECTED:
        layer = loaded.get_layer(name)
        constraint = getattr(layer, attribute)
        assert isinstance(constraint, constraints.Orthogonal)
        assert constraint.kernel_layout == layout and constraint.bjorck_steps == 5
        assert getattr(layer, weight).constraint is not None


def test_layer_selection_and_existing_constraints():
    model = toolkit.every_kernel_type_model()
    placed = constraints.attach(
        model, constraints.Orthogonal(), layers=["transpose", "dense"]
    )
    assert placed == [
        ("transpose", "kernel_constraint"),
        ("dense", "kernel_constraint"),
    ]
    with pytest.raises(ValueError, match="already have a constraint"):
        constraints.attach(model, keras.constraints.UnitNorm())
    assert model.get_layer("conv").kernel_constraint is None
    constraints.attach(model, keras.constraints.UnitNorm(), overwrite=True)
    assert isinstance(
        model.get_layer("transpose").kernel_constraint, keras.constraints.UnitNorm
    )
    with pytest.raises(ValueError, match="no layer named"):
        constraints.attach(model, constraints.Orthogonal(), layers=["nope"])


def test_invalid_arguments():
    with pytest.raises(TypeError, match="constraint"):
        constraints.attach(toolkit.every_kernel_type_model(), lambda w: w)
    with pytest.raises(TypeError, match="model"):
        constraints.attach("model", constraints.Orthogonal())
    with pytest.raises(TypeError, match="overwrite"):
        constraints.attach(
            toolkit.every_kernel_type_model(), constraints.Orthogonal(), overwrite=1
        )


def test_a_save_that_would_drop_the_constraints_is_refused(tmp_path):
    # A subclassed model (as a keras-hub backbone) saves its constructor
    # arguments, not its layers' configs: the file would load unconstrained.
    model = toolkit.SubclassedClassifier(name="net")
    model(np.zeros((1, 6, 6, 3), "float32"))
    constraints.attach(model, constraints.Orthogonal())
    with pytest.raises(
        ValueError, match=r"'net'.*constraints.attach.*conv.kernel_constraint"
    ):
        model.save(tmp_path / "model.keras")
    model.save_weights(tmp_path / "model.weights.h5")
