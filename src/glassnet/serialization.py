"""The model file: one zip, no pickle, atomic writes, untrusted on reading.

A model file is a zip archive holding

``glassnet.json``
    format name and version, the architecture (``Sequential.get_config``),
    the compile settings (loss, optimizer with its step count, metrics), the
    training History and the state of the model's random generator;
``params.npy``
    the flat weight vector ``model.variables`` ([W1, b1, W2, b2, ...] back to
    back, then the untrained arrays such as moving averages);
``optimizer/<name>.npy``
    each optimizer state vector (Adam's m and v, momentum buffers, ...).

So a loaded model predicts bit-identically and resumes training exactly as
the original would have.  This module knows the file format; what goes into
it and how a model is rebuilt from it is :meth:`glassnet.Sequential.save` and
:func:`glassnet.load_model`.

Reading treats the file as untrusted.  Nothing in a model file can run code
(arrays are read with ``allow_pickle=False``), and opening one costs memory and
time proportional to the file's own size, never to what it claims:

* the zip directory is checked first: no duplicate members, every array
  stored uncompressed, every member's declared size inside the file;
* the JSON part is at most ``MAX_JSON_BYTES`` and at most ``MAX_JSON_DEPTH``
  levels deep;
* the architecture's weight count is compared with the shape in the
  ``.npy`` header of ``params.npy`` (read alone, at most 4 KB) *before* the
  model allocates its weights, so a file can only make glassnet allocate
  what the file itself holds;
* every array is then read in exactly the dtype and shape the architecture
  needs.  The weights (``params.npy``) must be finite; so :func:`write_model_file`
  refuses to write weights that are not, and what ``save`` writes always
  loads.  The optimizer's state may hold ``inf`` or ``NaN`` (Adam's second
  moment overflows when gradients pass about 1.8e19 in float32): it is loaded as
  it was saved, with a warning, since it only matters for training on.

Every way a file can be wrong is a ``ValueError`` naming the file and the
reason (``FileNotFoundError`` and ``PermissionError`` stay the operating
system's).  Writing goes through :func:`glassnet.io.atomic_write`.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import re
import stat
import struct
import warnings
import zipfile
import zlib

import numpy as np

from .io import atomic_write

FORMAT = "glassnet"
FORMAT_VERSION = 2
#: versions this glassnet reads: 1 (glassnet 0.1; flat {"name": ...} configs) and 2
READABLE_VERSIONS = (1, 2)
_JSON = "glassnet.json"
PARAMS = "params.npy"
_OPT_PREFIX = "optimizer/"
#: the JSON part of a model file is small; anything larger is not one of ours
MAX_JSON_BYTES = 16 * 1024 * 1024
#: glassnet's own JSON nests a few levels (a layer's activation's config)
MAX_JSON_DEPTH = 32
#: the most members a model file's zip may list (a model file has a handful)
MAX_MEMBERS = 64
#: the most JSON objects and arrays the metadata may hold (each costs Python memory)
MAX_JSON_CONTAINERS = 300_000

__all__ = ["ModelFile", "write_model_file", "optimizer_member", "PARAMS", "FORMAT_VERSION",
           "MAX_JSON_BYTES", "MAX_JSON_DEPTH"]


def _to_bytes(array):
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
    return buffer.getvalue()


# a JSON string, matched possessively (no backtracking: memory does not grow with its
# length), or a bracket
_BRACKETS = re.compile(r'"(?:[^"\\]++|\\.)*+"|[\[\]{}]')


def _check_depth(text):
    """Refuse JSON nested deeper than MAX_JSON_DEPTH, before the parser recurses into it."""
    depth = containers = 0
    for token in _BRACKETS.finditer(text):
        bracket = token.group()
        if bracket in "[{":
            depth += 1
            containers += 1
            if depth > MAX_JSON_DEPTH:
                raise ValueError(f"it nests deeper than {MAX_JSON_DEPTH} levels")
            if containers > MAX_JSON_CONTAINERS:
                raise ValueError(f"it holds more than {MAX_JSON_CONTAINERS:,} JSON objects and "
                                 f"arrays")
        elif bracket in "]}":
            depth -= 1


def _check_regular_file(path, fail):
    """Refuse devices, FIFOs, sockets and directories by name, before opening anything."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"no model file at {path!r}") from None
    if stat.S_ISDIR(mode):
        raise fail("it is a directory")
    if not stat.S_ISREG(mode):
        kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(mode) else
                "a character device" if stat.S_ISCHR(mode) else
                "a block device" if stat.S_ISBLK(mode) else
                "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
        raise fail(f"it is {kind}, not a file")


