"""Header or data? CSV files as people export them, read by load_csv, CSVDataset and the CLI.

The rule (files.first_line_is_header, the README's "Your own CSV file"): a first line is a
header when none of its fields is a number, or when one of its words sits in a column that
holds a number on the next line; otherwise it is data and is never dropped.  Issue #25: a
headerless file whose first row held a text label ("5.1,3.5,setosa") lost that row, and
``glassnet predict`` named the label column after it.
"""

import contextlib
import gzip
import io
import os
import string

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from glassnet import cli
from glassnet.datasets import CSVDataset, catalog, files, load_csv

IRIS_ROWS = [("5.1", "3.5", "setosa"), ("4.9", "3.0", "setosa"), ("6.3", "3.3", "virginica"),
             ("5.8", "2.7", "virginica"), ("5.0", "3.6", "setosa"), ("6.5", "3.0", "virginica")]


def write(path, lines, newline="\n", bom=False):
    text = newline.join(lines) + newline
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def iris_lines():
    return [",".join(row) for row in IRIS_ROWS]


def streamed(path, **kwargs):
    ds = CSVDataset(path, batch_size=4, **kwargs)
    batches = list(ds)
    return ds, np.concatenate([x for x, _ in batches]), np.concatenate([y for _, y in batches])


def run_cli(*args, cwd):
    out, err = io.StringIO(), io.StringIO()
    previous = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = cli.main(list(args))
            except SystemExit as exc:
                status = exc.code
    finally:
        os.chdir(previous)
    return status, out.getvalue(), err.getvalue()


# ---- the bug of issue #25: a headerless file whose labels are names --------------------

def test_a_headerless_file_with_name_labels_keeps_its_first_row(tmp_path):
    path = write(tmp_path / "iris.csv", iris_lines())
    x, y = load_csv(path, label_column=-1)
    assert len(x) == len(IRIS_ROWS) == 6
    np.testing.assert_array_equal(x, np.array([r[:2] for r in IRIS_ROWS], np.float32))
    assert y.tolist() == [r[2] for r in IRIS_ROWS]
    assert files.read_header(path) is None
    ds, xs, ys = streamed(path, label_column=2, class_names=["setosa", "virginica"])
    assert ds.header is False and ds.n_rows == 6 and len(ds) == 2
    np.testing.assert_array_equal(xs, x)
    assert ys.tolist() == [0, 0, 1, 1, 0, 1]


def test_the_label_first_as_in_mnist_csv_with_names(tmp_path):
    path = write(tmp_path / "named.csv", [f"{r[2]},{r[0]},{r[1]}" for r in IRIS_ROWS])
    x, codes, names = load_csv(path, return_class_names=True)
    assert names == ("setosa", "virginica")
    assert codes.tolist() == [0, 0, 1, 1, 0, 1]
    assert x[0].tolist() == [np.float32(5.1), np.float32(3.5)]


def test_a_header_of_names_above_name_labels_is_a_header(tmp_path):
    path = write(tmp_path / "iris.csv", ["sepal_length,sepal_width,species"] + iris_lines())
    x, y = load_csv(path, label_column="species")
    assert len(x) == 6 and y[0] == "setosa" and x[0, 0] == np.float32(5.1)
    assert files.read_header(path) == ["sepal_length", "sepal_width", "species"]
    ds, xs, ys = streamed(path, label_column="species", class_names=["setosa", "virginica"])
    assert ds.header is True and ds.n_rows == 6
    np.testing.assert_array_equal(xs, x)


def test_a_header_of_years_above_numeric_labels_is_a_header(tmp_path):
    path = write(tmp_path / "years.csv", ["2019,2020,label", "1.5,2.5,0", "3.5,4.5,1",
                                          "0.5,7.5,1"])
    assert files.read_header(path) == ["2019", "2020", "label"]
    x, y = load_csv(path, label_column="label")
    assert x.tolist() == [[1.5, 2.5], [3.5, 4.5], [0.5, 7.5]] and y.tolist() == [0, 1, 1]
    assert y.dtype == np.int64
    ds, xs, ys = streamed(path, label_column="label")
    assert ds.n_rows == 3 and ys.tolist() == [0, 1, 1]
    # a word in the first column (an index column's name) above numbers: a header too
    path = write(tmp_path / "index.csv", ["id,2019,2020", "1,1.5,2.5", "2,3.5,4.5"])
    assert files.read_header(path) == ["id", "2019", "2020"]
    assert load_csv(path)[1].tolist() == [1, 2]


