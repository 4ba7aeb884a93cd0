"""Where ``fit``, ``evaluate`` and ``predict`` get their batches from: arrays, or data bigger than memory.

Every source below is an iterable of ``(x, y, sample_weight)`` batches with
``n`` (samples), ``batch_size`` and ``steps`` (batches per epoch), each None
when unknown.  Each batch is checked at the public boundary as it
arrives (numeric, finite, the model's width), so a NaN in row 900,000 of a
file is reported when it is reached, with its batch.

==========================  ===========================================================
NumPy arrays                :class:`glassnet.trainer.Batches`: in memory, shuffled
                            globally each epoch
NumPy memory maps           :class:`MappedBatches`: rows read from the file one batch
                            at a time, so the resident memory stays small; shuffled
                            globally
Dask arrays                 :class:`DaskBatches`: one chunk of rows in memory at a time;
                            the chunks' order and the rows within each chunk shuffled
a PyDataset-like object     :class:`IndexedBatches`: ``len(ds)`` batches, ``ds[i]`` the
                            i-th; the batches' order shuffled (and ``ds.on_epoch_end()``
                            called, as Keras does)
an iterable of batches      :class:`IterableBatches`: a list, a generator (one epoch
                            only: it can be read once) or :class:`glassnet.datasets.CSVDataset`
                            (streams a CSV file; shuffles within its shuffle buffer)
==========================  ===========================================================
"""

from __future__ import annotations

import os

import itertools

import numpy as np

__all__ = ["adapt", "is_source", "MappedBatches", "DaskBatches", "IndexedBatches",
           "IterableBatches", "CheckedBatches", "peek_width", "file_rows"]


def is_dask(x):
    return hasattr(x, "__dask_graph__") and hasattr(x, "chunks")


def is_source(x):
    """True for what fit takes besides in-memory arrays (memory maps, Dask, datasets, iterables)."""
    if isinstance(x, list):       # a list of (x, y) batches (x 2-D), not a list of rows
        return bool(x) and isinstance(x[0], tuple) and bool(x[0]) and np.ndim(x[0][0]) == 2
    return (isinstance(x, np.memmap) or is_dask(x)
            or (not isinstance(x, (np.ndarray, tuple)) and not hasattr(x, "__array__")
                and (hasattr(x, "__iter__") or hasattr(x, "__getitem__"))))


def adapt(x, y, sample_weight, batch_size, shuffle, rng, epochs=1, inputs_only=False):
    """The batch source for ``x`` (and ``y``), or a ValueError saying what is accepted.

    ``inputs_only`` (predict): the batches of an iterable may be x alone.
    """
    if isinstance(x, np.memmap):
        return MappedBatches(x, y, sample_weight, batch_size, shuffle, rng)
    if is_dask(x):
        return DaskBatches(x, y, sample_weight, batch_size, shuffle, rng)
    if y is not None or sample_weight is not None:
        raise ValueError(f"y and sample_weight go inside the batches when x is a "
                         f"{type(x).__name__}: it must yield (x, y) or (x, y, sample_weight)")
    if hasattr(x, "__len__") and hasattr(x, "__getitem__") and not isinstance(x, (list, tuple)):
        return IndexedBatches(x, shuffle, rng, inputs_only)
    if hasattr(x, "__iter__"):
        if iter(x) is x and epochs > 1:
            raise ValueError(f"a {type(x).__name__} can be read only once, so it can feed one "
                             f"epoch; for {epochs} epochs pass something that can be read "
                             f"again: a list of batches, a PyDataset (len and [i]) or a "
                             f"glassnet.datasets.CSVDataset")
        return IterableBatches(x, inputs_only)
    raise ValueError(f"fit takes arrays, memory maps, Dask arrays, a PyDataset or an iterable "
                     f"of (x, y) batches; received {type(x).__name__}")


def _split(batch, inputs_only=False):
    if inputs_only and not isinstance(batch, (tuple, list)):
        return batch, None, None                 # predict: batches of x alone
    if not isinstance(batch, (tuple, list)) or len(batch) not in (2, 3):
        raise ValueError(f"each batch must be a tuple (x, y) or (x, y, sample_weight); "
                         f"received {type(batch).__name__}"
                         + (f" of length {len(batch)}" if isinstance(batch, (tuple, list))
                            else ""))
    return batch[0], batch[1], batch[2] if len(batch) == 3 else None


