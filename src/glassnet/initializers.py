"""Weight initializers: where the weights start before training.

Starting every weight at the same value would make all units of a layer
compute the same thing forever (their gradients would be equal too), so
kernels start random.  The scale matters: with ``fan_in`` inputs, the
weighted sum ``z = Σ x_i w_i`` has variance ``fan_in · Var(w) · Var(x)``.
Choosing ``Var(w)`` around ``1 / fan_in`` keeps signals from exploding or
vanishing as they pass through many layers:

========================  ===========================================
glorot (Xavier)           ``Var(w) = 2 / (fan_in + fan_out)``: tanh, sigmoid
he (Kaiming)              ``Var(w) = 2 / fan_in``: ReLU halves the variance
lecun                     ``Var(w) = 1 / fan_in``: SELU-style, linear
========================  ===========================================

A uniform distribution on ``[-l, l]`` has variance ``l² / 3``, which gives the
limits used by the ``*_uniform`` variants.

Every initializer is called as ``init(shape, rng, dtype)`` with a
``numpy.random.Generator`` owned by the model (no global random state).
"""

from __future__ import annotations

import math

import numpy as np

from ._registry import Registry
from ._text import config_repr

__all__ = ["Initializer", "Zeros", "Ones", "Constant", "Uniform", "Normal",
           "GlorotUniform", "GlorotNormal", "HeUniform", "HeNormal", "LecunNormal",
           "LecunUniform", "get", "names", "serialize"]


class Initializer:
    name = "initializer"

    def __call__(self, shape, rng, dtype=np.float32):  # pragma: no cover - abstract
        raise NotImplementedError

    def get_config(self):
        return {}

    def __repr__(self):
        return config_repr(self)


class Constant(Initializer):
    """Every entry equal to ``value``; an array ``value`` is broadcast to the weight's shape.

    ``Constant(np.log([p / (1 - p)]))`` starts a sigmoid output's bias at the
    log-odds of a class prior p (Keras's imbalanced-data recipe).  A value
    whose shape cannot broadcast to the weight's is a ``ValueError``.
    """

    name = "constant"

    def __init__(self, value=0.0):
        try:
            array = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            array = None
        if array is None or not np.all(np.isfinite(array)):
            raise ValueError(f"Constant value must be a finite number or an array of them; "
                             f"received {value!r}")
        self.value = float(array) if array.ndim == 0 else array

    def __call__(self, shape, rng, dtype=np.float32):
        if np.ndim(self.value) == 0:
            return np.full(shape, self.value, dtype=dtype)
        try:
            return np.broadcast_to(self.value, shape).astype(dtype)
        except ValueError:
            raise ValueError(f"Constant value of shape {np.shape(self.value)} cannot fill a "
                             f"weight of shape {tuple(shape)}") from None

    def get_config(self):
        return {"value": self.value if np.ndim(self.value) == 0 else self.value.tolist()}


class Zeros(Constant):
    name = "zeros"

    def __init__(self):
        super().__init__(0.0)

    def get_config(self):
        return {}


class Ones(Constant):
    name = "ones"

    def __init__(self):
        super().__init__(1.0)

    def get_config(self):
        return {}


class Uniform(Initializer):
    """Uniform on ``[minval, maxval)``; seed 004's ``weightBounds=(-1, 1)``."""

    name = "uniform"

    def __init__(self, minval=-0.05, maxval=0.05):
        minval, maxval = float(minval), float(maxval)
        if not minval < maxval:
            raise ValueError(f"Uniform needs minval < maxval, received ({minval!r}, {maxval!r})")
        self.minval, self.maxval = minval, maxval

    def __call__(self, shape, rng, dtype=np.float32):
        return rng.uniform(self.minval, self.maxval, size=shape).astype(dtype)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval}


