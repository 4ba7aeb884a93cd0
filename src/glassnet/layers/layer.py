"""The base of every layer, and what lets layers be called and combined.

Data layout, once for the whole library: a batch is a 2-D array of shape
``(n_samples, n_features)``, one sample per row.

The layer contract
------------------
Every layer is a subclass of :class:`Layer` and says, in one class, how it

* **builds**: ``build(input_dim, rng)`` fixes the input width and returns the
  output width; ``param_shapes()`` (trained) and ``state_shapes()`` (not
  trained, e.g. moving averages) declare its arrays, ``initial_weights(dtype)``
  fills them, and ``bind(weights, grads)`` hands it views into the model's
  flat vectors, so ``W`` and ``b`` *are* slices of ``model.params`` and the
  optimizer updates every layer at once.  The model records what ``build``
  returns and what ``bind`` receives (``layer.input_dim``,
  ``layer.output_dim``, ``layer.weights``, ``layer.grads``) whether or not an
  override calls ``super()``;
* **computes**: ``forward(x, training)`` and ``backward(dL/da)``, side by
  side.  ``forward`` keeps what it computed in ``layer.record`` (a
  :class:`Record` with named fields: ``x``, ``a`` and the layer's own steps),
  which ``backward`` reads; ``backward`` fills (overwrites) its gradients — the
  graph adds up the calls of a layer used twice;
* **is penalised**: ``penalty()`` is its regularization term R and
  ``penalty_gradient()`` adds dR/dθ to its gradients (the model calls it once
  per layer after the backward pass, however often the layer was used);
* **goes fast, optionally**: ``use_kernels(kernels)`` receives the model's
  fused kernels for ``fit`` (:mod:`glassnet.fast` on the CPU, :mod:`glassnet.cuda`
  on a GPU);
* **explains**: ``trace_forward()`` / ``trace_backward()`` read the record
  back as the steps of :mod:`glassnet.trace`; ``to_onnx(graph, x)`` writes the
  same forward pass as ONNX operators; ``get_config()`` describes it for
  saving.

Calling a layer
---------------
``layer(x)`` on an array runs it at once (Keras's eager call): the layer
builds itself on first use, with weights of its own, and returns
``forward(x, training=False)`` (``training=True`` to see Dropout drop).  Those
weights follow the layer into a model.

``layer(t)`` on a :class:`SymbolicTensor` (what :func:`glassnet.Input` returns)
computes nothing: it records a :class:`Node` — this layer, applied to these
tensors — and returns a new symbolic tensor.  A chain of such calls is a graph
of layers, which :class:`glassnet.Model` trains.

Layers made of layers
---------------------
A layer that defines ``call(x)`` instead of ``forward``/``backward`` combines
other layers, created in its ``__init__``::

    class Residual(gn.layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.hidden = gn.layers.Dense(units, "relu")
            self.out = gn.layers.Dense(units)

        def call(self, x):
            return x + self.out(self.hidden(x))          # x + y is an Add layer

When it is built, glassnet calls ``call`` once on symbolic tensors and keeps
the small graph it records (:class:`glassnet.layers.graph.LayerGraph`): the
sub-layers' weights, penalties, kernels, trace steps and ONNX nodes are the
layer's own, and backward comes from the graph, so such a layer needs no
backward of its own.  Its configuration is the arguments its ``__init__``
received (``units`` above), unless it defines ``get_config``.
"""

from __future__ import annotations

import inspect
import json
import math
from types import SimpleNamespace

import numpy as np

from .. import _validation as check
from .._registry import Registry
from .._text import config_repr
from ..backend import array_module, holds_device_array, to_host, to_module
from ..trace import Step
from .graph import LayerGraph, number_names

__all__ = ["Layer", "Record", "SymbolicTensor", "Node", "REGISTRY", "is_symbolic", "Variable", "Tensor",
           "as_tensor"]


def positive_int_or_none(value, what):
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, np.integer))
                              or value < 1):
        raise ValueError(f"{what} must be a positive integer or None, received {value!r}")
    return None if value is None else int(value)


class Tensor(np.ndarray):
    """What an eager call returns: a NumPy array with Keras's ``.numpy()`` (a plain copy)."""

    def numpy(self):
        """A copy, as a plain NumPy array."""
        return np.array(self, copy=True).view(np.ndarray)


