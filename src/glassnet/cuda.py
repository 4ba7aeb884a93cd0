"""glassnet[cuda]: the fused CuPy kernels of a training step on an NVIDIA GPU.

A model on the GPU (``device="cuda"``) runs the very NumPy-style expressions
of the CPU on CuPy arrays (:mod:`glassnet.backend`).  That is correct but not
yet fast: a multilayer perceptron's step on a GPU is bound by *launches*, not
arithmetic.  Each CuPy call costs some 10–20 µs of Python and driver time on
the host whatever the size of the array, so the number of calls per step is
the currency.  The NumPy form of Adam alone is 13 calls.

This module compiles, once per process and dtype, the fused twins that sit
next to the NumPy expressions they replace, so that one step is about twenty
calls (two gathers, a matrix product and a fused kernel per layer forward, one
loss kernel and the loss's sum, three per layer backward, one optimizer kernel):

=====================================  =====================================================
optimizer update (SGD, momentum,       ``cuda_kernel`` of the optimizer: the body of its
Nesterov, Adam, AdamW, RMSprop)        numba ``kernel`` loop, one elementwise kernel
bias + ReLU / LeakyReLU / sigmoid /    ``cuda_bias_forward`` of the activation
tanh forward
bias + softmax forward                 ``Softmax.cuda_bias_softmax`` (a thread per row)
ReLU / LeakyReLU / sigmoid / tanh      ``cuda_backward`` (δ) and dL/db = Σ_i δ_i in one
backward                               kernel, a thread per column (up to 256 rows)
dL/db of the output layer              a column-sum kernel (CuPy's reduction costs more calls)
softmax + (sparse) categorical         the loss's ``cuda_loss_and_delta``: every sample's
cross-entropy                          loss and δ = dL/dz in one kernel
the batch's mean loss                  one launch (``mean_loss``), or kept on the GPU for
                                       fit's deferred check (``store_loss``, with a guard
                                       that the update kernels obey)
=====================================  =====================================================

Each kernel computes what its NumPy expression computes, in the same order
(compiled without fused multiply-add); the GPU's ``exp``/``log`` and its
matrix products round differently from the CPU's, so the two paths agree to
rounding (``tests/test_cuda.py`` holds them equal to 1e-10 in float64, and to
PyTorch's CUDA trajectories), not bit for bit.
``Sequential(..., device="cuda", fast=False)`` trains with the plain
expressions, the reference.

Like :mod:`glassnet.fast`, the interface is a few methods (``update``,
``bias_activation``, ``activation_backward_bias``, ``bias_gradient``,
``loss_and_delta``) that a layer, a model or an optimizer calls when it was
handed a ``kernels`` object, each returning None (or False) when it has no
kernel for the case: the caller then runs the NumPy lines.
"""

from __future__ import annotations

import numpy as np

from .backend import module_for

__all__ = ["Kernels", "kernels"]

#: threads per block of the row- and column-per-thread kernels
ROW_BLOCK = 128
#: no fused multiply-add: a kernel rounds each operation as NumPy does, in the same order
OPTIONS = ("--fmad=false",)
#: the column-per-thread kernels (δ with dL/db, dL/db alone) serve batches up to this many
#: rows; above it a thread's loop over the rows costs the GPU more than the launch it saves
#: the host (measured on an H100: 784-4096-4096-10 at batch 1024 went from 0.18 to 0.22 s
#: per epoch), and CuPy's parallel reduction does the sum
COLUMN_KERNEL_MAX_ROWS = 256

# δ and dL/db in one pass, a thread per column j: the rows are added in order, as NumPy's
# ``δ.sum(axis=0)`` adds them (the activation's ``cuda_backward`` snippet computes δ)
_BACKWARD_BIAS = r"""
extern "C" __global__ void backward_bias(const T* a_, const T* grad_a_, T* delta_, T* db,
                                         long long n, long long k, T c) {
    long long j = (long long)blockDim.x * blockIdx.x + threadIdx.x;
    if (j >= k) return;
    T total = 0;
    for (long long i = 0; i < n; ++i) {
        long long at = i * k + j;
        T a = a_[at], grad_a = grad_a_[at], delta;
        SNIPPET;
        delta_[at] = delta;
        total += delta;
    }
    db[j] = total;
}"""

# (1/n) Σ_i w_i l_i in float64, one thread adding the samples in order (what losses.reduce
# computes), stored on the device at totals[k]: read back at once (mean_loss), or once per
# epoch by fit's deferred check, for which the first step whose loss is not finite sets
# guard = {1, k}, and every update kernel after it leaves the weights as they are
_STORE_LOSS = r"""
extern "C" __global__ void store_loss(const T* loss, const T* w, double* totals, int* guard,
                                      long long n, int weighted, long long k, int step) {
    double sum = 0;
    for (long long i = 0; i < n; ++i)
        sum += weighted ? (double)loss[i] * (double)w[i] : (double)loss[i];
    totals[k] = sum / (double)n;
    if (!isfinite(sum) && guard[0] == 0) { guard[0] = 1; guard[1] = step; }
}"""

