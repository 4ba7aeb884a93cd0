"""Callbacks: code that runs at fixed points of ``fit``, ``evaluate`` and ``predict``.

The hooks are Keras's.  ``fit`` calls, with a ``logs`` dict of the latest numbers:

    on_train_begin
      on_epoch_begin(epoch)
        on_train_batch_begin(batch) / on_train_batch_end(batch, logs={"loss", ..., "size"})
        on_test_begin / on_test_batch_begin / on_test_batch_end / on_test_end(logs)
                                                         (validation, when there is some)
      on_epoch_end(epoch, logs={"loss", metrics..., "val_loss", ...})
    on_train_end

``evaluate`` calls the ``on_test_*`` hooks and ``predict`` the ``on_predict_*``
ones.  ``on_batch_begin``/``on_batch_end`` are the older names of the train
batch hooks (called by them, as in Keras).  A callback can stop training by
setting ``self.model.stop_training = True``.
"""

from __future__ import annotations

import inspect
import os
import sys
import time

import numpy as np

from ._registry import Registry
from .optimizers import LearningRateSchedule
from ._text import format_logs

__all__ = ["Callback", "History", "EarlyStopping", "ModelCheckpoint", "LearningRateScheduler",
           "ReduceLROnPlateau", "CSVLogger", "LambdaCallback", "TerminateOnNaN", "BackupAndRestore",
           "ProgbarLogger", "TensorBoard", "CallbackList"]


class Callback:
    """Base class; override any of the ``on_*`` methods."""

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs)

    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass


#: every hook a callback may have, Keras's names
HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_batch_begin",
         "on_batch_end", "on_train_batch_begin", "on_train_batch_end", "on_test_begin",
         "on_test_end", "on_test_batch_begin", "on_test_batch_end", "on_predict_begin",
         "on_predict_end", "on_predict_batch_begin", "on_predict_batch_end")
#: hooks whose default calls an older one (Keras's on_train_batch_* call on_batch_*)
_CALLS = {"on_train_batch_begin": "on_batch_begin", "on_train_batch_end": "on_batch_end"}


def listens(callback, hook):
    """True if the callback does something on ``hook`` (its own method, or one set on it)."""
    names = (hook, _CALLS[hook]) if hook in _CALLS else (hook,)
    return any(getattr(type(callback), name) is not getattr(Callback, name)
               or name in vars(callback) for name in names)


class History(Callback):
    """Records the epoch logs: ``history.history["loss"][i]`` is epoch i's mean loss.

    ``fit`` returns the model's History; calling ``fit`` again appends to it.

    Attributes
    ----------
    history : dict of str to list of float
    epoch : list of int
    interrupted : bool
        True if the last ``fit`` was stopped by Ctrl-C.
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []
        self.interrupted = False

    def on_train_begin(self, logs=None):
        self.interrupted = False

    def marks(self):
        """Where the run stands now (see :meth:`since`)."""
        return len(self.epoch), {key: len(values) for key, values in self.history.items()}

    def since(self, marks):
        """A History of what was recorded after ``marks``: one ``fit`` call's epochs."""
        n, lengths = marks
        part = History()
        part.epoch = self.epoch[n:]
        part.history = {key: values[lengths.get(key, 0):] for key, values in self.history.items()}
        part.interrupted = self.interrupted
        part.params, part.model = self.params, self.model
        return part

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            if isinstance(value, np.ndarray):       # a metric with several values (thresholds)
                value = value.tolist()
            self.history.setdefault(key, []).append(value)

    def restore(self, saved):
        """Put back what a model file saved: ``{"history": {...}, "epoch": [...]}``.

        Raises ValueError unless every list holds at most one number per epoch
        (validation values only exist for the epochs that validated).
        """
        history, epoch = saved.get("history", {}), saved.get("epoch", [])
        if not isinstance(history, dict) or not isinstance(epoch, list) or not all(
                isinstance(e, int) and not isinstance(e, bool) and 0 <= e < 2 ** 53
                for e in epoch):
            raise ValueError("the history must be {name: [one number per epoch]} with "
                             "non-negative integer epochs")
        for key, values in history.items():
            if not isinstance(values, list) or len(values) > len(epoch) or not all(
                    _is_number(v) or (isinstance(v, list) and all(map(_is_number, v)))
                    for v in values):
                raise ValueError(f"the history of {key!r} must hold at most one number (or "
                                 f"list of numbers) for each of the {len(epoch)} epochs")
        self.history = {str(k): [[float(x) for x in v] if isinstance(v, list) else float(v)
                                 for v in values] for k, values in history.items()}
        self.epoch = list(epoch)

    def __repr__(self):
        last = {k: round(v[-1], 6) for k, v in self.history.items() if v}
        return f"History(epochs={len(self.epoch)}, last={last})"


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class _Monitor:
    """A logged number a callback watches, and which direction is better.

    ``mode="auto"`` asks the model: a metric that says ``higher_is_better``
    (the accuracies) is maximised, the loss and everything else minimised.
    """

    def __init__(self, owner, monitor, mode="auto", min_delta=0.0):
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"{owner} mode must be 'auto', 'min' or 'max', received {mode!r}")
        self.owner, self.name, self.mode = owner, monitor, mode
        self.min_delta = abs(float(min_delta))
        self.direction = None if mode == "auto" else mode

    def resolve(self, model):
        if self.mode == "auto":
            key = self.name[4:] if self.name.startswith("val_") else self.name
            metric = next((m for m in model.metrics if m.name == key), None)
            self.direction = "max" if metric is not None and metric.higher_is_better else "min"

    def value(self, logs):
        """The monitored value, or None in an epoch that did not validate (validation_freq)."""
        logs = logs or {}
        if self.name not in logs and self.name.startswith("val_") \
                and not any(key.startswith("val_") for key in logs):
            return None
        if self.name not in logs:
            raise ValueError(f"{self.owner} monitors {self.name!r}, which is not among the "
                             f"logged values {sorted(logs or {})}; pass validation data for "
                             f"'val_' values")
        return logs[self.name]

    def improved(self, value, reference):
        """True when ``value`` beats ``reference`` (None: nothing to beat) by more than min_delta."""
        if reference is None:
            return True
        if self.direction == "min":
            return value < reference - self.min_delta
        return value > reference + self.min_delta


