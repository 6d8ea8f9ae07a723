"""Trains the SVHN recipe: WRN-16-8 with SRIP (Bansal et al., NeurIPS 2018).

Runs `keras-ortho train --recipe srip_svhn` on the active Keras
backend (KERAS_BACKEND); any `keras-ortho train` option may follow, e.g.

    KERAS_BACKEND=jax python examples/svhn.py --method ce --epochs 10

See docs/recipes/ for the settings and the reference numbers.
"""

import sys

from keras_ortho import cli

if __name__ == "__main__":
    sys.exit(cli.main(["train", "--recipe", "srip_svhn", *sys.argv[1:]]))