def test_years_above_name_labels_cannot_be_told_apart_and_are_data_as_documented(tmp_path):
    """The documented limit: numbers whose only word sits in a column of words.  The line is
    kept as data (never dropped), read_header says so, and header=True reads it as names."""
    path = write(tmp_path / "years.csv", ["2019,2020,label", "1.5,2.5,cat", "3.5,4.5,dog"])
    assert files.read_header(path) is None
    x, y = load_csv(path, label_column=-1)
    assert len(x) == 3 and y.tolist() == ["label", "cat", "dog"]
    x, y = load_csv(path, label_column="label", header=True)
    assert x.tolist() == [[1.5, 2.5], [3.5, 4.5]] and y.tolist() == ["cat", "dog"]
    ds = CSVDataset(path, label_column="label", header=True, class_names=["cat", "dog"])
    assert ds.n_rows == 2


def test_numbers_only_on_the_first_line_are_data(tmp_path):
    path = write(tmp_path / "n.csv", ["7,1.5,2.5", "3,3.5,4.5"])
    assert files.read_header(path) is None
    x, y = load_csv(path)
    assert y.tolist() == [7, 3] and x.tolist() == [[1.5, 2.5], [3.5, 4.5]]


def test_quoted_fields_as_spreadsheets_export_them(tmp_path):
    path = write(tmp_path / "q.csv", ['"sepal length","sepal width","species"']
                 + [f'{a},{b},"{c}"' for a, b, c in IRIS_ROWS], newline="\r\n")
    assert files.read_header(path) == ["sepal length", "sepal width", "species"]
    x, y = load_csv(path, label_column="species")
    assert len(x) == 6 and y.tolist() == [r[2] for r in IRIS_ROWS]
    # no header, quoted names
    path = write(tmp_path / "nq.csv", [f'{a},{b},"{c}"' for a, b, c in IRIS_ROWS])
    assert files.read_header(path) is None
    x, y = load_csv(path, label_column=2)
    assert len(x) == 6 and y[0] == "setosa"


def test_excel_utf8_csv_with_a_byte_order_mark(tmp_path):
    """Excel's "CSV UTF-8" starts the file with a byte-order mark: the first line of numbers
    is still data (it was taken as a header: a row lost), and a header's first name has no
    mark in it."""
    path = write(tmp_path / "bom.csv", ["5.1,3.5,0", "4.9,3.0,1"], newline="\r\n", bom=True)
    assert files.read_header(path) is None
    x, y = load_csv(path, label_column=-1)
    assert x.tolist() == [[np.float32(5.1), 3.5], [np.float32(4.9), 3.0]]
    assert y.tolist() == [0, 1]
    ds, xs, ys = streamed(path, label_column=-1)
    assert ds.n_rows == 2 and ys.tolist() == [0, 1]
    np.testing.assert_array_equal(xs, x)
    path = write(tmp_path / "bomh.csv", ["species,a,b", "setosa,1,2", "virginica,3,4"],
                 bom=True)
    assert files.read_header(path) == ["species", "a", "b"]
    x, y = load_csv(path, label_column="species")
    assert y.tolist() == ["setosa", "virginica"]
    path = write(tmp_path / "bomn.csv", ["setosa,1,2", "virginica,3,4"], bom=True)
    x, y = load_csv(path)
    assert y.tolist() == ["setosa", "virginica"] and x.tolist() == [[1, 2], [3, 4]]


def test_gzipped_and_blank_lines_follow_the_same_rule(tmp_path):
    path = tmp_path / "iris.csv.gz"
    path.write_bytes(gzip.compress(("\n".join(iris_lines()) + "\n").encode()))
    assert files.read_header(path) is None
    x, y = load_csv(path, label_column=2)
    assert len(x) == 6 and y[0] == "setosa"
    # a blank line after the first: the rule looks at the next line that holds something
    path = write(tmp_path / "blank.csv", ["2019,2020,label", "", "", "1.5,2.5,0",
                                          "3.5,4.5,1"])
    assert files.read_header(path) == ["2019", "2020", "label"]
    assert load_csv(path, label_column="label")[1].tolist() == [0, 1]
    assert streamed(path, label_column="label")[2].tolist() == [0, 1]


