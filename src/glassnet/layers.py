"""Layers: the weighted sum, and backpropagation through it.

Data layout, once for the whole library: a batch is a 2-D array of shape
``(n_samples, n_features)``, one sample per row.  A dense layer with ``units``
neurons holds a kernel ``W`` of shape ``(inputs, units)`` and a bias ``b`` of
shape ``(units,)``, so a whole batch goes forward in one matrix product:

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

The layer contract
------------------
Every layer is a subclass of :class:`Layer` and says, in one class, how it

* **builds**: ``build(input_dim, rng)`` fixes the input width and returns the
  output width; ``param_shapes()`` (trained) and ``state_shapes()`` (not
  trained, e.g. moving averages) declare its arrays, ``initial_weights(dtype)``
  fills them, and ``bind(weights, grads)`` hands it views into the model's
  flat vectors, so ``W`` and ``b`` *are* slices of ``model.params`` and the
  optimizer updates every layer at once;
* **computes**: ``forward(x, training)`` and ``backward(dL/da)``, side by
  side.  ``forward`` keeps what it computed in ``layer.record`` (a
  :class:`Record` with named fields: ``x``, ``a`` and the layer's own steps),
  which ``backward`` reads and adds its gradients to;
* **goes fast, optionally**: ``use_kernels(kernels)`` receives the model's
  compiled kernels for ``fit`` (:mod:`glassnet.fast`); a layer may use fused
  forms of its NumPy expressions from them, or ignore them (the default);
* **explains**: ``trace_forward()`` / ``trace_backward()`` read the record
  back as the steps of :mod:`glassnet.trace`; ``to_onnx(graph, x)`` writes the
  same forward pass as ONNX operators; ``get_config()`` describes it for
  saving.

Your own layer: subclass :class:`Layer`, implement these, and
:func:`glassnet.register` it; nothing outside the class needs to change.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np

from . import _validation as check
from . import activations, initializers, regularizers
from ._registry import Registry
from ._text import config_repr
from .trace import Step

__all__ = ["Layer", "Record", "Dense", "Dropout", "Rescaling", "Normalization",
           "BatchNormalization", "LayerNormalization",
           "InputLayer", "fold_bias", "unfold_bias", "get", "serialize", "deserialize"]


def _positive_int_or_none(value, what):
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer))
                              or value < 1):
        raise ValueError(f"{what} must be a positive integer or None, received {value!r}")
    return None if value is None else int(value)


class Record(SimpleNamespace):
    """What a layer's last forward (and backward) pass computed, by name.

    Every layer records at least ``x`` (its input) and ``a`` (its output);
    :class:`Dense` adds ``z``, the activation's ``steps`` and, after
    ``backward``, ``grad_a`` (dL/da) and ``delta`` (dL/dz).
    """


class Layer:
    """Base class of every layer (see the module docstring for the contract).

    Parameters
    ----------
    name : str, optional
        The layer's name (``layer.name``, ``model.get_layer(name)``).  Left
        out, the model names it after its kind: ``dense``, ``dense_1``, ...
    input_dim : int, optional
        The width of the input, when this layer comes first; a model whose
        first layer knows it is built at once.
    input_shape : tuple (n,), optional
        Keras 2's spelling of ``input_dim=n``.
    """

    #: the activation σ of layers that have one (Dense); the loss may fuse with it
    activation = None
    #: the weight matrix of layers that have one (Dense), for drawings
    kernel = None
    #: short names of the trained arrays, then of the state arrays, in order
    param_names = ()
    state_names = ()

    def __init__(self, name=None, input_dim=None, input_shape=None):
        if input_shape is not None:
            if not isinstance(input_shape, (tuple, list)) or len(input_shape) != 1:
                raise ValueError(f"input_shape must be a one-element tuple (n_features,): "
                                 f"glassnet's layers take 2-D batches; received {input_shape!r}")
            if input_dim is not None and input_dim != input_shape[0]:
                raise ValueError(f"input_dim={input_dim!r} and input_shape={input_shape!r} "
                                 f"disagree; give one of them")
            input_dim = input_shape[0]
        if name is not None and (not isinstance(name, str) or not name):
            raise ValueError(f"a layer name must be a non-empty string; received {name!r}")
        #: True while the name is the automatic one (the model may number it)
        self.auto_named = name is None
        self.name = name if name is not None else REGISTRY.name_of(self)
        self.declared_input_dim = _positive_int_or_none(
            input_dim, f"{type(self).__name__} input_dim")
        self.input_dim = self.output_dim = None
        self.rng = None
        #: compiled kernels for training (glassnet[fast]), or None: see :meth:`use_kernels`
        self.kernels = None
        #: views into the model's flat vectors, set by :meth:`bind`
        self.weights, self.grads = [], []
        #: what the last forward/backward pass computed (see :class:`Record`)
        self.record = None

    # -- construction ----------------------------------------------------------------
    def build(self, input_dim, rng):
        """Fix the input width; return the output width.

        ``rng`` is the model's ``numpy.random.Generator``, for layers that
        draw random numbers (initial weights, dropout masks).
        """
        if self.declared_input_dim is not None and input_dim != self.declared_input_dim:
            raise ValueError(f"layer {self.name!r} was declared with input_dim="
                             f"{self.declared_input_dim} but receives {input_dim} inputs")
        self.input_dim = self.output_dim = int(input_dim)
        self.rng = rng
        return self.output_dim

    @property
    def built(self):
        return self.output_dim is not None

    def param_shapes(self):
        """Shapes of the trained arrays, in the order of ``get_weights``."""
        return []

    def state_shapes(self):
        """Shapes of the arrays that are saved but not trained (moving averages)."""
        return []

    def initial_weights(self, dtype):
        """Fresh arrays for :meth:`param_shapes` then :meth:`state_shapes`."""
        return []

    def bind(self, weights, grads):
        """Receive views into the model's flat vectors: every weight, and the trained ones' gradients."""
        self.weights, self.grads = list(weights), list(grads)

    @property
    def params(self):
        """The trained arrays (views into ``model.params``)."""
        return self.weights[:len(self.grads)]

    def get_weights(self):
        """Copies of this layer's arrays, trained ones first (Keras's ``layer.get_weights()``)."""
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        """Write this layer's arrays, in the order of :meth:`get_weights`."""
        if not self.weights and self.param_shapes() + self.state_shapes():
            raise ValueError(f"layer {self.name!r} has no weights yet: build its model first")
        weights = list(weights)
        if len(weights) != len(self.weights):
            raise ValueError(f"layer {self.name!r} has {len(self.weights)} weight arrays; "
                             f"set_weights received {len(weights)}")
        arrays = [check.as_weight(value, view.shape, f"{self.name} weight {i}")
                  for i, (view, value) in enumerate(zip(self.weights, weights))]
        for view, value in zip(self.weights, arrays):
            view[...] = value

    @property
    def can_backpropagate(self):
        """False for layers whose gradient carries no signal (a step activation)."""
        return True

    def use_kernels(self, kernels):
        """Accept the model's compiled kernels (:mod:`glassnet.fast`) for ``fit``, or None.

        A layer that has fused forms of its NumPy expressions uses them while
        training; the others ignore them.
        """
        self.kernels = kernels

    def penalty(self):
        """The regularization term this layer adds to the loss."""
        return 0.0

    # -- computation -----------------------------------------------------------------
    def forward(self, x, training=False):  # pragma: no cover - abstract
        """Return the output ``a`` for a batch ``x`` and keep both in ``self.record``."""
        raise NotImplementedError

    def backward(self, grad_a, need_input_grad=True):  # pragma: no cover - abstract
        """Given ``dL/da``, fill this layer's gradients and return ``dL/dx`` (None if not needed)."""
        raise NotImplementedError

    @property
    def output(self):
        """The output ``a`` of the last forward pass."""
        return self.record.a

    # -- description -----------------------------------------------------------------
    def count_params(self):
        return sum(math.prod(s) for s in self.param_shapes() + self.state_shapes())

    def title(self):
        """One line for the trace, e.g. ``Dense(2 → 4), activation tanh``."""
        return f"{type(self).__name__} {self.name!r}"

    def trace_forward(self):
        """The forward pass as :class:`~glassnet.trace.Step` s, read from :attr:`record`."""
        return [Step("x", "input", self.record.x), Step("a", "output", self.record.a)]

    def trace_backward(self):
        """The backward pass as steps (empty for layers without weights)."""
        return []

    def to_onnx(self, graph, x):
        """Append this layer's forward pass to ``graph`` (see :mod:`glassnet.export`)."""
        raise ValueError(f"layer {type(self).__name__} has no ONNX form; give its class a "
                         f"to_onnx(graph, x) method")

    def get_config(self):
        config = {} if self.auto_named else {"name": self.name}
        if self.declared_input_dim is not None:
            config["input_dim"] = self.declared_input_dim
        return config

    def __repr__(self):
        return config_repr(self)


