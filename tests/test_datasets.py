import gzip

import numpy as np
import pytest

from glassnet import datasets
from glassnet.datasets import (IMAGE2X2_CLASSES, MinMaxScaler, StandardScaler, function_samples,
                               image2x2, load_csv, load_idx, load_mnist, logic_gate, one_hot,
                               train_test_split)


@pytest.mark.parametrize("gate,expected", [("and", [0, 0, 0, 1]), ("or", [0, 1, 1, 1]),
                                           ("nand", [1, 1, 1, 0]), ("nor", [1, 0, 0, 0]),
                                           ("xor", [0, 1, 1, 0]), ("xnor", [1, 0, 0, 1])])
def test_logic_gates(gate, expected):
    X, y = logic_gate(gate)
    assert X.tolist() == [[0, 0], [0, 1], [1, 0], [1, 1]]
    assert y[:, 0].tolist() == expected and y.shape == (4, 1)


def test_xor_with_three_inputs_is_parity():
    X, y = logic_gate("xor", 3)
    assert X.shape == (8, 3)
    np.testing.assert_array_equal(y[:, 0], X.sum(axis=1) % 2)


def test_image2x2_patterns_and_targets():
    X, y = image2x2()
    assert X.shape == (8, 4) and y.shape == (8, 4)
    vertical = X[y[:, IMAGE2X2_CLASSES.index("vertical")] == 1]
    assert sorted(vertical.tolist()) == [[0, 1, 0, 1], [1, 0, 1, 0]]   # TL TR BL BR
    horizontal = X[y[:, 1] == 1]
    assert sorted(horizontal.tolist()) == [[0, 0, 1, 1], [1, 1, 0, 0]]
    Xu, yu = image2x2(sets=3, include_unknown=True)
    assert Xu.shape == (48, 4) and (yu.sum(axis=1) == 0).sum() == 24
    assert len({tuple(r) for r in Xu.tolist()}) == 16                  # all 2x2 patterns


def test_image2x2_grayscale_ranges_and_seed():
    X, _ = image2x2(sets=20, grayscale=True, seed=1)
    black, _ = image2x2(sets=20)
    assert ((X >= 0.8) & (X <= 1.0))[black == 1].all()
    assert ((X >= 0.0) & (X <= 0.2))[black == 0].all()
    np.testing.assert_array_equal(X, image2x2(sets=20, grayscale=True, seed=1)[0])


def test_function_samples():
    X, y = function_samples("linear", n=50, seed=0)
    np.testing.assert_allclose(y, 2 * X + 3, rtol=1e-6)
    X, y = function_samples("cubic", n=50, x_range=(-5, 5), seed=0)
    np.testing.assert_allclose(y, X ** 3 + 15 * X, rtol=1e-5)
    assert X.min() >= -5 and X.max() <= 5 and X.shape == (50, 1)
    X, y = function_samples(lambda x: x ** 3 - 15 * x, n=10, seed=0)
    np.testing.assert_allclose(y, X ** 3 - 15 * X, rtol=1e-5)
    with pytest.raises(ValueError, match="valid names are: linear, cubic"):
        function_samples("sine")


def test_embedded_digits():
    X, y = datasets.digits()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert X.min() == 0 and X.max() == 16 and set(np.unique(y)) == set(range(10))


def _write_idx(path, array, code=0x08, gz=False, chop=0):
    header = bytes([0, 0, code, array.ndim]) + b"".join(
        int(s).to_bytes(4, "big") for s in array.shape)
    data = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    data = data[:len(data) - chop] if chop else data
    path.write_bytes(gzip.compress(data) if gz else data)


@pytest.mark.parametrize("gz", [False, True])
def test_load_idx_and_mnist_directory(tmp_path, gz, rng):
    images = rng.integers(0, 256, size=(5, 28, 28)).astype(np.uint8)
    labels = np.array([3, 1, 4, 1, 5], dtype=np.uint8)
    sfx = ".gz" if gz else ""
    for part in ("train", "t10k"):
        _write_idx(tmp_path / f"{part}-images-idx3-ubyte{sfx}", images, gz=gz)
        _write_idx(tmp_path / f"{part}-labels-idx1-ubyte{sfx}", labels, gz=gz)
    np.testing.assert_array_equal(load_idx(tmp_path / f"train-images-idx3-ubyte{sfx}"), images)
    (Xtr, ytr), (Xte, yte) = load_mnist(str(tmp_path))
    assert Xtr.shape == (5, 784) and Xtr.dtype == np.float32
    np.testing.assert_allclose(Xtr * 255, images.reshape(5, -1), atol=1e-4)
    assert ytr.tolist() == [3, 1, 4, 1, 5]


def test_load_idx_other_types(tmp_path):
    arr = np.arange(6, dtype=np.float32).reshape(2, 3)
    _write_idx(tmp_path / "f.idx", arr, code=0x0D)
    np.testing.assert_array_equal(load_idx(tmp_path / "f.idx"), arr)


