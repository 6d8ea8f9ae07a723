"""What `regularizers.attach` and `constraints.attach` share: refusing a save
that would lose what they placed on a model's kernels."""

from keras_ortho._model_graph import ancestors


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
