"""Optimizers: how the gradient turns into a step on the weights.

All of a model's parameters live in one flat vector θ (each layer's W and b
are views into it, see :class:`glassnet.Sequential`), and so do their
gradients g = dL/dθ.  An optimizer therefore updates *every* weight of the
network with a handful of vectorised operations per step, in place.

Plain gradient descent is the rule every seed writes down:

    θ ← θ - α g                                        (α: learning rate)

The others keep a running memory of past gradients in vectors of the same
length as θ (their *state*, saved with the model so training resumes
exactly).  The updates follow PyTorch's ``torch.optim`` step for step,
including the order of floating-point operations, so the two agree to
rounding.

``weight_decay`` is *decoupled* (AdamW, Loshchilov & Hutter): before the
update the weights shrink by ``θ ← θ (1 - α λ)``, independent of the
gradient.  For an L2 penalty that enters the gradient instead, use a layer's
``kernel_regularizer``.

``learning_rate`` is a number or a schedule (:mod:`glassnet.optimizers.schedules`,
Keras's ``keras.optimizers.schedules``), evaluated before each step.

Writing your own optimizer
--------------------------
Subclass :class:`Optimizer`, name the state vectors it keeps in
``state_names`` and write the rule in :meth:`Optimizer.update_step`.  The
base class does the rest: :meth:`Optimizer.build` creates each state vector
(zeros, the length and dtype of θ) in ``self.state``, :meth:`Optimizer.step`
evaluates the learning rate, counts ``iterations`` and applies the decoupled
weight decay, and a saved model stores ``self.state`` by ``state_names`` with
``iterations``, so a loaded model trains on bit for bit as if it had never
stopped.  Lion (Chen et al. 2023, "Symbolic Discovery of Optimization
Algorithms") keeps one momentum vector m and steps by the *sign* of an
interpolation between it and the gradient::

    @gn.register
    class Lion(gn.optimizers.Optimizer):
        state_names = ("m",)

        def __init__(self, learning_rate=1e-4, beta_1=0.9, beta_2=0.99, weight_decay=0.0):
            super().__init__(learning_rate, weight_decay)
            self.beta_1, self.beta_2 = beta_1, beta_2

        def update_step(self, params, grads, lr, out):
            m = self.state["m"]
            c = self.beta_1 * m + (1 - self.beta_1) * grads      # c = β₁ m + (1 - β₁) g
            np.subtract(params, lr * np.sign(c), out=out)        # θ ← θ - α sign(c)
            m *= self.beta_2                                     # m ← β₂ m + (1 - β₂) g
            m += (1 - self.beta_2) * grads

        def get_config(self):
            return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}

``get_config`` returns the constructor's arguments, so that ``load_model``
can rebuild the optimizer (by the name it was registered under).
"""

from __future__ import annotations

import math

import numpy as np

from .._registry import Registry
from .._text import config_repr
from ..backend import array_module, to_module
from . import schedules
from .schedules import (SCHEDULES, CosineDecay, CosineDecayRestarts, ExponentialDecay,
                        InverseTimeDecay, LearningRateSchedule, PiecewiseConstantDecay,
                        PolynomialDecay, StepDecay)

__all__ = ["Optimizer", "SGD", "Adam", "RMSprop", "schedules", "LearningRateSchedule",
           "ExponentialDecay", "InverseTimeDecay", "PiecewiseConstantDecay", "PolynomialDecay",
           "CosineDecay", "CosineDecayRestarts", "StepDecay", "get", "names", "serialize"]


def _positive(name, value, owner):
    value = float(value)
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{owner} {name} must be a positive number, received {value!r}")
    return value


# ----------------------------------------------------------------------------------------
# optimizers
# ----------------------------------------------------------------------------------------