class Normal(Initializer):
    """Normal with the given mean and standard deviation."""

    name = "normal"

    def __init__(self, mean=0.0, stddev=0.05):
        stddev = float(stddev)
        if not stddev > 0:
            raise ValueError(f"Normal needs stddev > 0, received {stddev!r}")
        self.mean, self.stddev = float(mean), stddev

    def __call__(self, shape, rng, dtype=np.float32):
        return rng.normal(self.mean, self.stddev, size=shape).astype(dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev}


def _fans(shape):
    """``(fan_in, fan_out)`` of a kernel of shape (inputs, units)."""
    if len(shape) == 1:
        return shape[0], shape[0]
    return shape[0], shape[1]


class _VarianceScaling(Initializer):
    """Uniform or normal with ``Var(w) = scale / fan`` (see the module docstring)."""

    scale = 1.0
    mode = "fan_in"          # fan_in, fan_out or fan_avg
    distribution = "uniform"

    def __call__(self, shape, rng, dtype=np.float32):
        fan_in, fan_out = _fans(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        variance = self.scale / max(1.0, fan)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * variance)  # Var(U[-l, l]) = l² / 3
            return rng.uniform(-limit, limit, size=shape).astype(dtype)
        return rng.normal(0.0, math.sqrt(variance), size=shape).astype(dtype)


class GlorotUniform(_VarianceScaling):
    """Glorot/Xavier uniform: limit ``sqrt(6 / (fan_in + fan_out))``."""
    name, mode, distribution = "glorot_uniform", "fan_avg", "uniform"


class GlorotNormal(_VarianceScaling):
    """Glorot/Xavier normal: std ``sqrt(2 / (fan_in + fan_out))``."""
    name, mode, distribution = "glorot_normal", "fan_avg", "normal"


class HeUniform(_VarianceScaling):
    """He/Kaiming uniform: limit ``sqrt(6 / fan_in)``."""
    name, mode, distribution, scale = "he_uniform", "fan_in", "uniform", 2.0


class HeNormal(_VarianceScaling):
    """He/Kaiming normal: std ``sqrt(2 / fan_in)``."""
    name, mode, distribution, scale = "he_normal", "fan_in", "normal", 2.0


class LecunNormal(_VarianceScaling):
    """LeCun normal: std ``sqrt(1 / fan_in)``."""
    name, mode, distribution = "lecun_normal", "fan_in", "normal"


class LecunUniform(_VarianceScaling):
    """LeCun uniform: limit ``sqrt(3 / fan_in)``."""
    name, mode, distribution = "lecun_uniform", "fan_in", "uniform"


REGISTRY = Registry("initializer", Initializer,
                    {c.name: c for c in (Zeros, Ones, Constant, Uniform, Normal, GlorotUniform,
                                         GlorotNormal, HeUniform, HeNormal, LecunNormal,
                                         LecunUniform)},
                    aliases={"xavier_uniform": "glorot_uniform", "xavier_normal": "glorot_normal",
                             "kaiming_uniform": "he_uniform", "kaiming_normal": "he_normal",
                             "random_uniform": "uniform", "random_normal": "normal",
                             "zero": "zeros", "one": "ones"})
names = REGISTRY.names
serialize = REGISTRY.serialize


def get(identifier):
    """Return an :class:`Initializer` for a name, an instance or a config dict.

    ``None`` means zeros (Keras code passes ``bias_initializer=None``), a
    ``(low, high)`` tuple ``Uniform(low, high)`` (seed 004's
    ``weightBounds``), a number or a NumPy array ``Constant(value)``.
    """
    if identifier is None:
        return Zeros()
    if isinstance(identifier, (tuple, list)) and len(identifier) == 2:
        return Uniform(*identifier)
    if isinstance(identifier, (int, float, np.number, np.ndarray)) \
            and not isinstance(identifier, bool):
        return Constant(identifier)
    return REGISTRY.get(identifier, "a name, an Initializer, None, a (low, high) tuple, a "
                                    "number or an array")
