"""Loss functions: how far the prediction ŷ is from the target y.

Training minimises the mean loss over a batch of n samples,

    L = (1/n) Σ_i w_i · l_i(ŷ_i, y_i)

with per-sample losses ``l_i`` and sample weights ``w_i`` (1 unless given).
The per-sample losses reduce as PyTorch does: mean squared and absolute error
and binary cross-entropy *average* over the k outputs of a sample (so with
equal weights L is the mean over all n·k elements), the categorical
cross-entropies *sum* over the classes.

Each loss has, side by side,

``per_sample(y_true, y_pred)``  → ``l`` of shape (n,)
``gradient(y_true, y_pred, w)``  → ``dL/dŷ`` of shape (n, k)

and the losses with a natural output partner (softmax or sigmoid for the
cross-entropies, linear for mse) also have a *fused* form used when the
output layer has that activation.  There the chain rule
collapses: with ``a = softmax(z)`` and ``l = -Σ_k y_k log a_k``,

    dl/dz_k = a_k Σ_j y_j - y_k          ( = a_k - y_k for one-hot y )

and for ``a = sigmoid(z)`` with binary cross-entropy, ``dl/dz = (a - y) / k``.
Working from the logits z also makes the loss value itself stable:
``log softmax(z) = z - logsumexp(z)`` and
``-[y log σ(z) + (1-y) log(1-σ(z))] = max(z, 0) - z·y + log(1 + e^(-|z|))``
never take the log of a probability that rounded to 0.
"""

from __future__ import annotations

import numpy as np

from . import activations
from ._registry import Registry
from .backend import array_module

__all__ = ["Loss", "MeanSquaredError", "MeanAbsoluteError", "BinaryCrossentropy",
           "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "get", "names",
           "serialize", "reduce", "LOG_FLOOR"]

#: log(p) is clamped at -100 for p → 0, as PyTorch's BCELoss does
LOG_FLOOR = -100.0


def _safe_log(p):
    xp = array_module(p)
    with np.errstate(divide="ignore"):
        return xp.maximum(xp.log(p), LOG_FLOOR)


def _logsumexp(z):
    """``log Σ_k e^(z_k)`` per row, as ``m + log Σ_k e^(z_k - m)`` with m the row maximum."""
    xp = array_module(z)
    m = z.max(axis=1, keepdims=True)
    return m[:, 0] + xp.log(xp.exp(z - m).sum(axis=1))


def reduce(per_sample, sample_weight):
    """``(1/n) Σ w_i l_i``: the mean over samples, weighted when weights are given."""
    xp = array_module(per_sample)
    if sample_weight is None:
        return float(per_sample.sum(dtype=np.float64)) / per_sample.shape[0]
    return float(xp.dot(per_sample.astype(np.float64), sample_weight) / per_sample.shape[0])


def _scale(y_pred, sample_weight, divisor):
    """Per-row factor ``w_i / divisor`` as an (n, 1) column, or a scalar."""
    if sample_weight is None:
        return 1.0 / divisor
    return (sample_weight / divisor).astype(y_pred.dtype, copy=False)[:, None]


class Loss:
    """Base class.  ``loss(y_true, y_pred, sample_weight=None)`` is the mean loss."""

    name = "loss"
    #: the output activation whose pairing with this loss has a fused gradient
    fused_activation = None
    #: True when the targets are integer class labels of shape (n,)
    sparse = False
    #: True when the model outputs logits and the loss applies σ itself (cross-entropies)
    from_logits = False
    #: on a GPU (glassnet.cuda): the per-sample loss and δ of the fused form in one CUDA
    #: kernel, or None
    cuda_loss_and_delta = None

    def __init__(self, name=None, reduction="sum_over_batch_size"):
        # Keras's arguments: glassnet's losses are means over the batch (Keras's default)
        if reduction not in ("sum_over_batch_size", "auto", None):
            raise ValueError(f"reduction={reduction!r}: glassnet's losses are the mean over the "
                             f"batch (Keras's 'sum_over_batch_size'); scale the loss with "
                             f"loss_weights or the learning rate instead")
        if name is not None:
            if not isinstance(name, str):
                raise ValueError(f"a loss name must be a string; received {name!r}")
            self.display_name = name

    def __call__(self, y_true, y_pred, sample_weight=None):
        return reduce(self.per_sample(y_true, y_pred), sample_weight)

    def per_sample(self, y_true, y_pred):  # pragma: no cover - abstract
        raise NotImplementedError

    def gradient(self, y_true, y_pred, sample_weight=None):  # pragma: no cover - abstract
        raise NotImplementedError

    def get_config(self):
        return {}

    def __repr__(self):
        return f"{type(self).__name__}()"


