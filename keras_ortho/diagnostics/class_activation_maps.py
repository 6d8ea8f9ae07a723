"""Class activation maps of global-average-pooling classifiers.

A GAP model computes `logits_k = sum_c w_{c,k} mean_{x,y} A_c(x, y) + b_k` from
its last feature map `A` `(h, w, C)`. Its class activation map is

```
CAM_k(x, y) = sum_c w_{c,k} A_c(x, y)
```

and, because `d logit_k / d A_c(x, y) = w_{c,k} / (h w)` for this head,
Grad-CAM reduces in closed form to `ReLU(CAM_k) / (h w)`, so no automatic
differentiation is needed. Heads that are not linear after the pooling (a
cosine classifier, an MLP) are rejected. `keras_ortho.diagnostics.localization_score`
scores these maps against ground-truth boxes.
"""

import keras
import numpy as np
from keras import ops

from keras_ortho._export import register_serializable
from keras_ortho._features import label_array
from keras_ortho._validation import validate_bool
from keras_ortho._validation import validate_choice
from keras_ortho._validation import validate_int

CAM_METHODS = ("cam", "grad_cam")

# Layers that may sit between the pooling and the classifier without making
# the head non-linear at inference.
_PASS_THROUGH_LAYERS = (
    keras.layers.Dropout,
    keras.layers.Flatten,
    keras.layers.Identity,
)


@register_serializable
def class_activation_maps(
    model,
    images,
    class_indices=None,
    method="cam",
    upsample=True,
    normalize=True,
    classifier_layer=None,
    batch_size=64,
):
    """CAM or Grad-CAM of a global-average-pooling model.

    The model must contain one `GlobalAveragePooling2D` layer followed by a
    Dense classifier (possibly through Dropout, Flatten or Identity). With `A`
    the pooling's input `(h, w, C)` and `W` the classifier kernel `(C, K)`,
    for target class `k`:

    ```
    cam:      M(x, y) = sum_c W[c, k] A_c(x, y)
    grad_cam: M(x, y) = ReLU(sum_c alpha_c A_c(x, y)),  alpha_c = W[c, k] / (h w)
    ```

    (`alpha_c`, the spatially averaged gradient of `logit_k` with respect to
    `A_c`, is exact for this head.) With `upsample=True` the maps are resized
    bilinearly (half-pixel centres) to the input's spatial size; with
    `normalize=True` each map is min-max scaled to [0, 1] (a constant map
    becomes 0, a map with a NaN stays NaN).

    Args:
        model: a built Functional or Sequential `keras.Model`.
        images: a batch of input images `(N, H, W, channels)` (channels first
            if the pooling layer is).
        class_indices: the target class per image `(N,)`; None uses the
            predicted class.
        method: `"cam"` or `"grad_cam"`.
        upsample: whether to resize the maps to the images' `(H, W)`.
        normalize: whether to min-max scale each map to [0, 1].
        classifier_layer: the name (or instance) of the linear layer after the
            pooling, for heads the automatic search does not recognise; it
            must compute `h @ kernel (+ bias)` from the pooled features `h`.
        batch_size: images per forward pass, an integer >= 1.

    Returns:
        float32 NumPy maps `(N, H, W)` (or `(N, h, w)` without upsampling).

    Example:

    ```python
    import matplotlib.pyplot as plt

    inputs = keras.Input((16, 16, 3))
    x = keras.layers.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(4)(x))
    images = np.random.rand(2, 16, 16, 3)
    maps = keras_ortho.diagnostics.class_activation_maps(model, images)  # (2, 16, 16)
    plt.imshow(maps[0], cmap="jet")
    ```

    Reference:
        B. Zhou, A. Khosla, A. Lapedriza, A. Oliva, A. Torralba, "Learning
        Deep Features for Discriminative Localization", CVPR 2016 (CAM);
        R. R. Selvaraju et al., "Grad-CAM: Visual Explanations from Deep
        Networks via Gradient-based Localization", ICCV 2017.
    """
    maps, _ = maps_and_predictions(
        model,
        images,
        class_indices,
        method,
        upsample,
        normalize,
        classifier_layer,
        batch_size,
    )
    return maps


