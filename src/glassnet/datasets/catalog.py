"""The catalog of named data sets: what ``glassnet train --data NAME`` and the demos load.

Each entry knows how to load its data, split it into training and test
parts, what kind of task it is, how its inputs are scaled and which network
trains it well by default.  :func:`load` also accepts a CSV file (label in the
first column) or a directory of IDX files (MNIST layout).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from . import files, toy
from .preprocessing import train_test_split

__all__ = ["Dataset", "CATALOG", "load", "names"]


@dataclass
class Dataset:
    """A data set split into training and test parts, with how to model it."""
    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    task: str                      # "multiclass", "binary" or "regression"
    n_outputs: int
    scale: float = 1.0             # put in front of the model as a Rescaling layer
    labels: tuple = ()             # class names
    epochs: int = 10               # defaults that train this data set well
    hidden: list = field(default_factory=lambda: [128])
    learning_rate: float | None = None


def _split(x, y, seed, test_size):
    """x_train, y_train, x_test, y_test (stratified by class for labels)."""
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=test_size, seed=seed,
                                              stratify=y if y.ndim == 1 else None)
    return x_tr, y_tr, x_te, y_te


def _digits(seed, test_size):
    x, y = toy.digits()
    return Dataset("digits", *_split(x, y, seed, test_size), "multiclass", 10, 1 / 16,
                   tuple("0123456789"), epochs=40, hidden=[128, 64])


def _xor(seed, test_size):
    x, y = toy.logic_gate("xor", 2)        # four rows: train and test on the whole truth table
    return Dataset("xor", x, y, x, y, "binary", 1, epochs=500, hidden=[4], learning_rate=0.05)


def _xor3(seed, test_size):
    x, y = toy.logic_gate("xor", 3)        # 3-input parity
    return Dataset("xor3", x, y, x, y, "binary", 1, epochs=1000, hidden=[8], learning_rate=0.05)


def _image2x2(seed, test_size):
    x, y = toy.image2x2(sets=50, grayscale=True, seed=seed)
    return Dataset("image2x2", *_split(x, y.argmax(axis=1), seed, test_size), "multiclass", 4,
                   labels=toy.IMAGE2X2_CLASSES, epochs=60, hidden=[16, 8])


def _cubic(seed, test_size):
    x, y = toy.function_samples("cubic", n=2000, seed=seed)
    return Dataset("cubic", *_split(x, y, seed, test_size), "regression", 1, 0.2,
                   epochs=300, hidden=[32, 32], learning_rate=0.01)


def _fashion_mnist(seed, test_size):
    (x_tr, y_tr), (x_te, y_te) = files.fashion_mnist(normalize=False)
    return Dataset("fashion-mnist", x_tr, y_tr, x_te, y_te, "multiclass", 10, 1 / 255,
                   files.FASHION_MNIST_CLASSES, epochs=10, hidden=[256, 128])


#: name → loader(seed, test_size) returning a :class:`Dataset`
CATALOG = {"digits": _digits, "xor": _xor, "xor3": _xor3, "image2x2": _image2x2,
           "cubic": _cubic, "fashion-mnist": _fashion_mnist}
ALIASES = {"fashion_mnist": "fashion-mnist"}


def names():
    return list(CATALOG)


def load(spec, seed=0, test_size=0.2, for_training=True):
    """A :class:`Dataset` for a catalog name, a CSV file or an IDX directory.

    A CSV file holds the integer class label in its first column; without
    ``for_training`` all of its rows are the test part.
    """
    name = ALIASES.get(spec, spec)
    if name in CATALOG:
        return CATALOG[name](seed, test_size)
    if os.path.isdir(spec):
        (x_tr, y_tr), (x_te, y_te) = files.load_mnist(spec, normalize=False)
        n_out = int(max(y_tr.max(), y_te.max())) + 1
        return Dataset(spec, x_tr, y_tr, x_te, y_te, "multiclass", n_out, 1 / 255)
    if os.path.isfile(spec):
        x, y = files.load_csv(spec)
        if y.dtype.kind != "i":
            raise ValueError(f"{spec!r}: the first column must hold integer class labels")
        scale = 1 / 255 if x.max() > 1 and x.max() <= 255 and x.min() >= 0 else 1.0
        n_out = int(y.max()) + 1
        if not for_training:
            return Dataset(spec, x[:0], y[:0], x, y, "multiclass", n_out, scale)
        return Dataset(spec, *_split(x, y, seed, test_size), "multiclass", n_out, scale)
    raise ValueError(f"--data must be one of {', '.join(CATALOG)}, a CSV file or an IDX "
                     f"directory; received {spec!r} (no such file or directory)")