class InputLayer(Layer):
    """Declares the input width (Keras's ``Input(shape=(n,))``); the identity.

    ``Sequential([InputLayer(shape=(4,)), Dense(8), ...])`` builds at once.
    """

    def __init__(self, shape=None, name=None, input_dim=None):
        if shape is not None:
            if not isinstance(shape, (tuple, list)) or len(shape) != 1:
                raise ValueError(f"InputLayer shape must be a one-element tuple (n_features,): "
                                 f"glassnet's layers take 2-D batches; received {shape!r}")
            input_dim = shape[0]
        super().__init__(name, input_dim)
        if self.declared_input_dim is None:
            raise ValueError("InputLayer needs shape=(n_features,)")

    def forward(self, x, training=False):
        self.record = Record(x=x, a=x)
        return x

    def backward(self, grad_a, need_input_grad=True):
        return grad_a if need_input_grad else None

    def to_onnx(self, graph, x):
        return x

    def get_config(self):
        config = super().get_config()
        config["shape"] = [config.pop("input_dim")]
        return config


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
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.use_bias = bool(use_bias)
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
        self.W = self.kernel = weights[0]
        self.dW = grads[0]
        if self.use_bias:
            self.b, self.db = weights[1], grads[1]

    @property
    def bias(self):
        return self.b

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
        np.matmul(self.record.x.T, delta, out=self.dW)          # dL/dW = xᵀ δ
        if self.kernel_regularizer is not None:
            self.kernel_regularizer.add_gradient(self.W, self.dW)
        if self.use_bias and not bias_done:
            np.add.reduce(delta, axis=0, out=self.db)           # dL/db = Σ_i δ_i
        if not need_input_grad:
            return None
        return delta @ self.W.T                                 # dL/dx = δ Wᵀ

    def penalty(self):
        """The regularization term R(W) this layer adds to the loss (0 if none)."""
        return 0.0 if self.kernel_regularizer is None else self.kernel_regularizer.penalty(self.W)

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


