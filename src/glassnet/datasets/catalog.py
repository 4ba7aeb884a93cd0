"""The catalog of named data sets: what ``glassnet train --data NAME`` and the demos load.

Each entry knows how to load its data, split it into training and test
parts, what kind of task it is, how its inputs should be scaled and which
network trains it well by default.  :func:`load` also accepts a CSV file (a
label column, by default the first) or a directory of IDX files (MNIST
layout).

Scaling is never guessed from the values: image data sets say their pixel
scaling (digits 0..16, MNIST-style 0..255), everything else is standardised
with the statistics of the training rows unless told otherwise
(:func:`scaling_layers`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from .. import layers
from . import files, toy
from .preprocessing import encode_labels, train_test_split

__all__ = ["Dataset", "CATALOG", "load", "names", "scaling_layers", "SCALINGS",
           "UnknownDataset"]

#: the ways ``--scale`` can prepare the inputs
SCALINGS = ("none", "standard", "minmax", "pixels")


class UnknownDataset(ValueError):
    """``--data`` names neither a catalog entry nor an existing file or directory."""


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
    scale: str = "standard"        # how to scale the inputs by default (one of SCALINGS)
    pixel_scale: float | None = None   # for scale="pixels": the factor (1/255, 1/16)
    labels: tuple = ()             # class names
    epochs: int = 10               # defaults that train this data set well
    hidden: list = field(default_factory=lambda: [128])
    learning_rate: float | None = None
    #: a CSV file's column names from its header line, or None: no header line (its first
    #: line is data, see files.first_line_is_header) or not a CSV file
    columns: tuple | None = None


def _split(x, y, seed, test_size, stratify=None):
    """x_train, y_train, x_test, y_test, stratified by the classes ``stratify`` (no test part
    for a test size of 0)."""
    if not test_size:
        return x, y, x[:0], y[:0]
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=test_size, seed=seed,
                                              stratify=stratify)
    return x_tr, y_tr, x_te, y_te


def _digits(seed, test_size, points, noise):
    x, y = toy.digits()
    return Dataset("digits", *_split(x, y, seed, test_size, y), "multiclass", 10, "pixels", 1 / 16,
                   tuple("0123456789"), epochs=40, hidden=[128, 64])


def _gate(name, inputs, epochs, hidden):
    """A logic gate: its truth table (train = test), or with ``points`` noisy copies of it."""
    def load(seed, test_size, points, noise):
        x, y = toy.logic_gate("xor" if name == "xor3" else name, inputs)
        if points is None:                 # the truth table, trained and tested on whole
            return Dataset(name, x, y, x, y, "binary", 1, "none", epochs=epochs,
                           hidden=hidden, learning_rate=0.05)
        # points spread over [-1, 1]^inputs, labelled by the gate of their signs (the truth
        # table's row), then moved by Gaussian noise
        rng = np.random.default_rng(seed)
        points_x = rng.uniform(-1, 1, size=(points, inputs))
        rows = (points_x > 0) @ (2 ** np.arange(inputs - 1, -1, -1))
        points_x += rng.normal(0, noise * 0.3, size=points_x.shape)
        labels = y[rows]
        return Dataset(name, *_split(points_x.astype(np.float32), labels, seed, test_size,
                                     labels[:, 0]),
                       "binary", 1, "none", epochs=epochs, hidden=hidden, learning_rate=0.05)
    return load


def _plane(name, make):
    """Points in the plane in two classes (circles, blobs, spirals)."""
    def load(seed, test_size, points, noise):
        x, labels = make(points or 500, noise, seed=seed)
        y = labels[:, None].astype(np.float32)
        return Dataset(name, *_split(x, y, seed, test_size, labels), "binary", 1, "none",
                       epochs=200, hidden=[8, 8], learning_rate=0.03)
    return load


def _image2x2(seed, test_size, points, noise):
    x, y = toy.image2x2(sets=max(1, (points or 200) // 4), grayscale=True, seed=seed)
    labels = y.argmax(axis=1)
    return Dataset("image2x2", *_split(x, labels, seed, test_size, labels), "multiclass", 4,
                   "none", labels=toy.IMAGE2X2_CLASSES, epochs=60, hidden=[16, 8])


def _function(name, noise_scale):
    def load(seed, test_size, points, noise):
        x, y = toy.function_samples(name, n=points or 2000, noise=noise * noise_scale, seed=seed)
        return Dataset(name, *_split(x, y, seed, test_size), "regression", 1, "standard",
                       epochs=300, hidden=[32, 32], learning_rate=0.01)
    return load


def _fashion_mnist(seed, test_size, points, noise):
    (x_tr, y_tr), (x_te, y_te) = files.fashion_mnist(normalize=False)
    return Dataset("fashion-mnist", x_tr, y_tr, x_te, y_te, "multiclass", 10, "pixels",
                   1 / 255, files.FASHION_MNIST_CLASSES, epochs=10, hidden=[256, 128])


#: name → loader(seed, test_size, points, noise) returning a :class:`Dataset`
CATALOG = {"digits": _digits, "xor": _gate("xor", 2, 500, [4]),
           "xor3": _gate("xor3", 3, 1000, [8]), "and": _gate("and", 2, 300, [2]),
           "or": _gate("or", 2, 300, [2]), "nand": _gate("nand", 2, 300, [2]),
           "circles": _plane("circles", toy.circles), "blobs": _plane("blobs", toy.blobs),
           "spirals": _plane("spirals", toy.spirals), "image2x2": _image2x2,
           "linear": _function("linear", 1.0), "cubic": _function("cubic", 20.0),
           "fashion-mnist": _fashion_mnist}
ALIASES = {"fashion_mnist": "fashion-mnist"}


def names():
    return list(CATALOG)


def load(spec, seed=0, test_size=0.2, for_training=True, label=0, class_names=None,
         points=None, noise=0.0):
    """A :class:`Dataset` for a catalog name, a CSV file or an IDX directory.

    The generated sets take ``points`` and ``noise`` (the logic gates: their
    truth table when ``points`` is None, else that many noisy points in
    [-1, 1]²; circles, blobs, spirals; the linear and cubic functions).
    ``noise`` is a standard deviation: of the points' positions (×0.3 for the
    gates), or of the targets of linear (×1) and cubic (×20: its values span
    about ±200).

    A CSV file holds a label column (``label``: its index or header name,
    by default the first column).  Labels that are names (or whole numbers)
    make a classification task, with the class names kept; other numbers a
    regression.  ``class_names`` (a trained model's) fixes the classes'
    order.  Without ``for_training`` all rows are the test part.
    """
    name = ALIASES.get(spec, spec)
    if name in CATALOG:
        return CATALOG[name](seed, test_size, points, noise)
    if os.path.isdir(spec):
        (x_tr, y_tr), (x_te, y_te) = files.load_mnist(spec, normalize=False)
        n_out = int(max(y_tr.max(), y_te.max())) + 1
        return Dataset(spec, x_tr, y_tr, x_te, y_te, "multiclass", n_out, "pixels", 1 / 255)
    if os.path.isfile(spec):
        x, y = files.load_csv(spec, label_column=label)
        if y.dtype.kind == "f":
            task, labels, n_out = "regression", (), 1
        else:
            y, labels = encode_labels(y if class_names is None else y.astype(str), class_names)
            task, n_out = "multiclass", len(labels)
        header = files.read_header(spec)               # what load_csv decided
        columns = tuple(header) if header is not None else None
        if not for_training:
            return Dataset(spec, x[:0], y[:0], x, y, task, n_out, "standard", 1 / 255, labels,
                           columns=columns)
        return Dataset(spec, *_split(x, y, seed, test_size, y if labels else None), task, n_out,
                       "standard", 1 / 255, labels, columns=columns)
    raise UnknownDataset(f"--data must be one of {', '.join(CATALOG)}, a CSV file or an IDX "
                         f"directory; received {spec!r} (no such file or directory)")


def scaling_layers(data, how, x_train):
    """The layers that put the inputs on a good scale, and a sentence saying what they do.

    ``how`` is one of :data:`SCALINGS`: ``"none"``; ``"standard"``, a
    :class:`~glassnet.layers.Normalization` adapted to ``x_train``;
    ``"minmax"``, the same mapping each feature's training range to [0, 1];
    ``"pixels"``, a Rescaling by the data set's pixel scale.
    """
    n = len(x_train)
    if how == "none":
        return [], "none (the inputs go in as they are)"
    if how == "standard":
        return ([layers.Normalization().adapt(x_train)],
                f"each feature standardised with the mean and variance of the {n} training "
                f"rows (a Normalization layer, saved with the model)")
    if how == "minmax":
        low, high = x_train.min(axis=0), x_train.max(axis=0)
        return ([layers.Normalization(mean=low, variance=(high - low) ** 2)],
                f"each feature mapped from its range over the {n} training rows to [0, 1] (a "
                f"Normalization layer, saved with the model)")
    if how == "pixels":
        scale = data.pixel_scale or 1 / 255
        return ([layers.Rescaling(scale)],
                f"pixels multiplied by 1/{round(1 / scale)} (a Rescaling layer, saved with the "
                f"model)")
    raise ValueError(f"scaling must be one of {', '.join(SCALINGS)}; received {how!r}")
