"""Trace the math of one sample through a network, with the network's own numbers.

``model.trace(x, y)`` runs the model's own forward pass (and, with a
target, its loss and backward pass, the code ``fit`` trains with) on a few
samples, then reads back every intermediate value the layers kept:

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


def _forward_steps(layer, lt):
    """What a layer's own forward pass computed, read back from its cache."""
    if isinstance(layer, Rescaling):
        lt.title = f"Rescaling(scale={layer.scale:g}, offset={layer.offset:g})"
        lt.forward.append(Step("a", "a = x · scale + offset", None))
        return
    if isinstance(layer, Dropout):
        lt.title = f"Dropout({layer.rate:g}): the identity at inference"
        lt.forward.append(Step("a", "a = x", None))
        return
    if not isinstance(layer, Dense):
        raise ValueError(f"cannot trace layer {type(layer).__name__}")
    x, z, a, _ = layer._cache
    act = layer.activation
    lt.title = f"Dense({layer.input_dim} → {layer.units}), activation {act.name}"
    lt.forward += [Step("x", "input (n, inputs)", x),
                   Step("W", f"weights {layer.W.shape}", layer.W.copy())]
    if layer.use_bias:
        lt.forward += [Step("b", f"bias {layer.b.shape}", layer.b.copy()),
                       Step("z", "weighted sum z = x·W + b", z)]
    else:
        lt.forward.append(Step("z", "weighted sum z = x·W", z))
    if act.name == "softmax":
        # the three steps inside Softmax.forward, spelled out for the reader
        shifted = z - z.max(axis=-1, keepdims=True)
        exp = np.exp(shifted)
        lt.forward += [Step("z-max", "shift by the row maximum (no overflow)", shifted),
                       Step("exp", "e^(z - max)", exp),
                       Step("sum", "Σ_k e^(z_k - max)", exp.sum(axis=-1, keepdims=True))]
    lt.forward.append(Step("a", f"activation a = {act.name}(z)", a))


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
    if y is not None:
        if model.loss is None:
            raise RuntimeError("trace with a target needs a compiled model (it uses the loss)")
        y = check.as_targets(y, model.loss, model.output_dim, model.dtype)
        check.check_length(x, y)
    blocked = [layer for layer in model.layers if isinstance(layer, Dense)
               and not layer.activation.trainable]
    if y is None or blocked:
        model._forward(x)                        # the model's own forward pass
    else:
        # the model's own forward pass, loss and backward pass, exactly as in training
        loss_value = model._loss_and_backward(x, y, None, training=False, buffered=False)
    layers = []
    a = x
    for i, layer in enumerate(model.layers, start=1):
        lt = LayerTrace(i, "")
        _forward_steps(layer, lt)
        if lt.forward[-1].value is None:         # Rescaling / Dropout: recompute their output
            lt.forward.insert(0, Step("x", "input", a))
            lt.forward[-1].value = layer.forward(a)
        a = lt.forward[-1].value
        layers.append(lt)
    result = Trace(layers, output=a)
    if y is None:
        return result
    result.loss_name = model.loss.name
    if blocked:
        result.loss = model._evaluate_checked(x, y)["loss"]
        result.note = (f"No backward pass: the {blocked[0].activation.name!r} activation has no "
                       f"useful derivative, so gradient descent cannot train this network.")
        return result
    result.loss = loss_value
    fused = model._fused
    for layer, lt in zip(model.layers, layers):
        if not isinstance(layer, Dense):
            continue
        if fused and layer is model.layers[-1]:
            lt.backward.append(Step("δ", f"dL/dz, fused {layer.activation.name} + "
                                         f"{model.loss.name}: no dL/da needed", layer._delta))
        else:
            lt.backward += [Step("dL/da", "from the layer above (or the loss)", layer._grad_a),
                            Step("δ", f"dL/dz = dL/da ⊙ {layer.activation.name}'(z)",
                                 layer._delta)]
        reg = " + dR/dW" if layer.kernel_regularizer is not None else ""
        lt.backward.append(Step("dL/dW", "xᵀ · δ" + reg, layer.dW.copy()))
        if layer.use_bias:
            lt.backward.append(Step("dL/db", "Σ_samples δ", layer.db.copy()))
    result.gradients = [g.copy() for g in model._grad_views()]
    # the change the optimizer would make: one step on copies of the weights and its state
    optimizer = copy.deepcopy(model.optimizer)
    params = model.params.copy()
    optimizer.step(params, model.grads.copy())
    change = params - model.params
    result.updates, offset = [], 0
    for g in result.gradients:
        result.updates.append(change[offset:offset + g.size].reshape(g.shape))
        offset += g.size
    updates = iter(result.updates)
    lr = model.optimizer.current_learning_rate()
    for layer, lt in zip(model.layers, layers):
        for label in ("ΔW", "Δb")[:len(layer.param_views)]:
            lt.backward.append(Step(label, f"{type(model.optimizer).__name__} step, "
                                           f"learning rate {lr:g}", next(updates)))
    return result