def _zip_entries(path):
    """How many members ``zipfile`` will find in the zip's directory, counting at most
    ``MAX_MEMBERS + 1`` (0 when ``zipfile`` will refuse the file anyway).

    ``zipfile`` turns the whole directory into Python objects as it opens a file (300,000
    empty members, a 15 MB file, cost it 160 MB and seconds).  This walks the same
    directory first, the way ``zipfile`` will: from the end record that ``zipfile``'s own
    reader finds (the last one, after a comment, or its zip64 record), member by member
    through the directory's size in bytes -- not by the count the end record declares,
    which ``zipfile`` ignores and a file can fake -- reading one 46-byte header per member
    and stopping after ``MAX_MEMBERS + 1``.
    """
    with open(path, "rb") as handle:
        try:
            end = zipfile._EndRecData(handle)         # the record zipfile itself will use
            if not end:
                return 0
            size = end[5]                              # the directory's size in bytes
            start = end[9] - size                      # it ends where the end record starts
            if end[0] == b"PK\x06\x06":                # (or its zip64 record and locator)
                start -= 56 + 20
            handle.seek(start)
        except (OSError, zipfile.BadZipFile):
            return 0
        entries = total = 0
        while total < size and entries <= MAX_MEMBERS:
            header = handle.read(46)
            if total + 46 > size or len(header) < 46 or header[:4] != b"PK\x01\x02":
                return 0                               # zipfile refuses the directory
            skip = sum(struct.unpack("<3H", header[28:34]))   # name, extra field, comment
            handle.seek(skip, os.SEEK_CUR)
            total += 46 + skip
            entries += 1
    return entries


def optimizer_member(key):
    """The zip member that holds the optimizer state vector ``key``."""
    return f"{_OPT_PREFIX}{key}.npy"


def write_model_file(path, meta, arrays, overwrite=None):
    """Write ``meta`` (JSON-able dict) and ``arrays`` (member name → array) atomically.

    ``overwrite`` is :func:`glassnet.io.atomic_write`'s: None replaces a writable
    file and refuses a read-only one, True replaces any, False none.

    Raises
    ------
    ValueError
        When the weights (``params.npy``) hold NaN or infinite values: such a
        file would not load, so it is not written (the existing file stays).
    """
    params = arrays.get(PARAMS)
    if params is not None and not np.isfinite(params).all():
        bad = int(np.flatnonzero(~np.isfinite(np.ravel(params)))[0])
        raise ValueError(f"cannot save to {os.fspath(path)!r}: the model's weights hold NaN or "
                         f"infinite values (the first at index {bad} of model.variables), and "
                         f"a model file holds finite weights only; restore finite weights "
                         f"(fit does so when it raises TrainingDiverged) before saving")
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION, **meta}

    def write(handle):
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as archive:
            archive.writestr(_JSON, json.dumps(meta, indent=1, default=_json_default))
            for name, array in arrays.items():
                archive.writestr(name, _to_bytes(array))

    atomic_write(path, write, overwrite=overwrite)


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot store {type(value).__name__} in a model file")


