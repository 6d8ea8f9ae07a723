"""Trains the CIFAR-10 recipe: WRN-28-10 with SRIP (Bansal et al., NeurIPS 2018).

Runs `keras-ortho train --recipe srip_wrn` on the active Keras
backend (KERAS_BACKEND); any `keras-ortho train` option may follow, e.g.

    KERAS_BACKEND=jax python examples/cifar10.py --method ce --epochs 10

See docs/recipes/ for the settings and the reference numbers.
"""

import sys

from keras_ortho import cli

if __name__ == "__main__":
    sys.exit(cli.main(["train", "--recipe", "srip_wrn", *sys.argv[1:]]))
