"""Splitting, encoding and scaling: the values a user gets back, and the errors they read.

Written against the survivors of mutation testing (tools/mutation.sh datasets/preprocessing):
each test pins a behaviour a user relies on that no other test looked at.
"""
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from glassnet.datasets import (MinMaxScaler, StandardScaler, encode_labels, load_idx, one_hot,
                               train_test_split, validation_split)


# -- train_test_split ---------------------------------------------------------------------------

def test_train_test_split_shuffles_by_default_and_the_seed_decides_how():
    x = np.arange(100)
    a_train, a_test = train_test_split(x, seed=3)
    b_train, b_test = train_test_split(x, seed=3)
    c_train, c_test = train_test_split(x, seed=4)
    np.testing.assert_array_equal(a_test, b_test)                  # reproducible
    np.testing.assert_array_equal(a_train, b_train)
    assert a_test.tolist() != c_test.tolist()                       # the seed matters
    assert a_test.tolist() != list(range(75, 100))                  # shuffled by default
    assert sorted(a_test.tolist()) != list(range(75, 100))          # a random sample
    train, test = train_test_split(x, shuffle=False)
    assert test.tolist() == list(range(75, 100)) and train.tolist() == list(range(75))


def test_train_test_split_takes_a_count_or_a_fraction():
    x = np.arange(10)
    train, test = train_test_split(x, test_size=3, seed=0)
    assert len(test) == 3 and len(train) == 7
    train, test = train_test_split(x, test_size=0.3, seed=0)
    assert len(test) == 3 and len(train) == 7
    train, test = train_test_split(x, test_size=9, shuffle=False)
    assert test.tolist() == list(range(1, 10)) and train.tolist() == [0]


@pytest.mark.parametrize("size", [0, 10, 0.01, 0.99, 11])
def test_train_test_split_needs_one_row_in_each_part(size):
    with pytest.raises(ValueError, match=rf"test_size={size!r} gives \d+ test samples out of "
                                         r"10; need at least one in each part"):
        train_test_split(np.arange(10), test_size=size)


def test_train_test_split_errors_name_what_was_received():
    with pytest.raises(ValueError, match="train_test_split needs at least one array"):
        train_test_split()
    with pytest.raises(ValueError, match=r"same length; received \[4, 4, 3\]"):
        train_test_split(np.arange(4), np.arange(4), np.arange(3))
    with pytest.raises(ValueError, match=r"same length; received \[4, 3\]"):
        train_test_split(np.arange(4), np.arange(3))


def test_stratified_train_test_split_is_shuffled_and_seeded():
    labels = np.repeat([0, 1], 50)
    x = np.arange(100)
    a = train_test_split(x, labels, stratify=labels, seed=1)
    b = train_test_split(x, labels, stratify=labels, seed=2)
    assert np.bincount(a[3]).tolist() == [12, 12] or np.bincount(a[3]).tolist() == [13, 13]
    assert a[1].tolist() != b[1].tolist()
    assert sorted(a[1].tolist()) != a[1].tolist()                   # not in file order
    unshuffled = train_test_split(x, labels, stratify=labels, shuffle=False)
    assert unshuffled[1].tolist() == list(range(12)) + list(range(50, 62)) \
        or unshuffled[1].tolist() == list(range(13)) + list(range(50, 63))


# -- validation_split ---------------------------------------------------------------------------

def test_validation_split_with_a_generator_draws_a_random_stratified_sample():
    labels = np.repeat([0, 1, 2], 20)                        # sorted by class, as files are
    ids = np.arange(60)
    (train_ids, train_labels), (val_ids, val_labels) = validation_split(
        [ids, labels], 0.25, rng=np.random.default_rng(0), stratify=labels)
    assert np.bincount(val_labels).tolist() == [5, 5, 5]    # every class validates
    assert sorted(val_ids.tolist()) != list(range(45, 60))
    assert val_ids.tolist() != sorted(val_ids.tolist())      # shuffled, not in file order
    np.testing.assert_array_equal(labels[val_ids], val_labels)
    (_, _), (val_ids2, _) = validation_split([ids, labels], 0.25, rng=np.random.default_rng(0))
    assert sorted(val_ids2.tolist()) != list(range(45, 60))  # random without stratify too
    assert len(val_ids2) == 15


def test_validation_split_error_counts_both_parts():
    with pytest.raises(ValueError, match=r"a validation fraction of 0.01 of 10 samples leaves "
                                         r"10 for training and 0 for validation"):
        validation_split([np.arange(10)], 0.01)
    with pytest.raises(ValueError, match=r"leaves 0 for training and 10 for validation"):
        validation_split([np.arange(10)], 0.99)


def test_validation_split_keeps_none_entries():
    (x_tr, w_tr), (x_val, w_val) = validation_split([np.arange(8), None], 0.25)
    assert w_tr is None and w_val is None and x_val.tolist() == [6, 7]


# -- encode_labels and one_hot ---------------------------------------------------------------

def test_encode_labels_in_a_given_class_order():
    codes, classes = encode_labels(["dog", "cat", "eel", "dog"], classes=["eel", "dog", "cat"])
    assert codes.tolist() == [1, 2, 0, 1] and codes.dtype == np.int64
    assert classes == ("eel", "dog", "cat")
    codes, classes = encode_labels(["b", "a"], classes=["a", "b", "c"])   # a class unseen
    assert codes.tolist() == [1, 0] and classes == ("a", "b", "c")
    codes, classes = encode_labels(np.array([3, 1, 3]))
    assert codes.tolist() == [1, 0, 1] and classes == ("1", "3")


def test_encode_labels_errors():
    with pytest.raises(ValueError, match=r"encode_labels expects labels of shape \(n,\); "
                                         r"received \(2, 1\)"):
        encode_labels([["a"], ["b"]])
    with pytest.raises(ValueError, match=r"labels \['x'\] are not among the classes "
                                         r"\['a', 'b'\]"):
        encode_labels(["a", "x"], classes=["a", "b"])
    with pytest.raises(ValueError, match=r"labels \[0, 1, 2, 3, 4\] are not among"):
        encode_labels(np.arange(8), classes=[9])


def test_one_hot_accepts_column_vectors_whole_floats_and_bools():
    expected = np.eye(3, dtype=np.float32)[[2, 0, 1]]
    for labels in ([2, 0, 1], [[2], [0], [1]], np.array([2.0, 0.0, 1.0])):
        got = one_hot(labels)
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(one_hot([True, False]), [[0, 1], [1, 0]])
    assert one_hot([1], num_classes=4, dtype=np.float64).dtype == np.float64
    np.testing.assert_array_equal(one_hot([1], num_classes=4), [[0, 1, 0, 0]])


