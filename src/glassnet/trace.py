"""Trace the math of one sample through a network, with the network's own numbers.

``model.trace(x, y)`` walks the same equations the model trains with — the
activation and loss functions of :mod:`glassnet.activations` and
:mod:`glassnet.losses`, the products of :class:`glassnet.layers.Dense` — one
step at a time, and keeps every intermediate value:

forward, layer by layer
    input ``x``, weights ``W``, bias ``b``, weighted sum ``z = x·W + b``,
    activation ``a = σ(z)`` (softmax also shows ``z - max``, ``e^(z - max)``
    and the sum it divides by);
backward, given a target
    the loss ``L``, then from the last layer to the first ``dL/da``,
    ``δ = dL/dz``, ``dL/dW = xᵀ·δ``, ``dL/db = Σ δ``, and the change the
    model's optimizer would make to W and b with its current learning rate.

Printing a trace gives a report in the seeds' notation: the numbers
themselves for small arrays, shape/min/mean/max for large ones.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

from .layers import Dense, Dropout, Rescaling

__all__ = ["Trace", "LayerTrace", "Step", "trace"]

#: arrays with more entries than this are summarised when printed
MAX_PRINTED = 40


@dataclass
class Step:
    """One equation of the trace: a label, its formula and the value it produced."""
    label: str
    formula: str
    value: np.ndarray


@dataclass
class LayerTrace:
    """The forward and (with a target) backward steps of one layer."""
    index: int
    title: str
    forward: list = field(default_factory=list)
    backward: list = field(default_factory=list)

    def get(self, label):
        """The value of the step called ``label`` (forward or backward)."""
        for step in self.forward + self.backward:
            if step.label == label:
                return step.value
        raise KeyError(f"no step {label!r} in {self.title}; steps are "
                       f"{[s.label for s in self.forward + self.backward]}")


@dataclass
class Trace:
    """What :func:`trace` returns; ``print(trace)`` shows the report."""
    layers: list
    output: np.ndarray
    loss: float | None = None
    loss_name: str | None = None
    gradients: list | None = None        # [dW1, db1, ...] as loss_and_gradients
    updates: list | None = None          # [ΔW1, Δb1, ...] the optimizer would apply
    note: str | None = None

    def __str__(self):
        return format_trace(self)


def _fmt(value, indent=0):
    value = np.asarray(value)
    if value.size <= MAX_PRINTED:
        text = np.array2string(value, precision=4, suppress_small=True, max_line_width=96)
        return text.replace("\n", "\n" + " " * indent)
    return (f"shape {value.shape}: min {value.min():.4g}, mean {value.mean():.4g}, "
            f"max {value.max():.4g}")


def format_trace(tr):
    lines = []
    for layer in tr.layers:
        lines.append(f"Layer {layer.index}: {layer.title}")
        for step in layer.forward:
            lines.append(f"  {step.label:<5} {step.formula}")
            lines.append(f"        = {_fmt(step.value, 10)}")
    lines.append(f"Output ŷ = {_fmt(tr.output)}")
    if tr.loss is not None:
        lines.append("")
        lines.append(f"Loss ({tr.loss_name}): L = {tr.loss:.6g}")
        lines.append("Backward pass (chain rule, last layer first):")
        for layer in reversed(tr.layers):
            if not layer.backward:
                continue
            lines.append(f"Layer {layer.index}: {layer.title}")
            for step in layer.backward:
                lines.append(f"  {step.label:<7} {step.formula}")
                lines.append(f"          = {_fmt(step.value, 12)}")
    if tr.note:
        lines.append("")
        lines.append(tr.note)
    return "\n".join(lines)


def _dense_forward(layer, x, steps):
    """The forward equations of a Dense layer, each kept as a Step."""
    steps.append(Step("x", "input (n, inputs)", x))
    steps.append(Step("W", f"weights {layer.W.shape}", layer.W.copy()))
    z = np.matmul(x, layer.W)
    if layer.use_bias:
        steps.append(Step("b", f"bias {layer.b.shape}", layer.b.copy()))
        z = z + layer.b
        steps.append(Step("z", "weighted sum z = x·W + b", z))
    else:
        steps.append(Step("z", "weighted sum z = x·W", z))
    act = layer.activation
    if act.name == "softmax":
        shifted = z - z.max(axis=-1, keepdims=True)
        exp = np.exp(shifted)
        total = exp.sum(axis=-1, keepdims=True)
        steps.append(Step("z-max", "shift by the row maximum (no overflow)", shifted))
        steps.append(Step("exp", "e^(z - max)", exp))
        steps.append(Step("sum", "Σ_k e^(z_k - max)", total))
    a = act.forward(z.copy())
    steps.append(Step("a", f"activation a = {act.name}(z)", a))
    return z, a


def trace(model, x, y=None):
    """Trace the forward (and, with ``y``, backward) pass of a few samples.

    Parameters
    ----------
    model : Sequential
        Built (and compiled, if ``y`` is given).
    x : array (n_features,) or (n, n_features)
        One sample, or a few.
    y : array, optional
        Target(s) in the form ``fit`` takes.

    Returns
    -------
    Trace
    """
    from . import _validation as check
    x = np.asarray(x)
    if x.ndim == 1:
        x = x[None, :]
        if y is not None:
            y = np.asarray(y)
            y = y[None] if y.ndim == 0 or (model.loss is not None and not model.loss.sparse
                                           and y.ndim == 1) else y
    if not model.built:
        model.build(np.asarray(x).shape[1])
    x = check.as_matrix(x, "x", model.dtype, model.input_dim)
    records, a = [], x
    for i, layer in enumerate(model.layers, start=1):
        if isinstance(layer, Dense):
            lt = LayerTrace(i, f"Dense({layer.input_dim} → {layer.units}), activation "
                               f"{layer.activation.name}")
            z, out = _dense_forward(layer, a, lt.forward)
            records.append((layer, lt, a, z, out))
        elif isinstance(layer, Rescaling):
            lt = LayerTrace(i, f"Rescaling(scale={layer.scale:g}, offset={layer.offset:g})")
            out = layer.forward(a)
            lt.forward += [Step("x", "input", a), Step("a", "a = x · scale + offset", out)]
            records.append((layer, lt, a, None, out))
        elif isinstance(layer, Dropout):
            lt = LayerTrace(i, f"Dropout({layer.rate:g}): the identity at inference")
            out = a
            lt.forward.append(Step("a", "a = x", out))
            records.append((layer, lt, a, None, out))
        else:
            raise ValueError(f"cannot trace layer {type(layer).__name__}")
        a = out
    result = Trace([r[1] for r in records], output=a)
    if y is None:
        return result
    if model.loss is None:
        raise RuntimeError("trace with a target needs a compiled model (it uses the loss)")
    y = check.as_targets(y, model.loss, model.output_dim, model.dtype)
    check.check_length(x, y)
    blocked = [r[0] for r in records if isinstance(r[0], Dense) and not r[0].activation.trainable]
    loss = model.loss
    result.loss_name = loss.name
    last, lt_last, _, z_last, a_last = records[-1]
    fused = model._fused
    per_sample = loss.fused_per_sample(y, z_last, a_last) if fused else loss.per_sample(y, a_last)
    result.loss = float(np.mean(per_sample, dtype=np.float64)) + model._penalty()
    if blocked:
        result.note = (f"No backward pass: the {blocked[0].activation.name!r} activation has no "
                       f"useful derivative, so gradient descent cannot train this network.")
        return result
    grads = {}
    if fused:
        delta = loss.fused_delta(y, z_last, a_last)
        grad_a = None
        fused_note = f"dL/dz, fused {last.activation.name} + {loss.name}: no dL/da needed"
    else:
        grad_a = loss.gradient(y, a_last)
        delta = None
        fused_note = None
    for layer, lt, x_in, z, out in reversed(records):
        if isinstance(layer, Dense):
            if delta is None:
                lt.backward.append(Step("dL/da", "from the layer above (or the loss)", grad_a))
                delta = layer.activation.backward(z, out, grad_a)
                lt.backward.append(Step("δ", f"dL/dz = dL/da ⊙ {layer.activation.name}'(z)",
                                        delta))
            else:
                lt.backward.append(Step("δ", fused_note, delta))
            dW = np.matmul(x_in.T, delta)
            if layer.kernel_regularizer is not None:
                layer.kernel_regularizer.add_gradient(layer.W, dW)
            lt.backward.append(Step("dL/dW", "xᵀ · δ" + (" + dR/dW" if layer.kernel_regularizer
                                                          is not None else ""), dW))
            grads[id(layer)] = [dW]
            if layer.use_bias:
                db = delta.sum(axis=0)
                lt.backward.append(Step("dL/db", "Σ_samples δ", db))
                grads[id(layer)].append(db)
            grad_a = np.matmul(delta, layer.W.T)          # dL/dx, handed to the layer below
            delta = None
        elif isinstance(layer, Rescaling):
            grad_a = grad_a * layer.scale
    result.gradients = [g for layer, *_ in records if id(layer) in grads
                        for g in grads[id(layer)]]
    # the change the optimizer would make: run one step on copies
    optimizer = copy.deepcopy(model.optimizer)
    params = model.params.copy()
    flat = np.concatenate([g.ravel() for g in result.gradients]).astype(model.dtype)
    optimizer.step(params, flat)
    change = params - model.params
    result.updates, offset = [], 0
    for g in result.gradients:
        result.updates.append(change[offset:offset + g.size].reshape(g.shape))
        offset += g.size
    k = 0
    lr = model.optimizer.current_learning_rate()
    for layer, lt, *_ in records:
        if id(layer) in grads:
            for label in ("ΔW", "Δb")[:len(grads[id(layer)])]:
                lt.backward.append(Step(label, f"{type(model.optimizer).__name__} step, "
                                               f"learning rate {lr:g}", result.updates[k]))
                k += 1
    return result
