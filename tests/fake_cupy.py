"""A stand-in for CuPy on machines without a GPU: NumPy arrays of another type.

It lets CI run a model with ``device="cuda"`` through glassnet's device plumbing
(weights, batches and optimizer state in "device" arrays, results handed back as
the input's kind, files written from host copies, CuPy input to a CPU model
refused) without a GPU.  It checks the plumbing, not the GPU: the numbers are
NumPy's, and the fused kernels do not exist here (models use ``fast=False``);
``tests/test_cuda.py`` runs the real thing on a GPU.

Like CuPy, its arrays are a type of their own (``cupy.ndarray``, ``.get()`` to
the host), and its functions return its arrays.  Stricter than CuPy, a NumPy
*function* called directly on one of its arrays (``np.concatenate``,
``np.copyto``, ...: what glassnet should call through ``xp``) raises, so a
place that bypasses the array module fails here; arithmetic operators and
methods work as on NumPy arrays.
"""

from __future__ import annotations

import importlib.machinery
import sys
import types

import numpy as np


class ndarray(np.ndarray):
    """A "device" array: NumPy memory, CuPy's type name, no NumPy functions."""

    def get(self):
        return np.array(self.view(np.ndarray), copy=True)

    def __array_function__(self, func, types_, args, kwargs):
        raise TypeError(f"numpy.{func.__name__} was called on a device array: glassnet "
                        f"should call it through its array module (xp)")


ndarray.__module__ = "cupy"


def _unwrap(value):
    if isinstance(value, ndarray):
        return value.view(np.ndarray)
    if isinstance(value, (list, tuple)):
        return type(value)(_unwrap(v) for v in value)
    return value


def _wrap(value):
    if isinstance(value, np.ndarray) and not isinstance(value, ndarray):
        return value.view(ndarray)
    if isinstance(value, list):
        return [_wrap(v) for v in value]
    return value


def _function(name):
    target = getattr(np, name)

    def call(*args, **kwargs):
        return _wrap(target(*_unwrap(args), **{k: _unwrap(v) for k, v in kwargs.items()}))
    call.__name__ = name
    return call


def asarray(a, dtype=None):
    """A copy on the "device" (CuPy copies host arrays too)."""
    return np.array(_unwrap(a), dtype=dtype, copy=True).view(ndarray)


def module():
    """A module object that imports as ``cupy``."""
    fake = types.ModuleType("cupy")
    fake.__spec__ = importlib.machinery.ModuleSpec("cupy", None)
    fake.ndarray = ndarray
    fake.asarray = asarray
    fake.__version__ = "fake"
    fake.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(
        getDeviceCount=lambda: 1))

    def __getattr__(name):
        value = getattr(np, name)
        if callable(value) and not isinstance(value, type):
            return _function(name)
        return value
    fake.__getattr__ = __getattr__
    return fake


def install(monkeypatch):
    """Make ``import cupy`` give the fake for the rest of a test."""
    monkeypatch.setitem(sys.modules, "cupy", module())
    return sys.modules["cupy"]
