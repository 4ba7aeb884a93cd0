"""A CSV file streamed in chunks: training data that never has to fit in memory."""

from __future__ import annotations

import io
import os

import numpy as np

from ..data import file_rows
from .files import (_head, check_data_file, first_line_is_header, label_index,
                    raise_first_error, read_names, require_features, unrepresentable,
                    whole_number_labels)

__all__ = ["CSVDataset"]


class CSVDataset:
    """Batches ``(x, y)`` read from a CSV file a few megabytes at a time.

    Give it to ``fit``, ``evaluate`` or ``predict`` in place of arrays.  The
    file is read again for every epoch and never held whole: memory stays at
    about ``block_bytes`` of text plus its parsed numbers, whatever the file's
    size.  Numbers are parsed by NumPy's C reader, integers first (fast, as
    :func:`~glassnet.datasets.load_csv`).  Empty lines are skipped and not
    counted in ``len`` (the batches of an epoch); a line of spaces is refused
    with its number, and so is a header without rows.

    Parameters
    ----------
    path : str
        A CSV file of numbers (not gzipped), with or without a header.
    batch_size : int, default 32
    label_column : int or str, default 0
        The label's index or header name (as :func:`load_csv`).
    shuffle_buffer : int, default 0
        Rows held back and drawn at random: with 0 the rows come in file
        order; with N ≥ 1 each batch is drawn from a pool of the next N rows
        (the larger, the closer to a full shuffle).  Shuffling happens within
        the buffer only, never across the whole file.
    class_names : sequence of str, optional
        Needed when the labels are names: they become the indices of these.
    header : "infer", True or False
        As :func:`~glassnet.datasets.load_csv` (the same rule: a first line of
        data whose labels are names is kept).
    delimiter : str
    seed : int, optional
        Seeds the shuffle buffer's generator.
    block_bytes : int, default 4 MB
    """

    def __init__(self, path, batch_size=32, label_column=0, shuffle_buffer=0, class_names=None,
                 header="infer", delimiter=",", dtype=np.float32, seed=None,
                 block_bytes=4 << 20):
        self.path = os.fspath(path)
        check_data_file(self.path)                  # not a device or FIFO: read every epoch
        with open(self.path, "rb") as handle:
            if handle.read(2) == b"\x1f\x8b":
                raise ValueError(f"{self.path!r} is gzipped; CSVDataset streams plain text "
                                 f"files (gunzip it, or use load_csv)")
            handle.seek(0)
            fields, following = _head(handle, delimiter, name=self.path)
        if fields is None:
            raise ValueError(f"{self.path!r} is empty")
        if header == "infer":                  # the rule of load_csv
            header = first_line_is_header(fields, following)
        self.header, self.delimiter, self.dtype = bool(header), delimiter, np.dtype(dtype)
        self.n_columns = len(fields)
        self.label = label_index(self.path, label_column, fields if header else None,
                                  self.n_columns)
        require_features(self.path, fields, self.label, delimiter)
        self.batch_size = int(batch_size)
        self.shuffle_buffer = int(shuffle_buffer)
        self.class_names = None if class_names is None else tuple(class_names)
        self.rng = np.random.default_rng(seed)
        self.block_bytes = int(block_bytes)
        self.n_rows = file_rows(self.path) - self.header
        if self.n_rows == 0:
            raise ValueError(f"{self.path!r} has a header but no data rows")

    def __len__(self):
        return -(-self.n_rows // self.batch_size)

    def _blocks(self):
        """(first line number, bytes of whole lines) pieces of the file."""
        with open(self.path, "rb") as handle:
            line = 1
            if self.header:
                handle.readline()
                line = 2
            rest = b""
            while True:
                block = handle.read(self.block_bytes)
                if not block:
                    if rest.strip(b"\r\n"):          # (a line of spaces is refused later)
                        yield line, rest
                    return
                block = rest + block
                cut = block.rfind(b"\n") + 1
                if cut == 0:
                    rest = block
                    continue
                if block[:cut].strip(b"\r\n"):    # a piece of empty lines holds no rows
                    yield line, block[:cut]
                line += block.count(b"\n", 0, cut)
                rest = block[cut:]

    def _parse(self, line, text):
        """x (rows, features) and y (rows,) of one piece of the file."""
        for kind in (np.int32, np.float64):
            try:
                table = np.loadtxt(io.BytesIO(text), comments=None,
                                   delimiter=self.delimiter, dtype=kind,
                                   ndmin=2, encoding="utf-8-sig")
                break
            except (ValueError, OverflowError):
                table = None
        if table is None:                       # names as labels, or a malformed row
            if self.class_names is None:
                raise_first_error(self.path, text, self.delimiter, self.n_columns, line, 0,
                                   None)
            return self._parse_named(line, text)
        if table.shape[1] != self.n_columns:
            raise ValueError(f"{self.path!r}, line {line}: rows of {table.shape[1]} fields, "
                             f"the first line has {self.n_columns}")
        bad = unrepresentable(table, self.dtype)
        if bad is not None:
            row, column = bad
            value = table[row, column]
            why = "" if not np.isfinite(value) else f" (beyond {self.dtype.name}'s range)"
            raise ValueError(f"{self.path!r}, line {line + row}, column {column + 1}: expected a "
                             f"number, found {value}{why}")
        x = np.delete(table, self.label, axis=1).astype(self.dtype)
        return x, whole_number_labels(table[:, self.label])     # as load_csv: 1.0 is class 1

    def _parse_named(self, line, text):
        features = [c for c in range(self.n_columns) if c != self.label]
        try:
            x = np.loadtxt(io.BytesIO(text), comments=None,
                           delimiter=self.delimiter, dtype=np.float64,
                           usecols=features, ndmin=2, encoding="utf-8-sig")
        except ValueError:
            raise_first_error(self.path, text, self.delimiter, self.n_columns, line, 0,
                               self.label)
            raise
        names = read_names(io.BytesIO(text), self.delimiter, self.label)
        index = {name: k for k, name in enumerate(self.class_names)}
        unknown = sorted(set(names.tolist()) - set(index))
        if unknown:
            raise ValueError(f"{self.path!r} from line {line}: labels {unknown[:5]} are not "
                             f"among class_names {list(self.class_names)}")
        return x.astype(self.dtype), np.array([index[n] for n in names.tolist()], np.int64)

    def __iter__(self):
        size, keep = self.batch_size, self.shuffle_buffer
        pool_x = pool_y = None
        for line, text in self._blocks():
            x, y = self._parse(line, text)
            if pool_x is not None:
                x, y = np.concatenate([pool_x, x]), np.concatenate([pool_y, y])
            if keep:
                order = self.rng.permutation(len(x))
                x, y = x[order], y[order]
            ready = max(len(x) - keep, 0) // size * size
            for start in range(0, ready, size):
                yield x[start:start + size], y[start:start + size]
            pool_x, pool_y = x[ready:], y[ready:]
        if pool_x is not None and len(pool_x):
            if keep:
                order = self.rng.permutation(len(pool_x))
                pool_x, pool_y = pool_x[order], pool_y[order]
            for start in range(0, len(pool_x), size):
                yield pool_x[start:start + size], pool_y[start:start + size]
