"""The model: a graph of layers, and the math of one training step.

``gn.Model(inputs, outputs)`` (Keras's functional API) trains the graph of
layers between symbolic inputs (``gn.Input(shape=(n,))``) and outputs;
:class:`~glassnet.Sequential` is the special case of a chain.  One training
step on a batch (x, y) is the whole algorithm of the seed documents:

1. **forward**: ``a⁰ = x``, then every layer in topological order computes
   its output from its inputs, e.g. ``aˡ = σ(aˡ⁻¹ · Wˡ + bˡ)``
   (:meth:`Model.forward`, :class:`glassnet.layers.graph.LayerGraph`,
   :meth:`glassnet.layers.Dense.forward`);
2. **loss**: ``L = (1/n) Σ_i l(ŷ_i, y_i)`` with ``ŷ`` the output (with several
   outputs, ``L = Σ_k w_k L_k``) (:meth:`Model.per_sample_loss`,
   :mod:`glassnet.losses`);
3. **backward**: ``dL/dŷ`` from the loss (or ``dL/dz`` directly, fused), then
   every layer in reverse order turns ``dL/da`` into its weight gradients and
   ``dL/dx``; a tensor read by several layers sums what they send back
   (:meth:`Model.backward`, :meth:`glassnet.layers.Dense.backward`);
4. **update**: ``θ ← θ - α g`` or one of its refinements
   (:mod:`glassnet.optimizers`).

Steps 1–3 are :meth:`Model.compute_loss_and_gradients`; step 4 and the loop
around it are the trainer's (:meth:`glassnet.trainer.Trainer.train_step` and
:meth:`~glassnet.trainer.Trainer.fit`).

All weights live in one flat vector ``model.variables`` (float32 unless the
model says otherwise): first the trained parameters ``model.params``, layer
by layer (``[W1, b1, W2, b2, ...]``), then the arrays that are kept but not
trained (BatchNormalization's moving averages).  The layers' W and b are views
into it, and ``model.grads`` mirrors ``model.params``, so the optimizer
updates the whole network in a few vector operations.

A model with several inputs takes them as a list (or a dict by input name);
the boundary puts them side by side in one matrix, and each input reads its
columns back, so batching, shuffling and validation splits treat every input
alike.  Several outputs take their targets the same way.
"""

from __future__ import annotations

import copy
import math
import os

import numpy as np

from .._version import __version__
from .. import _validation as check
from .. import backend
from .. import callbacks as callbacks_module
from .. import layers as layers_module
from .. import losses, metrics as metrics_module, optimizers, serialization
from .._registry import Registry
from .._text import format_table
from ..export import export_onnx
from ..layers import Layer, LayerGraph, Record, SymbolicTensor
from ..layers.graph import Delta, LayerCollection, number_names
from ..trace import trace
from ..trainer import Trainer
from . import weights_file

__all__ = ["Model", "REGISTRY", "OutputLosses"]


class PendingGraph(LayerCollection):
    """The graph of a subclassed model before ``call`` is traced: no layers, width unknown."""

    input_widths, layers, input_layers, inputs, outputs = [], [], [], [], []
    n_outputs = 1

    def output_widths(self):
        return [None]

    def nodes(self):
        return []


class OutputLosses:
    """The losses of a model with several outputs: ``L = Σ_k w_k L_k`` (Keras's ``loss_weights``)."""

    sparse = False
    fused_activation = None

    def __init__(self, losses_, weights, names):
        self.losses, self.weights, self.names = losses_, weights, names
        self.name = " + ".join(f"{w:g}·{loss.name}" if w != 1 else loss.name
                               for loss, w in zip(losses_, weights) if loss is not None)

    def __repr__(self):
        return f"OutputLosses({self.name})"


