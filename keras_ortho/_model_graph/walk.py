"""The one walk through a model's layers, and positions along it that are the
same in every process that builds the model."""


def sublayers(layer):
    """The layers `layer` tracks directly, in the order Keras tracks them:
    graph order for Functional models, `add` order for Sequential ones,
    attribute order for subclassed models and custom layers."""
    # Keras has no public accessor for a plain layer's sublayers; this is the
    # list `Model.layers`, `Layer.weights` and `Layer.losses` are built from.
    return layer._flatten_layers(include_self=False, recursive=False)


def walk_layers(model):
    """Yields `model` and every layer nested in it, depth first in
    `sublayers` order, each layer once."""
    for layer, _ in walk_with_parents(model):
        yield layer


def walk_with_parents(root):
    """Yields `(layer, parent)` in `walk_layers(root)` order: `parent` is the
    layer that tracks `layer` directly, `None` for `root`."""
    seen = set()
    pending = [(root, None)]
    while pending:
        layer, parent = pending.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        yield layer, parent
        pending.extend((child, layer) for child in reversed(sublayers(layer)))


def ancestors(model, layer):
    """The layers from `model` down to the one that tracks `layer` directly,
    outermost first (empty for `model` itself)."""
    parents = {id(child): parent for child, parent in walk_with_parents(model)}
    chain = []
    parent = parents[id(layer)]
    while parent is not None:
        chain.append(parent)
        parent = parents[id(parent)]
    return chain[::-1]


def layer_position(model, layer):
    """The index of `layer` in `walk_layers(model)`: unlike a generated layer
    name, the same in every process that builds the model."""
    for position, candidate in enumerate(walk_layers(model)):
        if candidate is layer:
            return position
    raise ValueError(f"Layer {layer.name!r} is not part of model {model.name!r}.")


def layer_at(model, position):
    """The layer at `position` of `walk_layers(model)`."""
    for index, layer in enumerate(walk_layers(model)):
        if index == position:
            return layer
    raise ValueError(
        f"Invalid layer position {position}: model {model.name!r} has fewer "
        "layers. Was it built by other code than the model saved?"
    )
