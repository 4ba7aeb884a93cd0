"""Metrics: numbers reported during training that are not (necessarily) the loss.

A metric is *stateful*, as in Keras: it accumulates what it needs over the
batches of an epoch and computes its value from all of them at the end, so
the figure for an epoch is the figure for all its samples (not a mean of
per-batch figures, which differs for precision, AUC, R²...):

    metric.reset_state()                              at the start of an epoch
    metric.update_state(y_true, y_pred, sample_weight)    after each batch
    metric.result()                                   the value so far

Calling ``metric(y_true, y_pred)`` gives the value on those samples alone
and leaves the state as it was (Keras's call would also update the state).

Most metrics are the weighted mean of a per-sample number ``v_i`` (a
subclass defines :meth:`Metric.per_sample`, and that is all it needs)::

    result = Σ w_i v_i / Σ w_i          (state: total = Σ w_i v_i, count = Σ w_i)

The others keep counts.  The *confusion* metrics (TruePositives, Precision,
Recall, AUC...) treat every output as a yes/no prediction ``ŷ > t`` for
each threshold t and count, with weights:

=====  =========================  =====  =========================
TP     y = 1 and ŷ > t            FP     y = 0 and ŷ > t
FN     y = 1 and ŷ ≤ t            TN     y = 0 and ŷ ≤ t
=====  =========================  =====  =========================

``precision = TP / (TP + FP)``, ``recall = TP / (TP + FN)`` (0 when the
denominator is 0, as Keras's ``divide_no_nan``), and AUC sums the area under
the curve those counts trace over 200 thresholds (see :class:`AUC`).

``"accuracy"`` (or ``"acc"``) picks the right variant from the loss and the
output width, as Keras does:

* binary (one sigmoid output, or binary cross-entropy): ``ŷ > 0.5`` vs ``y``;
* sparse (integer labels): ``argmax ŷ == y``;
* categorical (one-hot targets): ``argmax ŷ == argmax y``.

A metric given by name is logged under that name as written
(``metrics=["mean_absolute_error"]`` logs ``"mean_absolute_error"``, ``"mae"``
logs ``"mae"``); an object under its ``name``.

A metric of your own subclasses :class:`Metric`: either define
``per_sample(y_true, y_pred)`` (then it is the weighted mean of that), or
create its state with :meth:`Metric.add_variable` in ``__init__`` and define
``update_state`` and ``result``.  Register it (``glassnet.register``) so
that saved models that use it load.
"""

from __future__ import annotations

import math

import numpy as np

from . import losses
from ._registry import Registry

__all__ = ["Metric", "MeanMetricWrapper", "Mean", "Sum", "BinaryAccuracy", "CategoricalAccuracy",
           "SparseCategoricalAccuracy", "TopKCategoricalAccuracy",
           "SparseTopKCategoricalAccuracy", "BinaryCrossentropy", "CategoricalCrossentropy",
           "SparseCategoricalCrossentropy", "MeanSquaredError", "RootMeanSquaredError",
           "MeanAbsoluteError", "MeanAbsolutePercentageError", "TruePositives",
           "FalsePositives", "TrueNegatives", "FalseNegatives", "Precision", "Recall", "AUC",
           "F1Score", "FBetaScore", "R2Score", "get", "names", "serialize"]

#: Keras's ``backend.epsilon()``: the guard in MAPE's, F-score's and AUC's formulas
EPSILON = 1e-7
#: the most thresholds a confusion metric keeps (4 counts of 8 MB each): a model file
#: cannot ask for more memory than that
MAX_THRESHOLDS = 1_000_000


