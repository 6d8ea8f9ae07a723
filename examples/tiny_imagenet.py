"""Trains the Tiny ImageNet recipe: ResNet-18 with the OS loss (Choi et al.).

Runs `keras-ortho train --recipe os --dataset tiny_imagenet --crop-padding 8`
(64x64 images, padded by 8 before the random crop) on the active Keras
backend (KERAS_BACKEND); any `keras-ortho train` option may follow, e.g.

    KERAS_BACKEND=jax python examples/tiny_imagenet.py --method ce --epochs 10

See docs/recipes/ for the settings and the reference numbers.
"""

import sys

from keras_ortho import cli

if __name__ == "__main__":
    sys.exit(
        cli.main(
            [
                "train",
                "--recipe",
                "os",
                "--dataset",
                "tiny_imagenet",
                "--crop-padding",
                "8",
                *sys.argv[1:],
            ]
        )
    )
