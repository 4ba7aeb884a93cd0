"""Regularization layers: Dropout."""

from __future__ import annotations

import numpy as np

from ..trace import Step
from .. import _validation as check
from ..backend import array_module, to_module
from .layer import Layer, Record

__all__ = ["Dropout"]


class Dropout(Layer):
    """Inverted dropout: while training, zero each input with probability ``rate``.

    The survivors are scaled by ``1 / (1 - rate)`` so that the expected value of
    every unit is unchanged; at inference the layer is the identity.  With the
    random mask ``m`` (entries 0 or 1/(1-rate)):

        forward:  a = x ⊙ m            backward:  dL/dx = dL/da ⊙ m

    Parameters
    ----------
    rate : float in [0, 1)
        Fraction of inputs to drop.
    """

    def __init__(self, rate, name=None, input_dim=None, **kwargs):
        super().__init__(name, input_dim, **kwargs)
        rate = check.real(rate, "Dropout rate")
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"Dropout rate must be in [0, 1), received {rate!r}")
        self.rate = rate

    def forward(self, x, training=False):
        if not training or self.rate == 0.0:
            self.record = Record(x=x, mask=None, a=x)
            return x
        mask = self.rng.random(x.shape, dtype=x.dtype)
        # keep with probability 1 - rate, scaled so E[a] = x
        keep = mask >= self.rate
        np.multiply(keep, 1.0 / (1.0 - self.rate), out=mask)
        mask = to_module(mask, array_module(x))        # drawn on the host: the same on a GPU
        a = x * mask
        self.record = Record(x=x, mask=mask, a=a)
        return a

    def backward(self, grad_a, need_input_grad=True):
        if not need_input_grad:
            return None
        mask = self.record.mask
        return grad_a if mask is None else grad_a * mask

    def title(self):
        return f"Dropout({self.rate:g}): the identity at inference"

    def trace_forward(self):
        r = self.record
        formula = "a = x" if r.mask is None else "a = x ⊙ mask"
        return [Step("x", "input", r.x), Step("a", formula, r.a)]

    def to_onnx(self, graph, x):
        return x                                   # the identity at inference

    def get_config(self):
        return {"rate": self.rate, **super().get_config()}

    def __repr__(self):
        return f"Dropout({self.rate})"
