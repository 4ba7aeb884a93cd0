"""Sequential: the special case of a graph that is a chain, one layer after another."""

from __future__ import annotations

import math

import numpy as np

from .. import _validation as check
from .. import layers as layers_module
from ..layers import Layer, SymbolicTensor
from ..layers.graph import Delta, LayerCollection
from ..trainer import Trainer
from .functional import REGISTRY, Model, class_names_from, only_entry

__all__ = ["Sequential", "Chain"]


class _ChainEnd:
    """The last layer of a chain, where the loss may hand over δ (as a graph's output node)."""

    __slots__ = ("layer",)

    def __init__(self, layer):
        self.layer = layer

    @property
    def record(self):
        return self.layer.record


class Chain(LayerCollection):
    """Sequential's graph: each layer's output is the next one's input.

    The same interface as :class:`~glassnet.layers.LayerGraph`, with the two
    loops of the seed documents for forward and backward.
    """

    n_outputs = 1
    input_layers = ()
    inputs = outputs = ()

    def __init__(self, layers):
        self.layers = layers            # the model's own list: add and pop change it
        self.input_widths = []

    def output_widths(self):
        return [self.layers[-1].output_dim]

    def nodes(self):
        return []

    def output_node(self, k):
        return _ChainEnd(self.layers[-1])

    def build(self, widths, rng):
        width = widths[0]
        for layer in self.layers:
            width = layer.build_from(width, rng)
        self.input_widths = [widths[0]]
        return [width]

    def forward(self, xs, training=False):
        """Each layer's output is the next one's input: ``aˡ = layer_l(aˡ⁻¹)``."""
        x = xs[0]
        for layer in self.layers:
            x = layer.forward(x, training)
        return [x]

    def backward(self, output_grads, need_input_grad=True):
        """From the last layer to the first, each turns ``dL/daˡ`` into ``dL/daˡ⁻¹``."""
        layers, grad = self.layers, output_grads[0]
        below = len(layers) > 1 or need_input_grad
        if isinstance(grad, Delta):      # the loss handed the output layer δ = dL/dz
            grad = layers[-1].backward_from_delta(grad.value, need_input_grad=below)
        else:
            grad = layers[-1].backward(grad, below)
        for i in range(len(layers) - 2, -1, -1):
            grad = layers[i].backward(grad, i > 0 or need_input_grad)  # the first needs no dL/dx
        return [grad]

    def records(self):
        return [layer.record for layer in self.layers]

    def restore_records(self, records):
        for layer, record in zip(self.layers, records):
            layer.record = record

    def traced_layers(self):
        return iter(self.layers)

    def to_onnx(self, graph, names):
        x = names[0]
        for layer in self.layers:
            x = layer.to_onnx(graph, x)
        return [x]