class MappedBatches:
    """Batches of rows of a NumPy memory map (and of ``y``, a memory map or an array).

    glassnet reads the rows from the memory map's file itself, with ``preadv``
    into a batch buffer, instead of through the mapping: touching a mapping
    maps whole blocks of the file around each row (a megabyte on today's
    kernels), so a shuffled epoch over a mapping would make the whole file
    resident.  This way the resident memory stays at one batch, whatever the
    file's size, and the rows are those the in-memory path would take
    (the same shuffle, bit-identical training).
    """

    def __init__(self, x, y, sample_weight, batch_size, shuffle, rng):
        if x.ndim != 2 or not x.flags.c_contiguous or x.filename is None:
            raise ValueError("a memory map for fit must be a C-ordered 2-D np.memmap of a file "
                             f"(n_samples, n_features); received shape {x.shape}")
        if y is not None and len(y) != len(x):
            raise ValueError(f"x and y have different numbers of samples: x has {len(x)}, "
                             f"y has {len(y)}")
        self.x, self.y, self.w = x, y, sample_weight
        self.n = len(x)
        self.batch_size = min(batch_size, self.n)
        self.shuffle, self.rng = shuffle, rng

    @property
    def steps(self):
        return -(-self.n // self.batch_size)

    def __iter__(self):
        x = self.x
        row_bytes = x.shape[1] * x.dtype.itemsize
        first = _file_offset(x)
        fd = os.open(x.filename, os.O_RDONLY)
        try:
            if self.shuffle and hasattr(os, "posix_fadvise"):
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)    # no read-ahead
            order = self.rng.permutation(self.n) if self.shuffle else None
            for start in range(0, self.n, self.batch_size):
                stop = min(start + self.batch_size, self.n)
                xb = np.empty((stop - start, x.shape[1]), dtype=x.dtype)
                if order is None:
                    idx = slice(start, stop)
                    _read_exactly(fd, [xb], first + start * row_bytes)
                else:
                    idx = order[start:stop]              # the rows Batches would take
                    for k, i in enumerate(idx.tolist()):
                        _read_exactly(fd, [xb[k]], first + i * row_bytes)
                yield (xb, None if self.y is None else np.asarray(self.y[idx]),
                       None if self.w is None else np.asarray(self.w[idx]))
        finally:
            os.close(fd)

    def part(self, start, stop, shuffle=None):
        """Rows start..stop as a new source (the validation split's last rows: unshuffled)."""
        return MappedBatches(self.x[start:stop], None if self.y is None else self.y[start:stop],
                             None if self.w is None else self.w[start:stop], self.batch_size,
                             self.shuffle if shuffle is None else shuffle, self.rng)


def _file_offset(x):
    """Where the first row of the memory map ``x`` lies in its file.

    A slice of a memory map (the validation rows at the end of one) keeps its
    parent's ``offset`` attribute, which is where the *parent's* first row lies;
    so count from the outermost map, plus how far into it ``x`` starts.
    """
    root = x
    while isinstance(root.base, np.memmap):
        root = root.base
    return root.offset + (x.ctypes.data - root.ctypes.data)


def _read_exactly(fd, buffers, offset):
    wanted = sum(memoryview(b).nbytes for b in buffers)
    if os.preadv(fd, buffers, offset) != wanted:
        raise ValueError(f"the memory map's file ended early (reading {wanted} bytes at "
                         f"offset {offset}): it was truncated or changed while training")


