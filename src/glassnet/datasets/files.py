"""Loaders for data files: IDX (MNIST, Fashion-MNIST) and numeric CSV.

Both treat their input as untrusted: a file that does not match its own
header, or a malformed CSV row, gives a ``ValueError`` naming the file, and
for CSV the line number and what was wrong.

Gzipped files are recognised by their first two bytes and decompressed with a
bound: a few hundred kilobytes of gzip can expand to gigabytes (a
"decompression bomb"), so reading stops with a ``ValueError`` once the data
pass ``max_bytes`` (by default :data:`MAX_DECOMPRESSED_BYTES`, 256 MiB, or the
environment variable ``GLASSNET_MAX_DATA_BYTES``: ``2G``, ``500M``, a number of
bytes), never after.  Memory then stays within about twice the limit plus
what parsing those bytes takes.  Only regular files are read: a device
(``/dev/zero``), a FIFO or a socket is refused by name before any read.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import math
import os
import re
import stat
import warnings
import zlib

import numpy as np

from ..io import atomic_write
from .preprocessing import encode_labels

__all__ = ["load_idx", "load_mnist", "fashion_mnist", "load_csv", "save_csv", "FASHION_MNIST_DIR",
           "FASHION_MNIST_CLASSES", "MAX_DECOMPRESSED_BYTES", "check_data_file", "CSVFieldError",
           "DecompressionLimit", "read_header", "decompression_limit", "first_line_is_header"]

#: the most bytes a gzipped data file may expand to, unless ``max_bytes`` or the
#: environment variable ``GLASSNET_MAX_DATA_BYTES`` says otherwise (256 MiB: MNIST as
#: CSV is about 130 MB)
MAX_DECOMPRESSED_BYTES = 256 << 20
_LIMIT_VARIABLE = "GLASSNET_MAX_DATA_BYTES"
_CHUNK = 1 << 20


class DecompressionLimit(ValueError):
    """A gzipped file expands past the decompression limit (``max_bytes``)."""


class CSVFieldError(ValueError):
    """A CSV field that should be a number is not; ``line`` and ``column`` count from 1.

    ``value`` is the field as found (``""`` when missing) and ``header`` the
    column's name in the header line, or None.
    """

    def __init__(self, message, line, column, value, header=None):
        super().__init__(message)
        self.line, self.column, self.value, self.header = line, column, value, header


_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*", re.IGNORECASE)


def _parse_size(text, where):
    match = _SIZE.fullmatch(str(text))
    if not match:
        raise ValueError(f"{where} must be a size like 500M, 2G or a number of bytes; "
                         f"received {text!r}")
    number, unit = match.groups()
    scale = 1024 ** ("kmgt".index(unit.lower()) + 1) if unit else 1
    value = int(float(number) * scale)
    if value < 1:
        raise ValueError(f"{where} must be at least 1 byte; received {text!r}")
    return value


def decompression_limit(max_bytes=None):
    """The decompression bound in bytes: ``max_bytes``, else ``GLASSNET_MAX_DATA_BYTES``,
    else :data:`MAX_DECOMPRESSED_BYTES`."""
    if max_bytes is None:
        text = os.environ.get(_LIMIT_VARIABLE)
        if text is None:
            return MAX_DECOMPRESSED_BYTES
        return _parse_size(text, f"the environment variable {_LIMIT_VARIABLE}")
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, (int, np.integer)) \
            or max_bytes < 1:
        raise ValueError(f"max_bytes must be a positive number of bytes; received "
                         f"{max_bytes!r}")
    return int(max_bytes)


def check_data_file(path):
    """Refuse, by name, what is not a regular file: a device, a FIFO, a socket, a directory.

    Raises
    ------
    FileNotFoundError
        Nothing is at ``path``.
    ValueError
        Something other than a regular file is there (reading ``/dev/zero`` would
        never end; a FIFO can be read only once, and would block until written).
    """
    name = os.fspath(path)
    mode = os.stat(name).st_mode                     # FileNotFoundError names the path
    if stat.S_ISREG(mode):
        return
    what = ("a directory" if stat.S_ISDIR(mode) else
            "a character device (like /dev/zero or a terminal)" if stat.S_ISCHR(mode) else
            "a block device (a disk)" if stat.S_ISBLK(mode) else
            "a FIFO (a named pipe)" if stat.S_ISFIFO(mode) else
            "a socket" if stat.S_ISSOCK(mode) else "not a regular file")
    raise ValueError(f"{name!r} is {what}, not a data file; glassnet reads regular files "
                     f"only (save the data to a file first)")

#: where Debian's ``dataset-fashion-mnist`` package puts the files
FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                         "Shirt", "Sneaker", "Bag", "Ankle boot")

# IDX type codes → big-endian NumPy dtypes
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _read_bytes(path, max_bytes=None):
    """File contents, transparently gunzipped (recognised by the gzip magic bytes).

    Decompression stops with :class:`DecompressionLimit` once the data pass the
    limit (see :func:`decompression_limit`): a megabyte at a time, so memory stays
    within about twice the limit whatever the file claims.
    """
    name = os.fspath(path)
    limit = decompression_limit(max_bytes)
    check_data_file(name)
    with open(name, "rb") as handle:
        if handle.read(2) != b"\x1f\x8b":
            handle.seek(0)
            return handle.read()
        handle.seek(0)
        chunks, total = [], 0
        try:
            with gzip.GzipFile(fileobj=handle, mode="rb") as stream:
                while True:
                    chunk = stream.read(min(_CHUNK, limit + 1 - total))
                    if not chunk:
                        break
                    chunks.append(chunk)
                    total += len(chunk)
                    if total > limit:
                        raise DecompressionLimit(
                            f"{name!r} is gzipped and expands to more than {limit:,} bytes "
                            f"(from {os.fstat(handle.fileno()).st_size:,}); glassnet stops "
                            f"there. If you trust this file, raise the limit: "
                            f"{_LIMIT_VARIABLE}=2G (environment), or max_bytes=... in Python")
        except (OSError, EOFError, zlib.error) as exc:      # BadGzipFile is an OSError
            raise ValueError(f"{name!r}: the gzip stream is damaged or truncated "
                             f"({exc})") from None
    return b"".join(chunks)


def load_idx(path, max_bytes=None):
    """Read one IDX file (the format of MNIST and Fashion-MNIST), gzipped or not.

    Header: two zero bytes, a type code, the number of dimensions d, then d
    big-endian 32-bit sizes; the data follow, big-endian.

    Parameters
    ----------
    path : str
    max_bytes : int, optional
        The decompression limit of a gzipped file (see :func:`decompression_limit`).

    Returns
    -------
    ndarray of the stored shape and type (native byte order).

    Raises
    ------
    ValueError
        Wrong magic number, unknown type code, or a body whose length
        disagrees with the header (truncated or padded file); not a regular
        file; a gzipped file that expands past ``max_bytes``.
    """
    name = os.fspath(path)
    data = _read_bytes(path, max_bytes)
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise ValueError(f"{name!r} is not an IDX file: it must start with two zero bytes, "
                         f"found {data[:4].hex(' ') or 'an empty file'}")
    code, ndim = data[2], data[3]
    if code not in _IDX_TYPES:
        raise ValueError(f"{name!r}: unknown IDX type code 0x{code:02x}; expected one of "
                         f"{', '.join(f'0x{c:02x}' for c in _IDX_TYPES)}")
    if ndim == 0 or len(data) < 4 + 4 * ndim:
        raise ValueError(f"{name!r}: the IDX header is truncated ({len(data)} bytes for "
                         f"{ndim} dimensions)")
    shape = tuple(int(s) for s in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_TYPES[code])
    expected = math.prod(shape) * dtype.itemsize          # Python ints: no overflow
    body = len(data) - 4 - 4 * ndim
    if body != expected:
        raise ValueError(f"{name!r}: the header promises shape {shape} ({expected} bytes of "
                         f"data) but the file holds {body} bytes"
                         + (" (truncated?)" if body < expected else ""))
    array = np.frombuffer(data, dtype=dtype, offset=4 + 4 * ndim).reshape(shape)
    return array.astype(dtype.newbyteorder("="))


_MNIST_FILES = {"train_images": ("train-images-idx3-ubyte", "train-images.idx3-ubyte"),
                "train_labels": ("train-labels-idx1-ubyte", "train-labels.idx1-ubyte"),
                "test_images": ("t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"),
                "test_labels": ("t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte")}


def _find(directory, stems):
    for stem in stems:
        for suffix in ("", ".gz"):
            candidate = os.path.join(directory, stem + suffix)
            if os.path.isfile(candidate):
                return candidate
    raise FileNotFoundError(f"no {stems[0]}[.gz] in {directory!r}; an MNIST-style directory "
                            f"holds train-images-idx3-ubyte, train-labels-idx1-ubyte, "
                            f"t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (gzipped or not)")


def load_mnist(directory, normalize=True, max_bytes=None):
    """The four IDX files of MNIST or Fashion-MNIST in ``directory``.

    Parameters
    ----------
    directory : str
    normalize : bool, default True
        Scale pixels to float32 in [0, 1]; otherwise keep uint8 0..255.
    max_bytes : int, optional
        The decompression limit of each gzipped file (see :func:`load_idx`).

    Returns
    -------
    (X_train, y_train), (X_test, y_test)
        X of shape (n, 784) with rows of 28×28 pixels in row-major order,
        y integer labels of shape (n,).
    """
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"{directory!r} is not a directory")
    arrays = {key: load_idx(_find(directory, stems), max_bytes)
              for key, stems in _MNIST_FILES.items()}
    out = []
    for part in ("train", "test"):
        images, labels = arrays[part + "_images"], arrays[part + "_labels"]
        if images.shape[0] != labels.shape[0]:
            raise ValueError(f"{directory!r}: {part} images ({images.shape[0]}) and labels "
                             f"({labels.shape[0]}) differ in number")
        X = images.reshape(images.shape[0], -1)
        X = (X.astype(np.float32) / np.float32(255.0)) if normalize else X
        out.append((X, labels.astype(np.int64)))
    return tuple(out)


def fashion_mnist(directory=None, normalize=True):
    """Fashion-MNIST (70,000 28×28 images of clothes, 10 classes), from disk only.

    Looks in ``directory``, or where Debian's package puts it
    (:data:`FASHION_MNIST_DIR`).  Class names: :data:`FASHION_MNIST_CLASSES`.

    Raises
    ------
    FileNotFoundError
        Saying how to install it (nothing is ever downloaded).
    """
    directory = directory or os.environ.get("GLASSNET_FASHION_MNIST", FASHION_MNIST_DIR)
    if not os.path.isdir(directory):
        raise FileNotFoundError(
            f"Fashion-MNIST was not found in {directory!r}. Install Debian's package with "
            f"'apt-get install dataset-fashion-mnist' (files in {FASHION_MNIST_DIR}), or pass "
            f"the directory holding the four IDX files")
    return load_mnist(directory, normalize=normalize)


# ----------------------------------------------------------------------------------------
# CSV
# ----------------------------------------------------------------------------------------

def load_csv(path, label_column=0, header="infer", delimiter=",", dtype=np.float32,
             return_class_names=False, max_bytes=None):
    """Read a CSV file of numeric features and a label column.

    MNIST in CSV (the seed document “Python Neural Network only using NumPy”:
    label first, then 784 pixels) is the default layout; any numeric CSV works,
    with or without a header, and the labels may be numbers or names
    (``setosa``, ``versicolor``, ...).

    Parameters
    ----------
    path : str
    label_column : int, str or None, default 0
        The label's column: an index (negative counts from the end) or its
        name in the header.  None returns all columns as X.
    header : "infer", True or False
        Whether the first line holds the column names.  "infer" applies
        :func:`first_line_is_header`: the first line is a header when none of
        its fields is a number, or when one of its words sits in a column that
        holds a number on the next line (``2019,2020,label`` above
        ``1.5,2.5,0``).  A first line with numbers whose words all sit in
        columns of words (``5.1,3.5,setosa`` above ``4.9,3.0,setosa``) is data:
        it is never dropped.  :func:`read_header` says which was decided;
        pass True or False when the rule gets your file wrong.
    delimiter : str
    dtype : float type of X
    return_class_names : bool, default False
        Also return the class names, with y as integer codes into them
        (see :func:`glassnet.datasets.encode_labels`).
    max_bytes : int, optional
        The decompression limit of a gzipped file (``.csv.gz``): reading stops
        with a ``ValueError`` once the text passes it.  Default:
        ``GLASSNET_MAX_DATA_BYTES`` from the environment, else
        :data:`MAX_DECOMPRESSED_BYTES` (256 MiB).

    Returns
    -------
    X : array (n, columns - 1) of ``dtype``
    y : labels (n,): int64 for whole numbers, float for other numbers, str for
        names (never encoded silently); only when ``label_column`` is not None.
    class_names : tuple of str, with ``return_class_names``

    Raises
    ------
    ValueError
        Naming the file, the line and the column of what was wrong (a field
        that is not a number -- a :class:`CSVFieldError` --, a missing or
        infinite value, a row with the wrong number of fields, an unknown label
        column, an empty file); a device, FIFO or directory instead of a file; a
        gzipped file that expands past ``max_bytes``.

    Notes
    -----
    Whole-number files (like MNIST) are parsed by NumPy's C reader as
    integers, which is as fast as ``pandas.read_csv``; files with decimals
    fall back to its (slower) float parser.
    """
    try:
        return _load_csv(path, label_column, header, delimiter, dtype, return_class_names,
                         max_bytes)
    except UnicodeDecodeError as exc:
        raise ValueError(f"{os.fspath(path)!r} is not UTF-8 text: byte {exc.start} cannot be "
                         f"decoded") from None


def _load_csv(path, label_column, header, delimiter, dtype, return_class_names, max_bytes):
    name = os.fspath(path)
    check_data_file(name)
    with open(path, "rb") as handle:
        gzipped = handle.read(2) == b"\x1f\x8b"
        handle.seek(0)
        data = _read_bytes(path, max_bytes) if gzipped else None
        fields, following = _head(io.BytesIO(data) if gzipped else handle, delimiter,
                                  name=name)
    if fields is None:
        raise ValueError(f"{name!r} is empty; expected rows of numbers separated by "
                         f"{delimiter!r}")
    n_columns = len(fields)
    if header == "infer":
        header = first_line_is_header(fields, following)
    col = label_index(name, label_column, fields if header else None, n_columns)
    require_features(name, fields, col, delimiter)
    first_line = 2 if header else 1
    names = fields if header else None
    table = _parse(name, data, delimiter, header, first_line, n_columns, skip=col,
                   header_fields=names)
    labels = None
    if table is None and col is not None:          # perhaps the labels are names
        features = [c for c in range(n_columns) if c != col]
        table = _parse(name, data, delimiter, header, first_line, n_columns, skip=col,
                       usecols=features, header_fields=names)
        with _source(name, data) as source:
            labels = read_names(source, delimiter, col, skiprows=1 if header else 0)
    if table is None:
        raise ValueError(f"{name!r} could not be parsed as a CSV file of numbers separated by "
                         f"{delimiter!r}")
    if table.shape[0] == 0:
        raise ValueError(f"{name!r} has a header but no data rows")
    expected = n_columns if labels is None else n_columns - 1
    if table.shape[1] != expected:
        raise ValueError(f"{name!r}, line 1: the header has {n_columns} fields but the data "
                         f"rows have {table.shape[1] + (labels is not None)}")
    bad = unrepresentable(table, dtype)
    if bad is not None:
        row, column = bad
        value = table[row, column]
        if labels is not None and column >= col:       # the table lacks the label column
            column += 1
        why = ("missing or infinite values are not accepted: fill or drop them first"
               if not np.isfinite(value) else f"it is beyond {np.dtype(dtype).name}'s range")
        raise CSVFieldError(f"{name!r}, line {row + first_line}, column {column + 1}: "
                            f"expected a number, found {value} ({why})", row + first_line,
                            column + 1, str(value),
                            fields[column] if header else None)
    if col is None:
        return table.astype(dtype)
    if labels is None:
        labels = table[:, col]
        X = np.empty((table.shape[0], n_columns - 1), dtype=dtype)
        X[:, :col] = table[:, :col]                 # every column but the label, cast once
        X[:, col:] = table[:, col + 1:]
        labels = whole_number_labels(labels)
    else:
        X = table.astype(dtype)
    if return_class_names:
        codes, classes = encode_labels(labels)
        return X, codes, classes
    return X, labels


def save_csv(path, x, y=None, label="label", feature_names=None):
    """Write features (and a label column, first) as a CSV file with a header.

    What :func:`load_csv` and ``glassnet train --data FILE --label NAME`` read.
    Labels may be numbers or names; the file is written atomically.
    """
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"save_csv expects x of shape (n_samples, n_features); received "
                         f"{x.shape}")
    names = list(feature_names) if feature_names is not None else \
        [f"x{i}" for i in range(x.shape[1])]
    header = ([label] if y is not None else []) + names
    cells = [[f"{v:g}" for v in row] for row in x.tolist()]
    if y is not None:
        cells = [[str(v)] + row for v, row in zip(np.asarray(y).tolist(), cells)]
    text = "\n".join([",".join(header)] + [",".join(row) for row in cells]) + "\n"
    atomic_write(path, lambda handle: handle.write(text.encode("utf-8")))
    return path


def read_header(path, delimiter=","):
    """The column names of a CSV file's first line, or None when that line is data (no header).

    The rule of ``header="infer"`` (:func:`first_line_is_header`), on the first
    line and the next non-blank one (at most 1 MB each, gzipped or not) of a
    regular file: what :func:`load_csv` and ``CSVDataset`` decide for the file.
    """
    name = os.fspath(path)
    check_data_file(name)
    with open(name, "rb") as handle:
        gzipped = handle.read(2) == b"\x1f\x8b"
        handle.seek(0)
        try:
            with (gzip.GzipFile(fileobj=handle) if gzipped else contextlib.nullcontext(handle)) \
                    as stream:
                fields, following = _head(stream, delimiter, _CHUNK, name)
        except (OSError, EOFError, zlib.error) as exc:
            raise ValueError(f"{name!r}: the gzip stream is damaged or truncated ({exc})") \
                from None
    if fields is None or not first_line_is_header(fields, following):
        return None
    return fields


def whole_number_labels(labels):
    """Numeric labels as int64 when every one is a whole number, else unchanged.

    A decimal anywhere in a file makes NumPy parse every column as floats; its
    whole-number labels are still classes (``1.0`` is class 1), not regression
    targets.  Beyond 2**53 floats are no longer exact integers, so such labels
    stay floats.
    """
    if labels.dtype.kind == "i":
        return labels.astype(np.int64)
    whole = bool(np.all((labels == np.round(labels)) & (np.abs(labels) < 2 ** 53)))
    return labels.astype(np.int64) if whole else labels


def require_features(name, fields, label, delimiter):
    """Refuse a file whose only column is the label (no feature to learn from): most often
    a file separated by another character than ``delimiter``, which the message names."""
    if label is None or len(fields) > 1:
        return
    others = [d for d in (";", "\t", "|", ",") if d != delimiter and d in fields[0]]
    hint = f"; its first line holds {others[0]!r}: pass delimiter={others[0]!r}" if others \
        else ""
    raise ValueError(f"{name!r} has one column when split at {delimiter!r}, and it is the "
                     f"label: there is no feature to learn from{hint}")


def label_index(name, label_column, header_fields, n_columns):
    """The label's column index (None for no label), from an index or a header name."""
    if label_column is None:
        return None
    if isinstance(label_column, str):
        if header_fields is None:
            raise ValueError(f"{name!r} has no header, so the label column cannot be named "
                             f"{label_column!r}; give its index instead (0 is the first)")
        if label_column not in header_fields:
            raise ValueError(f"{name!r} has no column {label_column!r}; its columns are "
                             f"{header_fields}")
        return header_fields.index(label_column)
    if isinstance(label_column, bool) or not isinstance(label_column, (int, np.integer)) \
            or not -n_columns <= label_column < n_columns:
        raise ValueError(f"label_column {label_column!r} is out of range for {n_columns} "
                         f"columns in {name!r}")
    return int(label_column) % n_columns


