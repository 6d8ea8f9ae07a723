"""The augmentation layers keep integer images in their dtype, under Keras' own
`run_layer_test` and under both mixed policies. Float images take the compute
dtype: `tests/test_contract.py` checks that, with the rest of the contract."""

import keras
import pytest
from keras.src.testing import TestCase

from keras_ortho.layers import Cutout
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


@pytest.mark.parametrize("case", IMAGE_LAYERS, ids=[_ids(c) for c in IMAGE_LAYERS])
def test_uint8_images_pass_run_layer_test(case):
    layer_cls, kwargs = case
    TestCase().run_layer_test(
        layer_cls,
        init_kwargs=kwargs,
        input_data=distinct_images(*IMAGE_SHAPE[:2]),
        call_kwargs={"training": True},
        expected_output_shape=IMAGE_SHAPE,
        expected_output_dtype="uint8",
        expected_num_trainable_weights=0,
        expected_num_non_trainable_weights=0,
        expected_num_seed_generators=1,
        expected_num_losses=0,
        supports_masking=False,
        # The contract test runs the training step, on float images.
        run_training_check=False,
    )


@pytest.mark.parametrize("policy", MIXED_POLICIES)
@pytest.mark.parametrize("case", IMAGE_LAYERS, ids=[_ids(c) for c in IMAGE_LAYERS])
@pytest.mark.parametrize("training", [True, False])
def test_uint8_images_keep_their_dtype_under_mixed_policies(case, policy, training):
    layer_cls, kwargs = case
    images = distinct_images(*IMAGE_SHAPE[:2])
    with mixed_precision(policy):
        layer = layer_cls(**kwargs)
        outputs = layer(images, training=training)
        assert keras.backend.standardize_dtype(outputs.dtype) == "uint8"
        symbolic = keras.KerasTensor(images.shape, dtype="uint8")
        assert layer(symbolic, training=training).dtype == "uint8"
