"""Orthogonality losses on features, for `model.compile(loss=...)`."""

from keras_ortho.losses.orthogonal_projection_loss import OrthogonalProjectionLoss
from keras_ortho.losses.orthogonal_projection_loss import orthogonal_projection_loss
from keras_ortho.losses.orthogonal_sphere_loss import OrthogonalSphereLoss
from keras_ortho.losses.orthogonal_sphere_loss import orthogonal_sphere_loss

__all__ = [
    "OrthogonalProjectionLoss",
    "OrthogonalSphereLoss",
    "orthogonal_projection_loss",
    "orthogonal_sphere_loss",
]
