"""scikit-learn estimators: glassnet networks in pipelines, cross-validation and searches.

Needs scikit-learn (``pip install 'glassnet[sklearn]'``)::

    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from glassnet.sklearn import GlassClassifier

    clf = make_pipeline(StandardScaler(), GlassClassifier(hidden_layer_sizes=(64,)))
    clf.fit(X_train, y_train).score(X_test, y_test)

Both estimators follow scikit-learn's rules for estimators: the constructor
only stores its arguments, ``fit`` validates the data and builds a fresh
:class:`glassnet.Sequential` (``model_``), whose training History is
``history_``.  ``random_state`` is the network's seed.  The wrappers train in
float64 by default so that predictions do not depend on how rows are batched
(scikit-learn checks this to 1e-7); pass ``dtype="float32"`` for speed.
"""

from __future__ import annotations

import numpy as np

try:
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.preprocessing import LabelEncoder
    from sklearn.utils.multiclass import check_classification_targets
    from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data
except ImportError as exc:  # pragma: no cover - exercised only without scikit-learn
    raise ImportError("glassnet.sklearn needs scikit-learn: pip install 'glassnet[sklearn]'") \
        from exc

from . import callbacks as callbacks_module
from .datasets.preprocessing import validation_split
from .optimizers import Optimizer
from .model import build_mlp

__all__ = ["GlassClassifier", "GlassRegressor"]


class _GlassEstimator(BaseEstimator):
    """What the classifier and the regressor share: the network and its training."""

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", optimizer="adam",
                 learning_rate=1e-3, epochs=200, batch_size=32, validation_fraction=0.1,
                 early_stopping=False, n_iter_no_change=10, random_state=None,
                 dtype="float64", verbose=0, device="cpu"):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.validation_fraction = validation_fraction
        self.early_stopping = early_stopping
        self.n_iter_no_change = n_iter_no_change
        self.random_state = random_state
        self.dtype = dtype
        self.verbose = verbose
        self.device = device

    # subclasses define: _task ("multiclass" or "regression"), _prepare
    def _seed(self):
        rs = self.random_state
        if isinstance(rs, np.random.RandomState):
            return int(rs.randint(2 ** 31 - 1))
        return rs

    def _build(self, n_features, n_outputs):
        sizes = self.hidden_layer_sizes
        sizes = [sizes] if isinstance(sizes, (int, np.integer)) else list(sizes)
        model = build_mlp(n_outputs, self._task, sizes, self.activation, self.optimizer,
                          None if isinstance(self.optimizer, Optimizer) else self.learning_rate,
                          dtype=self.dtype, seed=self._seed(), device=self.device)
        return model.build(n_features)

    def _train(self, X, y, epochs):
        callbacks, validation = [], None
        n = len(X)
        if self.early_stopping and n >= 4:
            # a random sample from the network's own generator (not the last rows)
            fraction = max(1, round(self.validation_fraction * n)) / n
            (X, y), validation = validation_split([X, y], fraction, rng=self.model_.rng)
            callbacks.append(callbacks_module.EarlyStopping(
                "val_loss", patience=self.n_iter_no_change, restore_best_weights=True))
        self.model_.fit(X, y, epochs=epochs, batch_size=min(self.batch_size, len(X)),
                        validation_data=validation, callbacks=callbacks, verbose=self.verbose)
        self.history_ = self.model_.history
        self.loss_curve_ = list(self.history_.history.get("loss", []))
        self.n_iter_ = len(self.history_.epoch)
        return self

    def _predict_raw(self, X):
        check_is_fitted(self, "model_")
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        return self.model_.predict(X)