class MeanSquaredError(Loss):
    """``l_i = (1/k) Σ_j (ŷ_ij - y_ij)²`` and ``dL/dŷ = 2 w_i (ŷ - y) / (n k)``."""

    name = "mse"
    fused_activation = "linear"

    def per_sample(self, y_true, y_pred):
        xp = array_module(y_pred)
        diff = y_pred - y_true
        return xp.einsum("ij,ij->i", diff, diff) / diff.shape[1]

    def gradient(self, y_true, y_pred, sample_weight=None):
        xp = array_module(y_pred)
        g = xp.subtract(y_pred, y_true)
        g *= _scale(y_pred, sample_weight, y_pred.size / 2.0)
        return g

    # With a linear output a = z, dL/dz = dL/da: the "fused" delta is the gradient.
    def fused_delta(self, y_true, z, a, sample_weight=None):
        return self.gradient(y_true, a, sample_weight)

    def fused_per_sample(self, y_true, z, a):
        return self.per_sample(y_true, a)


class MeanAbsoluteError(Loss):
    """``l_i = (1/k) Σ_j |ŷ_ij - y_ij|`` and ``dL/dŷ = w_i sign(ŷ - y) / (n k)``."""

    name = "mae"

    def per_sample(self, y_true, y_pred):
        xp = array_module(y_pred)
        return xp.abs(y_pred - y_true).mean(axis=1)

    def gradient(self, y_true, y_pred, sample_weight=None):
        xp = array_module(y_pred)
        g = xp.subtract(y_pred, y_true)
        xp.sign(g, out=g)
        g *= _scale(y_pred, sample_weight, y_pred.size)
        return g


class _Crossentropy(Loss):
    """What the cross-entropies share: Keras's ``from_logits``.

    With ``from_logits=True`` the model's output is the logits z (a linear
    last layer) and the loss applies the output activation itself, in the
    fused, stable form: ``l`` from :meth:`fused_per_sample` and
    ``dL/dz`` from :meth:`fused_delta` with ``a = σ(z)`` — the very numbers
    of a softmax (or sigmoid) output layer with ``from_logits=False``.
    """

    #: the activation whose output are the probabilities ("sigmoid" or "softmax")
    output_activation = None

    def __init__(self, from_logits=False, label_smoothing=0.0, name=None,
                 reduction="sum_over_batch_size"):
        super().__init__(name, reduction)
        if label_smoothing:
            raise ValueError(f"label_smoothing={label_smoothing!r} is not supported: smooth the "
                             f"targets yourself (y * (1 - s) + s / classes) and pass those")
        self.from_logits = bool(from_logits)

    @property
    def fused_activation(self):
        return None if self.from_logits else self.output_activation

    def per_sample(self, y_true, y_pred):
        if self.from_logits:
            return self.fused_per_sample(y_true, y_pred, None)
        return self.per_sample_from_probabilities(y_true, y_pred)

    def gradient(self, y_true, y_pred, sample_weight=None):
        if self.from_logits:
            probabilities = activations.get(self.output_activation).forward(y_pred)
            return self.fused_delta(y_true, y_pred, probabilities, sample_weight)
        return self.gradient_from_probabilities(y_true, y_pred, sample_weight)

    def get_config(self):
        return {"from_logits": True} if self.from_logits else {}

    def __repr__(self):
        return f"{type(self).__name__}(from_logits={self.from_logits})"


