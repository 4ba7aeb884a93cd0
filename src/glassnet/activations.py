"""Activation functions, each with its derivative beside it.

A neuron first forms the weighted sum ``z = x·W + b`` (see :mod:`glassnet.layers`)
and then "fires" ``a = σ(z)``.  The non-linearity σ is what lets a stack of
layers approximate functions a single linear map cannot (XOR, for one).

Every activation below has two methods that sit side by side, so the chain
rule is visible:

``forward(z, steps=None)``
    ``a = σ(z)``, elementwise (softmax: row by row).  An activation computed
    in several named steps (softmax) records them in the dict ``steps`` when
    one is given (label → (formula, value)), so that ``model.trace`` shows
    what the real pass computed.
``backward(z, a, grad_a)``
    ``dL/dz = dL/da · σ'(z)``: given the gradient of the loss with respect to the
    activation, return the gradient with respect to the weighted sum.

Shapes are ``(n_samples, units)`` throughout.  A third method,
``to_onnx(graph, z)``, writes the same function as ONNX operators
(:mod:`glassnet.export`).  Your own activation: subclass :class:`Activation`,
give it a ``name`` and these methods, and :func:`glassnet.register` it.
"""

from __future__ import annotations

import numpy as np

from ._registry import Registry
from .backend import array_module
from ._text import config_repr

__all__ = [
    "Activation", "Linear", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "ELU",
    "Softplus", "Swish", "Softmax", "Step", "get", "names", "serialize",
    "linear", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "swish", "silu",
    "softmax", "step",
]


class Activation:
    """Base class: ``a = σ(z)`` and ``dL/dz = dL/da · σ'(z)``."""

    #: canonical name, used by :func:`get` and when saving a model
    name = "activation"
    #: True when ``backward`` needs the pre-activation ``z`` (not just ``a``)
    needs_z = False
    #: False for functions whose gradient is zero almost everywhere (step)
    trainable = True
    #: on a GPU (glassnet.cuda): ``z += b; a = σ(z)`` as the body of one CUDA elementwise
    #: kernel (names: z, b, a, and c from :meth:`kernel_constant`), or None: no fused kernel
    cuda_bias_forward = None
    #: on a GPU: ``δ = dL/da ⊙ σ'`` as one CUDA elementwise kernel (a, grad_a, delta, c), or None
    cuda_backward = None

    def forward(self, z, steps=None):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, z, a, grad_a):  # pragma: no cover - abstract
        raise NotImplementedError

    def to_onnx(self, graph, z):
        """The same function as ONNX operators on the tensor named ``z``; returns the output's name."""
        raise ValueError(f"the activation {self.name!r} has no ONNX form; give its class a "
                         f"to_onnx(graph, z) method")

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
        return config_repr(self)


class Linear(Activation):
    """Identity: ``a = z``, ``σ'(z) = 1``.  The output of a regression network."""

    name = "linear"

    def forward(self, z, steps=None):
        return z

    def backward(self, z, a, grad_a):
        return grad_a

    def to_onnx(self, graph, z):
        return z


class Sigmoid(Activation):
    """Logistic function ``a = 1 / (1 + e^(-z))`` with ``σ'(z) = a (1 - a)``.

    Stable form: ``e^(-z)`` overflows for very negative z, so we write
    ``σ(z) = e^(-log(1 + e^(-z))) = e^(-logaddexp(0, -z))``: NumPy's
    ``logaddexp(u, v) = log(e^u + e^v)`` never exponentiates anything above
    0, and the outer exponent is ≤ 0, so nothing overflows for any z.
    """

    name = "sigmoid"

    def forward(self, z, steps=None):
        xp = array_module(z)
        t = xp.negative(z)
        xp.logaddexp(0, t, out=t)                # log(1 + e^(-z)), no overflow
        xp.negative(t, out=t)
        xp.exp(t, out=t)                         # σ(z) = e^(-log(1 + e^(-z)))
        return t

    def backward(self, z, a, grad_a):
        # σ'(z) = σ(z) (1 - σ(z)) = a (1 - a)
        xp = array_module(a)
        d = xp.subtract(1.0, a, dtype=a.dtype)
        d *= a
        d *= grad_a
        return d

    # the GPU's fused twins of the lines above (glassnet.cuda)
    cuda_bias_forward = "z = z + b; a = exp(-log1p(exp(-z)))"
    cuda_backward = "delta = ((T)1 - a) * a * grad_a"

    def to_onnx(self, graph, z):
        return graph.op("Sigmoid", [z])


