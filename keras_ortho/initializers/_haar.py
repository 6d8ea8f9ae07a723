"""Random orthogonal matrices drawn by NumPy, identical on every backend."""

import random

import numpy as np

from keras_ortho._validation import validate_int

_SEED_BOUND = 2**31 - 1


def validate_seed(seed):
    """Returns `seed`; raises unless it is `None` or an integer >= 0."""
    if seed is None:
        return None
    return validate_int(seed, "seed", minimum=0)


def generator(seed):
    """NumPy's PCG64 generator for `seed`. With `seed=None` the seed is drawn
    from Python's global RNG, which `keras.utils.set_random_seed` seeds."""
    if seed is None:
        seed = random.randrange(_SEED_BOUND)
    return np.random.Generator(np.random.PCG64(seed))


def haar_orthogonal(rng, shape):
    """`(groups, rows, columns)` float64 matrices, each uniformly (Haar)
    distributed among those with orthonormal columns (rows when
    `columns > rows`).

    A standard normal matrix `A = Q R` gives `Q diag(sign(diag(R)))`, which is
    Haar distributed (Mezzadri, 2007); without the sign fix the distribution
    depends on the QR implementation.
    """
    groups, rows, columns = shape
    wide = columns > rows
    tall_shape = (groups, columns, rows) if wide else (groups, rows, columns)
    q, r = np.linalg.qr(rng.standard_normal(tall_shape))
    signs = np.sign(np.diagonal(r, axis1=-2, axis2=-1))
    q = q * np.where(signs == 0, 1.0, signs)[:, None, :]
    return np.transpose(q, (0, 2, 1)) if wide else q
