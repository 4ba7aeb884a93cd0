"""Untrusted files: refused in bounded memory and time, always with a ValueError.

A hostile model, CSV or IDX file may claim anything; opening it must cost memory and
time proportional to the file's own size (plus a small constant), and every refusal is
a ValueError naming the file.
"""
import gzip
import io
import json
import os
import struct
import time
import tracemalloc
import zipfile

import numpy as np
import pytest

import glassnet as gn
from glassnet.datasets import CSVDataset, load_csv, load_idx

#: memory a load may take beyond the file's own size (Python objects, the JSON, buffers)
SLACK_BYTES = 8 * 1024 * 1024
#: one load, valid or not, on these small files
TIME_LIMIT_S = 2.0


def _bounded(fn, path, factor=4):
    """Run fn(path); assert its peak traced memory and time stay within the bounds."""
    size = path.stat().st_size
    tracemalloc.start()
    start = time.perf_counter()
    try:
        return fn(path)
    finally:
        elapsed = time.perf_counter() - start
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert peak <= factor * size + SLACK_BYTES, f"peak {peak} bytes for a {size}-byte file"
        assert elapsed < TIME_LIMIT_S, f"{elapsed:.2f} s"


def _zip(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def _meta(layers, input_dim, **extra):
    return json.dumps({"format": "glassnet", "format_version": 2, "glassnet_version": "0.2.0",
                       "model": {"dtype": "float32", "seed": 0, "name": None,
                                 "input_dim": input_dim, "layers": layers},
                       "compile": None, **extra}).encode()


def _npy(array):
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def _npy_header_only(shape, dtype="<f4"):
    """A .npy header that declares ``shape`` with no data behind it."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": dtype, "fortran_order": False,
                                               "shape": shape})
    return buf.getvalue()


def test_a_huge_declared_network_is_refused_before_anything_is_allocated(tmp_path):
    # the attack of the issue: a 30000-30000 network (900 million weights) in a tiny file
    layers = [{"class": "dense", "config": {"units": 30000}}]
    path = tmp_path / "huge.glassnet"
    _zip(path, {"glassnet.json": _meta(layers, 30000), "params.npy": _npy(np.zeros(3, "f4"))})
    assert path.stat().st_size < 4096
    with pytest.raises(ValueError, match="huge.glassnet.*params.npy holds .* fewer than"):
        _bounded(gn.load_model, path)


def test_a_header_that_matches_the_huge_network_but_has_no_data_is_refused(tmp_path):
    layers = [{"class": "dense", "config": {"units": 30000}}]
    path = tmp_path / "liar.glassnet"
    _zip(path, {"glassnet.json": _meta(layers, 30000),
                "params.npy": _npy_header_only((30000 * 30000 + 30000,))})
    with pytest.raises(ValueError, match="liar.glassnet.*fewer than"):
        _bounded(gn.load_model, path)


def test_a_zip_directory_that_lies_about_sizes_is_refused(tmp_path):
    model = gn.Sequential([gn.Dense(2, input_dim=3)], seed=0)
    good = tmp_path / "good.glassnet"
    model.save(good)
    data = bytearray(good.read_bytes())
    # central directory entry of params.npy: claim a gigabyte (compressed and uncompressed)
    name = b"params.npy"
    entry = data.find(b"PK\x01\x02")
    while data[entry + 46:entry + 46 + len(name)] != name:
        entry = data.find(b"PK\x01\x02", entry + 1)
    struct.pack_into("<II", data, entry + 20, 2 ** 30, 2 ** 30)
    bad = tmp_path / "lies.glassnet"
    bad.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="lies.glassnet.*past the end"):
        _bounded(gn.load_model, bad)


def test_deeply_nested_json_is_a_value_error_not_a_recursion_error(tmp_path):
    path = tmp_path / "deep.glassnet"
    nested = b'{"format": "glassnet", "format_version": 2, "x": ' + b"[" * 200_000 \
        + b"]" * 200_000 + b"}"
    _zip(path, {"glassnet.json": nested}, compression=zipfile.ZIP_DEFLATED)
    with pytest.raises(ValueError, match="deep.glassnet.*nests deeper than"):
        _bounded(gn.load_model, path, factor=1000)     # the JSON is deflated 1000:1


@pytest.mark.parametrize("field, value, reason", [
    ("iterations", 10 ** 30, "iterations"), ("iterations", -1, "iterations"),
    ("iterations", "many", "iterations"), ("iterations", True, "iterations")])
def test_absurd_numbers_in_the_compile_settings_are_refused(tmp_path, field, value, reason):
    model = gn.Sequential([gn.Dense(2, input_dim=3)], seed=0)
    model.compile(loss="mse", optimizer="sgd")
    good = tmp_path / "good.glassnet"
    model.save(good)
    with zipfile.ZipFile(good) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    meta = json.loads(members["glassnet.json"])
    meta["compile"][field] = value
    members["glassnet.json"] = json.dumps(meta).encode()
    bad = tmp_path / "bad.glassnet"
    _zip(bad, members)
    with pytest.raises(ValueError, match=f"bad.glassnet.*{reason}"):
        gn.load_model(bad)


def test_duplicate_and_compressed_array_members_are_refused(tmp_path):
    model = gn.Sequential([gn.Dense(2, input_dim=3)], seed=0)
    good = tmp_path / "good.glassnet"
    model.save(good)
    with zipfile.ZipFile(good) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    dup = tmp_path / "dup.glassnet"
    with pytest.warns(UserWarning, match="Duplicate name"):
        with zipfile.ZipFile(dup, "w") as archive:
            for name, data in [*members.items(), ("params.npy", members["params.npy"])]:
                archive.writestr(name, data)
    with pytest.raises(ValueError, match="dup.glassnet.*params.npy twice"):
        gn.load_model(dup)
    packed = tmp_path / "packed.glassnet"
    _zip(packed, members, compression=zipfile.ZIP_DEFLATED)
    with pytest.raises(ValueError, match="packed.glassnet.*compressed"):
        gn.load_model(packed)


# -- the fuzz test ----------------------------------------------------------------------------

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

# GLASSNET_FUZZ_EXAMPLES=5000 runs a longer, random search (the suite's run is fixed)
FUZZ = settings(max_examples=int(os.environ.get("GLASSNET_FUZZ_EXAMPLES", 100)), deadline=None,
                derandomize="GLASSNET_FUZZ_EXAMPLES" not in os.environ,
                suppress_health_check=[HealthCheck.too_slow,
                                       HealthCheck.function_scoped_fixture])


def _models():
    x = np.random.default_rng(0).normal(size=(20, 3))
    y = np.random.default_rng(1).integers(0, 2, size=20)
    built = []
    for layers, optimizer in [
            ([gn.Dense(4, "relu"), gn.Dense(2, "softmax")], gn.Adam(0.01)),
            ([gn.Dense(3, "tanh"), gn.BatchNormalization(), gn.Dropout(0.2),
              gn.Dense(2, "softmax")], gn.SGD(0.1, momentum=0.9)),
            ([gn.Rescaling(0.5), gn.Dense(2, "sigmoid", kernel_regularizer="l2"),
              gn.LayerNormalization(), gn.Dense(2, "softmax")],
             gn.RMSprop(gn.CosineDecay(0.01, 10)))]:
        model = gn.Sequential(layers, seed=0)
        model.compile(loss="sparse_categorical_crossentropy", optimizer=optimizer,
                      metrics=["accuracy"])
        model.fit(x, y, epochs=2, batch_size=8, verbose=0)
        built.append(model)
    return built, x


MODELS, X = _models()


def _saved(tmp_path, index):
    path = tmp_path / f"m{index}.glassnet"
    MODELS[index].save(path)
    return path


def _json_values():
    scalars = st.one_of(st.none(), st.booleans(), st.integers(-2 ** 70, 2 ** 70),
                        st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=8))
    return st.recursive(scalars, lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
        max_leaves=6)


def _paths(value, prefix=()):
    """Every (path, value) inside a JSON document."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, prefix + (i,))


def _set(doc, path, value):
    if not path:
        return value
    target = doc
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return doc


def _load_or_refuse(path):
    """The loaded model, or None when loading raised a ValueError naming the file."""
    try:
        loaded = _bounded(gn.load_model, path)
    except ValueError as exc:
        assert str(path.name) in str(exc)
        return None
    return loaded


@FUZZ
@given(index=st.integers(0, 2), data=st.data())
def test_fuzzed_model_files_load_identically_or_raise_value_error(tmp_path_factory, index,
                                                                  data):
    tmp_path = tmp_path_factory.mktemp("fuzz")
    path = _saved(tmp_path, index)
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        members = {n: archive.read(n) for n in archive.namelist()}
    damage = data.draw(st.sampled_from(["flip", "truncate", "delete", "duplicate", "swap",
                                        "json", "huge"]))
    bad = tmp_path / "bad.glassnet"
    byte_level = damage in ("flip", "truncate")
    if damage == "flip":
        for _ in range(data.draw(st.integers(1, 4))):
            i = data.draw(st.integers(0, len(raw) - 1))
            raw[i] ^= 1 << data.draw(st.integers(0, 7))
        bad.write_bytes(bytes(raw))
    elif damage == "truncate":
        bad.write_bytes(bytes(raw[:data.draw(st.integers(0, len(raw) - 1))]))
    else:
        names = list(members)
        if damage == "delete":
            del members[data.draw(st.sampled_from(names))]
        elif damage == "duplicate":
            members[data.draw(st.sampled_from(names)) + data.draw(
                st.sampled_from(["", ".copy"]))] = members[data.draw(st.sampled_from(names))]
        elif damage == "swap":
            a, b = data.draw(st.sampled_from(names)), data.draw(st.sampled_from(names))
            members[a], members[b] = members[b], members[a]
        else:
            meta = json.loads(members["glassnet.json"])
            where = data.draw(st.sampled_from(list(_paths(meta))))
            value = (data.draw(st.sampled_from([10 ** 12, 2 ** 63, -1, 10 ** 400 // 10 ** 300]))
                     if damage == "huge" else data.draw(_json_values()))
            meta = _set(meta, where, value)
            members["glassnet.json"] = json.dumps(meta).encode()
        _zip(bad, members)
    loaded = _load_or_refuse(bad)
    if loaded is not None:
        out = loaded.predict(X)
        if byte_level:       # the CRC of every member guards the bytes: same model or refused
            np.testing.assert_array_equal(out, MODELS[index].predict(X))
        else:                # a different but well-formed model: it must at least run
            assert out.shape[0] == len(X)


@FUZZ
@given(data=st.data())
def test_fuzzed_csv_and_idx_files_load_or_raise_value_error(tmp_path_factory, data):
    tmp_path = tmp_path_factory.mktemp("fuzzdata")
    rows = np.random.default_rng(0).integers(0, 255, size=(20, 6))
    csv = "a,b,c,d,e,f\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n"
    idx = struct.pack(">BBBB", 0, 0, 0x08, 2) + struct.pack(">II", 20, 6) \
        + rows.astype(np.uint8).tobytes()
    kind = data.draw(st.sampled_from(["csv", "idx", "idx.gz"]))
    raw = bytearray(csv.encode() if kind == "csv" else
                    gzip.compress(idx) if kind == "idx.gz" else idx)
    damage = data.draw(st.sampled_from(["flip", "truncate", "insert"]))
    if damage == "flip":
        for _ in range(data.draw(st.integers(1, 4))):
            i = data.draw(st.integers(0, len(raw) - 1))
            raw[i] ^= 1 << data.draw(st.integers(0, 7))
    elif damage == "truncate":
        raw = raw[:data.draw(st.integers(0, len(raw) - 1))]
    else:
        i = data.draw(st.integers(0, len(raw)))
        raw[i:i] = data.draw(st.binary(min_size=1, max_size=12))
    path = tmp_path / f"data.{kind}"
    path.write_bytes(bytes(raw))
    loader = load_csv if kind == "csv" else load_idx
    try:
        _bounded(loader, path, factor=1100)     # gzip may expand a file ~1000 times
    except ValueError as exc:
        assert path.name in str(exc)
    if kind == "csv":                           # the streaming reader, on the same damage
        try:
            _bounded(lambda p: list(CSVDataset(p, batch_size=8)), path, factor=50)
        except ValueError as exc:
            assert path.name in str(exc)


@FUZZ
@given(data=st.data())
def test_gzipped_csv_costs_memory_bounded_by_the_limit_not_the_ratio(tmp_path_factory, data):
    """A .csv.gz of any compression ratio, damaged or not: it loads, or a ValueError says
    why (the decompression limit among the reasons), in memory bounded by the limit."""
    tmp_path = tmp_path_factory.mktemp("gz")
    repeats = data.draw(st.integers(1, 20_000))        # ratios from ~1 to ~1000
    limit = data.draw(st.integers(1_000, 400_000))
    text = b"a,b,c\n" + b"1,2,3\n4,5,6\n" * repeats
    raw = bytearray(gzip.compress(text))
    if data.draw(st.booleans()):                       # and damaged
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] ^= 1 << data.draw(st.integers(0, 7))
    path = tmp_path / "data.csv.gz"
    path.write_bytes(bytes(raw))
    tracemalloc.start()
    try:
        x, y = load_csv(path, max_bytes=limit)
    except ValueError as exc:
        assert path.name in str(exc)
        if len(text) > limit and "expands to more than" in str(exc):
            assert f"{limit:,} bytes" in str(exc)
    else:
        assert len(text) <= limit and x.shape == (2 * repeats, 2)
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak <= 8 * limit + SLACK_BYTES, f"peak {peak} bytes for a limit of {limit}"
