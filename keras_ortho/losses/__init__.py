"""Orthogonality losses on features, for `model.compile(loss=...)`."""
