"""Normalization layers: BatchNormalization and LayerNormalization.

Both standardise, then scale and shift: ``x̂ = (x - μ) / √(σ² + ε)``,
``a = γ ⊙ x̂ + β``; they differ in the axis μ and σ² are taken over.
"""

from __future__ import annotations

import math

import numpy as np

from ..trace import Step
from .. import _validation as check
from ..backend import array_module, to_host
from .layer import Layer, Record

__all__ = ["BatchNormalization", "LayerNormalization"]


def _standardize(x, mean, var, epsilon):
    """``x̂ = (x - μ) / √(σ² + ε)``; returns ``x̂`` and ``s = √(σ² + ε)``."""
    std = array_module(var).sqrt(var + epsilon)
    return (x - mean) / std, std


def _standardize_backward(g, x_hat, std, axis):
    """dL/dx for ``x̂ = (x - μ) / s`` when μ and σ² are the mean and variance of ``x``
    along ``axis`` (n values), given ``g = dL/dx̂``:

        dL/dx = (n g - Σ g - x̂ Σ (g ⊙ x̂)) / (n s)        (sums along ``axis``)
    """
    n = g.shape[axis]
    return (n * g - g.sum(axis=axis, keepdims=True)
            - x_hat * (g * x_hat).sum(axis=axis, keepdims=True)) / (n * std)


class _Standardizing(Layer):
    """What BatchNormalization and LayerNormalization share: ``x̂``, then ``a = γ ⊙ x̂ + β``.

    A subclass says over which axis the mean μ and variance σ² are taken
    (:meth:`statistics`); here are the trained scale γ and shift β, the
    forward pass from the statistics, and the backward pass, with
    ``g = dL/dx̂ = dL/da ⊙ γ``:

        dL/dγ = Σ_i dL/da ⊙ x̂          dL/dβ = Σ_i dL/da
    """

    scales_input = True

    param_names = ("gamma", "beta")
    #: the axis μ and σ² are taken over (0: the batch, 1: the features)
    axis = 0

    def __init__(self, epsilon, name=None, input_dim=None, **kwargs):
        super().__init__(name, input_dim, **kwargs)
        self.epsilon = check.real(epsilon, f"{type(self).__name__} epsilon")
        if not (math.isfinite(self.epsilon) and self.epsilon > 0):
            raise ValueError(f"{type(self).__name__} epsilon must be positive, received "
                             f"{epsilon!r}")

    def param_shapes(self):
        return [(self.input_dim,)] * 2

    def initial_weights(self, dtype):
        return [np.ones(self.input_dim, dtype), np.zeros(self.input_dim, dtype)]   # γ, β

    def bind(self, weights, grads):
        super().bind(weights, grads)
        self.gamma, self.beta = weights[:2]
        self.dgamma, self.dbeta = grads

    def statistics(self, x, training):
        """(μ, σ², whether they depend on this batch's x)."""
        raise NotImplementedError

    def forward(self, x, training=False):
        mean, var, from_x = self.statistics(x, training)
        x_hat, std = _standardize(x, mean, var, self.epsilon)
        a = self.gamma * x_hat + self.beta
        self.record = Record(x=x, mean=mean, var=var, std=std, x_hat=x_hat, a=a, from_x=from_x)
        return a

    def backward(self, grad_a, need_input_grad=True):
        r = self.record
        (grad_a * r.x_hat).sum(axis=0, out=self.dgamma)              # dL/dγ = Σ dL/da ⊙ x̂
        grad_a.sum(axis=0, out=self.dbeta)                           # dL/dβ = Σ dL/da
        if not need_input_grad:
            return None
        g = grad_a * self.gamma                                      # dL/dx̂
        if not r.from_x:
            return g / r.std                 # fixed statistics do not depend on x
        return _standardize_backward(g, r.x_hat, r.std, axis=self.axis)

    def title(self):
        return f"{type(self).__name__}({self.input_dim} features)"

    def trace_backward(self):
        return [Step("dL/dγ", "Σ_samples dL/da ⊙ x̂", self.dgamma.copy()),
                Step("dL/dβ", "Σ_samples dL/da", self.dbeta.copy())]

    def _affine_onnx(self, graph, x_hat):
        return graph.op("Add", [graph.op("Mul", [graph.const(self.gamma, "gamma"), x_hat]),
                                graph.const(self.beta, "beta")])

    def get_config(self):
        return {"epsilon": self.epsilon, **super().get_config()}


