"""Turning method names (`--method opl,so`) into the losses, kernel
regularizers and constraints, classifier heads and callbacks a recipe trains
with."""

import dataclasses

import keras

from keras_ortho import constraints
from keras_ortho import losses
from keras_ortho import regularizers
from keras_ortho._names import METHOD_NAMES
from keras_ortho.callbacks import RegularizerSchedule
from keras_ortho.layers import FixedClassifier

CROSS_ENTROPY = "ce"
FEATURE_LOSSES = ("opl", "os")
KERNEL_REGULARIZERS = {
    "so": regularizers.SoftOrthogonality,
    "dso": regularizers.DoubleSoftOrthogonality,
    "mc": regularizers.MutualCoherence,
    "srip": regularizers.SpectralRestrictedIsometry,
    "ocnn": regularizers.OrthogonalConvolution,
    "disentangled": regularizers.DisentangledOrthogonality,
    "relaxed": regularizers.RelaxedOrthogonality,
}
# Hard orthogonality: the Björck projection on every kernel after each step.
KERNEL_CONSTRAINTS = {"orth": constraints.Orthogonal}
HEADS = ("fixed",)

# The factor each kernel regularizer gets unless a recipe sets one. SRIP
# (1e-2) and OCNN (0.1) are their reference code's defaults; the others have
# no published CIFAR value and get 1e-4, the order of magnitude at which an
# SO-type penalty summed over a ResNet's kernels is comparable to weight decay.
DEFAULT_FACTORS = {
    "so": 1e-4,
    "dso": 1e-4,
    "mc": 1e-4,
    "srip": 1e-2,
    "ocnn": 0.1,
    "disentangled": 1e-4,
    "relaxed": 1e-4,
}


def parse_methods(methods):
    """The canonical tuple of method names from `"opl,so"` or `("opl", "so")`.

    `"ce"` alone is plain cross-entropy; with other methods it is dropped
    (cross-entropy is always the classification loss). At most one feature
    loss (`opl`, `os`), one kernel regularizer, the kernel constraint
    (`orth`) and one head may be combined.

    Args:
        methods: a comma-separated string or a list/tuple of names from
            `METHOD_NAMES` (case-insensitive).

    Returns:
        A tuple of names, in the order given, without duplicates.

    Raises:
        ValueError: for an empty or unknown name, or two methods of one kind.
    """
    if isinstance(methods, str):
        names = methods.split(",")
    elif isinstance(methods, (list, tuple)) and all(
        isinstance(m, str) for m in methods
    ):
        names = [part for method in methods for part in method.split(",")]
    else:
        raise TypeError(
            "Invalid type for argument `methods`: expected a comma-separated str "
            f"or a list of str. Received: methods={methods!r}"
        )
    names = [name.strip().lower() for name in names]
    unknown = [name for name in names if name not in METHOD_NAMES]
    if unknown or not names:
        raise ValueError(
            f"Invalid value for argument `methods`: expected names from "
            f"{', '.join(METHOD_NAMES)}, comma-separated. Received: "
            f"methods={methods!r}"
        )
    names = tuple(dict.fromkeys(names))
    for kind, members in (
        ("feature loss", FEATURE_LOSSES),
        ("kernel regularizer", tuple(KERNEL_REGULARIZERS)),
    ):
        chosen = [name for name in names if name in members]
        if len(chosen) > 1:
            raise ValueError(
                f"Invalid value for argument `methods`: at most one {kind} "
                f"({', '.join(members)}) per run. Received: methods={methods!r}"
            )
    without_ce = tuple(name for name in names if name != CROSS_ENTROPY)
    return without_ce or (CROSS_ENTROPY,)


def method_label(methods):
    """A short label for results tables: `"ce"`, `"opl"`, `"opl+so"`."""
    return "+".join(parse_methods(methods))


@dataclasses.dataclass(frozen=True)
class MethodComponents:
    """What a recipe's methods add to a plain cross-entropy classifier.

    Attributes:
        classifier: the head layer, or `None` for the builders' Dense head.
        kernel_regularizer: the regularizer of every convolution and Dense
            kernel, or `None`.
        feature_loss: the loss on the pooled features, or `None`.
        feature_loss_weight: its weight in the total loss.
        callbacks: callbacks the methods need (the SRIP factor schedule).
        kernel_constraint: the constraint to place on every convolution and
            Dense kernel with `keras_ortho.constraints.attach`, or `None`.
    """

    classifier: keras.layers.Layer | None
    kernel_regularizer: keras.regularizers.Regularizer | None
    feature_loss: keras.losses.Loss | None
    feature_loss_weight: float
    callbacks: tuple
    kernel_constraint: keras.constraints.Constraint | None = None


def method_components(settings, num_classes, seed):
    """Fresh losses, regularizer, head and callbacks for `settings.methods`.

    Args:
        settings: a recipe's `OrthogonalitySettings` (`recipe.orthogonality`).
        num_classes: the number of classes of the dataset.
        seed: the seed of the fixed class vectors.

    Returns:
        A `MethodComponents`.
    """
    methods = settings.methods
    classifier = None
    if "fixed" in methods:
        classifier = FixedClassifier(
            num_classes,
            init=settings.fixed_init,
            logits=settings.fixed_logits,
            scale=settings.fixed_scale,
            seed=seed,
            name="classifier",
        )
    regularizer = None
    callbacks = ()
    for name, regularizer_class in KERNEL_REGULARIZERS.items():
        if name in methods:
            factor = settings.regularizer_factor
            regularizer = regularizer_class(
                DEFAULT_FACTORS[name] if factor is None else factor
            )
            if name == "srip" and settings.srip_schedule:
                callbacks = (RegularizerSchedule.srip(),)
    feature_loss, weight = None, 0.0
    if "opl" in methods:
        # Pairs span the global batch under tf.distribute too; on one device
        # and under JAX DataParallel the loss already sees the whole batch.
        feature_loss = losses.OrthogonalProjectionLoss(
            gamma=settings.opl_gamma, cross_replica=True
        )
        weight = settings.opl_weight
    elif "os" in methods:
        feature_loss = losses.OrthogonalSphereLoss(num_blocks=settings.os_blocks)
        weight = settings.os_weight
    constraint = None
    for name, constraint_class in KERNEL_CONSTRAINTS.items():
        if name in methods:
            constraint = constraint_class()
    return MethodComponents(
        classifier, regularizer, feature_loss, weight, callbacks, constraint
    )
