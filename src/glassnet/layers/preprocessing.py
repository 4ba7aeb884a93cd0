"""Preprocessing layers: scaling that travels with the model (Rescaling, Normalization)."""

from __future__ import annotations

import numpy as np

from .. import _validation as check
from ..backend import array_module, to_host
from ..trace import Step
from .layer import Layer, Record, Variable

__all__ = ["Rescaling", "Normalization"]


class Rescaling(Layer):
    """``a = x · scale + offset``: input scaling that travels with the model.

    Put it first so that a saved model takes raw inputs (e.g. pixels 0..255
    with ``scale=1/255``).  No trainable parameters; ``dL/dx = dL/da · scale``.
    """

    scales_input = True

    def __init__(self, scale, offset=0.0, name=None, input_dim=None, **kwargs):
        super().__init__(name, input_dim, **kwargs)
        self.scale = check.real(scale, "Rescaling scale")
        self.offset = check.real(offset, "Rescaling offset")
        if not (np.isfinite(self.scale) and np.isfinite(self.offset)) or self.scale == 0:
            raise ValueError(f"Rescaling needs a finite non-zero scale and a finite offset; "
                             f"received scale={scale!r}, offset={offset!r}")

    def forward(self, x, training=False):
        a = x * x.dtype.type(self.scale)
        if self.offset:
            a += x.dtype.type(self.offset)
        self.record = Record(x=x, a=a)
        return a

    def backward(self, grad_a, need_input_grad=True):
        return grad_a * grad_a.dtype.type(self.scale) if need_input_grad \
            else None

    def title(self):
        return f"Rescaling(scale={self.scale:g}, offset={self.offset:g})"

    def trace_forward(self):
        return [Step("x", "input", self.record.x),
                Step("a", "a = x · scale + offset", self.record.a)]

    def to_onnx(self, graph, x):
        x = graph.op("Mul", [x, graph.const(self.scale, "scale")])
        if self.offset:
            x = graph.op("Add", [x, graph.const(self.offset, "offset")])
        return x

    def get_config(self):
        return {"scale": self.scale, "offset": self.offset, **super().get_config()}

    def __repr__(self):
        return f"Rescaling({self.scale!r}, offset={self.offset!r})"


