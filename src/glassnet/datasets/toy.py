"""The seeds' exercise data sets, and the embedded handwritten digits."""

from __future__ import annotations

import gzip
from importlib import resources

import numpy as np

GATES = {
    "and": lambda bits: bits.all(axis=1),
    "or": lambda bits: bits.any(axis=1),
    "nand": lambda bits: ~bits.all(axis=1),
    "nor": lambda bits: ~bits.any(axis=1),
    "xor": lambda bits: bits.sum(axis=1) % 2 == 1,      # parity for n inputs
    "xnor": lambda bits: bits.sum(axis=1) % 2 == 0,
}


def logic_gate(name, n_inputs=2):
    """Truth table of a logic gate (seed 001).

    Parameters
    ----------
    name : {"and", "or", "nand", "nor", "xor", "xnor"}
        With more than two inputs, xor is the parity (true for an odd number
        of true inputs) and xnor its negation.
    n_inputs : int, default 2

    Returns
    -------
    X : float32 array (2**n_inputs, n_inputs), rows in counting order
    y : float32 array (2**n_inputs, 1)
    """
    key = str(name).lower()
    if key not in GATES:
        raise ValueError(f"unknown logic gate {name!r}; valid names are: {', '.join(GATES)}")
    if isinstance(n_inputs, bool) or not isinstance(n_inputs, int) or not 1 <= n_inputs <= 16:
        raise ValueError(f"n_inputs must be an integer from 1 to 16; received {n_inputs!r}")
    rows = np.arange(2 ** n_inputs)[:, None]
    bits = (rows >> np.arange(n_inputs - 1, -1, -1)) & 1    # counting order: 00, 01, 10, 11
    X = bits.astype(np.float32)
    y = GATES[key](bits.astype(bool)).astype(np.float32)[:, None]
    return X, y


#: the four shapes of seed 001's 2×2 images, in the order of the one-hot targets
IMAGE2X2_CLASSES = ("solid", "horizontal", "vertical", "diagonal")

# pixels: top-left, top-right, bottom-left, bottom-right
_SHAPES = [([0, 0, 0, 0], 0), ([1, 1, 1, 1], 0), ([1, 1, 0, 0], 1), ([0, 0, 1, 1], 1),
           ([1, 0, 1, 0], 2), ([0, 1, 0, 1], 2), ([1, 0, 0, 1], 3), ([0, 1, 1, 0], 3)]
_UNKNOWN = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1],
            [1, 1, 0, 1], [1, 1, 1, 0], [0, 1, 1, 1], [1, 0, 1, 1]]


def image2x2(sets=1, grayscale=False, include_unknown=False, seed=None):
    """Seed 001's 2×2 pixel images of solid, horizontal, vertical and diagonal shapes.

    Parameters
    ----------
    sets : int
        How many times every pattern is repeated.
    grayscale : bool
        Replace each dark pixel by a shade from U(0, 0.2) and each light one
        by a shade from U(0.8, 1).
    include_unknown : bool
        Add the 8 patterns that show no shape, with all-zero targets.
    seed : int, optional
        For the grayscale shades.

    Returns
    -------
    X : float32 array (sets·8 or sets·16, 4), pixels top-left, top-right,
        bottom-left, bottom-right
    y : float32 array (same, 4), one-hot over :data:`IMAGE2X2_CLASSES`
    """
    if isinstance(sets, bool) or not isinstance(sets, int) or sets < 1:
        raise ValueError(f"sets must be a positive integer; received {sets!r}")
    patterns = [p for p, _ in _SHAPES]
    targets = [np.eye(4)[c] for _, c in _SHAPES]
    if include_unknown:
        patterns += _UNKNOWN
        targets += [np.zeros(4)] * len(_UNKNOWN)
    X = np.tile(np.array(patterns, dtype=np.float32), (sets, 1))
    y = np.tile(np.array(targets, dtype=np.float32), (sets, 1))
    if grayscale:
        rng = np.random.default_rng(seed)
        shade = rng.uniform(0.0, 0.2, size=X.shape).astype(np.float32)
        X = np.where(X > 0.5, 1.0 - shade, shade).astype(np.float32)   # light: U(0.8, 1)
    return X, y