def test_a_single_line_file(tmp_path):
    path = write(tmp_path / "one.csv", ["5.1,3.5,setosa"])
    assert files.read_header(path) is None
    x, y = load_csv(path, label_column=2)
    assert x.tolist() == [[np.float32(5.1), 3.5]] and y.tolist() == ["setosa"]
    path = write(tmp_path / "names.csv", ["a,b,label"])
    with pytest.raises(ValueError, match="has a header but no data rows"):
        load_csv(path)


def test_a_missing_value_in_the_first_row_is_reported_not_dropped(tmp_path):
    path = write(tmp_path / "gap.csv", ["5.1,,setosa", "4.9,3.0,setosa"])
    assert files.read_header(path) is None
    with pytest.raises(files.CSVFieldError) as info:
        load_csv(path, label_column=2)
    assert (info.value.line, info.value.column, info.value.value) == (1, 2, "")


def test_first_line_is_header_the_rule_itself():
    rule = files.first_line_is_header
    assert rule(["a", "b"]) is True and rule(["a", "b"], ["1", "2"]) is True
    assert rule(["1", "b"]) is False and rule(["1", "2"], ["a", "b"]) is False
    assert rule(["2019", "label"], ["1", "0"]) is True
    assert rule(["2019", "label"], ["1", "cat"]) is False
    assert rule(["1", ""], ["1", "2"]) is False          # an empty field is no name
    assert rule(["1", "x", "y"], ["1", "x"]) is False     # a shorter next line: no evidence


# ---- the command line ----------------------------------------------------------------

def _iris_file(tmp_path, header):
    rng = np.random.default_rng(0)
    lines = ["sepal,petal,species"] if header else []
    for k in range(60):
        name = ("setosa", "virginica", "versicolor")[k % 3]
        a, b = rng.normal(k % 3, 0.3, size=2)
        lines.append(f"{a:.3f},{b:.3f},{name}")
    return write(tmp_path / ("h.csv" if header else "noh.csv"), lines)


def test_train_says_what_the_first_line_was_and_trains_on_every_row(tmp_path):
    path = _iris_file(tmp_path, header=False)
    status, out, err = run_cli("train", "--data", str(path), "--label", "2", "--epochs", "1",
                               "--validation", "0", "--out", "m.glassnet", "--quiet",
                               cwd=tmp_path)
    assert status == 0, err
    assert f"Columns: {path} has no header line: its first line is data" in out
    assert "Training on " + str(path) + ": 48 samples" in out      # 60 rows, 12 for the test
    data = catalog.load(str(path), label=2)
    assert data.columns is None and data.labels == ("setosa", "versicolor", "virginica")
    assert len(data.x_train) + len(data.x_test) == 60
    path = _iris_file(tmp_path, header=True)
    status, out, err = run_cli("train", "--data", str(path), "--label", "species", "--epochs",
                               "1", "--validation", "0", "--out", "h.glassnet", "--quiet",
                               cwd=tmp_path)
    assert status == 0, err
    assert f"Columns: the first line of {path} is its header ('sepal', 'petal', 'species')" \
        in out
    assert catalog.load(str(path), label="species").columns == ("sepal", "petal", "species")
    status, out, err = run_cli("evaluate", "h.glassnet", "--data", str(path), "--label",
                               "species", cwd=tmp_path)
    assert status == 0, err
    assert out.splitlines()[1] == (f"Columns: the first line of {path} is its header "
                                   f"('sepal', 'petal', 'species')")


def test_predict_names_the_label_column_by_its_index_in_a_headerless_file(tmp_path):
    path = _iris_file(tmp_path, header=False)
    status, _, err = run_cli("train", "--data", str(path), "--label", "2", "--epochs", "1",
                             "--out", "m.glassnet", "--quiet", cwd=tmp_path)
    assert status == 0, err
    status, out, err = run_cli("predict", "m.glassnet", str(path), cwd=tmp_path)
    assert status != 0
    assert "line 1, column 3: expected a number, found 'setosa'" in err
    assert err.rstrip().endswith("drop it with --label 2")          # not "--label setosa"
    status, out, err = run_cli("predict", "m.glassnet", str(path), "--label", "2",
                               cwd=tmp_path)
    assert status == 0, err
    assert len(out.splitlines()) == 1 + 60                 # a line per row, the first kept


