"""``save_weights`` / ``load_weights``: the weights alone, for a model built the same way.

Two formats, chosen by the file's name:

* ``*.weights.h5`` — Keras 3's name, written and read with ``h5py`` (``pip install
  'glassnet[h5]'``): one group per layer, ``layers/<name>/vars/<i>``;
* any other name — glassnet's own zip (:mod:`glassnet.serialization`): the flat
  vector ``model.variables`` and, in the JSON, each layer's name and shapes.

Both are read as untrusted: every layer's name and every array's shape are
compared with the model's before anything the size of the weights is read, and
a mismatch is a ``ValueError`` that names the first difference.
"""

from __future__ import annotations

import io
import os

import numpy as np

from .. import _validation as check
from .. import serialization
from ..backend import to_host, to_module
from ..io import atomic_write

__all__ = ["save_weights", "load_weights"]

#: what glassnet's own weights file says it is
KIND = "weights"


def _layout(model):
    return [{"name": layer.name, "shapes": [list(w.shape) for w in layer.bound_weights]}
            for layer in model.layers]


def _is_h5(path):
    return os.fspath(path).endswith(".h5")


def _h5py():
    try:
        import h5py
    except ImportError:
        raise ImportError("a .weights.h5 file needs h5py: pip install 'glassnet[h5]' (or give "
                          "another name to use glassnet's own format)") from None
    return h5py


def save_weights(model, path, overwrite=None):
    """Write the model's weights to ``path`` (see the module docstring for the formats)."""
    if not model.built:
        raise ValueError("cannot save the weights of a model that has none yet; build or fit "
                         "it first")
    model.claim_weights()
    if not _is_h5(path):
        serialization.write_model_file(path, {"kind": KIND, "layers": _layout(model)},
                                       {serialization.PARAMS: to_host(model.variables)},
                                       overwrite=overwrite)
        return
    h5py = _h5py()
    buffer = io.BytesIO()                 # h5py writes to a file it can also read and seek
    with h5py.File(buffer, "w") as f:
        group = f.create_group("layers")
        for layer in model.layers:
            arrays = group.create_group(layer.name).create_group("vars")
            for i, w in enumerate(layer.bound_weights):
                arrays.create_dataset(str(i), data=np.asarray(to_host(w)))
    atomic_write(path, lambda handle: handle.write(buffer.getvalue()), overwrite=overwrite)


def load_weights(model, path):
    """Read weights saved by :func:`save_weights` into ``model`` (built the same way)."""
    if not model.built:
        raise ValueError("load_weights needs a built model (the same architecture, built): "
                         "give it its input width first")
    model.claim_weights()
    if _is_h5(path):
        return _load_h5(model, path)
    with serialization.ModelFile(path) as file:
        meta = file.meta
        with file.reason("it is not a weights file of this model"):
            if meta.get("kind") != KIND:
                raise ValueError("it holds no weights (save it with model.save_weights)")
            _compare(meta.get("layers"), _layout(model))
        file.check_members({serialization.PARAMS})
        values = file.array(serialization.PARAMS, model.variables.shape, model.dtype)
    model.variables[...] = to_module(values, model.xp)


def _compare(saved, mine):
    if not isinstance(saved, list) or len(saved) != len(mine):
        raise ValueError(f"it has {len(saved) if isinstance(saved, list) else 'no'} layers; the "
                         f"model has {len(mine)}")
    for s, m in zip(saved, mine):
        if s != m:
            raise ValueError(f"layer {m['name']!r} has weights of shapes {m['shapes']}; the "
                             f"file holds {s!r:.200}")


def _load_h5(model, path):
    h5py = _h5py()
    name = os.fspath(path)
    if not os.path.isfile(name):
        raise FileNotFoundError(f"no weights file at {name!r}")
    try:
        with h5py.File(name, "r") as f:
            group = f.get("layers")
            if not isinstance(group, h5py.Group):
                raise ValueError("it has no 'layers' group")
            pending = []
            for layer in model.layers:           # every shape checked before any read
                views = layer.bound_weights
                arrays = group.get(f"{layer.name}/vars") if views else None
                if views and not isinstance(arrays, h5py.Group):
                    raise ValueError(f"it has no weights for layer {layer.name!r}")
                for i, view in enumerate(views):
                    data = arrays.get(str(i))
                    if not isinstance(data, h5py.Dataset) or data.shape != view.shape \
                            or data.dtype.kind != "f":
                        raise ValueError(f"layer {layer.name!r} weight {i} should be a float "
                                         f"array of shape {view.shape}")
                    pending.append((view, data))
            values = [check.as_weight(data[()], view.shape, "a weight")
                      for view, data in pending]
    except (OSError, KeyError) as exc:
        raise ValueError(f"{name!r} is not a readable .weights.h5 file ({exc})") from None
    except ValueError as exc:
        raise ValueError(f"{name!r} does not hold this model's weights: {exc}") from None
    for (view, _), value in zip(pending, values):
        view[...] = to_module(value, model.xp)
