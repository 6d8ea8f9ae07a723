"""The names of the datasets, paper presets and methods, each listed once.

Plain tuples that import nothing: the `keras-ortho` command line reads this
file without importing keras_ortho (whose import imports Keras and its
backend), so that `--help` lists the names and argparse checks them at once.
`data/catalog.py`, `recipes/presets.py` and `recipes/methods.py` map each
name to what it stands for.
"""

DATASET_NAMES = (
    "cifar10",
    "cifar100",
    "svhn",
    "tiny_imagenet",
    "cifar10_jpeg",
    "cifar10_subset",
)

RECIPE_NAMES = (
    "opl_cifar100",
    "srip_wrn",
    "srip_svhn",
    "fixed_classifier",
    "fixed_classifier_cosine",
    "os",
    "demo",
)

# Cross-entropy, the feature losses, the kernel regularizers, the kernel
# constraint and the fixed head, in that order.
METHOD_NAMES = (
    "ce",
    "opl",
    "os",
    "so",
    "dso",
    "mc",
    "srip",
    "ocnn",
    "disentangled",
    "relaxed",
    "orth",
    "fixed",
)