class Dropout(Layer):
    """Inverted dropout: while training, zero each input with probability ``rate``.

    The survivors are scaled by ``1 / (1 - rate)`` so that the expected value of
    every unit is unchanged; at inference the layer is the identity.  With the
    random mask ``m`` (entries 0 or 1/(1-rate)):

        forward:  a = x ⊙ m            backward:  dL/dx = dL/da ⊙ m

    Parameters
    ----------
    rate : float in [0, 1)
        Fraction of inputs to drop.
    """

    def __init__(self, rate, name=None, input_dim=None, **kwargs):
        super().__init__(name, input_dim, **kwargs)
        rate = float(rate)
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"Dropout rate must be in [0, 1), received {rate!r}")
        self.rate = rate

    def forward(self, x, training=False):
        if not training or self.rate == 0.0:
            self.record = Record(x=x, mask=None, a=x)
            return x
        mask = self.rng.random(x.shape, dtype=x.dtype)
        # keep with probability 1 - rate, scaled so E[a] = x
        keep = mask >= self.rate
        np.multiply(keep, 1.0 / (1.0 - self.rate), out=mask)
        a = x * mask
        self.record = Record(x=x, mask=mask, a=a)
        return a

    def backward(self, grad_a, need_input_grad=True):
        if not need_input_grad:
            return None
        mask = self.record.mask
        return grad_a if mask is None else grad_a * mask

    def title(self):
        return f"Dropout({self.rate:g}): the identity at inference"

    def trace_forward(self):
        r = self.record
        formula = "a = x" if r.mask is None else "a = x ⊙ mask"
        return [Step("x", "input", r.x), Step("a", formula, r.a)]

    def to_onnx(self, graph, x):
        return x                                   # the identity at inference

    def get_config(self):
        return {"rate": self.rate, **super().get_config()}

    def __repr__(self):
        return f"Dropout({self.rate})"


