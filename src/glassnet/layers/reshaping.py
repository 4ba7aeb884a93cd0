"""Reshaping layers: Flatten and Reshape (Keras's ``layers/reshaping``).

glassnet's batches are 2-D, ``(samples, features)``: an image of 28 × 28 pixels
travels as 784 features.  So ``Flatten(input_shape=(28, 28))`` first in a model
says that the data arrive as ``(n, 28, 28)`` arrays: the model's boundary puts
each sample's values in one row (C order, as ``x.reshape(len(x), -1)``), and the
layer itself passes its rows on unchanged.  ``Reshape(target_shape)`` inside a
model checks that the sizes agree and passes the rows on too: for a dense
network the shape of a sample is only a way of reading its features.
"""

from __future__ import annotations

import math

import numpy as np

from .layer import Layer, Record

__all__ = ["PassThrough", "Flatten", "Reshape", "sample_shape"]


def sample_shape(shape, what):
    """``shape`` as a tuple of positive ints (one sample's shape), or a ValueError."""
    if not isinstance(shape, (tuple, list)) or not shape or not all(
            isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d > 0
            for d in shape):
        raise ValueError(f"{what} must be a tuple of positive integers (one sample's shape); "
                         f"received {shape!r}")
    return tuple(int(d) for d in shape)


class PassThrough(Layer):
    """A layer whose rows go through unchanged: ``a = x``, ``dL/dx = dL/da`` (also in ONNX)."""

    def forward(self, x, training=False):
        self.record = Record(x=x, a=x)
        return x

    def backward(self, grad_a, need_input_grad=True):
        return grad_a if need_input_grad else None

    def to_onnx(self, graph, x):
        return x


class Flatten(PassThrough):
    """Each sample's values in one row: ``(n, d1, d2, ...)`` → ``(n, d1·d2·...)``.

    Parameters
    ----------
    input_shape : tuple, optional
        One sample's shape, e.g. ``(28, 28)``, when the layer comes first.
    data_format : None
        Keras's argument; only the default (channels last) is meaningful here.
    """

    #: the model flattens N-D data at its boundary when this layer comes first
    flattens_input = True

    def __init__(self, data_format=None, name=None, input_shape=None, input_dim=None):
        self.sample_shape = None
        if input_shape is not None:
            self.sample_shape = sample_shape(input_shape, "Flatten input_shape")
            input_dim = math.prod(self.sample_shape)
        super().__init__(name, input_dim)


    def title(self):
        shape = "" if self.sample_shape is None else f"{self.sample_shape} → "
        return f"Flatten({shape}{self.input_dim} features)"


    def get_config(self):
        config = super().get_config()
        if self.sample_shape is not None:
            config.pop("input_dim", None)
            config["input_shape"] = list(self.sample_shape)
        return config


class Reshape(PassThrough):
    """Read each sample's features as ``target_shape`` (the sizes must agree; rows pass on)."""

    def __init__(self, target_shape, name=None, **kwargs):
        shape = list(target_shape) if isinstance(target_shape, (tuple, list)) else target_shape
        if isinstance(shape, list) and shape.count(-1) == 1:
            known = [d for d in shape if d != -1]
            sample_shape(known or [1], "Reshape target_shape")
        else:
            sample_shape(shape, "Reshape target_shape")
        self.target_shape = tuple(shape)
        super().__init__(name, **kwargs)

    def build(self, input_dim, rng):
        known = math.prod(d for d in self.target_shape if d != -1)
        if (-1 in self.target_shape and input_dim % known) or (
                -1 not in self.target_shape and known != input_dim):
            raise ValueError(f"Reshape{self.target_shape} cannot hold the {input_dim} features "
                             f"it receives")
        return input_dim


    def title(self):
        return f"Reshape{self.target_shape}"


    def get_config(self):
        return {"target_shape": list(self.target_shape), **super().get_config()}
