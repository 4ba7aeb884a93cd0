"""Keras's image data sets: ``mnist.load_data()`` and ``fashion_mnist.load_data()``.

As in Keras, ``load_data()`` returns ``(x_train, y_train), (x_test, y_test)``
exactly as stored: images as uint8 arrays of shape (n, 28, 28) with pixels
0..255, labels as uint8 arrays of shape (n,).  Nothing is scaled, and nothing
is ever downloaded: the files come from disk, looked for in this order:

1. the ``path`` given to ``load_data`` (a directory of the four IDX files,
   gzipped or not, or a Keras ``.npz`` file with ``x_train``, ``y_train``,
   ``x_test``, ``y_test``); a relative path is also looked for in Keras's
   cache, as Keras means it (``load_data(path="mnist.npz")``);
2. the environment variable ``GLASSNET_MNIST`` / ``GLASSNET_FASHION_MNIST``;
3. Debian's package: ``apt-get install dataset-fashion-mnist`` puts
   Fashion-MNIST in ``/usr/share/datasets/fashion-mnist`` (Debian has no
   MNIST package);
4. Keras's own cache, where ``keras.datasets`` saved its downloads
   (``~/.keras/datasets/mnist.npz``, ``~/.keras/datasets/fashion-mnist/``).

glassnet's layers take flat rows, so a Keras program reshapes and scales, as
it would for a Dense network in Keras::

    (x_train, y_train), (x_test, y_test) = gn.datasets.mnist.load_data()
    x_train = x_train.reshape(-1, 784).astype("float32") / 255

Calling the loader is glassnet's short form of that, and the scaling must be
asked for by name: ``gn.datasets.fashion_mnist(scale="unit")`` gives flat
float32 rows in [0, 1] and int64 labels, ``scale="none"`` flat uint8 rows.
"""

from __future__ import annotations

import os
import zipfile

import numpy as np

from .files import FASHION_MNIST_CLASSES, FASHION_MNIST_DIR, load_idx

__all__ = ["ImageDataset", "mnist", "fashion_mnist", "SCALES"]

#: where ``keras.datasets`` keeps what it downloaded (a relative ``path`` is looked for there too)
KERAS_CACHE = "~/.keras/datasets"
#: what ``scale=`` may ask for when calling a loader
SCALES = ("unit", "none")

_IDX_STEMS = {"x_train": ("train-images-idx3-ubyte", "train-images.idx3-ubyte"),
              "y_train": ("train-labels-idx1-ubyte", "train-labels.idx1-ubyte"),
              "x_test": ("t10k-images-idx3-ubyte", "t10k-images.idx3-ubyte"),
              "y_test": ("t10k-labels-idx1-ubyte", "t10k-labels.idx1-ubyte")}