class GlassClassifier(ClassifierMixin, _GlassEstimator):
    """A glassnet network as a scikit-learn classifier: softmax over the classes.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default (100,)
    activation : str, default "relu"
        Hidden-layer activation (see :mod:`glassnet.activations`).
    optimizer : str or Optimizer, default "adam"
    learning_rate : float, default 1e-3
        Used when ``optimizer`` is a name.
    epochs : int, default 200
    batch_size : int, default 32
    validation_fraction : float, default 0.1
        Held out for early stopping.
    early_stopping : bool, default False
        Stop when the validation loss has not improved for ``n_iter_no_change``
        epochs and keep the best weights.
    n_iter_no_change : int, default 10
    random_state : int or None
        Seed of the network's random generator (initial weights, shuffling).
    dtype : {"float64", "float32"}
    verbose : int, default 0
    device : {"cpu", "cuda"}, default "cpu"
        Train on the CPU, or on an NVIDIA GPU through CuPy (``glassnet[cuda]``).
        scikit-learn hands NumPy arrays in and gets NumPy arrays back either way.

    Attributes
    ----------
    classes_ : array of the class labels
    model_ : glassnet.Sequential
    history_ : glassnet.History
    loss_curve_ : list of float
    n_features_in_, feature_names_in_ : as in scikit-learn
    """

    _task = "multiclass"

    def _prepare(self, X, y, reset):
        X, y = validate_data(self, X, y, reset=reset, dtype=[np.float64, np.float32])
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        return X, y

    def fit(self, X, y):
        """Train a new network on (X, y); returns self."""
        X, y = self._prepare(X, y, reset=True)
        self._encoder = LabelEncoder().fit(y)
        self.classes_ = self._encoder.classes_
        if len(self.classes_) < 2:
            raise ValueError(f"GlassClassifier needs at least 2 classes; y has only one class "
                             f"({self.classes_[0]!r})")
        self.model_ = self._build(X.shape[1], len(self.classes_))
        return self._train(X, self._encoder.transform(y), self.epochs)

    def partial_fit(self, X, y, classes=None):
        """One epoch on (X, y), continuing training; the first call needs ``classes``."""
        first = not hasattr(self, "model_")
        X, y = self._prepare(X, y, reset=first)
        if first:
            if classes is None:
                raise ValueError("the first call to partial_fit needs classes=[...] listing "
                                 "every class")
            self._encoder = LabelEncoder().fit(np.asarray(classes))
            self.classes_ = self._encoder.classes_
            self.model_ = self._build(X.shape[1], len(self.classes_))
        unknown = np.setdiff1d(np.unique(y), self.classes_)
        if unknown.size:
            raise ValueError(f"y contains labels {unknown.tolist()} not among classes "
                             f"{self.classes_.tolist()}")
        return self._train(X, self._encoder.transform(y), 1)

    def predict_proba(self, X):
        """Class probabilities, shape (n_samples, n_classes), columns in ``classes_`` order."""
        return self._predict_raw(X)

    def predict(self, X):
        """The most probable class of each sample."""
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]


class GlassRegressor(RegressorMixin, _GlassEstimator):
    """A glassnet network as a scikit-learn regressor: linear outputs, mean squared error.

    Parameters are those of :class:`GlassClassifier`.  ``y`` may have one
    column or several (multi-output regression).
    """

    _task = "regression"

    def _prepare(self, X, y, reset):
        X, y = validate_data(self, X, y, reset=reset, dtype=[np.float64, np.float32],
                             multi_output=True, y_numeric=True)
        y = np.asarray(y, dtype=np.float64)
        self._y_1d = y.ndim == 1 if reset else self._y_1d
        return X, (y[:, None] if y.ndim == 1 else y)

    def fit(self, X, y):
        """Train a new network on (X, y); returns self."""
        X, y = self._prepare(X, y, reset=True)
        self.model_ = self._build(X.shape[1], y.shape[1])
        return self._train(X, y, self.epochs)

    def partial_fit(self, X, y):
        """One epoch on (X, y), continuing training (builds the network on the first call)."""
        first = not hasattr(self, "model_")
        X, y = self._prepare(X, y, reset=first)
        if first:
            self.model_ = self._build(X.shape[1], y.shape[1])
        elif y.shape[1] != self.model_.output_dim:
            raise ValueError(f"y has {y.shape[1]} outputs but the network was built for "
                             f"{self.model_.output_dim}")
        return self._train(X, y, 1)

    def predict(self, X):
        """Predicted targets, shape (n_samples,) or (n_samples, n_outputs) as in fit."""
        out = self._predict_raw(X)
        return out[:, 0] if self._y_1d else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
