"""Merge layers: several tensors in, one out (Keras's ``layers/merging``).

Each takes a list of batches ``[x_1, ..., x_k]`` and gives back, in backward,
one gradient per input.  With ``g = dL/da``:

===========  ==============================  =========================================
layer        forward                         backward, dL/dx_i
===========  ==============================  =========================================
Add          a = Σ_i x_i                     g
Subtract     a = x_1 - x_2                   g, -g
Multiply     a = Π_i x_i   (elementwise)     g ⊙ Π_(j≠i) x_j
Average      a = (1/k) Σ_i x_i               g / k
Maximum      a = max_i x_i (elementwise)     g where x_i is the largest, else 0
Concatenate  a = [x_1 | x_2 | ...]  (axis -1) the columns of g that came from x_i
===========  ==============================  =========================================

The function forms (``add([a, b])``, ``concatenate([a, b])``, ...) make the
layer and call it, as Keras's do.
"""

from __future__ import annotations

import numpy as np

from ..backend import array_module
from ..trace import Step
from .layer import Layer, Record

__all__ = ["Merge", "Add", "Subtract", "Multiply", "Average", "Maximum", "Concatenate",
           "add", "subtract", "multiply", "average", "maximum", "concatenate"]


class Merge(Layer):
    """Base of the merge layers: a list of inputs of one width, combined elementwise."""

    takes_list = True
    #: the forward equation, for the trace
    equation = ""
    #: how many inputs the layer takes (None: two or more)
    arity = None

    def __init__(self, name=None, **kwargs):
        super().__init__(name, **kwargs)

    def _check_count(self, widths):
        if not isinstance(widths, (list, tuple)):
            raise ValueError(f"{type(self).__name__} takes a list of inputs; received one "
                             f"input of width {widths}")
        if self.arity is not None and len(widths) != self.arity:
            raise ValueError(f"{type(self).__name__} takes exactly {self.arity} inputs; "
                             f"received {len(widths)}")
        if len(widths) < 2:
            raise ValueError(f"{type(self).__name__} takes at least 2 inputs; received "
                             f"{len(widths)}")

    def build(self, input_dim, rng):
        self._check_count(input_dim)
        if len(set(input_dim)) != 1:
            raise ValueError(f"{type(self).__name__} combines inputs of one width "
                             f"elementwise; received widths {list(input_dim)}")
        return int(input_dim[0])

    def combine(self, xs):  # pragma: no cover - abstract
        raise NotImplementedError

    def input_gradients(self, grad_a):  # pragma: no cover - abstract
        raise NotImplementedError

    def forward(self, xs, training=False):
        a = self.combine(xs)
        self.record = Record(x=xs, a=a)
        return a

    def backward(self, grad_a, need_input_grad=True):
        return self.input_gradients(grad_a) if need_input_grad else None

    def title(self):
        return f"{type(self).__name__}({len(self.input_dim)} inputs): {self.equation}"

    def trace_forward(self):
        r = self.record
        steps = [Step(f"x{i}", f"input {i}", x) for i, x in enumerate(r.x, start=1)]
        return steps + [Step("a", self.equation, r.a)]

    def get_config(self):
        return super().get_config()


class Add(Merge):
    """``a = x_1 + x_2 + ...``; each input receives ``dL/da`` unchanged."""

    equation = "a = Σ_i x_i"

    def combine(self, xs):
        a = xs[0] + xs[1]
        for x in xs[2:]:
            a += x
        return a

    def input_gradients(self, grad_a):
        return [grad_a] * len(self.record.x)

    def to_onnx(self, graph, xs):
        return graph.op("Sum", xs)


class Subtract(Merge):
    """``a = x_1 - x_2``; backward ``dL/dx_1 = g``, ``dL/dx_2 = -g``."""

    equation = "a = x1 - x2"
    arity = 2

    def combine(self, xs):
        return xs[0] - xs[1]

    def input_gradients(self, grad_a):
        return [grad_a, -grad_a]

    def to_onnx(self, graph, xs):
        return graph.op("Sub", xs)


