"""`Conv2D` and `BatchNormalization` as the builders use them, with a faster
path on the PyTorch backend.

On the PyTorch backend, a channels-last `Conv2D` with one group and no
dilation skips Keras' two layout copies of its input and kernel, and a
training `BatchNormalization` over the last axis of an image batch is one
autograd node, three operators over the activations each way instead of a
dozen, with its moving statistics updated in place. They compute what
Keras' layers compute: the convolution to float32 rounding; the batch
normalization's outputs, gradients and moving statistics at least as close
to a float64 computation as Keras' own. Every other case (a convolution
under `torch.compile` included), and the JAX and TensorFlow backends, run
Keras' own code; the configuration and weights are Keras', so a `.keras`
file saved on one backend loads on the others.
"""

import keras

from keras_ortho._export import register_serializable

if keras.backend.backend() == "torch":
    from keras_ortho import _torch_fast_paths
else:
    _torch_fast_paths = None


@register_serializable
class Conv2D(keras.layers.Conv2D):
    """`keras.layers.Conv2D`, without layout copies on the PyTorch backend."""

    def convolution_op(self, inputs, kernel):
        padding = self._fast_path_padding(inputs)
        if padding is None:
            return super().convolution_op(inputs, kernel)
        return _torch_fast_paths.conv2d(
            inputs, keras.ops.convert_to_tensor(kernel), self.strides, padding
        )

    def _fast_path_padding(self, inputs):
        """The symmetric `(rows, columns)` padding of the fast path, or None
        where Keras' own convolution must run."""
        if (
            _torch_fast_paths is None
            or self.data_format != "channels_last"
            or self.groups != 1
            or tuple(self.dilation_rate) != (1, 1)
            or not _torch_fast_paths.is_eager(inputs)
        ):
            return None
        padding = tuple(
            _torch_fast_paths.symmetric_padding(size, kernel, stride, self.padding)
            for size, kernel, stride in zip(
                inputs.shape[1:3], self.kernel_size, self.strides, strict=True
            )
        )
        return None if None in padding else padding


@register_serializable
class BatchNormalization(keras.layers.BatchNormalization):
    """`keras.layers.BatchNormalization`, trained as one autograd node on
    the PyTorch backend for image batches normalized over their channels."""

    def call(self, inputs, training=None, mask=None):
        if not (training and self.trainable and self._has_fast_path(inputs, mask)):
            return super().call(inputs, training=training, mask=mask)
        # As Keras: statistics in float32 under float16/bfloat16 policies.
        dtype = keras.backend.result_type(inputs.dtype, "float32")
        inputs = keras.ops.cast(inputs, dtype)
        gamma = keras.ops.cast(self.gamma, dtype) if self.scale else None
        beta = keras.ops.cast(self.beta, dtype) if self.center else None
        outputs, mean, variance = _torch_fast_paths.batch_norm_training(
            inputs, gamma, beta, self.epsilon
        )
        self._update_moving_statistics(mean, variance, dtype)
        return keras.ops.cast(outputs, self.compute_dtype)

    def _update_moving_statistics(self, mean, variance, dtype):
        if _torch_fast_paths.updates_in_place():
            _torch_fast_paths.moving_average_(
                self.moving_mean.value, mean, self.momentum
            )
            _torch_fast_paths.moving_average_(
                self.moving_variance.value, variance, self.momentum
            )
            return
        moving_mean = keras.ops.cast(self.moving_mean, dtype)
        moving_variance = keras.ops.cast(self.moving_variance, dtype)
        self.moving_mean.assign(
            moving_mean * self.momentum + mean * (1.0 - self.momentum)
        )
        self.moving_variance.assign(
            moving_variance * self.momentum + variance * (1.0 - self.momentum)
        )

    def _has_fast_path(self, inputs, mask):
        return (
            _torch_fast_paths is not None
            and mask is None
            and not self.renorm
            and _torch_fast_paths.is_concrete(inputs)
            and inputs.ndim == 4
            # PyTorch's batch-norm kernels reject an empty batch.
            and inputs.numel() > 0
            and self.axis in (-1, 3)
            and inputs.is_floating_point()
        )