def _divide_no_nan(a, b):
    """``a / b``, and 0 where ``b`` is 0 (Keras's ``divide_no_nan``)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    safe = np.where(b == 0, 1.0, b)
    return np.where(b == 0, 0.0, a / safe)


def _number(value):
    """A 0-d result as a Python float; an array result as a new array (never the state)."""
    value = np.array(value, dtype=np.float64)
    return float(value) if value.ndim == 0 else value


# ----------------------------------------------------------------------------------------
# the base class
# ----------------------------------------------------------------------------------------

class MetricVariable(np.ndarray):
    """A metric's state array with Keras's ``assign``, ``assign_add`` and ``numpy()``."""

    def assign(self, value):
        self[...] = value
        return self

    def assign_add(self, value):
        self[...] += value
        return self

    def numpy(self):
        return np.array(self, copy=True).view(np.ndarray)


class Metric:
    """Base class of every metric: state, ``update_state``, ``result``, ``reset_state``.

    Parameters
    ----------
    name : str, optional
        The key in the logs and the History (default: Keras's name for the
        class, e.g. ``"binary_accuracy"``).

    Attributes
    ----------
    variables : list of ndarray
        The state (float64 arrays), in the order they were added.
    higher_is_better : bool
        Whether larger values are better (callbacks in ``mode="auto"`` read it).
    """

    higher_is_better = False
    #: True when ``y_true`` holds integer class labels of shape (n,)
    sparse = False

    def __init__(self, name=None):
        self.name = REGISTRY.name_of(self) if name is None else str(name)
        self._initial_values = {}
        if self._is_mean_of_per_sample():
            self.add_variable("total")
            self.add_variable("count")

    def _is_mean_of_per_sample(self):
        return type(self).per_sample is not Metric.per_sample

    # -- state ------------------------------------------------------------------------------
    def add_variable(self, name, shape=(), initial_value=0.0, initializer=None, dtype=None):
        """Create a state array ``self.<name>`` (float64) that :meth:`reset_state` refills.

        ``initializer`` may be Keras's ``"zeros"`` or ``"ones"``; the array has
        ``assign``/``assign_add`` and ``numpy()`` as Keras's variables do.
        """
        if initializer is not None:
            if initializer not in ("zeros", "ones"):
                raise ValueError(f"a metric's variable starts from 'zeros' or 'ones'; received "
                                 f"initializer={initializer!r}")
            initial_value = 0.0 if initializer == "zeros" else 1.0
        value = np.full(shape, initial_value, dtype=np.float64).view(MetricVariable)
        self._initial_values[name] = float(initial_value)
        setattr(self, name, value)
        return value

    def add_weight(self, name, shape=(), initializer="zeros", dtype=None):
        """Keras 2's name for :meth:`add_variable`."""
        return self.add_variable(name, shape, initializer=initializer)

    @property
    def variables(self):
        return [getattr(self, key) for key in self._initial_values]

    def reset_state(self):
        """Forget everything seen: every variable back to its initial value."""
        for key, initial in self._initial_values.items():
            getattr(self, key).fill(initial)

    # -- the metric -------------------------------------------------------------------------
    def per_sample(self, y_true, y_pred):
        """One number per sample (shape (n,)); the metric is their weighted mean.

        Subclasses that count something else override :meth:`update_state`
        and :meth:`result` instead.
        """
        raise NotImplementedError(f"{type(self).__name__} must define per_sample, or "
                                  f"update_state and result")

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Add a batch: ``total += Σ w_i v_i`` and ``count += Σ w_i`` with ``v = per_sample``."""
        y_true, y_pred = self._check_pair(y_true, y_pred)
        w = _sample_weight(sample_weight, len(y_pred))
        values = np.asarray(self.per_sample(y_true, y_pred))
        values = values.reshape(len(y_pred), -1).mean(axis=1) if values.ndim > 1 else values
        if w is None:
            self.total += values.sum(dtype=np.float64)
            self.count += values.shape[0]
        else:
            self.total += np.dot(values.astype(np.float64), w)
            self.count += w.sum()

    def result(self):
        """The value over every sample since the last :meth:`reset_state` (0 before any)."""
        count = float(self.count)
        return float(self.total) / count if count else 0.0

    def __call__(self, y_true, y_pred, sample_weight=None):
        """The metric of these samples alone; the state is left as it was."""
        if sample_weight is None and self._is_mean_of_per_sample() \
                and type(self).result is Metric.result:          # the plain mean, directly
            y_true, y_pred = self._check_pair(y_true, y_pred)
            return float(np.mean(self.per_sample(y_true, y_pred), dtype=np.float64))
        return self._stateless(self.update_state, y_true, y_pred, sample_weight)

    def _stateless(self, update, *args):
        """``update(*args)`` then :meth:`result` from a fresh state, and the old state back."""
        saved = {key: getattr(self, key).copy() for key in self._initial_values}
        self.reset_state()
        try:
            update(*args)
            return self.result()
        finally:
            for key, initial in self._initial_values.items():
                if key in saved:
                    np.copyto(getattr(self, key), saved[key])
                else:                                  # created by this call (built lazily)
                    getattr(self, key).fill(initial)

    # -- the inputs -------------------------------------------------------------------------
    def _check_pair(self, y_true, y_pred):
        """``y_pred`` as (n, k); ``y_true`` as (n, k), or (n,) labels for sparse metrics."""
        if (not self.sparse and type(y_pred) is np.ndarray and type(y_true) is np.ndarray
                and y_pred.ndim == 2 and y_true.shape == y_pred.shape
                and y_pred.dtype.kind == "f" and y_true.dtype.kind == "f"):
            return y_true, y_pred                  # already what fit passes: nothing to check
        y_pred = _as_numeric(y_pred, "y_pred")
        if y_pred.ndim == 1:
            y_pred = y_pred[:, None]
        if y_pred.ndim != 2:
            raise ValueError(f"{self.name}: y_pred must have shape (n_samples, n_outputs); "
                             f"received shape {y_pred.shape}")
        y_true = _as_numeric(y_true, "y_true", keep_integers=self.sparse)
        if self.sparse:
            if y_true.ndim == 2 and y_true.shape[1] == 1:
                y_true = y_true[:, 0]
            if y_true.ndim != 1:
                raise ValueError(f"{self.name} expects integer labels of shape (n_samples,); "
                                 f"received y_true of shape {y_true.shape}")
            y_true = _labels(y_true, y_pred.shape[1], self.name)
        else:
            if y_true.ndim == 1:
                y_true = y_true[:, None]
            if y_true.shape != y_pred.shape:
                raise ValueError(f"{self.name}: y_true has shape {y_true.shape} and y_pred "
                                 f"{y_pred.shape}; they must be the same")
        if len(y_true) != len(y_pred):
            raise ValueError(f"{self.name}: y_true has {len(y_true)} samples and y_pred "
                             f"{len(y_pred)}")
        return y_true, y_pred

    def get_config(self):
        """The constructor's arguments (what a saved model stores)."""
        return {"name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"{type(self).__name__}(name={self.name!r})"


def _as_numeric(values, what, keep_integers=False):
    array = np.asarray(values)
    if array.dtype.kind not in "biuf":
        raise ValueError(f"{what} must be numbers; received an array of dtype {array.dtype}")
    if array.dtype.kind == "f" or (keep_integers and array.dtype.kind in "iu"):
        return array
    return array.astype(np.float64)


def _labels(y_true, n_classes, owner):
    """Integer class labels in [0, n_classes), or a ValueError saying which are not."""
    labels = y_true.astype(np.int64, copy=False)
    if y_true.dtype.kind == "f" and not np.array_equal(labels, y_true):
        raise ValueError(f"{owner} expects integer class labels; received non-integer values")
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"{owner}: labels must be in [0, {n_classes}) for {n_classes} outputs; "
                         f"received labels from {labels.min()} to {labels.max()}")
    return labels


