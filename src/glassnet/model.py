"""The model: a stack of layers, trained by backpropagation and gradient descent.

One training step on a batch (x, y) is the whole algorithm of the seeds:

1. **forward**: ``a⁰ = x``, then for each layer ``aˡ = σ(aˡ⁻¹ · Wˡ + bˡ)``
   (:meth:`glassnet.layers.Dense.forward`);
2. **loss**: ``L = (1/n) Σ_i l(ŷ_i, y_i)`` with ``ŷ = a^last``
   (:mod:`glassnet.losses`);
3. **backward**: ``dL/dŷ`` from the loss (or ``dL/dz`` directly, fused), then
   each layer from the last to the first turns ``dL/daˡ`` into ``dL/dWˡ``,
   ``dL/dbˡ`` and ``dL/daˡ⁻¹`` (:meth:`glassnet.layers.Dense.backward`);
4. **update**: ``θ ← θ - α g`` or one of its refinements
   (:mod:`glassnet.optimizers`).

All parameters live in one flat vector ``model.params`` (float32 unless the
model says otherwise) and the layers' W and b are views into it, in the
order ``[W1, b1, W2, b2, ...]``; ``model.grads`` mirrors it.  The optimizer
thus updates the whole network in a few vector operations.
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import warnings

import numpy as np

from . import _validation as check
from . import callbacks as callbacks_module
from . import losses, metrics as metrics_module, optimizers
from .layers import Dense, Layer

__all__ = ["Sequential", "TrainingDiverged"]

#: rows per chunk when predict/evaluate are not given a batch size
PREDICT_CHUNK = 4096


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite during ``fit``; the weights were restored."""

    def __init__(self, message, epoch, batch):
        super().__init__(message)
        self.epoch, self.batch = epoch, batch