class Variable(Tensor):
    """A weight as Keras users handle it: ``w.assign(value)``, ``w.numpy()``, ``w.value``.

    It is a view of the model's own vector (writing it changes the model, and
    ``fit`` updates it), so ``layer.bias.assign(np.log([p / (1 - p)]))`` sets
    an output bias as TensorFlow's imbalanced-data tutorial does.
    """

    def assign(self, value):
        """Write ``value`` (same shape, finite) into the weight; returns the weight."""
        self[...] = check.as_weight(value, self.shape, "the assigned value")
        return self

    @property
    def value(self):
        return self.view(np.ndarray)


def as_tensor(value):
    """An output (or a list of outputs) with ``.numpy()``, as Keras's eager call returns."""
    if isinstance(value, list):
        return [v.view(Tensor) for v in value]
    return value.view(Tensor)


def as_variables(arrays):
    """Views of ``arrays`` with :class:`Variable`'s methods (no copies).

    A model on the GPU hands out its CuPy arrays as they are (``.get()``
    copies one to the host).
    """
    return [a.view(Variable) if isinstance(a, np.ndarray) else a for a in arrays]


class Record(SimpleNamespace):
    """What a layer's last forward (and backward) pass computed, by name.

    Every layer records at least ``x`` (its input) and ``a`` (its output);
    :class:`~glassnet.layers.Dense` adds ``z``, the activation's ``steps`` and,
    after ``backward``, ``grad_a`` (dL/da) and ``delta`` (dL/dz).
    """


# ----------------------------------------------------------------------------------------
# symbolic tensors and nodes: how a graph of layers is written down
# ----------------------------------------------------------------------------------------

class SymbolicTensor:
    """A stand-in for a batch of shape ``(None, width)`` in a graph of layers (Keras's KerasTensor).

    It holds no numbers: it remembers which :class:`Node` produced it.
    ``x + y``, ``x - y`` and ``x * y`` on symbolic tensors are the
    :class:`~glassnet.layers.Add`, ``Subtract`` and ``Multiply`` layers.
    """

    __slots__ = ("width", "dtype", "name", "node", "index")

    def __init__(self, width, node=None, index=0, name=None, dtype="float32"):
        self.width = int(width)
        self.dtype = np.dtype(dtype).name
        self.node, self.index, self.name = node, index, name

    @property
    def shape(self):
        """``(None, width)``: any number of samples, ``width`` features."""
        return (None, self.width)

    @property
    def ndim(self):
        return 2

    def _merge(self, kind, other, reverse=False):
        if not isinstance(other, SymbolicTensor):
            raise TypeError(f"a symbolic tensor combines only with another symbolic tensor "
                            f"(through a layer); received {type(other).__name__}")
        pair = [other, self] if reverse else [self, other]
        return REGISTRY.lookup(kind)()(pair)

    def __add__(self, other):
        return self._merge("add", other)

    def __radd__(self, other):
        return self._merge("add", other, reverse=True)

    def __sub__(self, other):
        return self._merge("subtract", other)

    def __rsub__(self, other):
        return self._merge("subtract", other, reverse=True)

    def __mul__(self, other):
        return self._merge("multiply", other)

    def __rmul__(self, other):
        return self._merge("multiply", other, reverse=True)

    def __array__(self, *args, **kwargs):
        raise TypeError("a symbolic tensor has no values: it describes the data a model will "
                        "receive. Build a model with gn.Model(inputs, outputs) and call "
                        "model.predict(x), or call the layer on a NumPy array")

    def __repr__(self):
        name = f", name={self.name!r}" if self.name else ""
        return f"<SymbolicTensor shape={self.shape}, dtype={self.dtype}{name}>"


def is_symbolic(value):
    """True for a symbolic tensor or a (non-empty) list/tuple/dict of them."""
    if isinstance(value, SymbolicTensor):
        return True
    if isinstance(value, dict):
        value = list(value.values())
    return (isinstance(value, (list, tuple)) and len(value) > 0
            and all(isinstance(v, SymbolicTensor) for v in value))