class Rescaling(Layer):
    """``a = x · scale + offset``: input scaling that travels with the model.

    Put it first so that a saved model takes raw inputs (e.g. pixels 0..255
    with ``scale=1/255``).  No trainable parameters; ``dL/dx = dL/da · scale``.
    """

    def __init__(self, scale, offset=0.0, name=None, input_dim=None, **kwargs):
        super().__init__(name, input_dim, **kwargs)
        self.scale, self.offset = float(scale), float(offset)
        if not (np.isfinite(self.scale) and np.isfinite(self.offset)) or self.scale == 0:
            raise ValueError(f"Rescaling needs a finite non-zero scale and a finite offset; "
                             f"received scale={scale!r}, offset={offset!r}")

    def forward(self, x, training=False):
        a = x * np.asarray(self.scale, dtype=x.dtype)
        if self.offset:
            a += np.asarray(self.offset, dtype=x.dtype)
        self.record = Record(x=x, a=a)
        return a

    def backward(self, grad_a, need_input_grad=True):
        return grad_a * np.asarray(self.scale, dtype=grad_a.dtype) if need_input_grad \
            else None

    def title(self):
        return f"Rescaling(scale={self.scale:g}, offset={self.offset:g})"

    def trace_forward(self):
        return [Step("x", "input", self.record.x),
                Step("a", "a = x · scale + offset", self.record.a)]

    def to_onnx(self, graph, x):
        x = graph.op("Mul", [x, graph.const(self.scale, "scale")])
        if self.offset:
            x = graph.op("Add", [x, graph.const(self.offset, "offset")])
        return x

    def get_config(self):
        return {"scale": self.scale, "offset": self.offset, **super().get_config()}

    def __repr__(self):
        return f"Rescaling({self.scale!r}, offset={self.offset!r})"


def _standardize(x, mean, var, epsilon):
    """``x̂ = (x - μ) / √(σ² + ε)``; returns ``x̂`` and ``s = √(σ² + ε)``."""
    std = np.sqrt(var + epsilon)
    return (x - mean) / std, std


def _standardize_backward(g, x_hat, std, axis):
    """dL/dx for ``x̂ = (x - μ) / s`` when μ and σ² are the mean and variance of ``x``
    along ``axis`` (n values), given ``g = dL/dx̂``:

        dL/dx = (n g - Σ g - x̂ Σ (g ⊙ x̂)) / (n s)        (sums along ``axis``)
    """
    n = g.shape[axis]
    return (n * g - g.sum(axis=axis, keepdims=True)
            - x_hat * (g * x_hat).sum(axis=axis, keepdims=True)) / (n * std)


