"""Gzipped data files are decompressed with a bound (issue #22, item 5).

A 0.87 MB ``.csv.gz`` held 600 MB of CSV and drove ``glassnet train`` past 4 GB. Now
every decompression stops, with a ValueError naming the limit and how to raise it,
once the data pass ``max_bytes`` (default 256 MiB, or ``GLASSNET_MAX_DATA_BYTES``), and
memory stays within about twice the limit.
"""
import gzip
import os
import struct
import subprocess
import sys
import tracemalloc
import zlib

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from glassnet.datasets import files, load_csv, load_idx

MB = 1 << 20


def _bomb(path, size, row=b"1,2,3,4\n", header=b""):
    """A gzip file of ``size`` bytes of CSV, compressed a megabyte at a time (a few KB)."""
    block = row * (MB // len(row))
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)       # 31: the gzip container
    with open(path, "wb") as out:
        out.write(packer.compress(header))
        for _ in range(size // len(block)):
            out.write(packer.compress(block))
        out.write(packer.flush())
    return path


def _peak(fn):
    tracemalloc.start()
    try:
        fn()
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return peak


def test_a_csv_bomb_stops_at_the_limit_in_bounded_memory(tmp_path):
    path = _bomb(tmp_path / "bomb.csv.gz", 200 * MB)
    assert path.stat().st_size < MB                   # a small file ...
    limit = 4 * MB

    def load():
        with pytest.raises(files.DecompressionLimit,
                           match=r"expands to more than 4,194,304 bytes.*GLASSNET_MAX_DATA_BYTES"):
            load_csv(path, max_bytes=limit)
    assert _peak(load) < 2 * limit + 4 * MB            # ... read only up to the limit


def test_the_limit_comes_from_the_environment_and_is_checked(tmp_path, monkeypatch):
    path = _bomb(tmp_path / "d.csv.gz", 3 * MB)
    monkeypatch.setenv("GLASSNET_MAX_DATA_BYTES", "2M")
    with pytest.raises(ValueError, match="more than 2,097,152 bytes"):
        load_csv(path)
    monkeypatch.setenv("GLASSNET_MAX_DATA_BYTES", "4m")
    x, y = load_csv(path)
    assert x.shape == (3 * MB // 8, 3) and (y == 1).all() and (x == [2, 3, 4]).all()
    for bad in ("lots", "-1", "0", ""):
        monkeypatch.setenv("GLASSNET_MAX_DATA_BYTES", bad)
        with pytest.raises(ValueError, match="GLASSNET_MAX_DATA_BYTES must be a size"
                                             "|at least 1 byte"):
            load_csv(path)
    monkeypatch.delenv("GLASSNET_MAX_DATA_BYTES")
    for bad in (0, -5, 1.5, True, "1M"):
        with pytest.raises(ValueError, match="max_bytes must be a positive number"):
            load_csv(path, max_bytes=bad)


def test_every_gzip_member_counts(tmp_path):
    """Concatenated gzip members (what ``cat a.gz b.gz`` makes) are one stream, one limit."""
    one = gzip.compress(b"1,2\n" * 1000)
    path = tmp_path / "multi.csv.gz"
    path.write_bytes(one * 10)                          # 40,000 bytes of CSV
    assert load_csv(path, max_bytes=40_000)[0].shape == (10_000, 1)
    with pytest.raises(files.DecompressionLimit):
        load_csv(path, max_bytes=39_999)


def test_an_idx_bomb_is_stopped_before_its_claimed_shape(tmp_path):
    header = struct.pack(">BBBBIII", 0, 0, 0x08, 3, 100_000, 28, 28)
    path = _bomb(tmp_path / "train-images-idx3-ubyte.gz", 64 * MB, row=b"\0" * 64,
                 header=header)

    def load():
        with pytest.raises(ValueError, match="expands to more than"):
            load_idx(path, max_bytes=2 * MB)
    assert _peak(load) < 8 * MB
    small = tmp_path / "ok.gz"
    small.write_bytes(gzip.compress(struct.pack(">BBBBI", 0, 0, 0x08, 1, 5) + bytes(range(5))))
    assert load_idx(small, max_bytes=13).tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(files.DecompressionLimit):
        load_idx(small, max_bytes=12)


@settings(max_examples=40, deadline=None)
@given(rows=st.integers(1, 400), columns=st.integers(2, 6), limit=st.integers(1, 8000),
       seed=st.integers(0, 2 ** 16))
def test_under_the_limit_loads_exactly_over_it_refuses(tmp_path_factory, rows, columns, limit,
                                                        seed):
    table = np.random.default_rng(seed).integers(-99, 99, size=(rows, columns))
    text = "\n".join(",".join(map(str, r)) for r in table.tolist()).encode() + b"\n"
    path = tmp_path_factory.mktemp("g") / "t.csv.gz"
    path.write_bytes(gzip.compress(text))
    if len(text) <= limit:
        x, y = load_csv(path, max_bytes=limit)
        assert np.array_equal(x, table[:, 1:]) and np.array_equal(y, table[:, 0])
    else:
        with pytest.raises(files.DecompressionLimit, match=f"more than {limit:,} bytes"):
            load_csv(path, max_bytes=limit)


def test_the_command_line_refuses_a_bomb_in_bounded_memory(tmp_path):
    """The attack of issue #22 (600 MB of CSV in a small .csv.gz), scaled to 300 MB."""
    path = _bomb(tmp_path / "bomb.csv.gz", 300 * MB, header=b"a,b,c,label\n")
    code = ("import resource, sys\n"
            "from glassnet import cli\n"
            "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "status = cli.main(sys.argv[1:])\n"
            "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "print('maxrss_kb', after - before)\n"
            "sys.exit(status)\n")
    env = {**os.environ, "GLASSNET_MAX_DATA_BYTES": "16M"}
    result = subprocess.run([sys.executable, "-c", code, "train", "--data", str(path),
                             "--out", str(tmp_path / "m.glassnet")], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    assert "expands to more than 16,777,216 bytes" in result.stderr
    assert "GLASSNET_MAX_DATA_BYTES" in result.stderr and "Traceback" not in result.stderr
    grew_mb = int(result.stdout.split("maxrss_kb")[1]) / 1024   # beyond the imports
    assert grew_mb < 2 * 16 + 64, f"{grew_mb:.0f} MB"           # 2 x the limit, and slack
    assert not (tmp_path / "m.glassnet").exists()


@pytest.mark.parametrize("suffix,compress", [(".bz2", "bz2"), (".xz", "lzma"), (".gz", None)])
def test_a_compressed_name_is_not_decompressed_behind_the_bound(tmp_path, suffix, compress):
    """np.loadtxt decompresses a *name* ending in .gz/.bz2/.xz itself, without a bound;
    glassnet hands it the open file, so only the gzip magic bytes mean gzip."""
    import importlib
    text = b"1,2,3,4\n" * (8 * MB // 8)                       # 8 MB of CSV
    packed = importlib.import_module(compress).compress(text) if compress \
        else b"\x1e\x8b" + text[:1000]                         # not gzip, named .gz
    path = tmp_path / ("bomb.csv" + suffix)
    path.write_bytes(packed)

    def load():
        with pytest.raises(ValueError, match="bomb.csv"):
            load_csv(path, max_bytes=MB)
    assert _peak(load) < 4 * MB + len(packed) * 4