class Node:
    """One call of a layer in a graph: ``outputs = layer(inputs)``.

    A layer called twice (a shared layer) has two nodes; each keeps the
    record of its own forward pass (``node.record``) for the backward pass.
    """

    __slots__ = ("layer", "inputs", "outputs", "record")

    def __init__(self, layer, inputs, widths):
        self.layer, self.inputs, self.record = layer, list(inputs), None
        self.outputs = [SymbolicTensor(w, self, i, name=layer.name) for i, w in enumerate(widths)]

    def __repr__(self):
        return f"<Node {self.layer.name}: {len(self.inputs)} input(s) -> {len(self.outputs)}>"


# ----------------------------------------------------------------------------------------
# the layer
# ----------------------------------------------------------------------------------------

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
    #: True for layers that take a list of inputs (the merge layers)
    takes_list = False
    #: True when the model flattens N-D samples for this layer, when it comes first (Flatten)
    flattens_input = False
    #: True for layers that scale their input (the model then does not warn about scaling)
    scales_input = False

    def __new__(cls, *args, **kwargs):
        layer = super().__new__(cls)
        # the arguments the layer was made with: the configuration of a layer that
        # does not write its own get_config (see get_config)
        layer._init_arguments = (args, kwargs)
        return layer

    def __init__(self, name=None, input_dim=None, input_shape=None, trainable=True):
        if trainable is not True:
            self.trainable = trainable               # (refused unless True: see trainable)
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
        self.declared_input_dim = positive_int_or_none(
            input_dim, f"{type(self).__name__} input_dim")
        self.input_dim = self.output_dim = None
        self.rng = None
        #: fused kernels for training (glassnet.fast or glassnet.cuda), or None: see
        #: :meth:`use_kernels`
        self.kernels = None
        #: views into the model's flat vectors, set when the model binds the layer
        self.bound_weights, self.bound_grads = [], []
        #: what the last forward/backward pass computed (see :class:`Record`)
        self.record = None
        #: the graph of sub-layers of a layer made of layers (see :meth:`call`), else None
        self.graph = None

    @property
    def trainable(self):
        """Always True: glassnet trains every weight of a model."""
        return True

    @trainable.setter
    def trainable(self, value):
        if value is not True:
            raise ValueError(f"trainable={value!r}: glassnet trains every weight of a model, "
                             f"so it cannot freeze layer {getattr(self, 'name', '?')!r} (Keras's "
                             f"transfer-learning pattern); copy the weights you want kept with "
                             f"get_weights/set_weights, or override train_step to zero their "
                             f"gradients")

    # -- calling ---------------------------------------------------------------------
    def __call__(self, inputs, training=False):
        """On symbolic tensors, record a node; on arrays, compute (see the module docstring)."""
        if is_symbolic(inputs):
            return self._call_symbolic(inputs)
        if self.takes_list:
            if not isinstance(inputs, (list, tuple)):
                raise ValueError(f"layer {self.name!r} takes a list of inputs; received "
                                 f"{type(inputs).__name__}")
            arrays = [self._as_batch(x) for x in inputs]
            widths = [a.shape[1] for a in arrays]
        else:
            arrays = self._as_batch(inputs)
            widths = arrays.shape[1]
        if not self.built or not self.bound_weights and self.param_shapes() + self.state_shapes():
            self.build_standalone(widths)
        xp = array_module(self.bound_weights[0]) if self.bound_weights else np
        out = self.forward(to_module(arrays, xp) if not isinstance(arrays, list)
                           else [to_module(a, xp) for a in arrays], training=bool(training))
        if holds_device_array(inputs):          # a GPU model's layer: CuPy in, CuPy out
            return out
        return as_tensor(to_host(out))

    def _as_batch(self, x):
        dtype = self.bound_weights[0].dtype if self.bound_weights else np.float32
        x = to_host(x)                           # checked on the host, as a model's input
        arr = np.asarray(x.to_numpy() if hasattr(x, "to_numpy") else x)
        if arr.ndim == 1:
            arr = arr.reshape(-1, 1) if self.input_dim in (None, 1) and arr.size != 0 else arr
        width = self.input_dim if not self.takes_list else None
        return check.as_matrix(arr, f"the input of layer {self.name!r}", dtype, width)

    def _call_symbolic(self, inputs):
        tensors = list(inputs.values()) if isinstance(inputs, dict) else inputs
        if self.takes_list:
            if not isinstance(tensors, (list, tuple)):
                raise ValueError(f"layer {self.name!r} takes a list of tensors; received one")
            widths = [t.width for t in tensors]
        else:
            if isinstance(tensors, (list, tuple)):
                if len(tensors) != 1:
                    raise ValueError(f"layer {self.name!r} takes one input; received "
                                     f"{len(tensors)} tensors")
                tensors = tensors[0]
            widths = tensors.width
            tensors = [tensors]
        if not self.accepts(widths):
            raise ValueError(f"layer {self.name!r} was built for inputs of width "
                             f"{self.input_dim} and cannot take {widths}: a layer called twice "
                             f"(a shared layer) receives inputs of one width")
        out = self.build_from(widths, self.rng)
        node = Node(self, tensors, out if isinstance(out, list) else [out])
        return node.outputs if isinstance(out, list) else node.outputs[0]

    def accepts(self, widths):
        """True when the layer can be called on inputs of these widths (a built layer keeps its own)."""
        return not self.built or self.input_dim == widths

    def call(self, inputs):
        """A layer made of layers: combine sub-layers on ``inputs`` (see the module docstring)."""
        raise NotImplementedError

    @property
    def is_composite(self):
        """True for a layer made of layers (it defines :meth:`call`, or is a model)."""
        return type(self).call is not Layer.call

    # -- construction ----------------------------------------------------------------
    def build(self, input_dim, rng):
        """Fix the input width; return the output width (None: the same as the input).

        ``rng`` is the model's ``numpy.random.Generator``, for layers that
        draw random numbers (initial weights, dropout masks).
        """
        if self.is_composite:
            return self.build_graph(input_dim, rng)
        self.input_dim = self.output_dim = int(input_dim)
        self.rng = rng
        return self.output_dim

    def build_graph(self, input_dim, rng):
        """Trace :meth:`call` on a symbolic input of width ``input_dim`` into ``self.graph``."""
        if self.graph is None or self.graph.input_widths != [input_dim]:
            inputs = SymbolicTensor(input_dim, name=f"{self.name}_input")
            try:
                outputs = self.call(inputs)
            except RecursionError:
                raise ValueError(f"{type(self).__name__}.call calls itself (directly or through "
                                 f"its sub-layers): a layer cannot contain itself") from None
            if not isinstance(outputs, SymbolicTensor):
                raise ValueError(f"{type(self).__name__}.call must return what its layers "
                                 f"return (a symbolic tensor); received {outputs!r}")
            self.graph = LayerGraph([inputs], [outputs], self.name)
            number_names(self.graph.layers, REGISTRY)
        return self.graph.build([input_dim], rng)[0]

    def build_from(self, input_dim, rng):
        """Build, and record what ``build`` returned (whether or not an override called super).

        The model calls this; ``input_dim`` is a width, or a list of widths
        for a layer that takes a list.
        """
        if self.declared_input_dim is not None and input_dim != self.declared_input_dim:
            raise ValueError(f"layer {self.name!r} was declared with input_dim="
                             f"{self.declared_input_dim} but receives {input_dim} inputs")
        if self.is_composite:             # its graph, whatever an override of build does
            out = self.build_graph(input_dim, rng)
            if type(self).build is not Layer.build:
                self.build(input_dim, rng)
        else:
            out = self.build(input_dim, rng)
        self.input_dim, self.rng = input_dim, rng
        if out is None:
            out = input_dim if self.output_dim is None else self.output_dim
        self.output_dim = out if isinstance(out, list) else int(out)
        return self.output_dim

    def build_standalone(self, input_dim, dtype=np.float32):
        """Weights of the layer's own, for an eager call outside a model."""
        self.build_from(input_dim, self.rng or np.random.default_rng())
        shapes = (self.param_shapes(), self.state_shapes())
        vector = np.empty(sum(math.prod(s) for part in shapes for s in part), dtype)
        views, offset = [], 0
        for shape in shapes[0] + shapes[1]:
            size = math.prod(shape)
            views.append(vector[offset:offset + size].reshape(shape))
            offset += size
        grads = [np.zeros(s, dtype) for s in shapes[0]]
        for view, value in zip(views, self.initial_weights(np.dtype(dtype))):
            view[...] = value
        self.bind_to(views, grads)

    @property
    def built(self):
        return self.output_dim is not None

    def param_shapes(self):
        """Shapes of the trained arrays, in the order of ``get_weights``."""
        return self.graph.param_shapes() if self.graph is not None else []

    def state_shapes(self):
        """Shapes of the arrays that are saved but not trained (moving averages)."""
        return self.graph.state_shapes() if self.graph is not None else []

    def initial_weights(self, dtype):
        """Fresh arrays for :meth:`param_shapes` then :meth:`state_shapes`."""
        return self.graph.initial_weights(dtype) if self.graph is not None else []

    def bind(self, weights, grads):
        """Receive views into the model's flat vectors: every weight, and the trained ones' gradients."""

    def bind_to(self, weights, grads):
        """Bind, and record the views (whether or not an override of ``bind`` called super).

        A layer made of layers hands its sub-layers their views first.
        """
        self.bound_weights, self.bound_grads = list(weights), list(grads)
        if self.graph is not None:
            self.graph.bind(self.bound_weights, self.bound_grads)
        self.bind(self.bound_weights, self.bound_grads)

    @property
    def weights(self):
        """This layer's arrays, trained ones first (live views: ``assign``, ``numpy``)."""
        return as_variables(self.bound_weights)

    @property
    def grads(self):
        """The gradients of the trained arrays (views into ``model.grads``)."""
        return self.bound_grads

    @property
    def params(self):
        """The trained arrays (views into ``model.params``)."""
        return self.bound_weights[:len(self.bound_grads)]

    @property
    def trainable_weights(self):
        """The trained arrays (live views)."""
        return as_variables(self.bound_weights[:len(self.bound_grads)])

    @property
    def non_trainable_weights(self):
        """The arrays kept but not trained, e.g. moving averages (live views)."""
        return as_variables(self.bound_weights[len(self.bound_grads):])

    def get_weights(self):
        """Copies of this layer's arrays, trained ones first (Keras's ``layer.get_weights()``):
        NumPy arrays, also for a model on the GPU."""
        return [np.array(to_host(w), copy=True) for w in self.bound_weights]

    def set_weights(self, weights):
        """Write this layer's arrays, in the order of :meth:`get_weights`."""
        if not self.bound_weights and self.param_shapes() + self.state_shapes():
            raise ValueError(f"layer {self.name!r} has no weights yet: build its model first")
        weights = list(weights)
        if len(weights) != len(self.bound_weights):
            raise ValueError(f"layer {self.name!r} has {len(self.bound_weights)} weight arrays; "
                             f"set_weights received {len(weights)}")
        arrays = [check.as_weight(to_host(value), view.shape, f"{self.name} weight {i}")
                  for i, (view, value) in enumerate(zip(self.bound_weights, weights))]
        for view, value in zip(self.bound_weights, arrays):
            view[...] = to_module(value, array_module(view))

    def sublayers(self):
        """The layers this one is made of (empty for a plain layer)."""
        return list(self.graph.layers) if self.graph is not None else []

    @property
    def can_backpropagate(self):
        """False for layers whose gradient carries no signal (a step activation)."""
        return self.graph.can_backpropagate() if self.graph is not None else True

    def blocking_layer(self):
        """The first (sub-)layer backpropagation cannot pass, or None."""
        if self.graph is not None:
            return self.graph.blocking_layer()
        return None if self.can_backpropagate else self

    def use_kernels(self, kernels):
        """Accept the model's fused kernels for ``fit`` (:mod:`glassnet.fast`,
        :mod:`glassnet.cuda`), or None."""
        self.kernels = kernels
        if self.graph is not None:
            for layer in self.graph.layers:
                layer.use_kernels(kernels)

    def penalty(self):
        """The regularization term this layer adds to the loss."""
        return self.graph.penalty() if self.graph is not None else 0.0

    @property
    def regularized(self):
        """True when :meth:`penalty` can be non-zero (the model then calls penalty_gradient)."""
        if self.graph is not None:
            return any(layer.regularized for layer in self.graph.layers)
        return (type(self).penalty is not Layer.penalty
                or type(self).penalty_gradient is not Layer.penalty_gradient)

    def penalty_gradient(self):
        """Add dR/dθ of :meth:`penalty` to this layer's gradients (once per backward pass)."""
        if self.graph is not None:
            self.graph.penalty_gradient()

    # -- computation -----------------------------------------------------------------
    def forward(self, x, training=False):
        """Return the output ``a`` for a batch ``x`` and keep both in ``self.record``."""
        if self.graph is None:       # pragma: no cover - abstract
            raise NotImplementedError(f"{type(self).__name__} defines neither forward nor call")
        a = self.graph.forward([x], training)[0]
        # the sub-layers' records, kept with this call (a shared layer is called twice)
        self.record = Record(x=x, a=a, nodes=self.graph.records())
        return a

    def backward(self, grad_a, need_input_grad=True):
        """Given ``dL/da``, fill this layer's gradients and return ``dL/dx`` (None if not needed)."""
        if self.graph is None:       # pragma: no cover - abstract
            raise NotImplementedError(f"{type(self).__name__} defines neither backward nor call")
        self.graph.restore_records(self.record.nodes)
        return self.graph.backward([grad_a], need_input_grad)[0]

    @property
    def output(self):
        """The output ``a`` of the last forward pass (not Keras's symbolic ``layer.output``)."""
        if self.record is None:
            raise AttributeError(
                f"layer {self.name!r} has not run yet: layer.output is the output of its last "
                f"forward pass; glassnet has no symbolic layer.output (for a feature "
                f"extractor, build gn.Model(inputs, the tensors you called the layers on))")
        return self.record.a

    # -- description -----------------------------------------------------------------
    def count_params(self):
        return sum(math.prod(s) for s in self.param_shapes() + self.state_shapes())

    def title(self):
        """One line for the trace, e.g. ``Dense(2 → 4), activation tanh``."""
        return f"{type(self).__name__} {self.name!r}"

    def trace_forward(self):
        """The forward pass as :class:`~glassnet.trace.Step` s, read from :attr:`record`."""
        if self.graph is not None:
            self.graph.restore_records(self.record.nodes)
            return [Step(f"{layer.name}.{s.label}", s.formula, s.value)
                    for layer in self.graph.traced_layers() for s in layer.trace_forward()]
        return [Step("x", "input", self.record.x), Step("a", "output", self.record.a)]

    def trace_backward(self):
        """The backward pass as steps (empty for layers without weights)."""
        if self.graph is not None:
            self.graph.restore_records(self.record.nodes)
            return [Step(f"{layer.name}.{s.label}", s.formula, s.value)
                    for layer in self.graph.traced_layers() for s in layer.trace_backward()]
        return []

    def to_onnx(self, graph, x):
        """Append this layer's forward pass to ``graph`` (see :mod:`glassnet.export`)."""
        if self.graph is not None:
            return self.graph.to_onnx(graph, [x])[0]
        raise ValueError(f"layer {type(self).__name__} has no ONNX form; give its class a "
                         f"to_onnx(graph, x) method")

    def get_config(self):
        config = {} if self.auto_named else {"name": self.name}
        if self.declared_input_dim is not None:
            config["input_dim"] = self.declared_input_dim
        if type(self).get_config is Layer.get_config and type(self).__init__ is not Layer.__init__:
            config = {**self._arguments(), **config}
        return config

    def _arguments(self):
        """The arguments of ``__init__`` (Keras 3's automatic config), checked to be JSON."""
        args, kwargs = self._init_arguments
        try:
            bound = inspect.signature(type(self).__init__).bind(self, *args, **kwargs)
        except TypeError:
            bound = None
        values = {} if bound is None else {
            k: v for k, v in list(bound.arguments.items())[1:]
            if k not in ("name", "input_dim", "input_shape")
            and inspect.signature(type(self).__init__).parameters[k].kind
            not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)}
        try:
            json.dumps(values)
        except (TypeError, ValueError):
            raise ValueError(f"layer {type(self).__name__} was made with arguments that cannot "
                             f"be saved as JSON ({values!r}); give the class a get_config() "
                             f"that returns its arguments") from None
        return values

    def __repr__(self):
        return config_repr(self)


REGISTRY = Registry("layer", Layer, {})
