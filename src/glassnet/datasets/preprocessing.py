"""Preparing data: splitting, one-hot targets, and scaling that remembers itself."""

from __future__ import annotations

import numpy as np

__all__ = ["train_test_split", "validation_split", "encode_labels", "one_hot", "MinMaxScaler", "StandardScaler"]


def _split_indices(n, n_test, rng, shuffle=True, stratify=None):
    """Row indices (train, test) with ``n_test`` test rows; see :func:`train_test_split`."""
    if stratify is not None:
        labels = np.asarray(stratify)
        test_idx = []
        for cls in np.unique(labels):
            members = np.flatnonzero(labels == cls)
            if shuffle:
                members = rng.permutation(members)
            test_idx.extend(members[:int(round(len(members) * n_test / n))])
        test_mask = np.zeros(n, dtype=bool)
        test_mask[test_idx] = True
        train_idx, test_idx = np.flatnonzero(~test_mask), np.flatnonzero(test_mask)
        if shuffle:
            train_idx, test_idx = rng.permutation(train_idx), rng.permutation(test_idx)
        return train_idx, test_idx
    order = rng.permutation(n) if shuffle else np.arange(n)
    return order[:n - n_test], order[n - n_test:]


def train_test_split(*arrays, test_size=0.25, shuffle=True, stratify=None, seed=None):
    """Split arrays (same first dimension) into train and test parts.

    Returns ``a_train, a_test, b_train, b_test, ...`` like scikit-learn's.
    ``stratify`` (labels) keeps the class proportions in both parts.
    """
    if not arrays:
        raise ValueError("train_test_split needs at least one array")
    arrays = [np.asarray(a) for a in arrays]
    n = len(arrays[0])
    for a in arrays[1:]:
        if len(a) != n:
            raise ValueError(f"all arrays must have the same length; received "
                             f"{[len(b) for b in arrays]}")
    n_test = int(round(test_size * n)) if isinstance(test_size, float) else int(test_size)
    if not 0 < n_test < n:
        raise ValueError(f"test_size={test_size!r} gives {n_test} test samples out of {n}; need "
                         f"at least one in each part")
    train_idx, test_idx = _split_indices(n, n_test, np.random.default_rng(seed), shuffle,
                                         stratify)
    out = []
    for a in arrays:
        out += [a[train_idx], a[test_idx]]
    return out


def validation_split(arrays, fraction, rng=None, stratify=None):
    """Hold out ``fraction`` of the rows for validation.

    Which rows:

    * without ``rng``: the **last** ``round(fraction · n)`` rows, in order, as
      Keras's ``fit(validation_split=...)`` takes them (``Sequential.fit``);
    * with ``rng`` (a ``numpy.random.Generator``): a random sample drawn from
      it, stratified by the labels ``stratify`` when given (the command line
      and the scikit-learn wrappers), so sorted data still validates on
      every class.

    Parameters
    ----------
    arrays : sequence of arrays or None
        Same first dimension; ``None`` entries (no sample weights) stay ``None``.
    fraction : float in (0, 1)

    Returns
    -------
    (train, validation) : two lists, each with one entry per array.
    """
    n = len(next(a for a in arrays if a is not None))
    n_val = int(round(n * fraction))
    if n_val < 1 or n_val >= n:
        raise ValueError(f"a validation fraction of {fraction} of {n} samples leaves "
                         f"{n - n_val} for training and {n_val} for validation; both need at "
                         f"least one")
    if rng is None:
        train_idx, val_idx = slice(0, n - n_val), slice(n - n_val, n)
    else:
        train_idx, val_idx = _split_indices(n, n_val, rng, True, stratify)
    return ([None if a is None else a[train_idx] for a in arrays],
            [None if a is None else a[val_idx] for a in arrays])


def encode_labels(labels, classes=None):
    """Class labels of any kind (names, numbers) → integer codes and the class names.

    Parameters
    ----------
    labels : array-like (n,)
    classes : sequence, optional
        The classes in the order of the codes; default: the sorted distinct labels.

    Returns
    -------
    codes : int64 array (n,), ``classes[codes[i]] == labels[i]``
    classes : tuple of str
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"encode_labels expects labels of shape (n,); received {labels.shape}")
    found = np.unique(labels)
    order = found if classes is None else np.asarray(classes)
    unknown = np.setdiff1d(found, order)
    if unknown.size:
        raise ValueError(f"labels {unknown.tolist()[:5]} are not among the classes "
                         f"{order.tolist()}")
    codes = np.searchsorted(order, labels) if classes is None \
        else np.array([list(order).index(v) for v in found])[np.searchsorted(found, labels)]
    return codes.astype(np.int64), tuple(str(c) for c in order.tolist())


def one_hot(labels, num_classes=None, dtype=np.float32):
    """Integer labels (n,) → one-hot matrix (n, num_classes)."""
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1 or labels.dtype.kind not in "iub" and not (
            labels.dtype.kind == "f" and np.all(labels == np.round(labels))):
        raise ValueError(f"one_hot expects integer labels of shape (n,); received dtype "
                         f"{labels.dtype} and shape {labels.shape}")
    labels = labels.astype(np.int64)
    k = int(labels.max()) + 1 if num_classes is None else int(num_classes)
    if labels.min() < 0 or labels.max() >= k:
        raise ValueError(f"labels must lie in 0..{k - 1}; received values from {labels.min()} "
                         f"to {labels.max()}")
    out = np.zeros((labels.size, k), dtype=dtype)
    out[np.arange(labels.size), labels] = 1
    return out


class _Scaler:
    """fit learns per-feature parameters; transform applies them; both return arrays."""

    def fit(self, X):
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] == 0:
            raise ValueError(f"{type(self).__name__}.fit expects a 2-D array with at least one "
                             f"row; received shape {X.shape}")
        self._fit(X)
        return self

    def fit_transform(self, X):
        return self.fit(X).transform(X)

    def _check(self, X):
        if not hasattr(self, "offset_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted; call fit(X) first")
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[1] != self.offset_.shape[0]:
            raise ValueError(f"{type(self).__name__} was fitted on {self.offset_.shape[0]} "
                             f"features; received shape {X.shape}")
        return X

    def transform(self, X):
        """``(X - offset) / scale``, in X's float type (float32 stays float32)."""
        X = self._check(X)
        dtype = X.dtype if X.dtype.kind == "f" else np.float32
        return ((X - self.offset_) / self.scale_).astype(dtype)

    def inverse_transform(self, X):
        X = self._check(X)
        dtype = X.dtype if X.dtype.kind == "f" else np.float32
        return (X * self.scale_ + self.offset_).astype(dtype)


class MinMaxScaler(_Scaler):
    """Scale each feature to [0, 1] by its minimum and range seen in ``fit``.

    Constant features get scale 1 (they map to 0).
    """

    def _fit(self, X):
        self.offset_ = X.min(axis=0)
        span = X.max(axis=0) - self.offset_
        self.scale_ = np.where(span > 0, span, 1.0)


class StandardScaler(_Scaler):
    """Scale each feature to mean 0 and standard deviation 1, as seen in ``fit``."""

    def _fit(self, X):
        self.offset_ = X.mean(axis=0)
        std = X.std(axis=0)
        self.scale_ = np.where(std > 0, std, 1.0)
