"""Keras' own layer contract (`run_layer_test`) for the augmentation layers:
serialization, build, symbolic and eager calls, a compiled `fit` step and, on
TensorFlow and JAX (Keras skips it on a CPU-only torch), outputs in the
compute dtype under `mixed_float16`. The same dtype rule is then checked
under both mixed policies on every backend."""

import keras
import numpy as np
import pytest
from keras.src.testing import TestCase

from keras_ortho.layers import Cutout
from keras_ortho.layers import MixWithPartners
from keras_ortho.layers import RandAugment
from keras_ortho.layers import RandomHorizontalFlip
from keras_ortho.layers import RandomPadCrop
from tests.layers._augmentation_checks import distinct_images
from tests.toolkit import MIXED_POLICIES
from tests.toolkit import mixed_precision

IMAGE_SHAPE = (4, 8, 8, 3)

IMAGE_LAYERS = [
    (RandomPadCrop, {"padding": 2, "seed": 1}),
    (RandomPadCrop, {"padding": 2, "fill": "reflect", "seed": 1}),
    (RandomHorizontalFlip, {"seed": 1}),
    (Cutout, {"size": 4, "fill_value": 3.0, "seed": 1}),
    (RandAugment, {"num_ops": 2, "magnitude": 9, "seed": 1}),
]


def _ids(case):
    layer_cls, kwargs = case
    return f"{layer_cls.__name__}-{kwargs.get('fill', '')}"


def _mixing_inputs(images):
    """`(images, partners, image_weights, boxes)`: a tuple, as `tf.data`
    takes no lists in a generator's signature."""
    batch = len(images)
    return (
        images,
        np.roll(np.arange(batch, dtype="int32"), 1),
        np.full(batch, 0.3, "float32"),
        np.tile(np.array([[1, 2, 5, 6]], "int32"), (batch, 1)),
    )


@pytest.mark.parametrize("dtype", ["float32", "uint8"])
@pytest.mark.parametrize("case", IMAGE_LAYERS, ids=[_ids(c) for c in IMAGE_LAYERS])
def test_image_augmentation_passes_run_layer_test(case, dtype):
    layer_cls, kwargs = case
    TestCase().run_layer_test(
        layer_cls,
        init_kwargs=kwargs,
        input_data=distinct_images(*IMAGE_SHAPE[:2]).astype(dtype),
        call_kwargs={"training": True},
        expected_output_shape=IMAGE_SHAPE,
        expected_output_dtype=dtype,
        expected_num_trainable_weights=0,
        expected_num_non_trainable_weights=0,
        expected_num_seed_generators=1,
        expected_num_losses=0,
        supports_masking=False,
        # The compiled `fit` step does not depend on the dtype: checked once.
        run_training_check=dtype == "float32",
    )


def test_mix_with_partners_passes_run_layer_test():
    TestCase().run_layer_test(
        MixWithPartners,
        init_kwargs={},
        input_data=_mixing_inputs(distinct_images(*IMAGE_SHAPE[:2])),
        call_kwargs={"training": True},
        expected_output_shape=IMAGE_SHAPE,
        expected_output_dtype="float32",
        expected_num_trainable_weights=0,
        expected_num_non_trainable_weights=0,
        expected_num_losses=0,
        supports_masking=False,
    )


@pytest.mark.parametrize("policy", MIXED_POLICIES)
@pytest.mark.parametrize(
    "case",
    [*IMAGE_LAYERS, (MixWithPartners, {})],
    ids=[*(_ids(c) for c in IMAGE_LAYERS), "MixWithPartners"],
)
@pytest.mark.parametrize("training", [True, False])
def test_float_outputs_in_the_compute_dtype(case, policy, training):
    layer_cls, kwargs = case
    images = distinct_images(*IMAGE_SHAPE[:2])
    with mixed_precision(policy):
        layer = layer_cls(**kwargs)
        compute_dtype = policy.split("_")[1]
        assert layer.compute_dtype == compute_dtype
        float_images = images.astype("float32")
        if layer_cls is MixWithPartners:
            inputs = _mixing_inputs(float_images)
            symbolic = tuple(keras.KerasTensor(x.shape, dtype=x.dtype) for x in inputs)
        else:
            inputs = float_images
            symbolic = keras.KerasTensor(inputs.shape, dtype="float32")
        outputs = layer(inputs, training=training)
        assert keras.backend.standardize_dtype(outputs.dtype) == compute_dtype
        assert layer(symbolic, training=training).dtype == compute_dtype
        if layer_cls is not MixWithPartners:
            # Integer images keep their dtype, symbolically as in fact.
            uint8_outputs = layer(images, training=training)
            assert keras.backend.standardize_dtype(uint8_outputs.dtype) == "uint8"
            uint8_symbolic = keras.KerasTensor(images.shape, dtype="uint8")
            assert layer(uint8_symbolic, training=training).dtype == "uint8"
