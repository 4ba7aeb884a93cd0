import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def numeric_grad(f, x, eps=1e-6):
    """Central finite differences of a scalar function f at x (float64)."""
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        saved = x[idx]
        x[idx] = saved + eps
        plus = f(x)
        x[idx] = saved - eps
        minus = f(x)
        x[idx] = saved
        grad[idx] = (plus - minus) / (2 * eps)
    return grad