def maps_and_predictions(
    model,
    images,
    class_indices,
    method,
    upsample,
    normalize,
    classifier_layer,
    batch_size,
):
    method = validate_choice(method, "method", CAM_METHODS)
    validate_bool(upsample, "upsample")
    validate_bool(normalize, "normalize")
    batch_size = validate_int(batch_size, "batch_size", minimum=1)
    head, kernel, channels_first = _cam_head(model, classifier_layer)
    num_images = len(images)
    if class_indices is not None:
        class_indices = label_array(class_indices, num_images).astype("int32")
    class_weights = ops.transpose(ops.cast(kernel, "float32"))

    maps, predictions = [], []
    for start in range(0, num_images, batch_size):
        batch = images[start : start + batch_size]
        feature_map, logits = head.predict_on_batch(batch)
        feature_map = ops.cast(ops.convert_to_tensor(feature_map), "float32")
        if channels_first:
            feature_map = ops.transpose(feature_map, (0, 2, 3, 1))
        predicted = np.asarray(ops.convert_to_numpy(ops.argmax(logits, axis=-1)))
        targets = (
            predicted
            if class_indices is None
            else class_indices[start : start + len(predicted)]
        )
        weights = ops.take(class_weights, ops.convert_to_tensor(targets), axis=0)
        batch_maps = ops.einsum("nhwc,nc->nhw", feature_map, weights)
        if method == "grad_cam":
            height, width = feature_map.shape[1:3]
            batch_maps = ops.relu(batch_maps) / float(height * width)
        if upsample:
            spatial = ops.shape(batch)[2:4] if channels_first else ops.shape(batch)[1:3]
            batch_maps = ops.image.resize(
                ops.expand_dims(batch_maps, -1),
                tuple(int(s) for s in spatial),
                interpolation="bilinear",
                data_format="channels_last",
            )[..., 0]
        if normalize:
            batch_maps = _min_max_normalize(batch_maps)
        maps.append(np.asarray(ops.convert_to_numpy(batch_maps), "float32"))
        predictions.append(predicted)
    return np.concatenate(maps), np.concatenate(predictions)


def _min_max_normalize(maps):
    low = ops.min(maps, axis=(1, 2), keepdims=True)
    span = ops.max(maps, axis=(1, 2), keepdims=True) - low
    # Guard on zero, not on "positive": a NaN span must reach the division.
    is_constant = span == 0
    return ops.where(is_constant, 0.0, (maps - low) / ops.where(is_constant, 1.0, span))


def _cam_head(model, classifier_layer):
    """`(model -> [feature map, logits], kernel (C, K), channels_first)`."""
    if not isinstance(model, keras.Model):
        raise TypeError(
            "Invalid `model`: expected a built Functional or Sequential "
            f"keras.Model. Received: model of type {type(model).__name__}"
        )
    pools = [
        layer
        for layer in model.layers
        if isinstance(layer, keras.layers.GlobalAveragePooling2D)
    ]
    if len(pools) != 1:
        raise ValueError(
            "Invalid `model`: class activation maps need exactly one "
            "GlobalAveragePooling2D layer among model.layers. Received: a model "
            f"with {len(pools)}"
        )
    pool = pools[0]
    if classifier_layer is None:
        classifier = _linear_layer_after(model, pool)
    elif isinstance(classifier_layer, str):
        classifier = model.get_layer(classifier_layer)
    else:
        classifier = classifier_layer
    kernel = getattr(classifier, "kernel", None)
    if kernel is None or len(kernel.shape) != 2:
        raise ValueError(
            "Invalid `classifier_layer`: expected a linear layer with a 2-D "
            f"`kernel` (pooled features, classes). Received: {classifier.name!r}"
        )
    # `inputs`, not `input`: a Sequential model has only the former.
    head = keras.Model(model.inputs, [pool.input, classifier.output])
    return head, kernel, pool.data_format == "channels_first"


def _linear_layer_after(model, pool):
    tensor = pool.output
    while True:
        consumers = _consumers(model, tensor)
        if len(consumers) == 1 and isinstance(consumers[0], _PASS_THROUGH_LAYERS):
            tensor = consumers[0].output
            continue
        if (
            len(consumers) == 1
            and isinstance(consumers[0], keras.layers.Dense)
            and consumers[0].get_config()["activation"] in ("linear", "softmax")
            and _is_final(model, consumers[0].output)
        ):
            return consumers[0]
        found = ", ".join(f"{type(c).__name__} {c.name!r}" for c in consumers)
        raise ValueError(
            "Invalid `model`: class activation maps need the global average "
            "pooling to feed the model's final Dense classifier (linear or "
            "softmax, through Dropout, Flatten or Identity at most); pass "
            "`classifier_layer` for another linear head. Received: the pooling "
            f"feeds [{found}]"
        )


def _is_final(model, tensor):
    """Whether `tensor` is a model output, possibly through a softmax."""
    if any(tensor is output for output in keras.tree.flatten(model.outputs)):
        return True
    consumers = _consumers(model, tensor)
    return (
        len(consumers) == 1
        and isinstance(consumers[0], (keras.layers.Activation, keras.layers.Softmax))
        and _is_final(model, consumers[0].output)
    )


def _consumers(model, tensor):
    return [layer for layer in model.layers if _consumes(layer, tensor)]


def _consumes(layer, tensor):
    try:
        return layer.input is tensor
    except (AttributeError, ValueError):
        return False