class EarlyStopping(Callback):
    """Stop when a monitored number has stopped improving (Keras's rule).

    After each epoch from ``start_from_epoch`` on, the wait grows by one; an
    epoch that improves on the best so far (by more than ``min_delta``, and
    on ``baseline`` if given) resets it; training stops once
    ``wait >= patience``.

    Parameters
    ----------
    monitor : str, default "val_loss"
        A key of the epoch logs.
    min_delta : float, default 0
        Smaller changes do not count as improvement.
    patience : int, default 0
        Epochs without improvement to wait before stopping.
    verbose : int, default 0
        1 prints the epoch where training stopped.
    mode : {"auto", "min", "max"}
        Whether lower or higher is better; "auto" asks the metric
        (accuracies: higher; the loss and errors: lower).
    baseline : float, optional
        Training stops unless the monitored value beats it within ``patience``.
    restore_best_weights : bool, default True
        Put back the weights of the best epoch when training ends, however it
        ends (early stop, last epoch, Ctrl-C).  Keras's default is False and
        restores only on an early stop; glassnet chooses the safer default.
    start_from_epoch : int, default 0
        Epochs to train before watching (a warm-up).
    """

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=True, start_from_epoch=0):
        super().__init__()
        if int(patience) < 0:
            raise ValueError(f"EarlyStopping patience must be >= 0, received {patience!r}")
        self.watch = _Monitor("EarlyStopping", monitor, mode, min_delta)
        self.monitor = monitor
        self.patience = int(patience)
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = int(start_from_epoch)
        self.best = self.best_weights = self.best_epoch = self.stopped_epoch = None
        self.wait = 0

    def on_train_begin(self, logs=None):
        self.watch.resolve(self.model)
        self.best, self.best_weights, self.best_epoch = None, None, None
        self.wait, self.stopped_epoch = 0, None

    def on_epoch_end(self, epoch, logs=None):
        value = self.watch.value(logs)
        if value is None or epoch < self.start_from_epoch:
            return
        self.wait += 1
        if self.watch.improved(value, self.best):
            self.best, self.best_epoch = value, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.variables.copy()
            if self.baseline is None or self.watch.improved(value, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            if self.verbose:
                print(f"Epoch {epoch + 1}: early stopping (best {self.monitor} "
                      f"{self.best:.6g} at epoch {self.best_epoch + 1})")

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            self.model.variables[...] = self.best_weights


class ModelCheckpoint(Callback):
    """Save the model after each epoch or every n batches (or only when ``monitor`` improves).

    Parameters
    ----------
    filepath : str
        May contain ``{epoch}`` (counted from 1), ``{batch}`` (with an integer
        ``save_freq``, counted from 1 within the epoch) and log keys, e.g.
        ``"model-{epoch:02d}-{val_loss:.3f}.glassnet"``.
    monitor : str, default "val_loss"
    verbose : int, default 0
        1 prints each save.
    save_best_only : bool, default False
    mode : {"auto", "min", "max"}
    save_freq : "epoch" or int, default "epoch"
        "epoch": save at the end of each epoch.  An integer n: save after
        every n training batches, counted across epochs as Keras does (the
        logs are then the batch's: save_best_only can watch "loss" or a
        metric, not a validation value).
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch"):
        super().__init__()
        #: write the weights alone (model.save_weights), as Keras's save_weights_only
        self.save_weights_only = bool(save_weights_only)
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        if save_freq != "epoch" and (isinstance(save_freq, bool)
                                     or not isinstance(save_freq, int) or save_freq < 1):
            raise ValueError(f"ModelCheckpoint save_freq must be 'epoch' or a positive number "
                             f"of batches; received {save_freq!r}")
        self.save_freq = save_freq
        self.watch = _Monitor("ModelCheckpoint", monitor, mode)
        self.best = None
        self._epoch = 0
        self._batches_since_save = 0
        if save_freq != "epoch":      # listen to the batches only when saving by them
            self.on_train_batch_end = self._count_batch

    def on_train_begin(self, logs=None):
        self.watch.resolve(self.model)
        self._batches_since_save = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def _count_batch(self, batch, logs=None):
        self._batches_since_save += 1
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._save(self._epoch, logs or {}, batch=batch + 1)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, logs or {})

    def _save(self, epoch, logs, batch=None):
        if self.save_best_only:
            value = self.watch.value(logs)
            if value is None or not self.watch.improved(value, self.best):
                return
            self.best = value
        fields = {k: v for k, v in logs.items() if k not in ("epoch", "batch")}
        path = self.filepath.format(epoch=epoch + 1, batch=batch, **fields)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)
        if self.verbose:
            where = f"Epoch {epoch + 1}" + ("" if batch is None else f", batch {batch}")
            print(f"{where}: saved the model to {path}")


def _positional_arity(fn):
    """How many positional arguments ``fn`` takes (2 when it takes any number)."""
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):           # some builtins have no signature
        return 2
    if any(p.kind is p.VAR_POSITIONAL for p in parameters):
        return 2
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in parameters)


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch from ``schedule``.

    ``schedule(epoch)`` or ``schedule(epoch, lr)`` (the current rate), as in
    Keras; the rate used is logged as ``"learning_rate"``.
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose
        self._takes_lr = _positional_arity(schedule) >= 2

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        lr = self.schedule(epoch, optimizer.current_learning_rate()) if self._takes_lr \
            else self.schedule(epoch)
        optimizer.learning_rate = float(lr)
        if self.verbose:
            print(f"Epoch {epoch + 1}: learning rate {float(lr):.6g}")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = self.model.optimizer.current_learning_rate()


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stops improving (Keras's rule).

    After ``patience`` epochs without an improvement larger than
    ``min_delta``, ``lr ← max(lr · factor, min_lr)``; then ``cooldown`` epochs
    pass before the wait starts again.  Logs ``"learning_rate"``.
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0):
        super().__init__()
        if not 0.0 < float(factor) < 1.0:
            raise ValueError(f"ReduceLROnPlateau factor must be in (0, 1), received {factor!r}")
        self.watch = _Monitor("ReduceLROnPlateau", monitor, mode, min_delta)
        self.factor, self.patience, self.verbose = float(factor), int(patience), verbose
        self.cooldown, self.min_lr = int(cooldown), float(min_lr)
        self.best, self.wait, self.cooldown_counter = None, 0, 0

    def on_train_begin(self, logs=None):
        self.watch.resolve(self.model)
        self.best, self.wait, self.cooldown_counter = None, 0, 0

    def on_epoch_end(self, epoch, logs=None):
        optimizer = self.model.optimizer
        value = self.watch.value(logs)
        logs["learning_rate"] = optimizer.current_learning_rate()
        if value is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self.watch.improved(value, self.best):
            self.best, self.wait = value, 0
        elif self.cooldown_counter == 0:
            self.wait += 1
            lr = optimizer.current_learning_rate()
            if self.wait >= self.patience and lr > self.min_lr:
                if isinstance(optimizer.learning_rate, LearningRateSchedule):
                    raise ValueError("ReduceLROnPlateau needs a number as the optimizer's "
                                     "learning rate, not a schedule")
                optimizer.learning_rate = max(lr * self.factor, self.min_lr)
                self.cooldown_counter, self.wait = self.cooldown, 0
                if self.verbose:
                    print(f"Epoch {epoch + 1}: learning rate reduced to "
                          f"{optimizer.learning_rate:.6g}")


class CSVLogger(Callback):
    """Append each epoch's logs to a CSV file: a header ``epoch,<keys>``, then one row per epoch.

    An epoch that did not validate (``validation_freq``) leaves its ``val_`` fields
    empty; when the first epoch did not validate, the header is written again with the
    ``val_`` columns once a later epoch brings them (as Keras's CSVLogger, which adds them
    from the start), so no logged value is lost.  Appending below an existing header
    keeps that header.
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename, self.separator, self.append = os.fspath(filename), separator, append
        self._file = self._keys = None
        self._own, self._rows = True, []

    def on_train_begin(self, logs=None):
        has_rows = self.append and os.path.exists(self.filename) \
            and os.path.getsize(self.filename) > 0
        self._file = open(self.filename, "a" if self.append else "w", encoding="utf-8")
        self._own = not has_rows        # the header is this fit's: it may be written again
        self._keys, self._rows = None, []               # this fit's rows, for a rewrite

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        values = {k: _csv_value(v) for k, v in logs.items()}
        if not self._own:
            if self._keys is None:                      # below an existing header: kept
                self._keys = sorted(logs)
        elif self._keys is None or not set(logs) <= set(self._keys):
            # the header, then every row so far, with every key seen so far
            self._keys = sorted(set(self._keys or ()) | set(logs))
            self._file.seek(0)
            self._file.truncate()
            self._file.write(self.separator.join(["epoch", *self._keys]) + "\n")
            for row in self._rows:
                self._write(*row)
        if self._own:
            self._rows.append((epoch, values))
        self._write(epoch, values)
        self._file.flush()

    def _write(self, epoch, values):
        row = [str(epoch)] + [values.get(k, "") for k in self._keys]
        self._file.write(self.separator.join(row) + "\n")

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None


def _csv_value(value):
    """A number as Python writes it; several (a metric at several thresholds) as "[a, b]"."""
    if np.ndim(value) == 0:
        return repr(float(value))
    return '"[' + ", ".join(repr(float(v)) for v in np.ravel(value)) + ']"'


class LambdaCallback(Callback):
    """A callback from functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``.

    Any of the hook names (``on_train_begin``, ``on_epoch_end``,
    ``on_train_batch_end``, ...) may be given.
    """

    def __init__(self, **hooks):
        super().__init__()
        for name, fn in hooks.items():
            if name not in HOOKS:
                raise ValueError(f"LambdaCallback received {name!r}, which is not a callback "
                                 f"hook (e.g. on_epoch_end, on_train_batch_end)")
            if fn is not None:
                setattr(self, name, fn)


class BackupAndRestore(Callback):
    """Resume a run that was interrupted (a crash, a killed job), as Keras's callback does.

    As each epoch begins, the whole training state — weights, optimizer state,
    History (every epoch so far), random generator — is saved to
    ``backup_dir/latest.glassnet`` (atomically).  When ``fit`` starts and a
    backup is there, the model is put back to it and training goes on from the
    epoch that was interrupted, with the same shuffles and dropout masks: the
    result is the one an uninterrupted run would have given.  When ``fit``
    completes (its last epoch, or stopped by a callback such as EarlyStopping, as
    in Keras), the backup is deleted (``delete_checkpoint``); after Ctrl-C or an
    error it stays, to be resumed.

    Parameters
    ----------
    backup_dir : str
    delete_checkpoint : bool, default True
    """

    def __init__(self, backup_dir, delete_checkpoint=True):
        super().__init__()
        self.backup_dir = os.fspath(backup_dir)
        self.path = os.path.join(self.backup_dir, "latest.glassnet")
        self.delete_checkpoint = delete_checkpoint
        self._completed = False

    def on_train_begin(self, logs=None):
        self._completed = False
        if os.path.exists(self.path):
            self.model.restore(self.path)
            self.model.resume_epoch = len(self.model.history.epoch)

    def on_epoch_begin(self, epoch, logs=None):
        os.makedirs(self.backup_dir, exist_ok=True)
        self.model.save(self.path)

    def on_epoch_end(self, epoch, logs=None):
        self._completed = epoch + 1 == self.params.get("epochs")

    def on_train_end(self, logs=None):
        # fit completed: it ran its last epoch, or a callback stopped it (EarlyStopping);
        # not after Ctrl-C or an error, the runs the backup is there to resume
        if (self._completed or self.model.stop_training) and self.delete_checkpoint \
                and os.path.exists(self.path):
            os.remove(self.path)


class TensorBoard(Callback):
    """Write the logs (and weight histograms) as event files that TensorBoard shows.

    As Keras's callback: ``log_dir/train`` gets each epoch's training values
    as ``epoch_<name>`` (``epoch_loss``, ``epoch_accuracy``, and
    ``epoch_learning_rate``), ``log_dir/validation`` the ``val_`` values
    under the same names, so TensorBoard draws the two runs on one chart.
    Then ``tensorboard --logdir log_dir``.

    Needs ``tensorboardX`` (``pip install glassnet[tensorboard]``), a small
    writer of TensorBoard's file format.

    Parameters
    ----------
    log_dir : str, default "logs"
    histogram_freq : int, default 0
        Every that many epochs, a histogram of each layer's weights
        (``<layer>/<array>``, e.g. ``dense/W``) in the training run; 0: none.
    update_freq : "epoch", "batch" or int, default "epoch"
        Also write ``batch_<name>`` values every batch (or every n batches),
        at the step count of the optimizer.
    """

    def __init__(self, log_dir="logs", histogram_freq=0, update_freq="epoch"):
        super().__init__()
        try:
            import tensorboardX  # noqa: F401
        except ImportError:
            raise ImportError("TensorBoard needs tensorboardX to write event files: "
                              "pip install 'glassnet[tensorboard]'") from None
        if isinstance(histogram_freq, bool) or not isinstance(histogram_freq, int) \
                or histogram_freq < 0:
            raise ValueError(f"TensorBoard histogram_freq must be an integer >= 0; received "
                             f"{histogram_freq!r}")
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and (isinstance(update_freq, bool)
                                       or not isinstance(update_freq, int) or update_freq < 1):
            raise ValueError(f"TensorBoard update_freq must be 'epoch', 'batch' or a positive "
                             f"integer; received {update_freq!r}")
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.update_freq = update_freq
        self._writers = {}
        if update_freq != "epoch":      # listen to the batches only when writing them
            self.on_train_batch_end = self._write_batch

    def _writer(self, run):
        if run not in self._writers:
            from tensorboardX import SummaryWriter
            self._writers[run] = SummaryWriter(os.path.join(self.log_dir, run))
        return self._writers[run]

    def _write_batch(self, batch, logs=None):
        step = self.model.optimizer.iterations
        if step % self.update_freq:
            return
        writer = self._writer("train")
        for key, value in (logs or {}).items():
            if key != "size" and isinstance(value, (int, float)):
                writer.add_scalar(f"batch_{key}", float(value), step)

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        logs.setdefault("learning_rate", self.model.optimizer.current_learning_rate())
        for key, value in logs.items():
            if not isinstance(value, (int, float)):
                continue
            run, name = ("validation", key[4:]) if key.startswith("val_") else ("train", key)
            self._writer(run).add_scalar(f"epoch_{name}", float(value), epoch)
        if self.histogram_freq and (epoch + 1) % self.histogram_freq == 0:
            writer = self._writer("train")
            for layer in self.model.layers:
                for name, array in zip(layer.param_names + layer.state_names, layer.weights):
                    writer.add_histogram(f"{layer.name}/{name}", array.ravel(), epoch)
        for writer in self._writers.values():
            writer.flush()

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}