class BinaryCrossentropy(_Crossentropy):
    """``l_i = -(1/k) Σ_j [y log ŷ + (1-y) log(1-ŷ)]`` for probabilities ŷ in [0, 1].

    ``dL/dŷ = w_i (ŷ - y) / (ŷ (1 - ŷ)) / (n k)``; fused with a sigmoid output:
    ``dL/dz = w_i (a - y) / (n k)``.
    """

    name = "binary_crossentropy"
    output_activation = "sigmoid"

    def per_sample_from_probabilities(self, y_true, y_pred):
        ll = y_true * _safe_log(y_pred) + (1 - y_true) * _safe_log(1 - y_pred)
        return -ll.mean(axis=1)

    def gradient_from_probabilities(self, y_true, y_pred, sample_weight=None):
        # ŷ(1-ŷ) is floored at 1e-12, as PyTorch does, so ŷ ∈ {0, 1} stays finite
        xp = array_module(y_pred)
        denom = xp.maximum(y_pred * (1 - y_pred), 1e-12)
        g = xp.subtract(y_pred, y_true)
        g /= denom
        g *= _scale(y_pred, sample_weight, y_pred.size)
        return g

    def fused_per_sample(self, y_true, z, a):
        # max(z, 0) - z·y + log(1 + e^(-|z|)): the same value, with no log of 0
        xp = array_module(z)
        ll = xp.maximum(z, 0) - z * y_true + xp.log1p(xp.exp(-xp.abs(z)))
        return ll.mean(axis=1)

    def fused_delta(self, y_true, z, a, sample_weight=None):
        xp = array_module(a)
        g = xp.subtract(a, y_true)
        g *= _scale(a, sample_weight, a.size)
        return g


class CategoricalCrossentropy(_Crossentropy):
    """``l_i = -Σ_k y_ik log ŷ_ik`` for one-hot (or any non-negative) targets.

    ``dL/dŷ = -w_i y / ŷ / n``; fused with a softmax output:
    ``dL/dz = w_i (a Σ_k y_k - y) / n``, which is ``(a - y)/n`` for one-hot rows.
    """

    name = "categorical_crossentropy"
    output_activation = "softmax"

    def per_sample_from_probabilities(self, y_true, y_pred):
        xp = array_module(y_pred)
        return -xp.einsum("ij,ij->i", y_true, _safe_log(y_pred))

    def gradient_from_probabilities(self, y_true, y_pred, sample_weight=None):
        xp = array_module(y_pred)
        g = xp.divide(y_true, xp.maximum(y_pred, np.finfo(y_pred.dtype).tiny))
        g *= -_scale(y_pred, sample_weight, y_pred.shape[0])
        return g

    def fused_per_sample(self, y_true, z, a):
        # -Σ_k y_k log a_k with log a_k = z_k - logsumexp(z)
        xp = array_module(z)
        return _logsumexp(z) * y_true.sum(axis=1) - xp.einsum("ij,ij->i", y_true, z)

    def fused_delta(self, y_true, z, a, sample_weight=None):
        xp = array_module(a)
        g = xp.multiply(a, y_true.sum(axis=1, keepdims=True))
        g -= y_true
        g *= _scale(a, sample_weight, a.shape[0])
        return g

    #: on a GPU (glassnet.cuda): :meth:`fused_per_sample` and :meth:`fused_delta` in one CUDA
    #: kernel, a thread per row (scale: w_i / n, or 1/n without weights)
    cuda_loss_and_delta = r"""
    extern "C" __global__ void loss_and_delta(const T* z, const T* a, const T* y, const T* w,
                                              T* loss, T* delta, long long n, long long k,
                                              T inv_n, int weighted) {
        long long i = (long long)blockDim.x * blockIdx.x + threadIdx.x;
        if (i >= n) return;
        const T* zi = z + i * k; const T* ai = a + i * k; const T* yi = y + i * k;
        T* di = delta + i * k;
        T m = zi[0];
        for (long long j = 1; j < k; ++j) m = (zi[j] > m || zi[j] != zi[j]) ? zi[j] : m;
        T total = 0, ysum = 0, yz = 0;
        for (long long j = 0; j < k; ++j) {
            total += exp(zi[j] - m); ysum += yi[j]; yz += yi[j] * zi[j];
        }
        loss[i] = (m + log(total)) * ysum - yz;       // logsumexp(z) Σ y - Σ y z
        T scale = weighted ? w[i] / (T)n : inv_n;
        for (long long j = 0; j < k; ++j) di[j] = (ai[j] * ysum - yi[j]) * scale;
    }"""


