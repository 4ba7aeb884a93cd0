"""Gradient checking: backpropagation against finite differences.

Backpropagation is the chain rule applied by hand, layer by layer; a slip in
any derivative would still train, just badly.  The check is independent of
all of it: nudge one parameter θ_j by ±h and watch the loss,

    dL/dθ_j ≈ (L(θ + h e_j) - L(θ - h e_j)) / 2h        (error O(h²))

and compare with what :meth:`Sequential.loss_and_gradients` computed.
The check runs in float64 on a copy of the model, so rounding does not
drown the comparison.
"""

from __future__ import annotations

import numpy as np

from . import _validation as check

__all__ = ["gradcheck"]


def gradcheck(model, x, y, sample_weight=None, eps=1e-6, max_params=None, seed=0):
    """Worst relative error between backprop and central finite differences.

    Parameters
    ----------
    model : Sequential
        A compiled model (it is not modified).
    x, y : arrays
        A small batch.
    eps : float
        Finite-difference step h.
    max_params : int, optional
        Check only this many randomly chosen parameters (all by default).
    seed : int
        Chooses those parameters.

    Returns
    -------
    float
        ``max_j |g_j - f_j| / max(|g_j| + |f_j|, 1e-8)`` with g the backprop
        gradient and f the finite difference; values around 1e-7 or below
        mean the gradients are right.  NaN when a gradient or the loss is not
        a number (``max`` would otherwise skip it).
    """
    if model.loss is None:
        raise RuntimeError("gradcheck needs a compiled model")
    if max_params is not None:
        max_params = check.positive_int(max_params, "gradcheck max_params")
    if not (isinstance(eps, (int, float, np.floating)) and not isinstance(eps, bool) and eps > 0):
        raise ValueError(f"gradcheck eps must be a positive number; received {eps!r}")
    if not model.built:
        model.build(np.asarray(x).shape[1])
    probe = type(model).from_config({**model.get_config(), "dtype": "float64"})
    probe.compile(loss=model.output_losses or model.loss, optimizer="sgd",
                  loss_weights=model.loss_weights)
    probe.variables[...] = model.variables
    _, grads = probe.loss_and_gradients(x, y, sample_weight)
    analytic = np.concatenate([g.ravel() for g in grads])
    indices = np.arange(probe.params.size)
    if max_params is not None and max_params < indices.size:
        indices = np.random.default_rng(seed).choice(indices, size=max_params, replace=False)
    worst = 0.0
    for j in indices:
        saved = probe.params[j]
        probe.params[j] = saved + eps
        plus = probe.evaluate(x, y, sample_weight=sample_weight, return_dict=True)["loss"]
        probe.params[j] = saved - eps
        minus = probe.evaluate(x, y, sample_weight=sample_weight, return_dict=True)["loss"]
        probe.params[j] = saved
        numeric = (plus - minus) / (2 * eps)
        err = abs(analytic[j] - numeric) / max(abs(analytic[j]) + abs(numeric), 1e-8)
        if np.isnan(err):                 # a gradient or a loss that is not a number
            return float("nan")
        worst = max(worst, err)
    return float(worst)