class Sequential:
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

    Examples
    --------
    >>> import numpy as np, glassnet as gn
    >>> x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    >>> y = np.array([[0], [1], [1], [0]])
    >>> model = gn.Sequential([gn.Dense(4, "tanh"), gn.Dense(1, "sigmoid")], seed=0)
    >>> model.compile("binary_crossentropy", gn.Adam(0.05), metrics=["accuracy"])
    >>> history = model.fit(x, y, epochs=300, batch_size=4, verbose=0)
    """

    def __init__(self, layers=None, dtype="float32", seed=None, name=None):
        try:
            self.dtype = np.dtype(dtype)
        except TypeError:
            self.dtype = None
        if self.dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
            raise ValueError(f"dtype must be 'float32' or 'float64'; received {dtype!r}")
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.name = name
        self.layers = []
        self.params = self.grads = None
        self.loss = self.optimizer = None
        self.metrics = []
        self.metric_names = []
        self.history = callbacks_module.History()
        self.stop_training = False
        self._compile_config = None
        for layer in layers or []:
            self.add(layer)

    # ------------------------------------------------------------------------------
    # building
    # ------------------------------------------------------------------------------
    def add(self, layer):
        """Append a layer (before the model is built)."""
        if not isinstance(layer, Layer):
            raise ValueError(f"Sequential.add expects a Layer (Dense, Dropout); received "
                             f"{layer!r}")
        if self.built:
            raise ValueError("cannot add a layer to a model whose weights exist already; "
                             "build a new Sequential instead")
        self.layers.append(layer)

    @property
    def built(self):
        return self.params is not None

    @property
    def input_dim(self):
        return self.layers[0].input_dim if self.built else None

    @property
    def output_dim(self):
        return self.layers[-1].output_dim if self.built else None

    def build(self, input_dim=None):
        """Create the weights for inputs of width ``input_dim``.

        Called by ``fit``/``predict``/``set_weights`` with the width of the
        data if needed.  The first layer's ``input_dim`` wins if it was given.
        """
        if not self.layers:
            raise ValueError("the model has no layers; add at least one Dense layer")
        declared = getattr(self.layers[0], "declared_input_dim", None)
        width = declared if declared is not None else input_dim
        if width is None:
            raise ValueError("the input width is unknown: give the first layer input_dim=... "
                             "or pass data")
        shapes = []
        for layer in self.layers:
            width = layer.build(width)
            layer.rng = self.rng
            shapes.append(layer.param_shapes())
        sizes = [math.prod(s) for layer_shapes in shapes for s in layer_shapes]
        self.params = np.empty(sum(sizes), dtype=self.dtype)
        self.grads = np.zeros(sum(sizes), dtype=self.dtype)
        offset = 0
        for layer, layer_shapes in zip(self.layers, shapes):
            pviews, gviews = [], []
            for shape in layer_shapes:
                size = math.prod(shape)
                pviews.append(self.params[offset:offset + size].reshape(shape))
                gviews.append(self.grads[offset:offset + size].reshape(shape))
                offset += size
            for view, init in zip(pviews, layer.initial_params(self.rng, self.dtype)):
                view[...] = init
            layer.bind(pviews, gviews)
        if self.loss is not None:
            self._resolve_metrics()
        return self

    def _ensure_built(self, n_features):
        if not self.built:
            self.build(n_features)

    def count_params(self):
        return 0 if not self.built else int(self.params.size)

    # ------------------------------------------------------------------------------
    # compile
    # ------------------------------------------------------------------------------
    def compile(self, loss, optimizer="adam", metrics=None):
        """Choose the loss, the optimizer and the reported metrics.

        Parameters
        ----------
        loss : str or Loss
            e.g. "mse", "binary_crossentropy", "categorical_crossentropy",
            "sparse_categorical_crossentropy".
        optimizer : str or Optimizer, default "adam"
            A name uses that optimizer's defaults; pass an object to set the
            learning rate.
        metrics : list of str or Metric, optional
            e.g. ``["accuracy"]``.
        """
        self.loss = losses.get(loss)
        self.optimizer = optimizers.get(optimizer)
        if metrics is not None and (isinstance(metrics, str) or not hasattr(metrics, "__iter__")):
            metrics = [metrics]
        self._metric_ids = list(metrics or [])
        for m in self._metric_ids:
            metrics_module.get(m, self.loss, 1)  # validate names now
        self._resolve_metrics()
        return self

    def _resolve_metrics(self):
        units = self.layers[-1].output_dim if self.layers and self.layers[-1].built else None
        self.metrics = [metrics_module.get(m, self.loss, units) for m in self._metric_ids]
        self.metric_names = [m.name for m in self.metrics]

    def _require_compiled(self, what):
        if self.loss is None:
            raise RuntimeError(f"call model.compile(loss=..., optimizer=...) before {what}")

    @property
    def _fused(self):
        """True when the loss can hand the output layer δ = dL/dz directly."""
        last = self.layers[-1]
        return isinstance(last, Dense) and self.loss.fused_activation == last.activation.name

    # ------------------------------------------------------------------------------
    # the math: forward, loss, backward
    # ------------------------------------------------------------------------------
    def _forward(self, x, training=False, buffered=False):
        a = x
        for layer in self.layers:
            a = layer.forward(a, training=training, buffered=buffered)
        return a

    def _loss_and_backward(self, x, y, sample_weight, training, buffered, delta_out=None):
        """Forward pass, mean loss, and backward pass filling ``self.grads``."""
        a = x
        for layer in self.layers:                                   # forward
            a = layer.forward(a, training, buffered)
        layers = self.layers
        last = layers[-1]
        if self._fused:
            # the loss hands the output layer δ = dL/dz directly (see losses.py)
            z = last._cache[1]
            per_sample = self.loss.fused_per_sample(y, z, a)
            grad = last.backward_from_delta(
                self.loss.fused_delta(y, z, a, sample_weight, out=delta_out), len(layers) > 1)
            layers = layers[:-1]
        else:
            per_sample = self.loss.per_sample(y, a)
            grad = self.loss.gradient(y, a, sample_weight)
        for i in range(len(layers) - 1, -1, -1):                    # backward, last to first
            grad = layers[i].backward(grad, i > 0)      # the first layer needs no dL/dx
        return losses._reduce(per_sample, sample_weight) + self._penalty()

    def _penalty(self):
        return sum(layer.penalty() for layer in self.layers)

    def loss_and_gradients(self, x, y, sample_weight=None):
        """The mean loss on (x, y) and its gradient for every parameter.

        Dropout is inactive here (the function is deterministic), so the
        result can be checked against finite differences (:func:`gradcheck`).

        Returns
        -------
        loss : float
        gradients : list of arrays
            dL/dW1, dL/db1, dL/dW2, ... in the order and shapes of
            :meth:`get_weights`.
        """
        self._require_compiled("loss_and_gradients")
        x, y, w = self._check_xy(x, y, sample_weight)
        loss = self._loss_and_backward(x, y, w, training=False, buffered=False)
        return loss, [g.copy() for g in self._grad_views()]

    # ------------------------------------------------------------------------------
    # training
    # ------------------------------------------------------------------------------
    def _check_xy(self, x, y, sample_weight=None, name="x"):
        x = check.as_matrix(x, name, self.dtype, self.input_dim)
        self._ensure_built(x.shape[1])
        yname = "y" if name == "x" else name.replace("x", "y")
        y = check.as_targets(y, self.loss, self.output_dim, self.dtype, yname)
        check.check_length(x, y, yname)
        w = check.as_sample_weight(sample_weight, x.shape[0], self.dtype)
        return x, y, w

    def fit(self, x, y, epochs=1, batch_size=32, validation_split=0.0, validation_data=None,
            shuffle=True, callbacks=None, verbose=1, sample_weight=None):
        """Train the model by mini-batch gradient descent.

        Parameters
        ----------
        x : array (n_samples, n_features)
        y : array (n_samples, n_outputs), or (n_samples,) integer labels for
            ``sparse_categorical_crossentropy``
        epochs : int
            Passes over the training data.  Calling ``fit`` again continues
            from where the last call stopped.
        batch_size : int
            Samples per gradient step; ``len(x)`` or more gives full-batch
            gradient descent.
        validation_split : float in [0, 1)
            Fraction of the data, taken from the end before shuffling, held
            out for validation.
        validation_data : (x_val, y_val), optional
        shuffle : bool
            Visit the samples in a new random order each epoch.
        callbacks : list of Callback
        verbose : {0, 1, 2}
            0 silent, 1 progress bar (plain lines when not a terminal), 2 one
            line per epoch.
        sample_weight : array (n_samples,), optional
            Weight of each sample in the loss.

        Returns
        -------
        History
            ``history.history`` maps "loss", each metric and "val_..." to
            per-epoch lists.  If Ctrl-C stops training, ``fit`` returns the
            History so far with ``history.interrupted`` set.

        Raises
        ------
        TrainingDiverged
            When the loss becomes NaN or infinite; the weights are restored
            to the last ones with a finite loss.
        """
        self._require_compiled("fit")
        epochs = check.non_negative_int(epochs, "epochs")
        batch_size = check.positive_int(batch_size, "batch_size")
        if verbose not in (0, 1, 2, True, False):
            raise ValueError(f"verbose must be 0, 1 or 2; received {verbose!r}")
        validation_split = float(validation_split)
        if not 0.0 <= validation_split < 1.0:
            raise ValueError(f"validation_split must be in [0, 1); received {validation_split!r}")
        x, y, w = self._check_xy(x, y, sample_weight)
        for layer in self.layers:
            if isinstance(layer, Dense) and not layer.activation.trainable:
                raise ValueError(f"layer {layer.display_name!r} uses the {layer.activation.name!r}"
                                 f" activation, which cannot be trained (its gradient is zero); "
                                 f"set its weights by hand with set_weights, or train with "
                                 f"'sigmoid'")
        if validation_data is not None:
            if not (isinstance(validation_data, (tuple, list)) and len(validation_data) in (2, 3)):
                raise ValueError("validation_data must be a tuple (x_val, y_val) or "
                                 f"(x_val, y_val, sample_weight_val); received "
                                 f"{type(validation_data).__name__}")
            val = self._check_xy(*validation_data[:2],
                                 validation_data[2] if len(validation_data) == 3 else None,
                                 name="x_val")
        elif validation_split > 0:
            n_val = int(round(len(x) * validation_split))
            if n_val < 1 or n_val >= len(x):
                raise ValueError(f"validation_split={validation_split} of {len(x)} samples leaves "
                                 f"{len(x) - n_val} for training and {n_val} for validation; "
                                 f"both need at least one")
            cut = len(x) - n_val
            val = (x[cut:], y[cut:], None if w is None else w[cut:])
            x, y, w = x[:cut], y[:cut], None if w is None else w[:cut]
        else:
            val = None
        check.warn_if_unscaled(x)
        n = x.shape[0]
        batch_size = min(batch_size, n)

        cbs = [callbacks_module.ProgbarLogger(verbose=int(verbose))] if verbose else []
        cbs.extend(callbacks or [])
        cbs.append(self.history)       # last: it records what the others added to the logs
        first_epoch = len(self.history.epoch)
        cb = callbacks_module.CallbackList(cbs, self, {
            "epochs": first_epoch + epochs, "samples": n, "batch_size": batch_size,
            "steps": -(-n // batch_size), "verbose": verbose})
        self.stop_training = False

        for layer in self.layers:
            layer.allocate(batch_size, self.dtype)
        self.optimizer.build(self.params.size, self.dtype)
        # Buffers for the shuffled batch and the last good weights (restored on divergence)
        do_shuffle = shuffle and n > batch_size
        xb_buf = np.empty((batch_size, x.shape[1]), dtype=self.dtype) if do_shuffle else None
        yb_buf = np.empty((batch_size,) + y.shape[1:], dtype=y.dtype) if do_shuffle else None
        delta_buf = np.empty((batch_size, self.output_dim), dtype=self.dtype)
        backup = self.params.copy()          # the last weights whose loss was finite
        train_metrics = self.metrics
        epoch = first_epoch
        # NumPy's overflow warnings would only repeat what the divergence check below
        # reports clearly, with the epoch and batch.
        with _DeferredInterrupt() as interrupt, \
                np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            cb.on_train_begin()
            try:
                for epoch in range(first_epoch, first_epoch + epochs):
                    if self.stop_training or interrupt.requested:
                        break
                    cb.on_epoch_begin(epoch)
                    order = self.rng.permutation(n) if do_shuffle else None
                    loss_sum = 0.0
                    metric_sums = [0.0] * len(train_metrics)
                    seen = 0
                    for batch, start in enumerate(range(0, n, batch_size)):
                        if interrupt.requested or self.stop_training:
                            break
                        stop = min(start + batch_size, n)
                        m = stop - start
                        if order is None:
                            xb, yb = x[start:stop], y[start:stop]
                            wb = None if w is None else w[start:stop]
                        else:
                            idx = order[start:stop]
                            # mode="clip" skips a bounds-checking copy (idx is a permutation)
                            xb = np.take(x, idx, axis=0, out=xb_buf[:m], mode="clip")
                            yb = np.take(y, idx, axis=0, out=yb_buf[:m], mode="clip")
                            wb = None if w is None else w[idx]
                        if cb.wants_batches:
                            cb.on_batch_begin(batch, {"size": m})
                        loss = self._loss_and_backward(xb, yb, wb, training=True, buffered=True,
                                                       delta_out=delta_buf[:m])
                        if not math.isfinite(loss):
                            self.params[...] = backup
                            raise TrainingDiverged(
                                f"the loss became {loss} at epoch {epoch + 1}, batch {batch + 1}; "
                                f"the weights were restored to the last finite ones. Try a lower "
                                f"learning rate (now "
                                f"{self.optimizer.current_learning_rate():g}) or scale the "
                                f"inputs", epoch=epoch, batch=batch)
                        np.copyto(backup, self.params)      # their loss is finite: keep them
                        self.optimizer.step(self.params, self.grads)
                        loss_sum += loss * m
                        if train_metrics:
                            out = self.layers[-1]._cache[2]
                            for k, metric in enumerate(train_metrics):
                                metric_sums[k] += metric(yb, out) * m
                        seen += m
                        if cb.wants_batches:
                            cb.on_batch_end(batch, {"loss": loss, "size": m})
                    if seen < n:         # interrupted or stopped part way through an epoch
                        break
                    logs = {"loss": loss_sum / n}
                    for metric, total in zip(train_metrics, metric_sums):
                        logs[metric.name] = total / n
                    if val is not None:
                        for key, value in self._evaluate_checked(*val).items():
                            logs["val_" + key] = value
                    cb.on_epoch_end(epoch, logs)
            finally:
                self.history.interrupted = interrupt.requested
                for layer in self.layers:
                    layer.release()
                cb.on_train_end()
        if interrupt.requested:
            warnings.warn(f"training interrupted by Ctrl-C after {len(self.history.epoch)} "
                          f"complete epoch(s) and {self.optimizer.iterations} steps in all; the "
                          f"model keeps the weights of the last complete step",
                          RuntimeWarning, stacklevel=2)
        return self.history

    # ------------------------------------------------------------------------------
    # inference
    # ------------------------------------------------------------------------------
    def predict(self, x, batch_size=None):
        """Outputs ``ŷ`` for inputs ``x`` of shape (n_samples, n_features).

        Returns an array of shape (n_samples, n_outputs) in the model's dtype.
        ``batch_size`` only bounds memory use; results for different batch
        sizes agree to rounding (BLAS may pick another kernel).
        """
        if not self.built:
            x = check.as_matrix(x, "x", self.dtype)
            self.build(x.shape[1])
        else:
            x = check.as_matrix(x, "x", self.dtype, self.input_dim)
        return self._predict_checked(x, batch_size)[1]

    def _predict_checked(self, x, batch_size=None):
        """(z, a) of the output layer, computed in chunks."""
        chunk = check.positive_int(batch_size, "batch_size") if batch_size else PREDICT_CHUNK
        last = self.layers[-1]
        if x.shape[0] <= chunk:
            a = self._forward(x)
            return (last._cache[1] if isinstance(last, Dense) else a), a
        zs, outs = [], []
        for start in range(0, x.shape[0], chunk):
            a = self._forward(x[start:start + chunk])
            outs.append(a)
            zs.append(last._cache[1] if isinstance(last, Dense) else a)
        return np.concatenate(zs), np.concatenate(outs)

    def evaluate(self, x, y, batch_size=None, sample_weight=None, verbose=0):
        """Loss and metrics on (x, y), as a dict like ``{"loss": 0.12, "accuracy": 0.97}``."""
        self._require_compiled("evaluate")
        x, y, w = self._check_xy(x, y, sample_weight)
        result = self._evaluate_checked(x, y, w, batch_size)
        if verbose:
            print(callbacks_module.format_logs(result))
        return result

    def _evaluate_checked(self, x, y, w=None, batch_size=None):
        z, a = self._predict_checked(x, batch_size)
        if self._fused:
            per_sample = self.loss.fused_per_sample(y, z, a)
        else:
            per_sample = self.loss.per_sample(y, a)
        result = {"loss": losses._reduce(per_sample, w) + self._penalty()}
        for metric in self.metrics:
            result[metric.name] = metric(y, a)
        return result

    # ------------------------------------------------------------------------------
    # weights by hand
    # ------------------------------------------------------------------------------
    def _param_views(self):
        return [p for layer in self.layers for p in layer.param_views]

    def _grad_views(self):
        return [g for layer in self.layers for g in layer.grad_views]

    def get_weights(self):
        """Copies of ``[W1, b1, W2, b2, ...]``, each W of shape (inputs, units)."""
        if not self.built:
            raise RuntimeError("the model has no weights yet; call build(input_dim), fit or "
                               "set_weights first")
        return [p.copy() for p in self._param_views()]

    def set_weights(self, weights):
        """Set ``[W1, b1, W2, b2, ...]`` (builds the model from W1's shape if needed)."""
        weights = list(weights)
        if not self.built:
            if not weights:
                raise ValueError("set_weights received an empty list")
            first = np.asarray(weights[0])
            if first.ndim != 2:
                raise ValueError(f"the first weight must be a kernel of shape (inputs, units); "
                                 f"received shape {first.shape}")
            self.build(first.shape[0])
        views = self._param_views()
        if len(weights) != len(views):
            raise ValueError(f"set_weights expects {len(views)} arrays ([W1, b1, W2, b2, ...]); "
                             f"received {len(weights)}")
        arrays = []
        for i, (view, value) in enumerate(zip(views, weights)):
            value = np.asarray(value)
            if value.shape != view.shape:
                raise ValueError(f"weight {i} must have shape {view.shape}; received "
                                 f"{value.shape}")
            if value.dtype.kind not in "biuf":
                raise ValueError(f"weight {i} must be numeric; received dtype {value.dtype}")
            check.check_finite(value.astype(np.float64), f"weight {i}")
            arrays.append(value)
        for view, value in zip(views, arrays):
            view[...] = value

    # ------------------------------------------------------------------------------
    # description
    # ------------------------------------------------------------------------------
    def summary(self, print_fn=print):
        """Print each layer's type, output shape, activation and parameter count."""
        rows = [("Layer (type)", "Output shape", "Activation", "Param #")]
        for i, layer in enumerate(self.layers):
            out = f"(None, {layer.output_dim})" if layer.built else "(unbuilt)"
            act = layer.activation.name if isinstance(layer, Dense) else ""
            params = str(layer.count_params()) if layer.built else "?"
            rows.append((f"{layer.display_name}_{i} ({type(layer).__name__})", out, act, params))
        widths = [max(len(r[c]) for r in rows) + 2 for c in range(4)]
        line = "-" * sum(widths)
        text = [f'Model: "{self.name or "sequential"}"', line]
        for j, row in enumerate(rows):
            text.append("".join(cell.ljust(width) for cell, width in zip(row, widths)))
            if j == 0:
                text.append("=" * sum(widths))
        text.append("=" * sum(widths))
        total = self.count_params()
        text.append(f"Total params: {total:,}" + ("" if self.built else " (model not built yet)"))
        text.append(f"Input: (None, {self.input_dim})" if self.built else "Input: unknown")
        print_fn("\n".join(text))

    def get_config(self):
        from .layers import serialize as serialize_layer
        return {"dtype": self.dtype.name, "seed": self.seed, "name": self.name,
                "input_dim": self.input_dim,
                "layers": [serialize_layer(layer) for layer in self.layers]}

    def __repr__(self):
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Sequential([{inner}])"

    # ------------------------------------------------------------------------------
    # saving
    # ------------------------------------------------------------------------------
    def trace(self, x, y=None):
        """Every equation of the forward (and, with ``y``, backward) pass for a sample.

        Returns a :class:`glassnet.trace.Trace`; ``print`` it for a report in
        the seeds' notation with this network's own numbers.
        """
        from .trace import trace
        return trace(self, x, y)

    def export_onnx(self, path):
        """Write the model as ONNX for deployment runtimes (needs ``glassnet[onnx]``).

        See :mod:`glassnet.export` for how each layer maps to ONNX operators.
        """
        from .export import export_onnx
        return export_onnx(self, path)

    def save(self, path):
        """Save architecture, compile settings, weights and optimizer state to one file.

        The file is a zip (see :mod:`glassnet.serialization`); the write is
        atomic: an existing file is replaced only once the new one is complete.
        """
        from .serialization import save_model
        save_model(self, path)


class _DeferredInterrupt(contextlib.AbstractContextManager):
    """Turn Ctrl-C (SIGINT) into a flag that ``fit`` checks between two steps.

    An interrupt that arrived in the middle of an optimizer update would leave
    the weights half updated; instead, the step finishes and training stops
    cleanly.  A second Ctrl-C raises KeyboardInterrupt at once, as usual.
    Only the main thread can own signal handlers; elsewhere this does nothing.
    """

    def __init__(self):
        self.requested = False
        self._previous = None

    def _handler(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            try:
                self._previous = signal.signal(signal.SIGINT, self._handler)
            except (ValueError, OSError):
                self._previous = None
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False
