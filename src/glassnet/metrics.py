"""Metrics: numbers reported during training that are not (necessarily) the loss.

Each metric is ``metric(y_true, y_pred) -> float``, averaged over samples.
``"accuracy"`` (or ``"acc"``) picks the right variant from the loss and the
output width, as Keras does:

* binary (one sigmoid output, or binary cross-entropy): ``ŷ > 0.5`` vs ``y``;
* sparse (integer labels): ``argmax ŷ == y``;
* categorical (one-hot targets): ``argmax ŷ == argmax y``.
"""

from __future__ import annotations

import numpy as np

from ._registry import Registry

__all__ = ["Metric", "BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy",
           "MeanSquaredError", "MeanAbsoluteError", "get", "names"]


class Metric:
    name = "metric"

    def __call__(self, y_true, y_pred):
        return float(np.mean(self.per_sample(y_true, y_pred)))

    def per_sample(self, y_true, y_pred):  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"


class BinaryAccuracy(Metric):
    """Fraction of outputs on the right side of 0.5 (averaged over outputs too)."""

    name = "binary_accuracy"

    def per_sample(self, y_true, y_pred):
        return ((y_pred > 0.5) == (y_true > 0.5)).mean(axis=1)


class CategoricalAccuracy(Metric):
    """Fraction of samples whose largest output is the one-hot target's class."""

    name = "categorical_accuracy"

    def per_sample(self, y_true, y_pred):
        return y_pred.argmax(axis=1) == y_true.argmax(axis=1)


class SparseCategoricalAccuracy(Metric):
    """Fraction of samples whose largest output is the integer label."""

    name = "sparse_categorical_accuracy"

    def per_sample(self, y_true, y_pred):
        return y_pred.argmax(axis=1) == y_true


class MeanSquaredError(Metric):
    name = "mse"

    def per_sample(self, y_true, y_pred):
        return np.square(y_pred - y_true).mean(axis=1)


class MeanAbsoluteError(Metric):
    name = "mae"

    def per_sample(self, y_true, y_pred):
        return np.abs(y_pred - y_true).mean(axis=1)


REGISTRY = Registry("metric", (BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
                               MeanSquaredError, MeanAbsoluteError),
                    aliases={"mean_squared_error": "mse", "mean_absolute_error": "mae"})


def names():
    return sorted(REGISTRY.names() + ["accuracy"])


def get(identifier, loss=None, output_units=None):
    """Return a :class:`Metric`; ``"accuracy"``/``"acc"`` is resolved from the loss.

    The metric keeps the name the user asked for (``"accuracy"`` stays
    ``"accuracy"`` in the History).
    """
    if isinstance(identifier, Metric):
        return identifier
    if not isinstance(identifier, str):
        raise ValueError(f"metric must be a name or a Metric; received {identifier!r}")
    key = identifier.strip().lower()
    if key in ("accuracy", "acc"):
        if loss is not None and loss.sparse:
            metric = SparseCategoricalAccuracy()
        elif output_units == 1 or (loss is not None and loss.name == "binary_crossentropy"):
            metric = BinaryAccuracy()
        else:
            metric = CategoricalAccuracy()
        metric.name = identifier
        return metric
    if key not in REGISTRY.classes and key not in REGISTRY.aliases:
        raise ValueError(f"unknown metric {identifier!r}; valid names are: {', '.join(names())}")
    return REGISTRY.lookup(key)()