class ModelFile:
    """One model file, opened for reading; every way it can be wrong is a ValueError.

    Use as a context manager.  :attr:`meta` is the checked JSON part;
    :meth:`check_array` and :meth:`array` read arrays only in the dtype and
    shape the caller (who knows the architecture) expects;
    :meth:`check_members` refuses members nobody asked for.
    """

    def __init__(self, path):
        self.path = os.fspath(path)
        _check_regular_file(self.path, self.fail)
        if _zip_entries(self.path) > MAX_MEMBERS:
            raise self.fail(f"its zip directory lists more than {MAX_MEMBERS} members (a model "
                            f"file has at most {MAX_MEMBERS})")
        try:
            self.archive = zipfile.ZipFile(self.path)
        except (FileNotFoundError, PermissionError, IsADirectoryError):
            raise                                  # the operating system's own refusals
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
            raise self.fail(f"it is not a readable zip archive ({exc})") from None
        try:
            self.infos = self._directory(os.path.getsize(self.path))
            self.meta = self._json(self._info(_JSON))
        except BaseException:
            self.archive.close()
            raise

    def _directory(self, file_size):
        """The members by name, once the zip directory has been checked against the file."""
        infos = {}
        for info in self.archive.infolist():
            if info.filename in infos:
                raise self.fail(f"it holds {info.filename} twice")
            if info.header_offset + info.compress_size > file_size:
                raise self.fail(f"its directory says {info.filename} has {info.compress_size} "
                                f"bytes at offset {info.header_offset}, past the end of the "
                                f"{file_size}-byte file")
            if info.filename.endswith(".npy") and (info.compress_type != zipfile.ZIP_STORED
                                                   or info.compress_size != info.file_size):
                raise self.fail(f"{info.filename} is compressed; glassnet stores arrays "
                                f"uncompressed, so that their size is bounded by the file's")
            infos[info.filename] = info
        return infos

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.archive.close()
        return False

    def fail(self, why):
        return ValueError(f"{self.path!r} is not a valid glassnet model file: {why}")

    @contextlib.contextmanager
    def reason(self, what):
        """Turn errors from rebuilding the model into a ValueError naming the file."""
        try:
            yield
        except (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError,
                RecursionError) as exc:
            raise self.fail(f"{what} ({exc})") from None

    def _read(self, info, size=-1):
        """Up to ``size`` bytes of a member; any way the zip can fail is a ValueError."""
        try:
            with self.archive.open(info) as handle:
                return handle.read(size)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error,
                NotImplementedError, RuntimeError) as exc:     # (encrypted, unknown methods)
            raise self.fail(f"{info.filename} cannot be read ({exc})") from None

    def check_members(self, allowed):
        unknown = sorted(set(self.infos) - set(allowed) - {_JSON})
        if unknown:
            raise self.fail(f"it contains unexpected members {unknown}")

    def _json(self, info):
        if info.file_size > MAX_JSON_BYTES:
            raise self.fail(f"{_JSON} is {info.file_size} bytes (at most {MAX_JSON_BYTES})")
        try:
            text = self._read(info, MAX_JSON_BYTES + 1).decode("utf-8")
            if len(text) > MAX_JSON_BYTES:
                raise ValueError(f"it is more than {MAX_JSON_BYTES} bytes")
            _check_depth(text)
            meta = json.loads(text)
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise self.fail(f"{_JSON} cannot be read ({exc})") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise self.fail("its metadata does not say format 'glassnet'")
        version = meta.get("format_version")
        if isinstance(version, bool) or not isinstance(version, int) \
                or version not in READABLE_VERSIONS:
            raise self.fail(f"format version {version!r} is not supported (this glassnet reads "
                            f"versions {READABLE_VERSIONS}); upgrade glassnet to load it")
        return meta

    def check_array(self, name, shape, dtype):
        """Check that member ``name`` is a .npy array of ``shape`` and ``dtype``, reading only its header."""
        self._header(name, shape, dtype)

    def _info(self, name):
        if name not in self.infos:
            raise self.fail(f"it has no {name}")
        return self.infos[name]

    def _header(self, name, shape, dtype):
        info = self._info(name)
        needed = math.prod(shape) * dtype.itemsize
        if info.file_size < needed:
            raise self.fail(f"{info.filename} holds {info.file_size} bytes, fewer than the "
                            f"{needed} that the architecture's {dtype} array of shape "
                            f"{tuple(shape)} needs")
        expected = 128 + needed
        if info.file_size > expected + 4096:
            raise self.fail(f"{info.filename} is {info.file_size} bytes, far more than an array "
                            f"of shape {shape} needs")
        buffer = io.BytesIO(self._read(info, 4096 + 16))
        try:
            version = np.lib.format.read_magic(buffer)
            read_header = {(1, 0): np.lib.format.read_array_header_1_0,
                           (2, 0): np.lib.format.read_array_header_2_0}.get(version)
            if read_header is None:
                raise ValueError(f"unsupported .npy version {version}")
            found_shape, _, found_dtype = read_header(buffer, max_header_size=4096)
        except (ValueError, OSError, EOFError) as exc:
            raise self.fail(f"{info.filename} is not a .npy array ({exc})") from None
        if found_dtype.hasobject:
            raise self.fail(f"{info.filename} holds Python objects (pickle), which glassnet "
                            f"never loads")
        if found_dtype != dtype or tuple(found_shape) != tuple(shape):
            raise self.fail(f"{info.filename} has dtype {found_dtype} and shape "
                            f"{tuple(found_shape)}; the architecture needs {dtype} {tuple(shape)}")
        return info

    def array(self, name, shape, dtype):
        """Member ``name`` as an array, refused unless it has ``shape`` and ``dtype``.

        Weights must be finite; an optimizer state array (``optimizer/*.npy``) may
        hold NaN or inf, which loads as saved, with a ``UserWarning``.
        """
        info = self._header(name, shape, dtype)
        data = self._read(info)
        try:
            array = np.load(io.BytesIO(data), allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise self.fail(f"{info.filename} is truncated or damaged ({exc})") from None
        if array.shape != tuple(shape) or array.dtype != dtype:
            raise self.fail(f"{info.filename} is truncated or damaged")
        if not np.isfinite(array).all():
            if not name.startswith(_OPT_PREFIX):
                raise self.fail(f"{info.filename} contains NaN or infinite values")
            warnings.warn(f"{self.path!r}: the optimizer state {info.filename} holds "
                          f"{int((~np.isfinite(array)).sum())} NaN or infinite values (it "
                          f"overflowed during training); the weights are finite and predict as "
                          f"saved, but training on may diverge: compile the model again to "
                          f"start the optimizer afresh", UserWarning, stacklevel=3)
        return array
