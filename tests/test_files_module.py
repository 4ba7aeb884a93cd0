"""datasets/files.py as users meet it: what a path that is not a data file is called, the
fields of a CSV error that the command line's hints are built from, and the files-module
Fashion-MNIST reader (written for the mutants tools/mutation.sh found unchecked)."""

import os
import socket
import stat

import numpy as np
import pytest

from glassnet.datasets import files, load_csv, load_idx


@pytest.mark.parametrize("reader", [load_csv, load_idx, files.read_header])
def test_what_is_not_a_regular_file_is_named_for_what_it_is(tmp_path, reader):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    sock_path = tmp_path / "s.csv"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(sock_path))
    try:
        for path, what in ((tmp_path, "a directory"),
                           ("/dev/null", "a character device (like /dev/zero or a terminal)"),
                           (fifo, "a FIFO (a named pipe)"), (sock_path, "a socket")):
            with pytest.raises(ValueError) as info:
                reader(path)
            assert str(info.value) == (f"{os.fspath(path)!r} is {what}, not a data file; "
                                       f"glassnet reads regular files only (save the data to "
                                       f"a file first)")
    finally:
        server.close()


def test_a_block_device_is_named_as_a_disk():
    disks = [os.path.join("/dev", n) for n in sorted(os.listdir("/dev"))
             if stat.S_ISBLK(os.stat(os.path.join("/dev", n)).st_mode)]
    if not disks:
        pytest.skip("no block device on this machine")
    with pytest.raises(ValueError, match=r"is a block device \(a disk\), not a data file"):
        load_csv(disks[0])


def test_a_csv_field_error_carries_line_column_value_and_column_name(tmp_path):
    """What the command line's hints are built from: the line and column (from 1), the value
    as found and the header's name for that column."""
    path = tmp_path / "h.csv"
    path.write_text("label,height,colour\n1,1.5,2\n0,2.5,red\n")
    with pytest.raises(files.CSVFieldError) as info:
        load_csv(path)
    e = info.value
    assert (e.line, e.column, e.value, e.header) == (3, 3, "red", "colour")
    assert str(e) == (f"{str(path)!r}, line 3, column 3: expected a number, found 'red' "
                      f"(in column 'colour')")
    path.write_text("1,1.5,2\n0,2.5, red \n")           # no header: no name
    with pytest.raises(files.CSVFieldError) as info:
        load_csv(path)
    e = info.value
    assert (e.line, e.column, e.value, e.header) == (2, 3, "red", None)
    assert str(e).endswith("line 2, column 3: expected a number, found 'red'")
    path.write_text("label,a,b\n1,1.5,2\n0,,3\n")       # a missing value
    with pytest.raises(files.CSVFieldError) as info:
        load_csv(path)
    e = info.value
    assert (e.line, e.column, e.value, e.header) == (3, 2, "", "a")
    assert "found a missing value (in column 'a')" in str(e)


def test_an_infinite_value_is_a_field_error_naming_its_column(tmp_path):
    path = tmp_path / "inf.csv"
    path.write_text("species,a,b\nsetosa,1.5,2\nvirginica,2.5,inf\n")
    with pytest.raises(files.CSVFieldError) as info:
        load_csv(path, label_column="species")
    e = info.value
    assert (e.line, e.column, e.value, e.header) == (3, 3, "inf", "b")
    path.write_text("1.5,nan,0\n2.5,1,1\n")
    with pytest.raises(files.CSVFieldError) as info:
        load_csv(path, label_column=-1)
    e = info.value
    assert (e.line, e.column, e.value, e.header) == (1, 2, "nan", None)