class Normalization(Layer):
    """Standardise each feature with a mean and variance learnt from the data: Keras's layer.

    ``a = (x - mean) / max(√variance, 1e-7)``, per feature.  :meth:`adapt`
    computes ``mean`` and ``variance`` (the population variance) from data
    once, before training; they are saved with the model, exported to ONNX and
    shown by ``trace``, but not trained.  So a saved model takes raw inputs.

    Parameters
    ----------
    mean, variance : array-like (features,), optional
        Known statistics, instead of :meth:`adapt` (e.g. a min-max scaling is
        ``mean=min, variance=(max - min)²``).
    """

    state_names = ("mean", "variance")
    #: the smallest standard deviation divided by (a constant feature stays finite)
    EPSILON = 1e-7

    def __init__(self, mean=None, variance=None, name=None, input_dim=None, **kwargs):
        if (mean is None) != (variance is None):
            raise ValueError("Normalization needs both mean and variance, or neither (then "
                             "call adapt(x))")
        self.adapted = None
        if mean is not None:
            self.adapted = self._statistics(mean, variance)
            input_dim = input_dim if input_dim is not None else len(self.adapted[0])
        super().__init__(name, input_dim, **kwargs)

    @staticmethod
    def _statistics(mean, variance):
        mean = np.asarray(mean, dtype=np.float64).reshape(-1)
        variance = np.asarray(variance, dtype=np.float64).reshape(-1)
        if mean.shape != variance.shape or not (np.isfinite(mean).all()
                                                and np.isfinite(variance).all()) \
                or (variance < 0).any():
            raise ValueError(f"Normalization needs finite means and non-negative variances of "
                             f"one shape; received shapes {mean.shape} and {variance.shape}")
        return mean, variance

    def adapt(self, x):
        """Learn each feature's mean and (population) variance from ``x`` (n, features)."""
        x = check.as_matrix(x, "x", np.float64, self.input_dim or self.declared_input_dim)
        self.adapted = (x.mean(axis=0), x.var(axis=0))
        if self.weights:                                   # already part of a built model
            self.mean[...], self.variance[...] = self.adapted
        elif self.declared_input_dim is None:
            self.declared_input_dim = x.shape[1]
        return self

    def state_shapes(self):
        return [(self.input_dim,)] * 2

    def initial_weights(self, dtype):
        if self.adapted is None:            # the identity until adapted
            return [np.zeros(self.input_dim, dtype), np.ones(self.input_dim, dtype)]
        if len(self.adapted[0]) != self.input_dim:
            raise ValueError(f"layer {self.name!r} was adapted to {len(self.adapted[0])} "
                             f"features but receives {self.input_dim}")
        return [a.astype(dtype) for a in self.adapted]

    def bind(self, weights, grads):
        super().bind(weights, grads)
        self.mean, self.variance = weights

    def _std(self):
        return np.maximum(np.sqrt(self.variance), self.variance.dtype.type(self.EPSILON))

    def forward(self, x, training=False):
        std = self._std()
        a = (x - self.mean) / std
        self.record = Record(x=x, std=std, a=a)
        return a

    def backward(self, grad_a, need_input_grad=True):
        return grad_a / self.record.std if need_input_grad else None        # dL/dx = dL/da / s

    def title(self):
        return f"Normalization({self.input_dim} features)"

    def trace_forward(self):
        r = self.record
        return [Step("x", "input", r.x), Step("mean", "the mean of each feature (adapted)",
                                              self.mean.copy()),
                Step("std", "√variance of each feature (adapted)", r.std),
                Step("a", "a = (x - mean) / std", r.a)]

    def to_onnx(self, graph, x):
        return graph.op("Div", [graph.op("Sub", [x, graph.const(self.mean, "mean")]),
                                graph.const(self._std(), "std")])

    def get_config(self):
        config = super().get_config()
        if self.adapted is not None and not self.weights:     # not yet in a model's weights
            config.update(mean=self.adapted[0].tolist(), variance=self.adapted[1].tolist())
        return config


