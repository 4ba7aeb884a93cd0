"""One browser tab's lab: its data, its network, its training, and what the page is shown.

Nothing here knows about the web: the server (:mod:`glassnet.lab.app`) turns the
page's commands into calls of :class:`LabSession` and sends back its
:meth:`~LabSession.state`.  Training is glassnet's own ``fit`` (with the
test split as ``validation_data``), the click-a-point equations are
``model.trace``, and the download is ``model.save``: the lab shows the real
library at work.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tempfile
import threading
import time

import numpy as np

from .. import layers, losses, optimizers, regularizers
from ..datasets import catalog, train_test_split
from ..initializers import REGISTRY as INITIALIZERS
from ..model import TASKS, Sequential
from ..trainer import TrainingDiverged

__all__ = ["LabSession", "LabError", "DATASETS", "LIMITS"]

#: what the lab accepts, so that one tab cannot take the server down (nor slow the others):
#: every update of the page is then built in bounded time and has a bounded size
LIMITS = {"layers": 6, "units": 64, "params": 200_000, "upload_bytes": 5_000_000,
          "rows": 20_000, "batch_size": 4096, "classes": 100, "epoch_steps": 2_000}
#: a confusion matrix of more classes is sent as a summary (the worst classes, the most
#: frequent confusions), not as k × k numbers
FULL_CONFUSION = 30
#: the neurons drawn per layer (the page draws the first ones; only those are sent)
DRAWN = 8
#: the loss curves sent: at most this many epochs, evenly spread over the whole run
CURVE_POINTS = 300
#: data sets of the lab: name → (kind, loader(n, noise, seed))
DATASETS = {
    "xor": "points", "and": "gate", "or": "gate", "nand": "gate", "circles": "points",
    "blobs": "points", "spirals": "points", "image2x2": "table", "linear": "function",
    "cubic": "function", "digits": "table", "csv": "upload"}
GRID = 48            # decision-region resolution
NEURON_GRID = 16     # each neuron's small heatmap
HIDDEN_ACTIVATIONS = ["tanh", "relu", "sigmoid", "leaky_relu", "elu", "softplus", "swish",
                      "linear"]


class LabError(ValueError):
    """Something the page asked for that the lab refuses; the message is shown in the page."""


DEFAULTS = {"data": "xor", "noise": 0.1, "test_ratio": 0.2, "points": 500, "label": "0",
            "layers": [{"units": 4, "activation": "tanh"}], "initializer": "glorot_uniform",
            "loss": "auto", "optimizer": "adam", "learning_rate": 0.03, "batch_size": 10,
            "l2": 0.0, "dropout": 0.0, "seed": 0}
#: the losses each task can train with ("auto": the first)
TASK_LOSSES = {"binary": ("binary_crossentropy", "mse", "mae"),
               "multiclass": ("sparse_categorical_crossentropy",),
               "regression": ("mse", "mae")}


class LabSession:
    """The lab of one tab.  Thread-safe: training runs in a worker thread."""

    def __init__(self, settings=None, model=None):
        self.settings = dict(DEFAULTS)
        self.lock = threading.Lock()
        self.upload_text = self.upload_name = None
        self.message = None
        self.steps = 0
        self.playing = False
        self.configure(settings or {})
        if model is not None:
            self.adopt(model)

    # -- configuration --------------------------------------------------------------------
    def configure(self, changes, new_data=False):
        """Apply the page's changes (validated); rebuild the data and/or the network."""
        changes = dict(changes)
        s = dict(self.settings)
        for key, value in changes.items():
            if key not in DEFAULTS:
                raise LabError(f"unknown setting {key!r}")
            s[key] = value
        s = _validated(s)
        with self.lock:
            data_changed = new_data or not hasattr(self, "x_train") or any(
                s[k] != self.settings[k] for k in ("data", "noise", "test_ratio", "points",
                                                   "label"))
            before = dict(self.__dict__)          # all or nothing: a refusal changes nothing
            try:
                self.settings = s
                if data_changed:
                    self._build_data()
                self._build_model()
            except BaseException:
                self.__dict__.update(before)
                raise
        return data_changed

    def upload(self, name, text):
        """A CSV file from the page: checked, then used as the data set."""
        if not isinstance(text, str):
            raise LabError(f"an upload carries the file's text as a string; received "
                           f"{type(text).__name__}")
        size = len(text.encode("utf-8"))
        if size > LIMITS["upload_bytes"]:
            raise LabError(f"the file has {size:,} bytes, more than the lab's limit of "
                           f"{LIMITS['upload_bytes'] // 1_000_000} MB")
        if not text.strip():
            raise LabError(f"{str(name)[:100]!r} is empty; expected a CSV file: a header line "
                           f"(optional), then rows of numbers and a label column")
        previous = (self.upload_name, self.upload_text)
        self.upload_name, self.upload_text = str(name)[:100], text
        try:
            self.configure({"data": "csv"}, new_data=True)
        except (LabError, ValueError) as exc:
            self.upload_name, self.upload_text = previous
            raise LabError(str(exc)) from None

    def adopt(self, model):
        """Use a model given from Python (``glassnet.lab.serve(model=...)``)."""
        if not model.built or model.input_dim != self.x_train.shape[1]:
            raise LabError("the given model does not take this data set's inputs")
        with self.lock:
            self.model = model

    # -- data ---------------------------------------------------------------------------------
    def _build_data(self):
        """The data set from glassnet's catalog (or the uploaded file), split and scaled."""
        s = self.settings
        self.note = None
        if s["data"] == "csv":
            data = self._uploaded()
        else:
            data = catalog.load(s["data"], seed=s["seed"], test_size=s["test_ratio"],
                                points=s["points"], noise=s["noise"])
        self.x_train, self.y_train = data.x_train.astype(np.float32), data.y_train
        self.x_test, self.y_test = data.x_test.astype(np.float32), data.y_test
        if data.task == "regression" and self.y_train.ndim == 1:
            self.y_train, self.y_test = self.y_train[:, None], self.y_test[:, None]
        if len(self.x_train) + len(self.x_test) > LIMITS["rows"]:
            raise LabError(f"{len(self.x_train) + len(self.x_test)} rows: the lab takes at most "
                           f"{LIMITS['rows']}")
        _check_split(self.x_train, self.y_train, self.x_test, data, s["test_ratio"])
        self.task, self.n_outputs = data.task, data.n_outputs
        self.class_names = data.labels or None
        self.pixel_shape = {"digits": (8, 8), "image2x2": (2, 2)}.get(s["data"])
        self.front, _ = catalog.scaling_layers(data, data.scale, self.x_train)
        self.revision = getattr(self, "revision", 0) + 1

    def _uploaded(self):
        """The uploaded file: read with glassnet's own CSV reader, its classes checked before
        the (stratified) split, which is the one ``catalog.load`` makes of the same file."""
        if self.upload_text is None:
            raise LabError("upload a CSV file first")
        text, label = self.upload_text, _column(self.settings["label"])
        first = text.lstrip("\ufeff").split("\n", 1)[0].strip()
        fields = [f.strip().strip('"') for f in first.split(",")]
        if isinstance(label, int) and -len(fields) <= label < len(fields) and len(fields) > 1 \
                and all(_is_number(f) for i, f in enumerate(fields)
                        if i != label % len(fields)):
            # the first line is data (all numbers but perhaps the label): the file has no
            # header, and the lab says so rather than taking a row of data as column names
            if not _is_number(fields[label % len(fields)]):
                text = ",".join(f"column {i}" for i in range(len(fields))) + "\n" + text
                self.note = (f"{self.upload_name!r} has no header line: its first line is "
                             f"data, and its columns are numbered 0 to {len(fields) - 1}")
        with tempfile.TemporaryDirectory() as tmp:       # named as uploaded, for messages
            safe = "".join(c for c in os.path.basename(self.upload_name or "upload.csv")
                           if c.isalnum() or c in "._-") or "upload.csv"
            path = os.path.join(tmp, safe)
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
            try:
                data = catalog.load(path, seed=self.settings["seed"], test_size=0, label=label)
            except ValueError as exc:           # the page knows the file by its own name
                raise LabError(str(exc).replace(repr(path), repr(self.upload_name))) from None
        if len(data.labels) > LIMITS["classes"]:
            raise LabError(f"the label column {label!r} of {self.upload_name!r} has "
                           f"{len(data.labels):,} classes; the lab takes at most "
                           f"{LIMITS['classes']} (is it the right column?)")
        ratio = self.settings["test_ratio"]
        if data.labels and ratio:
            counts = np.bincount(data.y_train, minlength=len(data.labels))
            n_test = round(ratio * len(data.y_train))
            tests = np.round(counts * n_test / len(data.y_train))
            few = np.flatnonzero((tests == 0) | (tests == counts))
            if len(few):
                listed = ", ".join(f"{data.labels[k]!r} ({_rows(counts[k])})" for k in few[:5])
                need = math.ceil(0.5 / ratio) if ratio < 0.5 else 2
                raise LabError(
                    f"{len(few)} classes of {self.upload_name!r} are too small to be both "
                    f"trained and tested with a test fraction of {ratio:g}: {listed}"
                    f"{', ...' if len(few) > 5 else ''}; each class needs at least about "
                    f"{need} rows (merge or drop the small ones, or change the test fraction)")
        if not ratio:
            return data
        try:
            x_tr, x_te, y_tr, y_te = train_test_split(     # catalog.load's split, exactly
                data.x_train, data.y_train, test_size=ratio, seed=self.settings["seed"],
                stratify=data.y_train if data.labels else None)
        except ValueError as exc:
            raise LabError(f"{self.upload_name!r} cannot be split with a test fraction of "
                           f"{ratio:g}: {exc}") from None
        return dataclasses.replace(data, x_train=x_tr, y_train=y_tr, x_test=x_te, y_test=y_te)

    # -- network ------------------------------------------------------------------------------
    def _build_model(self):
        s = self.settings
        output, loss, metrics = TASKS[self.task]
        if s["loss"] != "auto":
            if s["loss"] not in TASK_LOSSES[self.task]:
                raise LabError(f"{s['loss']} does not fit this data set; choose one of "
                               f"{', '.join(TASK_LOSSES[self.task])}")
            loss = s["loss"]
        reg = regularizers.L2(s["l2"]) if s["l2"] else None
        stack = list(_clone(self.front))
        for spec in s["layers"]:
            stack.append(layers.Dense(spec["units"], spec["activation"],
                                      kernel_initializer=s["initializer"],
                                      kernel_regularizer=reg))
            if s["dropout"]:
                stack.append(layers.Dropout(s["dropout"]))
        stack.append(layers.Dense(self.n_outputs, output, kernel_initializer=s["initializer"]))
        model = Sequential(stack, seed=s["seed"])
        steps = math.ceil(len(self.x_train) / min(s["batch_size"], len(self.x_train)))
        if steps > LIMITS["epoch_steps"]:
            raise LabError(f"a batch size of {s['batch_size']} makes an epoch of {steps:,} steps "
                           f"on {len(self.x_train):,} training rows; the lab takes at most "
                           f"{LIMITS['epoch_steps']:,} steps per epoch (a batch size of at least "
                           f"{math.ceil(len(self.x_train) / LIMITS['epoch_steps'])}), so that "
                           f"every tab stays responsive")
        model.build(self.x_train.shape[1])
        if model.count_params() > LIMITS["params"]:
            raise LabError(f"this network has {model.count_params():,} weights; the lab's limit "
                           f"is {LIMITS['params']:,}")
        optimizer = optimizers.get(s["optimizer"])
        optimizer.learning_rate = s["learning_rate"]
        model.compile(optimizer, losses.get(loss), metrics)
        model.class_names = self.class_names
        self.model, self.steps, self.message, self.playing = model, 0, None, False

    # -- training -----------------------------------------------------------------------------
    def train(self, seconds=0.04, epochs=None):
        """Train with ``fit`` for about ``seconds`` (or exactly ``epochs``); returns steps taken."""
        taken = 0
        with self.lock:
            model = self.model
            validation = (self.x_test, self.y_test) if len(self.x_test) else None
            deadline = time.perf_counter() + seconds
            batch = min(self.settings["batch_size"], len(self.x_train))
            per_epoch = math.ceil(len(self.x_train) / batch)
            while True:
                before = model.optimizer.iterations
                try:
                    model.fit(self.x_train, self.y_train, batch_size=batch, epochs=1,
                              validation_data=validation, verbose=0)
                except TrainingDiverged as exc:
                    self.playing = False
                    self.message = (f"Training diverged ({exc}). Lower the learning rate and "
                                    f"press play again.")
                    break
                taken += model.optimizer.iterations - before
                if epochs is not None:
                    if taken >= epochs * per_epoch:
                        break
                elif time.perf_counter() >= deadline:
                    break
            self.steps += taken
        return taken

    # -- what the page shows ------------------------------------------------------------------
    def data_view(self):
        """The data points (sent when the data set changes)."""
        view = {"type": "data", "revision": self.revision, "task": self.task,
                "inputs": int(self.x_train.shape[1]), "class_names": self.class_names,
                "pixel_shape": self.pixel_shape, "settings": self.settings,
                "limits": LIMITS, "activations": HIDDEN_ACTIVATIONS,
                "losses": ["auto", *TASK_LOSSES[self.task]],
                "optimizers": optimizers.names(), "note": self.note}
        if self.x_train.shape[1] <= 2:
            view["train"] = _points(self.x_train, self.y_train)
            view["test"] = _points(self.x_test, self.y_test)
            both = np.concatenate([self.x_train, self.x_test])
            if both.shape[1] == 1:                  # a function: x, and y of the data
                both = np.column_stack([both, np.concatenate([self.y_train, self.y_test])])
            lo, hi = both.min(axis=0), both.max(axis=0)
            pad = 0.1 * np.where(hi > lo, hi - lo, 1.0)
            view["bounds"] = [float(v) for v in np.concatenate([lo - pad, hi + pad])]
        return view

    def state(self):
        """Curves, regions, neurons, weights: one update of the page.

        Its size and the work to build it are bounded whatever the data: at most
        :data:`CURVE_POINTS` epochs of each curve, the first :data:`DRAWN` neurons of each
        layer, a confusion matrix of at most :data:`FULL_CONFUSION` classes (a summary
        beyond), 12 misclassified examples.
        """
        with self.lock:
            model = self.model
            view = {"type": "state", "steps": self.steps, "epoch": len(model.history.epoch),
                    "playing": self.playing, "message": self.message,
                    **_curves(model.history.history), "network": self._network_view()}
            inputs = self.x_train.shape[1]
            if inputs == 2:
                view.update(self._regions())
            elif inputs == 1:
                view.update(self._curve())
            elif self.task != "regression" and len(self.x_test):
                view.update(self._confusion())
            elif len(self.x_test):
                view.update(self._fit())
        return view

    def _network_view(self):
        dense = [layer for layer in self.model.layers if layer.kernel is not None]
        return {"sizes": [int(dense[0].input_dim)] + [int(layer.output_dim) for layer in dense],
                "activations": [layer.activation.name for layer in dense],
                "largest": max(float(np.abs(layer.kernel).max()) for layer in dense),
                "weights": [np.round(layer.kernel[:DRAWN, :DRAWN], 3).tolist()
                            for layer in dense]}

    def _grid(self, size):
        lo = self.x_train.min(axis=0) if not len(self.x_test) else np.minimum(
            self.x_train.min(axis=0), self.x_test.min(axis=0))
        hi = np.maximum(self.x_train.max(axis=0), self.x_test.max(axis=0)) \
            if len(self.x_test) else self.x_train.max(axis=0)
        pad = 0.1 * np.where(hi > lo, hi - lo, 1.0)
        axes = [np.linspace(lo[i] - pad[i], hi[i] + pad[i], size) for i in range(2)]
        xx, yy = np.meshgrid(axes[0], axes[1][::-1])        # top row first: an image
        return np.column_stack([xx.ravel(), yy.ravel()]).astype(np.float32)

    def _regions(self):
        model = self.model
        out = model.predict(self._grid(GRID))
        if out.shape[1] == 1:
            values = np.clip(out[:, 0], 0, 1) * 255
        else:
            values = out.argmax(axis=1) * 255 // max(out.shape[1] - 1, 1)
        model.forward(self._grid(NEURON_GRID))              # every neuron, by its record
        neurons = []
        for layer in model.layers:
            if layer.kernel is None:
                continue
            a = layer.output
            scale = max(float(np.abs(a).max()), 1e-6)
            neurons.append([(np.round(a[:, j] / scale * 127)).astype(int).tolist()
                            for j in range(min(a.shape[1], DRAWN))])
        return {"regions": values.astype(int).tolist(), "grid": GRID,
                "neurons": neurons, "neuron_grid": NEURON_GRID,
                "classes": int(max(out.shape[1], 2))}

    def _curve(self):
        lo, hi = float(self.x_train.min()), float(self.x_train.max())
        xs = np.linspace(lo, hi, 120, dtype=np.float32)[:, None]
        return {"curve": {"x": xs[:, 0].round(4).tolist(),
                          "y": self.model.predict(xs)[:, 0].round(4).tolist()}}

    def _fit(self):
        """A regression of many inputs: the network's prediction against the target, for (up
        to 300 of) the test rows."""
        rows = self.x_test[:300]
        return {"fit": {"target": np.round(self.y_test[:300, 0], 4).tolist(),
                        "predicted": np.round(self.model.predict(rows)[:, 0], 4).tolist()}}

    def _confusion(self):
        out = self.model.predict(self.x_test)
        predicted = out.argmax(axis=1) if out.shape[1] > 1 else (out[:, 0] > 0.5).astype(int)
        truth = (self.y_test if self.y_test.ndim == 1 else self.y_test[:, 0] > 0.5).astype(int)
        k = max(out.shape[1], 2)
        matrix = np.bincount(truth * k + predicted, minlength=k * k).reshape(k, k)
        view = {"accuracy": float(np.trace(matrix) / max(len(truth), 1)), "classes": k}
        if k <= FULL_CONFUSION:
            view["confusion"] = matrix.tolist()
        else:                       # k × k numbers would not be read: what goes wrong most
            rows = matrix.sum(axis=1)
            recall = np.diag(matrix) / np.maximum(rows, 1)
            worst = np.argsort(recall, kind="stable")[:10]
            off = matrix - np.diag(np.diag(matrix))
            pairs = np.argsort(off.ravel(), kind="stable")[::-1][:10]
            view["confusion_summary"] = {
                "worst": [{"class": int(c), "recall": float(recall[c]), "rows": int(rows[c])}
                          for c in worst],
                "confused": [{"truth": int(p // k), "predicted": int(p % k),
                              "count": int(off.ravel()[p])} for p in pairs if off.ravel()[p]]}
        wrong = np.flatnonzero(predicted != truth)[:12]
        view["misclassified"] = [
            {"index": int(i), "truth": int(truth[i]), "predicted": int(predicted[i]),
             **({"pixels": np.round(self.x_test[i], 3).tolist()} if self.pixel_shape else
                {"features": np.round(self.x_test[i, :6].astype(float), 3).tolist()})}
            for i in wrong]
        return view

    # -- the glass box ------------------------------------------------------------------------
    def trace(self, split, index):
        """``model.trace`` of one data point, as the page shows it."""
        x, y = (self.x_train, self.y_train) if split == "train" else (self.x_test, self.y_test)
        if not isinstance(index, int) or not 0 <= index < len(x):
            raise LabError(f"there is no {split} point {index!r}")
        with self.lock:
            tr = self.model.trace(x[index], y[index])
        return {"type": "trace", "split": split, "index": index,
                "x": x[index].tolist(), "target": np.asarray(y[index]).tolist(),
                "loss": tr.loss, "loss_name": tr.loss_name, "output": tr.output.tolist(),
                "layers": [{"title": lt.title,
                            "forward": [_step(s) for s in lt.forward],
                            "backward": [_step(s) for s in lt.backward]} for lt in tr.layers]}

    # -- take it home -------------------------------------------------------------------------
    def model_bytes(self):
        with self.lock, tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "lab.glassnet")
            self.model.save(path)
            with open(path, "rb") as handle:
                return handle.read()

    def snippet(self):
        """Python that rebuilds and trains the same network with the same settings."""
        s = self.settings
        output, loss, metrics = TASKS[self.task]
        loss = loss if s["loss"] == "auto" else s["loss"]
        if s["data"] == "csv":
            source = (f"{self.upload_name!r}, label={_column(s['label'])!r}, "
                      f"seed={s['seed']}, test_size={s['test_ratio']}")
        else:
            source = (f"{s['data']!r}, seed={s['seed']}, test_size={s['test_ratio']}, "
                      f"points={s['points']}, noise={s['noise']}")
        front = "".join(f"    {_layer_code(layer)},\n" for layer in self.front)
        reg = f", kernel_regularizer=gn.regularizers.l2({s['l2']})" if s["l2"] else ""
        hidden = ""
        for spec in s["layers"]:
            hidden += (f"    gn.Dense({spec['units']}, {spec['activation']!r}, kernel_initializer="
                       f"{s['initializer']!r}{reg}),\n")
            if s["dropout"]:
                hidden += f"    gn.Dropout({s['dropout']}),\n"
        validation = ", validation_data=(data.x_test, data.y_test)" if len(self.x_test) else ""
        return (f"import glassnet as gn\n\n"
                f"data = gn.datasets.catalog.load({source})   # the lab's data, split the same\n"
                f"model = gn.Sequential([\n{front}{hidden}"
                f"    gn.Dense({self.n_outputs}, {output!r}, kernel_initializer="
                f"{s['initializer']!r}),\n], seed={s['seed']})\n"
                f"optimizer = gn.optimizers.get({s['optimizer']!r})\n"
                f"optimizer.learning_rate = {s['learning_rate']}\n"
                f"model.compile(optimizer, {loss!r}, {metrics!r})\n"
                f"model.fit(data.x_train, data.y_train, batch_size={s['batch_size']}, "
                f"epochs=100{validation}, verbose=1)\n")


