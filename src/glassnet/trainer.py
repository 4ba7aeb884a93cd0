"""The trainer: ``compile``, ``fit``, ``evaluate``, ``predict``.

``fit`` is the seeds' training loop, and nothing else:

    for each epoch:
        for each mini-batch (x, y) of the (shuffled) training data:
            train_step(x, y)        forward, loss, backward, update
        validate, tell the callbacks

:meth:`Trainer.train_step` is the seam: override it to change what one step
does (gradient clipping, a per-step metric) without touching the loop.  Each
other concern has one named place:

==========================  ==================================================
the batches                 :class:`Batches` (shuffling, gathering)
divergence rollback         :class:`Rollback` (restores the last finite weights)
Ctrl-C                      :class:`DeferredInterrupt` (stops between two steps)
epoch means                 :class:`EpochMeans` (the loss; metrics keep their own state)
on a GPU, no wait per step  :class:`DeferredLosses` (the losses read once per epoch)
callbacks                   :class:`glassnet.callbacks.CallbackList`
validation                  :meth:`Trainer.evaluate` on the held-out data
==========================  ==================================================

The math of a step (forward, loss, backward) is the model's
(:mod:`glassnet.models.functional`); the update is the optimizer's
(:mod:`glassnet.optimizers`).
"""

from __future__ import annotations

import contextlib
import inspect
import math
import os
import signal
import threading
import warnings

import numpy as np

from . import _validation as check
from . import backend
from . import callbacks as callbacks_module
from . import cuda, data, fast, losses, metrics as metrics_module, optimizers
from ._text import format_logs
from .backend import array_module
from .datasets.preprocessing import validation_split as split_validation

__all__ = ["Trainer", "TrainingDiverged", "NonFiniteLoss", "Batches", "Rollback", "EpochMeans",
           "DeferredLosses", "DeferredInterrupt"]