class _Standardizing(Layer):
    """What BatchNormalization and LayerNormalization share: ``x̂``, then ``a = γ ⊙ x̂ + β``.

    A subclass says over which axis the mean μ and variance σ² are taken
    (:meth:`statistics`); here are the trained scale γ and shift β, the
    forward pass from the statistics, and the backward pass, with
    ``g = dL/dx̂ = dL/da ⊙ γ``:

        dL/dγ = Σ_i dL/da ⊙ x̂          dL/dβ = Σ_i dL/da
    """

    param_names = ("gamma", "beta")
    #: the axis μ and σ² are taken over (0: the batch, 1: the features)
    axis = 0

    def __init__(self, epsilon, name=None, input_dim=None, **kwargs):
        super().__init__(name, input_dim, **kwargs)
        self.epsilon = float(epsilon)
        if not (math.isfinite(self.epsilon) and self.epsilon > 0):
            raise ValueError(f"{type(self).__name__} epsilon must be positive, received "
                             f"{epsilon!r}")

    def param_shapes(self):
        return [(self.input_dim,)] * 2

    def initial_weights(self, dtype):
        return [np.ones(self.input_dim, dtype), np.zeros(self.input_dim, dtype)]   # γ, β

    def bind(self, weights, grads):
        super().bind(weights, grads)
        self.gamma, self.beta = weights[:2]
        self.dgamma, self.dbeta = grads

    def statistics(self, x, training):
        """(μ, σ², whether they depend on this batch's x)."""
        raise NotImplementedError

    def forward(self, x, training=False):
        mean, var, from_x = self.statistics(x, training)
        x_hat, std = _standardize(x, mean, var, self.epsilon)
        a = self.gamma * x_hat + self.beta
        self.record = Record(x=x, mean=mean, var=var, std=std, x_hat=x_hat, a=a, from_x=from_x)
        return a

    def backward(self, grad_a, need_input_grad=True):
        r = self.record
        np.add.reduce(grad_a * r.x_hat, axis=0, out=self.dgamma)     # dL/dγ = Σ dL/da ⊙ x̂
        np.add.reduce(grad_a, axis=0, out=self.dbeta)                # dL/dβ = Σ dL/da
        if not need_input_grad:
            return None
        g = grad_a * self.gamma                                      # dL/dx̂
        if not r.from_x:
            return g / r.std                 # fixed statistics do not depend on x
        return _standardize_backward(g, r.x_hat, r.std, axis=self.axis)

    def title(self):
        return f"{type(self).__name__}({self.input_dim} features)"

    def trace_backward(self):
        return [Step("dL/dγ", "Σ_samples dL/da ⊙ x̂", self.dgamma.copy()),
                Step("dL/dβ", "Σ_samples dL/da", self.dbeta.copy())]

    def _affine_onnx(self, graph, x_hat):
        return graph.op("Add", [graph.op("Mul", [graph.const(self.gamma, "gamma"), x_hat]),
                                graph.const(self.beta, "beta")])

    def get_config(self):
        return {"epsilon": self.epsilon, **super().get_config()}


class BatchNormalization(_Standardizing):
    """Normalise each feature over the batch, then scale and shift: ``a = γ x̂ + β``.

    Training, on a batch of n rows, with the batch mean μ and (biased)
    variance σ² of each feature:

        x̂ = (x - μ) / √(σ² + ε)            a = γ ⊙ x̂ + β
        moving_mean ← m · moving_mean + (1 - m) · μ
        moving_var  ← m · moving_var  + (1 - m) · σ² · n / (n - 1)

    (the moving variance takes the unbiased batch variance, as PyTorch's
    ``BatchNorm1d`` does; Keras takes the biased one).  At inference the
    moving averages replace μ and σ², so a prediction does not depend on the
    rest of the batch.

    Backward, training (μ and σ² depend on every row of the batch), with
    ``g = dL/dx̂ = dL/da ⊙ γ`` and ``s = √(σ² + ε)``:

        dL/dγ = Σ_i dL/da ⊙ x̂          dL/dβ = Σ_i dL/da
        dL/dx = (n g - Σ_i g - x̂ Σ_i (g ⊙ x̂)) / (n s)

    and at inference simply ``dL/dx = g / s``.

    Parameters
    ----------
    momentum : float in [0, 1), default 0.99
        m above (Keras's convention: PyTorch's ``momentum=0.1`` is ``0.9`` here).
    epsilon : float > 0, default 1e-3
        ε above (PyTorch's default is 1e-5).
    """

    state_names = ("moving_mean", "moving_variance")

    def __init__(self, momentum=0.99, epsilon=1e-3, name=None, input_dim=None, **kwargs):
        super().__init__(epsilon, name, input_dim, **kwargs)
        self.momentum = float(momentum)
        if not 0.0 <= self.momentum < 1.0:
            raise ValueError(f"BatchNormalization momentum must be in [0, 1), received "
                             f"{momentum!r}")

    def state_shapes(self):
        return [(self.input_dim,)] * 2

    def initial_weights(self, dtype):
        return super().initial_weights(dtype) + [np.zeros(self.input_dim, dtype),
                                                 np.ones(self.input_dim, dtype)]  # μ, σ²

    def bind(self, weights, grads):
        super().bind(weights, grads)
        self.moving_mean, self.moving_variance = weights[2:]

    def statistics(self, x, training):
        if not training:
            return self.moving_mean, self.moving_variance, False
        mean, var = x.mean(axis=0), x.var(axis=0)
        n, m = x.shape[0], self.momentum
        unbiased = var * (n / (n - 1)) if n > 1 else var
        self.moving_mean[...] = m * self.moving_mean + (1 - m) * mean
        self.moving_variance[...] = m * self.moving_variance + (1 - m) * unbiased
        return mean, var, True

    def trace_forward(self):
        r = self.record
        which = "batch" if r.from_x else "moving"
        return [Step("x", "input", r.x),
                Step("μ", f"{which} mean per feature", r.mean),
                Step("σ²", f"{which} variance per feature", r.var),
                Step("x̂", "x̂ = (x - μ) / √(σ² + ε)", r.x_hat),
                Step("a", "a = γ ⊙ x̂ + β", r.a)]

    def to_onnx(self, graph, x):
        # inference: (x - moving_mean) / √(moving_var + ε) · γ + β, in this order
        std = np.sqrt(self.moving_variance + np.asarray(self.epsilon, self.moving_variance.dtype))
        return self._affine_onnx(graph, graph.op("Div", [
            graph.op("Sub", [x, graph.const(self.moving_mean, "mean")]), graph.const(std, "std")]))

    def get_config(self):
        return {"momentum": self.momentum, **super().get_config()}


