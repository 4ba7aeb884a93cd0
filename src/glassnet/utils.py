"""Keras's ``keras.utils`` helpers that glassnet has."""

from __future__ import annotations

import numpy as np

from .datasets.preprocessing import one_hot
from .model_plot import plot_model

__all__ = ["to_categorical", "one_hot", "plot_model"]


def to_categorical(y, num_classes=None, dtype="float32"):
    """Integer class labels (n,) → one-hot rows (n, num_classes), as ``keras.utils.to_categorical``.

    The same as :func:`glassnet.datasets.one_hot`.
    """
    return one_hot(y, num_classes, dtype=np.dtype(dtype))