#: rows per chunk when predict/evaluate are not given a batch size
PREDICT_CHUNK = 4096
#: weights from which fit double-buffers them instead of copying them every step
DOUBLE_BUFFER_MIN = 20_000


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite during ``fit``; the weights were restored."""

    def __init__(self, message, epoch, batch):
        super().__init__(message)
        self.epoch, self.batch = epoch, batch


class NonFiniteLoss(FloatingPointError):
    """Raised by :meth:`Trainer.train_step` instead of taking a step from a NaN/inf loss."""

    def __init__(self, loss):
        super().__init__(f"the loss is {loss}")
        self.loss = loss


class Trainer:
    """What turns a network into something that learns; :class:`~glassnet.Sequential` is one.

    The network (a subclass) provides ``forward``, ``compute_loss_and_gradients``,
    ``per_sample_loss``, ``penalty``, the flat vectors ``params``, ``grads`` and
    ``variables``, its ``layers`` and its random generator ``rng``.
    """

    _device = "cpu"
    #: True while fit runs (a model cannot move then)
    fitting = False

    @property
    def device(self):
        """Where the weights live: "cpu", or "cuda" for a model on the GPU (see backend)."""
        return self._device

    @device.setter
    def device(self, value):
        raise AttributeError(f"model.device cannot be set (received {value!r}); move the model "
                             f"with model.to({value!r})")

    @property
    def xp(self):
        """The module of the weights' arrays: numpy, or cupy for a model on the GPU."""
        return np if self.device == "cpu" else backend.gpu_module()

    def __init__(self, fast=None):
        if fast not in (None, True, False):
            raise ValueError(f"fast must be None (automatic), True or False; received {fast!r}")
        self.fast = fast
        self.loss = self.optimizer = None
        self.metrics = []
        self.metric_names = []
        self._metric_ids = []
        self.history = callbacks_module.History()
        self.stop_training = False
        #: the compiled kernels fit uses (glassnet.fast), or None: NumPy
        self.kernels = None
        #: where the optimizer writes the new weights during fit (see Rollback), or None
        self.next_params = None
        #: the epoch fit resumes at, set by a callback that restored a run (BackupAndRestore)
        self.resume_epoch = None

    # ------------------------------------------------------------------------------
    # compile
    # ------------------------------------------------------------------------------
    def compile(self, optimizer="adam", loss=None, metrics=None):
        """Choose the optimizer, the loss and the reported metrics (Keras's order).

        Parameters
        ----------
        optimizer : str or Optimizer, default "adam"
            A name uses that optimizer's defaults; pass an object to set the
            learning rate.  (Keras's default is "rmsprop".)
        loss : str or Loss
            e.g. "mse", "binary_crossentropy", "categorical_crossentropy",
            "sparse_categorical_crossentropy", or
            ``gn.losses.SparseCategoricalCrossentropy(from_logits=True)``.
        metrics : list of str or Metric, optional
            e.g. ``["accuracy"]``.
        """
        for given, kind, other in ((optimizer, "optimizer", losses), (loss, "loss", optimizers)):
            if isinstance(given, str) and _is_name_of(other, given):
                raise ValueError(
                    f"compile takes (optimizer, loss, metrics), in Keras's order; it received "
                    f"{given!r} as the {kind}. Write compile(optimizer=..., loss=...)")
        if loss is None:
            raise ValueError("compile needs a loss, e.g. compile(optimizer='adam', "
                             "loss='sparse_categorical_crossentropy')")
        self.loss = losses.get(loss)
        self.optimizer = optimizers.get(optimizer)
        if metrics is not None and (isinstance(metrics, (str, dict, metrics_module.Metric))
                                    or not hasattr(metrics, "__iter__")):
            metrics = [metrics]
        self._metric_ids = list(metrics or [])
        for m in self._metric_ids:
            metrics_module.get(m, self.loss, 1)        # unknown names fail now, not in fit
        self._resolve_metrics()
        return self

    def _resolve_metrics(self):
        units = self.output_dim if self.built else None
        self.metrics = [metrics_module.get(m, self.loss, units) for m in self._metric_ids]
        self.metric_names = [m.name for m in self.metrics]

    def _require_compiled(self, what):
        if self.loss is None:
            raise RuntimeError(f"call model.compile(loss=..., optimizer=...) before {what}")

    # ------------------------------------------------------------------------------
    # the public boundary: data in the model's layout and dtype
    # ------------------------------------------------------------------------------
    def _check_x(self, x, name="x"):
        x = check.as_matrix(x, name, self.dtype, self.input_dim)
        if not self.built:
            self.build(x.shape[1])
        return x

    def side_by_side(self, x):
        """The inputs of a model with several of them (a list or dict of arrays) as one matrix."""
        return x

    @property
    def metrics_names(self):
        """``["loss", *metric names]``: the order of ``evaluate``'s list (Keras's name)."""
        return ["loss", *self.metric_names]

    def check_x(self, x):
        """``x`` as the model takes it: checked, in the model's dtype, on its device (builds
        the model if needed)."""
        return backend.to_module(self._check_x(self.from_device(x)), self.xp)

    def check_y(self, y):
        """Targets as the model's loss takes them, checked, on the model's device."""
        return backend.to_module(self._check_targets(self.from_device(y, "y")), self.xp)

    def from_device(self, value, name="x"):
        """``value`` ready for the checks, which run on the host: a CuPy array (or a list
        or dict holding one) is copied there for a model on the GPU, and refused with
        the fix for a model on the CPU (never copied silently).  Anything else is
        returned as it is."""
        if not backend.holds_device_array(value):
            return value
        if self.xp is np:
            raise ValueError(f"{name} is a CuPy array (GPU memory) but the model is on the CPU; "
                             f"move the model with model.to('cuda'), or the data to the host "
                             f"with cupy.asnumpy({name})")
        return backend.to_host(value)

    def _check_targets(self, y, name="y"):
        return check.as_targets(y, self.loss, self.output_dim, self.dtype, name)

    def _check_xy(self, x, y, sample_weight=None, name="x"):
        x, y, sample_weight = (self.from_device(v, n) for v, n in (
            (x, name), (y, "y"), (sample_weight, "sample_weight")))     # (batch sources)
        x = self._check_x(x, name)
        yname = "y" if name == "x" else name.replace("x", "y")
        y = self._check_targets(y, yname)
        check.check_length(x, y, yname)
        w = check.as_sample_weight(sample_weight, x.shape[0], self.dtype)
        return x, y, w

    # ------------------------------------------------------------------------------
    # training
    # ------------------------------------------------------------------------------
    def train_step(self, x, y, sample_weight=None):
        """One step of gradient descent on a checked batch; returns its logs.

        Forward, loss and backward (:meth:`compute_loss_and_gradients`), then
        the optimizer's update ``θ ← θ - α g``.  A NaN or infinite loss
        raises :class:`NonFiniteLoss` *before* the update, so neither the
        weights nor the optimizer's state take a step from it.  Override to
        change what a step does; ``fit`` calls it once per batch.  (During
        ``fit`` the update may go into a spare buffer, ``next_params``, and
        use compiled ``kernels``; an override may simply call
        ``self.optimizer.step(self.params, self.grads)``.)
        """
        loss = self.compute_loss_and_gradients(x, y, sample_weight, training=True)
        if not math.isfinite(loss):
            raise NonFiniteLoss(loss)
        self.optimizer.step(self.params, self.grads, out=self.next_params, kernels=self.kernels)
        if not self.metrics:
            return {"loss": loss}
        return {"loss": loss, **self.compute_metrics(y, self.last_output)}

    def compute_metrics(self, y, y_pred, sample_weight=None):
        """Add a batch to every metric's state; returns the metrics so far, by name.

        Metrics are stateful (Keras's ``update_state``/``result``): over an epoch
        they accumulate every batch, so the epoch's precision, AUC or R² is the
        value over all its samples, and equals what ``evaluate`` gives.
        """
        if self.xp is not np:             # the metrics count on the host
            y, y_pred = backend.to_host(y), backend.to_host(y_pred)
        for metric in self.metrics:
            metric.update_state(y, y_pred)
        return self.get_metrics_result()

    def get_metrics_result(self):
        """Every metric's current value, by name."""
        return {metric.name: metric.result() for metric in self.metrics}

    def reset_metrics(self):
        """Empty every metric's state (at the start of each epoch and each evaluation)."""
        for metric in self.metrics:
            metric.reset_state()

    def fit(self, x, y=None, batch_size=None, epochs=1, verbose=1, callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=None, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Train the model by mini-batch gradient descent (Keras's arguments, in Keras's order).

        Parameters
        ----------
        x : array (n_samples, n_features), or data bigger than memory
            A NumPy memory map or a Dask array (with ``y``), or a source of
            ``(x, y[, sample_weight])`` batches: a PyDataset-like object, a
            :class:`glassnet.datasets.CSVDataset`, a list or a generator (one
            epoch).  See :mod:`glassnet.data` for how each is shuffled.
        y : array (n_samples, n_outputs), or (n_samples,) integer labels for
            ``sparse_categorical_crossentropy``; None for a source of batches
        batch_size : int, default 32
            Samples per gradient step; ``len(x)`` or more gives full-batch
            gradient descent.
        epochs : int
            Passes over the training data.  Calling ``fit`` again continues
            from where the last call stopped (the History grows), unless
            ``initial_epoch`` is given: then, as in Keras, training runs from
            epoch ``initial_epoch`` up to epoch ``epochs``.
        verbose : {0, 1, 2, "auto"}
            0 silent, 1 (and "auto") progress bar (plain lines when not a
            terminal), 2 one line per epoch.
        callbacks : list of Callback
        validation_split : float in [0, 1)
            Fraction of the data held out for validation: the *last* rows,
            before shuffling, as in Keras
            (:func:`glassnet.datasets.validation_split`).
        validation_data : (x_val, y_val) or (x_val, y_val, sample_weight_val), optional
        shuffle : bool
            Visit the samples in a new random order each epoch.
        class_weight : dict {class: weight}, optional
            Weight each sample by its class (classes left out weigh 1, as in
            Keras); multiplies ``sample_weight``.
        sample_weight : array (n_samples,), optional
            Weight of each sample in the loss.
        initial_epoch : int, optional
        steps_per_epoch : int, optional
            Batches per epoch (the next epoch continues where this one stopped;
            a generator's batches are read on across epochs).
        validation_steps : int, optional
            Batches of the validation data per validation; each validation
            starts the data again, so every epoch is scored on the same rows
            (as in Keras; a generator cannot start again and is read on).
        validation_freq : int or collection of int, default 1
            Validate every ``validation_freq`` epochs, or after the listed
            epochs (counted from 1).
        validation_batch_size : int, optional
            Rows per chunk when validating (memory only); with
            ``validation_steps`` the rows of each step, ``batch_size`` by
            default (as in Keras).

        Returns
        -------
        History
            This call's epochs, as Keras returns them: ``history.history`` maps
            "loss", each metric and "val_..." to per-epoch lists.  The epochs
            keep counting over calls, and ``model.history`` holds the whole
            run (every call's epochs: what ``save`` keeps).  If Ctrl-C stops training, ``fit`` returns the
            History so far with ``history.interrupted`` set.

        Raises
        ------
        TrainingDiverged
            When the loss becomes NaN or infinite; the weights are restored
            to the last ones with a finite loss.
        """
        self._require_compiled("fit")
        x, y, sample_weight, validation_data = (self.from_device(v, name) for v, name in (
            (x, "x"), (y, "y"), (sample_weight, "sample_weight"),
            (validation_data, "validation_data")))
        verbose = 1 if verbose == "auto" else verbose
        if verbose not in (0, 1, 2, True, False):
            raise ValueError(f"verbose must be 0, 1, 2 or 'auto'; received {verbose!r}")
        batch_size = 32 if batch_size is None else batch_size
        if validation_steps is not None and validation_batch_size is None:
            validation_batch_size = batch_size      # the steps count batches of this size
        batches, validation = self._fit_data(
            self.side_by_side(x), y, sample_weight, class_weight, batch_size,
            validation_split, validation_data, shuffle, 1 if steps_per_epoch else epochs,
            validation_batch_size)
        if steps_per_epoch is not None:
            batches = Steps(batches, check.positive_int(steps_per_epoch, "steps_per_epoch"))
        if validation_steps is not None and validation is not None:
            validation = Steps(validation, check.positive_int(validation_steps,
                                                              "validation_steps"), restart=True)
        first, last = self._epoch_range(epochs, initial_epoch)
        validate_after = _validation_epochs(validation_freq)
        callbacks = self._callback_list(callbacks, verbose, last, batches)
        rollback = None
        self._use_kernels(self._choose_kernels())
        self.stop_training = False
        self.fitting = True                   # (model.to refuses to move the model now)
        try:
            # NumPy's overflow warnings would only repeat what the divergence check reports
            with DeferredInterrupt() as interrupt, \
                    np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                callbacks.on_train_begin()
                if self.resume_epoch is not None:     # BackupAndRestore put back a run
                    first, self.resume_epoch = max(first, self.resume_epoch), None
                marks = self.history.marks()          # where this call's epochs begin
                try:
                    # (after on_train_begin: a callback may have put back other weights)
                    rollback = Rollback(self, double=self._double_buffered())
                    for epoch in range(first, last):
                        if self.stop_training or interrupt.requested:
                            break
                        callbacks.on_epoch_begin(epoch)
                        logs = self._train_epoch(batches, epoch, callbacks, rollback, interrupt)
                        if logs is None:                  # stopped part way through the epoch
                            break
                        if validation is not None and validate_after(epoch + 1):
                            val_logs = self._validate(validation, callbacks, epoch)
                            logs.update({"val_" + k: v for k, v in val_logs.items()})
                        callbacks.on_epoch_end(epoch, logs)
                finally:
                    self.history.interrupted = interrupt.requested
                    self._use_kernels(None)
                    try:
                        callbacks.on_train_end()
                    finally:
                        if rollback is not None:
                            rollback.close()
        finally:
            self.fitting = False
        if interrupt.requested:
            warnings.warn(f"training interrupted by Ctrl-C after {len(self.history.epoch)} "
                          f"complete epoch(s) and {self.optimizer.iterations} steps in all; the "
                          f"model keeps the weights of the last complete step",
                          RuntimeWarning, stacklevel=2)
        return self.history.since(marks)

    def _choose_kernels(self):
        """The fused kernels for this fit, or None: :mod:`glassnet.fast` (numba) on the CPU,
        :mod:`glassnet.cuda` on a GPU (used unless ``fast=False``)."""
        choice = self.fast
        if choice is None and os.environ.get("GLASSNET_FAST") in ("0", "1"):
            choice = os.environ["GLASSNET_FAST"] == "1"          # how CI runs both paths
        if self.xp is not np:
            return None if choice is False else cuda.kernels()
        if choice is None:
            choice = self.params.size >= fast.FAST_MIN_PARAMS and fast.available()
        return fast.kernels() if choice else None

    def _use_kernels(self, kernels):
        self.kernels = kernels
        for layer in self.layers:
            layer.use_kernels(kernels)

    def _double_buffered(self):
        """Double-buffer the weights in fit (no per-step copy) when it pays and is safe.

        Rebinding the layers' views costs a few microseconds per step, more
        than copying a tiny network; and an overridden ``train_step`` may
        update the weights in place.  On a GPU always (a copy is a launch, and
        the deferred loss check needs the two buffers).
        """
        return ((self.variables.size >= DOUBLE_BUFFER_MIN or self.xp is not np)
                and type(self).train_step is Trainer.train_step)

    def _epoch_range(self, epochs, initial_epoch):
        epochs = check.non_negative_int(epochs, "epochs")
        if initial_epoch is None:                  # continue where the History ends
            first = len(self.history.epoch)
            return first, first + epochs
        initial_epoch = check.non_negative_int(initial_epoch, "initial_epoch")
        if initial_epoch > epochs:
            raise ValueError(f"initial_epoch={initial_epoch} is after epochs={epochs}: as in "
                             f"Keras, fit trains from epoch initial_epoch up to epoch epochs")
        return initial_epoch, epochs

    def _train_epoch(self, batches, epoch, callbacks, rollback, interrupt):
        """One pass over the batches; the epoch's mean logs, or None if stopped part way."""
        if self._defers_losses(callbacks, rollback, batches):
            return self._train_epoch_deferred(batches, epoch, rollback, interrupt)
        means = EpochMeans()                      # the loss: a running mean over the epoch
        metric_names = self.metric_names
        if metric_names:
            self.reset_metrics()                  # the metrics: their state over the epoch
        # the default train_step checks its loss before updating; an override is checked here
        guarded = rollback.guards_overrides
        data_style = rollback.data_style          # Keras 3's train_step(self, data)
        hooks = callbacks.wants_batches           # (no per-batch dicts when nobody listens)
        for batch, (xb, yb, wb) in enumerate(batches):
            if interrupt.requested or self.stop_training:
                return None
            size = len(xb)
            if hooks:
                callbacks.on_train_batch_begin(batch, {"size": size})
            rollback.save()
            try:
                logs = (self.train_step((xb, yb) if wb is None else (xb, yb, wb))
                        if data_style else self.train_step(xb, yb, wb))
                if guarded:
                    loss = _logged_loss(logs)
                    if loss is not None and not math.isfinite(loss):
                        raise NonFiniteLoss(loss)  # after an override's update: rolled back
            except NonFiniteLoss as exc:
                rollback.restore()
                raise self._diverged(exc.loss, epoch, batch) from None
            rollback.commit()
            means.add({k: v for k, v in logs.items() if k not in metric_names}
                      if metric_names else logs, size)
            if hooks:               # Keras's batch logs: the epoch so far, not this batch alone
                callbacks.on_train_batch_end(batch, {**logs, **means.result(), "size": size})
        if means.count == 0:            # the input ran out of data: training stops (Keras)
            return None
        if not metric_names:
            return means.result()
        return {**means.result(), **self.get_metrics_result()}

    def _diverged(self, loss, epoch, batch):
        return TrainingDiverged(
            f"the loss became {loss} at epoch {epoch + 1}, batch {batch + 1}; the weights were "
            f"restored to the last finite ones. Try a lower learning rate (now "
            f"{self.optimizer.current_learning_rate():g}) or scale the inputs",
            epoch=epoch, batch=batch)

    def _defers_losses(self, callbacks, rollback, batches):
        """True when this epoch may leave each step's loss on the GPU (read once per epoch).

        Reading a loss back makes the host wait for the GPU at every step, so
        it cannot queue the next step while the GPU computes.  That pays for
        batches with work enough to overlap (``kernels.defer_min_batch`` rows
        or more), and is only safe where nothing needs the loss per step: the
        default train_step, no metrics (they read the predictions), no
        per-batch callbacks, no regularization penalty, no kept arrays (moving
        averages, which a later step would change), and an optimizer whose GPU
        kernel can be guarded.
        """
        kernels = self.kernels
        return (kernels is not None and kernels.defers_losses
                and getattr(batches, "batch_size", 0) >= kernels.defer_min_batch
                and not rollback.guards_overrides and not self.metric_names
                and not callbacks.wants_batches
                and self.variables.size == self.params.size
                and not any(layer.regularized for layer in self.layers)
                and kernels.can_guard(self.optimizer)
                and "store" in inspect.signature(self.compute_loss_and_gradients).parameters)

    def _train_epoch_deferred(self, batches, epoch, rollback, interrupt):
        """:meth:`_train_epoch` on a GPU, with the losses left on the device.

        Each step stores its mean loss on the GPU (:class:`DeferredLosses`);
        the first one that is not finite (at step k) sets a guard there that
        turns every later update into a no-op that writes nothing.  The two
        weight buffers of :class:`Rollback` then keep θ_k and θ_(k-1) whatever
        follows, and when the losses are read (every ``DeferredLosses.READ_EVERY``
        steps, and at the end of the epoch) the model is pointed at θ_(k-1):
        what the per-step check gives on the CPU.
        """
        losses = DeferredLosses(self.xp, self.optimizer.iterations)
        stopped = False
        for step, (xb, yb, wb) in enumerate(batches):
            if interrupt.requested or self.stop_training or losses.diverged(step):
                stopped = True
                break
            rollback.save()
            self.compute_loss_and_gradients(xb, yb, wb, training=True,
                                            store=losses.store(self.kernels, len(xb)))
            self.optimizer.step(self.params, self.grads, out=self.next_params,
                                kernels=self.kernels, guard=losses.guard)
            rollback.commit()
        values, bad = losses.read()
        if bad is not None:                # the updates from that step on did not happen
            if (len(values) - bad) % 2 == 0:   # θ_(bad-1) is in the other buffer
                rollback.restore()
            self.optimizer.iterations = losses.iterations + bad
            raise self._diverged(values[bad], epoch, bad)
        if stopped or not values:
            return None
        means = EpochMeans()
        for value, size in zip(values, losses.sizes):
            means.add({"loss": value}, size)
        return means.result()

    def _fit_data(self, x, y, sample_weight, class_weight, batch_size, validation_split,
                  validation_data, shuffle, epochs=1, validation_batch_size=None):
        """Check the data, hold out the validation part, and serve both in batches."""
        batch_size = check.positive_int(batch_size, "batch_size")
        validation_split = float(validation_split)
        if not 0.0 <= validation_split < 1.0:
            raise ValueError(f"validation_split must be in [0, 1); received {validation_split!r}")
        blocked = self.first_untrainable_layer()
        if blocked is not None:
            raise ValueError(f"layer {blocked.name!r} uses the {blocked.activation.name!r} "
                             f"activation, which cannot be trained (its gradient is zero); set "
                             f"its weights by hand with set_weights, or train with 'sigmoid'")
        validation = None
        if validation_data is not None:
            validation = self._batches_for_evaluation(validation_data, validation_batch_size)
        if data.is_source(x):                 # bigger than memory: see glassnet.data
            if class_weight is not None:
                raise ValueError("class_weight needs y in memory; with a batch source, put "
                                 "the weights in its batches (x, y, sample_weight)")
            source = data.adapt(x, y, sample_weight, batch_size, shuffle, self.rng,
                                check.non_negative_int(epochs, "epochs"))
            if validation_split > 0:
                if not hasattr(source, "part"):
                    raise ValueError(f"validation_split needs to know the rows of x; for a "
                                     f"{type(x).__name__} pass validation_data")
                cut = source.n - int(round(source.n * validation_split))
                validation = self._checked(source.part(cut, source.n, shuffle=False))
                source = source.part(0, cut)
            if not self.built:
                self.build(data.peek_width(source))
            return self._checked(source), validation
        x, y, w = self._check_xy(x, y, sample_weight)
        if class_weight is not None:
            by_class = self._class_weights(y, class_weight)
            w = by_class if w is None else w * by_class
        if validation_split > 0 and validation is None:
            (x, y, w), held_out = split_validation([x, y, w], validation_split)
            check.warn_if_one_class_validates(y, held_out[1], self.loss)
            validation = Batches(*held_out, self._chunk(validation_batch_size), False,
                                 self.rng, self.xp)
        if not self.scales_input:            # a first Normalization/Rescaling scales it
            check.warn_if_unscaled(x)
        return Batches(x, y, w, batch_size, shuffle, self.rng, self.xp), validation

    def _checked(self, source):
        return data.CheckedBatches(source, self._check_xy if self.xp is np
                                   else self._check_xy_to_device)

    def _check_xy_to_device(self, x, y, sample_weight=None, name="x"):
        """A batch of a source, checked on the host and copied to the model's GPU."""
        return tuple(None if a is None else backend.to_module(a, self.xp)
                     for a in self._check_xy(x, y, sample_weight, name))

    def _batches_for_evaluation(self, given, batch_size=None):
        """``validation_data`` or evaluate's data as batches, in order, checked."""
        if data.is_source(given):
            source = data.adapt(given, None, None, self._chunk(batch_size), False, self.rng)
            if not self.built:
                self.build(data.peek_width(source))
            return self._checked(source)
        if not (isinstance(given, (tuple, list)) and len(given) in (2, 3)):
            raise ValueError("validation_data must be a tuple (x_val, y_val) or "
                             f"(x_val, y_val, sample_weight_val), or a batch source; received "
                             f"{type(given).__name__}")
        given = (self.side_by_side(given[0]), *given[1:])
        if data.is_source(given[0]):
            source = data.adapt(given[0], given[1], given[2] if len(given) == 3 else None,
                                self._chunk(batch_size), False, self.rng)
            return self._checked(source)
        x, y, w = self._check_xy(*given[:2], given[2] if len(given) == 3 else None,
                                 name="x_val")
        return Batches(x, y, w, self._chunk(batch_size), False, self.rng, self.xp)

    def _class_weights(self, y, class_weight):
        """Each sample's weight from its class: ``class_weight[class of y_i]`` (1 if absent)."""
        if not isinstance(self.output_dim, (int, np.integer)):
            raise ValueError("class_weight applies to a model with one output; with several, "
                             "pass sample_weight")
        if not isinstance(class_weight, dict) or not all(
                isinstance(k, (int, np.integer)) and not isinstance(k, bool) and k >= 0
                for k in class_weight):
            raise ValueError(f"class_weight must be a dict {{class index: weight}}; received "
                             f"{class_weight!r}")
        if self.loss.sparse:
            labels = y
        elif y.shape[1] > 1:
            labels = y.argmax(axis=1)                   # one-hot rows
        else:
            labels = (y[:, 0] > 0.5).astype(np.int64)    # binary targets
        table = np.ones(max(int(labels.max()), *class_weight) + 1, dtype=np.float64)
        for k, weight in class_weight.items():
            table[k] = weight
        return check.as_sample_weight(table[labels], len(y), self.dtype)

    def _callback_list(self, callbacks, verbose, epochs, batches):
        """The callbacks of one fit (with the progress bar and the History) or evaluate/predict."""
        cbs = [callbacks_module.ProgbarLogger(verbose=int(verbose))] if verbose else []
        cbs.extend(callbacks or [])
        if batches is None:
            return callbacks_module.CallbackList(cbs, self, {"verbose": verbose})
        cbs.append(self.history)       # last: it records what the others added to the logs
        return callbacks_module.CallbackList(cbs, self, {
            "epochs": epochs, "samples": batches.n, "batch_size": batches.batch_size,
            "steps": batches.steps, "verbose": verbose})

    # ------------------------------------------------------------------------------
    # inference
    # ------------------------------------------------------------------------------
    @staticmethod
    def _chunk(batch_size):
        """Rows per chunk for predict and evaluate: ``batch_size`` (checked), else PREDICT_CHUNK."""
        return check.positive_int(batch_size, "batch_size") if batch_size else PREDICT_CHUNK

    def test_step(self, x, y, sample_weight=None):
        """One batch of evaluation: forward, the loss's weighted sum, the metrics' states.

        ``evaluate`` and validation call it once per chunk; override it to
        change what evaluation measures.  Returns the metrics so far and
        ``"weighted_loss_sum"``: ``Σ_i w_i l_i`` of this chunk (the mean over
        every chunk is the loss).
        """
        y_pred = self.forward(x)
        per_sample = self.per_sample_loss(y)
        total = losses.reduce(per_sample, sample_weight) * len(x)
        return {"weighted_loss_sum": total, **self.compute_metrics(y, y_pred)}

    def predict(self, x, batch_size=None, verbose=0, callbacks=None):
        """Outputs ``ŷ`` for inputs ``x`` of shape (n_samples, n_features).

        Returns an array of shape (n_samples, n_outputs) in the model's dtype.
        ``batch_size`` only bounds memory use; results for different batch
        sizes agree to rounding (BLAS may pick another kernel).  ``verbose``
        is accepted for Keras's sake; prediction prints nothing.
        """
        on_device = backend.holds_device_array(x)     # then the output stays on the GPU
        x = self.side_by_side(self.from_device(x) if on_device else x)
        if data.is_source(x):
            return self._predict_source(x, batch_size)
        x = self._check_x(x)
        chunk = self._chunk(batch_size)
        if not callbacks and len(x) <= chunk:          # the fast path: one chunk, no hooks
            out = self.predict_step(backend.to_module(x, self.xp))
            return out if on_device else backend.to_host(out)
        callbacks = self._callback_list(callbacks, 0, 0, None)
        callbacks.on_predict_begin()
        outputs = []
        for batch, (xb, _, _) in enumerate(Batches(x, None, None, chunk, False, self.rng,
                                                   self.xp)):
            callbacks.on_predict_batch_begin(batch)
            outputs.append(self.predict_step(xb))
            callbacks.on_predict_batch_end(batch, {"outputs": outputs[-1]})
        callbacks.on_predict_end()
        out = join_outputs(outputs)
        return out if on_device else backend.to_host(out)

    def _predict_source(self, x, batch_size):
        """Predictions for every batch of a source (its y, if any, is ignored)."""
        source = data.adapt(x, None, None, self._chunk(batch_size), False, self.rng,
                            inputs_only=True)
        outputs = []
        for i, (xb, _, _) in enumerate(source):
            try:
                outputs.append(backend.to_host(self.predict_step(
                    backend.to_module(self._check_x(xb), self.xp))))
            except ValueError as exc:
                raise ValueError(f"batch {i + 1}: {exc}") from None
        return join_outputs(outputs)

    def __call__(self, x):
        """``model(x)`` is ``model.predict(x)``."""
        return self.predict(x)

    def evaluate(self, x, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        """Loss and metrics on (x, y) (arrays, or a batch source: see :mod:`glassnet.data`).

        Returns, as Keras does, the loss alone when there are no metrics, else
        the list ``[loss, *metrics]`` in the order of :attr:`metrics_names`
        (``test_loss, test_acc = model.evaluate(x, y)``); with
        ``return_dict=True`` a dict like ``{"loss": 0.12, "accuracy": 0.97}``.
        ``steps`` evaluates only the first ``steps`` batches of ``batch_size``
        rows (32 by default, as in Keras; all of them, with a warning, when there
        are fewer).  Without ``steps``, ``batch_size`` only sets the rows per
        chunk (memory), all rows being scored.
        """
        self._require_compiled("evaluate")
        x, y, sample_weight = (self.from_device(v, name) for v, name in (
            (x, "x"), (y, "y"), (sample_weight, "sample_weight")))
        x = self.side_by_side(x)
        given = x if data.is_source(x) and y is None else (x, y, sample_weight)
        if steps is not None and batch_size is None:
            batch_size = 32                       # the steps count batches of this size
        batches = self._batches_for_evaluation(given, batch_size)
        if steps is not None:
            batches = Steps(batches, check.positive_int(steps, "steps"), restart=True)
        result = self._evaluate(batches, self._callback_list(callbacks, 0, 0, None))
        if verbose and verbose != "auto":
            print(format_logs(result))
        if return_dict:
            return result
        values = list(result.values())
        return values[0] if len(values) == 1 else values

    def _validate(self, validation, callbacks, epoch):
        """The validation scores after ``epoch``; a source used up says so."""
        try:
            return self._evaluate(validation, callbacks)
        except NoBatches:
            if epoch == 0:
                raise
            raise ValueError(f"validation_data gave no batches after epoch {epoch + 1}: a "
                             f"generator is used up after one pass; pass arrays, a list of "
                             f"batches or a PyDataset, or a generator that never ends with "
                             f"validation_steps") from None

    def _evaluate(self, batches, callbacks=None):
        """Mean loss (with the penalties) and metrics over checked batches."""
        if callbacks is not None:
            callbacks.on_test_begin()
        self.reset_metrics()
        data_style = (type(self).test_step is not Trainer.test_step
                      and takes_data(type(self).test_step))
        total, count, weighted = 0.0, 0, False
        for batch, (x, y, w) in enumerate(batches):
            if callbacks is not None:
                callbacks.on_test_batch_begin(batch)
            logs = (self.test_step((x, y) if w is None else (x, y, w))
                    if data_style else self.test_step(x, y, w))
            total += logs.pop("weighted_loss_sum")
            count += len(x)
            weighted = weighted or w is not None
            if callbacks is not None:
                callbacks.on_test_batch_end(batch, {"loss": total / count + self.penalty(),
                                                    **logs})
        if count == 0:
            raise NoBatches("there is no data to evaluate: the source gave no batches")
        result = {"loss": total / count + self.penalty(), **self.get_metrics_result()}
        if callbacks is not None:
            callbacks.on_test_end(result)
        return result


def takes_data(step):
    """True for Keras 3's ``train_step(self, data)`` form (data: ``(x, y[, sample_weight])``)."""
    try:
        params = list(inspect.signature(step).parameters.values())[1:]
    except (TypeError, ValueError):
        return False
    return len(params) == 1 and params[0].kind in (params[0].POSITIONAL_ONLY,
                                                   params[0].POSITIONAL_OR_KEYWORD)


def _logged_loss(logs):
    """The loss an overridden train_step returned, checked: a dict of numbers is expected."""
    if not isinstance(logs, dict):
        raise ValueError(f"train_step must return a dict of logs such as {{'loss': value}}; it "
                         f"returned {type(logs).__name__} {logs!r:.80}")
    loss = logs.get("loss")
    if loss is None:
        return None
    try:
        return float(loss)
    except (TypeError, ValueError):
        raise ValueError(f"train_step's logs['loss'] must be a number; received "
                         f"{loss!r:.80}") from None


def join_outputs(chunks):
    """The outputs of several chunks as one (one array per output, with several outputs)."""
    if len(chunks) == 1:
        return chunks[0]
    if isinstance(chunks[0], list):
        xp = array_module(chunks[0][0])
        return [xp.concatenate(parts) for parts in zip(*chunks)]
    return array_module(chunks[0]).concatenate(chunks)


def _validation_epochs(freq):
    """``validation_freq`` as a test on the epoch number (from 1)."""
    if isinstance(freq, (int, np.integer)) and not isinstance(freq, bool) and freq >= 1:
        return lambda epoch: epoch % freq == 0
    if isinstance(freq, (list, tuple, set, range)):
        chosen = set(freq)
        return lambda epoch: epoch in chosen
    raise ValueError(f"validation_freq must be a positive integer or a collection of epoch "
                     f"numbers; received {freq!r}")


def _is_name_of(module, name):
    """True when ``name`` names one of ``module``'s registered classes."""
    try:
        module.REGISTRY.lookup(name)
    except ValueError:
        return False
    return True


class Batches:
    """Arrays served as mini-batches ``(x, y, sample_weight)``, epoch after epoch.

    With ``shuffle`` (and more samples than one batch) every epoch visits the
    rows in a new order drawn from ``rng``, gathered into two reused buffers;
    otherwise the batches are slices of the data, in order (how predict and
    evaluate go through their data in chunks; ``y`` may then be None).
    """

    def __init__(self, x, y, sample_weight, batch_size, shuffle, rng, xp=np):
        # on a GPU (xp = cupy) the data is copied to the device once, here, not per batch
        self.x, self.y, self.w = (None if a is None else backend.to_module(a, xp)
                                  for a in (x, y, sample_weight))
        self.xp = xp
        self.n = len(x)
        self.batch_size = min(batch_size, self.n)
        self.rng = rng
        self.shuffle = shuffle and self.n > self.batch_size
        if self.shuffle:
            self._xb = xp.empty((self.batch_size,) + x.shape[1:], dtype=x.dtype)
            self._yb = xp.empty((self.batch_size,) + y.shape[1:], dtype=y.dtype)

    @property
    def steps(self):
        return -(-self.n // self.batch_size)

    def __iter__(self):
        x, y, w, size, xp = self.x, self.y, self.w, self.batch_size, self.xp
        order = self.rng.permutation(self.n) if self.shuffle else None
        if order is not None and xp is not np:
            order = xp.asarray(order)          # drawn on the host: the CPU's order, on the GPU
        for start in range(0, self.n, size):
            stop = min(start + size, self.n)
            if order is None:
                yield (x[start:stop], None if y is None else y[start:stop],
                       None if w is None else w[start:stop])
                continue
            idx, m = order[start:stop], stop - start
            yield (backend.take_rows(xp, x, idx, self._xb[:m]),
                   backend.take_rows(xp, y, idx, self._yb[:m]),
                   None if w is None else w[idx])


class NoBatches(ValueError):
    """A source that gave no batch to evaluate."""


class Steps:
    """``steps`` batches of a source per pass (Keras's ``steps_per_epoch``, ``validation_steps``).

    The batches continue where the last pass stopped, starting the data again
    (reshuffled) when it runs out; a generator that is exhausted ends the pass.
    With ``restart`` (validation, evaluate) every pass starts the data again, so
    that each epoch is validated on the same rows, and ends with the data (more
    steps than batches score each batch once, with a warning); a generator cannot
    start again and is read on.
    """

    def __init__(self, batches, steps, restart=False):
        self.batches, self.steps, self.restart = batches, steps, restart
        self._it = None

    def __getattr__(self, name):               # n, batch_size: those of the data
        if name == "batches":
            raise AttributeError(name)
        return getattr(self.batches, name)

    def __iter__(self):
        if self.restart:
            self._it = None
        for done in range(self.steps):
            if self._it is None:
                self._it = iter(self.batches)
            try:
                batch = next(self._it)
            except StopIteration:
                if self.restart:                # evaluation: every row once, not twice
                    if done:                    # (none at all: the evaluation says so)
                        warnings.warn(f"the data ran out after {done} of {self.steps} "
                                      f"steps: scored the {done} batches it has",
                                      RuntimeWarning, stacklevel=2)
                    return
                self._it = iter(self.batches)
                try:
                    batch = next(self._it)
                except StopIteration:
                    warnings.warn(f"the input ran out of data after {done} of {self.steps} "
                                  f"steps: a generator feeds each batch once, so give it at "
                                  f"least steps_per_epoch × epochs batches", RuntimeWarning,
                                  stacklevel=2)
                    return
            yield batch


class Rollback:
    """Divergence rollback: keep the last weights whose loss was finite.

    Copying (small models): before each step :meth:`save` copies the weights
    θ_k into a spare buffer; when the step's loss was finite, :meth:`commit`
    makes that copy the backup.  When it was not, :meth:`restore` puts back
    the backup: θ_(k-1), the weights before the last update, whose loss was
    finite.

    Double-buffered (big models): the optimizer writes θ_(k+1) into the spare
    buffer (``model.next_params``) and :meth:`commit` points the layers at
    it, so the buffer of θ_k *is* the backup and nothing is copied but the
    few untrained arrays (moving averages), which the forward pass changes
    in place.  Both ways, a restore puts back every weight as it was before
    the last successful step.  :meth:`close` leaves the weights in the
    model's original vector.
    """

    def __init__(self, model, double=False):
        self.model, self.double = model, double
        # an overridden train_step may update before its loss is checked: keep the
        # optimizer's state of the step before too (the default step checks first)
        self.optimizer_state = None
        #: True when train_step is overridden: fit checks the loss it returns
        self.guards_overrides = type(model).train_step is not Trainer.train_step
        #: True for Keras 3's train_step(self, data) (looked up once per fit)
        self.data_style = self.guards_overrides and takes_data(type(model).train_step)
        if self.guards_overrides and model.optimizer is not None:
            model.optimizer.build(model.params.size, model.dtype, array_module(model.params))
            self.optimizer_state = ({k: v.copy() for k, v in model.optimizer.state.items()},
                                    model.optimizer.iterations)
        self.original = model.variables
        self.backup = model.variables.copy()
        xp = self.xp = array_module(model.variables)     # numpy, or cupy on a GPU
        self.spare = xp.empty_like(model.variables)
        n = model.params.size
        if double:      # every layer's views into each of the two buffers, made once
            self.views = {id(v): (v, v[:n], model.weight_views(v))
                          for v in (self.original, self.backup)}
            self.spare = None
            self.kept = xp.empty_like(model.variables[n:]) if n < model.variables.size else None
            model.next_params = self.backup[:n]

    def save(self):
        if self.optimizer_state is not None:
            opt = self.model.optimizer
            for key, value in opt.state.items():
                self.xp.copyto(self.optimizer_state[0][key], value)
            self.optimizer_state = (self.optimizer_state[0], opt.iterations)
        if not self.double:
            self.xp.copyto(self.spare, self.model.variables)
        elif self.kept is not None:                # the untrained arrays, before the forward
            self.xp.copyto(self.kept, self.model.variables[self.model.params.size:])

    def commit(self):
        if not self.double:
            self.backup, self.spare = self.spare, self.backup
            return
        current, n = self.model.variables, self.model.params.size
        following = self._other(current)
        if self.kept is not None:    # the forward pass updated them in place: carry them on,
            self.xp.copyto(following[n:], current[n:])       # and keep the old ones with the old θ
            self.xp.copyto(current[n:], self.kept)
        self._point_at(following)

    def restore(self):
        if self.optimizer_state is not None:
            opt = self.model.optimizer
            for key, value in self.optimizer_state[0].items():
                self.xp.copyto(opt.state[key], value)
            opt.iterations = self.optimizer_state[1]
        if not self.double:
            self.model.variables[...] = self.backup
        else:
            self._point_at(self.backup)

    def _other(self, vector):
        return next(v for key, (v, _, _) in self.views.items() if v is not vector)

    def _point_at(self, vector):
        """Make ``vector`` the model's weights; the optimizer's next target the other buffer."""
        vector, params, views = self.views[id(vector)]
        self.model.bind_variables(vector, params, views)
        self.backup = self._other(vector)
        self.model.next_params = self.views[id(self.backup)][1]

    def close(self):
        """End of fit: the weights are in the model's original vector again."""
        if self.double:
            if self.model.variables is not self.original:
                self.xp.copyto(self.original, self.model.variables)
                self._point_at(self.original)
            self.model.next_params = None


class DeferredLosses:
    """A GPU epoch's losses, stored on the device by each step and read back once.

    ``guard`` (two int32 on the device) becomes ``{1, k}`` at the first step
    k whose loss is not finite; the optimizer's kernel then leaves the
    weights alone (see :meth:`Trainer._train_epoch_deferred`).
    """

    #: losses per device block (an epoch of any length allocates blocks as it goes)
    BLOCK = 1024
    #: steps between two reads of the guard: bounds how far the host runs ahead of the GPU,
    #: and how many steps are computed in vain after a loss that is not finite
    READ_EVERY = 32

    def __init__(self, xp, iterations):
        self.xp, self.iterations = xp, iterations
        self.blocks, self.sizes = [], []
        self.guard = xp.zeros(2, dtype=np.int32)

    def diverged(self, step):
        """True when a loss so far was not finite (read from the GPU every READ_EVERY steps)."""
        return step > 0 and step % self.READ_EVERY == 0 and bool(self.guard[0].get())

    def store(self, kernels, size):
        """What stores the next step's loss: ``store(per_sample, sample_weight)``."""
        k = len(self.sizes)
        if k % self.BLOCK == 0:
            self.blocks.append(self.xp.empty(self.BLOCK, dtype=np.float64))
        self.sizes.append(size)
        block, guard = self.blocks[-1], self.guard
        return lambda per_sample, w: kernels.store_loss(per_sample, w, block, k % self.BLOCK,
                                                        guard, k)

    def read(self):
        """Every step's loss (floats), and the first step whose loss was not finite, or None."""
        guard = self.guard.get()
        values = [float(v) for block in self.blocks for v in block.get()][:len(self.sizes)]
        return values, (int(guard[1]) if guard[0] else None)


class EpochMeans:
    """Running means of a step's logs, weighted by batch size: the epoch's logs."""

    def __init__(self):
        self.sums, self.count = {}, 0

    def add(self, logs, size):
        for key, value in logs.items():
            self.sums[key] = self.sums.get(key, 0.0) + value * size
        self.count += size

    def result(self):
        return {key: total / self.count for key, total in self.sums.items()}


class DeferredInterrupt(contextlib.AbstractContextManager):
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