class Optimizer:
    """Base class of the optimizers: the learning rate, the state, the step.

    Parameters
    ----------
    learning_rate : float or LearningRateSchedule
        α, or a schedule giving α for each step.
    weight_decay : float, default 0
        Decoupled weight decay λ: ``θ ← θ (1 - α λ)`` before each update.

    Attributes
    ----------
    iterations : int
        Steps taken so far (saved with the model).  During
        :meth:`update_step` it already counts the step being taken (1 on
        the first), the t of Adam's bias corrections.
    state : dict of str to ndarray
        The state vectors named by ``state_names``, each the length of θ.
    scratch : tuple of two ndarray
        Two work vectors the length of θ that :meth:`update_step` may
        overwrite (no allocation per step).
    """

    name = "optimizer"
    #: names of the state vectors, each the length of θ (saved with the model)
    state_names = ()

    def __init__(self, learning_rate=0.01, weight_decay=0.0):
        self.learning_rate = learning_rate
        weight_decay = float(weight_decay)
        if not (math.isfinite(weight_decay) and weight_decay >= 0):
            raise ValueError(f"weight_decay must be >= 0, received {weight_decay!r}")
        self.weight_decay = weight_decay
        self.iterations = 0
        self.state = {}
        self.scratch = None

    @property
    def learning_rate(self):
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        if isinstance(value, dict):
            value = SCHEDULES.deserialize(value)
        if not isinstance(value, LearningRateSchedule):
            if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
                raise ValueError("learning_rate must be a number >= 0 or a "
                                 f"LearningRateSchedule, received {value!r}")
            value = float(value)
            if not (math.isfinite(value) and value >= 0):        # 0: a warm-up starts there
                raise ValueError(f"{type(self).__name__} learning_rate must be a number >= 0 "
                                 f"(or a LearningRateSchedule), received {value!r}")
        self._learning_rate = value

    def current_learning_rate(self):
        """α for the next step (a schedule is evaluated at ``iterations``)."""
        lr = self._learning_rate
        return float(lr(self.iterations)) if isinstance(lr, LearningRateSchedule) else lr

    def build(self, size, dtype, xp=np):
        """Create the state vectors of ``state_names`` (zeros of length ``size``) and ``scratch``.

        Vectors that already have the right length and dtype are kept (a
        loaded model's state survives); on another device (``xp``: numpy or
        cupy, the module of the weights) they are moved there.
        """
        dtype = np.dtype(dtype)
        for key in self.state_names:
            arr = self.state.get(key)
            if arr is None or arr.shape != (size,) or arr.dtype != dtype:
                self.state[key] = xp.zeros(size, dtype=dtype)
            elif array_module(arr) is not xp:
                self.state[key] = to_module(arr, xp)
        self.scratch = (xp.empty(size, dtype=dtype), xp.empty(size, dtype=dtype))

    def step(self, params, grads, out=None, kernels=None, guard=None):
        """One update of the flat parameter vector: ``θ_new = θ - α · direction``.

        Evaluates α, counts the step, shrinks θ by the decoupled weight decay,
        then calls :meth:`update_step`.  The new weights go into ``out``
        (``fit`` passes its spare buffer, see :class:`glassnet.trainer.Rollback`),
        or replace ``params`` in place.  ``kernels`` (glassnet[fast]) may do
        the whole update in one compiled pass, bit-identical to the NumPy
        expressions of :meth:`update_step`.  ``guard`` (a GPU's deferred loss
        check, :mod:`glassnet.cuda`) makes the kernel skip the update on the
        device once a loss was not finite.
        """
        if self.scratch is None or self.scratch[0].size != params.size \
                or type(self.scratch[0]) is not type(params) \
                or any(key not in self.state for key in self.state_names):
            self.build(params.size, params.dtype, array_module(params))
        out = params if out is None else out
        lr = self.current_learning_rate()
        self.iterations += 1
        decay = 1.0 - lr * self.weight_decay
        if kernels is not None and kernels.update(self, params, grads, out, lr, decay, guard):
            return
        if guard is not None:
            raise ValueError(f"{type(self).__name__} has no GPU kernel to guard; fit checks its "
                             f"loss every step instead")
        if self.weight_decay:                    # θ ← θ (1 - α λ), decoupled
            array_module(params).multiply(params, decay, out=out)
            params = out
        self.update_step(params, grads, lr, out)

    def update_step(self, params, grads, lr, out):  # pragma: no cover - abstract
        """The optimizer's rule: write the new weights into ``out``, update ``self.state``.

        Parameters
        ----------
        params : ndarray
            θ (already shrunk by the weight decay; may be ``out`` itself).
        grads : ndarray
            g = dL/dθ, the same length.
        lr : float
            α for this step.
        out : ndarray
            Where the new θ goes.
        """
        raise NotImplementedError(f"{type(self).__name__} must define update_step(params, "
                                  f"grads, lr, out)")

    def kernel_scalars(self, lr, decay):
        """The scalars :meth:`kernel` takes after the arrays (fast path only)."""
        raise NotImplementedError

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def get_config(self):
        """The constructor's arguments (a schedule as its config): what a saved model stores."""
        lr = self._learning_rate
        lr = SCHEDULES.serialize(lr) if isinstance(lr, LearningRateSchedule) else lr
        return {"learning_rate": lr, "weight_decay": self.weight_decay}

    def __repr__(self):
        return config_repr(self)


