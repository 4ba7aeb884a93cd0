"""Core layers: the input, and the weighted sum with backpropagation through it.

A dense layer with ``units`` neurons holds a kernel ``W`` of shape
``(inputs, units)`` and a bias ``b`` of shape ``(units,)``, so a whole batch
goes forward in one matrix product:

    z = x · W + b          (n, inputs) · (inputs, units) + (units,) → (n, units)
    a = σ(z)               the activation, elementwise

Row i of ``z`` holds, for every neuron j, the first seed document's
``Σ_k x_ik w_kj`` plus the bias.

Backpropagation runs the same layer in reverse.  Given ``dL/da`` from the
layer above, the chain rule gives, in order,

    δ = dL/dz = dL/da ⊙ σ'(z)        (the activation's ``backward``)
    dL/dW = xᵀ · δ                     (inputs, n) · (n, units)
    dL/db = Σ_i δ_i                    summed over the batch
    dL/dx = δ · Wᵀ                     handed to the layer below as its dL/da

(The mean over the batch is already inside δ: the loss divides by n.)
"""

from __future__ import annotations

import math

import numpy as np

from .. import _validation as check
from .. import activations, initializers, regularizers
from ..backend import array_module
from ..trace import Step
from .layer import Layer, Node, Record, as_variables
from .reshaping import PassThrough, sample_shape

__all__ = ["InputLayer", "Input", "Dense", "fold_bias", "unfold_bias"]


class InputLayer(PassThrough):
    """Declares the input width (Keras's ``Input(shape=(n,))``); the identity.

    ``Sequential([InputLayer(shape=(4,)), Dense(8), ...])`` builds at once.
    """

    def __init__(self, shape=None, name=None, input_dim=None):
        self.sample_shape = None
        if shape is not None:
            if not isinstance(shape, (tuple, list)) or not shape:
                raise ValueError(f"InputLayer shape must be a tuple such as (n_features,); "
                                 f"received {shape!r}")
            if len(shape) > 1:                 # e.g. (28, 28): flattened at the boundary
                self.sample_shape = sample_shape(shape, "InputLayer shape")
                input_dim = math.prod(self.sample_shape)
            else:
                input_dim = shape[0]
        super().__init__(name, input_dim)
        if self.declared_input_dim is None:
            raise ValueError("InputLayer needs shape=(n_features,)")

    @property
    def flattens_input(self):
        """True for a shape of several dimensions: the model flattens each sample."""
        return self.sample_shape is not None

    def get_config(self):
        config = super().get_config()
        width = config.pop("input_dim")
        config["shape"] = list(self.sample_shape) if self.sample_shape else [width]
        return config


def Input(shape=None, name=None, batch_size=None, dtype=None):
    """A symbolic input of shape ``(None, n)``: where a functional model starts (Keras's ``Input``).

    ``inputs = gn.Input(shape=(784,))`` returns a
    :class:`~glassnet.layers.SymbolicTensor`; calling layers on it records the
    graph that ``gn.Model(inputs, outputs)`` trains.  In a ``Sequential``
    list it stands for an :class:`InputLayer` (Keras allows both).
    """
    if dtype not in (None, "float32", "float64", np.float32, np.float64):
        raise ValueError(f"Input dtype must be float32 or float64 (the model's dtype decides); "
                         f"received {dtype!r}")
    layer = InputLayer(shape=shape, name=name)
    node = Node(layer, [], [layer.declared_input_dim])
    layer.input_dim = layer.output_dim = layer.declared_input_dim
    tensor = node.outputs[0]
    tensor.name = layer.name
    if dtype is not None:
        tensor.dtype = np.dtype(dtype).name
    return tensor