def _sample_weight(sample_weight, n):
    """Weights as a float64 vector of length n (a scalar is repeated), or None."""
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.ndim == 0:
        return np.full(n, float(w))
    if w.ndim == 2 and w.shape[1] == 1:
        w = w[:, 0]
    if w.shape != (n,):
        raise ValueError(f"sample_weight must be a number or have shape ({n},), one weight per "
                         f"sample; received shape {w.shape}")
    if not np.all(np.isfinite(w)):
        raise ValueError("sample_weight must be finite numbers")
    return w


class MeanMetricWrapper(Metric):
    """A function ``fn(y_true, y_pred) -> one number per sample`` as a metric (their mean).

    Keras's wrapper, made for you when ``compile(metrics=[fn])`` gets a
    plain function; the function's name is the key in the logs.  A function
    cannot be saved in a model file: to save such a model, subclass
    :class:`Metric` with ``per_sample`` and register it.
    """

    def __init__(self, fn, name=None, **kwargs):
        if not callable(fn):
            raise ValueError(f"MeanMetricWrapper needs a function; received {fn!r}")
        if name is None:          # a function's name, or a loss object's (Keras's name= too)
            name = (getattr(fn, "display_name", None) or getattr(fn, "__name__", None)
                    or getattr(fn, "name", None) or "metric")
        super().__init__(name)
        self.fn, self.kwargs = fn, kwargs

    def per_sample(self, y_true, y_pred):
        return np.asarray(self.fn(y_true, y_pred, **self.kwargs))

    def get_config(self):
        raise ValueError(f"the metric {self.name!r} is a plain function, which a model file "
                         f"cannot hold; subclass glassnet.metrics.Metric with per_sample and "
                         f"register it (glassnet.register) to save this model")


# ----------------------------------------------------------------------------------------
# reductions of given values
# ----------------------------------------------------------------------------------------

class Mean(Metric):
    """The weighted mean of the values given: ``Σ w_i v_i / Σ w_i``.

    ``update_state(values, sample_weight=None)``; values of shape (n, ...)
    are first averaged within each sample, as Keras does.  This is how a
    loss is averaged over an epoch.
    """

    def __init__(self, name=None):
        super().__init__(name)
        self.add_variable("total")
        self.add_variable("count")

    def update_state(self, values, sample_weight=None):
        values = _samplewise(values, np.mean)
        w = _sample_weight(sample_weight, len(values))
        if w is None:
            self.total += values.sum()
            self.count += len(values)
        else:
            self.total += np.dot(values, w)
            self.count += w.sum()

    def __call__(self, values, sample_weight=None):
        """The mean of these values alone; the state is left as it was."""
        return self._stateless(self.update_state, values, sample_weight)


def _samplewise(values, reduce):
    """Values as one float64 number per sample (a sample's several values reduced)."""
    values = _as_numeric(values, "values").astype(np.float64, copy=False)
    values = values.reshape(1) if values.ndim == 0 else values
    return reduce(values.reshape(len(values), -1), axis=1)


class Sum(Metric):
    """The weighted sum of the values given: ``Σ w_i v_i``."""

    def __init__(self, name=None):
        super().__init__(name)
        self.add_variable("total")

    def update_state(self, values, sample_weight=None):
        values = _samplewise(values, np.sum)
        w = _sample_weight(sample_weight, len(values))
        self.total += values.sum() if w is None else np.dot(values, w)

    def result(self):
        return float(self.total)

    def __call__(self, values, sample_weight=None):
        """The sum of these values alone; the state is left as it was."""
        return self._stateless(self.update_state, values, sample_weight)


# ----------------------------------------------------------------------------------------
# accuracies
# ----------------------------------------------------------------------------------------

class BinaryAccuracy(Metric):
    """Fraction of outputs on the right side of ``threshold`` (averaged over outputs too).

    ``threshold`` is 0.5 for probabilities, 0 for logits.
    """

    higher_is_better = True

    def __init__(self, name=None, threshold=0.5):
        super().__init__(name)
        self.threshold = float(threshold)

    def per_sample(self, y_true, y_pred):
        return ((y_pred > self.threshold) == (y_true > 0.5)).mean(axis=1)

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}


class CategoricalAccuracy(Metric):
    """Fraction of samples whose largest output is the one-hot target's class."""

    higher_is_better = True

    def per_sample(self, y_true, y_pred):
        return y_pred.argmax(axis=1) == y_true.argmax(axis=1)


class SparseCategoricalAccuracy(Metric):
    """Fraction of samples whose largest output is the integer label."""

    higher_is_better = True
    sparse = True

    def per_sample(self, y_true, y_pred):
        return y_pred.argmax(axis=1) == y_true


def _in_top_k(y_pred, labels, k):
    """True where the label's score is among the k largest (ties count as in, as in Keras)."""
    target = y_pred[np.arange(len(labels)), labels]
    return (y_pred > target[:, None]).sum(axis=1) < k


class TopKCategoricalAccuracy(Metric):
    """Fraction of samples whose one-hot target's class is among the ``k`` largest outputs."""

    higher_is_better = True

    def __init__(self, k=5, name=None):
        super().__init__(name)
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"{type(self).__name__} k must be a positive integer; received {k!r}")
        self.k = int(k)

    def per_sample(self, y_true, y_pred):
        return _in_top_k(y_pred, y_true.argmax(axis=1), self.k)

    def get_config(self):
        return {**super().get_config(), "k": self.k}


class SparseTopKCategoricalAccuracy(TopKCategoricalAccuracy):
    """Fraction of samples whose integer label is among the ``k`` largest outputs."""

    sparse = True

    def per_sample(self, y_true, y_pred):
        return _in_top_k(y_pred, y_true, self.k)


# ----------------------------------------------------------------------------------------
# the losses as metrics (the same equations as glassnet.losses)
# ----------------------------------------------------------------------------------------

