"""Weight penalties added to the loss: ``L_total = L + R(W)``.

Large weights make a network's output swing with small changes of its input,
which is one face of overfitting.  A penalty on the kernel pulls weights
towards 0 a little at every step:

=====  ======================  ====================
name   R(W)                    dR/dW
=====  ======================  ====================
l2     λ Σ W²                  2 λ W
l1     λ Σ |W|                 λ sign(W)
l1_l2  λ₁ Σ |W| + λ₂ Σ W²       λ₁ sign(W) + 2 λ₂ W
=====  ======================  ====================

(Keras's convention; λ defaults to 0.01.)  Biases are not penalised.
"""

from __future__ import annotations

import math

import numpy as np

from ._registry import Registry
from .backend import array_module

__all__ = ["Regularizer", "L1", "L2", "L1L2", "l1", "l2", "l1_l2", "get", "names", "serialize"]


def _rate(value, name):
    value = float(value)
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"regularization factor {name} must be >= 0, received {value!r}")
    return value


class Regularizer:
    """Base class of penalties: ``penalty(W)`` is R(W), ``add_gradient(W, dW)`` adds dR/dW."""


class L1L2(Regularizer):
    """``R(W) = l1 Σ |W| + l2 Σ W²``."""

    name = "l1_l2"

    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = _rate(l1, "l1"), _rate(l2, "l2")

    def penalty(self, W):
        """R(W), as a Python float."""
        total = 0.0
        if self.l1:
            total += self.l1 * float(abs(W).sum(dtype=np.float64))
        if self.l2:
            total += self.l2 * float(array_module(W).vdot(W, W))
        return total

    def add_gradient(self, W, dW):
        """``dW += dR/dW`` in place."""
        if self.l1:
            dW += self.l1 * array_module(W).sign(W)
        if self.l2:
            dW += (2.0 * self.l2) * W

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}

    def __repr__(self):
        return f"{type(self).__name__}(l1={self.l1!r}, l2={self.l2!r})"


class L1(L1L2):
    """``R(W) = l1 Σ |W|``."""

    name = "l1"

    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    """``R(W) = l2 Σ W²``."""

    name = "l2"

    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


REGISTRY = Registry("regularizer", Regularizer, {c.name: c for c in (L1, L2, L1L2)},
                    aliases={"l1l2": "l1_l2"})
names = REGISTRY.names
serialize = REGISTRY.serialize


def get(identifier):
    """A penalty for a name ("l1", "l2", "l1_l2"), an instance, a config dict or None."""
    if identifier is None:
        return None
    return REGISTRY.get(identifier, "a name, a Regularizer or None")


def l1(l1=0.01):
    """Keras's ``regularizers.l1(0.01)``: an :class:`L1` penalty."""
    return L1(l1)


def l2(l2=0.01):
    """Keras's ``regularizers.l2(0.01)``: an :class:`L2` penalty."""
    return L2(l2)


def l1_l2(l1=0.01, l2=0.01):
    """Keras's ``regularizers.l1_l2(l1=0.01, l2=0.01)``: an :class:`L1L2` penalty."""
    return L1L2(l1, l2)