def _source(name, data):
    """What np.loadtxt reads: the bytes already read, or the file opened as bytes.

    Never the file's name: ``np.loadtxt`` decompresses a name ending in ``.gz``,
    ``.bz2`` or ``.xz`` itself, without glassnet's bound (and whatever its content).
    """
    return contextlib.nullcontext(io.BytesIO(data)) if data is not None else open(name, "rb")


def _parse(name, data, delimiter, header, first_line, n_columns, skip, usecols=None,
           header_fields=None):
    """The numeric table (integers first: much faster to parse), or None if a label is a name.

    Raises ValueError naming line and column when a feature cell is not a number.
    """
    for parse_as in (np.int32, np.float64):
        try:
            with _source(name, data) as source, warnings.catch_warnings():
                warnings.simplefilter("ignore")      # "empty input" is reported by the caller
                return np.loadtxt(source, comments=None, delimiter=delimiter, dtype=parse_as,
                                  skiprows=1 if header else 0, ndmin=2, encoding="utf-8-sig",
                                  usecols=usecols)
        except (ValueError, OverflowError):
            continue
    if data is None:
        data = _read_bytes(name)
    start = len(data.split(b"\n", 1)[0]) + 1 if header else 0
    return raise_first_error(name, data, delimiter, n_columns, first_line, start, skip,
                             header_fields)


