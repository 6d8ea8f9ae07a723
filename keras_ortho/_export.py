"""Registration of public objects for Keras serialization."""

import keras

PACKAGE = "keras_ortho"


def register_serializable(obj):
    """Registers `obj` as `keras_ortho>Name` so `.keras` files load without
    `custom_objects` once `keras_ortho` is imported."""
    return keras.saving.register_keras_serializable(package=PACKAGE)(obj)
