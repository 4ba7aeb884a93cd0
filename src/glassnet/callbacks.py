"""Callbacks: code that runs at fixed points of ``fit``.

``fit`` calls, with a ``logs`` dict of the latest numbers:

    on_train_begin
      on_epoch_begin(epoch)
        on_batch_begin(batch) / on_batch_end(batch, logs={"loss", "size"})
      on_epoch_end(epoch, logs={"loss", metrics..., "val_loss", ...})
    on_train_end

A callback can stop training by setting ``self.model.stop_training = True``.
"""

from __future__ import annotations

import os
import sys
import time

from ._registry import Registry
from ._text import format_logs

__all__ = ["Callback", "History", "EarlyStopping", "ModelCheckpoint", "LearningRateScheduler",
           "ProgbarLogger"]


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


def overrides_batch_hooks(callback):
    """True if the callback does anything per batch (else fit skips those calls)."""
    cls = type(callback)
    return cls.on_batch_begin is not Callback.on_batch_begin \
        or cls.on_batch_end is not Callback.on_batch_end


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

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def restore(self, saved):
        """Put back what a model file saved: ``{"history": {...}, "epoch": [...]}``.

        Raises ValueError unless every list holds one number per epoch.
        """
        history, epoch = saved.get("history", {}), saved.get("epoch", [])
        if not isinstance(history, dict) or not isinstance(epoch, list) or not all(
                isinstance(e, int) and not isinstance(e, bool) and 0 <= e < 2 ** 53
                for e in epoch):
            raise ValueError("the history must be {name: [one number per epoch]} with "
                             "non-negative integer epochs")
        for key, values in history.items():
            if not isinstance(values, list) or len(values) != len(epoch) or not all(
                    isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
                raise ValueError(f"the history of {key!r} must hold one number for each of "
                                 f"the {len(epoch)} epochs")
        self.history = {str(k): [float(v) for v in values] for k, values in history.items()}
        self.epoch = list(epoch)

    def __repr__(self):
        last = {k: round(v[-1], 6) for k, v in self.history.items() if v}
        return f"History(epochs={len(self.epoch)}, last={last})"


class EarlyStopping(Callback):
    """Stop when a monitored number has stopped improving.

    Parameters
    ----------
    monitor : str, default "val_loss"
        A key of the epoch logs.
    patience : int, default 0
        Epochs without improvement to wait before stopping.
    min_delta : float, default 0
        Smaller changes do not count as improvement.
    mode : {"auto", "min", "max"}
        Whether lower or higher is better; "auto" says higher for names
        containing "acc".
    restore_best_weights : bool, default True
        Put back the weights of the best epoch when training ends, however it
        ends (early stop, last epoch, Ctrl-C).
    """

    def __init__(self, monitor="val_loss", patience=0, min_delta=0.0, mode="auto",
                 restore_best_weights=True):
        super().__init__()
        if int(patience) < 0:
            raise ValueError(f"EarlyStopping patience must be >= 0, received {patience!r}")
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"EarlyStopping mode must be 'auto', 'min' or 'max', received {mode!r}")
        self.monitor = monitor
        self.patience = int(patience)
        self.min_delta = abs(float(min_delta))
        if mode == "auto":
            mode = "max" if "acc" in monitor else "min"
        self.mode = mode
        self.restore_best_weights = restore_best_weights
        self.best = None
        self.best_weights = None
        self.best_epoch = None
        self.stopped_epoch = None
        self.wait = 0

    def _improved(self, value):
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_train_begin(self, logs=None):
        self.best, self.best_weights, self.best_epoch = None, None, None
        self.wait, self.stopped_epoch = 0, None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.monitor not in logs:
            raise ValueError(f"EarlyStopping monitors {self.monitor!r}, which is not among the "
                             f"logged values {sorted(logs)}; pass validation data for 'val_' "
                             f"values")
        value = logs[self.monitor]
        if self._improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.variables.copy()
        else:
            self.wait += 1
            if self.wait > self.patience:
                self.stopped_epoch = epoch
                self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            self.model.variables[...] = self.best_weights


