"""Activation layers: ``a = σ(x)`` as a layer of its own (Keras's ``layers/activations``).

``Dense(64)`` followed by ``BatchNormalization()`` and ``Activation("relu")`` is
the usual way to normalise the weighted sum before the nonlinearity.  The layer
applies the same :mod:`glassnet.activations` function a Dense layer would, so
``Dense(4, "tanh")`` and ``Dense(4)`` → ``Activation("tanh")`` compute the same
numbers.  Backward: ``dL/dx = dL/da ⊙ σ'(x)`` (the activation's ``backward``);
as the last layer, a softmax or sigmoid fuses with its cross-entropy exactly as
a Dense layer's does (the loss hands over ``δ = dL/dx``).
"""

from __future__ import annotations

from .. import _validation as check
from .. import activations
from ..trace import Step
from .layer import Layer, Record

__all__ = ["Activation", "ReLU", "LeakyReLU", "Softmax"]


class Activation(Layer):
    """``a = σ(x)``, elementwise (softmax: over each row).

    Parameters
    ----------
    activation : str or glassnet.activations.Activation
    """

    def __init__(self, activation, name=None, **kwargs):
        super().__init__(name, **kwargs)
        self.activation = activations.get(activation)

    @property
    def can_backpropagate(self):
        return self.activation.trainable

    def forward(self, x, training=False):
        steps = {}
        a = self.activation.forward(x, steps)
        self.record = Record(x=x, z=x, a=a, steps=steps, grad_a=None, delta=None)
        return a

    def backward(self, grad_a, need_input_grad=True):
        r = self.record
        r.grad_a = grad_a
        r.delta = self.activation.backward(r.z, r.a, grad_a)        # dL/dx = dL/da ⊙ σ'(x)
        return r.delta if need_input_grad else None

    def backward_from_delta(self, delta, need_input_grad=True):
        """The loss handed over ``δ = dL/dz``; here z is the input, so dL/dx = δ."""
        self.record.delta = delta
        return delta if need_input_grad else None

    def title(self):
        return f"Activation {self.activation.name}"

    def trace_forward(self):
        r = self.record
        return ([Step("x", "input", r.x)]
                + [Step(label, formula, value) for label, (formula, value) in r.steps.items()]
                + [Step("a", f"a = {self.activation.name}(x)", r.a)])

    def trace_backward(self):
        r = self.record
        if r.grad_a is None:
            return [Step("δ", f"dL/dx, fused {self.activation.name} + loss", r.delta)]
        return [Step("dL/da", "from the layer above (or the loss)", r.grad_a),
                Step("dL/dx", f"dL/da ⊙ {self.activation.name}'(x)", r.delta)]

    def to_onnx(self, graph, x):
        return self.activation.to_onnx(graph, x)

    def get_config(self):
        return {"activation": activations.serialize(self.activation), **super().get_config()}


class ReLU(Activation):
    """``a = max(x, 0)`` (with ``negative_slope``: ``x`` where positive, ``slope · x`` below)."""

    def __init__(self, negative_slope=0.0, name=None, **kwargs):
        self.negative_slope = check.real(negative_slope, "ReLU negative_slope")
        act = "relu" if self.negative_slope == 0 else activations.LeakyReLU(self.negative_slope)
        super().__init__(act, name, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.pop("activation")
        return {"negative_slope": self.negative_slope, **config}


class LeakyReLU(ReLU):
    """``a = x`` where positive, ``negative_slope · x`` below (Keras 3's default slope 0.3)."""

    def __init__(self, negative_slope=0.3, name=None, **kwargs):
        super().__init__(negative_slope, name, **kwargs)


class Softmax(Activation):
    """``a_j = e^(x_j) / Σ_k e^(x_k)`` over each row (``axis=-1``)."""

    def __init__(self, axis=-1, name=None, **kwargs):
        if axis not in (-1, 1):
            raise ValueError(f"Softmax normalises each sample's features (axis=-1); received "
                             f"axis={axis!r}")
        super().__init__("softmax", name, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.pop("activation")
        return config