class _Crossentropy(Metric):
    """A cross-entropy loss of :mod:`glassnet.losses` as a metric: the very same number."""

    #: the loss class whose per-sample values this metric averages
    loss_class = None

    def __init__(self, name=None, from_logits=False, label_smoothing=0.0):
        super().__init__(name)
        self.from_logits = bool(from_logits)
        self.label_smoothing = _smoothing(label_smoothing, type(self).__name__)
        self._loss = self.loss_class(from_logits=self.from_logits)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing}


class BinaryCrossentropy(_Crossentropy):
    """Binary cross-entropy, the very number the loss computes (:mod:`glassnet.losses`).

    ``label_smoothing`` s moves targets to ``y (1 - s) + s / 2``.
    """

    loss_class = losses.BinaryCrossentropy

    def per_sample(self, y_true, y_pred):
        s = self.label_smoothing
        return self._loss.per_sample(y_true * (1 - s) + 0.5 * s if s else y_true, y_pred)


class CategoricalCrossentropy(_Crossentropy):
    """Categorical cross-entropy for one-hot targets (``label_smoothing``: ``y (1-s) + s/k``)."""

    loss_class = losses.CategoricalCrossentropy

    def per_sample(self, y_true, y_pred):
        s = self.label_smoothing
        return self._loss.per_sample(y_true * (1 - s) + s / y_true.shape[1] if s else y_true,
                                     y_pred)


class SparseCategoricalCrossentropy(Metric):
    """Categorical cross-entropy for integer labels: ``-log ŷ_(i, y_i)``."""

    sparse = True

    def __init__(self, name=None, from_logits=False):
        super().__init__(name)
        self.from_logits = bool(from_logits)
        self._loss = losses.SparseCategoricalCrossentropy(from_logits=self.from_logits)

    def per_sample(self, y_true, y_pred):
        return self._loss.per_sample(y_true, y_pred)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits}


def _smoothing(value, owner):
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{owner} label_smoothing must be in [0, 1]; received {value!r}")
    return value


# ----------------------------------------------------------------------------------------
# regression
# ----------------------------------------------------------------------------------------

class MeanSquaredError(Metric):
    """Mean over outputs of ``(ŷ - y)²``."""

    def per_sample(self, y_true, y_pred):
        return np.square(y_pred - y_true).mean(axis=1)


class RootMeanSquaredError(MeanSquaredError):
    """``√(Σ w_i mse_i / Σ w_i)``: the root of the mean over *all* samples (not of batch means)."""

    def result(self):
        return math.sqrt(super().result())


class MeanAbsoluteError(Metric):
    """Mean over outputs of ``|ŷ - y|``."""

    def per_sample(self, y_true, y_pred):
        return np.abs(y_pred - y_true).mean(axis=1)


class MeanAbsolutePercentageError(Metric):
    """``100 · mean |ŷ - y| / max(|y|, ε)``, in percent (ε = 1e-7, Keras's guard)."""

    def per_sample(self, y_true, y_pred):
        return 100.0 * (np.abs(y_pred - y_true) / np.maximum(np.abs(y_true), EPSILON)).mean(axis=1)