def unrepresentable(table, dtype):
    """(row, column) of the first value that is missing, infinite or too large for ``dtype``
    (1e39 would become inf in float32), or None."""
    if table.dtype.kind != "f":
        return None
    limit = np.finfo(dtype).max if np.dtype(dtype).kind == "f" else np.inf
    bad = ~(np.abs(table) <= limit)                      # NaN compares False: bad too
    if not bad.any():
        return None
    return tuple(int(i) for i in np.argwhere(bad)[0])


def _is_number(field):
    try:
        float(field)
        return True
    except ValueError:
        return False


def _split_fields(line, delimiter):
    """A line's fields as the header rule sees them: a leading byte-order mark (Excel's
    "CSV UTF-8"), spaces and double quotes removed."""
    return [f.strip().strip('"') for f in line.lstrip("\ufeff").strip().split(delimiter)]


def _head(stream, delimiter, limit=-1, name="the file"):
    """The fields of a binary stream's first line and of the next non-blank line: (None,
    None) for an empty first line, (fields, None) when no other line holds anything."""
    first = stream.readline(limit).decode("utf-8", "replace")
    if not first.lstrip("\ufeff").strip():
        for number, line in enumerate(iter(lambda: stream.readline(limit), b""), start=2):
            if line.strip():
                raise ValueError(f"{name!r}, line 1 is blank but line {number} holds data: the "
                                 f"column "
                                 f"names (or the first row) must be on line 1; remove the "
                                 f"blank lines above them")
        return None, None
    for line in iter(lambda: stream.readline(limit), b""):
        if line.strip():
            return (_split_fields(first, delimiter),
                    _split_fields(line.decode("utf-8", "replace"), delimiter))
    return _split_fields(first, delimiter), None