class SparseCategoricalCrossentropy(_Crossentropy):
    """Categorical cross-entropy with integer class labels ``y`` of shape (n,).

    ``l_i = -log ŷ_i,y_i``; fused with softmax: ``dL/dz = w_i (a - onehot(y)) / n``.
    """

    name = "sparse_categorical_crossentropy"
    output_activation = "softmax"
    sparse = True

    @staticmethod
    def _rows(y_true):
        return array_module(y_true).arange(y_true.shape[0])

    def per_sample_from_probabilities(self, y_true, y_pred):
        return -_safe_log(y_pred[self._rows(y_true), y_true])

    def gradient_from_probabilities(self, y_true, y_pred, sample_weight=None):
        xp = array_module(y_pred)
        g = xp.zeros_like(y_pred)
        rows = self._rows(y_true)
        picked = xp.maximum(y_pred[rows, y_true], np.finfo(y_pred.dtype).tiny)
        g[rows, y_true] = -1.0 / picked
        g *= _scale(y_pred, sample_weight, y_pred.shape[0])
        return g

    def fused_per_sample(self, y_true, z, a):
        return _logsumexp(z) - z[self._rows(y_true), y_true]        # -log a_y

    def fused_delta(self, y_true, z, a, sample_weight=None):
        g = a.copy()
        g[self._rows(y_true), y_true] -= 1
        g *= _scale(a, sample_weight, a.shape[0])
        return g

    #: on a GPU (glassnet.cuda): :meth:`fused_per_sample` and :meth:`fused_delta` in one CUDA
    #: kernel, a thread per row (scale: w_i / n, or 1/n without weights)
    cuda_loss_and_delta = r"""
    extern "C" __global__ void loss_and_delta(const T* z, const T* a, const long long* y,
                                              const T* w, T* loss, T* delta, long long n,
                                              long long k, T inv_n, int weighted) {
        long long i = (long long)blockDim.x * blockIdx.x + threadIdx.x;
        if (i >= n) return;
        const T* zi = z + i * k; const T* ai = a + i * k; T* di = delta + i * k;
        T m = zi[0];
        for (long long j = 1; j < k; ++j) m = (zi[j] > m || zi[j] != zi[j]) ? zi[j] : m;
        T total = 0;
        for (long long j = 0; j < k; ++j) total += exp(zi[j] - m);
        loss[i] = m + log(total) - zi[y[i]];           // logsumexp(z) - z_y = -log a_y
        T scale = weighted ? w[i] / (T)n : inv_n;
        for (long long j = 0; j < k; ++j) di[j] = (j == y[i] ? ai[j] - (T)1 : ai[j]) * scale;
    }"""


REGISTRY = Registry("loss", Loss,
                    {c.name: c for c in (MeanSquaredError, MeanAbsoluteError, BinaryCrossentropy,
                                         CategoricalCrossentropy, SparseCategoricalCrossentropy)},
                    aliases={"mean_squared_error": "mse", "mean_absolute_error": "mae",
                             "bce": "binary_crossentropy", "cce": "categorical_crossentropy",
                             "crossentropy": "categorical_crossentropy",
                             "cross_entropy": "categorical_crossentropy",
                             "sparse_crossentropy": "sparse_categorical_crossentropy"})
names = REGISTRY.names
serialize = REGISTRY.serialize


def get(identifier):
    """Return a :class:`Loss` for a name, an instance or a config dict.

    Raises
    ------
    ValueError
        For an unknown name, listing the valid ones.
    """
    if callable(identifier) and not isinstance(identifier, (Loss, type, str)):
        raise ValueError(
            f"the loss {getattr(identifier, '__name__', identifier)!r} is a function: glassnet "
            f"has no automatic differentiation, so a loss also says its gradient. Subclass "
            f"glassnet.losses.Loss with per_sample(y_true, y_pred) (one value per sample) and "
            f"gradient(y_true, y_pred, sample_weight) (dL/dŷ of the mean), and register it")
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()                               # Keras accepts the class too
    return REGISTRY.get(identifier, "a name or a Loss")
