"""Writes `cifar10_subset.npz`, the small real CIFAR-10 subset used offline.

The source is the JPEG copy of CIFAR-10 described in `README.md` beside this
script. The subset keeps, for every class, the first 500 training and the first
100 test images in the source's order (images are sorted by class there), so it
is deterministic without a seed. JPEG bytes are copied verbatim, never
re-encoded, and the arrays keep the source's keys and dtypes, so
`keras_ortho.data.load_cifar10_jpeg` reads both files alike.

Usage:
    python examples/data/make_cifar10_subset.py SOURCE.npz [OUTPUT.npz]
"""

import hashlib
import pathlib
import sys

import numpy as np

TRAIN_PER_CLASS = 500
TEST_PER_CLASS = 100


def select_split(jpeg, offsets, labels, per_class):
    """Returns (jpeg, offsets, labels) of the first `per_class` images per class."""
    indices = np.concatenate(
        [np.flatnonzero(labels == c)[:per_class] for c in np.unique(labels)]
    )
    pieces = [jpeg[offsets[i] : offsets[i + 1]] for i in indices]
    new_offsets = np.zeros(len(pieces) + 1, dtype=offsets.dtype)
    np.cumsum([len(p) for p in pieces], out=new_offsets[1:])
    return np.concatenate(pieces), new_offsets, labels[indices]


def main(source, output):
    with np.load(source) as data:
        train = select_split(
            data["train_jpeg"],
            data["train_offsets"],
            data["train_labels"],
            TRAIN_PER_CLASS,
        )
        test = select_split(
            data["test_jpeg"], data["test_offsets"], data["test_labels"], TEST_PER_CLASS
        )
        class_names = data["class_names"]
    with open(output, "wb") as f:
        np.savez(
            f,
            train_jpeg=train[0],
            train_offsets=train[1],
            train_labels=train[2],
            test_jpeg=test[0],
            test_offsets=test[1],
            test_labels=test[2],
            class_names=class_names,
        )
    digest = hashlib.sha256(pathlib.Path(output).read_bytes()).hexdigest()
    size = pathlib.Path(output).stat().st_size
    print(f"{output}: {len(train[2])} train, {len(test[2])} test images")
    print(f"{size} bytes, sha256 {digest}")


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    default_output = pathlib.Path(__file__).with_name("cifar10_subset.npz")
    main(sys.argv[1], sys.argv[2] if len(sys.argv) == 3 else default_output)
