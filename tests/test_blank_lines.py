"""Empty lines in a CSV file, as spreadsheets and editors leave them.

NumPy's reader skips empty lines (``\\n`` or ``\\r\\n`` alone), so both loaders do, and
``CSVDataset`` counts only the rows that hold data (its ``len`` is the number of batches an
epoch really has).  A line of spaces is not empty: it is refused with its line number.
"""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import glassnet as gn
from glassnet.data import file_rows

ROW = st.tuples(st.integers(-99, 99), st.integers(-99, 99), st.sampled_from(["cat", "dog"]))
LINE = st.one_of(ROW.map(lambda r: f"{r[0]},{r[1]},{r[2]}"), st.just(""))


@settings(max_examples=60, deadline=None)
@given(lines=st.lists(st.one_of(LINE, st.just("\r"), st.just("x")), max_size=40),
       ending=st.sampled_from(["\n", "\r\n"]), last_newline=st.booleans(),
       block_size=st.integers(1, 9))
def test_file_rows_counts_the_lines_that_are_not_empty(tmp_path_factory, lines, ending,
                                                        last_newline, block_size):
    text = ending.join(lines) + (ending if last_newline and lines else "")
    path = tmp_path_factory.mktemp("rows") / "f.csv"
    path.write_bytes(text.encode())
    expected = sum(1 for line in text.replace("\r\n", "\n").split("\n") if line.strip("\r"))
    assert file_rows(path, block_size=block_size) == expected
    assert file_rows(path) == expected


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(LINE, min_size=1, max_size=30).filter(any),
       ending=st.sampled_from(["\n", "\r\n"]), batch_size=st.integers(1, 7),
       block_bytes=st.sampled_from([1, 3, 8, 4 << 20]))
def test_a_dataset_with_empty_lines_has_as_many_batches_as_it_says(tmp_path_factory, rows,
                                                                   ending, batch_size,
                                                                   block_bytes):
    """Whatever piece of the file a block holds: empty lines alone between two blocks too."""
    path = tmp_path_factory.mktemp("csv") / "pets.csv"
    path.write_bytes(("a,b,kind" + ending + ending.join(rows) + ending).encode())
    data = [r for r in rows if r]
    with warnings.catch_warnings():
        warnings.simplefilter("error")                # no NumPy note about empty lines
        x, y = gn.datasets.load_csv(path, label_column="kind")
        ds = gn.datasets.CSVDataset(path, label_column="kind", batch_size=batch_size,
                                    class_names=["cat", "dog"], shuffle_buffer=0,
                                    block_bytes=block_bytes)
        batches = list(ds)
    assert len(x) == ds.n_rows == len(data)
    assert len(ds) == len(batches) == -(-len(data) // batch_size)
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), x)
    assert [["cat", "dog"][k] for b in batches for k in b[1]] == y.tolist()


@pytest.mark.parametrize("labels", ["numbers", "names"])
@pytest.mark.parametrize("where", ["middle", "last line, no newline"])
def test_a_line_of_spaces_is_refused_with_its_line_number(tmp_path, labels, where):
    kinds = ["0", "1", "0"] if labels == "numbers" else ["cat", "dog", "cat"]
    path = tmp_path / "f.csv"
    if where == "middle":
        path.write_text(f"a,b,y\n1,2,{kinds[0]}\n\n3,4,{kinds[1]}\n   \n5,6,{kinds[2]}\n")
    else:
        path.write_text(f"a,b,y\n1,2,{kinds[0]}\n\n3,4,{kinds[1]}\n5,6,{kinds[2]}\n \t ")
    message = (rf"'.*f.csv', line {5 if where == 'middle' else 6}: only spaces, where 3 "
               r"fields like the first line's were "
               r"expected \(an empty line is skipped: delete the spaces or the line\)")
    with pytest.raises(ValueError, match=message):
        gn.datasets.load_csv(path, label_column="y")
    names = None if labels == "numbers" else ["cat", "dog"]
    for block_bytes in (1, 4 << 20):        # the line alone in its piece of the file, or not
        with pytest.raises(ValueError, match=message):
            list(gn.datasets.CSVDataset(path, label_column="y", class_names=names,
                                        block_bytes=block_bytes))


@pytest.mark.parametrize("text", ["a,b,y\n", "a,b,y\n\n\n", "a,b,y\r\n\r\n"])
def test_a_header_without_rows_is_refused_by_both_loaders(tmp_path, text):
    path = tmp_path / "h.csv"
    path.write_bytes(text.encode())
    for load in (lambda: gn.datasets.load_csv(path, label_column="y"),
                 lambda: gn.datasets.CSVDataset(path, label_column="y")):
        with pytest.raises(ValueError, match=r"h.csv' has a header but no data rows"):
            load()


def test_file_rows_reads_a_large_file_in_blocks(tmp_path):
    """Memory stays bounded by the block, not the file (8 MB here)."""
    import tracemalloc
    path = tmp_path / "big.csv"
    path.write_bytes(b"0.5,1.5,2.5,1\n" * 600_000 + b"\n\n1,2,3,0\n")
    tracemalloc.start()
    try:
        rows = file_rows(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert rows == 600_001 and peak < 4 << 20, peak