# dL/db = Σ_i δ_i, a thread per column, the rows in order
_COLUMN_SUMS = r"""
extern "C" __global__ void column_sums(const T* delta, T* db, long long n, long long k) {
    long long j = (long long)blockDim.x * blockIdx.x + threadIdx.x;
    if (j >= k) return;
    T total = 0;
    for (long long i = 0; i < n; ++i) total += delta[i * k + j];
    db[j] = total;
}"""

_C_TYPES = {np.dtype(np.float32): "float", np.dtype(np.float64): "double"}


class Kernels:
    """The fused CuPy kernels of one process, compiled on first use per class and dtype."""

    name = "cuda"
    #: fit may leave the losses on the device and check them once per epoch (store_loss),
    #: for batches of this many rows or more.  Measured on an H100 (bench_cuda.py, s/epoch,
    #: deferred vs read every step): batch 1024 0.037 vs 0.043, 784-4096-4096-10 at 1024
    #: 0.167 vs 0.175, but batch 128 0.370 vs 0.335: a small step gains nothing to overlap
    defers_losses = True
    defer_min_batch = 512

    def __init__(self):
        self.cp = module_for("cuda")            # clear errors without CuPy or a GPU
        self._cache = {}
        self._twins = {}
        self._no_guard = self.cp.zeros(2, np.int32)
        # where mean_loss has the kernel store the loss it reads back (its guard is never read)
        self._loss_slot = self.cp.empty(1, np.float64)
        self._loss_guard = self.cp.zeros(2, np.int32)

    # -- compiling (cached by the code itself: two classes of one name never share a kernel) --
    def _elementwise(self, key, in_params, out_params, body):
        code = (in_params, out_params, body)
        kernel = self._cache.get(code)
        if kernel is None:
            kernel = self.cp.ElementwiseKernel(in_params, out_params, body,
                                               f"glassnet_{key[0]}_{key[1]}", options=OPTIONS)
            self._cache[code] = kernel
        return kernel

    def _raw(self, source, function, dtype):
        code = f"typedef {_C_TYPES[np.dtype(dtype)]} T;\n{source}"
        kernel = self._cache.get((code, function))
        if kernel is None:
            kernel = self.cp.RawKernel(code, function, options=OPTIONS)
            self._cache[(code, function)] = kernel
        return kernel

    @staticmethod
    def _grid(rows):
        return (max(1, -(-rows // ROW_BLOCK)),), (ROW_BLOCK,)

    def _twin(self, obj, attribute, methods):
        """:func:`_fused_twin`, looked up once per class."""
        key = (type(obj), attribute)
        if key not in self._twins:
            self._twins[key] = _fused_twin(obj, attribute, methods)
        return self._twins[key]

    # -- optimizers ---------------------------------------------------------------------------
    def update(self, optimizer, params, grads, out, lr, decay, guard=None):
        """Run ``optimizer``'s update as one kernel; False when its class has none.

        ``guard`` (fit's deferred check, see :meth:`store_loss`): while
        ``guard[0]`` is set, the kernel writes nothing: neither ``out`` (fit's
        other weight buffer keeps the weights of the step before, which the
        rollback needs) nor the optimizer's state.
        """
        spec = self._twin(optimizer, "cuda_kernel", ("update_step", "kernel_scalars"))
        if spec is None:
            return False
        in_params, out_params, body = spec
        kernel = self._elementwise(
            (type(optimizer).__name__, "update"), in_params + ", raw int32 guard", out_params,
            f"if (guard[0] == 0) {{ {body} }}")
        if guard is None:
            guard = self._no_guard
        dtype = params.dtype.type
        scalars = [np.bool_(s) if isinstance(s, bool) else dtype(s)
                   for s in optimizer.kernel_scalars(lr, decay)]
        # the state vectors in the kernel's order; one not kept (SGD without momentum) is
        # stood in for by the scratch buffer, which the kernel then never writes
        state = [optimizer.state.get(key, optimizer.scratch[0])
                 for key in type(optimizer).kernel_state]
        kernel(params, grads, *scalars, guard, out, *state)
        return True

    def can_guard(self, optimizer):
        """True when ``optimizer``'s update has a kernel (so fit can defer its loss checks)."""
        return self._twin(optimizer, "cuda_kernel", ("update_step", "kernel_scalars")) \
            is not None

    # -- activations ------------------------------------------------------------------------------
    def bias_activation(self, activation, z, b):
        """``z += b; a = σ(z)`` in one kernel; None when there is none for σ."""
        if self._twin(activation, "cuda_bias_softmax", ("forward",)) is not None \
                and z.ndim == 2:
            n, k = z.shape
            a = self.cp.empty((n, k), z.dtype)
            kernel = self._raw(activation.cuda_bias_softmax, "bias_softmax", z.dtype)
            kernel(*self._grid(n), (z, b, a, np.int64(n), np.int64(k)))
            return a
        body = self._twin(activation, "cuda_bias_forward", ("forward",))
        if body is None:
            return None
        kernel = self._elementwise((type(activation).__name__, "forward"), "T b, T c",
                                   "T z, T a", body)
        a = self.cp.empty(z.shape, z.dtype)
        kernel(b, self._constant(activation, z.dtype), z, a)
        return a

    def activation_backward_bias(self, activation, a, grad_a, db):
        """``δ = dL/da ⊙ σ'`` and ``db = Σ_i δ_i`` in one kernel; None when there is none."""
        body = self._twin(activation, "cuda_backward", ("backward",))
        if body is None or a.shape[0] == 0 or a.ndim != 2 or not (
                a.flags.c_contiguous and grad_a.flags.c_contiguous):
            return None
        n, k = a.shape
        delta = self.cp.empty((n, k), a.dtype)
        constant = self._constant(activation, a.dtype)
        if n > COLUMN_KERNEL_MAX_ROWS:               # δ elementwise, then a parallel sum
            kernel = self._elementwise((type(activation).__name__, "backward"),
                                       "T a, T grad_a, T c", "T delta", body)
            kernel(a, grad_a, constant, delta)
            delta.sum(axis=0, out=db)
            return delta
        kernel = self._raw(_BACKWARD_BIAS.replace("SNIPPET", body), "backward_bias", a.dtype)
        kernel(*self._grid(k), (a, grad_a, delta, db, np.int64(n), np.int64(k), constant))
        return delta

    def bias_gradient(self, delta, db):
        """``db = Σ_i δ_i`` (the rows in order) in one kernel launch; False when not 2-D."""
        if delta.ndim != 2 or not delta.flags.c_contiguous \
                or delta.shape[0] > COLUMN_KERNEL_MAX_ROWS:
            return False
        n, k = delta.shape
        kernel = self._raw(_COLUMN_SUMS, "column_sums", delta.dtype)
        kernel(*self._grid(k), (delta, db, np.int64(n), np.int64(k)))
        return True

    @staticmethod
    def _constant(activation, dtype):
        constant = getattr(activation, "kernel_constant", None)
        return dtype.type(0) if constant is None else constant(dtype)

    # -- losses ------------------------------------------------------------------------------------
    def loss_and_delta(self, loss, y, z, a, sample_weight=None):
        """Each sample's loss and ``δ = dL/dz`` of a fused loss in one kernel, or None."""
        source = self._twin(loss, "cuda_loss_and_delta", ("fused_per_sample", "fused_delta"))
        if source is None or z.ndim != 2:
            return None
        cp = self.cp
        n, k = z.shape
        if loss.sparse:
            y = y.astype(cp.int64, copy=False)
        per_sample = cp.empty(n, dtype=z.dtype)
        delta = cp.empty((n, k), z.dtype)
        weighted = sample_weight is not None
        w = sample_weight.astype(z.dtype, copy=False) if weighted else per_sample
        kernel = self._raw(source, "loss_and_delta", z.dtype)
        kernel(*self._grid(n), (z, a, y, w, per_sample, delta, np.int64(n), np.int64(k),
                                z.dtype.type(1.0 / n) if n else z.dtype.type(0),
                                np.int32(weighted)))
        return per_sample, delta

    def mean_loss(self, per_sample, sample_weight=None):
        """``(1/n) Σ_i w_i l_i`` as a float: :func:`glassnet.losses.reduce` in one launch.

        (CuPy's ``sum(dtype=float64)`` costs the host several times a launch.)  The
        same kernel as :meth:`store_loss`, read back at once.
        """
        self.store_loss(per_sample, sample_weight, self._loss_slot, 0, self._loss_guard, 0)
        return float(self._loss_slot.get()[0])

    def store_loss(self, per_sample, sample_weight, totals, k, guard, step):
        """``totals[k] = (1/n) Σ_i w_i l_i`` on the device, and ``guard = {1, step}`` if that
        is the first loss that is not finite (fit's deferred check: no wait for the GPU)."""
        n = per_sample.shape[0]
        weighted = sample_weight is not None
        w = sample_weight.astype(per_sample.dtype, copy=False) if weighted else per_sample
        kernel = self._raw(_STORE_LOSS, "store_loss", per_sample.dtype)
        kernel((1,), (1,), (per_sample, w, totals, guard, np.int64(n), np.int32(weighted),
                            np.int64(k), np.int32(step)))


def _fused_twin(obj, attribute, methods):
    """``obj``'s kernel ``attribute``, or None when a subclass redefined one of ``methods``.

    A kernel stands for the expressions of the class that defines it; a
    subclass that writes its own ``forward`` (say) must not inherit its
    parent's kernel.
    """
    cls = type(obj)
    owner = next((c for c in cls.__mro__ if vars(c).get(attribute) is not None), None)
    if owner is None or any(getattr(cls, m, None) is not getattr(owner, m, None)
                            for m in methods):
        return None
    return vars(owner)[attribute]


_KERNELS = None


def kernels():
    """The process's :class:`Kernels` (CuPy compiles each kernel on first use and caches it)."""
    global _KERNELS
    if _KERNELS is None:
        _KERNELS = Kernels()
    return _KERNELS