class SGD(Optimizer):
    """Stochastic gradient descent, with optional (Nesterov) momentum as in PyTorch.

    Without momentum: ``θ ← θ - α g``.  With momentum μ the step follows a
    velocity ``v`` that accumulates past gradients:

        v ← μ v + g
        θ ← θ - α v                (Nesterov: θ ← θ - α (g + μ v))
    """

    name = "sgd"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(learning_rate, weight_decay)
        momentum = float(momentum)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"SGD momentum must be in [0, 1), received {momentum!r}")
        if nesterov and momentum == 0:
            raise ValueError("SGD nesterov=True needs a momentum > 0")
        self.momentum = momentum
        self.nesterov = bool(nesterov)
        self.state_names = ("velocity",) if momentum else ()

    def update_step(self, params, grads, lr, out):
        xp = array_module(params)
        step, _ = self.scratch
        if self.momentum:
            v = self.state["velocity"]
            v *= self.momentum                   # v ← μ v + g
            v += grads
            if self.nesterov:                    # g + μ v
                xp.multiply(v, self.momentum, out=step)
                step += grads
                direction = step
            else:
                direction = v
            xp.multiply(direction, -lr, out=step)
        else:
            xp.multiply(grads, -lr, out=step)
        xp.add(params, step, out=out)            # θ ← θ - α · direction

    @staticmethod
    def kernel(params, grads, out, v, decay, mu, nesterov, neg_lr):
        """:meth:`update_step` after the weight decay, in one compiled pass (same operations)."""
        for i in range(params.size):
            g = grads[i]
            if mu != 0:
                vi = v[i] * mu + g
                v[i] = vi
                direction = vi * mu + g if nesterov else vi
            else:
                direction = g
            out[i] = params[i] * decay + direction * neg_lr

    def kernel_scalars(self, lr, decay):
        return decay, self.momentum, self.nesterov, -lr

    #: :meth:`kernel`'s loop body as one CUDA elementwise kernel (glassnet.cuda), and the
    #: state vectors it takes after ``out``
    kernel_state = ("velocity",)
    cuda_kernel = ("T params, T grads, T decay, T mu, bool nesterov, T neg_lr", "T out, T v", """
        T g = grads;
        T direction = g;
        if (mu != (T)0) {
            T vi = v * mu + g;
            v = vi;
            direction = nesterov ? vi * mu + g : vi;
        }
        out = params * decay + direction * neg_lr;""")

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam (Kingma & Ba), exactly as PyTorch computes it.

    With first and second moment estimates m and v of the gradient:

        m ← m + (1 - β₁)(g - m)                 (= β₁ m + (1 - β₁) g)
        v ← β₂ v + (1 - β₂) g²
        m̂ = m / (1 - β₁ᵗ),   v̂ = v / (1 - β₂ᵗ)    (bias corrections; t = step number)
        θ ← θ - α m̂ / (√v̂ + ε)

    ε is added *after* the square root, as in PyTorch.
    """

    name = "adam"
    state_names = ("m", "v")

    def __init__(self, learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-8,
                 weight_decay=0.0):
        super().__init__(learning_rate, weight_decay)
        for label, beta in (("beta_1", beta_1), ("beta_2", beta_2)):
            if not 0.0 <= float(beta) < 1.0:
                raise ValueError(f"Adam {label} must be in [0, 1), received {beta!r}")
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)
        self.epsilon = _positive("epsilon", epsilon, "Adam")

    def update_step(self, params, grads, lr, out):
        xp = array_module(params)
        m, v = self.state["m"], self.state["v"]
        tmp, step = self.scratch
        t = self.iterations
        xp.subtract(grads, m, out=tmp)           # m ← m + (1 - β₁)(g - m)
        tmp *= 1.0 - self.beta_1
        m += tmp
        v *= self.beta_2                         # v ← β₂ v + (1 - β₂) g²
        xp.multiply(grads, 1.0 - self.beta_2, out=tmp)
        tmp *= grads
        v += tmp
        bias_correction1 = 1.0 - self.beta_1 ** t
        bias_correction2_sqrt = math.sqrt(1.0 - self.beta_2 ** t)
        xp.sqrt(v, out=tmp)                      # √v̂ + ε = √v / √(1 - β₂ᵗ) + ε
        tmp /= bias_correction2_sqrt
        tmp += self.epsilon
        xp.multiply(m, -lr / bias_correction1, out=step)   # -α m̂ ...
        step /= tmp                                         # ... / (√v̂ + ε)
        xp.add(params, step, out=out)

    @staticmethod
    def kernel(params, grads, out, m, v, decay, b1c, b2, b2c, bc2_sqrt, eps, neg_step):
        """:meth:`update_step` after the weight decay, in one compiled pass (same operations)."""
        for i in range(params.size):
            g = grads[i]
            mi = m[i] + (g - m[i]) * b1c
            m[i] = mi
            vi = v[i] * b2 + g * b2c * g
            v[i] = vi
            out[i] = params[i] * decay + mi * neg_step / (np.sqrt(vi) / bc2_sqrt + eps)

    def kernel_scalars(self, lr, decay):
        t = self.iterations
        return (decay, 1.0 - self.beta_1, self.beta_2, 1.0 - self.beta_2,
                math.sqrt(1.0 - self.beta_2 ** t), self.epsilon, -lr / (1.0 - self.beta_1 ** t))

    #: :meth:`kernel`'s loop body as one CUDA elementwise kernel (glassnet.cuda), and the
    #: state vectors it takes after ``out``
    kernel_state = ("m", "v")
    cuda_kernel = ("T params, T grads, T decay, T b1c, T b2, T b2c, T bc2_sqrt, T eps, "
                   "T neg_step", "T out, T m, T v", """
        T g = grads;
        T mi = m + (g - m) * b1c;
        m = mi;
        T vi = v * b2 + g * b2c * g;
        v = vi;
        out = params * decay + mi * neg_step / (sqrt(vi) / bc2_sqrt + eps);""")

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}


class RMSprop(Optimizer):
    """RMSprop (Hinton), as PyTorch computes it: divide by a running RMS of the gradient.

        s ← ρ s + (1 - ρ) g²
        θ ← θ - α g / (√s + ε)

    With ``momentum`` μ: ``b ← μ b + g / (√s + ε)`` and ``θ ← θ - α b``.
    """

    name = "rmsprop"

    def __init__(self, learning_rate=1e-3, rho=0.9, epsilon=1e-8, momentum=0.0,
                 weight_decay=0.0):
        super().__init__(learning_rate, weight_decay)
        if not 0.0 <= float(rho) < 1.0:
            raise ValueError(f"RMSprop rho must be in [0, 1), received {rho!r}")
        if not 0.0 <= float(momentum) < 1.0:
            raise ValueError(f"RMSprop momentum must be in [0, 1), received {momentum!r}")
        self.rho, self.momentum = float(rho), float(momentum)
        self.epsilon = _positive("epsilon", epsilon, "RMSprop")
        self.state_names = ("square_avg", "momentum_buffer") if self.momentum else ("square_avg",)

    def update_step(self, params, grads, lr, out):
        xp = array_module(params)
        s = self.state["square_avg"]
        tmp, step = self.scratch
        s *= self.rho                             # s ← ρ s + (1 - ρ) g²
        xp.multiply(grads, 1.0 - self.rho, out=tmp)
        tmp *= grads
        s += tmp
        xp.sqrt(s, out=tmp)                       # √s + ε
        tmp += self.epsilon
        if self.momentum:
            b = self.state["momentum_buffer"]
            b *= self.momentum
            xp.divide(grads, tmp, out=step)
            b += step
            xp.multiply(b, -lr, out=step)
        else:
            xp.multiply(grads, -lr, out=step)
            step /= tmp
        xp.add(params, step, out=out)

    @staticmethod
    def kernel(params, grads, out, s, b, decay, rho, rc, eps, mu, neg_lr):
        """:meth:`update_step` after the weight decay, in one compiled pass (same operations)."""
        for i in range(params.size):
            g = grads[i]
            si = s[i] * rho + g * rc * g
            s[i] = si
            denom = np.sqrt(si) + eps
            if mu != 0:
                bi = b[i] * mu + g / denom
                b[i] = bi
                change = bi * neg_lr
            else:
                change = g * neg_lr / denom
            out[i] = params[i] * decay + change

    def kernel_scalars(self, lr, decay):
        return decay, self.rho, 1.0 - self.rho, self.epsilon, self.momentum, -lr

    #: :meth:`kernel`'s loop body as one CUDA elementwise kernel (glassnet.cuda), and the
    #: state vectors it takes after ``out``
    kernel_state = ("square_avg", "momentum_buffer")
    cuda_kernel = ("T params, T grads, T decay, T rho, T rc, T eps, T mu, T neg_lr",
                   "T out, T s, T b", """
        T g = grads;
        T si = s * rho + g * rc * g;
        s = si;
        T denom = sqrt(si) + eps;
        T change;
        if (mu != (T)0) {
            T bi = b * mu + g / denom;
            b = bi;
            change = bi * neg_lr;
        } else {
            change = g * neg_lr / denom;
        }
        out = params * decay + change;""")

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon,
                "momentum": self.momentum}


class AdamW(Adam):
    """Adam with decoupled weight decay (Keras's ``AdamW``: ``weight_decay=0.004`` by default).

    The same class as ``Adam(weight_decay=...)``; the decay ``θ ← θ - α λ θ`` is applied
    apart from the gradient, as ``torch.optim.AdamW`` does.
    """

    name = "adamw"

    def __init__(self, learning_rate=1e-3, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-8):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, weight_decay)


REGISTRY = Registry("optimizer", Optimizer, {c.name: c for c in (SGD, Adam, AdamW, RMSprop)},
                    aliases={"gd": "sgd"})
names = REGISTRY.names
serialize = REGISTRY.serialize


def get(identifier):
    """Return an :class:`Optimizer` for a name (with defaults), an instance or a config dict."""
    return REGISTRY.get(identifier, "a name or an Optimizer")
