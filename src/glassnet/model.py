"""The model: a stack of layers, and the math of one training step.

One training step on a batch (x, y) is the whole algorithm of the seed documents:

1. **forward**: ``a⁰ = x``, then for each layer ``aˡ = σ(aˡ⁻¹ · Wˡ + bˡ)``
   (:meth:`Sequential.forward`, :meth:`glassnet.layers.Dense.forward`);
2. **loss**: ``L = (1/n) Σ_i l(ŷ_i, y_i)`` with ``ŷ = a^last``
   (:meth:`Sequential.per_sample_loss`, :mod:`glassnet.losses`);
3. **backward**: ``dL/dŷ`` from the loss (or ``dL/dz`` directly, fused), then
   each layer from the last to the first turns ``dL/daˡ`` into ``dL/dWˡ``,
   ``dL/dbˡ`` and ``dL/daˡ⁻¹`` (:meth:`Sequential.backward`,
   :meth:`glassnet.layers.Dense.backward`);
4. **update**: ``θ ← θ - α g`` or one of its refinements
   (:mod:`glassnet.optimizers`).

Steps 1–3 are :meth:`Sequential.compute_loss_and_gradients`; step 4 and the
loop around it are the trainer's (:meth:`glassnet.trainer.Trainer.train_step`
and :meth:`~glassnet.trainer.Trainer.fit`).

All weights live in one flat vector ``model.variables`` (float32 unless the
model says otherwise): first the trained parameters ``model.params``, in the
order ``[W1, b1, W2, b2, ...]``, then the arrays that are kept but not
trained (BatchNormalization's moving averages).  The layers' W and b are views
into it, and ``model.grads`` mirrors ``model.params``, so the optimizer
updates the whole network in a few vector operations.
"""

from __future__ import annotations

import math
import os

import numpy as np

from ._version import __version__
from . import _validation as check
from ._text import format_table
from . import layers as layers_module
from . import losses, metrics as metrics_module, optimizers, serialization
from .export import export_onnx
from .layers import Layer
from .trace import trace
from .trainer import Trainer, TrainingDiverged

__all__ = ["Sequential", "TrainingDiverged", "load_model", "build_mlp", "TASKS"]

#: output activation, loss and metrics for each kind of task
TASKS = {"multiclass": ("softmax", "sparse_categorical_crossentropy", ["accuracy"]),
         "binary": ("sigmoid", "binary_crossentropy", ["accuracy"]),
         "regression": ("linear", "mse", ["mae"])}