class DaskBatches:
    """Batches of a Dask array, computed one chunk of rows at a time."""

    def __init__(self, x, y, sample_weight, batch_size, shuffle, rng):
        if x.ndim != 2:
            raise ValueError(f"a Dask array for fit must be 2-D (n_samples, n_features); "
                             f"received shape {x.shape}")
        self.x, self.y, self.w = x, y, sample_weight
        self.n = int(x.shape[0])
        self.batch_size = min(batch_size, self.n)
        self.shuffle, self.rng = shuffle, rng
        bounds = np.cumsum((0,) + tuple(x.chunks[0]))
        self.blocks = list(zip(bounds[:-1], bounds[1:]))

    @property
    def steps(self):
        return sum(-(-(b - a) // self.batch_size) for a, b in self.blocks)

    @staticmethod
    def _compute(part):
        return None if part is None else np.asarray(
            part.compute() if hasattr(part, "compute") else part)

    def __iter__(self):
        order = self.rng.permutation(len(self.blocks)) if self.shuffle else range(len(self.blocks))
        for k in order:
            a, b = self.blocks[k]
            xs = self._compute(self.x[a:b])
            ys = self._compute(None if self.y is None else self.y[a:b])
            ws = self._compute(None if self.w is None else self.w[a:b])
            rows = self.rng.permutation(b - a) if self.shuffle else np.arange(b - a)
            for start in range(0, b - a, self.batch_size):
                idx = rows[start:start + self.batch_size]
                yield xs[idx], None if ys is None else ys[idx], None if ws is None else ws[idx]


class IndexedBatches:
    """A Keras-PyDataset-like source: ``len(ds)`` batches, ``ds[i]`` the i-th."""

    def __init__(self, dataset, shuffle, rng, inputs_only=False):
        self.dataset, self.shuffle, self.rng = dataset, shuffle, rng
        self.inputs_only = inputs_only
        self.n = None
        self.batch_size = getattr(dataset, "batch_size", None)

    @property
    def steps(self):
        return len(self.dataset)

    def __iter__(self):
        count = len(self.dataset)
        order = self.rng.permutation(count) if self.shuffle else range(count)
        for i in order:
            yield _split(self.dataset[int(i)], self.inputs_only)
        if hasattr(self.dataset, "on_epoch_end"):
            self.dataset.on_epoch_end()


class IterableBatches:
    """An iterable of ``(x, y)`` or ``(x, y, sample_weight)`` batches, read in its own order."""

    def __init__(self, iterable, inputs_only=False):
        self.iterable, self.inputs_only = iterable, inputs_only
        self.n = getattr(iterable, "n_rows", None)
        self.batch_size = getattr(iterable, "batch_size", None)

    @property
    def steps(self):
        return len(self.iterable) if hasattr(self.iterable, "__len__") else None

    def __iter__(self):
        for batch in self.iterable:
            yield _split(batch, self.inputs_only)


def file_rows(path, block_size=1 << 20):
    """The number of lines of a (text) file that are not empty, counted in blocks of 1 MB.

    Empty lines (``\\n`` or ``\\r\\n`` alone) are skipped by NumPy's reader, so they are
    not rows.  Each block numbers the lines its bytes belong to; a line counts once any of
    its bytes is neither ``\\n`` nor ``\\r``.
    The line still open at a block's end carries over to the next block.
    """
    count, open_line_filled = 0, False
    with open(path, "rb") as handle:
        while block := handle.read(block_size):
            if not (block[:1] in (b"\n", b"\r") or b"\n\n" in block or b"\n\r" in block):
                # no empty line in the block (the usual case): every line it ends holds data
                count += block.count(b"\n")
                open_line_filled = not block.endswith(b"\n")
                continue
            byte = np.frombuffer(block, dtype=np.uint8)
            newline = byte == ord("\n")
            line = np.cumsum(newline)      # of each byte that is not a newline: its line
                                           # (0: the line open before the block)
            filled = np.zeros(int(newline.sum()) + 1, dtype=bool)
            filled[line[~newline & (byte != ord("\r"))]] = True
            filled[0] |= open_line_filled
            count += int(filled[:-1].sum())               # the lines this block ended
            open_line_filled = bool(filled[-1])
    return count + open_line_filled


class CheckedBatches:
    """A source whose batches go through the model's boundary checks as they arrive."""

    def __init__(self, source, check):
        self.source, self.check = source, check
        self.n, self.batch_size, self.steps = source.n, source.batch_size, source.steps

    def __iter__(self):
        for i, (x, y, w) in enumerate(self.source):
            try:
                yield self.check(x, y, w)
            except ValueError as exc:
                raise ValueError(f"batch {i + 1}: {exc}") from None


def peek_width(source):
    """The number of features of the first batch (re-reading what can be re-read)."""
    if isinstance(source, (MappedBatches, DaskBatches)):
        return int(source.x.shape[1])
    if isinstance(source, IndexedBatches):
        return int(np.shape(_split(source.dataset[0])[0])[1])
    if isinstance(source, IterableBatches) and iter(source.iterable) is not source.iterable:
        return int(np.shape(_split(next(iter(source.iterable)))[0])[1])
    if isinstance(source, IterableBatches):       # a generator: read its first batch, keep it
        try:
            first = next(source.iterable)
        except StopIteration:
            raise ValueError("the generator gave no batches") from None
        source.iterable = itertools.chain([first], source.iterable)
        return int(np.shape(_split(first)[0])[1])
    raise ValueError("the model's input width is unknown and a generator cannot be read "
                     "twice: give the first layer input_dim=... (or start with "
                     "gn.Input(shape=(n,))) before fitting on a generator")