class Model(Trainer, Layer):
    """A directed acyclic graph of layers from ``inputs`` to ``outputs`` (Keras's functional API).

    Parameters
    ----------
    inputs : SymbolicTensor, or a list or dict of them
        What :func:`glassnet.Input` returned.
    outputs : SymbolicTensor, or a list or dict of them
        What the last layers returned.
    name : str, optional
    dtype : {"float32", "float64"}, default "float32"
        Floating type of weights, activations and gradients (inputs are cast
        to it once, at the boundary).
    seed : int or None
        Seeds the model's own ``numpy.random.Generator``, which draws the
        initial weights, the shuffling and the dropout masks.  The same seed
        gives the same run; no global random state is touched.
    fast : bool or None, default None
        Train with the compiled kernels of :mod:`glassnet.fast` (needs
        ``glassnet[fast]``): None uses them for big models when numba is
        installed, True always, False never.  Both paths give bit-identical
        weights.
    device : {"cpu", "cuda"}, default "cpu"
        Where the weights live and the arithmetic runs: NumPy on the CPU, or
        CuPy on an NVIDIA GPU (``pip install 'glassnet[cuda]'``); the same
        equations either way (:mod:`glassnet.backend`).  ``model.to(device)``
        moves a model.

    Examples
    --------
    >>> import glassnet as gn
    >>> inputs = gn.Input(shape=(8,))
    >>> h = gn.layers.Dense(16, activation="relu")(inputs)
    >>> outputs = gn.layers.Dense(1)(h + gn.layers.Dense(16)(inputs))   # a skip connection
    >>> model = gn.Model(inputs, outputs, seed=0)
    >>> model.compile(optimizer="adam", loss="mse")

    A model is also a layer: ``model(t)`` on a symbolic tensor puts the whole
    model, with its weights, inside another graph.
    """

    #: the flat vectors (set when the model is built); not the per-layer lists of a Layer
    params = None
    grads = None

    def __init__(self, inputs=None, outputs=None, name=None, dtype="float32", seed=None,
                 fast=None, device="cpu"):
        self._init_model(name, dtype, seed, fast, device)
        if inputs is None and outputs is None and self.is_composite:
            # a subclass that defines call (Keras's subclassing API): its graph is traced
            # from call once the input width is known (build, or the first data)
            self.graph = PendingGraph()
            return
        if inputs is None or outputs is None:
            raise ValueError("Model needs inputs and outputs: inputs = gn.Input(shape=(n,)); "
                             "outputs = gn.layers.Dense(1)(inputs); gn.Model(inputs, outputs). "
                             "For a stack of layers use gn.Sequential([...]), or subclass "
                             "Model and define call(self, inputs)")
        self._set_graph(inputs, outputs)
        self.build()

    def _trace_call(self, width):
        """A subclass's ``call``, traced on a symbolic input of ``width`` features."""
        inputs = layers_module.Input(shape=(int(width),))
        try:
            outputs = self.call(inputs)
        except RecursionError:
            raise ValueError(f"{type(self).__name__}.call calls itself") from None
        if not layers_module.is_symbolic(outputs):
            raise ValueError(f"{type(self).__name__}.call must return what its layers return "
                             f"(symbolic tensors); received {type(outputs).__name__}")
        self._set_graph(inputs, outputs)
        pending, self._pending_compile = getattr(self, "_pending_compile", None), None
        if pending is not None:
            self.compile(*pending)

    def _init_model(self, name, dtype, seed, fast, device="cpu"):
        Layer.__init__(self, name=name)
        # where the weights live: "cpu" or "cuda" (self.xp: the module of their arrays)
        self._device = backend.normalize_device(device)
        backend.module_for(self._device)        # without CuPy or a GPU: a clear error now
        try:                  # (np.dtype(None) would be float64: None is refused too)
            self.dtype = None if dtype is None else np.dtype(dtype)
        except (TypeError, ValueError, OverflowError):
            self.dtype = None
        if self.dtype is None or self.dtype.name not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32' or 'float64'; received {dtype!r}")
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        #: names of the output classes, kept with the saved model (None: unnamed)
        self.class_names = None
        self.layers = []
        self.outputs_by_name = self.inputs_by_name = False
        self.variables = self.params = self.grads = None
        self.output_losses, self.loss_weights = None, None
        #: the output(s) of the last forward pass
        self.last_output = None
        #: per output, the node whose δ the loss hands over (None: not fused); see _fused
        self._fused_nodes = None
        #: the layers whose penalty has a gradient (see backpropagate)
        self._penalized = []
        self._bindings = None
        Trainer.__init__(self, fast)

    @staticmethod
    def _tensors(value, what):
        """(names or None, list of tensors) for one tensor, a list or a dict of them."""
        if isinstance(value, SymbolicTensor):
            return None, [value]
        if isinstance(value, dict) and value and all(isinstance(v, SymbolicTensor)
                                                     for v in value.values()):
            return [str(k) for k in value], list(value.values())
        if isinstance(value, (list, tuple)) and value and all(isinstance(v, SymbolicTensor)
                                                             for v in value):
            return None, list(value)
        raise ValueError(f"Model {what} must be symbolic tensors (from gn.Input and calling "
                         f"layers), or a list or dict of them; received {value!r}")

    @staticmethod
    def _unique_output_names(tensors):
        names = []
        for t in tensors:
            base = t.node.layer.name if t.node is not None else (t.name or "output")
            name, k = base, 0
            while name in names:
                k += 1
                name = f"{base}_{k}"
            names.append(name)
        return names

    def _name_layers(self):
        """Number automatic names (dense, dense_1, ...) and refuse two layers of one name."""
        number_names(self.layers, layers_module.REGISTRY)

    # ------------------------------------------------------------------------------
    # building: one flat vector for every weight
    # ------------------------------------------------------------------------------
    @property
    def built(self):
        return self.variables is not None

    @property
    def inputs(self):
        return list(self.graph.inputs)

    @property
    def outputs(self):
        return list(self.graph.outputs)

    @property
    def input_widths(self):
        return list(self.graph.input_widths)

    @property
    def input_dim(self):
        """The width of the input (the sum of the widths, with several inputs)."""
        widths = self.graph.input_widths
        return sum(widths) if widths else None

    @property
    def output_widths(self):
        widths = self.graph.output_widths() if self.graph.input_widths else None
        return None if widths is None or None in widths else widths

    @property
    def output_dim(self):
        """The width of the output (a list of widths, with several outputs)."""
        widths = self.output_widths
        if widths is None:
            return None
        return widths[0] if len(widths) == 1 else widths

    @output_dim.setter
    def output_dim(self, value):      # (Layer.__init__ sets it; a model computes it)
        pass

    @input_dim.setter
    def input_dim(self, value):
        pass

    def weight_shapes(self, input_widths=None):
        """Build each layer for inputs of these widths (no weights yet).

        Returns, per layer, ``(param_shapes, state_shapes)``: what :meth:`build`
        allocates.  Loading uses it to check a file before allocating.
        """
        self.graph.build(input_widths or self.graph.input_widths, self.rng)
        return [(layer.param_shapes(), layer.state_shapes()) for layer in self.layers]

    def build(self, input_dim=None, input_shape=None):
        """Create the weights (a functional model knows its input widths, so it is built at once).

        Layers that had weights already keep them; new layers are initialised.
        """
        input_dim = input_shape if input_dim is None else input_dim
        if isinstance(input_dim, (tuple, list)) and not isinstance(self.graph, PendingGraph):
            input_dim = input_dim[-1] if len(input_dim) == 2 else math.prod(input_dim[1:])
        if isinstance(self.graph, PendingGraph):
            if input_dim is None:
                raise ValueError(f"{type(self).__name__} learns its input width from data: "
                                 f"call build(n_features), fit or predict first")
            self._trace_call(input_dim[-1] if isinstance(input_dim, (tuple, list))
                             else input_dim)
            input_dim = None
        if input_dim is not None and input_dim != sum(self.graph.input_widths):
            raise ValueError(f"the model's inputs have {sum(self.graph.input_widths)} features; "
                             f"build received {input_dim}")
        return self._allocate(self.weight_shapes())

    def _allocate(self, shapes):
        """One flat vector for ``shapes`` (from :meth:`weight_shapes`); bind every layer to it."""
        kept = [layer_current_weights(layer) for layer in self.layers]
        n_params = sum(math.prod(s) for p, _ in shapes for s in p)
        n_state = sum(math.prod(s) for _, st in shapes for s in st)
        xp = self.xp                                # numpy, or cupy on a GPU
        variables = xp.empty(n_params + n_state, dtype=self.dtype)
        for views, old, layer in zip(self._views(variables, shapes), kept, self.layers):
            values = old if [w.shape for w in old] == [w.shape for w in views] \
                else layer.initial_weights(self.dtype)
            for view, value in zip(views, values):
                view[...] = backend.to_module(value, xp)
        self._bind(variables, xp.zeros(n_params, dtype=self.dtype), shapes)
        self._fused_nodes = None
        self._penalized = [layer for layer in self.layers if layer.regularized]
        if self.loss is not None:
            self._resolve_metrics()
        return self

    def _views(self, variables, shapes):
        """Each layer's weights (trained, then kept) as views into ``variables``."""
        n_params = sum(math.prod(s) for p, _ in shapes for s in p)
        trained = self.unflatten(variables[:n_params], [p for p, _ in shapes])
        kept = self.unflatten(variables[n_params:], [st for _, st in shapes])
        return [p + st for p, st in zip(trained, kept)]

    def _bind(self, variables, grads, shapes):
        """Make ``variables`` and ``grads`` the model's vectors; bind every layer to its views."""
        self.variables, self.params = variables, variables[:grads.size]
        self.grads = grads
        grad_views = self.unflatten(grads, [p for p, _ in shapes])
        for layer, weights, g in zip(self.layers, self._views(variables, shapes), grad_views):
            layer.bind_to(weights, g)
        self._bindings = [layer.bound_weights for layer in self.layers]

    def __setstate__(self, state):
        """After unpickling (or ``copy.deepcopy``): the layers' weights are views into the
        model's vector again.  Pickle copies each view apart from its vector, and a
        model whose layers no longer share its vector would not learn."""
        self.__dict__.update(state)
        if self.variables is not None and self.grads is not None:
            self._bind(self.variables, self.grads, [(layer.param_shapes(), layer.state_shapes())
                                                    for layer in self.layers])

    def to(self, device):
        """Move the model to ``device`` ("cpu" or "cuda"): weights, gradients, optimizer state.

        The same model object, on the other device (as PyTorch's
        ``module.to``); returns it.  Arrays given to ``fit``/``predict`` may be
        NumPy arrays either way; CuPy arrays only for a model on the GPU.
        """
        xp = backend.module_for(device)
        device = backend.normalize_device(device)
        if self.fitting:
            raise RuntimeError(f"cannot move a model to {device!r} while fit runs (a callback "
                               f"called model.to); move it before or after fit")
        if device == self._device:
            return self
        self.claim_weights()
        # every copy first: if one fails (out of GPU memory), the model stays as it was
        variables = None if not self.built else backend.to_module(self.variables, xp)
        grads = None if not self.built else xp.zeros(self.grads.size, self.dtype)
        optimizer = self.optimizer
        state = {} if optimizer is None else {key: backend.to_module(value, xp)
                                              for key, value in optimizer.state.items()}
        self._device = device
        if variables is not None:
            self._bind(variables, grads, [(layer.param_shapes(), layer.state_shapes())
                                          for layer in self.layers])
        if optimizer is not None:
            optimizer.state.update(state)
            optimizer.scratch = None
        return self

    def claim_weights(self):
        """Make the model's own vector hold its weights again, if another model took them.

        A layer's weights live in the vector of the model that built it last
        (a model nested in another, a layer shared by two models); the values
        follow the layer, so they are copied back here before this model uses
        them.
        """
        if self._bindings is None:
            if self.bound_weights and not isinstance(self.graph.input_widths, type(None)):
                self.build(self.input_dim)         # loaded inside another model: its own now
            return
        for layer, bound in zip(self.layers, self._bindings):
            if layer.bound_weights is not bound:
                self.build(self.input_dim)
                return

    def weight_views(self, vector):
        """Every layer's weights as views into ``vector`` (laid out like ``model.variables``)."""
        return self._views(vector, [(layer.param_shapes(), layer.state_shapes())
                                    for layer in self.layers])

    def bind_variables(self, vector, params, views):
        """Make ``vector`` the model's weights (``params`` its trained part, ``views`` from
        :meth:`weight_views`); ``fit`` alternates between two such vectors."""
        self.variables, self.params = vector, params
        for layer, weights in zip(self.layers, views):
            layer.bind_to(weights, layer.bound_grads)
        self._bindings = [layer.bound_weights for layer in self.layers]

    def unflatten(self, vector, shapes=None):
        """Split a flat vector into per-layer lists of arrays (views, no copies).

        ``shapes`` defaults to every layer's ``param_shapes()``, so
        ``model.unflatten(model.grads)`` gives ``[[dW1, db1], [dW2, db2], ...]``.
        """
        if shapes is None:
            shapes = [layer.param_shapes() for layer in self.layers]
        out, offset = [], 0
        for layer_shapes in shapes:
            views = []
            for shape in layer_shapes:
                size = math.prod(shape)
                views.append(vector[offset:offset + size].reshape(shape))
                offset += size
            out.append(views)
        return out

    def count_params(self):
        """The number of weights (trained and kept), as Keras counts them."""
        if not self.built and self.output_widths is None:
            raise ValueError("the model is not built yet, so it has no parameters to count: give "
                             "the first layer input_dim=... or call build(n_features), fit or "
                             "predict first")
        return int(sum(math.prod(s) for layer in self.layers
                       for s in layer.param_shapes() + layer.state_shapes()))

    # -- a model inside another model: the layer contract ----------------------------
    def build_from(self, input_dim, rng):
        if isinstance(self.graph, PendingGraph):
            self._trace_call(input_dim)
        widths = input_dim if isinstance(input_dim, list) else [input_dim]
        if widths != self.graph.input_widths:
            raise ValueError(f"model {self.name!r} takes inputs of widths "
                             f"{self.graph.input_widths}; received {widths}")
        out = self.graph.build(widths, rng)
        return out if len(out) > 1 else out[0]

    def current_weights(self):
        """The weights in the order a parent model binds them: trained ones, then the states."""
        arrays = [layer_current_weights(layer) for layer in self.layers]
        trained = [w for layer, ws in zip(self.layers, arrays)
                   for w in ws[:len(layer.param_shapes())]]
        return trained + [w for layer, ws in zip(self.layers, arrays)
                          for w in ws[len(layer.param_shapes()):]]

    # ------------------------------------------------------------------------------
    # the boundary: several inputs or outputs side by side in one matrix
    # ------------------------------------------------------------------------------
    def _pack(self, value, widths, names, what, convert):
        """A list or dict (one entry per input/output) as one matrix of columns."""
        if isinstance(value, dict):
            missing = [n for n in names if n not in value]
            if missing:
                raise ValueError(f"{what} is a dict without the keys {missing}; the model's "
                                 f"{what} are named {names}")
            value = [value[n] for n in names]
        if not isinstance(value, (list, tuple)) or len(value) != len(widths):
            raise ValueError(f"the model has {len(widths)} {what} ({names}); pass a list of "
                             f"{len(widths)} arrays or a dict by name; received "
                             f"{type(value).__name__}"
                             + (f" of length {len(value)}" if isinstance(value, (list, tuple))
                                else ""))
        parts = [convert(v, i) for i, v in enumerate(value)]
        rows = {len(p) for p in parts if p is not None}
        parts = [np.empty((min(rows, default=0), 0), self.dtype) if p is None else p
                 for p in parts]
        n = {len(p) for p in parts}
        if len(n) != 1:
            raise ValueError(f"the model's {what} must have as many rows each; received "
                             f"{[len(p) for p in parts]}")
        return np.ascontiguousarray(np.column_stack(parts), dtype=self.dtype)

    def side_by_side(self, x):
        if len(self.graph.input_widths) == 1:
            return only_entry(x, self.input_names, "inputs")
        if isinstance(x, (list, tuple, dict)) and len(self.graph.input_widths) > 1:
            return self._check_x(x)
        return x

    @property
    def flattens_input(self):
        """True when the model takes N-D samples (its input's shape has several dimensions)."""
        first = self.graph.input_layers[0] if len(self.graph.input_layers) == 1 else None
        return first is not None and first.flattens_input

    @property
    def scales_input(self):
        """True when every layer that reads an input scales it (Normalization, Rescaling...)."""
        readers = [node.layer for node in self.graph.nodes()
                   if any(t in self.graph.inputs for t in node.inputs)]
        return bool(readers) and all(layer.scales_input for layer in readers)

    def _rows(self, x, first, width=None):
        """Samples as rows: N-D samples flattened when ``first`` flattens; a 1-D x as one feature."""
        ndim = getattr(x, "ndim", None)
        if ndim is None or ndim == 2:
            return x
        if hasattr(x, "to_numpy"):                  # a pandas Series
            x = x.to_numpy()
        if ndim > 2 and first is not None and first.flattens_input:
            shape = getattr(first, "sample_shape", None)
            if shape is not None and tuple(np.shape(x)[1:]) != shape:
                raise ValueError(f"the model takes samples of shape {shape}; received "
                                 f"{tuple(np.shape(x)[1:])} (x of shape {np.shape(x)})")
            return np.asarray(x).reshape(len(x), -1)
        if ndim == 1 and (self.input_dim if width is None else width) in (None, 1):
            return np.asarray(x).reshape(-1, 1)
        return x

    def _check_x(self, x, name="x"):
        if isinstance(self.graph, PendingGraph):          # a subclass: traced from the data
            x = check.as_matrix(self._rows(x, None), name, self.dtype)
            self.build(x.shape[1])
            return x
        self.claim_weights()
        widths = self.graph.input_widths
        if len(widths) == 1:
            if isinstance(x, dict) and len(x) == 1:
                x = next(iter(x.values()))
            x = self._rows(x, self.graph.input_layers[0])
            return check.as_matrix(x, name, self.dtype, widths[0])
        if isinstance(x, np.ndarray) and x.ndim == 2 and x.shape[1] == sum(widths):
            return check.as_matrix(x, name, self.dtype, sum(widths))   # already side by side
        firsts = self.graph.input_layers
        return self._pack(x, widths, self.input_names, "inputs",
                          lambda v, i: check.as_matrix(self._rows(v, firsts[i], widths[i]),
                                                       f"{name}[{self.input_names[i]!r}]",
                                                       self.dtype, widths[i]))

    def _check_targets(self, y, name="y"):
        if self.output_losses is None:
            y = only_entry(y, self.output_names, "outputs")
            return check.as_targets(y, self.loss, self.output_dim, self.dtype, name)
        widths = self.output_widths

        def convert(v, i):
            if self.output_losses[i] is None:       # not trained on: no columns
                return None if v is None else np.empty((len(v), 0), self.dtype)
            t = check.as_targets(v, self.output_losses[i], widths[i], self.dtype,
                                 f"{name}[{self.output_names[i]!r}]")
            return t.astype(self.dtype)
        if isinstance(y, np.ndarray) and y.ndim == 2 and y.shape[1] == sum(self._target_widths()):
            return np.ascontiguousarray(y, dtype=self.dtype)
        return self._pack(y, widths, self.output_names, "outputs", convert)

    def _target_widths(self):
        return [0 if loss is None else 1 if loss.sparse else w
                for loss, w in zip(self.output_losses, self.output_widths)]

    def _split_targets(self, y):
        """The packed targets, one array per output (integer labels for sparse losses)."""
        if self.output_losses is None:
            return [y]
        parts, start = [], 0
        for loss, width in zip(self.output_losses, self._target_widths()):
            part = y[:, start:start + width]
            parts.append(part[:, 0].astype(np.int64) if loss is not None and loss.sparse
                         else part)
            start += width
        return parts

    def _split_inputs(self, x):
        widths = self.graph.input_widths
        if len(widths) == 1:
            return [x]
        if isinstance(x, (list, tuple)):
            return list(x)
        edges = np.cumsum(widths)[:-1]
        return backend.array_module(x).split(x, edges, axis=1)

    # ------------------------------------------------------------------------------
    # compile: a loss (and metrics) per output
    # ------------------------------------------------------------------------------
    def compile(self, optimizer="adam", loss=None, metrics=None, loss_weights=None):
        """Choose the optimizer, the loss and the reported metrics (Keras's order).

        With several outputs, ``loss`` is one loss for every output, a list
        (in output order) or a dict by output name; ``loss_weights`` likewise
        weighs them (``L = Σ_k w_k L_k``), and ``metrics`` is a list applied to
        every output, a list of lists or a dict.  See
        :meth:`glassnet.trainer.Trainer.compile`.
        """
        if isinstance(self.graph, PendingGraph):    # a subclass not traced yet: compile again
            self._pending_compile = (optimizer, loss, metrics, loss_weights)   # once traced
            first = next(iter(loss.values())) if isinstance(loss, dict) else \
                loss[0] if isinstance(loss, (list, tuple)) else loss
            return Trainer.compile(self, optimizer, first, None)
        n = self.graph.n_outputs
        self._fused_nodes = None
        if n == 1:
            if isinstance(loss, (dict, list, tuple)):       # one output, named or listed
                loss = self._per_output(loss, "loss", lambda v: v)[0]
            if isinstance(metrics, dict) or (isinstance(metrics, (list, tuple)) and metrics
                                             and isinstance(metrics[0], (list, tuple))):
                metrics = self._per_output(metrics, "metrics", list)[0]
            if loss_weights is not None:
                weight = self._per_output(loss_weights, "loss_weights", float)[0]
                if weight != 1.0:
                    raise ValueError("loss_weights scale the losses of several outputs; this "
                                     "model has one output (scale the learning rate instead)")
            return Trainer.compile(self, optimizer, loss, metrics)
        if loss is None:
            raise ValueError("compile needs a loss, e.g. compile(optimizer='adam', loss='mse'), "
                             "or one per output: loss={'name': 'mse', ...}")
        # None: an output that is not trained on (Keras's loss=[None, ...])
        per_output = self._per_output(loss, "loss",
                                      lambda v: None if v is None else losses.get(v))
        if all(item is None for item in per_output):
            raise ValueError("compile needs a loss for at least one output; received None "
                             "for every one")
        weights = [1.0] * n if loss_weights is None else \
            self._per_output(loss_weights, "loss_weights", float)
        Trainer.compile(self, optimizer, next(item for item in per_output if item), None)
        self.output_losses, self.loss_weights = per_output, weights
        self.loss = OutputLosses(per_output, weights, self.output_names)
        if metrics is None:
            per_metrics = [[] for _ in range(n)]
        elif isinstance(metrics, dict) or (isinstance(metrics, (list, tuple)) and metrics
                                           and any(isinstance(m, (list, tuple))
                                                   for m in metrics)):
            per_metrics = self._per_output(
                metrics, "metrics", lambda v: [v] if isinstance(v, (str, metrics_module.Metric))
                else list(v))
        else:
            per_metrics = [list(metrics) if isinstance(metrics, (list, tuple)) else [metrics]] * n
        self._metric_ids = per_metrics
        self._resolve_metrics()
        return self

    def _per_output(self, value, what, convert):
        names = self.output_names
        if isinstance(value, dict):
            unknown = [k for k in value if k not in names]
            if unknown:
                raise ValueError(f"{what} names outputs {unknown} that the model does not have; "
                                 f"its outputs are {names}")
            if what == "loss" and len(value) != len(names):
                raise ValueError(f"{what} must name every output {names}; received "
                                 f"{list(value)}")
            default = [] if what == "metrics" else 1.0
            return [convert(value[k]) if k in value else default for k in names]
        if isinstance(value, (list, tuple)):
            if len(value) != len(names):
                raise ValueError(f"{what} must have one entry per output ({len(names)}: {names});"
                                 f" received {len(value)}")
            return [convert(v) for v in value]
        return [convert(value) for _ in names]

    def _resolve_metrics(self):
        if self.output_losses is None:
            return Trainer._resolve_metrics(self)
        self.metrics, self.metric_names, self.metric_outputs = [], [], []
        for k, (ids, loss) in enumerate(zip(self._metric_ids, self.output_losses)):
            if ids and loss is None:
                raise ValueError(f"output {self.output_names[k]!r} has no loss, so it takes no "
                                 f"targets to measure metrics on; give it a loss, or no metrics")
            for m in ids:
                metric = copy.deepcopy(metrics_module.get(m, loss, self.output_widths[k]))
                metric.name = f"{self.output_names[k]}_{metric.name}"    # one per output
                self.metrics.append(metric)
                self.metric_names.append(metric.name)
                self.metric_outputs.append(k)

    def compute_metrics(self, y, y_pred, sample_weight=None):
        """Add a batch to every metric's state (each output's to its own); returns them so far."""
        if self.output_losses is None:
            return Trainer.compute_metrics(self, y, y_pred, sample_weight)
        if self.xp is not np:                 # the metrics count on the host
            y, y_pred = backend.to_host(y), backend.to_host(y_pred)
        targets = self._split_targets(y)
        for metric, k in zip(self.metrics, self.metric_outputs):
            metric.update_state(targets[k], y_pred[k])
        return self.get_metrics_result()

    # ------------------------------------------------------------------------------
    # the math: forward, loss, backward
    # ------------------------------------------------------------------------------
    def forward(self, x, training=False):
        """1. Forward: every layer, in topological order, computes its output; returns ŷ."""
        outputs = self.graph.forward([x] if not self.takes_list else self._split_inputs(x),
                                     training)
        out = outputs[0] if len(outputs) == 1 else outputs
        self.last_output = out
        if self.bound_weights:          # a model inside another keeps each call's records
            self.record = Record(x=x, a=out, nodes=self.graph.records())
        return out

    def backward(self, grad_a, need_input_grad=True):
        """The layer contract, for a model inside another model: ``dL/da`` in, ``dL/dx`` out."""
        self.graph.restore_records(self.record.nodes)
        grads = grad_a if self.graph.n_outputs > 1 else [grad_a]
        result = self.graph.backward(grads, need_input_grad)
        return result if self.takes_list else result[0]

    def accepts(self, widths):
        if isinstance(self.graph, PendingGraph):
            return not isinstance(widths, list)
        return (widths if isinstance(widths, list) else [widths]) == self.graph.input_widths

    def _fused(self, k):
        """The output node (layer and record) when output ``k``'s loss fuses with its activation."""
        if self._fused_nodes is None:
            self._fused_nodes = [self._fusable(k) for k in range(self.graph.n_outputs)]
        return self._fused_nodes[k]

    def _fusable(self, k):
        loss = self.output_losses[k] if self.output_losses else self.loss
        producer = self.graph.output_node(k)
        if producer is None or loss is None:
            return None
        layer = producer.layer
        act = layer.activation
        if act is None or loss.fused_activation != act.name or not hasattr(
                layer, "backward_from_delta"):
            return None
        return producer

    def _loss_of_output(self, k, loss, target, output):
        """Output ``k``'s loss per sample: from the logits z when it fuses with the activation."""
        fused = self._fused(k)
        if fused is not None:
            return loss.fused_per_sample(target, fused.record.z, output)
        return loss.per_sample(target, output)

    def _gradient_of_output(self, k, loss, target, output, sample_weight, weight=1.0):
        """What backward starts from at output ``k``: δ = dL/dz (fused) or dL/dŷ."""
        fused = self._fused(k)
        if fused is not None:      # the loss hands the output layer δ = dL/dz
            delta = loss.fused_delta(target, fused.record.z, output, sample_weight)
            return Delta(delta if weight == 1.0 else delta * weight)
        grad = loss.gradient(target, output, sample_weight)
        return grad if weight == 1.0 else grad * weight

    def per_sample_loss(self, y):
        """2. The loss of each sample of the last forward pass, shape (n,).

        From the logits z when the loss and the output activation fuse
        (stable: no log of a probability that rounded to 0); with several
        outputs, ``Σ_k w_k l_k``.
        """
        if self.output_losses is None:                        # one output
            fused = self._fused(0)
            if fused is not None:
                return self.loss.fused_per_sample(y, fused.record.z, self.last_output)
            return self.loss.per_sample(y, self.last_output)
        total = None
        for k, (loss, weight, target, output) in enumerate(zip(
                self.output_losses, self.loss_weights, self._split_targets(y),
                self.last_output)):
            if loss is None:
                continue
            per = self._loss_of_output(k, loss, target, output)
            per = per if weight == 1.0 else per * weight
            total = per if total is None else total + per
        return total

    def penalty(self):
        """The regularization terms of every layer, added to the loss."""
        return sum(layer.penalty() for layer in self.layers)

    def compute_loss(self, y, sample_weight=None):
        """2. The mean loss ``(1/n) Σ w_i l_i + R`` of the last forward pass."""
        return losses.reduce(self.per_sample_loss(y), sample_weight) + self.penalty()

    def backpropagate(self, y, sample_weight=None, seeds=None):
        """3. Backward: dL/dŷ from the loss, then every layer in reverse topological order.

        Fills ``model.grads`` (every layer's dW, db, ... are views into it).
        ``seeds`` (what each output hands back) are computed from the loss
        unless given.
        """
        if seeds is not None:
            pass
        elif self.output_losses is None:                      # one output
            seeds = [self._gradient_of_output(0, self.loss, y, self.last_output,
                                              sample_weight)]
        else:
            seeds = [None if loss is None else
                     self._gradient_of_output(k, loss, target, output, sample_weight, weight)
                     for k, (loss, weight, target, output) in enumerate(zip(
                         self.output_losses, self.loss_weights, self._split_targets(y),
                         self.last_output))]
        self.graph.backward(seeds, need_input_grad=False)
        for layer in self._penalized:                          # dR/dθ, once per layer
            layer.penalty_gradient()

    def compute_loss_and_gradients(self, x, y, sample_weight=None, training=False,
                                   store=None):
        """Steps 1–3 on a checked batch: forward, mean loss, backward; returns the loss.

        ``store`` (fit's deferred check on a GPU, see :class:`glassnet.trainer.DeferredLosses`)
        keeps the loss on the device instead: it is stored there and None is returned.
        """
        self.forward(x, training)
        fused = self._fused_loss_kernel(y, sample_weight)
        if fused is not None:           # on a GPU: l_i and δ from one kernel (glassnet.cuda)
            per_sample, delta = fused
            seeds = [Delta(delta)]
        else:
            per_sample, seeds = None, None
        if store is not None:
            store(self.per_sample_loss(y) if per_sample is None else per_sample, sample_weight)
            loss = None
        elif per_sample is not None:
            loss = self.kernels.mean_loss(per_sample, sample_weight) + self.penalty()
        else:
            loss = self.compute_loss(y, sample_weight)
        self.backpropagate(y, sample_weight, seeds=seeds)
        return loss

    def _fused_loss_kernel(self, y, sample_weight):
        """The kernels' ``(per-sample loss, δ)`` for a one-output model whose loss fuses with
        its output activation, or None (then compute_loss and backpropagate do it)."""
        if self.kernels is None or self.output_losses is not None:
            return None
        node = self._fused(0)
        if node is None:
            return None
        return self.kernels.loss_and_delta(self.loss, y, node.record.z, self.last_output,
                                           sample_weight)

    def first_untrainable_layer(self):
        """The first layer backpropagation cannot pass (a step activation), or None."""
        return self.graph.blocking_layer()

    def loss_and_gradients(self, x, y, sample_weight=None):
        """The mean loss on (x, y) and its gradient for every trained parameter.

        Dropout is inactive and BatchNormalization uses its moving averages
        (training=False), so the function is deterministic and can be checked
        against finite differences (:func:`gradcheck`).

        Returns
        -------
        loss : float
        gradients : list of arrays
            dL/dW1, dL/db1, dL/dW2, ... in the order and shapes of
            :attr:`trainable_weights`.
        """
        self._require_compiled("loss_and_gradients")
        x, y, w = (None if a is None else backend.to_module(a, self.xp)
                   for a in self._check_xy(*(self.from_device(v, name) for v, name in (
                       (x, "x"), (y, "y"), (sample_weight, "sample_weight")))))
        loss = self.compute_loss_and_gradients(x, y, w, training=False)
        return loss, [g.copy() for layer in self.layers for g in layer.bound_grads]

    def predict(self, x, batch_size=None, verbose=0, callbacks=None):
        """Outputs for inputs ``x`` (see :meth:`glassnet.trainer.Trainer.predict`).

        A model whose outputs were given as a dict returns a dict by output
        name; several outputs given as a list, a list of arrays.
        """
        out = Trainer.predict(self, x, batch_size=batch_size, verbose=verbose,
                              callbacks=callbacks)
        if self.outputs_by_name:
            return dict(zip(self.output_names, out if isinstance(out, list) else [out]))
        return out

    def __call__(self, inputs, training=False):
        """On symbolic tensors, the model as a layer of another graph; on arrays, its output."""
        if layers_module.is_symbolic(inputs):
            return self._call_symbolic(inputs)
        if training:
            return layers_module.as_tensor(backend.to_host(self.forward(
                self.check_x(inputs), training=True)))
        out = self.predict(inputs)
        if isinstance(out, dict):
            return {k: layers_module.as_tensor(v) for k, v in out.items()}
        return layers_module.as_tensor(out)

    # ------------------------------------------------------------------------------
    # weights by hand
    # ------------------------------------------------------------------------------
    def _require_built(self, what):
        if not self.built:
            raise ValueError(f"the model has no weights yet, so {what} is unavailable; give the "
                             f"first layer input_dim=..., or call build(n_features), fit or "
                             f"set_weights first")

    @property
    def weights(self):
        """Every weight array, layer by layer (live views: writing them changes the model)."""
        self._require_built("model.weights")
        return [w for layer in self.layers for w in layer.weights]

    @property
    def trainable_weights(self):
        """The trained arrays ``[W1, b1, W2, b2, ...]`` (live views)."""
        self._require_built("model.trainable_weights")
        return [w for layer in self.layers for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self):
        """The kept but untrained arrays, e.g. moving averages (live views)."""
        self._require_built("model.non_trainable_weights")
        return [w for layer in self.layers for w in layer.non_trainable_weights]

    def get_weights(self):
        """Copies of every weight, layer by layer: ``[W1, b1, W2, b2, ...]``.

        Each W has shape (inputs, units); a BatchNormalization layer
        contributes ``[gamma, beta, moving_mean, moving_variance]``.
        """
        self._require_built("get_weights")
        return [np.array(backend.to_host(w), copy=True).view(np.ndarray) for w in self.weights]

    def set_weights(self, weights):
        """Set every weight, in the order of :meth:`get_weights`.

        Builds the model from the first kernel's shape if needed.
        """
        weights = list(weights)
        if not self.built:
            if not weights:
                raise ValueError("set_weights received an empty list")
            first = np.asarray(weights[0])
            if first.ndim != 2:
                raise ValueError(f"the first weight must be a kernel of shape (inputs, units); "
                                 f"received shape {first.shape}")
            self.build(first.shape[0])
        self.claim_weights()
        views = self.weights
        if len(weights) != len(views):
            raise ValueError(f"set_weights expects {len(views)} arrays ([W1, b1, W2, b2, ...]); "
                             f"received {len(weights)}")
        arrays = [check.as_weight(value, view.shape, f"weight {i}")
                  for i, (view, value) in enumerate(zip(views, weights))]
        for view, value in zip(views, arrays):
            view[...] = backend.to_module(value, self.xp)

    def get_layer(self, name=None, index=None):
        """The layer called ``name`` (or at position ``index``)."""
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"no layer named {name!r}; the layers are "
                         f"{[layer.name for layer in self.layers]}")

    # ------------------------------------------------------------------------------
    # description
    # ------------------------------------------------------------------------------
    def connections(self):
        """``{layer name: [names of the layers it reads from], ...}`` (every call of a layer)."""
        links = {layer.name: [] for layer in self.layers}
        for node in self.graph.nodes():
            links[node.layer.name] += [n for n in self.graph.inbound(node)
                                       if n not in links[node.layer.name]]
        return links

    def summary(self, print_fn=print):
        """Print each layer's name and type, output shape, activation, parameters and inputs."""
        links = self.connections()
        rows = [("Layer (type)", "Output shape", "Activation", "Param #", "Connected to")]
        for layer in self.layers:
            out = layer.output_dim
            known = layer.output_dim is not None
            shape = ("(unbuilt)" if not known else
                     ", ".join(f"(None, {w})" for w in out) if isinstance(out, list)
                     else f"(None, {out})")
            rows.append((f"{layer.name} ({type(layer).__name__})", shape,
                         layer.activation.name if layer.activation is not None else "",
                         f"{layer.count_params():,}" if known else "?",
                         ", ".join(links.get(layer.name, []))))
        if not any(row[4] for row in rows[1:]):
            rows = [row[:4] for row in rows]
        table = format_table(rows, rule="=")
        rule = "=" * max(len(line) for line in table)
        text = [f'Model: "{self.display_name()}"', rule.replace("=", "-"), *table, rule]
        if self.built:
            trained = int(sum(math.prod(s) for layer in self.layers
                              for s in layer.param_shapes()))
            inputs = ", ".join(f"(None, {w})" for w in self.graph.input_widths)
            text += [f"Total params: {self.count_params():,}",
                     f"Trainable params: {trained:,}",
                     f"Non-trainable params: {self.count_params() - trained:,}",
                     f"Input: {inputs}"]
        else:
            text += ["Total params: unknown (model not built yet: give the first layer "
                     "input_dim=... or call build)", "Input: unknown"]
        print_fn("\n".join(text))

    def display_name(self):
        return self.name

    def title(self):
        return f"{type(self).__name__} {self.name!r} ({len(self.graph.layers)} layers)"

    def trace_forward(self):
        self.graph.restore_records(self.record.nodes)
        return Layer.trace_forward(self)

    def get_config(self):
        """The architecture as JSON-able data: the layers, and which tensors each call reads."""
        names = {id(layer): layer.name for layer in self.layers}
        calls = {}              # id(node) -> (layer name, index of this call of the layer)
        count = {}
        for layer in self.graph.input_layers:
            if layer is not None:
                calls[id(self._input_node(layer))] = (layer.name, 0)
        nodes = []
        for node in self.graph.nodes():
            k = count.get(id(node.layer), 0)
            count[id(node.layer)] = k + 1
            calls[id(node)] = (names[id(node.layer)], k)
            nodes.append({"layer": names[id(node.layer)],
                          "inputs": [[*calls[id(t.node)], t.index] for t in node.inputs]})

        def ref(t):
            return [*calls[id(t.node)], t.index]
        return {"name": None if self.auto_named else self.name, "dtype": self.dtype.name,
                "seed": self.seed, "fast": self.fast,
                "class_names": None if self.class_names is None else list(self.class_names),
                "layers": [named(layers_module.serialize(layer), layer.name)
                           for layer in self.layers],
                "nodes": nodes,
                "inputs": [ref(t) for t in self.graph.inputs],
                "outputs": [ref(t) for t in self.graph.outputs],
                "input_names": list(self.input_names), "output_names": list(self.output_names),
                "inputs_by_name": self.inputs_by_name, "outputs_by_name": self.outputs_by_name}

    def _input_node(self, layer):
        for t in self.graph.inputs:
            if t.node is not None and t.node.layer is layer:
                return t.node
        return None

    @classmethod
    def from_config(cls, config, build=True):
        """A new model from :meth:`get_config`'s dict (built unless ``build=False``)."""
        check.config_keys(config, ("layers", "nodes", "inputs", "outputs"), "model")
        layers = {}
        for item in config["layers"]:
            layer = layers_module.deserialize(item)
            if layer.name in layers:
                raise ValueError(f"two layers are named {layer.name!r}")
            layers[layer.name] = layer
        produced = {}              # (layer name, call index) -> output tensors
        for name, layer in layers.items():
            if isinstance(layer, layers_module.InputLayer):
                shape = layer.sample_shape or (layer.declared_input_dim,)
                produced[(name, 0)] = [layers_module.Input(shape=shape, name=name)]
                layers[name] = produced[(name, 0)][0].node.layer

        def tensor(ref):
            if not (isinstance(ref, list) and len(ref) == 3 and isinstance(ref[0], str)
                    and all(isinstance(i, int) and not isinstance(i, bool) for i in ref[1:])):
                raise ValueError(f"a tensor reference must be [layer name, call, output]; "
                                 f"received {ref!r}")
            outs = produced.get((ref[0], ref[1]))
            if outs is None or not 0 <= ref[2] < len(outs):
                raise ValueError(f"the graph reads tensor {ref!r} before any layer made it")
            return outs[ref[2]]
        calls = {}
        for key in ("layers", "nodes", "inputs", "outputs"):
            if not isinstance(config[key], list):
                raise ValueError(f"the model's {key!r} must be a list; received "
                                 f"{type(config[key]).__name__}")
        for node in config["nodes"]:
            if not isinstance(node, dict) or node.get("layer") not in layers \
                    or not isinstance(node.get("inputs"), list) or not node["inputs"]:
                raise ValueError(f"a node must be {{'layer': a layer's name, 'inputs': [...]}}; "
                                 f"received {node!r}")
            layer = layers[node["layer"]]
            ins = [tensor(r) for r in node["inputs"]]
            if not layer.takes_list and len(ins) != 1:
                raise ValueError(f"layer {layer.name!r} takes one input; a node gives it "
                                 f"{len(ins)}")
            out = layer(ins if layer.takes_list else ins[0])
            k = calls.get(layer.name, 0)
            calls[layer.name] = k + 1
            produced[(layer.name, k)] = out if isinstance(out, list) else [out]
        inputs = [tensor(r) for r in config["inputs"]]
        outputs = [tensor(r) for r in config["outputs"]]
        if config.get("inputs_by_name") is True:
            inputs = dict(zip(check.string_list(config["input_names"], "input_names"), inputs))
        if config.get("outputs_by_name") is True:
            outputs = dict(zip(check.string_list(config["output_names"], "output_names"),
                               outputs))
        model = cls.__new__(cls)
        model._init_model(config.get("name"), config.get("dtype", "float32"), config.get("seed"),
                          config.get("fast"))
        model._set_graph(inputs, outputs)
        model.class_names = class_names_from(config)
        if build:
            model.build()
        return model

    @classmethod
    def from_layer_config(cls, config):
        """The model inside another model's file: its graph, weights left to the parent."""
        if not isinstance(config, dict):
            raise ValueError(f"a model's config must be a dict; received {config!r}")
        return cls.from_config(config, build=False)

    def _set_graph(self, inputs, outputs):
        #: outputs given as a dict: predict returns a dict by output name (as Keras does)
        self.outputs_by_name = isinstance(outputs, dict)
        self.inputs_by_name = isinstance(inputs, dict)
        self.input_names, input_list = self._tensors(inputs, "inputs")
        self.output_names, output_list = self._tensors(outputs, "outputs")
        for t in input_list:
            if t.node is None or t.node.inputs:
                raise ValueError(f"Model inputs must come from gn.Input(shape=(n,)); received "
                                 f"{t!r}, which a layer produced")
        self.graph = LayerGraph(input_list, output_list, self.name)
        self.layers = [layer for layer in self.graph.input_layers if layer is not None]
        self.layers += self.graph.layers
        self._name_layers()
        self.input_names = self.input_names or [layer.name for layer in self.graph.input_layers]
        self.output_names = self.output_names or self._unique_output_names(output_list)
        self.takes_list = len(input_list) > 1

    def __repr__(self):
        return f"<{type(self).__name__} {self.name!r}: {len(self.graph.input_widths)} input(s), " \
               f"{self.graph.n_outputs} output(s), {len(self.layers)} layers>"

    # ------------------------------------------------------------------------------
    # looking inside, exporting, saving
    # ------------------------------------------------------------------------------
    def trace(self, x, y=None):
        """Every equation of the forward (and, with ``y``, backward) pass for a sample.

        Returns a :class:`glassnet.trace.Trace`; ``print`` it for a report in
        the seeds' notation with this network's own numbers.
        """
        return trace(self, x, y)

    def export_onnx(self, path):
        """Write the model as ONNX for deployment runtimes (needs ``glassnet[onnx]``).

        See :mod:`glassnet.export` for how each layer maps to ONNX operators.
        """
        self.claim_weights()
        return export_onnx(self, path)

    def restore(self, path):
        """Put back what :meth:`save` wrote: weights, optimizer state, History and random state.

        The file must hold this very architecture (``BackupAndRestore`` uses it to
        resume an interrupted run); it is read as untrusted, like :func:`load_model`.
        """
        self.claim_weights()
        with serialization.ModelFile(path) as file:
            meta = file.meta
            saved, mine = meta.get("model"), self.get_config()
            if not isinstance(saved, dict) or any(saved.get(key) != mine.get(key)
                                                  for key in ("layers", "nodes", "input_dim")):
                raise ValueError(f"{os.fspath(path)!r} holds another architecture than this "
                                 f"model")
            compile_cfg = meta.get("compile")
            if (compile_cfg is None) != (self.optimizer is None) or (
                    self.optimizer is not None and optimizers.REGISTRY.name_of(self.optimizer)
                    != (compile_cfg.get("optimizer") or {}).get("class")):
                raise ValueError(f"{os.fspath(path)!r} was saved with another optimizer")
            values = file.array(serialization.PARAMS, self.variables.shape, self.dtype)
            state = {}
            if self.optimizer is not None:
                for key in self.optimizer.state_names:
                    state[key] = file.array(serialization.optimizer_member(key),
                                            self.params.shape, self.dtype)
            with file.reason("its history or random state is invalid"):
                history = callbacks_module.History()
                history.restore(meta.get("history") or {})
                rng = np.random.default_rng()
                rng.bit_generator.state = meta["rng_state"]
                iterations = check.non_negative_int(compile_cfg.get("iterations", 0),
                                                    "iterations") if compile_cfg else 0
        self.variables[...] = backend.to_module(values, self.xp)
        self.history.history, self.history.epoch = history.history, history.epoch
        self.rng.bit_generator.state = rng.bit_generator.state
        if self.optimizer is not None:
            self.optimizer.build(self.params.size, self.dtype, self.xp)
            for key, value in state.items():
                self.optimizer.state[key][...] = backend.to_module(value, self.xp)
            self.optimizer.iterations = iterations
        return self

    def save(self, path, overwrite=None):
        """Save architecture, compile settings, weights and optimizer state to one file.

        The file is a zip (see :mod:`glassnet.serialization`); the write is
        atomic: an existing file is replaced only once the new one is complete,
        and a symbolic link keeps pointing at the new file.  ``overwrite``
        (Keras's argument): None replaces a writable file and refuses a
        read-only one, True replaces any file, False refuses an existing one.
        :func:`glassnet.load_model` reads it back (as this class, when the class
        is registered with :func:`glassnet.register`).
        """
        if not self.built:
            raise ValueError("cannot save a model that has no weights yet; build, fit or "
                             "set_weights first")
        self.claim_weights()
        meta = {"glassnet_version": __version__,
                "model": {"class": REGISTRY.name_of(self), **self.get_config()},
                "rng_state": self.rng.bit_generator.state,
                "history": {"history": self.history.history, "epoch": self.history.epoch},
                "compile": None}
        # files hold NumPy arrays: a model saved on a GPU loads on any machine
        arrays = {serialization.PARAMS: backend.to_host(self.variables)}
        if self.loss is not None:
            opt = self.optimizer
            opt.build(self.params.size, self.dtype, self.xp)   # (zeros: a model never trained)
            meta["compile"] = {"loss": self.serialize_loss(),
                               "loss_weights": self.loss_weights,
                               "optimizer": optimizers.serialize(opt),
                               "iterations": opt.iterations,
                               "metrics": self.serialize_metrics()}
            for key, value in opt.state.items():
                arrays[serialization.optimizer_member(key)] = backend.to_host(value)
        serialization.write_model_file(path, meta, arrays, overwrite=overwrite)

    def save_weights(self, filepath, overwrite=None):
        """Save the weights alone: Keras 3's ``.weights.h5`` (needs h5py), or glassnet's zip.

        See :mod:`glassnet.models.weights_file`.
        """
        weights_file.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath):
        """Read weights saved by :meth:`save_weights` into this model (built the same way)."""
        weights_file.load_weights(self, filepath)

    @property
    def losses(self):
        """The regularization terms of the layers (Keras's ``model.losses``), as numbers."""
        return [layer.penalty() for layer in self.layers if layer.regularized]

    def predict_step(self, x):
        """One chunk of prediction: the forward pass (override to change what predict returns)."""
        return self.forward(x)

    def serialize_loss(self):
        if self.output_losses is None:
            return losses.serialize(self.loss)
        return [None if loss is None else losses.serialize(loss) for loss in self.output_losses]

    def serialize_metrics(self):
        def one(m):
            return m if isinstance(m, str) else metrics_module.serialize(m)
        if self.output_losses is None:
            return [one(m) for m in self._metric_ids]
        return [[one(m) for m in ids] for ids in self._metric_ids]