def first_line_is_header(fields, following=None):
    """The rule of ``header="infer"``: is a CSV file's first line its column names?

    ``fields`` are the first line's fields, ``following`` those of the next
    non-blank line (None when there is none).  The first line is a header when

    * none of its fields is a number (``sepal_length,species``), or
    * one of its words sits in a column that holds a number on the next line: a
      header with numeric-looking names (``2019,2020,label`` above ``1.5,2.5,0``).

    Otherwise it is data, and never dropped: a line with numbers whose words
    (empty fields aside) all sit in columns of words on the next line, as a
    file without a header whose labels are names (``5.1,3.5,setosa`` above
    ``4.9,3.0,setosa``).  The one case the rule cannot tell is a header of
    numbers only, or of numbers above a column of words (``2019,2020,label``
    above ``1.5,2.5,cat``): such a line is read as data; pass ``header=True``.
    A missing-value mark (``NA``, ``?``, ``#N/A``, ``#DIV/0!``, ``null``, ...) or a
    token that starts like a number (``0x10``) is not a column name: a first line
    with numbers and such a field is data, and the field is reported as not a
    number, as on any other line.
    """
    numbers = [_is_number(field) for field in fields]
    if not any(numbers):
        return True
    if following is None:
        return False
    return any(_is_name(field) and _is_number(below)
               for field, number, below in zip(fields, numbers, following) if not number)