class TerminateOnNaN(Callback):
    """Keras's TerminateOnNaN, which glassnet does always: a documented no-op.

    ``fit`` stops at the first NaN or infinite loss whatever the callbacks,
    restores the last weights whose loss was finite and raises
    :class:`glassnet.TrainingDiverged` (Keras's callback only stops).
    """


class ProgbarLogger(Callback):
    """Progress output: a live bar during each epoch on a terminal, then one line per epoch.

    The line shows every metric (the bar, which a narrow terminal would cut,
    shows the running loss only).

    The bar uses ``tqdm`` when it is installed (``pip install glassnet[cli]``);
    without it, or when the output is not a terminal, each epoch prints one line.

    Parameters
    ----------
    verbose : int
        0 silent, 1 progress bar (or one line per epoch), 2 one line per epoch.
    stream : file, default sys.stdout
    """

    def __init__(self, verbose=1, stream=None):
        super().__init__()
        self.verbose = verbose
        self.stream = stream or sys.stdout
        self._bar = None
        self._start = None
        self._use_bar = False

    def on_train_begin(self, logs=None):
        self._use_bar = False
        if self.verbose == 1 and getattr(self.stream, "isatty", lambda: False)():
            try:
                import tqdm  # noqa: F401
                self._use_bar = True
            except ImportError:
                pass

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()
        if self._use_bar:
            from tqdm import tqdm
            epochs = self.params.get("epochs", "?")
            self._bar = tqdm(total=self.params.get("samples"), unit="sample", leave=False,
                             desc=f"Epoch {epoch + 1}/{epochs}", file=self.stream,
                             dynamic_ncols=True)

    def on_batch_end(self, batch, logs=None):
        if self._bar is None:
            return
        self._bar.update(logs.get("size", 0))
        if batch % 10 == 0 and "loss" in logs:   # the batch logs' loss: the epoch's so far
            self._bar.set_postfix(loss=f"{logs['loss']:.4f}", refresh=False)

    def on_epoch_end(self, epoch, logs=None):
        elapsed = time.perf_counter() - self._start
        if self._bar is not None:       # the bar goes; a full line, every metric, stays
            self._bar.close()
            self._bar = None
        if self.verbose:
            epochs = self.params.get("epochs", "?")
            print(f"Epoch {epoch + 1}/{epochs} - {elapsed:.2f}s - {format_logs(logs or {})}",
                  file=self.stream, flush=True)

    def on_train_end(self, logs=None):
        if self._bar is not None:
            self._bar.close()
            self._bar = None