class R2Score(Metric):
    """The coefficient of determination ``R² = 1 - Σ w (y - ŷ)² / Σ w (y - ȳ)²`` per output.

    The state holds, for each output, ``Σ w``, ``Σ w y``, ``Σ w y²`` and
    ``Σ w (y - ŷ)²``, so ``Σ w (y - ȳ)² = Σ w y² - (Σ w y)² / Σ w`` comes out
    over the whole epoch.  An output whose targets do not vary scores 0
    (Keras).

    Parameters
    ----------
    class_aggregation : {"uniform_average", "variance_weighted_average", None}
        The mean of the outputs' R², weighted by their targets' variance, or
        each output's R² (an array).
    num_regressors : int, default 0
        p > 0 gives the adjusted R²: ``1 - (1 - R²)(n - 1) / (n - p - 1)``.
    """

    higher_is_better = True
    AGGREGATIONS = ("uniform_average", "variance_weighted_average", None)

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name=None):
        super().__init__(name)
        if class_aggregation not in self.AGGREGATIONS:
            raise ValueError(f"R2Score class_aggregation must be one of {self.AGGREGATIONS}; "
                             f"received {class_aggregation!r}")
        if isinstance(num_regressors, bool) or not isinstance(num_regressors, (int, np.integer)) \
                or num_regressors < 0:
            raise ValueError(f"R2Score num_regressors must be an integer >= 0; received "
                             f"{num_regressors!r}")
        self.class_aggregation = class_aggregation
        self.num_regressors = int(num_regressors)
        self.add_variable("num_samples")
        self.outputs = None

    def _build(self, k):
        self.outputs = k
        for key in ("count", "sum", "squared_sum", "total_mse"):
            self.add_variable(key, (k,))

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = self._check_pair(y_true, y_pred)
        if self.outputs is None:
            self._build(y_pred.shape[1])
        if y_pred.shape[1] != self.outputs:
            raise ValueError(f"R2Score was given {self.outputs} outputs before and now "
                             f"{y_pred.shape[1]}")
        y, p = y_true.astype(np.float64), y_pred.astype(np.float64)
        w = _sample_weight(sample_weight, len(y))
        w = np.ones(len(y)) if w is None else w
        self.count += w.sum()
        self.sum += w @ y
        self.squared_sum += w @ (y * y)
        self.total_mse += w @ np.square(y - p)
        self.num_samples += len(y)

    def result(self):
        if self.outputs is None:
            return 0.0
        mean = _divide_no_nan(self.sum, self.count)
        total = self.squared_sum - self.sum * mean
        with np.errstate(divide="ignore", invalid="ignore"):
            raw = 1.0 - self.total_mse / total
        raw = np.where(np.isfinite(raw), raw, 0.0)
        if self.class_aggregation == "uniform_average":
            score = raw.mean()
        elif self.class_aggregation == "variance_weighted_average":
            score = _divide_no_nan(np.sum(total * raw), np.sum(total))
        else:
            score = raw
        n, p = float(self.num_samples), self.num_regressors
        if p:
            if p > n - 1:
                raise ValueError(f"R2Score with num_regressors={p} needs more than {p + 1} "
                                 f"samples; it has seen {int(n)}")
            score = 1.0 - (1.0 - score) * (n - 1) / (n - p - 1)
        return _number(score)

    def get_config(self):
        return {**super().get_config(), "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}


# ----------------------------------------------------------------------------------------
# counts at thresholds: the confusion metrics
# ----------------------------------------------------------------------------------------

def _thresholds(thresholds, default, owner):
    """Thresholds as a float64 vector, and whether one number (not a list) was given."""
    if thresholds is None:
        thresholds = default
    single = np.ndim(thresholds) == 0
    values = np.atleast_1d(np.asarray(thresholds, dtype=np.float64))
    if values.ndim != 1 or values.size == 0 or not np.all(np.isfinite(values)):
        raise ValueError(f"{owner} thresholds must be a number or a list of numbers; received "
                         f"{thresholds!r}")
    return values, single or values.size == 1


def _confusion_counts(labels, scores, weights, thresholds, need_negatives=True):
    """Weighted (TP, FP, TN, FN) at each threshold: ``ŷ > t`` predicts positive.

    Vectorised in O(n + m) memory for n predictions and m thresholds: each
    prediction falls into the bucket of how many (sorted) thresholds lie
    below it; the positives at threshold j are the predictions in buckets
    above j, a reversed cumulative sum of the bucket totals.  A NaN score
    counts as negative (NaN > t is false).
    """
    order = np.argsort(thresholds, kind="stable")
    ordered = thresholds[order]
    m = len(thresholds)
    bucket = np.searchsorted(ordered, scores, side="left")       # #{t < ŷ}
    bucket[np.isnan(scores)] = 0
    pos = weights * labels
    neg = weights - pos
    counts = []
    for per_bucket in (np.bincount(bucket, pos, minlength=m + 1),
                       np.bincount(bucket, neg, minlength=m + 1)):
        above = np.cumsum(per_bucket[::-1])[::-1][1:]     # buckets > j: predicted positive
        below = np.cumsum(per_bucket)[:-1]                # buckets ≤ j: predicted negative
        counts += [above, below]
    tp, fn, fp, tn = (np.empty(m) for _ in range(4))
    tp[order], fn[order], fp[order], tn[order] = counts
    return tp, fp, tn, fn


class _ConfusionMetric(Metric):
    """Counts of TP/FP/TN/FN at ``thresholds`` over every output (flattened), as Keras's.

    ``class_id`` keeps only that output column; ``top_k`` counts only the k
    largest outputs of each sample as predicted positive (the threshold then
    defaults to -∞).
    """

    #: which counts this metric keeps
    counts = ("true_positives", "false_positives", "true_negatives", "false_negatives")

    def __init__(self, thresholds=None, name=None, top_k=None, class_id=None):
        super().__init__(name)
        self.top_k = None if top_k is None else _positive_int(top_k, "top_k", type(self))
        self.class_id = None if class_id is None else _non_negative_int(class_id, "class_id",
                                                                       type(self))
        default = 0.5 if self.top_k is None else -1e10
        values, self._single = _thresholds(thresholds, default, type(self).__name__)
        self.thresholds = None if thresholds is None else (
            float(values[0]) if np.ndim(thresholds) == 0 else values.tolist())
        self._values = values
        for key in self.counts:
            self.add_variable(key, values.shape)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = self._check_pair(y_true, y_pred)
        w = _sample_weight(sample_weight, len(y_pred))
        y_pred = self._prepare_scores(y_pred)
        if self.top_k is not None:        # only the k largest of each row may be positive
            k = min(self.top_k, y_pred.shape[1])
            kth = np.partition(y_pred, -k, axis=1)[:, -k:].min(axis=1, keepdims=True)
            y_pred = np.where(y_pred >= kth, y_pred, -np.inf)
        if self.class_id is not None:
            if self.class_id >= y_pred.shape[1]:
                raise ValueError(f"{self.name}: class_id={self.class_id} but y_pred has "
                                 f"{y_pred.shape[1]} outputs")
            y_true, y_pred = y_true[:, self.class_id:self.class_id + 1], \
                y_pred[:, self.class_id:self.class_id + 1]
        weights = np.ones(y_pred.size) if w is None else np.repeat(w, y_pred.shape[1])
        labels = (y_true != 0).ravel().astype(np.float64)
        tp, fp, tn, fn = _confusion_counts(labels, y_pred.ravel().astype(np.float64), weights,
                                           self._values)
        for key, value in zip(("true_positives", "false_positives", "true_negatives",
                               "false_negatives"), (tp, fp, tn, fn)):
            if key in self.counts:
                getattr(self, key)[...] += value

    def _prepare_scores(self, y_pred):
        return y_pred

    def _out(self, value):
        return float(value[0]) if self._single else np.array(value, dtype=np.float64)

    def get_config(self):
        config = {**super().get_config(), "thresholds": self.thresholds}
        if self.top_k is not None or self.class_id is not None:
            config.update(top_k=self.top_k, class_id=self.class_id)
        return config


def _positive_int(value, what, cls):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{cls.__name__} {what} must be a positive integer; received {value!r}")
    return int(value)


def _non_negative_int(value, what, cls):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{cls.__name__} {what} must be an integer >= 0; received {value!r}")
    return int(value)


class _Count(_ConfusionMetric):
    def __init__(self, thresholds=None, name=None):
        super().__init__(thresholds, name)

    def result(self):
        return self._out(getattr(self, self.counts[0]))

    def get_config(self):
        return {"name": self.name, "thresholds": self.thresholds}


class TruePositives(_Count):
    """Weighted count of outputs with ``y = 1`` and ``ŷ > threshold`` (default 0.5)."""
    counts = ("true_positives",)
    higher_is_better = True


class FalsePositives(_Count):
    """Weighted count of outputs with ``y = 0`` and ``ŷ > threshold`` (default 0.5)."""
    counts = ("false_positives",)


class TrueNegatives(_Count):
    """Weighted count of outputs with ``y = 0`` and ``ŷ ≤ threshold`` (default 0.5)."""
    counts = ("true_negatives",)
    higher_is_better = True


class FalseNegatives(_Count):
    """Weighted count of outputs with ``y = 1`` and ``ŷ ≤ threshold`` (default 0.5)."""
    counts = ("false_negatives",)


class Precision(_ConfusionMetric):
    """``TP / (TP + FP)``: of the outputs predicted positive, the fraction that are.

    Parameters
    ----------
    thresholds : float or list of float, optional
        ``ŷ > t`` predicts positive (default 0.5); a list gives one value per
        threshold (an array).
    top_k : int, optional
        Only the k largest outputs of a sample count as predicted positive.
    class_id : int, optional
        Only this output column counts.
    name : str, optional
    """

    counts = ("true_positives", "false_positives")
    higher_is_better = True

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None):
        super().__init__(thresholds, name, top_k, class_id)

    def result(self):
        return self._out(_divide_no_nan(self.true_positives,
                                        self.true_positives + self.false_positives))


