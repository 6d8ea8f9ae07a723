"""Kernel-orthogonality regularizers for any Keras kernel."""

from keras_ortho.regularizers._base import OrthogonalityRegularizer
from keras_ortho.regularizers.attach import attach
from keras_ortho.regularizers.disentangled_orthogonality import (
    DisentangledOrthogonality,
)
from keras_ortho.regularizers.disentangled_orthogonality import (
    disentangled_orthogonality,
)
from keras_ortho.regularizers.double_soft_orthogonality import DoubleSoftOrthogonality
from keras_ortho.regularizers.double_soft_orthogonality import double_soft_orthogonality
from keras_ortho.regularizers.mutual_coherence import MutualCoherence
from keras_ortho.regularizers.mutual_coherence import mutual_coherence
from keras_ortho.regularizers.orthogonal_convolution import OrthogonalConvolution
from keras_ortho.regularizers.orthogonal_convolution import orthogonal_convolution
from keras_ortho.regularizers.relaxed_orthogonality import RelaxedOrthogonality
from keras_ortho.regularizers.relaxed_orthogonality import relaxed_orthogonality
from keras_ortho.regularizers.soft_orthogonality import SoftOrthogonality
from keras_ortho.regularizers.soft_orthogonality import soft_orthogonality
from keras_ortho.regularizers.spectral_restricted_isometry import SRIP
from keras_ortho.regularizers.spectral_restricted_isometry import (
    SpectralRestrictedIsometry,
)
from keras_ortho.regularizers.spectral_restricted_isometry import (
    spectral_restricted_isometry,
)

__all__ = [
    "SRIP",
    "DisentangledOrthogonality",
    "DoubleSoftOrthogonality",
    "MutualCoherence",
    "OrthogonalConvolution",
    "OrthogonalityRegularizer",
    "RelaxedOrthogonality",
    "SoftOrthogonality",
    "SpectralRestrictedIsometry",
    "attach",
    "disentangled_orthogonality",
    "double_soft_orthogonality",
    "mutual_coherence",
    "orthogonal_convolution",
    "relaxed_orthogonality",
    "soft_orthogonality",
    "spectral_restricted_isometry",
]
