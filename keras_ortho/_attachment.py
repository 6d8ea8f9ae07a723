"""What `regularizers.attach` and `constraints.attach` share: one body that
places a regularizer or a constraint on the kernels of a built model, and the
refusal of a save that would lose what it placed."""

import keras

from keras_ortho._model_graph import ancestors
from keras_ortho._model_graph import select_kernels
from keras_ortho._step_functions import rebuild_step_functions
from keras_ortho._validation import validate_bool

# What `attach` places, by the name of its argument: the Keras base class and
# the module users find it in.
_KINDS = {
    "regularizer": (keras.regularizers.Regularizer, "keras.regularizers"),
    "constraint": (keras.constraints.Constraint, "keras.constraints"),
}


def attach_to_kernels(model, placed, layers, overwrite, kind):
    """Places `placed` on the kernels of `model` that `layers` selects, on the
    variable (`variable.regularizer` or `variable.constraint`) and on the
    layer attribute (`kernel_regularizer`, `depthwise_constraint`, ...).

    `kind` is `"regularizer"` or `"constraint"`; the arguments and the return
    value are those of `keras_ortho.regularizers.attach` and
    `keras_ortho.constraints.attach`, which document them.
    """
    base, module = _KINDS[kind]
    if not isinstance(model, keras.Layer):
        raise TypeError(
            "Invalid type for argument `model`: expected a built keras.Model or "
            f"layer. Received: model={model!r} of type {type(model).__name__}"
        )
    if not isinstance(placed, base):
        raise TypeError(
            f"Invalid type for argument `{kind}`: expected a "
            f"{module}.{base.__name__}. Received: {kind}={placed!r} "
            f"of type {type(placed).__name__}"
        )
    validate_bool(overwrite, "overwrite")

    # `kernel.attribute` names the regularizer's attribute, whose constraint
    # sibling Keras names alike: `depthwise_regularizer`, `depthwise_constraint`.
    targets = [
        (layer, kernel, kernel.attribute.replace("_regularizer", f"_{kind}"))
        for layer, kernel in select_kernels(model, layers)
    ]
    if not overwrite:
        _refuse_existing(targets, kind)

    copies = {}
    for layer, kernel, attribute in targets:
        for_kernel = _for_kernel(placed, kernel, copies)
        setattr(kernel.variable, kind, for_kernel)
        setattr(layer, attribute, for_kernel)
    refuse_serializing_where_lost(
        model,
        [(layer, attribute) for layer, _, attribute in targets],
        f"keras_ortho.{kind}s.attach",
    )

    if getattr(model, "compiled", False):
        rebuild_step_functions(model)
    return [(layer.name, attribute) for layer, _, attribute in targets]


def _refuse_existing(targets, kind):
    existing = []
    for layer, kernel, attribute in targets:
        current = getattr(kernel.variable, kind) or getattr(layer, attribute, None)
        if current is not None:
            existing.append(f"{layer.name}.{attribute}={current!r}")
    if existing:
        raise ValueError(
            f"Some kernels already have a {kind}: "
            f"{', '.join(existing)}. Pass `overwrite=True` to replace them, or "
            "`layers=` to leave those layers out."
        )


def _for_kernel(placed, kernel, copies):
    """`placed` for one kernel: a copy with the kernel's `kernel_layout` (and,
    for an object that takes one, such as `OrthogonalConvolution`, its
    `stride`) if the config has them, shared by all kernels alike."""
    try:
        config = placed.get_config()
    except NotImplementedError:
        return placed
    if "kernel_layout" not in config:
        return placed
    overrides = {"kernel_layout": kernel.kernel_layout}
    if "stride" in config and kernel.strides is not None:
        overrides["stride"] = kernel.strides
    key = tuple(sorted(overrides.items()))
    if key not in copies:
        copies[key] = type(placed).from_config({**config, **overrides})
    return copies[key]


def refuse_serializing_where_lost(model, placed, attached_by):
    """Makes every model or layer that would drop what `attached_by` placed
    from its config (it records constructor arguments, not its sublayers'
    configs) refuse to be serialized, rather than save a file that loads
    without it.

    Args:
        model: the model `attached_by` walked.
        placed: `(layer, attribute)` pairs, e.g. `(conv, "kernel_constraint")`.
        attached_by: the public function that placed them, for the message,
            e.g. `"keras_ortho.constraints.attach"`.
    """
    holders = {}
    for layer, attribute in placed:
        for holder in ancestors(model, layer):
            if not _records_sublayer_configs(holder):
                holders.setdefault(id(holder), (holder, []))[1].append(
                    f"{layer.name}.{attribute}"
                )
    for holder, attached in holders.values():
        holder.get_config = _refusing_get_config(holder, attached, attached_by)


def _records_sublayer_configs(layer):
    """Whether `layer`'s config holds its sublayers' configs: it is a
    Functional or Sequential model whose class keeps Keras' own `get_config`
    (keras-hub backbones, for one, override it with their constructor
    arguments)."""
    defining = next(c for c in type(layer).__mro__ if "get_config" in vars(c))
    return defining.__module__.startswith("keras.") and defining.__name__ in (
        "Functional",
        "Sequential",
    )


def _refusing_get_config(holder, attached, attached_by):
    shown = ", ".join(attached[:3]) + (", ..." if len(attached) > 3 else "")

    def get_config():
        raise ValueError(
            f"Cannot serialize {type(holder).__name__} {holder.name!r}: "
            f"{attached_by} placed {shown} on layers inside it, and its config "
            "records its constructor arguments, not its layers' configs, so a "
            "`.keras` file would load without them. Save the weights instead "
            "(`model.save_weights(path)`, or "
            "`keras.callbacks.ModelCheckpoint(path, save_weights_only=True)`); "
            "to restore, build the model again, call `attach` with the same "
            "arguments, then `model.load_weights(path)`."
        )

    return get_config