class Tanh(Activation):
    """Hyperbolic tangent ``a = tanh(z)`` with ``σ'(z) = 1 - a²``."""

    name = "tanh"

    def forward(self, z, steps=None):
        xp = array_module(z)
        return xp.tanh(z)

    def backward(self, z, a, grad_a):
        xp = array_module(a)
        d = xp.square(a)
        xp.subtract(1.0, d, out=d)
        d *= grad_a
        return d

    # the GPU's fused twins of the lines above (glassnet.cuda)
    cuda_bias_forward = "z = z + b; a = tanh(z)"
    cuda_backward = "delta = ((T)1 - a * a) * grad_a"

    def to_onnx(self, graph, z):
        return graph.op("Tanh", [z])


class ReLU(Activation):
    """Rectified linear unit ``a = max(z, 0)`` with ``σ'(z) = 1 if z > 0 else 0``.

    At z = 0 we take the derivative to be 0, as PyTorch does.  Since ``a > 0``
    exactly when ``z > 0``, the derivative can be read from ``a``.
    """

    name = "relu"

    def forward(self, z, steps=None):
        xp = array_module(z)
        return xp.maximum(z, 0)

    def backward(self, z, a, grad_a):
        xp = array_module(a)
        return xp.multiply(grad_a, a > 0)

    def to_onnx(self, graph, z):
        return graph.op("Relu", [z])

    # -- the fused twins of forward/backward (compiled by glassnet[fast], see fast.py) ----
    @staticmethod
    def bias_forward_kernel(z, b, a, c):
        """``z += b`` then ``a = max(z, 0)`` in one pass (c = 0 in z's dtype).

        As ``np.maximum``: NaN stays NaN and max(-0, 0) is +0.
        """
        for i in range(z.shape[0]):
            for j in range(z.shape[1]):
                v = z[i, j] + b[j]
                z[i, j] = v
                a[i, j] = v if v > c or v != v else c

    @staticmethod
    def backward_bias_kernel(a, grad_a, delta, db, one, c):
        """``δ = dL/da ⊙ (a > 0)`` and ``dL/db = Σ_i δ_i`` in one pass.

        The sum starts at +0 and adds the rows in order, as ``np.add.reduce(δ, axis=0)``.
        """
        db[:] = 0
        for i in range(a.shape[0]):
            for j in range(a.shape[1]):
                d = grad_a[i, j] * (one if a[i, j] > 0 else c)
                delta[i, j] = d
                db[j] += d

    def kernel_constant(self, dtype):
        return dtype.type(0)

    # the same two fused steps on a GPU, as CUDA elementwise kernels (glassnet.cuda)
    cuda_bias_forward = "z = z + b; a = (z > c || z != z) ? z : c"
    cuda_backward = "delta = grad_a * (a > (T)0 ? (T)1 : c)"


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

    def forward(self, z, steps=None):
        # for 0 < slope < 1, max(z, slope·z) is z for z > 0 and slope·z otherwise
        xp = array_module(z)
        scaled = xp.multiply(z, self.negative_slope, dtype=z.dtype)
        return xp.maximum(z, scaled, out=scaled)

    def backward(self, z, a, grad_a):
        xp = array_module(a)
        d = xp.where(a > 0, 1.0, self.negative_slope).astype(grad_a.dtype, copy=False)
        d *= grad_a
        return d

    def to_onnx(self, graph, z):
        # spelled out (Max(z, slope·z)): ONNX Runtime has no float64 LeakyRelu kernel
        return graph.op("Max", [z, graph.op("Mul", [z, graph.const(self.negative_slope,
                                                                    "slope")])])

    @staticmethod
    def bias_forward_kernel(z, b, a, c):
        """``z += b`` then ``a = max(z, c·z)`` in one pass (c = the slope), as ``np.maximum``."""
        for i in range(z.shape[0]):
            for j in range(z.shape[1]):
                v = z[i, j] + b[j]
                z[i, j] = v
                scaled = v * c
                a[i, j] = v if v > scaled or v != v else scaled

    @staticmethod
    def backward_bias_kernel(a, grad_a, delta, db, one, c):
        """``δ = where(a > 0, 1, c) ⊙ dL/da`` and ``dL/db = Σ_i δ_i`` in one pass (as ReLU's)."""
        db[:] = 0
        for i in range(a.shape[0]):
            for j in range(a.shape[1]):
                d = (one if a[i, j] > 0 else c) * grad_a[i, j]
                delta[i, j] = d
                db[j] += d

    def kernel_constant(self, dtype):
        return dtype.type(self.negative_slope)

    # the same two fused steps on a GPU, as CUDA elementwise kernels (glassnet.cuda)
    cuda_bias_forward = "z = z + b; T scaled = z * c; a = (z > scaled || z != z) ? z : scaled"
    cuda_backward = "delta = (a > (T)0 ? (T)1 : c) * grad_a"

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

    def forward(self, z, steps=None):
        xp = array_module(z)
        negative = xp.expm1(xp.minimum(z, 0))
        negative *= self.alpha
        return xp.where(z > 0, z, negative)

    def backward(self, z, a, grad_a):
        xp = array_module(a)
        d = xp.add(a, self.alpha, dtype=a.dtype)
        xp.copyto(d, 1.0, where=a > 0)
        d *= grad_a
        return d

    def to_onnx(self, graph, z):
        # Where(z > 0, z, α(e^min(z, 0) - 1)), with basic operators (no float64 Elu kernel)
        zero = graph.const(0.0, "zero")
        negative = graph.op("Mul", [graph.const(self.alpha, "alpha"), graph.op(
            "Sub", [graph.op("Exp", [graph.op("Min", [z, zero])]), graph.const(1.0, "one")])])
        return graph.op("Where", [graph.op("Greater", [z, zero]), z, negative])

    def get_config(self):
        return {"alpha": self.alpha}