class Normalization(Layer):
    """Standardise each feature with a mean and variance learnt from the data: Keras's layer.

    ``a = (x - mean) / max(√variance, 1e-7)``, per feature.  :meth:`adapt`
    computes ``mean`` and ``variance`` (the population variance) from data
    once, before training; they are saved with the model, exported to ONNX and
    shown by ``trace``, but not trained.  So a saved model takes raw inputs.
    ``layer.mean`` and ``layer.variance`` are the statistics (after
    :meth:`adapt`, or as given).

    Parameters
    ----------
    axis : -1, 1 or None, default -1
        -1 (or 1): a mean and variance per feature; None: one mean and
        variance over every value (Keras's ``axis=None``).
    mean, variance : array-like (features,) or scalars, optional
        Known statistics, instead of :meth:`adapt` (e.g. a min-max scaling is
        ``mean=min, variance=(max - min)²``).
    invert : bool, default False
        Undo the scaling instead: ``a = x · std + mean`` (turn standardised
        predictions back into the data's units).
    """

    scales_input = True

    state_names = ("mean", "variance")
    #: the smallest standard deviation divided by (a constant feature stays finite)
    EPSILON = 1e-7

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, name=None,
                 input_dim=None, **kwargs):
        if axis not in (-1, 1, None):
            raise ValueError(f"Normalization axis must be -1 (per feature) or None (all "
                             f"values): glassnet's batches are 2-D; received {axis!r}")
        if (mean is None) != (variance is None):
            raise ValueError("Normalization needs both mean and variance, or neither (then "
                             "call adapt(x))")
        self.axis = None if axis is None else -1
        self.invert = check.strict_bool(invert, "Normalization invert")
        self.adapted = None
        if mean is not None:
            self.adapted = self._statistics(mean, variance)
            if input_dim is None and self.adapted[0].size > 1:
                input_dim = len(self.adapted[0])
        super().__init__(name, input_dim, **kwargs)

    @staticmethod
    def _statistics(mean, variance):
        mean = np.asarray(mean, dtype=np.float64).reshape(-1)
        variance = np.asarray(variance, dtype=np.float64).reshape(-1)
        if mean.shape != variance.shape or not (np.isfinite(mean).all()
                                                and np.isfinite(variance).all()) \
                or (variance < 0).any():
            raise ValueError(f"Normalization needs finite means and non-negative variances of "
                             f"one shape; received shapes {mean.shape} and {variance.shape}")
        return mean, variance

    def adapt(self, x):
        """Learn the mean and (population) variance from ``x`` (n, features), or (n,) for one."""
        x = to_host(x)                           # a CuPy array: adapted on the host
        if hasattr(x, "to_numpy"):
            x = x.to_numpy()
        x = np.asarray(x)
        if x.ndim == 1:
            x = x.reshape(-1, 1)
        x = check.as_matrix(x, "x", np.float64, self.input_dim or self.declared_input_dim)
        if self.axis is None:
            self.adapted = (np.full(x.shape[1], x.mean()), np.full(x.shape[1], x.var()))
        else:
            self.adapted = (x.mean(axis=0), x.var(axis=0))
        if self.bound_weights:                             # already part of a built model
            self.bound_weights[0][...], self.bound_weights[1][...] = self.adapted
        elif self.declared_input_dim is None:
            self.declared_input_dim = x.shape[1]
        return self

    @property
    def mean(self):
        """The mean of each feature (a view into the model's vector once built)."""
        if self.bound_weights:
            return self.bound_weights[0].view(Variable)
        return None if self.adapted is None else self.adapted[0].view(Variable)

    @property
    def variance(self):
        """The variance of each feature."""
        if self.bound_weights:
            return self.bound_weights[1].view(Variable)
        return None if self.adapted is None else self.adapted[1].view(Variable)

    def state_shapes(self):
        return [(self.input_dim,)] * 2

    def initial_weights(self, dtype):
        if self.adapted is None:            # the identity until adapted
            return [np.zeros(self.input_dim, dtype), np.ones(self.input_dim, dtype)]
        if len(self.adapted[0]) == 1 and self.input_dim != 1:      # one scalar statistic
            return [np.full(self.input_dim, a[0], dtype) for a in self.adapted]
        if len(self.adapted[0]) != self.input_dim:
            raise ValueError(f"layer {self.name!r} was adapted to {len(self.adapted[0])} "
                             f"features but receives {self.input_dim}")
        return [a.astype(dtype) for a in self.adapted]

    def _std(self):
        variance = self.bound_weights[1]
        xp = array_module(variance)
        return xp.maximum(xp.sqrt(variance), variance.dtype.type(self.EPSILON))

    def forward(self, x, training=False):
        std = self._std()
        mean = self.bound_weights[0]
        a = x * std + mean if self.invert else (x - mean) / std
        self.record = Record(x=x, std=std, a=a)
        return a

    def backward(self, grad_a, need_input_grad=True):
        if not need_input_grad:
            return None
        return grad_a * self.record.std if self.invert else grad_a / self.record.std

    def title(self):
        return f"Normalization({self.input_dim} features)"

    def trace_forward(self):
        r = self.record
        return [Step("x", "input", r.x), Step("mean", "the mean of each feature (adapted)",
                                              self.bound_weights[0].copy()),
                Step("std", "√variance of each feature (adapted)", r.std),
                Step("a", "a = (x - mean) / std", r.a)]

    def to_onnx(self, graph, x):
        mean, std = graph.const(self.bound_weights[0], "mean"), graph.const(self._std(), "std")
        if self.invert:
            return graph.op("Add", [graph.op("Mul", [x, std]), mean])
        return graph.op("Div", [graph.op("Sub", [x, mean]), std])

    def get_config(self):
        config = {"axis": self.axis, "invert": self.invert, **super().get_config()}
        if self.adapted is not None and not self.weights:     # not yet in a model's weights
            config.update(mean=self.adapted[0].tolist(), variance=self.adapted[1].tolist())
        return config