REGISTRY = Registry("callback", Callback,
                    {"history": History, "early_stopping": EarlyStopping,
                     "model_checkpoint": ModelCheckpoint,
                     "learning_rate_scheduler": LearningRateScheduler,
                     "reduce_lr_on_plateau": ReduceLROnPlateau, "csv_logger": CSVLogger,
                     "lambda_callback": LambdaCallback, "terminate_on_nan": TerminateOnNaN,
                     "backup_and_restore": BackupAndRestore,
                     "progbar_logger": ProgbarLogger, "tensor_board": TensorBoard},
                    aliases={"tensorboard": "tensor_board"})


class CallbackList:
    """Dispatches each event to the callbacks that listen to it (the others cost nothing)."""

    def __init__(self, callbacks, model, params):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            cb.set_model(model)
            cb.set_params(params)
        self.listeners = {hook: [getattr(cb, hook) for cb in self.callbacks if listens(cb, hook)]
                          for hook in HOOKS}
        self.wants_batches = bool(self.listeners["on_train_batch_begin"]
                                  or self.listeners["on_train_batch_end"])

    def _dispatch(self, event, *args):
        """Call every listener of ``event``; ``logs`` (the last argument) is always a dict."""
        listeners = self.listeners[event]
        if not listeners:
            return
        if args[-1] is None:
            args = args[:-1] + ({},)
        for hook in listeners:
            hook(*args)

    def on_train_begin(self, logs=None):
        self._dispatch("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._dispatch("on_train_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._dispatch("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._dispatch("on_epoch_end", epoch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._dispatch("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self._dispatch("on_train_batch_end", batch, logs)

    def on_test_begin(self, logs=None):
        self._dispatch("on_test_begin", logs)

    def on_test_end(self, logs=None):
        self._dispatch("on_test_end", logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._dispatch("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        self._dispatch("on_test_batch_end", batch, logs)

    def on_predict_begin(self, logs=None):
        self._dispatch("on_predict_begin", logs)

    def on_predict_end(self, logs=None):
        self._dispatch("on_predict_end", logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._dispatch("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._dispatch("on_predict_batch_end", batch, logs)