_FUNCTIONS = {
    "linear": lambda x: 2 * x + 3,
    "cubic": lambda x: x ** 3 + 15 * x,
}


def function_samples(fn, n=1000, x_range=(-5, 5), noise=0.0, seed=None):
    """Samples of y = f(x) for function fitting (seed 001's linear.py and cubic.py).

    Parameters
    ----------
    fn : {"linear", "cubic"} or callable
        "linear" is y = 2x + 3, "cubic" is y = x³ + 15x; any vectorised
        callable works too.
    n : int
    x_range : (low, high)
        x is drawn uniformly from this interval.
    noise : float
        Standard deviation of Gaussian noise added to y.
    seed : int, optional

    Returns
    -------
    X : float32 array (n, 1)
    y : float32 array (n, 1)
    """
    if callable(fn):
        f = fn
    elif str(fn).lower() in _FUNCTIONS:
        f = _FUNCTIONS[str(fn).lower()]
    else:
        raise ValueError(f"unknown function {fn!r}; valid names are: {', '.join(_FUNCTIONS)}, "
                         f"or pass a callable")
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer; received {n!r}")
    low, high = x_range
    if not low < high:
        raise ValueError(f"x_range must be (low, high) with low < high; received {x_range!r}")
    rng = np.random.default_rng(seed)
    x = rng.uniform(low, high, size=(n, 1))
    y = np.asarray(f(x), dtype=np.float64).reshape(n, 1)
    if noise:
        y = y + rng.normal(0.0, noise, size=y.shape)
    return x.astype(np.float32), y.astype(np.float32)


def _points(n, noise, seed):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
        raise ValueError(f"n must be an integer >= 2; received {n!r}")
    noise = float(noise)
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be >= 0; received {noise!r}")
    return int(n), noise, np.random.default_rng(seed)


def circles(n=500, noise=0.1, seed=None):
    """Two concentric rings in the plane: class 0 inside (radius ≤ 0.5), class 1 outside.

    Returns X float32 (n, 2) in about [-1, 1]² and integer labels (n,).
    """
    n, noise, rng = _points(n, noise, seed)
    labels = np.arange(n) % 2
    radius = np.where(labels == 0, rng.uniform(0, 0.5, n), rng.uniform(0.7, 1.0, n))
    angle = rng.uniform(0, 2 * np.pi, n)
    x = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    x += rng.normal(0, noise * 0.5, size=x.shape)
    return x.astype(np.float32), labels.astype(np.int64)


def blobs(n=500, noise=0.1, centers=2, seed=None):
    """Gaussian blobs around ``centers`` points on a circle of radius 0.6; labels = blob."""
    n, noise, rng = _points(n, noise, seed)
    labels = np.arange(n) % int(centers)
    angle = 2 * np.pi * labels / int(centers) + np.pi / 4
    middle = 0.6 * np.column_stack([np.cos(angle), np.sin(angle)])
    x = middle + rng.normal(0, 0.15 + noise, size=(n, 2))
    return x.astype(np.float32), labels.astype(np.int64)


def spirals(n=500, noise=0.1, seed=None):
    """Two interleaved spirals, one per class: the classic hard case for a small network."""
    n, noise, rng = _points(n, noise, seed)
    labels = np.arange(n) % 2
    t = rng.uniform(0.25, 1.0, n) * 3 * np.pi
    x = np.column_stack([t * np.cos(t + np.pi * labels), t * np.sin(t + np.pi * labels)])
    x = x / (3 * np.pi) + rng.normal(0, noise * 0.15, size=(n, 2))
    return x.astype(np.float32), labels.astype(np.int64)


def digits():
    """The 1,797 handwritten 8×8 digits shipped with glassnet.

    Source: the test set of the UCI "Optical Recognition of Handwritten
    Digits" data set (E. Alpaydin, C. Kaynak, 1998), CC BY 4.0.

    Returns
    -------
    X : float32 array (1797, 64), pixel intensities 0..16 (row-major 8×8)
    y : int64 array (1797,), labels 0..9
    """
    source = resources.files(__package__).joinpath("data", "digits.csv.gz")
    with source.open("rb") as raw, gzip.open(raw, "rt") as text:
        table = np.loadtxt(text, delimiter=",", dtype=np.int64)
    return table[:, :-1].astype(np.float32), table[:, -1]
