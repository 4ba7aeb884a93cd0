"""Keras's data set loaders: gn.datasets.mnist / fashion_mnist.load_data(), from disk only."""

import gzip
import os

import numpy as np
import pytest

import glassnet as gn
from glassnet import datasets
from glassnet.datasets import images

HAVE_DEBIAN_FASHION = os.path.isdir(datasets.FASHION_MNIST_DIR)


def _write_idx(path, array):
    """An IDX file: two zero bytes, type 0x08 (uint8), the rank, big-endian sizes, the data."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    data = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)


@pytest.fixture
def tiny_mnist(tmp_path, rng):
    """A directory of the four IDX files (train gzipped, test not), 12 + 5 images."""
    arrays = {"x_train": rng.integers(0, 256, (12, 28, 28)), "y_train": rng.integers(0, 10, 12),
              "x_test": rng.integers(0, 256, (5, 28, 28)), "y_test": rng.integers(0, 10, 5)}
    names = {"x_train": "train-images-idx3-ubyte.gz", "y_train": "train-labels-idx1-ubyte.gz",
             "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte"}
    for key, name in names.items():
        _write_idx(tmp_path / name, arrays[key])
    return tmp_path, {k: v.astype(np.uint8) for k, v in arrays.items()}


@pytest.mark.parametrize("loader", [datasets.mnist, datasets.fashion_mnist])
def test_load_data_returns_kerass_raw_arrays(loader, tiny_mnist):
    directory, expected = tiny_mnist
    (x_train, y_train), (x_test, y_test) = loader.load_data(directory)
    assert x_train.shape == (12, 28, 28) and x_test.shape == (5, 28, 28)
    assert x_train.dtype == y_train.dtype == x_test.dtype == y_test.dtype == np.uint8
    np.testing.assert_array_equal(x_train, expected["x_train"])
    np.testing.assert_array_equal(y_test, expected["y_test"])


def test_a_kerass_npz_cache_file_loads_too(tiny_mnist, tmp_path):
    _, expected = tiny_mnist
    np.savez_compressed(tmp_path / "mnist.npz", **expected)
    (x_train, y_train), (x_test, y_test) = datasets.mnist.load_data(tmp_path / "mnist.npz")
    np.testing.assert_array_equal(x_test, expected["x_test"])
    assert y_train.dtype == np.uint8


def test_a_relative_path_is_looked_for_in_kerass_cache_as_keras_means_it(tiny_mnist, tmp_path,
                                                                          monkeypatch):
    _, expected = tiny_mnist
    cache = tmp_path / "home" / ".keras" / "datasets"
    cache.mkdir(parents=True)
    np.savez(cache / "mnist.npz", **expected)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    (_, y_train), _ = datasets.mnist.load_data(path="mnist.npz")
    np.testing.assert_array_equal(y_train, expected["y_train"])
    monkeypatch.delenv("GLASSNET_MNIST", raising=False)
    (_, y_train), _ = datasets.mnist.load_data()              # the default place, too
    np.testing.assert_array_equal(y_train, expected["y_train"])


def test_the_environment_variable_names_the_place(tiny_mnist, monkeypatch):
    directory, expected = tiny_mnist
    monkeypatch.setenv("GLASSNET_MNIST", str(directory))
    (_, y_train), _ = datasets.mnist.load_data()
    np.testing.assert_array_equal(y_train, expected["y_train"])


def test_calling_the_loader_scales_only_when_asked(tiny_mnist):
    directory, expected = tiny_mnist
    (x, y), (xt, yt) = datasets.fashion_mnist(directory, scale="unit")
    assert x.shape == (12, 784) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_allclose(x, expected["x_train"].reshape(12, 784) / 255, rtol=1e-6)
    (x, _), _ = datasets.fashion_mnist(directory, scale="none")
    assert x.dtype == np.uint8 and x.max() == expected["x_train"].max()
    (x, _), _ = datasets.fashion_mnist(directory, normalize=True)        # glassnet 0.1's name
    assert x.dtype == np.float32
    with pytest.raises(ValueError, match=r"needs scale='unit'.*fashion_mnist.load_data\(\)"):
        datasets.fashion_mnist(directory)


def test_missing_files_name_the_package_and_never_download(tmp_path, monkeypatch):
    monkeypatch.delenv("GLASSNET_FASHION_MNIST", raising=False)
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        datasets.fashion_mnist.load_data(tmp_path / "nowhere")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("GLASSNET_MNIST", raising=False)
    with pytest.raises(FileNotFoundError, match=r"never downloads.*GLASSNET_MNIST"):
        datasets.mnist.load_data()


@pytest.mark.parametrize("break_it, match", [
    (lambda d: (d / "t10k-images-idx3-ubyte").write_bytes(
        bytes([0, 0, 8, 3]) + np.array([5, 28, 27], ">u4").tobytes() + bytes(5 * 28 * 27)),
     r"images must be uint8 of shape \(n, 28, 28\)"),
    (lambda d: _write_idx(d / "t10k-labels-idx1-ubyte", np.arange(4)), "one uint8 label per"),
    (lambda d: _write_idx(d / "t10k-labels-idx1-ubyte", np.array([1, 2, 3, 4, 12])),
     r"labels are 0..9"),
])
def test_files_that_are_not_mnist_are_refused(tiny_mnist, break_it, match):
    directory, _ = tiny_mnist
    break_it(directory)
    with pytest.raises(ValueError, match=match):
        datasets.mnist.load_data(directory)


def test_an_npz_that_is_not_a_data_set_is_refused(tmp_path):
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="lacks x_train, y_train, x_test, y_test"):
        datasets.mnist.load_data(tmp_path / "other.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="not a readable .npz file"):
        datasets.mnist.load_data(tmp_path / "junk.npz")
    np.savez(tmp_path / "objects.npz", x_train=np.array([{}], dtype=object),
             y_train=np.zeros(1, np.uint8), x_test=np.zeros((1, 28, 28), np.uint8),
             y_test=np.zeros(1, np.uint8))
    with pytest.raises(ValueError):
        datasets.mnist.load_data(tmp_path / "objects.npz")


def test_an_npz_declaring_a_huge_array_is_refused_before_decompressing(tmp_path, monkeypatch):
    monkeypatch.setattr(images, "NPZ_MEMBER_LIMIT", 1000)
    np.savez_compressed(tmp_path / "big.npz", x_train=np.zeros((2, 28, 28), np.uint8),
                        y_train=np.zeros(2, np.uint8), x_test=np.zeros((1, 28, 28), np.uint8),
                        y_test=np.zeros(1, np.uint8))
    with pytest.raises(ValueError, match="x_train would unpack to more than 1000 bytes"):
        datasets.mnist.load_data(tmp_path / "big.npz")


@pytest.mark.skipif(not HAVE_DEBIAN_FASHION,
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_fashion_mnist_from_the_debian_package_as_keras_returns_it():
    (x_train, y_train), (x_test, y_test) = gn.datasets.fashion_mnist.load_data()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train.shape == (60000,) and y_test.shape == (10000,)
    assert x_train.dtype == y_train.dtype == np.uint8
    assert x_train.max() == 255 and set(np.unique(y_test)) == set(range(10))
    assert np.bincount(y_train).tolist() == [6000] * 10
