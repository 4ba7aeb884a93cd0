"""Activation functions, each with its derivative beside it.

A neuron first forms the weighted sum ``z = x·W + b`` (see :mod:`glassnet.layers`)
and then "fires" ``a = σ(z)``.  The non-linearity σ is what lets a stack of
layers approximate functions a single linear map cannot (XOR, for one).

Every activation below has two methods that sit side by side, so the chain
rule is visible:

``forward(z, out=None)``
    ``a = σ(z)``, elementwise (softmax: row by row).
``backward(z, a, grad_a, out=None)``
    ``dL/dz = dL/da · σ'(z)``: given the gradient of the loss with respect to the
    activation, return the gradient with respect to the weighted sum.

Shapes are ``(n_samples, units)`` throughout.  ``out`` lets the training loop
reuse preallocated buffers; ``out`` may be ``z`` itself (computing in place)
for every activation whose derivative can be written from ``a`` alone
(``needs_z = False``), which saves one buffer per layer.
"""

from __future__ import annotations

import numpy as np

from ._registry import Registry, serialize

__all__ = [
    "Activation", "Linear", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "ELU",
    "Softplus", "Swish", "Softmax", "Step", "get", "names", "serialize",
]


class Activation:
    """Base class: ``a = σ(z)`` and ``dL/dz = dL/da · σ'(z)``."""

    #: canonical name, used by :func:`get` and when saving a model
    name = "activation"
    #: True when ``backward`` needs the pre-activation ``z`` (not just ``a``)
    needs_z = False
    #: False for functions whose gradient is zero almost everywhere (step)
    trainable = True

    def forward(self, z, out=None):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, z, a, grad_a, out=None):  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, z):
        return self.forward(np.asarray(z))

    def get_config(self):
        """Constructor arguments, for saving (empty unless the function has any)."""
        return {}

    def __eq__(self, other):
        return type(self) is type(other) and self.get_config() == other.get_config()

    def __hash__(self):
        return hash((type(self), tuple(sorted(self.get_config().items()))))

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Linear(Activation):
    """Identity: ``a = z``, ``σ'(z) = 1``.  The output of a regression network."""

    name = "linear"

    def forward(self, z, out=None):
        if out is None or out is z:
            return z
        np.copyto(out, z)
        return out

    def backward(self, z, a, grad_a, out=None):
        if out is None or out is grad_a:
            return grad_a
        np.copyto(out, grad_a)
        return out


class Sigmoid(Activation):
    """Logistic function ``a = 1 / (1 + e^(-z))`` with ``σ'(z) = a (1 - a)``.

    Stable form: ``e^(-z)`` overflows for very negative z, so we only ever
    exponentiate ``-|z| ≤ 0``: with ``e = e^(-|z|)``, ``σ(z) = 1 / (1 + e)`` for
    z ≥ 0 and ``e / (1 + e)`` for z < 0 (multiply top and bottom by ``e^z``).
    """

    name = "sigmoid"

    def forward(self, z, out=None):
        e = np.abs(z)
        np.negative(e, out=e)
        np.exp(e, out=e)                         # e = e^(-|z|) ∈ (0, 1]: no overflow
        a = np.add(e, 1.0, out=out)
        np.divide(1.0, a, out=a)                 # 1 / (1 + e): σ(z) for z ≥ 0
        np.multiply(a, e, out=a, where=z < 0)    # e / (1 + e): σ(z) for z < 0
        return a

    def backward(self, z, a, grad_a, out=None):
        # σ'(z) = σ(z) (1 - σ(z)) = a (1 - a)
        d = np.subtract(1.0, a, dtype=a.dtype)
        d *= a
        return np.multiply(grad_a, d, out=out)


class Tanh(Activation):
    """Hyperbolic tangent ``a = tanh(z)`` with ``σ'(z) = 1 - a²``."""

    name = "tanh"

    def forward(self, z, out=None):
        return np.tanh(z, out=out)

    def backward(self, z, a, grad_a, out=None):
        d = np.square(a)
        np.subtract(1.0, d, out=d)
        return np.multiply(grad_a, d, out=out)


class ReLU(Activation):
    """Rectified linear unit ``a = max(z, 0)`` with ``σ'(z) = 1 if z > 0 else 0``.

    At z = 0 we take the derivative to be 0, as PyTorch does.  Since ``a > 0``
    exactly when ``z > 0``, the derivative can be read from ``a``.
    """

    name = "relu"

    def forward(self, z, out=None):
        return np.maximum(z, 0, out=out)

    def backward(self, z, a, grad_a, out=None):
        return np.multiply(grad_a, a > 0, out=out)


class LeakyReLU(Activation):
    """``a = z if z > 0 else slope·z`` with ``σ'(z) = 1 if z > 0 else slope``.

    Parameters
    ----------
    negative_slope : float, default 0.01
        Slope for z ≤ 0 (PyTorch's default).  Must be positive so that the
        sign of ``a`` tells the sign of ``z``.
    """

    name = "leaky_relu"

    def __init__(self, negative_slope=0.01):
        negative_slope = float(negative_slope)
        if not (0.0 < negative_slope < 1.0):
            raise ValueError(
                f"LeakyReLU negative_slope must be in (0, 1), received {negative_slope!r}")
        self.negative_slope = negative_slope

    def forward(self, z, out=None):
        # for 0 < slope < 1, max(z, slope·z) is z for z > 0 and slope·z otherwise
        scaled = np.multiply(z, self.negative_slope, dtype=z.dtype)
        return np.maximum(z, scaled, out=out)

    def backward(self, z, a, grad_a, out=None):
        d = np.where(a > 0, 1.0, self.negative_slope).astype(grad_a.dtype, copy=False)
        return np.multiply(grad_a, d, out=out)

    def get_config(self):
        return {"negative_slope": self.negative_slope}