class Sequential(Model):
    """A feed-forward network: layers applied one after another.

    Parameters
    ----------
    layers : list of Layer, optional
        ``gn.Input(shape=(n,))`` may come first (it stands for an InputLayer).
    dtype : {"float32", "float64"}, default "float32"
        Floating type of weights, activations and gradients (inputs are cast
        to it once, at the boundary).
    seed : int or None
        Seeds the model's own ``numpy.random.Generator``, which draws the
        initial weights, the shuffling and the dropout masks.  The same seed
        gives the same run; no global random state is touched.
    name : str, optional
    fast : bool or None, default None
        Train with the compiled kernels of :mod:`glassnet.fast` (needs
        ``glassnet[fast]``): None uses them for big models when numba is
        installed, True always, False never.  Both paths give bit-identical
        weights.
    device : {"cpu", "cuda"}, default "cpu"
        Where the weights live and the arithmetic runs: NumPy on the CPU, or
        CuPy on an NVIDIA GPU (``pip install 'glassnet[cuda]'``), with the
        same equations (:mod:`glassnet.backend`); ``model.to(device)`` moves
        a model.

    A model whose first layer knows its input width (``input_dim=...`` or a
    leading :class:`~glassnet.layers.InputLayer`) is built at once; otherwise
    the first ``fit``/``predict``/``build`` builds it from the data.

    Examples
    --------
    >>> import numpy as np, glassnet as gn
    >>> x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    >>> y = np.array([[0], [1], [1], [0]])
    >>> model = gn.Sequential([gn.Dense(4, "tanh"), gn.Dense(1, "sigmoid")], seed=0)
    >>> model.compile(loss="binary_crossentropy", optimizer=gn.Adam(0.05),
    ...               metrics=["accuracy"])
    >>> history = model.fit(x, y, epochs=300, batch_size=4, verbose=0)
    """

    def __init__(self, layers=None, dtype="float32", seed=None, name=None, fast=None,
                 device="cpu"):
        self._init_model(name, dtype, seed, fast, device)
        self.graph = Chain(self.layers)
        self._taken, self._next_number = set(), {}       # layer names, numbered in O(1)
        #: the InputLayer that declares the input's shape (Keras: not in model.layers)
        self.input_layer = None
        self.input_names, self.output_names = ["input"], ["output"]
        if layers is not None and not isinstance(layers, (list, tuple)):
            raise ValueError(f"Sequential takes a list of layers; received "
                             f"{type(layers).__name__}")
        for layer in layers or []:
            self._append(layer)
        if self.layers and self._declared_width() is not None:
            self.build()          # once, however many layers (linear in their number)

    # ------------------------------------------------------------------------------
    # building
    # ------------------------------------------------------------------------------
    def _first(self):
        """What declares the input: the InputLayer, else the first layer (None if empty)."""
        return self.input_layer if self.input_layer is not None else (
            self.layers[0] if self.layers else None)

    def _declared_width(self):
        first = self._first()
        return None if first is None else first.declared_input_dim

    def _append(self, layer):
        if isinstance(layer, SymbolicTensor) and layer.node is not None \
                and isinstance(layer.node.layer, layers_module.InputLayer):
            layer = layer.node.layer               # gn.Input(shape=(n,)) in a layer list
        if isinstance(layer, layers_module.InputLayer):
            if self.layers or self.input_layer is not None:
                raise ValueError("an Input (InputLayer) comes first in a Sequential model, "
                                 "once")
            # as in Keras, the input is the model's, not one of model.layers
            self.input_layer = layer
            return
        if not isinstance(layer, Layer):
            raise ValueError(f"Sequential.add expects a Layer (Dense, Dropout, ...); received "
                             f"{layer!r}")
        taken = self._taken
        if len(taken) != len(self.layers):               # (layers changed by hand)
            taken.clear()
            taken.update(other.name for other in self.layers)
        if layer.auto_named:             # dense, dense_1, dense_2, ... within this model
            base = layers_module.REGISTRY.name_of(layer)
            k = self._next_number.get(base, 0)
            layer.name = base if k == 0 else f"{base}_{k}"
            while layer.name in taken:
                k += 1
                layer.name = f"{base}_{k}"
            self._next_number[base] = k + 1
        elif layer.name in taken:
            raise ValueError(f"the model already has a layer named {layer.name!r}; layer names "
                             f"must be unique")
        self.layers.append(layer)
        taken.add(layer.name)

    def add(self, layer):
        """Append a layer.  A built model is rebuilt, keeping the weights it has."""
        self._append(layer)
        self._fused_nodes = None
        if self.built:
            self.build(self.input_dim)
        elif self.layers and self._declared_width() is not None:
            self.build()

    def pop(self):
        """Remove the last layer (Keras's ``model.pop()``); returns it."""
        if not self.layers:
            raise ValueError("the model has no layers to pop")
        layer = self.layers.pop()
        self._taken.discard(layer.name)
        self._fused_nodes = None
        if self.built:
            if self.layers:
                self.build(self.input_dim)
            else:
                self.variables = self.params = self.grads = None
        return layer

    @property
    def input_dim(self):
        return self.graph.input_widths[0] if self.graph.input_widths else None

    @input_dim.setter
    def input_dim(self, value):
        pass

    def weight_shapes(self, input_dim):
        """Build each layer for inputs of width ``input_dim`` (no weights yet).

        Returns, per layer, ``(param_shapes, state_shapes)``: what :meth:`build`
        allocates.  Loading uses it to check a file before allocating.
        """
        if not self.layers:
            raise ValueError("the model has no layers; add at least one Dense layer")
        self.graph.build([input_dim], self.rng)
        return [(layer.param_shapes(), layer.state_shapes()) for layer in self.layers]

    def build(self, input_dim=None, input_shape=None):
        """Create the weights for inputs of width ``input_dim``.

        Called by ``fit``/``predict``/``set_weights`` with the width of the
        data if needed.  The first layer's ``input_dim`` wins if it was given.
        Layers that had weights already (a model grown with :meth:`add`)
        keep them; new layers are initialised.
        """
        input_dim = input_shape if input_dim is None else input_dim
        if isinstance(input_dim, (tuple, list)):      # Keras's build((None, n))
            input_dim = input_dim[-1] if len(input_dim) == 2 else math.prod(input_dim[1:])
        declared = self._declared_width()
        width = declared if declared is not None else input_dim
        if width is None:
            raise ValueError("the input width is unknown: give the first layer input_dim=... "
                             "(or start with gn.Input(shape=(n,))), or pass data")
        return self._allocate(self.weight_shapes(width))

    def accepts(self, widths):
        return not isinstance(widths, list) and (not self.built or widths == self.input_dim)

    def build_from(self, input_dim, rng):
        return self.graph.build([input_dim], rng)[0]

    @property
    def flattens_input(self):
        first = self._first()
        return first is not None and first.flattens_input

    @property
    def scales_input(self):
        """True when the first layer that computes something scales the input."""
        for layer in self.layers:
            if layer.scales_input:
                return True
            if not isinstance(layer, (layers_module.InputLayer, layers_module.Flatten)):
                return False
        return False

    def side_by_side(self, x):
        if type(x) is np.ndarray:
            return x
        return only_entry(x, self.input_names, "inputs")      # [x] or {"input": x}: x

    predict = Trainer.predict            # (one output, never named: no dict to build)

    def _check_x(self, x, name="x"):
        self.claim_weights()
        if type(x) is not np.ndarray or x.ndim != 2:
            x = self._rows(x, self._first())
        x = check.as_matrix(x, name, self.dtype, self.input_dim)
        if not self.built:
            self.build(x.shape[1])
        return x

    # ------------------------------------------------------------------------------
    # description
    # ------------------------------------------------------------------------------
    def connections(self):
        return {}

    def get_config(self):
        return {"dtype": self.dtype.name, "seed": self.seed,
                "name": None if self.auto_named else self.name,
                "input_dim": self.input_dim, "fast": self.fast,
                "class_names": None if self.class_names is None else list(self.class_names),
                "layers": [layers_module.serialize(layer) for layer in
                           ([self.input_layer] if self.input_layer is not None else [])
                           + self.layers]}

    @classmethod
    def from_config(cls, config, build=True):
        """A new model from :meth:`get_config`'s dict (built unless ``build=False``)."""
        if not isinstance(config.get("layers"), list):
            raise ValueError("a Sequential config needs a list of layers")
        model = cls.__new__(cls)
        Sequential.__init__(model, None, dtype=config.get("dtype", "float32"),
                            seed=config.get("seed"), name=config.get("name"),
                            fast=config.get("fast"))
        for item in config["layers"]:
            model._append(layers_module.deserialize(item))
        model.class_names = class_names_from(config)
        if build:
            model.build(config.get("input_dim"))
        return model

    def __repr__(self):
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Sequential([{inner}])"


REGISTRY.add_builtins({"sequential": Sequential})
layers_module.REGISTRY.add_builtins({"sequential": Sequential})