class Sequential(Trainer):
    """A feed-forward network: layers applied one after another.

    Parameters
    ----------
    layers : list of Layer, optional
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

    def __init__(self, layers=None, dtype="float32", seed=None, name=None, fast=None):
        try:                  # (np.dtype(None) would be float64: None is refused too)
            self.dtype = None if dtype is None else np.dtype(dtype)
        except (TypeError, ValueError, OverflowError):
            self.dtype = None
        if self.dtype is None or self.dtype.name not in ("float32", "float64"):
            raise ValueError(f"dtype must be 'float32' or 'float64'; received {dtype!r}")
        if name is not None and not isinstance(name, str):
            raise ValueError(f"a model name must be a string or None; received {name!r}")
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.name = name
        #: names of the output classes, kept with the saved model (None: unnamed)
        self.class_names = None
        self.layers = []
        self.variables = self.params = self.grads = None
        super().__init__(fast)
        for layer in layers or []:
            self.add(layer)

    # ------------------------------------------------------------------------------
    # building
    # ------------------------------------------------------------------------------
    def add(self, layer):
        """Append a layer.  A built model is rebuilt, keeping the weights it has."""
        if not isinstance(layer, Layer):
            raise ValueError(f"Sequential.add expects a Layer (Dense, Dropout, ...); received "
                             f"{layer!r}")
        taken = {other.name for other in self.layers}
        if layer.auto_named:             # dense, dense_1, dense_2, ... within this model
            base, k = layers_module.REGISTRY.name_of(layer), 0
            layer.name = base
            while layer.name in taken:
                k += 1
                layer.name = f"{base}_{k}"
        elif layer.name in taken:
            raise ValueError(f"the model already has a layer named {layer.name!r}; layer names "
                             f"must be unique")
        self.layers.append(layer)
        if self.built:
            self.build(self.input_dim)
        elif self.layers[0].declared_input_dim is not None:
            self.build()

    @property
    def built(self):
        return self.variables is not None

    @property
    def input_dim(self):
        return self.layers[0].input_dim if self.built else None

    @property
    def output_dim(self):
        return self.layers[-1].output_dim if self.built else None

    def weight_shapes(self, input_dim):
        """Build each layer for inputs of width ``input_dim`` (no weights yet).

        Returns, per layer, ``(param_shapes, state_shapes)``: what :meth:`build`
        allocates.  Loading uses it to check a file before allocating.
        """
        if not self.layers:
            raise ValueError("the model has no layers; add at least one Dense layer")
        width, shapes = input_dim, []
        for layer in self.layers:
            width = layer.build(width, self.rng)
            shapes.append((layer.param_shapes(), layer.state_shapes()))
        return shapes

    def build(self, input_dim=None):
        """Create the weights for inputs of width ``input_dim``.

        Called by ``fit``/``predict``/``set_weights`` with the width of the
        data if needed.  The first layer's ``input_dim`` wins if it was given.
        Layers that had weights already (a model grown with :meth:`add`)
        keep them; new layers are initialised.
        """
        declared = self.layers[0].declared_input_dim if self.layers else None
        width = declared if declared is not None else input_dim
        if width is None:
            raise ValueError("the input width is unknown: give the first layer input_dim=... "
                             "(or start with gn.Input(shape=(n,))), or pass data")
        kept = [[w.copy() for w in layer.weights] for layer in self.layers]
        shapes = self.weight_shapes(width)
        n_params = sum(math.prod(s) for p, _ in shapes for s in p)
        n_state = sum(math.prod(s) for _, st in shapes for s in st)
        self.variables = np.empty(n_params + n_state, dtype=self.dtype)
        self.params = self.variables[:n_params]
        self.grads = np.zeros(n_params, dtype=self.dtype)
        param_views = self.unflatten(self.params, [p for p, _ in shapes])
        grad_views = self.unflatten(self.grads, [p for p, _ in shapes])
        state_views = self.unflatten(self.variables[n_params:], [st for _, st in shapes])
        for layer, p, g, st, old in zip(self.layers, param_views, grad_views, state_views, kept):
            weights = p + st
            values = old if [w.shape for w in old] == [w.shape for w in weights] \
                else layer.initial_weights(self.dtype)
            for view, value in zip(weights, values):
                view[...] = value
            layer.bind(weights, g)
        if self.loss is not None:
            self._resolve_metrics()
        return self

    def weight_views(self, vector):
        """Every layer's weights as views into ``vector`` (laid out like ``model.variables``)."""
        n = self.params.size
        trained = self.unflatten(vector[:n])
        kept = self.unflatten(vector[n:], [layer.state_shapes() for layer in self.layers])
        return [p + st for p, st in zip(trained, kept)]

    def bind_variables(self, vector, params, views):
        """Make ``vector`` the model's weights (``params`` its trained part, ``views`` from
        :meth:`weight_views`); ``fit`` alternates between two such vectors."""
        self.variables, self.params = vector, params
        for layer, weights in zip(self.layers, views):
            layer.bind(weights, layer.grads)

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
        if not self.built:
            raise ValueError("the model is not built yet, so it has no parameters to count: give "
                             "the first layer input_dim=... or call build(n_features), fit or "
                             "predict first")
        return int(self.variables.size)

    # ------------------------------------------------------------------------------
    # the math: forward, loss, backward
    # ------------------------------------------------------------------------------
    def forward(self, x, training=False):
        """1. Forward: each layer's output is the next one's input; returns ŷ."""
        for layer in self.layers:
            x = layer.forward(x, training)
        return x

    @property
    def _fused(self):
        """True when the loss can hand the output layer δ = dL/dz directly (see losses.py)."""
        act = self.layers[-1].activation
        return act is not None and self.loss.fused_activation == act.name

    def per_sample_loss(self, y):
        """2. The loss of each sample of the last forward pass, shape (n,).

        From the logits z when the loss and the output activation fuse
        (stable: no log of a probability that rounded to 0).
        """
        last = self.layers[-1]
        if self._fused:
            return self.loss.fused_per_sample(y, last.record.z, last.output)
        return self.loss.per_sample(y, last.output)

    def penalty(self):
        """The regularization terms of every layer, added to the loss."""
        return sum(layer.penalty() for layer in self.layers)

    def compute_loss(self, y, sample_weight=None):
        """2. The mean loss ``(1/n) Σ w_i l_i + R`` of the last forward pass."""
        return losses.reduce(self.per_sample_loss(y), sample_weight) + self.penalty()

    def backward(self, y, sample_weight=None):
        """3. Backward: dL/dŷ from the loss, then each layer from the last to the first.

        Fills ``model.grads`` (every layer's dW, db, ... are views into it).
        """
        last, below = self.layers[-1], self.layers[:-1]
        if self._fused:     # the loss hands the output layer δ = dL/dz (see losses.py)
            delta = self.loss.fused_delta(y, last.record.z, last.output, sample_weight)
            grad = last.backward_from_delta(delta, need_input_grad=bool(below))
        else:
            grad = self.loss.gradient(y, last.output, sample_weight)
            below = self.layers
        for i in range(len(below) - 1, -1, -1):
            grad = below[i].backward(grad, i > 0)     # the first layer needs no dL/dx

    def compute_loss_and_gradients(self, x, y, sample_weight=None, training=False):
        """Steps 1–3 on a checked batch: forward, mean loss, backward; returns the loss."""
        self.forward(x, training)
        loss = self.compute_loss(y, sample_weight)
        self.backward(y, sample_weight)
        return loss

    def first_untrainable_layer(self):
        """The first layer backpropagation cannot pass (a step activation), or None."""
        return next((layer for layer in self.layers if not layer.can_backpropagate), None)

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
        x, y, w = self._check_xy(x, y, sample_weight)
        loss = self.compute_loss_and_gradients(x, y, w, training=False)
        return loss, [g.copy() for layer in self.layers for g in layer.grads]

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
        return [w for layer in self.layers for w in layer.params]

    @property
    def non_trainable_weights(self):
        """The kept but untrained arrays, e.g. moving averages (live views)."""
        self._require_built("model.non_trainable_weights")
        return [w for layer in self.layers for w in layer.weights[len(layer.grads):]]

    def get_weights(self):
        """Copies of every weight, layer by layer: ``[W1, b1, W2, b2, ...]``.

        Each W has shape (inputs, units); a BatchNormalization layer
        contributes ``[gamma, beta, moving_mean, moving_variance]``.
        """
        self._require_built("get_weights")
        return [w.copy() for w in self.weights]

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
        views = self.weights
        if len(weights) != len(views):
            raise ValueError(f"set_weights expects {len(views)} arrays ([W1, b1, W2, b2, ...]); "
                             f"received {len(weights)}")
        arrays = [check.as_weight(value, view.shape, f"weight {i}")
                  for i, (view, value) in enumerate(zip(views, weights))]
        for view, value in zip(views, arrays):
            view[...] = value

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
    def summary(self, print_fn=print):
        """Print each layer's name and type, output shape, activation and parameter count."""
        rows = [("Layer (type)", "Output shape", "Activation", "Param #")]
        for layer in self.layers:
            rows.append((f"{layer.name} ({type(layer).__name__})",
                         f"(None, {layer.output_dim})" if layer.built else "(unbuilt)",
                         layer.activation.name if layer.activation is not None else "",
                         f"{layer.count_params():,}" if layer.built else "?"))
        table = format_table(rows, rule="=")
        rule = "=" * max(len(line) for line in table)
        text = [f'Model: "{self.name or "sequential"}"', rule.replace("=", "-"), *table, rule]
        if self.built:
            trained = int(self.params.size)
            text += [f"Total params: {self.count_params():,}",
                     f"Trainable params: {trained:,}",
                     f"Non-trainable params: {self.count_params() - trained:,}",
                     f"Input: (None, {self.input_dim})"]
        else:
            text += ["Total params: unknown (model not built yet: give the first layer "
                     "input_dim=... or call build)", "Input: unknown"]
        print_fn("\n".join(text))

    def get_config(self):
        return {"dtype": self.dtype.name, "seed": self.seed, "name": self.name,
                "input_dim": self.input_dim, "fast": self.fast,
                "class_names": None if self.class_names is None else list(self.class_names),
                "layers": [layers_module.serialize(layer) for layer in self.layers]}

    @classmethod
    def from_config(cls, config, build=True):
        """A new model from :meth:`get_config`'s dict (built unless ``build=False``)."""
        model = cls([layers_module.deserialize(c) for c in config["layers"]],
                    dtype=config.get("dtype", "float32"), seed=config.get("seed"),
                    name=config.get("name"), fast=config.get("fast"))
        names = config.get("class_names")
        if names is not None:
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise ValueError(f"class_names must be a list of strings; received {names!r}")
            model.class_names = tuple(names)
        if build and not model.built:
            model.build(config.get("input_dim"))
        return model

    def __repr__(self):
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Sequential([{inner}])"

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
        return export_onnx(self, path)

    def restore(self, path):
        """Put back what :meth:`save` wrote: weights, optimizer state, History and random state.

        The file must hold this very architecture (``BackupAndRestore`` uses it to
        resume an interrupted run); it is read as untrusted, like :func:`load_model`.
        """
        saved = load_model(path)
        if saved.get_config()["layers"] != self.get_config()["layers"] \
                or saved.input_dim != self.input_dim:
            raise ValueError(f"{os.fspath(path)!r} holds another architecture than this model")
        if (saved.optimizer is None) != (self.optimizer is None) or (
                self.optimizer is not None and type(saved.optimizer) is not type(self.optimizer)):
            raise ValueError(f"{os.fspath(path)!r} was saved with another optimizer")
        self.variables[...] = saved.variables
        self.history.history, self.history.epoch = saved.history.history, saved.history.epoch
        self.rng.bit_generator.state = saved.rng.bit_generator.state
        if self.optimizer is not None:
            self.optimizer.build(self.params.size, self.dtype)
            for key, value in saved.optimizer.state.items():
                self.optimizer.state[key][...] = value
            self.optimizer.iterations = saved.optimizer.iterations
        return self

    def save(self, path):
        """Save architecture, compile settings, weights and optimizer state to one file.

        The file is a zip (see :mod:`glassnet.serialization`); the write is
        atomic: an existing file is replaced only once the new one is complete.
        """
        if not self.built:
            raise ValueError("cannot save a model that has no weights yet; build, fit or "
                             "set_weights first")
        meta = {"glassnet_version": __version__, "model": self.get_config(),
                "rng_state": self.rng.bit_generator.state,
                "history": {"history": self.history.history, "epoch": self.history.epoch},
                "compile": None}
        arrays = {serialization.PARAMS: self.variables}
        if self.loss is not None:
            opt = self.optimizer
            opt.build(self.params.size, self.dtype)     # (zeros for a model never trained)
            meta["compile"] = {"loss": losses.serialize(self.loss),
                               "optimizer": optimizers.serialize(opt),
                               "iterations": opt.iterations,
                               "metrics": [m if isinstance(m, str) else metrics_module.serialize(m)
                                           for m in self._metric_ids]}
            for key, value in opt.state.items():
                arrays[serialization.optimizer_member(key)] = value
        serialization.write_model_file(path, meta, arrays)