class ELU(Activation):
    """Exponential linear unit ``a = z if z > 0 else α(e^z - 1)``.

    ``σ'(z) = 1 if z > 0 else α e^z = a + α``, so again ``a`` suffices.
    ``expm1`` is accurate for small z, and ``min(z, 0)`` keeps ``e^z`` from
    overflowing on the positive side that ``where`` discards anyway.
    """

    name = "elu"

    def __init__(self, alpha=1.0):
        alpha = float(alpha)
        if not alpha > 0:
            raise ValueError(f"ELU alpha must be positive, received {alpha!r}")
        self.alpha = alpha

    def forward(self, z, out=None):
        negative = np.expm1(np.minimum(z, 0))
        negative *= self.alpha
        return np.where(z > 0, z, negative) if out is None else _where_into(z > 0, z, negative, out)

    def backward(self, z, a, grad_a, out=None):
        d = np.add(a, self.alpha, dtype=a.dtype)
        np.copyto(d, 1.0, where=a > 0)
        return np.multiply(grad_a, d, out=out)

    def get_config(self):
        return {"alpha": self.alpha}


class Softplus(Activation):
    """Smooth ReLU ``a = log(1 + e^z)`` with ``σ'(z) = sigmoid(z)``.

    Stable form: ``log(1 + e^z) = max(z, 0) + log1p(e^(-|z|))``.  The derivative
    from ``a``: ``e^(-a) = 1 / (1 + e^z) = 1 - sigmoid(z)``, so
    ``σ'(z) = 1 - e^(-a) = -expm1(-a)``.
    """

    name = "softplus"

    def forward(self, z, out=None):
        soft = np.log1p(np.exp(-np.abs(z)))
        return np.add(np.maximum(z, 0), soft, out=out)

    def backward(self, z, a, grad_a, out=None):
        d = np.expm1(np.negative(a))
        np.negative(d, out=d)
        return np.multiply(grad_a, d, out=out)


class Swish(Activation):
    """Swish / SiLU ``a = z · sigmoid(z)``.

    ``σ'(z) = s + z s (1 - s) = s + a (1 - s)`` with ``s = sigmoid(z)``: this one
    needs ``z`` to recover ``s``.
    """

    name = "swish"
    needs_z = True

    def forward(self, z, out=None):
        s = _SIGMOID.forward(z)
        return np.multiply(z, s, out=out)

    def backward(self, z, a, grad_a, out=None):
        s = _SIGMOID.forward(z)
        d = np.subtract(1.0, s, dtype=s.dtype)
        d *= a
        d += s
        return np.multiply(grad_a, d, out=out)


class Softmax(Activation):
    """Softmax over each row: ``a_k = e^(z_k) / Σ_j e^(z_j)``.

    Shifting every z of a row by the row maximum leaves the result unchanged
    (the factor ``e^(-max)`` cancels) and keeps every exponent ≤ 0, so nothing
    overflows.

    Its Jacobian is ``∂a_k/∂z_j = a_k (δ_kj - a_j)``, so
    ``dL/dz = a ⊙ (dL/da - Σ_j dL/da_j · a_j)``.  With categorical
    cross-entropy this collapses to ``a - y``; the model uses that fused form
    (see :mod:`glassnet.losses`).
    """

    name = "softmax"

    def forward(self, z, out=None):
        shifted = np.subtract(z, np.maximum.reduce(z, axis=-1, keepdims=True), out=out)
        np.exp(shifted, out=shifted)
        shifted /= np.add.reduce(shifted, axis=-1, keepdims=True)
        return shifted

    def backward(self, z, a, grad_a, out=None):
        inner = np.einsum("ij,ij->i", grad_a, a)[:, None]
        d = np.subtract(grad_a, inner, out=out)
        d *= a
        return d


class Step(Activation):
    """Heaviside step ``a = 1 if z > 0 else 0``: the classic perceptron.

    Useful for hand-built inference networks (seed 001's 2×2 line detector).
    Its derivative is 0 wherever it exists, so gradient descent cannot train
    through it: :meth:`backward` raises.
    """

    name = "step"
    trainable = False

    def forward(self, z, out=None):
        if out is None:
            return (z > 0).astype(z.dtype)
        return np.greater(z, 0, out=out)

    def backward(self, z, a, grad_a, out=None):
        raise TypeError(
            "the 'step' activation cannot be trained: its derivative is 0 everywhere "
            "except at 0, where it is undefined, so backpropagation has no signal. "
            "Use it for inference with hand-set weights, or train with 'sigmoid' "
            "and swap in 'step' afterwards.")


def _where_into(cond, x, y, out):
    np.copyto(out, y)
    np.copyto(out, x, where=cond)
    return out


_SIGMOID = Sigmoid()

REGISTRY = Registry("activation", (Linear, Sigmoid, Tanh, ReLU, LeakyReLU, ELU, Softplus,
                                   Swish, Softmax, Step),
                    aliases={"identity": "linear", "none": "linear", "logistic": "sigmoid",
                             "silu": "swish", "leakyrelu": "leaky_relu", "heaviside": "step"},
                    base=Activation)
names = REGISTRY.names


def get(identifier):
    """Return an :class:`Activation` for a name, an instance, a config dict or None.

    Parameters
    ----------
    identifier : str, Activation, dict or None
        ``None`` means linear.  Names are case-insensitive; ``names()`` lists them.

    Raises
    ------
    ValueError
        For an unknown name, listing the valid ones.
    """
    if identifier is None:
        return Linear()
    return REGISTRY.get(identifier, "a name, an Activation or None")