# ---- hypothesis: a headerless numeric file with a label column of words ----------------

_word = st.text(string.ascii_letters, min_size=1, max_size=8).filter(
    lambda s: not files._is_number(s))                   # "nan", "inf", "Infinity" are numbers
_value = st.floats(-1e6, 1e6, allow_nan=False, width=32) | st.integers(-1000, 1000)


@settings(max_examples=60, deadline=None)
@given(n_features=st.integers(1, 4), data=st.data())
def test_a_headerless_file_with_word_labels_never_loses_its_first_row(tmp_path_factory,
                                                                      n_features, data):
    rows = data.draw(st.lists(st.lists(_value, min_size=n_features, max_size=n_features),
                              min_size=1, max_size=8))
    labels = data.draw(st.lists(_word, min_size=len(rows), max_size=len(rows)))
    where = data.draw(st.integers(0, n_features))
    lines = []
    for row, label in zip(rows, labels):
        fields = [repr(float(v)) if isinstance(v, float) else str(v) for v in row]
        fields.insert(where, label)
        lines.append(",".join(fields))
    path = write(tmp_path_factory.mktemp("h") / "f.csv", lines)
    expected = np.array(rows, dtype=np.float64).astype(np.float32)
    assert files.read_header(path) is None
    x, y = load_csv(path, label_column=where)
    assert y.tolist() == labels
    np.testing.assert_array_equal(x, expected)
    ds, xs, ys = streamed(path, label_column=where, class_names=sorted(set(labels)))
    assert ds.n_rows == len(rows)
    np.testing.assert_array_equal(xs, expected)
    assert [sorted(set(labels))[k] for k in ys] == labels


# ----------------------------------------------------------------------------------------
# an outside tester's findings on files as people export them (each failed before its fix)
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("mark", ["NA", "n/a", "#N/A", "?", "#DIV/0!", "null", "0x10"])
def test_a_missing_value_mark_on_line_one_is_an_error_not_a_header(tmp_path, mark):
    # (a mark that starts with '#' was also dropped as a NumPy comment line)
    path = tmp_path / "spreadsheet.csv"
    path.write_text(f"{mark},3.5,0\n1.0,2.0,1\n3.0,4.0,0\n")
    for load in (lambda: load_csv(path, label_column=-1),
                 lambda: list(CSVDataset(path, label_column=-1, batch_size=8))):
        with pytest.raises(ValueError, match=r"line 1, column 1: expected a number, found"):
            load()


def test_blank_lines_above_the_data_are_named_not_called_empty(tmp_path):
    path = tmp_path / "padded.csv"
    path.write_text("\n\n1,2,0\n3,4,1\n")
    for load in (lambda: load_csv(path, label_column=-1),
                 lambda: CSVDataset(path, label_column=-1)):
        with pytest.raises(ValueError, match=r"line 1 is blank but line 3 holds data"):
            load()


def test_a_number_beyond_float32_is_refused_not_turned_into_inf(tmp_path):
    path = tmp_path / "huge.csv"
    path.write_text("1,2,0\n2,1e39,1\n")
    with pytest.raises(ValueError, match=r"line 2, column 2: .*1e\+39.*float32"):
        load_csv(path, label_column=-1)
    with pytest.raises(ValueError, match=r"line 2, column 2: .*float32"):
        list(CSVDataset(path, label_column=-1, batch_size=8))
    x, _ = load_csv(path, label_column=-1, dtype=np.float64)    # float64 holds it
    assert x[1, 1] == 1e39


def test_a_file_of_another_separator_is_refused_with_the_separator_named(tmp_path):
    path = tmp_path / "excel_fr.csv"
    path.write_text("1.5;2.5;0\n3.5;4.5;1\n")
    with pytest.raises(ValueError, match=r"one column .*no feature.*delimiter=';'"):
        CSVDataset(path, label_column=-1)
    with pytest.raises(ValueError, match=r"no feature.*delimiter=';'"):
        load_csv(path, label_column=-1)
    x, y = load_csv(path, label_column=-1, delimiter=";")
    assert x.shape == (2, 2) and y.tolist() == [0, 1]
