"""The offline demo: CE, CE + OPL, CE + SO and the fixed classifier compared.

Trains the `demo` recipe (a CIFAR ResNet-8 for two epochs) on the committed
CIFAR-10 subset (examples/data/cifar10_subset.npz, 5,000 training and 1,000
test images) once per method on the CPU, then prints test accuracy, ECE and
the feature and filter orthogonality of each trained model:

    make demo                                  # KERAS_BACKEND defaults to jax
    python examples/demo.py --dataset cifar10  # the full set, through tfds

Results go to runs/demo/results.json and results.csv. An interrupted demo
resumes where it stopped when run again.
"""

import argparse
import os
import sys

# Keras reads the backend once, at import: JAX is the fastest on the CPU here.
os.environ.setdefault("KERAS_BACKEND", "jax")

from keras_ortho import recipes
from keras_ortho.data import DATASET_NAMES

DEMO_METHODS = ("ce", "opl", "so", "fixed")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dataset",
        default="cifar10_subset",
        choices=DATASET_NAMES,
        help="the dataset (default: the committed CIFAR-10 subset)",
    )
    parser.add_argument("--data-dir", default=None, help="local copy of the dataset")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per method")
    parser.add_argument("--run-dir", default=os.path.join("runs", "demo"))
    parser.add_argument("--methods", nargs="+", default=list(DEMO_METHODS))
    arguments = parser.parse_args(argv)

    recipe = recipes.get_recipe("demo", dataset=arguments.dataset)
    if arguments.epochs is not None:
        recipe = recipe.replace(epochs=arguments.epochs)
    results = recipes.compare(
        recipe, arguments.methods, arguments.run_dir, data_dir=arguments.data_dir
    )
    print()
    print(recipes.format_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
