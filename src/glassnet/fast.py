"""glassnet[fast]: the hot loops of training, fused and compiled with numba.

The readable NumPy expressions stay the reference.  Next to some of them sits
a plain-Python loop that does the same operations, in the same order, in one
pass over memory (``kernel`` methods of the optimizers, ``bias_forward_kernel``
and ``backward_bias_kernel`` of ReLU and LeakyReLU).  This module compiles
those loops with numba and hands them to a model; they are bit-identical to
the NumPy path (``tests/test_fast.py`` trains both ways and compares every
weight), only faster:

=================================  ============================================
optimizer update (SGD, momentum,   one pass instead of 3–13 NumPy passes
Nesterov, Adam, AdamW, RMSprop)
bias + ReLU / LeakyReLU forward    ``z += b`` and ``a = σ(z)`` in one pass
ReLU / LeakyReLU backward + dL/db  ``δ`` and ``Σ_i δ_i`` in one pass
=================================  ============================================

Everything else (matrix products, softmax, tanh, sigmoid: their NumPy
implementations round differently from a compiled loop) stays NumPy.

How a model chooses: ``Sequential(fast=None)`` (the default) uses the kernels
in ``fit`` when numba is installed and the model is big enough to gain
(``FAST_MIN_PARAMS`` weights or more): importing numba costs about 0.7 s, so
small models and short runs stay on NumPy.  ``fast=True`` asks for them
(an error names the extra to install if numba is missing), ``fast=False``
never uses them.  The environment variable ``GLASSNET_FAST`` (``0`` or ``1``)
changes the default, which is how CI runs the whole suite on both paths.

Compiled kernels are cached on disk by numba (next to the source, or in the
user's cache directory when the install is read-only), so the compilation
(about 2 s) happens once per machine.  numba runs the loops serially:
``parallel=True`` competes with OpenBLAS's threads on small machines.
"""

from __future__ import annotations

import importlib.util

import numpy as np

from .activations import LeakyReLU, ReLU
from .optimizers import SGD, Adam, RMSprop

__all__ = ["Kernels", "kernels", "available", "FAST_MIN_PARAMS"]

#: models with fewer weights stay on NumPy unless asked (numba's import costs ~0.7 s)
FAST_MIN_PARAMS = 100_000

_JIT = dict(cache=True, error_model="numpy", nogil=True)       # no fastmath: exact IEEE order


class Kernels:
    """The compiled kernels of one process, looked up by the class they accelerate."""

    name = "numba"

    def __init__(self):
        try:
            import numba
        except ImportError:
            raise ImportError("the fast path (fast=True) needs numba: "
                              "pip install 'glassnet[fast]'") from None
        jit = numba.njit(**_JIT)
        self._updates = {cls: jit(cls.kernel) for cls in (SGD, Adam, RMSprop)}
        self._forward = {cls: jit(cls.bias_forward_kernel) for cls in (ReLU, LeakyReLU)}
        self._backward = {cls: jit(cls.backward_bias_kernel) for cls in (ReLU, LeakyReLU)}

    # -- optimizers ---------------------------------------------------------------------------
    #: the CPU reads each step's loss (it costs nothing there): no deferred check
    defers_losses = False
    defer_min_batch = None

    def update(self, optimizer, params, grads, out, lr, decay, guard=None):
        """Run ``optimizer``'s update in one pass; False when there is no kernel for it
        (or when asked for a GPU's guarded update, which has no meaning here)."""
        kernel = self._updates.get(type(optimizer))
        if kernel is None or guard is not None:
            return False
        dtype = params.dtype.type
        scalars = [s if isinstance(s, bool) else dtype(s)
                   for s in optimizer.kernel_scalars(lr, decay)]
        state = [optimizer.state.get(key, params) for key in _STATE[type(optimizer)]]
        kernel(params, grads, out, *state, *scalars)
        return True

    # -- activations ------------------------------------------------------------------------------
    def bias_activation(self, activation, z, b):
        """``z += b; a = σ(z)`` in one pass; None when there is no kernel for σ."""
        kernel = self._forward.get(type(activation))
        if kernel is None:
            return None
        a = np.empty_like(z)
        kernel(z, b, a, activation.kernel_constant(z.dtype))
        return a

    def activation_backward_bias(self, activation, a, grad_a, db):
        """``δ = dL/da ⊙ σ'`` and ``db = Σ_i δ_i`` in one pass; None when there is no kernel."""
        kernel = self._backward.get(type(activation))
        if kernel is None or a.shape[0] == 0:
            return None
        delta = np.empty_like(grad_a)
        kernel(a, grad_a, delta, db, a.dtype.type(1), activation.kernel_constant(a.dtype))
        return delta


    def bias_gradient(self, delta, db):
        """``db = Σ_i δ_i``: NumPy's reduction is one pass already (False: run it)."""
        return False

    # -- losses ---------------------------------------------------------------------------------
    def loss_and_delta(self, loss, y, z, a, sample_weight=None):
        """No fused loss on the CPU: NumPy's expressions are already one pass each (the
        model then computes the loss and δ itself; see glassnet.cuda for the GPU's)."""
        return None


#: the state vectors each optimizer kernel takes, in order (its own params stand in when unused)
_STATE = {SGD: ("velocity",), Adam: ("m", "v"), RMSprop: ("square_avg", "momentum_buffer")}

_KERNELS = None


def available():
    """True when numba can be imported."""
    return importlib.util.find_spec("numba") is not None


def kernels():
    """The process's :class:`Kernels` (compiled, or loaded from numba's cache, on first use)."""
    global _KERNELS
    if _KERNELS is None:
        _KERNELS = Kernels()
    return _KERNELS
