"""Keras's ``keras.utils`` helpers that glassnet has."""

from __future__ import annotations

import numpy as np

from .datasets.preprocessing import one_hot
from .model_plot import plot_model

__all__ = ["to_categorical", "one_hot", "plot_model", "unpack_x_y_sample_weight", "PyDataset"]


class PyDataset:
    """Keras's base class for data in batches: define ``__len__`` and ``__getitem__(i)``.

    ``__getitem__`` returns ``(x, y)`` or ``(x, y, sample_weight)`` for batch ``i``;
    ``fit`` visits the batches in a new order each epoch (``shuffle=True``).  The
    arguments Keras takes for parallel loading are accepted; glassnet reads in order.
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self.workers, self.use_multiprocessing = workers, use_multiprocessing
        self.max_queue_size = max_queue_size

    def __len__(self):  # pragma: no cover - abstract
        raise NotImplementedError("a PyDataset defines __len__: the number of batches")

    def __getitem__(self, index):  # pragma: no cover - abstract
        raise NotImplementedError("a PyDataset defines __getitem__(i): the i-th batch")


def unpack_x_y_sample_weight(data):
    """``(x, y, sample_weight)`` from what a ``train_step(self, data)`` receives (Keras's helper)."""
    if not isinstance(data, tuple) or not 1 <= len(data) <= 3:
        raise ValueError(f"data must be a tuple (x,), (x, y) or (x, y, sample_weight); received "
                         f"{type(data).__name__}")
    return tuple(data) + (None,) * (3 - len(data))


def to_categorical(y, num_classes=None, dtype="float32"):
    """Integer class labels (n,) → one-hot rows (n, num_classes), as ``keras.utils.to_categorical``.

    The same as :func:`glassnet.datasets.one_hot`.
    """
    return one_hot(y, num_classes, dtype=np.dtype(dtype))
