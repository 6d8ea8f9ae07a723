"""Trains the CIFAR-100 recipe: ResNet-56 with OPL (Ranasinghe et al., ICCV 2021).

Runs `keras-ortho train --recipe opl_cifar100` on the active Keras
backend (KERAS_BACKEND); any `keras-ortho train` option may follow, e.g.

    KERAS_BACKEND=jax python examples/cifar100.py --method ce --epochs 10

See docs/recipes/ for the settings and the reference numbers.
"""

import sys

from keras_ortho import cli

if __name__ == "__main__":
    sys.exit(cli.main(["train", "--recipe", "opl_cifar100", *sys.argv[1:]]))