def test_idx_errors(tmp_path, rng):
    images = rng.integers(0, 256, size=(4, 3, 3)).astype(np.uint8)
    bad_magic = tmp_path / "magic"
    bad_magic.write_bytes(b"\x01\x02\x08\x01" + b"\x00" * 20)
    with pytest.raises(ValueError, match="not an IDX file"):
        load_idx(bad_magic)
    _write_idx(tmp_path / "short", images, chop=5)
    with pytest.raises(ValueError, match=r"promises shape \(4, 3, 3\).*holds 31 bytes.*truncated"):
        load_idx(tmp_path / "short")
    code = tmp_path / "code"
    code.write_bytes(b"\x00\x00\x42\x01\x00\x00\x00\x01\x00")
    with pytest.raises(ValueError, match="unknown IDX type code 0x42"):
        load_idx(code)
    gz = tmp_path / "cut.gz"
    gz.write_bytes(gzip.compress(b"\x00" * 400)[:20])
    with pytest.raises(ValueError, match="gzip stream is damaged"):
        load_idx(gz)
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte"):
        load_mnist(str(tmp_path))


def test_fashion_mnist_missing_says_how_to_install(tmp_path):
    with pytest.raises(FileNotFoundError, match="apt-get install dataset-fashion-mnist"):
        datasets.fashion_mnist(str(tmp_path / "nowhere"))


@pytest.mark.skipif(not __import__("os").path.isdir(datasets.FASHION_MNIST_DIR),
                    reason="Debian's dataset-fashion-mnist is not installed")
def test_fashion_mnist_from_debian_package():
    (Xtr, ytr), (Xte, yte) = datasets.fashion_mnist(scale="unit")
    assert Xtr.shape == (60000, 784) and Xte.shape == (10000, 784)
    assert 0 <= Xtr.min() and Xtr.max() <= 1 and set(np.unique(ytr)) == set(range(10))


def test_load_csv_mnist_format(tmp_path, rng):
    pixels = rng.integers(0, 256, size=(7, 784))
    labels = rng.integers(0, 10, size=7)
    path = tmp_path / "mnist.csv"
    header = "label," + ",".join(f"pixel{i}" for i in range(784))
    np.savetxt(path, np.column_stack([labels, pixels]), fmt="%d", delimiter=",", header=header,
               comments="")
    X, y = load_csv(path)
    assert X.shape == (7, 784) and X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(X, pixels)
    np.testing.assert_array_equal(y, labels)
    gz = tmp_path / "mnist.csv.gz"
    gz.write_bytes(gzip.compress(path.read_bytes()))
    np.testing.assert_array_equal(load_csv(gz)[0], pixels)


def test_load_csv_floats_no_header_label_last(tmp_path):
    path = tmp_path / "f.csv"
    path.write_text("0.5,1.5,0\n2.5,3.5,1\n")
    X, y = load_csv(path, label_column=-1)
    np.testing.assert_array_equal(X, [[0.5, 1.5], [2.5, 3.5]])
    assert y.tolist() == [0, 1]
    assert load_csv(path, label_column=None).shape == (2, 3)


@pytest.mark.parametrize("text,message", [
    ("a,b,c\n1,2,3\n4,x,6\n", "line 3, column 2: expected a number, found 'x'"),
    ("1,2,3\n4,5\n", "line 2: expected 3 fields like the first line, found 2"),
    ("a,b\n1,2\n3,4,5\n", "line 3: expected 2 fields"),
    ("", "is empty"),
    ("a,b,c\n", "no data rows"),
])
def test_load_csv_errors_name_the_line(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        load_csv(path)


def test_train_test_split_and_stratify(rng):
    X = np.arange(100).reshape(50, 2)
    y = np.repeat([0, 1], 25)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.2, seed=0, stratify=y)
    assert len(Xte) == 10 and len(Xtr) == 40
    assert (yte == 0).sum() == 5
    assert sorted(np.concatenate([Xtr[:, 0], Xte[:, 0]]).tolist()) == X[:, 0].tolist()
    np.testing.assert_array_equal(ytr, Xtr[:, 0] >= 50)       # rows stay with their labels


def test_one_hot():
    np.testing.assert_array_equal(one_hot([2, 0]), [[0, 0, 1], [1, 0, 0]])
    assert one_hot([1], num_classes=4).shape == (1, 4)
    with pytest.raises(ValueError, match="0..2"):
        one_hot([3], num_classes=3)


def test_scalers_remember_their_parameters(rng):
    X = rng.normal(5, 3, size=(100, 3)).astype(np.float32)
    s = StandardScaler().fit(X)
    Z = s.transform(X)
    np.testing.assert_allclose(Z.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(Z.std(axis=0), 1, atol=1e-5)
    np.testing.assert_allclose(s.inverse_transform(Z), X, rtol=1e-5, atol=1e-5)
    m = MinMaxScaler().fit(X)
    new = m.transform(X[:5] + 1000)
    assert Z.dtype == np.float32 and (new > 1).all()      # uses the remembered range
    np.testing.assert_allclose(m.transform(X).min(axis=0), 0, atol=1e-6)
    with pytest.raises(ValueError, match="fitted on 3 features"):
        s.transform(X[:, :2])