class Dense(Layer):
    """Fully connected layer: ``a = σ(x · W + b)``.

    Parameters
    ----------
    units : int
        Number of neurons (outputs).
    activation : str, Activation or None
        σ; None means linear.  See :mod:`glassnet.activations`.
    input_dim : int, optional
        Number of inputs; inferred from the data (or the previous layer) if omitted.
    kernel_initializer, bias_initializer : str, Initializer, (low, high) or number
        How W and b start.  ``(-1, 1)`` is seed document 004's ``weightBounds``.
    use_bias : bool, default True
    kernel_regularizer : str, Regularizer or None
        Penalty on W added to the loss (see :mod:`glassnet.regularizers`).
    name : str, optional
    """

    def __init__(self, units, activation=None, input_dim=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 use_bias=True, kernel_regularizer=None, name=None, **kwargs):
        super().__init__(name, input_dim, **kwargs)
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units < 1:
            raise ValueError(f"Dense units must be a positive integer, received {units!r}")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.kernel_initializer = initializers.get(       # None: Keras's default
            "glorot_uniform" if kernel_initializer is None else kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.use_bias = check.strict_bool(use_bias, "Dense use_bias")
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.param_names = ("W", "b") if self.use_bias else ("W",)
        self.W = self.b = self.dW = self.db = None

    def build(self, input_dim, rng):
        super().build(input_dim, rng)
        self.output_dim = self.units
        return self.units

    def param_shapes(self):
        return [(self.input_dim, self.units), (self.units,)][:len(self.param_names)]

    def initial_weights(self, dtype):
        arrays = [self.kernel_initializer((self.input_dim, self.units), self.rng, dtype)]
        if self.use_bias:
            arrays.append(self.bias_initializer((self.units,), self.rng, dtype))
        return arrays

    def bind(self, weights, grads):
        super().bind(weights, grads)
        self.W = weights[0]
        self.dW = grads[0]
        if self.use_bias:
            self.b, self.db = weights[1], grads[1]

    @property
    def kernel(self):
        """W (a live view with ``assign``/``numpy``), or None before the model is built."""
        return None if self.W is None else as_variables([self.W])[0]

    @property
    def bias(self):
        """b (a live view with ``assign``/``numpy``), or None."""
        return None if self.b is None else as_variables([self.b])[0]

    @property
    def can_backpropagate(self):
        return self.activation.trainable

    # -- forward: z = x·W + b, a = σ(z) ----------------------------------------------------
    def forward(self, x, training=False):
        """Compute ``a = σ(x · W + b)`` for a batch ``x`` of shape (n, inputs)."""
        z = x @ self.W
        steps = {}
        a = None
        if training and self.kernels is not None and self.use_bias:
            a = self.kernels.bias_activation(self.activation, z, self.b)   # the next 2 lines, fused
        if a is None:
            if self.use_bias:
                z += self.b
            a = self.activation.forward(z, steps)
        self.record = Record(x=x, z=z, a=a, steps=steps, grad_a=None, delta=None)
        return a

    # -- backward: δ = dL/da ⊙ σ'(z), then dL/dW, dL/db, dL/dx -------------------------
    def backward(self, grad_a, need_input_grad=True):
        """Given ``dL/da`` (n, units), fill ``dW``, ``db`` and return ``dL/dx`` (n, inputs)."""
        r = self.record
        r.grad_a = grad_a
        delta = None
        if self.kernels is not None and self.use_bias:
            # δ and dL/db in one pass (the NumPy lines here and in backward_from_delta)
            delta = self.kernels.activation_backward_bias(self.activation, r.a, grad_a, self.db)
        if delta is not None:
            return self.backward_from_delta(delta, need_input_grad, bias_done=True)
        delta = self.activation.backward(r.z, r.a, grad_a)          # δ = dL/da ⊙ σ'(z)
        return self.backward_from_delta(delta, need_input_grad)

    def backward_from_delta(self, delta, need_input_grad=True, bias_done=False):
        """Given ``δ = dL/dz`` (n, units), fill ``dW``, ``db`` and return ``dL/dx``.

        The model calls this directly when the loss supplies δ in fused form
        (softmax + cross-entropy, sigmoid + binary cross-entropy).
        """
        self.record.delta = delta
        xp = array_module(delta)                                # numpy, or cupy on a GPU
        xp.matmul(self.record.x.T, delta, out=self.dW)          # dL/dW = xᵀ δ
        if self.use_bias and not bias_done and not (
                self.kernels is not None and self.kernels.bias_gradient(delta, self.db)):
            delta.sum(axis=0, out=self.db)                      # dL/db = Σ_i δ_i
        if not need_input_grad:
            return None
        return delta @ self.W.T                                 # dL/dx = δ Wᵀ

    def penalty(self):
        """The regularization term R(W) this layer adds to the loss (0 if none)."""
        return 0.0 if self.kernel_regularizer is None else self.kernel_regularizer.penalty(self.W)

    @property
    def regularized(self):
        return self.kernel_regularizer is not None

    def penalty_gradient(self):
        """dL/dW += dR/dW (the model calls this once per backward pass)."""
        if self.kernel_regularizer is not None:
            self.kernel_regularizer.add_gradient(self.W, self.dW)

    # -- description -----------------------------------------------------------------------
    def title(self):
        return f"Dense({self.input_dim} → {self.units}), activation {self.activation.name}"

    def trace_forward(self):
        r = self.record
        steps = [Step("x", "input (n, inputs)", r.x),
                 Step("W", f"weights {self.W.shape}", self.W.copy())]
        if self.use_bias:
            steps += [Step("b", f"bias {self.b.shape}", self.b.copy()),
                      Step("z", "weighted sum z = x·W + b", r.z)]
        else:
            steps.append(Step("z", "weighted sum z = x·W", r.z))
        steps += [Step(label, formula, value) for label, (formula, value) in r.steps.items()]
        steps.append(Step("a", f"activation a = {self.activation.name}(z)", r.a))
        return steps

    def trace_backward(self):
        r = self.record
        if r.grad_a is None:        # the loss handed over δ directly
            steps = [Step("δ", f"dL/dz, fused {self.activation.name} + loss: no dL/da needed",
                          r.delta)]
        else:
            steps = [Step("dL/da", "from the layer above (or the loss)", r.grad_a),
                     Step("δ", f"dL/dz = dL/da ⊙ {self.activation.name}'(z)", r.delta)]
        reg = " + dR/dW" if self.kernel_regularizer is not None else ""
        steps.append(Step("dL/dW", "xᵀ · δ" + reg, self.dW.copy()))
        if self.use_bias:
            steps.append(Step("dL/db", "Σ_samples δ", self.db.copy()))
        return steps

    def to_onnx(self, graph, x):
        z = graph.op("MatMul", [x, graph.const(self.W, "W")], hint="matmul")
        if self.use_bias:
            z = graph.op("Add", [z, graph.const(self.b, "b")], hint="z")
        return self.activation.to_onnx(graph, z)

    def get_config(self):
        config = {"units": self.units, "activation": activations.serialize(self.activation),
                  "kernel_initializer": initializers.serialize(self.kernel_initializer),
                  "bias_initializer": initializers.serialize(self.bias_initializer),
                  "use_bias": self.use_bias,
                  "kernel_regularizer": None if self.kernel_regularizer is None
                  else regularizers.serialize(self.kernel_regularizer)}
        return {**config, **super().get_config()}

    def __repr__(self):
        return f"Dense({self.units}, activation={self.activation.name!r})"


def fold_bias(W, b):
    """Fold a separate bias into the kernel as the weight of a constant input 1.

    ``x · W + b  ==  [x, 1] · fold_bias(W, b)``

    Parameters
    ----------
    W : array of shape (inputs, units)
    b : array of shape (units,)

    Returns
    -------
    W_aug : array of shape (inputs + 1, units); its last row is ``b``.
    """
    W = np.asarray(W)
    b = np.asarray(b).reshape(-1)
    if W.ndim != 2 or b.shape[0] != W.shape[1]:
        raise ValueError(f"fold_bias expects W of shape (inputs, units) and b of shape "
                         f"(units,); received W {W.shape} and b {b.shape}")
    return np.vstack([W, b[None, :]])


def unfold_bias(W_aug):
    """Split an augmented kernel (last row = bias) back into ``(W, b)``; see :func:`fold_bias`."""
    W_aug = np.asarray(W_aug)
    if W_aug.ndim != 2 or W_aug.shape[0] < 2:
        raise ValueError(f"unfold_bias expects an array of shape (inputs + 1, units) with "
                         f"inputs >= 1; received shape {W_aug.shape}")
    return W_aug[:-1].copy(), W_aug[-1].copy()