#: what spreadsheets and statistics programs write for a missing value (lower case)
MISSING_MARKS = frozenset({"na", "n/a", "#n/a", "nan", "null", "none", "?", "-", "--", ".",
                           "#div/0!", "#value!", "#ref!", "#num!", "#name?", "#null!"})


def _is_name(field):
    """True for a field that can be a column name: not empty, not a missing-value mark,
    and not starting like a number (``0x10``, ``12kg``)."""
    text = field.strip()
    return bool(text) and text.lower() not in MISSING_MARKS \
        and not text.lstrip("+-")[:1].isdigit()


def read_names(source, delimiter, column, skiprows=0):
    """The text of one column (labels that are names), unquoted and stripped."""
    with warnings.catch_warnings():     # NumPy's note that empty lines are not rows: known
        warnings.filterwarnings("ignore", r"Input line \d+ contained no data", UserWarning)
        names = np.loadtxt(source, comments=None, delimiter=delimiter, dtype=str,
                           skiprows=skiprows, usecols=[column], ndmin=1, encoding="utf-8-sig")
    return np.char.strip(np.char.strip(names), '"')


def raise_first_error(name, data, delimiter, n_columns, first_line_no, start, skip=None,
                      header_fields=None):
    """Raise for the first malformed row; return None if only the ``skip`` column (the
    labels) holds something that is not a number.

    A field that is not a number raises :class:`CSVFieldError` (with the column's
    name from ``header_fields``, when given)."""
    text = io.StringIO(data[start:].decode("utf-8-sig", "replace"))
    for offset, line in enumerate(text):
        line_no = first_line_no + offset
        stripped = line.strip()
        if not line.strip("\r\n"):
            continue         # NumPy skips empty lines (only those): so does the search
        if not stripped:
            raise ValueError(f"{name!r}, line {line_no}: only spaces, where {n_columns} fields "
                             f"like the first line's were expected (an empty line is skipped: "
                             f"delete the spaces or the line)")
        fields = stripped.split(delimiter)
        if len(fields) != n_columns:
            raise ValueError(f"{name!r}, line {line_no}: expected {n_columns} fields like the "
                             f"first line, found {len(fields)}")
        for column, field in enumerate(fields, start=1):
            if column - 1 == skip:
                continue
            try:
                float(field)
            except ValueError:
                what = "a missing value" if not field.strip() else repr(field.strip())
                title = header_fields[column - 1] if header_fields else None
                raise CSVFieldError(f"{name!r}, line {line_no}, column {column}: expected a "
                                    f"number, found {what}"
                                    + (f" (in column {title!r})" if title else ""), line_no,
                                    column, field.strip(), title) from None
    if skip is not None:
        return None
    raise ValueError(f"{name!r}: could not be parsed as numeric CSV")