class LayerNormalization(_Standardizing):
    """Normalise each sample over its features, then scale and shift: ``a = γ x̂ + β``.

    With the mean μ_i and (biased) variance σ²_i of row i's features,
    ``x̂_i = (x_i - μ_i) / √(σ²_i + ε)``: the same in training and at inference,
    so it keeps no moving averages.  Backward, with ``g = dL/da ⊙ γ``, is
    BatchNormalization's formula along the features instead of the batch.
    Equals ``torch.nn.LayerNorm(features, eps=epsilon)``.

    Parameters
    ----------
    epsilon : float > 0, default 1e-3
        ε above (Keras's default; PyTorch's is 1e-5).
    """

    axis = 1

    def __init__(self, epsilon=1e-3, name=None, input_dim=None, **kwargs):
        super().__init__(epsilon, name, input_dim, **kwargs)

    def statistics(self, x, training):
        return x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True), True

    def trace_forward(self):
        r = self.record
        return [Step("x", "input", r.x), Step("μ", "mean of each sample's features", r.mean),
                Step("σ²", "variance of each sample's features", r.var),
                Step("x̂", "x̂ = (x - μ) / √(σ² + ε)", r.x_hat), Step("a", "a = γ ⊙ x̂ + β", r.a)]

    def to_onnx(self, graph, x):
        # the same steps as forward: x̂ = (x - mean) / √(var + ε), then γ x̂ + β
        mean = graph.op("ReduceMean", [x], axes=[1], keepdims=1)        # opset 17: attribute
        centred = graph.op("Sub", [x, mean])
        var = graph.op("ReduceMean", [graph.op("Mul", [centred, centred])], axes=[1], keepdims=1)
        std = graph.op("Sqrt", [graph.op("Add", [var, graph.const(self.epsilon, "eps")])])
        return self._affine_onnx(graph, graph.op("Div", [centred, std]))


REGISTRY = Registry("layer", Layer,
                    {"dense": Dense, "dropout": Dropout, "rescaling": Rescaling,
                     "batch_normalization": BatchNormalization, "normalization": Normalization,
                     "layer_normalization": LayerNormalization, "input_layer": InputLayer},
                    aliases={"batchnormalization": "batch_normalization",
                             "batch_norm": "batch_normalization", "input": "input_layer"})
serialize = REGISTRY.serialize


def deserialize(config):
    """Rebuild a layer from ``{"class": "dense", "config": {...}}`` (what saving writes)."""
    return REGISTRY.deserialize(config)


def get(identifier):
    """A layer for a layer or a config dict."""
    return REGISTRY.get(identifier, "a Layer or a config dict")


# ----------------------------------------------------------------------------------------
# Seed 001's two bias conventions
# ----------------------------------------------------------------------------------------

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