def only_entry(value, names, what):
    """The one array of a one-input (one-output) model given as ``[x]`` or ``{name: x}``."""
    if isinstance(value, dict):
        if len(value) != 1 or next(iter(value)) not in names:
            raise ValueError(f"the model has one of {what}, named {names[0]!r}; received a dict "
                             f"with the keys {list(value)}")
        return next(iter(value.values()))
    if isinstance(value, (list, tuple)) and len(value) == 1 and (
            isinstance(value[0], np.ndarray) or hasattr(value[0], "to_numpy")):
        return value[0]
    return value


def named(serialized, name):
    """A serialized layer with its name (the graph's nodes refer to layers by name)."""
    return {**serialized, "config": {**serialized["config"], "name": name}}


def layer_current_weights(layer):
    """A layer's arrays in the order its model binds them (trained first), or [] if none."""
    if isinstance(layer, Model):
        return layer.current_weights() if layer.built else []
    return list(layer.bound_weights)


def class_names_from(config):
    names = config.get("class_names")
    if names is None:
        return None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ValueError(f"class_names must be a list of strings; received {names!r}")
    return tuple(names)


REGISTRY = Registry("model", Model, {"functional": Model}, aliases={"model": "functional"})
layers_module.REGISTRY.add_builtins({"functional": Model}, aliases={"model": "functional"})
