"""Saving and loading models: one zip file, no pickle, atomic writes.

A model file is a zip archive holding

``glassnet.json``
    format name and version, the architecture (``Sequential.get_config``),
    the compile settings (loss, optimizer with its step count, metrics), the
    training History and the state of the model's random generator;
``params.npy``
    the flat parameter vector ([W1, b1, W2, b2, ...] back to back);
``optimizer/<name>.npy``
    each optimizer state vector (Adam's m and v, momentum buffers, ...).

So a loaded model predicts bit-identically and resumes training exactly as
the original would have.

Loading treats the file as untrusted: arrays are read with
``allow_pickle=False`` after their header (dtype, shape) has been checked
against the architecture; members, sizes and JSON fields it does not expect
are refused with a ``ValueError`` naming the file.  Nothing in a model file
can run code.

Saving writes a temporary file in the target directory, flushes and fsyncs
it, then renames it over the target with ``os.replace``: the old file stays
intact until the new one is complete, and a failed save leaves no
temporary file behind.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import tempfile
import zipfile

import numpy as np

FORMAT = "glassnet"
FORMAT_VERSION = 1
_JSON = "glassnet.json"
_PARAMS = "params.npy"
_OPT_PREFIX = "optimizer/"
#: the JSON part of a model file is small; anything larger is not one of ours
MAX_JSON_BYTES = 16 * 1024 * 1024

__all__ = ["save_model", "load_model", "atomic_write", "FORMAT_VERSION"]


def _to_bytes(array):
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


def atomic_write(path, write):
    """Call ``write(file)`` on a temporary file next to ``path``, then move it into place.

    Raises ``OSError`` naming ``path`` if anything fails; ``path`` is then
    untouched and the temporary file removed.
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp",
                                   dir=directory)
    except OSError as exc:
        raise OSError(exc.errno, f"cannot save to {path!r}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise OSError(exc.errno, f"saving {path!r} failed ({exc.strerror or exc}); "
                                     f"any existing file there is unchanged") from exc
        raise
    with contextlib.suppress(OSError):           # make the rename itself durable
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def save_model(model, path):
    """Write ``model`` to ``path`` atomically (see the module docstring)."""
    from . import __version__
    from ._registry import serialize
    if not model.built:
        raise ValueError("cannot save a model that has no weights yet; build, fit or "
                         "set_weights first")
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "glassnet_version": __version__,
            "model": model.get_config(),
            "rng_state": model.rng.bit_generator.state,
            "history": {"history": model.history.history, "epoch": model.history.epoch},
            "compile": None}
    arrays = {_PARAMS: model.params}
    if model.loss is not None:
        opt = model.optimizer
        meta["compile"] = {"loss": serialize(model.loss),
                           "optimizer": serialize(opt), "iterations": opt.iterations,
                           "metrics": [m if isinstance(m, str) else m.name
                                       for m in model._metric_ids]}
        for key, value in opt.state.items():
            arrays[_OPT_PREFIX + key + ".npy"] = value

    def write(handle):
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as archive:
            archive.writestr(_JSON, json.dumps(meta, indent=1, default=_json_default))
            for name, array in arrays.items():
                archive.writestr(name, _to_bytes(array))

    atomic_write(path, write)


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__} in a model file")


