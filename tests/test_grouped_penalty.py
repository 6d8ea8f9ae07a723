"""One batched Gram per kernel shape gives SO's per-kernel sum and gradient."""

import keras
import numpy as np

from keras_ortho import models
from keras_ortho import regularizers
from keras_ortho._grouped_penalty import grouped_soft_orthogonality
from tests import toolkit


def _kernels():
    model = models.resnet_cifar(20, num_classes=10)
    return [
        toolkit.to_numpy(layer.kernel)
        for layer in model.layers
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense))
    ]


def test_same_value_and_gradient_as_the_per_kernel_sum():
    kernels = _kernels()
    shapes = {k.shape for k in kernels}
    assert len(kernels) == 22 and len(shapes) == 9
    # Over-complete kernels (1x1 shortcuts, 16 -> 32 and 32 -> 64) are included.
    assert any(k.shape[-1] > np.prod(k.shape[:-1]) for k in kernels)
    sizes = [k.size for k in kernels]
    flat = np.concatenate([k.ravel() for k in kernels])

    def unflatten(x):
        pieces = keras.ops.split(x, np.cumsum(sizes)[:-1].tolist())
        return [
            keras.ops.reshape(p, k.shape) for p, k in zip(pieces, kernels, strict=True)
        ]

    so = regularizers.SoftOrthogonality(1e-4)
    plain_value, plain_gradient = toolkit.value_and_grad(
        lambda x: sum(so(k) for k in unflatten(x)), flat
    )
    grouped_value, grouped_gradient = toolkit.value_and_grad(
        lambda x: grouped_soft_orthogonality(unflatten(x), factor=1e-4), flat
    )
    np.testing.assert_allclose(grouped_value, plain_value, rtol=1e-5)
    np.testing.assert_allclose(grouped_gradient, plain_gradient, rtol=1e-4, atol=1e-9)
