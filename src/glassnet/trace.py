"""Trace the math of one sample through a network, with the network's own numbers.

``model.trace(x, y)`` runs the model's own forward pass (and, with a
target, its loss and backward pass, the code ``fit`` trains with) on a few
samples, then asks each layer to read back what it recorded
(``layer.trace_forward()``, ``layer.trace_backward()``); nothing is
computed a second time here.  For a Dense layer that is:

forward, layer by layer
    input ``x``, weights ``W``, bias ``b``, weighted sum ``z = x·W + b``,
    activation ``a = σ(z)`` (softmax also shows ``z - max``, ``e^(z - max)``
    and the sum it divides by);
backward, given a target
    the loss ``L``, then from the last layer to the first ``dL/da``,
    ``δ = dL/dz``, ``dL/dW = xᵀ·δ``, ``dL/db = Σ δ``; then the step plain
    gradient descent would take on this sample (``-η·dL/dW``) and, labelled
    as such, the step the model's optimizer will really take next (with its
    stored momentum or moments, which earlier batches shaped).

Printing a trace gives a report in the seeds' notation: the numbers
themselves for small arrays, shape/min/mean/max for large ones.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

from . import _validation as check
from .backend import to_host

__all__ = ["Trace", "LayerTrace", "Step", "trace"]

#: arrays with more entries than this are summarised when printed
MAX_PRINTED = 40


@dataclass
class Step:
    """One equation of the trace: a label, its formula and the value it produced."""
    label: str
    formula: str
    value: np.ndarray

    def __post_init__(self):                  # a model on the GPU: shown from a host copy
        self.value = to_host(self.value)


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
    updates: list | None = None          # [ΔW1, Δb1, ...] the optimizer would apply next
    note: str | None = None

    def __str__(self):
        return format_trace(self)


def _fmt(value, indent=0):
    value = np.asarray(value)
    if value.size <= MAX_PRINTED:
        if value.dtype.kind == "f":      # what rounds to zero prints as 0, never as -0
            value = np.round(value, 4) + 0.0
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
    if isinstance(tr.output, list):              # a model with several outputs
        for k, out in enumerate(tr.output, start=1):
            lines.append(f"Output ŷ{k} = {_fmt(out)}")
    else:
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


def trace(model, x, y=None):
    """Trace the forward (and, with ``y``, backward) pass of a few samples.

    Parameters
    ----------
    model : Model or Sequential
        Built (and compiled, if ``y`` is given).
    x : array (n_features,) or (n, n_features), or a list of arrays (several inputs)
        One sample, or a few.
    y : array, optional
        Target(s) in the form ``fit`` takes.

    Returns
    -------
    Trace
        One :class:`LayerTrace` per call of a layer, in the graph's order.
    """
    x, y = model.from_device(x), model.from_device(y, "y")
    if not (isinstance(x, (list, tuple, dict)) and len(model.input_names) > 1):
        x = np.asarray(x)
        if x.ndim == 1:
            x = x[None, :]
            if y is not None:
                y = np.asarray(y)
                y = y[None] if y.ndim == 0 or (model.loss is not None and not model.loss.sparse
                                               and y.ndim == 1) else y
    x = model.check_x(x)
    if y is not None:
        if model.loss is None:
            raise RuntimeError("trace with a target needs a compiled model (it uses the loss)")
        y = model.check_y(y)
        check.check_length(x, y)
    blocked = model.first_untrainable_layer()
    if y is None or blocked is not None:
        model.forward(x)                         # the model's own forward pass
    else:
        # the model's own forward pass, loss and backward pass, exactly as in training
        loss_value = model.compute_loss_and_gradients(x, y, training=False)
    calls, records = list(model.graph.traced_layers()), model.graph.records()
    layers = []
    for i, (layer, record) in enumerate(zip(calls, records), start=1):
        layer.record = record
        layers.append(LayerTrace(i, f"{layer.name}: {layer.title()}", layer.trace_forward()))
    result = Trace(layers, output=to_host(model.last_output))
    if y is None:
        return result
    result.loss_name = model.loss.name
    if blocked is not None:
        result.loss = model.compute_loss(y)            # of the forward pass above
        result.note = (f"No backward pass: the {blocked.activation.name!r} activation has no "
                       f"useful derivative, so gradient descent cannot train this network.")
        return result
    result.loss = loss_value
    for layer, record, lt in zip(calls, records, layers):
        layer.record = record
        lt.backward = layer.trace_backward()
    result.gradients = [g.copy() for layer in model.layers for g in layer.bound_grads]
    # gradient descent on this sample alone: -η·g ...
    lr = model.optimizer.current_learning_rate()
    plain = model.unflatten(-lr * model.grads)
    # ... and the change the model's optimizer would really make next: one step on copies
    # of the weights and of its state (momentum, Adam's moments: earlier batches count too)
    optimizer = copy.deepcopy(model.optimizer)
    params = model.params.copy()
    optimizer.step(params, model.grads.copy())
    change = model.unflatten(params - model.params)
    result.updates = [u for per_layer in change for u in per_layer]
    name = type(model.optimizer).__name__
    first_call = {}
    for layer, lt in zip(calls, layers):
        first_call.setdefault(id(layer), lt)
    for layer, steps, updates in zip(model.layers, plain, change):
        lt = first_call.get(id(layer))
        if lt is None:
            continue
        for label, step, update in zip(layer.param_names, steps, updates):
            lt.backward.append(Step(f"-η·dL/d{label}", f"gradient descent on this sample, "
                                                      f"η = {lr:g}", step))
            lt.backward.append(Step(f"Δ{label}", f"the real next step: {name} with its stored "
                                                 f"state (not only this sample's gradient)",
                                    update))
    return result
