"""NumPy samplers of fixed class vectors for `FixedClassifier`.

Every sampler returns a float32 array of shape `(dim, units)`, one unit-norm
class vector per column, drawn from `numpy.random.default_rng(seed)`. The
vectors never touch a backend's random number generator, so one seed gives the
same bits on TensorFlow, JAX and PyTorch. The QR-based samplers
(`"orthogonal"`, `"simplex_etf"`) call LAPACK, whose last bits may differ
between NumPy builds (OpenBLAS, MKL), never between backends.
"""

import warnings

import numpy as np

INITS = ("uniform", "normal", "orthogonal", "hadamard", "simplex_etf")

# The reference code's integer range: coordinates uniform on {-100, ..., 99}.
_UNIFORM_LOW = -100
_UNIFORM_HIGH = 100


def class_vectors(init, dim, units, seed):
    """Draws `units` unit-norm class vectors in R^dim with the sampler `init`.

    Raises a ValueError naming `units` and `init` where the sampler cannot
    place `units` vectors in `dim` dimensions.
    """
    rng = np.random.default_rng(seed)
    if init == "uniform":
        vectors = _random_rows(
            lambda n: rng.integers(_UNIFORM_LOW, _UNIFORM_HIGH, size=(n, dim)), units
        )
    elif init == "normal":
        vectors = _random_rows(lambda n: rng.standard_normal((n, dim)), units)
    elif init == "orthogonal":
        _require_units_at_most(units, dim, init, dim)
        vectors = _haar_orthonormal_columns(rng, dim, units).T
    elif init == "hadamard":
        _require_units_at_most(units, dim, init, dim)
        vectors = _hadamard_rows(rng, dim, units)
    else:
        _require_units_at_most(units, dim + 1, init, dim)
        vectors = _simplex_etf_rows(rng, dim, units)
    return _unit_rows(vectors).T.astype("float32")


def _require_units_at_most(units, limit, init, dim):
    if units > limit:
        bound = "dim" if limit == dim else "dim + 1"
        raise ValueError(
            f'Invalid value for argument `units`: `init="{init}"` places at most '
            f"{bound} = {limit} class vectors in the input dimension dim={dim}. "
            f"Received: units={units}. Use a wider feature, or "
            '`init="uniform"` or `"normal"`, which place any number.'
        )


def _unit_rows(vectors):
    vectors = np.asarray(vectors, dtype="float64")
    return vectors / np.sqrt(np.sum(np.square(vectors), axis=1, keepdims=True))


def _random_rows(draw, units):
    """`units` rows of `draw(n)`; all-zero rows, which have no direction, are
    drawn again."""
    vectors = np.asarray(draw(units), dtype="float64")
    zero = ~np.any(vectors, axis=1)
    while np.any(zero):
        vectors[zero] = draw(int(np.sum(zero)))
        zero = ~np.any(vectors, axis=1)
    return vectors


def _haar_orthonormal_columns(rng, rows, columns):
    """A `(rows, columns)` matrix with orthonormal columns, uniformly (Haar)
    distributed: the QR factor of a Gaussian matrix with the signs of R's
    diagonal moved into Q, which makes the factorisation unique."""
    q, r = np.linalg.qr(rng.standard_normal((rows, columns)))
    return q * np.where(np.diag(r) < 0, -1.0, 1.0)


def _hadamard_rows(rng, dim, units):
    """Rows `0..units-1` of the Sylvester Hadamard matrix, cut to `dim`
    columns, with random column signs.

    Entry `(r, j)` of the Sylvester matrix is `(-1)^popcount(r & j)`, so no
    matrix of the full power-of-two order is ever formed. Cutting keeps rows
    `r != r'` orthogonal iff `r xor r'` has a set bit below `2^v`, the largest
    power of two dividing `dim`; rows `0..units-1` are thus exactly orthogonal
    whenever `units <= 2^v` (any power-of-two `dim >= units`, or 4608 = 9 * 512
    with up to 512 classes). Beyond that the rows are Hoffer et al.'s
    truncation and only nearly orthogonal, with a warning. The column signs
    keep the all-ones row 0 away from non-negative (post-ReLU) features, which
    it would otherwise score highest for every input; they change no inner
    product.
    """
    exact_limit = dim & -dim
    rows = np.arange(units)[:, None]
    columns = np.arange(dim)[None, :]
    parity = np.zeros((units, dim), dtype="int64")
    common_bits = rows & columns
    while np.any(common_bits):
        parity ^= common_bits & 1
        common_bits >>= 1
    signs = 1 - 2 * rng.integers(0, 2, size=dim)
    vectors = (1 - 2 * parity) * signs
    if units > exact_limit:
        cosines = vectors @ vectors.T / dim
        largest = np.max(np.abs(cosines - np.eye(units)))
        warnings.warn(
            f'`init="hadamard"` gives exactly orthogonal vectors only for units '
            f"<= {exact_limit}, the largest power of two dividing dim={dim}. "
            f"Received units={units}: using the truncated Hadamard rows of "
            f"Hoffer et al. (2018), whose largest |cosine| is {largest:.3g}. "
            f'`init="orthogonal"` is exactly orthogonal for any units <= dim.',
            stacklevel=2,
        )
    return vectors


def _simplex_etf_rows(rng, dim, units):
    """`sqrt(K/(K-1)) P (I - 11^T/K)` with `K = units`, as rows.

    `I - 11^T/K = U U^T` with `U` the Helmert basis of the vectors orthogonal
    to `1`, so the frame is `sqrt(K/(K-1)) (P U) U^T`. `P U` is a Haar-random
    `(dim, K-1)` matrix with orthonormal columns whether it comes from Yang et
    al.'s `(dim, K)` QR factor `P` or is drawn directly, as here, which also
    allows `dim = K - 1`, the regular simplex in its own dimension.
    """
    basis = _haar_orthonormal_columns(rng, dim, units - 1)
    return np.sqrt(units / (units - 1)) * (basis @ _helmert_basis(units).T).T


def _helmert_basis(k):
    """A `(k, k-1)` matrix whose orthonormal columns span the vectors with a
    zero sum: column `i` is `(1, ..., 1, -i, 0, ..., 0) / sqrt(i (i + 1))`
    with `i` ones."""
    basis = np.zeros((k, k - 1))
    for i in range(1, k):
        basis[:i, i - 1] = 1.0
        basis[i, i - 1] = -float(i)
        basis[:, i - 1] /= np.sqrt(i * (i + 1))
    return basis