class BatchNormalization(_Standardizing):
    """Normalise each feature over the batch, then scale and shift: ``a = γ x̂ + β``.

    Training, on a batch of n rows, with the batch mean μ and (biased)
    variance σ² of each feature:

        x̂ = (x - μ) / √(σ² + ε)            a = γ ⊙ x̂ + β
        moving_mean ← m · moving_mean + (1 - m) · μ
        moving_var  ← m · moving_var  + (1 - m) · σ² · n / (n - 1)

    (the moving variance takes the unbiased batch variance, as PyTorch's
    ``BatchNorm1d`` does; Keras takes the biased one).  At inference the
    moving averages replace μ and σ², so a prediction does not depend on the
    rest of the batch.

    Backward, training (μ and σ² depend on every row of the batch), with
    ``g = dL/dx̂ = dL/da ⊙ γ`` and ``s = √(σ² + ε)``:

        dL/dγ = Σ_i dL/da ⊙ x̂          dL/dβ = Σ_i dL/da
        dL/dx = (n g - Σ_i g - x̂ Σ_i (g ⊙ x̂)) / (n s)

    and at inference simply ``dL/dx = g / s``.

    Parameters
    ----------
    momentum : float in [0, 1), default 0.99
        m above (Keras's convention: PyTorch's ``momentum=0.1`` is ``0.9`` here).
    epsilon : float > 0, default 1e-3
        ε above (PyTorch's default is 1e-5).
    """

    state_names = ("moving_mean", "moving_variance")

    def __init__(self, momentum=0.99, epsilon=1e-3, name=None, input_dim=None, **kwargs):
        super().__init__(epsilon, name, input_dim, **kwargs)
        self.momentum = check.real(momentum, "BatchNormalization momentum")
        if not 0.0 <= self.momentum < 1.0:
            raise ValueError(f"BatchNormalization momentum must be in [0, 1), received "
                             f"{momentum!r}")

    def state_shapes(self):
        return [(self.input_dim,)] * 2

    def initial_weights(self, dtype):
        return super().initial_weights(dtype) + [np.zeros(self.input_dim, dtype),
                                                 np.ones(self.input_dim, dtype)]  # μ, σ²

    def bind(self, weights, grads):
        super().bind(weights, grads)
        self.moving_mean, self.moving_variance = weights[2:]

    def statistics(self, x, training):
        if not training:
            return self.moving_mean, self.moving_variance, False
        mean, var = x.mean(axis=0), x.var(axis=0)
        n, m = x.shape[0], self.momentum
        unbiased = var * (n / (n - 1)) if n > 1 else var
        self.moving_mean[...] = m * self.moving_mean + (1 - m) * mean
        self.moving_variance[...] = m * self.moving_variance + (1 - m) * unbiased
        return mean, var, True

    def trace_forward(self):
        r = self.record
        which = "batch" if r.from_x else "moving"
        return [Step("x", "input", r.x),
                Step("μ", f"{which} mean per feature", r.mean),
                Step("σ²", f"{which} variance per feature", r.var),
                Step("x̂", "x̂ = (x - μ) / √(σ² + ε)", r.x_hat),
                Step("a", "a = γ ⊙ x̂ + β", r.a)]

    def to_onnx(self, graph, x):
        # inference: (x - moving_mean) / √(moving_var + ε) · γ + β, in this order
        variance = to_host(self.moving_variance)
        std = np.sqrt(variance + np.asarray(self.epsilon, variance.dtype))
        return self._affine_onnx(graph, graph.op("Div", [
            graph.op("Sub", [x, graph.const(to_host(self.moving_mean), "mean")]), graph.const(std, "std")]))

    def get_config(self):
        return {"momentum": self.momentum, **super().get_config()}


class LayerNormalization(_Standardizing):
    """Normalise each sample over its features, then scale and shift: ``a = γ x̂ + β``.

    With the mean μ_i and (biased) variance σ²_i of row i's features,
    ``x̂_i = (x_i - μ_i) / √(σ²_i + ε)``: the same in training and at inference,
    so it keeps no moving averages.  Backward, with ``g = dL/da ⊙ γ``, is
    BatchNormalization's formula along the features instead of the batch.
    Equals ``torch.nn.LayerNorm(features, eps=epsilon)``.

    Parameters
    ----------
    epsilon : float > 0, default 1e-3
        ε above (Keras's default; PyTorch's is 1e-5).
    """

    axis = 1

    def __init__(self, epsilon=1e-3, name=None, input_dim=None, **kwargs):
        super().__init__(epsilon, name, input_dim, **kwargs)

    def statistics(self, x, training):
        return x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True), True

    def trace_forward(self):
        r = self.record
        return [Step("x", "input", r.x), Step("μ", "mean of each sample's features", r.mean),
                Step("σ²", "variance of each sample's features", r.var),
                Step("x̂", "x̂ = (x - μ) / √(σ² + ε)", r.x_hat), Step("a", "a = γ ⊙ x̂ + β", r.a)]

    def to_onnx(self, graph, x):
        # the same steps as forward: x̂ = (x - mean) / √(var + ε), then γ x̂ + β
        mean = graph.op("ReduceMean", [x], axes=[1], keepdims=1)        # opset 17: attribute
        centred = graph.op("Sub", [x, mean])
        var = graph.op("ReduceMean", [graph.op("Mul", [centred, centred])], axes=[1], keepdims=1)
        std = graph.op("Sqrt", [graph.op("Add", [var, graph.const(self.epsilon, "eps")])])
        return self._affine_onnx(graph, graph.op("Div", [centred, std]))