class ModelCheckpoint(Callback):
    """Save the model after each epoch (or only when ``monitor`` improves).

    Parameters
    ----------
    filepath : str
        May contain ``{epoch}`` and log keys, e.g. ``"model-{epoch:02d}-{val_loss:.3f}.npz"``.
    monitor : str, default "val_loss"
    save_best_only : bool, default False
    mode : {"auto", "min", "max"}
    """

    def __init__(self, filepath, monitor="val_loss", save_best_only=False, mode="auto"):
        super().__init__()
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.save_best_only = save_best_only
        if mode == "auto":
            mode = "max" if "acc" in monitor else "min"
        self.mode = mode
        self.best = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.save_best_only:
            value = logs.get(self.monitor)
            if value is None:
                raise ValueError(f"ModelCheckpoint monitors {self.monitor!r}, which is not among "
                                 f"the logged values {sorted(logs)}")
            better = self.best is None or (value < self.best if self.mode == "min"
                                           else value > self.best)
            if not better:
                return
            self.best = value
        self.model.save(self.filepath.format(epoch=epoch + 1, **logs))


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch: ``lr = schedule(epoch, lr)``."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        lr = float(self.schedule(epoch, optimizer.current_learning_rate()))
        optimizer.learning_rate = lr
        if self.verbose:
            print(f"Epoch {epoch + 1}: learning rate {lr:.6g}")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["lr"] = self.model.optimizer.current_learning_rate()


class ProgbarLogger(Callback):
    """Progress output: a live bar per epoch on a terminal, one plain line otherwise.

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
        self._seen = 0
        self._loss_sum = 0.0
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
        self._seen, self._loss_sum = 0, 0.0
        if self._use_bar:
            from tqdm import tqdm
            epochs = self.params.get("epochs", "?")
            self._bar = tqdm(total=self.params.get("samples"), unit="sample", leave=True,
                             desc=f"Epoch {epoch + 1}/{epochs}", file=self.stream,
                             dynamic_ncols=True)

    def on_batch_end(self, batch, logs=None):
        if self._bar is None:
            return
        size = logs.get("size", 0)
        self._seen += size
        self._loss_sum += logs.get("loss", 0.0) * size
        self._bar.update(size)
        if batch % 10 == 0:
            self._bar.set_postfix(loss=f"{self._loss_sum / max(self._seen, 1):.4f}",
                                  refresh=False)

    def on_epoch_end(self, epoch, logs=None):
        elapsed = time.perf_counter() - self._start
        text = format_logs(logs or {})
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=True)
            self._bar.close()
            self._bar = None
        elif self.verbose:
            epochs = self.params.get("epochs", "?")
            print(f"Epoch {epoch + 1}/{epochs} - {elapsed:.2f}s - {text}", file=self.stream,
                  flush=True)

    def on_train_end(self, logs=None):
        if self._bar is not None:
            self._bar.close()
            self._bar = None


REGISTRY = Registry("callback", Callback,
                    {"history": History, "early_stopping": EarlyStopping,
                     "model_checkpoint": ModelCheckpoint,
                     "learning_rate_scheduler": LearningRateScheduler,
                     "progbar_logger": ProgbarLogger})


class CallbackList:
    """Dispatches each event to every callback (and skips per-batch work when none need it)."""

    def __init__(self, callbacks, model, params):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            cb.set_model(model)
            cb.set_params(params)
        self.wants_batches = any(overrides_batch_hooks(cb) for cb in self.callbacks)

    def _dispatch(self, event, *args):
        for cb in self.callbacks:
            getattr(cb, event)(*args)

    def on_train_begin(self, logs=None):
        self._dispatch("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self._dispatch("on_train_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._dispatch("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._dispatch("on_epoch_end", epoch, logs)

    def on_batch_begin(self, batch, logs=None):
        if self.wants_batches:
            self._dispatch("on_batch_begin", batch, logs)

    def on_batch_end(self, batch, logs=None):
        if self.wants_batches:
            self._dispatch("on_batch_end", batch, logs)