class Recall(Precision):
    """``TP / (TP + FN)``: of the outputs that are positive, the fraction predicted so."""

    counts = ("true_positives", "false_negatives")

    def result(self):
        return self._out(_divide_no_nan(self.true_positives,
                                        self.true_positives + self.false_negatives))


class AUC(_ConfusionMetric):
    """Area under the ROC or the precision-recall curve, Keras's approximation.

    The counts are kept at ``num_thresholds`` thresholds: ``-ε``, ``1/(N-1)``,
    ..., ``(N-2)/(N-1)``, ``1+ε`` (ε = 1e-7, so predictions of exactly 0 and
    1 fall inside), with predictions clipped to [0, 1].  Each threshold is
    a point of the curve:

    * ROC: x = false-positive rate ``FP/(FP+TN)``, y = recall ``TP/(TP+FN)``;
    * PR: x = recall, y = precision ``TP/(TP+FP)``.

    The area is the Riemann sum ``Σ (x_j - x_(j+1)) · h_j`` between successive
    points, with ``summation_method`` choosing h: ``"interpolation"`` the
    mean of the two ends (the trapezoid rule), ``"minoring"`` the lower end,
    ``"majoring"`` the higher.  For PR with interpolation the counts, not
    the precision, vary linearly between thresholds (Davis & Goadrich 2006),
    which integrates to a closed form with a logarithm (see
    :meth:`interpolate_pr_auc`).  With 200 thresholds the result is within
    about 1e-2 of the exact area (scikit-learn's ``roc_auc_score``) for
    predictions spread over [0, 1].

    Parameters
    ----------
    num_thresholds : int, default 200
    curve : {"ROC", "PR"}
    summation_method : {"interpolation", "minoring", "majoring"}
    name : str, optional
    thresholds : list of float, optional
        Thresholds in [0, 1] to use instead (``-ε`` and ``1+ε`` are added).
    multi_label : bool, default False
        True: one AUC per output column, averaged (weighted by
        ``label_weights``); False: all outputs flattened into one curve.
    num_labels : int, optional
        Outputs, for ``multi_label`` (otherwise read from the first batch).
    label_weights : list of float, optional
    from_logits : bool, default False
        Apply the sigmoid to ``y_pred`` first.
    """

    higher_is_better = True
    CURVES = ("ROC", "PR")
    SUMMATIONS = ("interpolation", "minoring", "majoring")

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):
        Metric.__init__(self, name)
        curve = str(curve).upper()
        if curve not in self.CURVES:
            raise ValueError(f"AUC curve must be 'ROC' or 'PR'; received {curve!r}")
        summation_method = str(summation_method).lower()
        if summation_method not in self.SUMMATIONS:
            raise ValueError(f"AUC summation_method must be one of {self.SUMMATIONS}; received "
                             f"{summation_method!r}")
        self.curve, self.summation_method = curve, summation_method
        self.from_logits, self.multi_label = bool(from_logits), bool(multi_label)
        self.top_k = self.class_id = None
        if thresholds is not None:
            inner = sorted(float(t) for t in np.atleast_1d(thresholds))
            if not all(0.0 <= t <= 1.0 for t in inner):
                raise ValueError(f"AUC thresholds must be in [0, 1]; received {thresholds!r}")
            self.thresholds = inner
            self.num_thresholds = len(inner) + 2
        else:
            if isinstance(num_thresholds, bool) or not isinstance(num_thresholds,
                                                                  (int, np.integer)) \
                    or not 1 < num_thresholds <= MAX_THRESHOLDS:
                raise ValueError(f"AUC num_thresholds must be an integer > 1 (at most "
                                 f"{MAX_THRESHOLDS}); received {num_thresholds!r}")
            self.num_thresholds = int(num_thresholds)
            self.thresholds = None
            inner = [(i + 1) / (self.num_thresholds - 1) for i in range(self.num_thresholds - 2)]
        self._values = np.array([0.0 - EPSILON, *inner, 1.0 + EPSILON])
        self._single = False
        if num_labels is not None and not self.multi_label:
            raise ValueError("AUC num_labels is only used with multi_label=True")
        self.num_labels = None if num_labels is None else _positive_int(num_labels,
                                                                        "num_labels", AUC)
        self.label_weights = None if label_weights is None else \
            np.asarray(label_weights, dtype=np.float64)
        if self.label_weights is not None and (self.label_weights.ndim != 1
                                               or np.any(self.label_weights < 0)):
            raise ValueError("AUC label_weights must be a list of non-negative numbers")
        self._labels_built = None
        if not self.multi_label:
            self._build(None)
        elif self.num_labels is not None:
            self._build(self.num_labels)

    def _build(self, labels):
        shape = (self.num_thresholds,) if labels is None else (self.num_thresholds, labels)
        for key in self.counts:
            self.add_variable(key, shape)
        self._labels_built = labels

    def update_state(self, y_true, y_pred, sample_weight=None):
        if not self.multi_label:
            if self.label_weights is not None:
                y_true, y_pred = self._check_pair(y_true, y_pred)
                w = _sample_weight(sample_weight, len(y_pred))
                w = np.ones(len(y_pred)) if w is None else w
                weights = (w[:, None] * self._label_weights(y_pred.shape[1])).ravel()
                self._add(y_true.ravel(), y_pred.ravel(), weights)
                return
            return super().update_state(y_true, y_pred, sample_weight)
        y_true, y_pred = self._check_pair(y_true, y_pred)
        k = y_pred.shape[1]
        if self._labels_built is None:
            self._build(k)
        if k != self._labels_built:
            raise ValueError(f"AUC(multi_label=True) was built for {self._labels_built} labels; "
                             f"received y_pred with {k} columns")
        w = _sample_weight(sample_weight, len(y_pred))
        w = np.ones(len(y_pred)) if w is None else w
        scores = self._prepare_scores(y_pred).astype(np.float64)
        labels = (y_true != 0).astype(np.float64)
        for j in range(k):       # one curve per label: k passes of O(n + m)
            counts = _confusion_counts(labels[:, j], scores[:, j], w, self._values)
            for key, value in zip(self.counts, counts):
                getattr(self, key)[:, j] += value

    def _label_weights(self, k):
        if len(self.label_weights) != k:
            raise ValueError(f"AUC has {len(self.label_weights)} label_weights for {k} outputs")
        return self.label_weights

    def _add(self, y_true, y_pred, weights):
        scores = self._prepare_scores(y_pred).astype(np.float64)
        counts = _confusion_counts((y_true != 0).astype(np.float64), scores, weights,
                                   self._values)
        for key, value in zip(self.counts, counts):
            getattr(self, key)[...] += value

    def _prepare_scores(self, y_pred):
        if self.from_logits:
            y_pred = 0.5 * (1.0 + np.tanh(0.5 * y_pred.astype(np.float64)))   # σ(z), stably
        return np.clip(y_pred, 0.0, 1.0)

    def interpolate_pr_auc(self):
        """PR-AUC with TP and P = TP + FP linear between thresholds (Davis & Goadrich).

        Within an interval the precision is ``(TP_A + s (P - P_A)) / P`` with
        slope ``s = ΔTP / ΔP``, whose integral over P is
        ``s [ΔTP + (TP_B - s P_B) log(P_A / P_B)]``; divided by the positives
        ``TP + FN`` it is the area over recall.
        """
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = _divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        ratio = np.where(both, _divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
        increments = _divide_no_nan(slope * (dtp + intercept * np.log(ratio)),
                                    np.maximum(tp[1:] + fn[1:], 0))
        return self._over_labels(increments.sum(axis=0))

    def _over_labels(self, by_label):
        if not self.multi_label:
            return float(by_label)
        if self.label_weights is None:
            return float(np.mean(by_label))
        return float(_divide_no_nan(np.sum(by_label * self._label_weights(len(by_label))),
                                    np.sum(self.label_weights)))

    def result(self):
        if self.multi_label and self._labels_built is None:
            return 0.0
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self.interpolate_pr_auc()
        tp, fp, tn, fn = (self.true_positives, self.false_positives, self.true_negatives,
                          self.false_negatives)
        recall = _divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _divide_no_nan(fp, fp + tn), recall
        else:
            x, y = recall, _divide_no_nan(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return self._over_labels(((x[:-1] - x[1:]) * heights).sum(axis=0))

    def get_config(self):
        config = {"name": self.name, "num_thresholds": self.num_thresholds, "curve": self.curve,
                  "summation_method": self.summation_method, "multi_label": self.multi_label,
                  "num_labels": self.num_labels, "from_logits": self.from_logits,
                  "label_weights": None if self.label_weights is None
                  else self.label_weights.tolist()}
        if self.thresholds is not None:
            config["thresholds"] = list(self.thresholds)
        return config


# ----------------------------------------------------------------------------------------
# F-scores
# ----------------------------------------------------------------------------------------

class FBetaScore(Metric):
    """``F_β = (1 + β²) P R / (β² P + R)`` per class, from counts over all samples.

    ``y_true`` one-hot (or multi-hot) of shape (n, k).  Predictions are the
    largest output of each sample (``threshold=None``) or every output above
    ``threshold``.  Precision and recall carry Keras's ε = 1e-7 in their
    denominators.

    Parameters
    ----------
    average : {None, "micro", "macro", "weighted"}
        None: one score per class (an array); "micro": from the counts summed
        over classes; "macro": the mean of the classes' scores; "weighted":
        their mean weighted by each class's (weighted) number of true samples.
    beta : float, default 1
    threshold : float, optional
    name : str, optional
    """

    higher_is_better = True
    AVERAGES = (None, "micro", "macro", "weighted")

    def __init__(self, average=None, beta=1.0, threshold=None, name=None):
        super().__init__(name)
        if average not in self.AVERAGES:
            raise ValueError(f"{type(self).__name__} average must be one of {self.AVERAGES}; "
                             f"received {average!r}")
        beta = float(beta)
        if not (math.isfinite(beta) and beta > 0):
            raise ValueError(f"{type(self).__name__} beta must be a positive number; received "
                             f"{beta!r}")
        if threshold is not None and not 0.0 <= float(threshold) <= 1.0:
            raise ValueError(f"{type(self).__name__} threshold must be in [0, 1]; received "
                             f"{threshold!r}")
        self.average, self.beta = average, beta
        self.threshold = None if threshold is None else float(threshold)
        self.classes = None

    def _build(self, k):
        self.classes = k
        for key in ("true_positives", "false_positives", "false_negatives",
                    "intermediate_weights"):
            self.add_variable(key, (k,))

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred = self._check_pair(y_true, y_pred)
        if self.classes is None:
            self._build(y_pred.shape[1])
        if y_pred.shape[1] != self.classes:
            raise ValueError(f"{self.name} was given {self.classes} classes before and now "
                             f"{y_pred.shape[1]}")
        if self.threshold is None:
            predicted = (y_pred >= y_pred.max(axis=1, keepdims=True)).astype(np.float64)
        else:
            predicted = (y_pred > self.threshold).astype(np.float64)
        y = y_true.astype(np.float64)
        w = _sample_weight(sample_weight, len(y))
        w = np.ones(len(y)) if w is None else w
        self.true_positives += w @ (predicted * y)
        self.false_positives += w @ (predicted * (1 - y))
        self.false_negatives += w @ ((1 - predicted) * y)
        self.intermediate_weights += w @ y

    def result(self):
        if self.classes is None:
            return 0.0
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        if self.average == "micro":
            tp, fp, fn = tp.sum(), fp.sum(), fn.sum()
        precision = tp / (tp + fp + EPSILON)
        recall = tp / (tp + fn + EPSILON)
        b2 = self.beta ** 2
        score = (1 + b2) * _divide_no_nan(precision * recall, b2 * precision + recall)
        if self.average == "weighted":
            weights = _divide_no_nan(self.intermediate_weights, self.intermediate_weights.sum())
            score = np.sum(score * weights)
        elif self.average is not None:
            score = np.mean(score)
        return _number(score)

    def get_config(self):
        return {**super().get_config(), "average": self.average, "beta": self.beta,
                "threshold": self.threshold}


class F1Score(FBetaScore):
    """F₁ = ``2 P R / (P + R)``: :class:`FBetaScore` with β = 1."""

    def __init__(self, average=None, threshold=None, name=None):
        super().__init__(average, 1.0, threshold, name)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config


# ----------------------------------------------------------------------------------------
# names
# ----------------------------------------------------------------------------------------

REGISTRY = Registry(
    "metric", Metric,
    {"mean": Mean, "sum": Sum, "binary_accuracy": BinaryAccuracy,
     "categorical_accuracy": CategoricalAccuracy,
     "sparse_categorical_accuracy": SparseCategoricalAccuracy,
     "top_k_categorical_accuracy": TopKCategoricalAccuracy,
     "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
     "binary_crossentropy": BinaryCrossentropy,
     "categorical_crossentropy": CategoricalCrossentropy,
     "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
     "mean_squared_error": MeanSquaredError, "root_mean_squared_error": RootMeanSquaredError,
     "mean_absolute_error": MeanAbsoluteError,
     "mean_absolute_percentage_error": MeanAbsolutePercentageError,
     "r2_score": R2Score, "true_positives": TruePositives, "false_positives": FalsePositives,
     "true_negatives": TrueNegatives, "false_negatives": FalseNegatives,
     "precision": Precision, "recall": Recall, "auc": AUC, "f1_score": F1Score,
     "fbeta_score": FBetaScore},
    aliases={"mse": "mean_squared_error", "mae": "mean_absolute_error",
             "mape": "mean_absolute_percentage_error", "rmse": "root_mean_squared_error",
             "bce": "binary_crossentropy", "top_k_accuracy": "top_k_categorical_accuracy"})


def serialize(metric):
    """``{"class": name, "config": {...}}`` of a metric (a function says it cannot be saved)."""
    if not isinstance(metric, Metric):             # a class, or a function (which says why not)
        metric = get(metric)
    return REGISTRY.serialize(metric)


#: names that mean "accuracy of the kind that fits the loss"
ACCURACY = ("accuracy", "acc")


def names():
    return sorted(REGISTRY.names() + ["accuracy"])


def accuracy_class(loss=None, output_units=None):
    """The accuracy that fits the loss and the output width, as Keras chooses it."""
    if loss is not None and loss.sparse:
        return SparseCategoricalAccuracy
    if output_units == 1 or (loss is not None and loss.name == "binary_crossentropy"):
        return BinaryAccuracy
    return CategoricalAccuracy


def get(identifier, loss=None, output_units=None):
    """Return a :class:`Metric` for a name, an instance or a config.

    A name gives a new metric *named as written*: ``"mae"`` is logged as
    ``"mae"``, ``"mean_absolute_error"`` as ``"mean_absolute_error"``.
    ``"accuracy"``/``"acc"`` becomes the accuracy that fits the loss (and
    ``y_pred > 0`` for a binary loss ``from_logits``).
    """
    if isinstance(identifier, str) and identifier.strip().lower() in ACCURACY:
        cls = accuracy_class(loss, output_units)
        if cls is BinaryAccuracy and loss is not None and loss.from_logits:
            return cls(name=identifier, threshold=0.0)       # logits: σ(z) > 0.5 ⇔ z > 0
        return cls(name=identifier)
    if isinstance(identifier, str):
        try:
            cls = REGISTRY.lookup(identifier)
        except ValueError:
            raise ValueError(f"unknown metric {identifier!r}; valid names are: "
                             f"{', '.join(names())}. If it is your own class, register it "
                             f"first: glassnet.register(<class>)") from None
        try:
            return cls(name=identifier)
        except TypeError:          # a class of the user's that takes no name
            return cls()
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()                                  # Keras accepts the class too
    if callable(identifier) and not isinstance(identifier, (type, Metric)):
        return MeanMetricWrapper(identifier)
    return REGISTRY.get(identifier, "a name, a Metric or a function")
