"""Where the arrays live: NumPy on the CPU, CuPy on an NVIDIA GPU.

glassnet's equations are NumPy expressions.  CuPy implements the same
functions (``cupy.matmul``, ``cupy.exp``, ``cupy.maximum`` ...) for arrays in
GPU memory, so the very same expression runs on either device once it is
written against an *array module* ``xp`` instead of ``np``::

    xp = array_module(z)           # numpy for a NumPy array, cupy for a CuPy array
    a = xp.maximum(z, 0)           # ReLU, on whichever device z lives

A model chooses its module once (``Sequential(..., device="cuda")`` or
``model.to("cuda")``): its flat weight vector, gradients and optimizer state
are arrays of that module, and every layer, activation, loss and optimizer
reads the module off the arrays it is given.  There is no second copy of any
equation.  On the GPU a few elementwise stretches of a training step also
have a fused kernel (:mod:`glassnet.cuda`), each checked against the NumPy
expression it replaces.

CuPy is optional (``pip install 'glassnet[cuda]'``); nothing here imports it
until a model asks for the GPU or a CuPy array arrives.
"""

from __future__ import annotations

import importlib
import importlib.util

import numpy as np

__all__ = ["array_module", "normalize_device", "module_for", "is_device_array",
           "holds_device_array", "gpu_module", "to_host", "to_module", "take_rows"]

_CUPY_HINT = ("device='cuda' needs CuPy: pip install 'glassnet[cuda]' (it installs "
              "cupy-cuda12x; on CUDA 13 install cupy-cuda13x instead)")


def is_device_array(a):
    """True for a CuPy array (GPU memory); False for NumPy arrays and everything else."""
    kind = type(a)
    return kind is not np.ndarray and kind.__module__.partition(".")[0] == "cupy"


def array_module(a):
    """The module whose functions compute on ``a``: ``numpy``, or ``cupy`` for a CuPy array."""
    if type(a) is np.ndarray or not is_device_array(a):
        return np
    return importlib.import_module("cupy")


def gpu_module():
    """CuPy (imported once; :func:`module_for` checked it when the model chose the GPU)."""
    return importlib.import_module("cupy")


def normalize_device(device):
    """``"cpu"`` or ``"cuda"`` for a device name (``None`` → cpu; ``"gpu"``, ``"cuda:0"`` → cuda).

    Raises
    ------
    ValueError
        For anything else, quoting what was received.
    """
    if device is None:
        return "cpu"
    if isinstance(device, str):
        name = device.strip().lower()
        if name == "cpu":
            return "cpu"
        if name in ("cuda", "gpu", "cuda:0"):
            return "cuda"
    raise ValueError(f"device must be 'cpu' or 'cuda' (one NVIDIA GPU through CuPy: "
                     f"'cuda', 'cuda:0' or 'gpu'); received {device!r}")


def module_for(device):
    """The array module for a device, checked: CuPy importable and a GPU present for ``"cuda"``.

    Raises
    ------
    ImportError
        ``"cuda"`` without CuPy (names the extra to install).
    RuntimeError
        ``"cuda"`` with CuPy but no usable NVIDIA GPU.
    """
    if normalize_device(device) == "cpu":
        return np
    if importlib.util.find_spec("cupy") is None:
        raise ImportError(_CUPY_HINT)
    try:
        cupy = importlib.import_module("cupy")
    except Exception as exc:                     # a broken CUDA install fails on import
        raise ImportError(f"device='cuda': CuPy is installed but importing it failed ({exc}); "
                          f"install the CuPy wheel that matches your CUDA (cupy-cuda12x or "
                          f"cupy-cuda13x)") from None
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:                     # no driver: CUDARuntimeError
        raise RuntimeError(f"device='cuda': no NVIDIA GPU was found (CUDA said: {exc}); "
                           f"use device='cpu'") from None
    if count < 1:
        raise RuntimeError("device='cuda': no NVIDIA GPU was found; use device='cpu'")
    return cupy


def to_host(a):
    """``a`` as a NumPy array (a copy from the GPU for a CuPy array; anything else unchanged).

    Lists, tuples and dicts (several inputs or outputs) are converted entry by entry.
    """
    if type(a) is np.ndarray:                  # the common case, first (predict's hot path)
        return a
    if is_device_array(a):
        return a.get()
    if isinstance(a, (list, tuple)):
        return type(a)(to_host(v) for v in a)
    if isinstance(a, dict):
        return {k: to_host(v) for k, v in a.items()}
    return a


def holds_device_array(value):
    """True when ``value`` is a CuPy array, or a list, tuple or dict holding one."""
    if type(value) is np.ndarray:
        return False
    if isinstance(value, (list, tuple)):
        return any(holds_device_array(v) for v in value)
    if isinstance(value, dict):
        return any(holds_device_array(v) for v in value.values())
    return is_device_array(value)


def to_module(a, xp):
    """``a`` as an array of module ``xp`` (one copy between host and GPU when they differ)."""
    if xp is np:
        return to_host(a)
    return xp.asarray(a)


def take_rows(xp, a, idx, out):
    """``out[:] = a[idx]``: the rows ``idx`` of ``a`` gathered into ``out`` (one call).

    NumPy's ``mode="clip"`` skips a bounds-checking copy (idx is a
    permutation); CuPy's ``take`` never checks bounds.
    """
    if xp is np:
        return np.take(a, idx, axis=0, out=out, mode="clip")
    return xp.take(a, idx, axis=0, out=out)