class Softplus(Activation):
    """Smooth ReLU ``a = log(1 + e^z)`` with ``σ'(z) = sigmoid(z)``.

    Stable form: ``log(1 + e^z) = max(z, 0) + log1p(e^(-|z|))``.  The derivative
    from ``a``: ``e^(-a) = 1 / (1 + e^z) = 1 - sigmoid(z)``, so
    ``σ'(z) = 1 - e^(-a) = -expm1(-a)``.
    """

    name = "softplus"

    def forward(self, z, steps=None):
        xp = array_module(z)
        soft = xp.log1p(xp.exp(-xp.abs(z)))
        soft += xp.maximum(z, 0)
        return soft

    def backward(self, z, a, grad_a):
        xp = array_module(a)
        d = xp.expm1(xp.negative(a))
        xp.negative(d, out=d)
        d *= grad_a
        return d

    def to_onnx(self, graph, z):
        # max(z, 0) + log(1 + e^(-|z|)), the stable form above
        soft = graph.op("Log", [graph.op("Add", [graph.const(1.0, "one"), graph.op(
            "Exp", [graph.op("Neg", [graph.op("Abs", [z])])])])])
        return graph.op("Add", [graph.op("Max", [z, graph.const(0.0, "zero")]), soft])


class Swish(Activation):
    """Swish / SiLU ``a = z · sigmoid(z)``.

    ``σ'(z) = s + z s (1 - s) = s + a (1 - s)`` with ``s = sigmoid(z)``: this one
    needs ``z`` to recover ``s``.
    """

    name = "swish"
    needs_z = True

    def forward(self, z, steps=None):
        xp = array_module(z)
        return xp.multiply(z, _SIGMOID.forward(z))

    def backward(self, z, a, grad_a):
        xp = array_module(z)
        s = _SIGMOID.forward(z)
        d = xp.subtract(1.0, s, dtype=s.dtype)
        d *= a
        d += s
        d *= grad_a
        return d

    def to_onnx(self, graph, z):
        return graph.op("Mul", [z, graph.op("Sigmoid", [z])])


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

    def forward(self, z, steps=None):
        xp = array_module(z)
        shifted = xp.subtract(z, z.max(axis=-1, keepdims=True))
        exp = xp.exp(shifted)
        total = exp.sum(axis=-1, keepdims=True)
        if steps is not None:                   # what model.trace shows, step by step
            steps.update({"z-max": ("shift by the row maximum (no overflow)", shifted),
                          "exp": ("e^(z - max)", exp), "sum": ("Σ_k e^(z_k - max)", total)})
        return exp / total

    def backward(self, z, a, grad_a):
        xp = array_module(a)
        inner = xp.einsum("ij,ij->i", grad_a, a)[:, None]
        d = xp.subtract(grad_a, inner)
        d *= a
        return d

    #: on a GPU: ``z += b`` and the softmax of each row in one CUDA kernel, a thread per row,
    #: in the order of :meth:`forward` (the row maximum, e^(z - max), their sum, the quotient)
    cuda_bias_softmax = r"""
    extern "C" __global__ void bias_softmax(T* z, const T* b, T* a, long long n, long long k) {
        long long i = (long long)blockDim.x * blockIdx.x + threadIdx.x;
        if (i >= n) return;
        T* zi = z + i * k;
        T* ai = a + i * k;
        T m = zi[0] + b[0];
        for (long long j = 0; j < k; ++j) {
            T v = zi[j] + b[j];
            zi[j] = v;
            m = (v > m || v != v) ? v : m;
        }
        T total = 0;
        for (long long j = 0; j < k; ++j) {
            ai[j] = exp(zi[j] - m);
            total += ai[j];
        }
        for (long long j = 0; j < k; ++j) ai[j] = ai[j] / total;
    }"""

    def to_onnx(self, graph, z):
        return graph.op("Softmax", [z], axis=-1)