class ImageDataset:
    """A data set of 28×28 grey images in 10 classes, loaded from disk as Keras loads it.

    Parameters
    ----------
    name : str
        "mnist" or "fashion_mnist" (for messages).
    environment : str
        The environment variable that may name its file or directory.
    places : list of str
        Where to look when neither ``path`` nor the variable says.
    install : str
        How to get the files, for the error when none are found.
    class_names : tuple of str, optional
    """

    def __init__(self, name, environment, places, install, class_names=None):
        self.name = name
        self.environment = environment
        self.places = list(places)
        self.install = install
        self.class_names = tuple(class_names) if class_names else tuple("0123456789")

    def __repr__(self):
        return f"<glassnet.datasets.{self.name}: load_data() or {self.name}(scale=...)>"

    # -- where -----------------------------------------------------------------------------
    def locate(self, path=None):
        """The file or directory ``load_data`` reads (see the module docstring for the order)."""
        if path is not None:      # as given, or (Keras's meaning) in Keras's cache directory
            path = os.path.expanduser(os.fspath(path))
            candidates = [path] if os.path.isabs(path) else [
                path, os.path.join(os.path.expanduser(KERAS_CACHE), path)]
        elif os.environ.get(self.environment):
            candidates = [os.environ[self.environment]]
        else:
            candidates = [os.path.expanduser(p) for p in self.places]
        for candidate in candidates:
            if os.path.isfile(candidate) or (os.path.isdir(candidate)
                                             and _idx_files(candidate) is not None):
                return candidate
        said = "the path given" if path is not None else (
            f"${self.environment}" if os.environ.get(self.environment) else "any of")
        raise FileNotFoundError(
            f"{self.name} was not found in {said} {', '.join(map(repr, candidates))} "
            f"(glassnet never downloads). {self.install}")

    # -- Keras's form ------------------------------------------------------------------------
    def load_data(self, path=None):
        """``(x_train, y_train), (x_test, y_test)``: uint8 images (n, 28, 28), uint8 labels (n,).

        Raises
        ------
        FileNotFoundError
            Saying where it looked and how to get the files.
        ValueError
            For files that are not this data set (wrong shapes or types).
        """
        source = self.locate(path)
        arrays = _read_npz(source) if os.path.isfile(source) else {
            key: load_idx(file) for key, file in _idx_files(source).items()}
        return tuple(self._checked(arrays, part, source) for part in ("train", "test"))

    def _checked(self, arrays, part, source):
        x, y = arrays["x_" + part], arrays["y_" + part]
        if x.ndim != 3 or x.shape[1:] != (28, 28) or x.dtype != np.uint8:
            raise ValueError(f"{source!r}: {self.name} {part} images must be uint8 of shape "
                             f"(n, 28, 28); found {x.dtype} of shape {x.shape}")
        if y.ndim != 1 or y.dtype != np.uint8 or len(y) != len(x):
            raise ValueError(f"{source!r}: {self.name} needs one uint8 label per {part} image; "
                             f"found {y.dtype} of shape {y.shape} for {len(x)} images")
        if y.size and y.max() > 9:
            raise ValueError(f"{source!r}: {self.name} labels are 0..9; found {y.max()}")
        return x, y

    # -- glassnet's short form ---------------------------------------------------------------
    def __call__(self, directory=None, scale=None, normalize=None):
        """Flat rows for a Dense network: ``(x_train, y_train), (x_test, y_test)``.

        Parameters
        ----------
        directory : str, optional
            As ``load_data``'s ``path``.
        scale : {"unit", "none"}
            "unit": float32 pixels in [0, 1] (divided by 255); "none": the
            uint8 pixels 0..255.  Required: nothing is scaled unasked.
        normalize : bool, optional
            glassnet 0.1's name: True is ``scale="unit"``, False ``"none"``.

        Returns
        -------
        x of shape (n, 784) (rows of 28×28 pixels, row-major), y int64 labels (n,).
        """
        if normalize is not None:
            if scale is not None:
                raise ValueError("give scale= or the older normalize=, not both")
            scale = "unit" if normalize else "none"
        source = self.locate(directory)
        if scale not in SCALES:
            raise ValueError(
                f"{self.name}(...) needs scale='unit' (float32 pixels in [0, 1]) or "
                f"scale='none' (uint8 0..255); received {scale!r}. For Keras's arrays as "
                f"stored, call {self.name}.load_data()")
        parts = []
        for x, y in self.load_data(source):
            x = x.reshape(len(x), -1)
            if scale == "unit":
                x = x.astype(np.float32) / np.float32(255)
            parts.append((x, y.astype(np.int64)))
        return tuple(parts)


def _idx_files(directory):
    """The four IDX files in ``directory`` (gzipped or not), or None if one is missing."""
    found = {}
    for key, stems in _IDX_STEMS.items():
        for name in (s + suffix for s in stems for suffix in ("", ".gz")):
            candidate = os.path.join(directory, name)
            if os.path.isfile(candidate):
                found[key] = candidate
                break
        else:
            return None
    return found


#: the most bytes one array of a data set .npz may declare (MNIST's images: 47 MB)
NPZ_MEMBER_LIMIT = 64 * 2 ** 20


def _read_npz(path):
    """Keras's ``mnist.npz``: four arrays, read without pickles (safe for untrusted files).

    Each member's declared size is checked before it is decompressed, so a
    small file cannot expand into a huge array.
    """
    keys = ("x_train", "y_train", "x_test", "y_test")
    try:
        with zipfile.ZipFile(path) as archive:
            sizes = {info.filename: info.file_size for info in archive.infolist()}
        missing = [k for k in keys if k + ".npy" not in sizes]
        if missing:
            raise ValueError(f"{path!r} is not a Keras data set file: it lacks "
                             f"{', '.join(missing)}")
        too_big = [k for k in keys if sizes[k + ".npy"] > NPZ_MEMBER_LIMIT]
        if too_big:
            raise ValueError(f"{path!r}: {', '.join(too_big)} would unpack to more than "
                             f"{NPZ_MEMBER_LIMIT} bytes; this is not an MNIST-sized data set")
        with np.load(path, allow_pickle=False) as npz:
            return {key: npz[key] for key in keys}
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        raise ValueError(f"{path!r} is not a readable .npz file ({exc})") from None


mnist = ImageDataset(
    "mnist", "GLASSNET_MNIST", ["~/.keras/datasets/mnist.npz", "~/.keras/datasets/mnist"],
    "Debian has no MNIST package: put the four IDX files (train-images-idx3-ubyte.gz, ...) "
    "or Keras's mnist.npz in a directory and pass load_data(path=...) or set $GLASSNET_MNIST")
fashion_mnist = ImageDataset(
    "fashion_mnist", "GLASSNET_FASHION_MNIST",
    [FASHION_MNIST_DIR, "~/.keras/datasets/fashion-mnist"],
    f"Install Debian's package with 'apt-get install dataset-fashion-mnist' (files in "
    f"{FASHION_MNIST_DIR}), or pass the directory holding the four IDX files",
    FASHION_MNIST_CLASSES)