@pytest.mark.parametrize("labels", [[0.5, 1.0], [[0, 1], [1, 0]], ["a", "b"], [[[1]]]])
def test_one_hot_rejects_what_is_not_integer_labels(labels):
    with pytest.raises(ValueError, match="one_hot expects integer labels of shape \\(n,\\); "
                                         "received dtype"):
        one_hot(labels)


def test_one_hot_range_errors():
    with pytest.raises(ValueError, match=r"labels must lie in 0..2; received values from 0 to 3"):
        one_hot([0, 3], num_classes=3)
    with pytest.raises(ValueError, match=r"labels must lie in 0..2; received values from -1 "):
        one_hot([-1, 2])


# -- scalers ------------------------------------------------------------------------------------

@settings(max_examples=30, deadline=None)
@given(st.integers(2, 20), st.floats(0.001, 1000), st.floats(-100, 100), st.integers(0, 999))
def test_scalers_match_their_formulas_and_invert(n, spread, shift, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3)) * spread + shift
    X[:, 2] = X[0, 2]                                             # a constant feature
    mm = MinMaxScaler().fit(X)
    lo, hi = X.min(axis=0), X.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    np.testing.assert_allclose(mm.transform(X), (X - lo) / span, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(mm.transform(X)[:, :2].min(axis=0), 0, atol=1e-7)
    np.testing.assert_allclose(mm.transform(X)[:, :2].max(axis=0), 1, rtol=1e-6)
    ss = StandardScaler().fit(X)
    std = np.where(X.std(axis=0) > 0, X.std(axis=0), 1.0)
    np.testing.assert_allclose(ss.transform(X), (X - X.mean(axis=0)) / std, rtol=1e-6,
                               atol=1e-6)
    for scaler in (mm, ss):
        np.testing.assert_allclose(scaler.inverse_transform(scaler.transform(X)), X,
                                   rtol=1e-6, atol=1e-6 * max(1.0, spread + abs(shift)))


def test_scalers_on_small_ranges_and_new_data():
    """Spans below 1 are spans too; a constant feature keeps scale 1 for new data."""
    X = np.array([[0.1, 5.0], [0.3, 5.0], [0.2, 5.0]])
    mm = MinMaxScaler().fit(X)
    np.testing.assert_allclose(mm.scale_, [0.2, 1.0])
    np.testing.assert_allclose(mm.transform([[0.2, 7.0]]), [[0.5, 2.0]], rtol=1e-6)
    ss = StandardScaler().fit(X)
    np.testing.assert_allclose(ss.scale_, [np.std([0.1, 0.3, 0.2]), 1.0])
    np.testing.assert_allclose(ss.transform([[0.2, 7.0]]), [[0.0, 2.0]], atol=1e-6)
    wide = np.array([[0.0], [10.0]])
    np.testing.assert_allclose(MinMaxScaler().fit(wide).transform([[5.0]]), [[0.5]])


def test_scalers_keep_float_types_and_turn_integers_into_float32():
    X = np.array([[1, 2], [3, 6]])
    for cls in (MinMaxScaler, StandardScaler):
        scaler = cls().fit(X)
        assert scaler.transform(X).dtype == np.float32                  # integers
        assert scaler.transform(X.astype(np.float64)).dtype == np.float64
        assert scaler.transform(X.astype(np.float32)).dtype == np.float32
        assert scaler.inverse_transform(X).dtype == np.float32
        assert scaler.inverse_transform(X.astype(np.float64)).dtype == np.float64
        assert scaler.fit_transform(X.astype(np.float64)).dtype == np.float64
        np.testing.assert_allclose(scaler.fit_transform(X), scaler.transform(X))
        assert scaler.offset_.dtype == np.float64                       # fitted in float64


def test_scalers_fit_in_float64_even_from_float32():
    big = np.array([[16777216.0], [16777217.0], [16777218.0]], dtype=np.float64)
    scaler = StandardScaler().fit(big.astype(np.float32))
    assert scaler.offset_.dtype == np.float64


def test_scaler_errors_say_what_was_expected():
    with pytest.raises(ValueError, match=r"MinMaxScaler.fit expects a 2-D array with at least "
                                         r"one row; received shape \(3,\)"):
        MinMaxScaler().fit([1, 2, 3])
    with pytest.raises(ValueError, match=r"StandardScaler.fit expects .* received shape "
                                         r"\(0, 2\)"):
        StandardScaler().fit(np.zeros((0, 2)))
    StandardScaler().fit(np.zeros((1, 2)))                             # one row is enough
    MinMaxScaler().fit(np.zeros((3, 0)))                               # no features: allowed
    with pytest.raises(RuntimeError, match="StandardScaler is not fitted; call fit"):
        StandardScaler().transform([[1.0]])
    with pytest.raises(ValueError, match=r"MinMaxScaler was fitted on 2 features; received "
                                         r"shape \(1, 3\)"):
        MinMaxScaler().fit([[1, 2], [3, 4]]).transform([[1, 2, 3]])


# -- IDX and MNIST directories ---------------------------------------------------------------

def _idx(array, code=0x08):
    header = bytes([0, 0, code, array.ndim]) + b"".join(
        int(s).to_bytes(4, "big") for s in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


@pytest.mark.parametrize("data,message", [
    (b"", r"must start with two zero bytes, found an empty file"),
    (b"\x00", r"must start with two zero bytes, found 00$"),
    (b"\x00\x07\x08\x01\x00\x00\x00\x00", r"two zero bytes, found 00 07 08 01$"),
    (b"\x09\x00\x08\x01\x00\x00\x00\x00", r"two zero bytes, found 09 00 08 01$"),
    (b"\x00\x00\x08\x00", r"the IDX header is truncated \(4 bytes for 0 dimensions\)"),
    (b"\x00\x00\x08\x02\x00\x00\x00\x01", r"header is truncated \(8 bytes for 2 dimensions\)"),
    (b"\x00\x00\x08\x03" + b"\x00" * 11, r"truncated \(15 bytes for 3 dimensions\)"),
    (b"\x00\x00\x07\x01\x00\x00\x00\x01\x00", r"unknown IDX type code 0x07; expected one of "
                                              r"0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e$"),
])
def test_load_idx_header_errors(tmp_path, data, message):
    (tmp_path / "f").write_bytes(data)
    with pytest.raises(ValueError, match=message):
        load_idx(tmp_path / "f")


def test_load_idx_smallest_valid_files(tmp_path):
    (tmp_path / "empty").write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x00")       # 0 items
    assert load_idx(tmp_path / "empty").shape == (0,)
    (tmp_path / "one").write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x01\x2a")
    assert load_idx(tmp_path / "one").tolist() == [42]
    (tmp_path / "3d").write_bytes(_idx(np.arange(8, dtype=np.int16).reshape(2, 2, 2), 0x0B))
    np.testing.assert_array_equal(load_idx(tmp_path / "3d"), np.arange(8).reshape(2, 2, 2))


def test_load_idx_says_truncated_only_when_it_is(tmp_path):
    data = _idx(np.arange(4, dtype=np.uint8))
    (tmp_path / "padded").write_bytes(data + b"\x00")
    with pytest.raises(ValueError, match=r"promises shape \(4,\) \(4 bytes of data\) but the "
                                         r"file holds 5 bytes$"):
        load_idx(tmp_path / "padded")
    (tmp_path / "short").write_bytes(data[:-1])
    with pytest.raises(ValueError, match=r"holds 3 bytes \(truncated\?\)$"):
        load_idx(tmp_path / "short")


def _mnist_dir(path, n_train=3, n_test=2, labels_train=None):
    rng = np.random.default_rng(0)
    train = rng.integers(0, 256, size=(n_train, 28, 28)).astype(np.uint8)
    test = rng.integers(0, 256, size=(n_test, 28, 28)).astype(np.uint8)
    (path / "train-images-idx3-ubyte").write_bytes(_idx(train))
    (path / "t10k-images-idx3-ubyte").write_bytes(_idx(test))
    (path / "train-labels-idx1-ubyte").write_bytes(
        _idx(np.arange(n_train if labels_train is None else labels_train, dtype=np.uint8) % 10))
    (path / "t10k-labels-idx1-ubyte").write_bytes(_idx(np.arange(n_test, dtype=np.uint8)))
    return train, test


def test_load_mnist_raw_pixels_and_labels(tmp_path):
    from glassnet.datasets import fashion_mnist, load_mnist
    train, test = _mnist_dir(tmp_path)
    (Xtr, ytr), (Xte, yte) = load_mnist(str(tmp_path), normalize=False)
    assert Xtr.dtype == np.uint8 and Xtr.shape == (3, 784) and Xte.shape == (2, 784)
    np.testing.assert_array_equal(Xtr, train.reshape(3, 784))
    np.testing.assert_array_equal(Xte, test.reshape(2, 784))
    assert ytr.dtype == np.int64 and yte.dtype == np.int64 and yte.tolist() == [0, 1]
    (Xtr, _), _ = fashion_mnist(str(tmp_path), scale="none")
    assert Xtr.dtype == np.uint8
    (Xtr, _), _ = fashion_mnist(str(tmp_path), scale="unit")
    assert Xtr.dtype == np.float32 and Xtr.max() <= 1.0


def test_fashion_mnist_directory_from_the_environment(tmp_path, monkeypatch):
    from glassnet.datasets import fashion_mnist
    _mnist_dir(tmp_path)
    monkeypatch.setenv("GLASSNET_FASHION_MNIST", str(tmp_path))
    (Xtr, ytr), _ = fashion_mnist(scale="unit")
    assert Xtr.shape == (3, 784) and ytr.tolist() == [0, 1, 2]


def test_load_mnist_errors(tmp_path):
    from glassnet.datasets import load_mnist
    with pytest.raises(FileNotFoundError, match=r"'.*nowhere' is not a directory"):
        load_mnist(str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match=r"no train-images-idx3-ubyte\[.gz\] in"):
        load_mnist(str(tmp_path))
    _mnist_dir(tmp_path, labels_train=4)
    with pytest.raises(ValueError, match=r": train images \(3\) and labels \(4\) differ in "
                                         r"number"):
        load_mnist(str(tmp_path))


# -- save_csv -----------------------------------------------------------------------------------

def test_save_csv_header_names_and_no_labels(tmp_path):
    from glassnet.datasets import load_csv, save_csv
    save_csv(tmp_path / "a.csv", [[1.5, 2], [3, 4]], feature_names=["height", "weight"])
    assert (tmp_path / "a.csv").read_text() == "height,weight\n1.5,2\n3,4\n"
    save_csv(tmp_path / "b.csv", [[1, 2]], y=["cat"], label="animal")
    assert (tmp_path / "b.csv").read_text() == "animal,x0,x1\ncat,1,2\n"
    np.testing.assert_array_equal(load_csv(tmp_path / "a.csv", label_column=None),
                                  [[1.5, 2], [3, 4]])
    with pytest.raises(ValueError, match=r"save_csv expects x of shape \(n_samples, "
                                         r"n_features\); received \(3,\)"):
        save_csv(tmp_path / "c.csv", [1, 2, 3])


# -- load_csv: the files users have ------------------------------------------------------------

def test_load_csv_gzipped_with_spaces_quotes_and_no_gz_suffix(tmp_path):
    import gzip
    from glassnet.datasets import load_csv
    text = b'"label", "a", "b"\n1, 0.5, 2\n0, 1.5, 4\n'
    for name in ("d.csv.gz", "d.csv", "gzipped-without-suffix"):
        (tmp_path / name).write_bytes(gzip.compress(text))
        X, y = load_csv(tmp_path / name, label_column="label")
        np.testing.assert_array_equal(X, [[0.5, 2], [1.5, 4]])
        assert y.tolist() == [1, 0] and y.dtype == np.int64
        X, y = load_csv(tmp_path / name, label_column="b")
        assert y.tolist() == [2, 4]


def test_load_csv_quoted_header_names(tmp_path):
    from glassnet.datasets import load_csv
    (tmp_path / "q.csv").write_text('"x","y","species"\n1,2,setosa\n3,4,virginica\n')
    X, codes, names = load_csv(tmp_path / "q.csv", label_column="species",
                               return_class_names=True)
    assert names == ("setosa", "virginica") and codes.tolist() == [0, 1]


def test_load_csv_names_a_bad_first_row_without_header(tmp_path):
    from glassnet.datasets import load_csv
    (tmp_path / "n.csv").write_text("1,x,0\n2,3,1\n")
    with pytest.raises(ValueError, match=r"n.csv', line 1, column 2: expected a number, "
                                         r"found 'x'"):
        load_csv(tmp_path / "n.csv", label_column=-1, header=False)
    (tmp_path / "m.csv").write_text("x,1,0\n2,3,1\n")
    with pytest.raises(ValueError, match=r"line 1, column 1: expected a number, found 'x'"):
        load_csv(tmp_path / "m.csv", label_column=2, header=False)


def test_load_csv_blank_lines_are_skipped_and_errors_found_past_them(tmp_path):
    """NumPy's reader skips blank lines; an error after one is reported where it is (it used
    to be reported as 'empty line in the middle of the data', which loads fine on its own)."""
    from glassnet.datasets import CSVDataset, load_csv
    (tmp_path / "e.csv").write_text("label,a\n1,2\n\n0,4\n")
    assert load_csv(tmp_path / "e.csv")[1].tolist() == [1, 0]
    assert np.concatenate([y for _, y in CSVDataset(tmp_path / "e.csv")]).tolist() == [1, 0]
    (tmp_path / "x.csv").write_text("label,a\n1,2\n\n0,x\n")
    with pytest.raises(ValueError, match=r"x.csv', line 4, column 2: expected a number, "
                                         r"found 'x'"):
        load_csv(tmp_path / "x.csv")
    with pytest.raises(ValueError, match=r"line 4, column 2: expected a number, found 'x'"):
        list(CSVDataset(tmp_path / "x.csv"))


def test_load_csv_not_utf8_names_the_byte(tmp_path):
    from glassnet.datasets import load_csv
    (tmp_path / "l.csv").write_bytes(b"label,a\ncaf\xe9,2\nth\xe9,4\n")     # Latin-1 names
    with pytest.raises(ValueError, match=r"l.csv' is not UTF-8 text: byte \d+ cannot be decoded"):
        load_csv(tmp_path / "l.csv")
    (tmp_path / "h.csv").write_bytes(b"label,caf\xe9\n1,2\n")
    with pytest.raises(ValueError, match=r"h.csv' is not UTF-8 text"):
        load_csv(tmp_path / "h.csv")


def test_load_csv_label_column_by_index_range_and_type(tmp_path):
    from glassnet.datasets import load_csv
    (tmp_path / "d.csv").write_text("1,2,3\n4,5,6\n")
    assert load_csv(tmp_path / "d.csv", label_column=-3)[1].tolist() == [1, 4]   # = column 0
    assert load_csv(tmp_path / "d.csv", label_column=np.int64(2))[1].tolist() == [3, 6]
    for bad in (3, -4, True, 1.0):
        with pytest.raises(ValueError, match=rf"label_column {bad!r} is out of range for 3 "
                                             r"columns in '.*d.csv'"):
            load_csv(tmp_path / "d.csv", label_column=bad)
    with pytest.raises(ValueError, match=r"d.csv' has no header, so the label column cannot be "
                                         r"named 'price'; give its index instead"):
        load_csv(tmp_path / "d.csv", label_column="price")
    with pytest.raises(ValueError, match=r"d.csv' has no header, so"):
        load_csv(tmp_path / "d.csv", label_column="price", header=False)
    (tmp_path / "h.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match=r"'.*h.csv' has no column 'c'; its columns are "
                                         r"\['a', 'b'\]"):
        load_csv(tmp_path / "h.csv", label_column="c")


def test_load_csv_named_labels_in_every_layout(tmp_path):
    from glassnet.datasets import load_csv
    (tmp_path / "one.csv").write_text('x,kind\n1.5,"cat"\n')            # one row, quoted
    X, y = load_csv(tmp_path / "one.csv", label_column="kind")
    assert y.tolist() == ["cat"] and X.tolist() == [[1.5]]
    (tmp_path / "nohead.csv").write_text("cat,1\ndog,2\n")
    X, y = load_csv(tmp_path / "nohead.csv", header=False)
    assert y.tolist() == ["cat", "dog"] and X[:, 0].tolist() == [1, 2]
    X, y = load_csv(tmp_path / "nohead.csv", header=False, dtype=np.float64)
    assert X.dtype == np.float64
    with pytest.raises(ValueError, match=r"line 1, column 1: expected a number, found 'cat'"):
        load_csv(tmp_path / "nohead.csv", header=False, label_column=1)


def test_load_csv_named_labels_errors_name_the_right_line_and_column(tmp_path):
    from glassnet.datasets import load_csv
    (tmp_path / "m.csv").write_text("a,species,b\n1,setosa,2\n3,virginica,x\n")
    with pytest.raises(ValueError, match=r"m.csv', line 3, column 3: expected a number, "
                                         r"found 'x'"):
        load_csv(tmp_path / "m.csv", label_column="species")
    (tmp_path / "n.csv").write_text("a,species,b\n1,setosa,2\n3,virginica,nan\n")
    with pytest.raises(ValueError, match=r"line 3, column 3: expected a number, found nan"):
        load_csv(tmp_path / "n.csv", label_column="species")
    (tmp_path / "p.csv").write_text("a,species,b\n1,setosa,2\ninf,virginica,4\n")
    with pytest.raises(ValueError, match=r"line 3, column 1: expected a number, found inf"):
        load_csv(tmp_path / "p.csv", label_column="species")
    (tmp_path / "w.csv").write_text("a,species\n1,setosa,2\n3,virginica,4\n")
    with pytest.raises(ValueError, match=r"w.csv', line 2: expected 2 fields like the first "
                                         r"line, found 3"):
        load_csv(tmp_path / "w.csv", label_column="species")


def test_load_csv_header_and_rows_of_different_widths(tmp_path):
    from glassnet.datasets import load_csv
    (tmp_path / "w.csv").write_text("label,a\n1,2,3\n0,4,5\n")
    with pytest.raises(ValueError, match=r"w.csv', line 1: the header has 2 fields but the "
                                         r"data rows have 3$"):
        load_csv(tmp_path / "w.csv")
    (tmp_path / "v.csv").write_text("a,b,kind\n1,2,cat,9\n0,4,dog,8\n")   # names: same check
    with pytest.raises(ValueError, match=r"line 2: expected 3 fields like the first line, found 4"):
        load_csv(tmp_path / "v.csv", label_column="kind")


def test_load_csv_all_columns_in_the_dtype_asked(tmp_path):
    from glassnet.datasets import load_csv
    (tmp_path / "d.csv").write_text("1,2\n3,4\n")
    assert load_csv(tmp_path / "d.csv", label_column=None).dtype == np.float32
    assert load_csv(tmp_path / "d.csv", label_column=None, dtype=np.float64).dtype == np.float64


@pytest.mark.parametrize("labels", [np.arange(300) % 250, np.array([0, 1e6, 2 ** 40])])
def test_load_csv_many_or_large_whole_labels_stay_classes(tmp_path, labels):
    from glassnet.datasets import load_csv, save_csv
    x = np.linspace(0, 1, len(labels))[:, None] + 0.25             # decimals: a float table
    save_csv(tmp_path / "d.csv", x, labels.astype(np.int64))
    _, y = load_csv(tmp_path / "d.csv")
    assert y.dtype == np.int64 and y.tolist() == labels.astype(np.int64).tolist()


def test_load_csv_huge_whole_labels_stay_floats(tmp_path):
    """Above 2**53 floats are not exact integers: such labels are numbers, not classes."""
    from glassnet.datasets import load_csv
    (tmp_path / "d.csv").write_text("label,a\n1e20,0.5\n-3e30,1.5\n")
    _, y = load_csv(tmp_path / "d.csv")
    assert y.dtype == np.float64 and y.tolist() == [1e20, -3e30]


# -- CSVDataset ---------------------------------------------------------------------------------

def test_csv_dataset_names_as_labels_with_class_names(tmp_path):
    from glassnet.datasets import CSVDataset
    (tmp_path / "n.csv").write_text('"a","species","b"\n1,setosa,2\n3,"virginica",4\n'
                                    '5,setosa,6\n')
    ds = CSVDataset(tmp_path / "n.csv", label_column="species", batch_size=2,
                    class_names=["virginica", "setosa"], dtype=np.float64)
    batches = list(ds)
    assert [b[1].tolist() for b in batches] == [[1, 0], [1]]
    assert batches[0][0].dtype == np.float64 and batches[0][0].tolist() == [[1, 2], [3, 4]]
    assert batches[0][1].dtype == np.int64
    with pytest.raises(ValueError, match=r"n.csv' from line 2: labels \['virginica'\] are not "
                                         r"among class_names \['setosa'\]"):
        list(CSVDataset(tmp_path / "n.csv", label_column="species", class_names=["setosa"]))
    with pytest.raises(ValueError, match=r"n.csv', line 2, column 2: expected a number, found "
                                         r"'setosa'"):
        list(CSVDataset(tmp_path / "n.csv", label_column="species"))


def test_csv_dataset_error_lines_across_blocks(tmp_path):
    """Line numbers count the header and every earlier block."""
    from glassnet.datasets import CSVDataset
    rows = [f"{i % 2},{i},{i}" for i in range(200)]
    rows[150] = "1,150,oops"
    for header in ("", "label,a,b\n"):
        (tmp_path / "d.csv").write_text(header + "\n".join(rows) + "\n")
        line = 151 + bool(header)
        for block in (37, 100, 1 << 20):
            with pytest.raises(ValueError, match=rf"d.csv', line {line}, column 3: expected a "
                                                 r"number, found 'oops'"):
                list(CSVDataset(tmp_path / "d.csv", batch_size=16, block_bytes=block))
    rows[150] = "1,150,inf"
    (tmp_path / "d.csv").write_text("label,a,b\n" + "\n".join(rows) + "\n")
    with pytest.raises(ValueError, match=r"line 152, column 3: expected a number, found inf"):
        list(CSVDataset(tmp_path / "d.csv", batch_size=16, block_bytes=100))
    rows[150] = "1,150"
    (tmp_path / "d.csv").write_text("\n".join(rows) + "\n")
    with pytest.raises(ValueError, match=r"line 151: expected 3 fields like the first line, "
                                         r"found 2"):
        list(CSVDataset(tmp_path / "d.csv", batch_size=16, block_bytes=100))


def test_csv_dataset_reads_in_blocks_so_memory_stays_small(tmp_path):
    import tracemalloc
    from glassnet.datasets import CSVDataset
    rows = np.random.default_rng(0).integers(0, 1000, size=(60000, 8))
    np.savetxt(tmp_path / "big.csv", rows, fmt="%d", delimiter=",")
    size = (tmp_path / "big.csv").stat().st_size                       # about 1.9 MB
    ds = CSVDataset(tmp_path / "big.csv", batch_size=256, block_bytes=1 << 15)
    tracemalloc.start()
    try:
        n = sum(len(xb) for xb, _ in ds)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert n == 60000 and size > 1_500_000
    assert peak < size / 4, f"peak {peak} bytes for a file of {size}"


def test_csv_dataset_without_a_final_newline_and_tiny_blocks(tmp_path):
    from glassnet.datasets import CSVDataset
    (tmp_path / "d.csv").write_text("label,a\n0,10\n1,11\n0,12")           # no final newline
    for block in (1, 3, 7, 1 << 20):
        ds = CSVDataset(tmp_path / "d.csv", batch_size=2, block_bytes=block)
        assert ds.n_rows == 3 and len(ds) == 2
        got = list(ds)
        assert [b[1].tolist() for b in got] == [[0, 1], [0]]
        assert [b[0][:, 0].tolist() for b in got] == [[10, 11], [12]]


def test_csv_dataset_seed_decides_the_shuffle(tmp_path):
    from glassnet.datasets import CSVDataset
    (tmp_path / "d.csv").write_text("\n".join(f"{i % 3},{i}" for i in range(100)) + "\n")

    def order(seed):
        ds = CSVDataset(tmp_path / "d.csv", batch_size=10, shuffle_buffer=30, seed=seed)
        return np.concatenate([xb[:, 0] for xb, _ in ds]).tolist()
    assert order(1) == order(1) and order(1) != order(2)


def test_csv_dataset_refuses_gzip_and_empty_files(tmp_path):
    import gzip
    from glassnet.datasets import CSVDataset
    (tmp_path / "d.csv.gz").write_bytes(gzip.compress(b"1,2\n"))
    with pytest.raises(ValueError, match=r"d.csv.gz' is gzipped; CSVDataset streams plain text "
                                         r"files \(gunzip it, or use load_csv\)"):
        CSVDataset(tmp_path / "d.csv.gz")
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(ValueError, match=r"e.csv' is empty"):
        CSVDataset(tmp_path / "e.csv")
    (tmp_path / "h.csv").write_text("1,2\n")
    with pytest.raises(ValueError, match=r"'.*h.csv' has no header, so the label column cannot"):
        CSVDataset(tmp_path / "h.csv", label_column="y")
    (tmp_path / "q.csv").write_text('"y","x"\n1,2\n')
    assert CSVDataset(tmp_path / "q.csv", label_column="y").label == 0


def test_csv_dataset_labels_have_load_csvs_types(tmp_path):
    """Decimal features make the rows floats; whole labels are classes in every block, as
    load_csv gives them, and real-valued targets stay floats."""
    from glassnet.datasets import CSVDataset, load_csv
    (tmp_path / "c.csv").write_text("label,a\n" + "".join(f"{i % 3},{i}.5\n" for i in range(40)))
    _, y = load_csv(tmp_path / "c.csv")
    for block in (16, 1 << 20):
        streamed = list(CSVDataset(tmp_path / "c.csv", batch_size=8, block_bytes=block))
        assert all(yb.dtype == np.int64 for _, yb in streamed)
        assert np.concatenate([yb for _, yb in streamed]).tolist() == y.tolist()
    (tmp_path / "r.csv").write_text("target,a\n0.25,1\n1.5,2\n")
    (_, yb), = list(CSVDataset(tmp_path / "r.csv"))
    assert yb.dtype == np.float64 and yb.tolist() == [0.25, 1.5]


def test_csv_dataset_header_only_and_a_bad_first_row(tmp_path):
    from glassnet.datasets import CSVDataset
    (tmp_path / "h.csv").write_text("label,a,b\n")
    with pytest.raises(ValueError, match=r"h.csv' has a header but no data rows"):
        CSVDataset(tmp_path / "h.csv")          # as load_csv (fit would have had no batch)
    (tmp_path / "b.csv").write_text("1,x,2\n0,3,4\n")
    with pytest.raises(ValueError, match=r"b.csv', line 1, column 2: expected a number, "
                                         r"found 'x'"):
        list(CSVDataset(tmp_path / "b.csv", header=False))
    (tmp_path / "s.csv").write_text("1;2;3\n0;3;4\n")
    ds = CSVDataset(tmp_path / "s.csv", delimiter=";", label_column=2)
    assert [yb.tolist() for _, yb in ds] == [[3, 4]]
    (tmp_path / "t.csv").write_text("1;2;3\n0;x;4\n")
    with pytest.raises(ValueError, match=r"t.csv', line 2, column 2: expected a number, "
                                         r"found 'x'"):
        list(CSVDataset(tmp_path / "t.csv", delimiter=";"))


def _memmap(path, array, order="C"):
    mapped = np.lib.format.open_memmap(path, mode="w+", dtype=array.dtype, shape=array.shape,
                                       fortran_order=order == "F")
    mapped[...] = array
    mapped.flush()
    return np.load(path, mmap_mode="r")


def _net(seed=0, input_dim=None):
    import glassnet as gn
    model = gn.Sequential([gn.Dense(4, "tanh", input_dim=input_dim), gn.Dense(3, "softmax")],
                          seed=seed)
    model.compile(gn.SGD(0.1), "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.mark.parametrize("shuffle", [True, False])
def test_a_memory_map_trains_exactly_as_the_arrays_do(tmp_path, shuffle):
    """Rows, labels and sample weights read from the file are those the arrays would give:
    the same training, bit for bit (the documented promise), with or without shuffling,
    with a validation split taken from the end."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(103, 5)).astype(np.float32)
    y = (np.arange(103) % 3).astype(np.int64)
    w = rng.uniform(0.2, 3.0, size=103)
    mapped = _memmap(tmp_path / "x.npy", x)
    a, b = _net(), _net()                                   # unbuilt: width from the data
    ha = a.fit(x, y, sample_weight=w, epochs=2, batch_size=16, shuffle=shuffle,
               validation_split=0.2, verbose=0)
    hb = b.fit(mapped, y, sample_weight=w, epochs=2, batch_size=16, shuffle=shuffle,
               validation_split=0.2, verbose=0)
    np.testing.assert_array_equal(a.variables, b.variables)
    assert ha.history == hb.history
    np.testing.assert_array_equal(a.predict(x), b.predict(mapped))
    assert a.evaluate(x, y, sample_weight=w, return_dict=True) == \
        b.evaluate(mapped, y, sample_weight=w, return_dict=True)
    # a slice of a map is read from where it starts in the file, not from the file's start
    np.testing.assert_array_equal(b.predict(mapped[60:]), a.predict(x[60:]))
    np.testing.assert_array_equal(b.predict(mapped[60:][7:30]), a.predict(x[67:90]))
    assert b.evaluate(mapped[60:], y[60:], return_dict=True) == \
        a.evaluate(x[60:], y[60:], return_dict=True)


def test_memory_map_errors_say_what_is_accepted(tmp_path):
    x = np.arange(12, dtype=np.float32).reshape(4, 3)
    with pytest.raises(ValueError, match=r"a memory map for fit must be a C-ordered 2-D "
                                         r"np.memmap of a file \(n_samples, n_features\); "
                                         r"received shape \(4, 3\)"):
        _net().fit(_memmap(tmp_path / "f.npy", x, order="F"), np.zeros(4, int), verbose=0)
    with pytest.raises(ValueError, match=r"received shape \(12,\)"):
        _net().fit(_memmap(tmp_path / "flat.npy", x.ravel()), np.zeros(12, int), verbose=0)
    with pytest.raises(ValueError, match=r"x and y have different numbers of samples: x has 4, "
                                         r"y has 3"):
        _net().fit(_memmap(tmp_path / "c.npy", x), np.zeros(3, int), verbose=0)


def test_a_truncated_memory_map_file_is_reported(tmp_path):
    x = np.arange(400, dtype=np.float32).reshape(100, 4)
    mapped = _memmap(tmp_path / "x.npy", x)
    model = _net()
    model.build(4)
    with open(tmp_path / "x.npy", "r+b") as handle:             # another process cuts it
        handle.truncate(os.path.getsize(tmp_path / "x.npy") - 200)
    with pytest.raises(ValueError, match=r"the memory map's file ended early \(reading \d+ "
                                         r"bytes at offset \d+\): it was truncated or changed"):
        model.fit(mapped, np.zeros(100, int), batch_size=50, shuffle=False, verbose=0)


def test_an_unbuilt_model_takes_its_width_from_the_first_batch():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 6)).astype(np.float32)
    y = np.arange(40) % 3

    class Batches:                                  # Keras's PyDataset protocol
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return x[i * 10:(i + 1) * 10], y[i * 10:(i + 1) * 10]
    class OneBatch(Batches):
        def __len__(self):
            return 1
    for source in (Batches(), OneBatch(), [(x[:20], y[:20]), (x[20:], y[20:])]):
        model = _net()
        model.fit(source, epochs=1, verbose=0)
        assert model.input_dim == 6
    model = _net()                   # a generator: its first batch gives the width, then trains
    model.fit(((x[i:i + 10], y[i:i + 10]) for i in (0, 10)), epochs=1, verbose=0)
    assert model.input_dim == 6 and model.optimizer.iterations == 2
    model = _net(input_dim=6)
    model.fit(((x[i:i + 10], y[i:i + 10]) for i in (0, 10)), epochs=1, verbose=0)
    assert model.optimizer.iterations == 2


@pytest.mark.parametrize("text,lines", [(b"", 0), (b"\n", 0), (b"\r\n\na\n\n", 1), (b"a", 1),
                                        (b"a\nb", 2),
                                        (b"a\nb\n", 2), (b"a\n" * 5000, 5000),
                                        (b"a\n" * 600_000 + b"b", 600_001)])   # > 1 MB
def test_file_rows_counts_lines_with_or_without_a_final_newline(tmp_path, text, lines):
    """The rows of a file: its lines, less the empty ones NumPy's reader skips."""
    from glassnet.data import file_rows
    (tmp_path / "f").write_bytes(text)
    assert file_rows(tmp_path / "f") == lines


def test_csv_dataset_defaults_and_the_named_path_edge_cases(tmp_path):
    from glassnet.datasets import CSVDataset
    (tmp_path / "d.csv").write_text("".join(f"{i % 2},{i}\n" for i in range(70)))
    ds = CSVDataset(tmp_path / "d.csv")
    assert ds.batch_size == 32 and len(ds) == 3
    assert [len(xb) for xb, _ in ds] == [32, 32, 6]
    assert all(xb.dtype == np.float32 for xb, _ in ds)
    (tmp_path / "one.csv").write_text("kind,a\ncat,1.5\n")                   # one named row
    (xb, yb), = list(CSVDataset(tmp_path / "one.csv", class_names=["dog", "cat"]))
    assert xb.dtype == np.float32 and xb.tolist() == [[1.5]] and yb.tolist() == [1]
    (tmp_path / "bad.csv").write_text("kind,a,b\ncat,1,2\ndog,3,x\n")
    with pytest.raises(ValueError, match=r"bad.csv', line 3, column 3: expected a number, "
                                         r"found 'x'"):
        list(CSVDataset(tmp_path / "bad.csv", class_names=["cat", "dog"]))
    (tmp_path / "mid.csv").write_text("a,kind,b\n1,cat,2\n3,dog\n")
    with pytest.raises(ValueError, match=r"mid.csv', line 3: expected 3 fields like the first "
                                         r"line, found 2"):
        list(CSVDataset(tmp_path / "mid.csv", label_column="kind", class_names=["cat", "dog"]))


def test_save_csv_default_label_name_and_named_labels_in_float32(tmp_path):
    from glassnet.datasets import load_csv, save_csv
    save_csv(tmp_path / "d.csv", [[0.5]], ["cat"])
    assert (tmp_path / "d.csv").read_text().splitlines()[0] == "label,x0"
    X, y = load_csv(tmp_path / "d.csv", label_column="label")
    assert X.dtype == np.float32 and y.tolist() == ["cat"]


def test_whole_labels_beyond_int64_stay_floats(tmp_path):
    from glassnet.datasets import load_csv
    (tmp_path / "d.csv").write_text("label,a\n1e20,0.5\n2e20,1.5\n")
    _, y = load_csv(tmp_path / "d.csv")
    assert y.dtype == np.float64 and y.tolist() == [1e20, 2e20]


def test_names_ending_in_x_keep_their_letters(tmp_path):
    """Only quotes are stripped from header fields and class names."""
    from glassnet.datasets import CSVDataset, load_csv
    (tmp_path / "d.csv").write_text('"X","box"\n1.5,"LUX"\n2.5,XX\n')
    X, y = load_csv(tmp_path / "d.csv", label_column="box")
    assert y.tolist() == ["LUX", "XX"] and X.tolist() == [[1.5], [2.5]]
    ds = CSVDataset(tmp_path / "d.csv", label_column="box", class_names=["XX", "LUX"])
    assert ds.label == 1 and [yb.tolist() for _, yb in ds] == [[1, 0]]


def test_a_header_named_x_is_found(tmp_path):
    from glassnet.datasets import CSVDataset, load_csv
    (tmp_path / "d.csv").write_text('"a","X"\n1,0\n2,1\n')
    assert load_csv(tmp_path / "d.csv", label_column="X")[1].tolist() == [0, 1]
    assert CSVDataset(tmp_path / "d.csv", label_column="X").label == 1


# -- Dask arrays (glassnet.data.DaskBatches) -----------------------------------------------------

def test_a_dask_array_trains_on_every_row_once_per_epoch_with_its_own_label_and_weight():
    import glassnet as gn
    da = pytest.importorskip("dask.array")
    n = 130
    ids = np.arange(n)
    x = np.stack([ids / n, np.sin(ids), np.cos(ids)], axis=1)
    y, w = ids % 2, 1.0 + ids / n
    seen = []

    class Recording(gn.Sequential):          # a user's train_step: sees each batch's rows
        def train_step(self, xb, yb, sample_weight=None):
            seen.append((np.rint(xb[:, 0] * n).astype(int), np.asarray(yb),
                         np.asarray(sample_weight)))
            return super().train_step(xb, yb, sample_weight)

    def model():
        m = Recording([gn.Dense(2, "softmax")], seed=0)
        m.compile(gn.SGD(0.1), "sparse_categorical_crossentropy")
        return m

    chunks = 50                              # chunks of 50, 50 and 30 rows
    dx, dy, dw = (da.from_array(a, chunks=chunks) for a in (x, y, w))
    m = model()
    m.fit(dx, dy, sample_weight=dw, epochs=2, batch_size=20, verbose=0)
    # batches never straddle two chunks: 20+20+10, 20+20+10, 20+10 rows per epoch
    assert m.optimizer.iterations == 16 and len(seen) == 16
    epochs = [seen[:8], seen[8:]]
    for batches in epochs:
        rows = np.concatenate([r for r, _, _ in batches])
        assert sorted(rows.tolist()) == ids.tolist()              # every row, once
        assert sorted(len(r) for r, _, _ in batches) == [10, 10, 10, 20, 20, 20, 20, 20]
        for r, yb, wb in batches:
            assert len(set(r // chunks)) == 1                     # one chunk per batch
            np.testing.assert_array_equal(yb, y[r])               # each row with its label
            np.testing.assert_allclose(wb, w[r])                  # ... and its weight
    order = [np.concatenate([r for r, _, _ in b]).tolist() for b in epochs]
    assert order[0] != ids.tolist() and order[0] != order[1]      # shuffled, anew each epoch
    # the chunks' order (the chunk of each epoch's batches, in turn) and the rows within them
    chunk_order = [[int(r[0] // chunks) for r, _, _ in b] for b in epochs]
    assert any(c != sorted(c) for c in chunk_order)
    assert any(np.any(np.diff(r) < 0) for r, _, _ in epochs[0])
    # without shuffle: the rows in order, and the same weights as from the arrays
    seen.clear()
    a = model()
    a.fit(dx, dy, sample_weight=dw, epochs=1, batch_size=20, shuffle=False, verbose=0)
    order = np.concatenate([r for r, _, _ in seen]).tolist()
    assert order == ids.tolist()
    assert [len(r) for r, _, _ in seen] == [20, 20, 10, 20, 20, 10, 20, 10]
    # predict and evaluate go through a Dask array in order, one chunk at a time
    np.testing.assert_allclose(a.predict(dx), a.predict(x), rtol=1e-6)
    assert a.evaluate(dx, dy, return_dict=True)["loss"] == pytest.approx(
        a.evaluate(x, y, return_dict=True)["loss"], rel=1e-6)
    # a batch size beyond the data: one batch per chunk
    seen.clear()
    model().fit(dx, dy, epochs=1, batch_size=1000, shuffle=False, verbose=0)
    assert [len(r) for r, _, _ in seen] == [50, 50, 30]


def test_a_dask_array_is_refused_with_what_to_give_instead():
    import glassnet as gn
    da = pytest.importorskip("dask.array")
    m = gn.Sequential([gn.Dense(2, "softmax")], seed=0)
    m.compile(gn.SGD(0.1), "sparse_categorical_crossentropy")
    x = da.from_array(np.zeros((10, 3)), chunks=5)
    with pytest.raises(ValueError, match=r"validation_split needs to know the rows of x; for a "
                                         r"Array pass validation_data"):
        m.fit(x, np.zeros(10, int), validation_split=0.2, verbose=0)
    with pytest.raises(ValueError, match=r"a Dask array for fit must be 2-D \(n_samples, "
                                         r"n_features\); received shape \(10, 3, 1\)"):
        m.fit(da.from_array(np.zeros((10, 3, 1)), chunks=5), np.zeros(10, int), verbose=0)
    with pytest.raises(ValueError, match="class_weight needs y in memory"):
        m.fit(x, np.zeros(10, int), class_weight={0: 2.0}, verbose=0)


# -- PyDatasets and generators, as a user feeds them (glassnet.data, second round) --------------

class _PyDataset:
    """Keras's PyDataset protocol: len(ds) batches, ds[i] the i-th; records what fit read."""

    def __init__(self, x, y=None, w=None, size=10):
        self.x, self.y, self.w, self.size = x, y, w, size
        self.read, self.epochs_ended = [], 0

    def __len__(self):
        return -(-len(self.x) // self.size)

    def __getitem__(self, i):
        if not 0 <= i < len(self):
            raise IndexError(f"batch {i} of {len(self)}")
        self.read.append(i)
        part = slice(i * self.size, (i + 1) * self.size)
        if self.y is None:
            return self.x[part]                      # predict: x alone
        if self.w is None:
            return self.x[part], self.y[part]
        return self.x[part], self.y[part], self.w[part]

    def on_epoch_end(self):
        self.epochs_ended += 1


def _rows(n=40, seed=3):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5))
    return x, (x[:, 0] > 0).astype(int) + (x[:, 1] > 0).astype(int)


def test_a_pydataset_is_read_in_a_new_order_each_epoch_and_told_when_one_ends():
    x, y = _rows()
    ds = _PyDataset(x, y)
    model = _net()                              # no input width: the first batch gives it
    model.fit(ds, epochs=3, verbose=0)
    assert ds.epochs_ended == 3 and model.input_dim == 5
    epochs = [ds.read[k:k + 4] for k in (1, 5, 9)]     # ds.read[0]: the width, read first
    assert all(sorted(e) == [0, 1, 2, 3] for e in epochs)
    assert any(e != [0, 1, 2, 3] for e in epochs) and epochs[0] != epochs[1]   # shuffled
    ds.read.clear()
    model.fit(ds, epochs=1, shuffle=False, verbose=0)
    assert ds.read == [0, 1, 2, 3]
    ds.read.clear()
    result = model.evaluate(ds, return_dict=True)      # in order, every batch
    assert ds.read == [0, 1, 2, 3]
    assert result["loss"] == pytest.approx(model.evaluate(x, y, return_dict=True)["loss"])
    # predict on batches of x alone, in order
    np.testing.assert_allclose(model.predict(_PyDataset(x)), model.predict(x), rtol=1e-6)
    # one batch only: its width still known before fitting
    one = _net()
    one.fit(_PyDataset(x[:8], y[:8]), epochs=1, verbose=0)
    assert one.input_dim == 5 and one.optimizer.iterations == 1


def test_batches_with_sample_weights_train_as_the_arrays_do():
    x, y = _rows()
    w = np.where(np.arange(40) % 2, 2.0, 0.0)
    a, b, c = _net(), _net(), _net()
    a.fit(_PyDataset(x, y, w), epochs=2, shuffle=False, verbose=0)
    b.fit([(x[i:i + 10], y[i:i + 10], w[i:i + 10]) for i in range(0, 40, 10)], epochs=2,
          verbose=0)
    c.fit(x, y, sample_weight=w, batch_size=10, epochs=2, shuffle=False, verbose=0)
    for model in (a, b):
        for wa, wc in zip(model.get_weights(), c.get_weights()):
            np.testing.assert_allclose(wa, wc, rtol=1e-6)


def test_generators_in_predict_and_the_refusals_of_fit():
    x, y = _rows()
    model = _net()
    model.fit(x, y, epochs=1, verbose=0)
    # predict takes batches of x alone, or (x, y) batches (y ignored)
    np.testing.assert_allclose(model.predict(x[i:i + 10] for i in range(0, 40, 10)),
                               model.predict(x), rtol=1e-6)
    np.testing.assert_allclose(model.predict((x[i:i + 10], y[i:i + 10]) for i in range(0, 40, 10)),
                               model.predict(x), rtol=1e-6)
    with pytest.raises(ValueError, match=r"each batch must be a tuple \(x, y\) or \(x, y, "
                                         r"sample_weight\); received ndarray$"):
        model.fit((x[i:i + 10] for i in range(0, 40, 10)), verbose=0)
    with pytest.raises(ValueError, match=r"each batch must be a tuple \(x, y\) or \(x, y, "
                                         r"sample_weight\); received tuple of length 4"):
        model.fit([(x, y, y, y)], verbose=0)
    with pytest.raises(ValueError, match=r"y and sample_weight go inside the batches when x is "
                                         r"a generator: it must yield \(x, y\) or \(x, y, "
                                         r"sample_weight\)"):
        model.fit((b for b in [(x, y)]), y, verbose=0)
    with pytest.raises(ValueError, match=r"a generator can be read only once, so it can feed "
                                         r"one epoch; for 2 epochs"):
        model.fit((b for b in [(x, y)]), epochs=2, verbose=0)
    # a bad value in the second batch names the batch
    bad = x.copy()
    bad[15, 2] = np.nan
    with pytest.raises(ValueError, match=r"^batch 2: "):
        model.fit([(bad[i:i + 10], y[i:i + 10]) for i in range(0, 40, 10)], verbose=0)
    with pytest.raises(ValueError, match=r"^the generator gave no batches$"):
        _net().fit((b for b in []), verbose=0)
