"""Checks at the public boundary: what users pass to fit, evaluate, predict.

Everything past these checks (the layers, the training loop) trusts its
input and stays free of validation.  Every message says what was expected
and what was received.
"""

from __future__ import annotations

import warnings

import numpy as np

#: a feature whose values spread wider than this suggests unscaled input
UNSCALED_SPREAD = 1e3


def as_matrix(x, name, dtype, n_features=None):
    """Return ``x`` as a C-contiguous (n, features) array of ``dtype``, or raise ValueError."""
    if type(x) is np.ndarray and x.dtype == dtype and x.ndim == 2 and x.shape[0] \
            and x.flags.c_contiguous and (n_features is None or x.shape[1] == n_features):
        check_finite(x, name)             # the common case, checked in a few microseconds
        return x
    if hasattr(x, "to_numpy"):            # pandas DataFrame / Series
        x = x.to_numpy()
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array; received {type(x).__name__} "
                         f"that NumPy cannot convert ({exc})") from None
    if arr.dtype.kind == "O":             # e.g. a DataFrame of bool and int columns
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            pass
    if arr.dtype.kind not in "biuf":
        example = arr.flat[0] if arr.size else None
        raise ValueError(f"{name} must be numeric (bool, int or float); received dtype "
                         f"{arr.dtype} (e.g. {getattr(example, 'item', lambda: example)()!r})"
                         if arr.size else f"{name} must be numeric; received dtype {arr.dtype}")
    if arr.ndim != 2:
        hint = (" For one sample use x.reshape(1, -1); for one feature x.reshape(-1, 1)."
                if arr.ndim == 1 else "")
        raise ValueError(f"{name} must be 2-D of shape (n_samples, n_features); received "
                         f"shape {arr.shape}.{hint}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name} is empty: received shape {arr.shape}; need at least one sample")
    if n_features is not None and arr.shape[1] != n_features:
        raise ValueError(f"{name} has {arr.shape[1]} features per sample but the model expects "
                         f"{n_features}; received shape {arr.shape}")
    arr = np.ascontiguousarray(arr, dtype=dtype)
    check_finite(arr, name)
    return arr


def check_finite(arr, name):
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))
        count = len(bad)
        first = tuple(int(i) for i in bad[0])
        raise ValueError(f"{name} contains {count} NaN or infinite value(s), first at index "
                         f"{first} ({arr[first].item()!r}); remove or impute them before training")