def _validated(s):
    """Settings as the lab can use them, or a LabError saying what is wrong."""
    if s["data"] not in DATASETS:
        raise LabError(f"unknown data set {s['data']!r}; the lab has {', '.join(DATASETS)}")
    number = {"noise": (0.0, 2.0), "test_ratio": (0.0, 0.9), "learning_rate": (0.0, 10.0),
              "l2": (0.0, 1.0), "dropout": (0.0, 0.9)}
    for key, (low, high) in number.items():
        try:
            s[key] = float(s[key])
        except (TypeError, ValueError):
            raise LabError(f"{key} must be a number; received "
                           f"{'nothing' if s[key] is None else repr(s[key])}") from None
        if not low <= s[key] <= high:
            raise LabError(f"{key} must be between {low} and {high}; received {s[key]}")
    for key, (low, high) in {"points": (8, LIMITS["rows"]),
                             "batch_size": (1, LIMITS["batch_size"]),
                             "seed": (0, 2 ** 31)}.items():
        if isinstance(s[key], bool) or not isinstance(s[key], int) or not low <= s[key] <= high:
            raise LabError(f"{key} must be a whole number from {low} to {high}; received "
                           f"{s[key]!r}")
    hidden = s["layers"]
    if not isinstance(hidden, list) or len(hidden) > LIMITS["layers"]:
        raise LabError(f"the lab takes up to {LIMITS['layers']} hidden layers")
    clean = []
    for spec in hidden:
        units = spec.get("units") if isinstance(spec, dict) else None
        act = spec.get("activation") if isinstance(spec, dict) else None
        if isinstance(units, bool) or not isinstance(units, int) \
                or not 1 <= units <= LIMITS["units"]:
            raise LabError(f"a layer has 1 to {LIMITS['units']} neurons; received {units!r}")
        if act not in HIDDEN_ACTIVATIONS:
            raise LabError(f"unknown activation {act!r}")
        clean.append({"units": units, "activation": act})
    s["layers"] = clean
    if s["loss"] != "auto" and s["loss"] not in losses.names():
        raise LabError(f"unknown loss {s['loss']!r}")
    if s["optimizer"] not in optimizers.names():
        raise LabError(f"unknown optimizer {s['optimizer']!r}")
    try:
        INITIALIZERS.lookup(str(s["initializer"]))
    except ValueError as exc:
        raise LabError(str(exc)) from None
    s["label"] = str(s["label"])[:100]
    return s