def _idx(path, array, code):
    header = bytes([0, 0, code, array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape)
    path.write_bytes(header + array.astype(array.dtype.newbyteorder(">")).tobytes())


def test_files_fashion_mnist_reads_a_directory_and_the_environment(tmp_path, monkeypatch):
    """glassnet.datasets.files.fashion_mnist (the package's own fashion_mnist is Keras's, in
    images.py): the four IDX files of a directory, pixels scaled to [0, 1] or kept."""
    rng = np.random.default_rng(0)
    train = rng.integers(0, 256, (5, 28, 28)).astype(np.uint8)
    test = rng.integers(0, 256, (3, 28, 28)).astype(np.uint8)
    _idx(tmp_path / "train-images-idx3-ubyte", train, 0x08)
    _idx(tmp_path / "train-labels-idx1-ubyte", np.array([0, 1, 2, 3, 9], np.uint8), 0x08)
    _idx(tmp_path / "t10k-images-idx3-ubyte", test, 0x08)
    _idx(tmp_path / "t10k-labels-idx1-ubyte", np.array([4, 5, 6], np.uint8), 0x08)
    (x, y), (xt, yt) = files.fashion_mnist(str(tmp_path))
    assert x.dtype == np.float32 and x.shape == (5, 784)
    np.testing.assert_array_equal(x, train.reshape(5, -1) / np.float32(255))
    assert y.tolist() == [0, 1, 2, 3, 9] and yt.tolist() == [4, 5, 6]
    (x, _), _ = files.fashion_mnist(str(tmp_path), normalize=False)
    assert x.dtype == np.uint8 and x.max() == train.max()
    monkeypatch.setenv("GLASSNET_FASHION_MNIST", str(tmp_path))
    (x, _), (xt, _) = files.fashion_mnist()
    np.testing.assert_array_equal(xt, test.reshape(3, -1) / np.float32(255))
    monkeypatch.setenv("GLASSNET_FASHION_MNIST", str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError) as info:
        files.fashion_mnist()
    assert str(info.value) == (
        f"Fashion-MNIST was not found in {str(tmp_path / 'nowhere')!r}. Install Debian's "
        f"package with 'apt-get install dataset-fashion-mnist' (files in "
        f"/usr/share/datasets/fashion-mnist), or pass the directory holding the four IDX files")


def _gz_csv(path, rows):
    import gzip
    path.write_bytes(gzip.compress(("".join(f"{k % 2},{k}.5\n" for k in range(rows)))
                                   .encode()))
    return path


def test_the_limit_from_the_environment_in_plain_bytes(tmp_path, monkeypatch):
    """GLASSNET_MAX_DATA_BYTES=300 is 300 bytes (not kilobytes); 1 byte is a valid limit."""
    path = _gz_csv(tmp_path / "d.csv.gz", 40)                 # 40 lines, about 200 bytes
    text_size = len(__import__("gzip").decompress(path.read_bytes()))
    assert 150 < text_size < 300
    monkeypatch.setenv("GLASSNET_MAX_DATA_BYTES", "300")
    assert load_csv(path)[1].tolist() == [k % 2 for k in range(40)]
    monkeypatch.setenv("GLASSNET_MAX_DATA_BYTES", "150")
    with pytest.raises(files.DecompressionLimit, match="more than 150 bytes"):
        load_csv(path)
    monkeypatch.setenv("GLASSNET_MAX_DATA_BYTES", "1")
    with pytest.raises(files.DecompressionLimit, match="more than 1 bytes"):
        load_csv(path)
    monkeypatch.setenv("GLASSNET_MAX_DATA_BYTES", "0")
    with pytest.raises(ValueError, match="must be at least 1 byte"):
        load_csv(path)


def test_load_mnist_passes_its_limit_to_every_file(tmp_path):
    import gzip
    images = np.zeros((2, 28, 28), np.uint8)
    for stem, array in (("train-images-idx3-ubyte", images), ("t10k-images-idx3-ubyte", images),
                        ("train-labels-idx1-ubyte", np.zeros(2, np.uint8)),
                        ("t10k-labels-idx1-ubyte", np.zeros(2, np.uint8))):
        _idx(tmp_path / stem, array, 0x08)
        (tmp_path / (stem + ".gz")).write_bytes(gzip.compress((tmp_path / stem).read_bytes()))
        (tmp_path / stem).unlink()
    assert files.load_mnist(str(tmp_path))[0][0].shape == (2, 784)
    with pytest.raises(files.DecompressionLimit, match="more than 1,000 bytes"):
        files.load_mnist(str(tmp_path), max_bytes=1000)


def test_header_names_starting_with_x_and_a_damaged_gzip_header(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("X1,X2,label\n1.5,2.5,0\n")
    assert files.read_header(path) == ["X1", "X2", "label"]
    path = tmp_path / "bad.csv.gz"
    path.write_bytes(b"\x1f\x8b\x08\x00" + b"\x00" * 6 + b"garbage")
    with pytest.raises(ValueError, match=r"bad.csv.gz': the gzip stream is damaged or truncated"):
        files.read_header(path)


def test_files_fashion_mnist_looks_where_debian_puts_it(monkeypatch):
    monkeypatch.delenv("GLASSNET_FASHION_MNIST", raising=False)
    if os.path.isdir(files.FASHION_MNIST_DIR):
        assert files.fashion_mnist()[0][0].shape[1] == 784
        return
    with pytest.raises(FileNotFoundError, match="Fashion-MNIST was not found in "
                       "'/usr/share/datasets/fashion-mnist'"):
        files.fashion_mnist()