def warn_if_unscaled(x, name="x"):
    """Warn when features spread over more than UNSCALED_SPREAD (training may diverge).

    A heuristic, so it looks at up to 4,096 evenly spaced rows, not all of a big data set.
    """
    x = x[::max(1, len(x) // 4096)]
    spread = x.max(axis=0) - x.min(axis=0)
    widest = int(spread.argmax())
    if spread[widest] > UNSCALED_SPREAD:
        warnings.warn(f"{name} looks unscaled: feature {widest} spans {spread[widest]:.4g} "
                      f"(> {UNSCALED_SPREAD:g}); scale inputs (e.g. "
                      f"glassnet.datasets.StandardScaler) for stable training",
                      UserWarning, stacklevel=3)


def warn_if_one_class_validates(y_train, y_val, loss):
    """Warn when the held-out rows (the last ones) hold one class and the training rows several.

    Data sorted by class (as iris is) would otherwise validate on a class it never trained on.
    """
    if not (loss.sparse or loss.name in ("categorical_crossentropy", "binary_crossentropy")):
        return
    def classes(y):
        return np.unique(y if y.ndim == 1 else (y.argmax(axis=1) if y.shape[1] > 1
                                                else y[:, 0] > 0.5))
    held_out, training = classes(y_val), classes(y_train)
    if len(held_out) == 1 and len(training) > 1:
        warnings.warn(f"validation_split holds out the last rows, and they are all of class "
                      f"{held_out[0].item()!r} while the training rows have {len(training)} "
                      f"classes: the data looks sorted by class. Shuffle it first, or pass "
                      f"validation_data (glassnet.datasets.validation_split(..., rng=...) draws "
                      f"a stratified random sample)", UserWarning, stacklevel=4)


def check_length(x, y, name_y="y"):
    if len(x) != len(y):
        raise ValueError(f"x and {name_y} have different numbers of samples: x has {len(x)}, "
                         f"{name_y} has {len(y)}")


def as_targets(y, loss, units, dtype, name="y"):
    """Targets shaped for ``loss`` and a model with ``units`` outputs.

    Sparse losses get integer labels of shape (n,) in [0, units); the others
    a float (n, units) matrix.  A 1-D y is accepted as one column when
    ``units == 1``.
    """
    if hasattr(y, "to_numpy"):
        y = y.to_numpy()
    try:
        y = np.asarray(y)
    except ValueError as exc:
        raise ValueError(f"{name} must be an array of targets; received {type(y).__name__} that "
                         f"NumPy cannot convert ({exc})") from None
    if y.dtype.kind == "O":
        try:
            y = y.astype(np.float64)
        except (TypeError, ValueError):
            pass
    if y.dtype.kind in "USO":
        example = y.flat[0] if y.size else ""
        example = example.item() if hasattr(example, "item") else example
        raise ValueError(f"{name} holds labels that are not numbers (e.g. {example!r}); encode "
                         f"them first: codes, class_names = glassnet.datasets.encode_labels({name})"
                         f", or use glassnet.sklearn.GlassClassifier, which accepts them")
    if y.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric; received dtype {y.dtype}")
    if y.size == 0:
        raise ValueError(f"{name} is empty: received shape {y.shape}")
    if loss.sparse:
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise ValueError(f"{loss.name} expects integer class labels of shape (n,); received "
                             f"shape {y.shape}. For one-hot targets use "
                             f"'categorical_crossentropy'")
        check_finite(y.astype(np.float64, copy=False), name)
        labels = y.astype(np.int64)
        if not np.array_equal(labels, y):
            bad = y[labels != y][0]
            raise ValueError(f"{loss.name} expects integer class labels; received {bad.item()!r}")
        outside = (labels < 0) | (labels >= units)
        if outside.any():
            bad = labels[outside][0]
            raise ValueError(f"class label {bad} is outside the model's {units} outputs "
                             f"(valid labels are 0..{units - 1})")
        return labels
    if y.ndim == 1:
        if units != 1:
            hint = (" Use 'sparse_categorical_crossentropy' for integer labels, or "
                    "glassnet.datasets.one_hot(y)." if "categorical" in loss.name else "")
            raise ValueError(f"{loss.name} expects targets of shape (n, {units}) for a model with "
                             f"{units} outputs; received shape {y.shape}.{hint}")
        y = y[:, None]
    if y.ndim != 2 or y.shape[1] != units:
        what = "one-hot targets" if "categorical" in loss.name else "targets"
        raise ValueError(f"{loss.name} expects {what} of shape (n, {units}) for a model with "
                         f"{units} outputs; received shape {y.shape}")
    y = np.ascontiguousarray(y, dtype=dtype)
    check_finite(y, name)
    if loss.name in ("binary_crossentropy", "categorical_crossentropy"):
        if y.min() < 0 or y.max() > 1:
            raise ValueError(f"{loss.name} expects targets in [0, 1]; received values from "
                             f"{y.min():g} to {y.max():g}")
    return y


def as_sample_weight(sample_weight, n, dtype):
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
    if w.shape[0] != n:
        raise ValueError(f"sample_weight has {w.shape[0]} entries but x has {n} samples")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("sample_weight must be finite and non-negative")
    return w.astype(dtype)


def as_weight(value, shape, name):
    """A weight array for a view of ``shape``: numeric, finite, exactly that shape."""
    value = np.asarray(value)
    if value.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {tuple(shape)}; received {value.shape}")
    if value.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric; received dtype {value.dtype}")
    check_finite(value.astype(np.float64), name)
    return value


def positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer; received {value!r}")
    return int(value)


def non_negative_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer; received {value!r}")
    return int(value)


def config_keys(config, keys, what):
    """Refuse a config that is not a dict holding ``keys``."""
    if not isinstance(config, dict):
        raise ValueError(f"a {what} config must be a dict; received {type(config).__name__}")
    missing = [k for k in keys if k not in config]
    if missing:
        raise ValueError(f"a {what} config needs the keys {missing}")


def string_list(value, what):
    """``value`` as a list of strings, or ValueError."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{what} must be a list of strings; received {value!r}")
    return value


def strict_bool(value, what):
    """A JSON boolean (True/False), never a string such as "false"."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{what} must be True or False; received {value!r} of type "
                         f"{type(value).__name__}")
    return bool(value)


def real(value, what):
    """A real number (int or float), never a string or a boolean."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer,
                                                                     np.floating)):
        raise ValueError(f"{what} must be a number; received {value!r} of type "
                         f"{type(value).__name__}")
    return float(value)