def _check_split(x_train, y_train, x_test, data, ratio):
    """Refuse a split that cannot train (no training rows, a class never trained on) or
    that silently tests on nothing."""
    n = len(x_train) + len(x_test)
    if len(x_train) < 2 or (ratio and not len(x_test)):
        raise LabError(f"a test fraction of {ratio:g} of {n} rows leaves {len(x_train)} "
                       f"training and {len(x_test)} test rows; choose a test fraction (or a "
                       f"number of points) that leaves at least 2 training rows and 1 test row")
    if data.task == "multiclass":
        missing = np.setdiff1d(np.arange(data.n_outputs), y_train)
        if len(missing):
            names = [data.labels[k] if data.labels else str(k) for k in missing[:5]]
            raise LabError(f"with a test fraction of {ratio:g} of {n} rows, the classes "
                           f"{', '.join(map(repr, names))} have no training rows; lower the "
                           f"test fraction or use more points")


def _rows(n):
    return f"{n} row" if n == 1 else f"{n} rows"


def _is_number(text):
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _column(text):
    return int(text) if text.lstrip("-").isdigit() else text


def _clone(front):
    return [layers.deserialize(layers.serialize(layer)) for layer in front]


def _layer_code(layer):
    if isinstance(layer, layers.Normalization):        # adapted to the training rows again
        return "gn.Normalization().adapt(data.x_train)"
    args = ", ".join(f"{k}={v!r}" for k, v in layer.get_config().items())
    return f"gn.layers.{type(layer).__name__}({args})"


def _curves(history):
    """The loss and metric per epoch, training and test; long runs evenly thinned to
    :data:`CURVE_POINTS` epochs (the first and the last always kept)."""
    n = len(history.get("loss", ()))
    chosen = np.unique(np.linspace(0, n - 1, CURVE_POINTS).round().astype(int)) \
        if n > CURVE_POINTS else range(n)
    return {"history": {key: [round(float(values[i]), 6) for i in chosen if i < len(values)]
                        for key, values in history.items() if key != "learning_rate"},
            "history_epochs": [int(i) + 1 for i in chosen]}


def _points(x, y):
    labels = y[:, 0] if y.ndim == 2 else y
    return {"x": np.round(x[:, 0], 4).tolist(),
            "y": np.round(x[:, 1], 4).tolist() if x.shape[1] > 1 else
            np.round(labels, 4).tolist(),
            "label": np.round(labels, 4).tolist()}


def _step(step):
    value = np.asarray(step.value, dtype=np.float64)
    text = np.array2string(np.round(value, 4) + 0.0, precision=4, suppress_small=True,
                           max_line_width=80, threshold=60)
    return {"label": step.label, "formula": step.formula, "text": text,
            "shape": list(value.shape)}