class Multiply(Merge):
    """``a = x_1 ⊙ x_2 ⊙ ...``; backward ``dL/dx_i = g ⊙ Π_(j≠i) x_j``."""

    equation = "a = Π_i x_i (elementwise)"

    def combine(self, xs):
        a = xs[0] * xs[1]
        for x in xs[2:]:
            a *= x
        return a

    def input_gradients(self, grad_a):
        xs = self.record.x
        grads = []
        for i in range(len(xs)):
            g = grad_a
            for j, x in enumerate(xs):
                if j != i:
                    g = g * x
            grads.append(g)
        return grads

    def to_onnx(self, graph, xs):
        a = xs[0]
        for x in xs[1:]:
            a = graph.op("Mul", [a, x])
        return a


class Average(Merge):
    """``a = (x_1 + ... + x_k) / k`` (an ensemble's mean); backward ``dL/dx_i = g / k``."""

    equation = "a = (1/k) Σ_i x_i"

    def combine(self, xs):
        a = xs[0] + xs[1]
        for x in xs[2:]:
            a += x
        a *= a.dtype.type(1.0 / len(xs))
        return a

    def input_gradients(self, grad_a):
        g = grad_a * grad_a.dtype.type(1.0 / len(self.record.x))
        return [g] * len(self.record.x)

    def to_onnx(self, graph, xs):
        return graph.op("Mean", xs)


class Maximum(Merge):
    """``a = max_i x_i`` elementwise; the gradient goes to the largest input (the first, on ties)."""

    equation = "a = max_i x_i (elementwise)"

    def combine(self, xs):
        xp = array_module(xs[0])
        a = xp.maximum(xs[0], xs[1])
        for x in xs[2:]:
            xp.maximum(a, x, out=a)
        return a

    def input_gradients(self, grad_a):
        xp = array_module(grad_a)
        xs = self.record.x
        winner = xp.argmax(xp.stack(xs), axis=0)       # which input gave each entry
        return [xp.where(winner == i, grad_a, 0).astype(grad_a.dtype) for i in range(len(xs))]

    def to_onnx(self, graph, xs):
        return graph.op("Max", xs)


class Concatenate(Merge):
    """``a = [x_1 | x_2 | ...]``: the inputs' features side by side (``axis=-1``).

    Backward hands each input the columns of ``dL/da`` that came from it.
    """

    equation = "a = [x1 | x2 | ...] (features side by side)"

    def __init__(self, axis=-1, name=None, **kwargs):
        super().__init__(name, **kwargs)
        if axis not in (-1, 1):
            raise ValueError(f"Concatenate joins features (axis=-1 or 1): glassnet's batches are "
                             f"2-D (samples, features); received axis={axis!r}")
        self.axis = -1

    def build(self, input_dim, rng):
        self._check_count(input_dim)
        return int(sum(input_dim))

    def combine(self, xs):
        xp = array_module(xs[0])
        return xp.concatenate(xs, axis=1)

    def input_gradients(self, grad_a):
        edges = np.cumsum(self.input_dim)[:-1]
        return array_module(grad_a).split(grad_a, edges, axis=1)

    def to_onnx(self, graph, xs):
        return graph.op("Concat", xs, axis=1)

    def get_config(self):
        return {"axis": self.axis, **super().get_config()}


def _merge(cls, inputs, kwargs):
    return cls(**kwargs)(inputs)


def add(inputs, **kwargs):
    """``Add()(inputs)``."""
    return _merge(Add, inputs, kwargs)


def subtract(inputs, **kwargs):
    """``Subtract()(inputs)``."""
    return _merge(Subtract, inputs, kwargs)


def multiply(inputs, **kwargs):
    """``Multiply()(inputs)``."""
    return _merge(Multiply, inputs, kwargs)


def average(inputs, **kwargs):
    """``Average()(inputs)``."""
    return _merge(Average, inputs, kwargs)


def maximum(inputs, **kwargs):
    """``Maximum()(inputs)``."""
    return _merge(Maximum, inputs, kwargs)


def concatenate(inputs, axis=-1, **kwargs):
    """``Concatenate(axis)(inputs)``."""
    return _merge(Concatenate, inputs, {"axis": axis, **kwargs})