def build_mlp(n_outputs, task, hidden=(100,), activation="relu", optimizer="adam",
              learning_rate=None, front=(), dtype="float32", seed=None):
    """A compiled multilayer perceptron for a task: what the CLI and the scikit-learn wrappers train.

    Parameters
    ----------
    n_outputs : int
        Classes (``"multiclass"``), 1 (``"binary"``) or targets (``"regression"``).
    task : {"multiclass", "binary", "regression"}
        Picks the output activation, the loss and the metrics from :data:`TASKS`.
    hidden : sequence of int
        Units of each hidden Dense layer.
    activation : str
        The hidden layers' activation.
    optimizer : str or Optimizer
    learning_rate : float, optional
        Sets the optimizer's learning rate (its default otherwise).
    front : sequence of Layer
        Layers put before the hidden ones (e.g. a Rescaling).
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {sorted(TASKS)}; received {task!r}")
    output, loss, metrics = TASKS[task]
    stack = list(front) + [layers_module.Dense(int(units), activation) for units in hidden]
    stack.append(layers_module.Dense(n_outputs, output))
    model = Sequential(stack, dtype=dtype, seed=seed)
    opt = optimizers.get(optimizer)
    if learning_rate is not None:
        opt.learning_rate = learning_rate
    return model.compile(loss=loss, optimizer=opt, metrics=metrics)


def load_model(path):
    """Load a model saved by :meth:`Sequential.save`.

    The file is treated as untrusted (see :mod:`glassnet.serialization`):
    nothing in it can run code, and every way it can be wrong is a
    ``ValueError`` naming the file and the reason.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If the file is not a valid glassnet model.
    """
    with serialization.ModelFile(path) as file:
        meta = file.meta
        with file.reason("its architecture is invalid"):
            config = meta.get("model")
            if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
                raise ValueError("it has no layer list")
            input_dim = config.get("input_dim")
            if isinstance(input_dim, bool) or not isinstance(input_dim, int) or input_dim < 1:
                raise ValueError(f"input_dim {input_dim!r} is not a positive integer")
            model = Sequential.from_config(config, build=False)
            shapes = model.weight_shapes(input_dim)
        # before allocating anything: the file must hold as many weights as the architecture
        size = sum(math.prod(s) for p, st in shapes for s in p + st)
        file.check_array(serialization.PARAMS, (size,), model.dtype)
        with file.reason("its architecture is invalid"):
            model.build(input_dim)
            if model.class_names is not None and \
                    len(model.class_names) != max(model.output_dim, 2):
                raise ValueError(f"{len(model.class_names)} class names for "
                                 f"{model.output_dim} outputs")
            if meta.get("rng_state") is not None:
                model.rng.bit_generator.state = meta["rng_state"]
            model.history.restore(meta.get("history") or {})
            if not isinstance(meta.get("glassnet_version", ""), str):
                raise ValueError("glassnet_version is not a string")
        compile_cfg = meta.get("compile")
        members = {serialization.PARAMS}
        if compile_cfg is not None:
            with file.reason("its compile settings are invalid"):
                if not isinstance(compile_cfg, dict):
                    raise ValueError("they are not a dict")
                model.compile(loss=losses.get(compile_cfg["loss"]),
                              optimizer=optimizers.get(compile_cfg["optimizer"]),
                              metrics=list(compile_cfg.get("metrics") or []))
                iterations = check.non_negative_int(compile_cfg.get("iterations", 0),
                                                    "iterations")
                if iterations >= 2 ** 53:
                    raise ValueError(f"iterations {iterations} is beyond any real training")
                model.optimizer.iterations = iterations
            members |= {serialization.optimizer_member(k) for k in model.optimizer.state_names}
        file.check_members(members)
        model.variables[...] = file.array(serialization.PARAMS, model.variables.shape,
                                          model.dtype)
        if compile_cfg is not None:
            opt = model.optimizer
            opt.build(model.params.size, model.dtype)
            for key in opt.state_names:
                opt.state[key][...] = file.array(serialization.optimizer_member(key),
                                                 model.params.shape, model.dtype)
    return model