class _Reader:
    """Reads one model file, turning every way it can be wrong into a ValueError."""

    def __init__(self, path):
        self.path = os.fspath(path)

    def fail(self, why):
        return ValueError(f"{self.path!r} is not a valid glassnet model file: {why}")

    def read(self):
        try:
            archive = zipfile.ZipFile(self.path)
        except FileNotFoundError:
            raise
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise self.fail(f"it is not a readable zip archive ({exc})") from None
        with archive:
            return self._read(archive)

    def _read(self, archive):
        infos = {info.filename: info for info in archive.infolist()}
        if _JSON not in infos:
            raise self.fail(f"it has no {_JSON}")
        meta = self._json(archive, infos[_JSON])
        allowed = {_JSON, _PARAMS}
        compile_cfg = meta.get("compile")
        model = self._model(meta)
        if compile_cfg is not None:
            optimizer = self._compile(model, compile_cfg)
            allowed |= {_OPT_PREFIX + k + ".npy" for k in optimizer.state_names}
        unknown = sorted(set(infos) - allowed)
        if unknown:
            raise self.fail(f"it contains unexpected members {unknown}")
        if _PARAMS not in infos:
            raise self.fail(f"it has no {_PARAMS}")
        params = self._array(archive, infos[_PARAMS], model.params.shape, model.dtype)
        model.params[...] = params
        if compile_cfg is not None:
            opt = model.optimizer
            opt.build(model.params.size, model.dtype)
            for key in opt.state_names:
                name = _OPT_PREFIX + key + ".npy"
                if name not in infos:
                    raise self.fail(f"the optimizer state {name} is missing")
                opt.state[key][...] = self._array(archive, infos[name], model.params.shape,
                                                  model.dtype)
        return model

    def _json(self, archive, info):
        if info.file_size > MAX_JSON_BYTES:
            raise self.fail(f"{_JSON} is {info.file_size} bytes (at most {MAX_JSON_BYTES})")
        try:
            meta = json.loads(archive.read(info).decode("utf-8"))
        except (zipfile.BadZipFile, OSError, EOFError, UnicodeDecodeError, ValueError) as exc:
            raise self.fail(f"{_JSON} cannot be read ({exc})") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise self.fail("its metadata does not say format 'glassnet'")
        version = meta.get("format_version")
        if version != FORMAT_VERSION:
            raise self.fail(f"format version {version!r} is not supported (this glassnet reads "
                            f"version {FORMAT_VERSION}); upgrade glassnet to load it")
        return meta

    def _model(self, meta):
        from .layers import get as get_layer
        from .model import Sequential
        config = meta.get("model")
        try:
            if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
                raise ValueError("it has no layer list")
            model = Sequential([get_layer(c) for c in config["layers"]],
                               dtype=config.get("dtype", "float32"), seed=config.get("seed"),
                               name=config.get("name"))
            input_dim = config.get("input_dim")
            if isinstance(input_dim, bool) or not isinstance(input_dim, int) or input_dim < 1:
                raise ValueError(f"input_dim {input_dim!r} is not a positive integer")
            model.build(input_dim)
            if meta.get("rng_state") is not None:
                model.rng.bit_generator.state = meta["rng_state"]
            history = meta.get("history") or {}
            if isinstance(history.get("history"), dict) and isinstance(history.get("epoch"), list):
                model.history.history = {str(k): [float(v) for v in vals]
                                         for k, vals in history["history"].items()}
                model.history.epoch = [int(e) for e in history["epoch"]]
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise self.fail(f"its architecture is invalid ({exc})") from None
        return model

    def _compile(self, model, cfg):
        from . import losses, optimizers
        try:
            model.compile(losses.get(cfg["loss"]), optimizers.get(cfg["optimizer"]),
                          metrics=list(cfg.get("metrics") or []))
            iterations = cfg.get("iterations", 0)
            if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 0:
                raise ValueError(f"iterations {iterations!r} is not a non-negative integer")
            model.optimizer.iterations = iterations
        except (ValueError, TypeError, KeyError) as exc:
            raise self.fail(f"its compile settings are invalid ({exc})") from None
        return model.optimizer

    def _array(self, archive, info, shape, dtype):
        expected = 128 + math.prod(shape) * dtype.itemsize
        if info.file_size > expected + 4096:
            raise self.fail(f"{info.filename} is {info.file_size} bytes, far more than an array "
                            f"of shape {shape} needs")
        try:
            with archive.open(info) as handle:
                data = handle.read()
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
            raise self.fail(f"{info.filename} cannot be read ({exc})") from None
        buffer = io.BytesIO(data)
        try:
            version = np.lib.format.read_magic(buffer)
            read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                           (2, 0): np.lib.format.read_array_header_2_0}.get(version)
            if read_header is None:
                raise ValueError(f"unsupported .npy version {version}")
            header = read_header(buffer, max_header_size=4096)
        except (ValueError, OSError, EOFError) as exc:
            raise self.fail(f"{info.filename} is not a .npy array ({exc})") from None
        found_shape, fortran, found_dtype = header
        if found_dtype.hasobject:
            raise self.fail(f"{info.filename} holds Python objects (pickle), which glassnet "
                            f"never loads")
        if found_dtype != dtype or tuple(found_shape) != tuple(shape):
            raise self.fail(f"{info.filename} has dtype {found_dtype} and shape "
                            f"{tuple(found_shape)}; the architecture needs {dtype} {tuple(shape)}")
        buffer.seek(0)
        try:
            array = np.load(buffer, allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise self.fail(f"{info.filename} is truncated or damaged ({exc})") from None
        if not np.isfinite(array).all():
            raise self.fail(f"{info.filename} contains NaN or infinite values")
        return array


def load_model(path):
    """Load a model saved by :meth:`Sequential.save`.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If the file is not a valid glassnet model (naming the file and the reason).
    """
    return _Reader(path).read()