class Step(Activation):
    """Heaviside step ``a = 1 if z > 0 else 0``: the classic perceptron.

    Useful for hand-built inference networks (the 2×2 line detector of the
    seed documents).  Its derivative is 0 wherever it exists, so gradient
    descent cannot train through it: :meth:`backward` raises.
    """

    name = "step"
    trainable = False

    def forward(self, z, steps=None):
        return (z > 0).astype(z.dtype)

    def backward(self, z, a, grad_a):
        raise TypeError(
            "the 'step' activation cannot be trained: its derivative is 0 everywhere "
            "except at 0, where it is undefined, so backpropagation has no signal. "
            "Use it for inference with hand-set weights, or train with 'sigmoid' "
            "and swap in 'step' afterwards.")

    def to_onnx(self, graph, z):
        return graph.op("Cast", [graph.op("Greater", [z, graph.const(0.0, "zero")])],
                        to=graph.elem_type)


_SIGMOID = Sigmoid()

REGISTRY = Registry("activation", Activation,
                    {c.name: c for c in (Linear, Sigmoid, Tanh, ReLU, LeakyReLU, ELU, Softplus,
                                         Swish, Softmax, Step)},
                    aliases={"identity": "linear", "none": "linear", "logistic": "sigmoid",
                             "silu": "swish", "leakyrelu": "leaky_relu", "heaviside": "step"})
names = REGISTRY.names
serialize = REGISTRY.serialize


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
    if callable(identifier) and getattr(identifier, "activation", None) is not None:
        return identifier.activation            # gn.activations.relu and friends
    return REGISTRY.get(identifier, "a name, an Activation or None")


# Keras-style functions: ``gn.activations.relu(x)`` on an array, or ``activation=relu``.
def _function(activation):
    def apply(x):
        return activation.forward(np.asarray(x, dtype=np.result_type(np.asarray(x), np.float32)))
    apply.__name__ = apply.__qualname__ = activation.name
    apply.__doc__ = f"{type(activation).__name__} applied to an array: {type(activation).__doc__.splitlines()[0]}"
    apply.activation = activation
    return apply


linear, sigmoid, tanh, relu, leaky_relu, elu, softplus, swish, softmax, step = (
    _function(cls()) for cls in (Linear, Sigmoid, Tanh, ReLU, LeakyReLU, ELU, Softplus, Swish,
                                 Softmax, Step))
silu = swish
