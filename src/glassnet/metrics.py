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
           "MeanSquaredError", "MeanAbsoluteError", "get", "names", "serialize"]


class Metric:
    """Base class: ``metric(y_true, y_pred)`` is the mean of :meth:`per_sample`.

    Parameters
    ----------
    name : str, optional
        The key in the logs and the History (default: the registered name,
        e.g. ``"binary_accuracy"``).
    """

    #: whether larger values are better (callbacks in mode="auto" read it)
    higher_is_better = False

    def __init__(self, name=None):
        self.name = name or REGISTRY.name_of(self)

    def __call__(self, y_true, y_pred):
        return float(np.mean(self.per_sample(y_true, y_pred)))

    def per_sample(self, y_true, y_pred):  # pragma: no cover - abstract
        raise NotImplementedError

    def get_config(self):
        return {"name": self.name}

    def __repr__(self):
        return f"{type(self).__name__}(name={self.name!r})"


class BinaryAccuracy(Metric):
    """Fraction of outputs on the right side of ``threshold`` (averaged over outputs too).

    ``threshold`` is 0.5 for probabilities, 0 for logits (``from_logits=True``).
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

    def per_sample(self, y_true, y_pred):
        return y_pred.argmax(axis=1) == y_true


class MeanSquaredError(Metric):
    """Mean over outputs of ``(ŷ - y)²``."""

    def per_sample(self, y_true, y_pred):
        return np.square(y_pred - y_true).mean(axis=1)


class MeanAbsoluteError(Metric):
    """Mean over outputs of ``|ŷ - y|``."""

    def per_sample(self, y_true, y_pred):
        return np.abs(y_pred - y_true).mean(axis=1)


REGISTRY = Registry("metric", Metric,
                    {"binary_accuracy": BinaryAccuracy, "categorical_accuracy": CategoricalAccuracy,
                     "sparse_categorical_accuracy": SparseCategoricalAccuracy,
                     "mse": MeanSquaredError, "mae": MeanAbsoluteError},
                    aliases={"mean_squared_error": "mse", "mean_absolute_error": "mae"})
serialize = REGISTRY.serialize

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

    ``"accuracy"``/``"acc"`` becomes the accuracy that fits the loss and
    keeps the name the user asked for (``"accuracy"`` stays ``"accuracy"``
    in the History).
    """
    if isinstance(identifier, str) and identifier.strip().lower() in ACCURACY:
        cls = accuracy_class(loss, output_units)
        if cls is BinaryAccuracy and loss is not None and loss.from_logits:
            return cls(name=identifier, threshold=0.0)       # logits: σ(z) > 0.5 ⇔ z > 0
        return cls(name=identifier)
    if isinstance(identifier, str):
        try:
            return REGISTRY.lookup(identifier)()
        except ValueError:
            raise ValueError(f"unknown metric {identifier!r}; valid names are: "
                             f"{', '.join(names())}") from None
    return REGISTRY.get(identifier, "a name or a Metric")
