"""Model files written by an attacker: generated architectures, not byte flips of good files.

The promise (README, "Guarantees"): opening a model file costs memory proportional to
the file's own size, and every way it can be wrong is a ValueError naming the file —
for any layer first, for graphs, for sizes no machine has, for the wrong types.
"""
import json
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import glassnet as gn
from glassnet import serialization
from glassnet.layers import layer as layer_module

SLACK_BYTES = 8 * 1024 * 1024


def _write(path, model_config, n_weights=12, compile_cfg=None):
    meta = {"glassnet_version": "0.3.0", "model": model_config, "compile": compile_cfg,
            "rng_state": None, "history": None}
    serialization.write_model_file(path, meta, {
        serialization.PARAMS: np.zeros(n_weights, np.float32)})
    return path


def _load_bounded(path):
    """load_model(path) with its peak traced memory bounded by the file's size."""
    size = path.stat().st_size
    tracemalloc.start()
    try:
        return gn.load_model(path)
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert peak <= 4 * size + SLACK_BYTES, f"peak {peak} bytes for a {size}-byte file"


HUGE = st.sampled_from([10 ** 6, 10 ** 9, 10 ** 12, 10 ** 15, 2 ** 63, 2 ** 70])
BAD = st.one_of(st.sampled_from([-1, 0, 1.5, "8", "false", None, True, [], {}, float("nan")]),
                st.text(max_size=3))
SIZE = st.one_of(st.integers(1, 6), HUGE, BAD)


@st.composite
def first_layers(draw):
    """Any layer kind, with sizes that are sane, huge or of the wrong type."""
    kind = draw(st.sampled_from(["dense", "dropout", "rescaling", "normalization",
                                 "batch_normalization", "layer_normalization", "input_layer"]))
    config = {"input_dim": draw(SIZE)}
    if kind == "dense":
        config.update(units=draw(SIZE), use_bias=draw(st.one_of(st.booleans(), BAD)))
    elif kind == "dropout":
        config["rate"] = draw(st.one_of(st.floats(0, 0.9), BAD))
    elif kind == "rescaling":
        config["scale"] = draw(st.one_of(st.floats(0.1, 2), BAD))
    elif kind == "normalization" and draw(st.booleans()):
        n = draw(st.integers(1, 4))
        config.update(mean=[0.0] * n, variance=draw(st.sampled_from([[1.0] * n, "x", [-1.0]])))
    elif kind == "input_layer":
        config = {"shape": [draw(SIZE)]}
    return {"class": kind, "config": config}


@settings(max_examples=200, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(first=first_layers(), units=SIZE, input_dim=SIZE)
def test_generated_sequential_files_load_or_fail_with_a_value_error(tmp_path, first, units,
                                                                     input_dim):
    config = {"class": "sequential", "dtype": "float32", "seed": 0, "name": None,
              "input_dim": input_dim,
              "layers": [first, {"class": "dense", "config": {"units": units}}]}
    path = _write(tmp_path / "m.glassnet", config)
    try:
        model = _load_bounded(path)
    except ValueError as exc:
        assert "m.glassnet" in str(exc)
    else:
        assert model.count_params() == 12          # only a file that holds its weights loads


@st.composite
def graph_configs(draw):
    """A functional model's config: inputs, nodes (some reading tensors that do not exist)."""
    width = draw(SIZE)
    layers = [{"class": "input_layer", "config": {"shape": [width], "name": "in"}}]
    nodes, made = [], [["in", 0, 0]]
    for i in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["dense", "add", "concatenate", "multiply"]))
        name = f"l{i}"
        config = {"name": name}
        if kind == "dense":
            config["units"] = draw(SIZE)
            inputs = [draw(st.sampled_from(made))]
        else:
            inputs = [draw(st.sampled_from(made)) for _ in range(draw(st.integers(1, 3)))]
        if draw(st.integers(0, 9)) == 0:                    # a reference to nothing
            inputs.append(draw(st.sampled_from([["nope", 0, 0], ["in", 5, 0], ["in", 0, 9],
                                                "in", [1, 2, 3]])))
        layers.append({"class": kind, "config": config})
        nodes.append({"layer": name, "inputs": inputs})
        made.append([name, 0, 0])
    return {"class": "functional", "dtype": "float32", "seed": 0, "name": None,
            "layers": layers, "nodes": nodes, "inputs": [["in", 0, 0]],
            "outputs": [draw(st.sampled_from(made))]}


@settings(max_examples=200, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(config=graph_configs())
def test_generated_graph_files_load_or_fail_with_a_value_error(tmp_path, config):
    path = _write(tmp_path / "g.glassnet", config)
    try:
        model = _load_bounded(path)
    except ValueError as exc:
        assert "g.glassnet" in str(exc)
    else:
        assert model.count_params() == 12


@pytest.mark.parametrize("units, input_dim", [(30000, 30000), (10 ** 12, 10), (10, 10 ** 15),
                                              (2 * 10 ** 8, 784)])
def test_a_small_file_claiming_a_huge_graph_is_refused_before_allocating(tmp_path, units,
                                                                         input_dim):
    x = gn.Input(shape=(input_dim,))
    config = {"class": "functional", "dtype": "float32", "seed": 0, "name": None,
              "layers": [{"class": "input_layer", "config": {"shape": [input_dim],
                                                            "name": "x"}},
                         {"class": "dense", "config": {"units": units, "name": "d"}}],
              "nodes": [{"layer": "d", "inputs": [["x", 0, 0]]}],
              "inputs": [["x", 0, 0]], "outputs": [["d", 0, 0]]}
    del x
    path = _write(tmp_path / "huge.glassnet", config)
    with pytest.raises(ValueError, match="huge.glassnet"):
        _load_bounded(path)


def test_strings_are_not_booleans_or_numbers(tmp_path):
    model = gn.Sequential([gn.Dense(2, input_dim=3), gn.Dropout(0.5)])
    config = {"class": "sequential", **model.get_config()}
    config["layers"][0]["config"]["use_bias"] = "false"
    with pytest.raises(ValueError, match="use_bias must be True or False"):
        gn.load_model(_write(tmp_path / "a.glassnet", config, n_weights=8))
    config["layers"][0]["config"]["use_bias"] = True
    config["layers"][1]["config"]["rate"] = "0.5"
    with pytest.raises(ValueError, match="rate must be a number"):
        gn.load_model(_write(tmp_path / "b.glassnet", config, n_weights=8))


@pytest.mark.parametrize("kind", ["sequential", "functional"])
def test_loading_builds_each_layer_a_bounded_number_of_times(tmp_path, monkeypatch, kind):
    """5,000 layers: every layer is built a constant number of times (linear, not quadratic)."""
    n = 5000
    if kind == "sequential":
        model = gn.Sequential([gn.Dense(2, input_dim=2)] + [gn.Dropout(0.1) for _ in range(n)])
    else:
        x = gn.Input(shape=(2,))
        h = gn.Dense(2)(x)
        for _ in range(n):
            h = gn.Dropout(0.1)(h)
        model = gn.Model(x, h)
    model.save(tmp_path / "deep.glassnet")
    calls = []
    original = layer_module.Layer.build_from

    def counting(self, input_dim, rng):
        calls.append(self.name)
        return original(self, input_dim, rng)
    monkeypatch.setattr(layer_module.Layer, "build_from", counting)
    again = gn.load_model(tmp_path / "deep.glassnet")
    assert len(again.layers) >= n + 1
    assert len(calls) <= 3 * (n + 2), f"{len(calls)} builds for {n + 1} layers"


def test_a_saved_graph_file_is_what_load_reads_back(tmp_path):
    x = gn.Input(shape=(3,))
    model = gn.Model(x, gn.layers.add([gn.Dense(3)(x), x]))
    model.save(tmp_path / "ok.glassnet")
    meta_ok = json.loads(json.dumps(gn.load_model(tmp_path / "ok.glassnet").get_config()))
    assert meta_ok == json.loads(json.dumps(model.get_config()))


def test_a_long_string_in_the_json_is_read_in_bounded_memory(tmp_path):
    model = gn.Sequential([gn.Dense(2, input_dim=3)])
    config = {"class": "sequential", **model.get_config(), "name": "x" * 4_000_000}
    path = _write(tmp_path / "long.glassnet", config, n_weights=8)
    assert _load_bounded(path).name == "x" * 4_000_000


def test_a_file_describing_too_many_layers_is_refused(tmp_path):
    layers = [{"class": "dropout", "config": {"rate": 0.1}}] * 20_001
    config = {"class": "sequential", "dtype": "float32", "seed": 0, "name": None,
              "input_dim": 2, "layers": layers}
    with pytest.raises(ValueError, match="more than the 20,000"):
        _load_bounded(_write(tmp_path / "many.glassnet", config, n_weights=0))


@pytest.mark.parametrize("change, message", [
    (lambda c: c["nodes"][0].update(inputs=[["x", 0, 0], ["x", 0, 0]]), "takes one input"),
    (lambda c: c.update(nodes=None), "must be a list"),
    (lambda c: c.update(outputs="d"), "must be a list"),
])
def test_graph_files_with_malformed_nodes_are_refused(tmp_path, change, message):
    config = {"class": "functional", "dtype": "float32", "seed": 0, "name": None,
              "layers": [{"class": "input_layer", "config": {"shape": [3], "name": "x"}},
                         {"class": "dense", "config": {"units": 3, "name": "d"}}],
              "nodes": [{"layer": "d", "inputs": [["x", 0, 0]]}],
              "inputs": [["x", 0, 0]], "outputs": [["d", 0, 0]]}
    change(config)
    with pytest.raises(ValueError, match=message):
        _load_bounded(_write(tmp_path / "bad.glassnet", config))


def test_devices_fifos_and_directories_are_refused_by_name(tmp_path):
    import os
    fifo = tmp_path / "pipe.glassnet"
    os.mkfifo(fifo)
    for path, kind in ((fifo, "FIFO"), ("/dev/zero", "character device"),
                       (tmp_path, "directory")):
        with pytest.raises(ValueError, match=kind):
            gn.load_model(path)


def test_sockets_block_devices_and_missing_files_are_named(tmp_path, monkeypatch):
    import os
    import socket
    import stat
    monkeypatch.chdir(tmp_path)                     # a short path: sockets allow ~100 bytes
    with socket.socket(socket.AF_UNIX) as server:
        server.bind("server.glassnet")
        with pytest.raises(ValueError, match=r"'server\.glassnet' is not a valid glassnet model "
                                             r"file: it is a socket, not a file"):
            gn.load_model("server.glassnet")
    with pytest.raises(FileNotFoundError, match=r"^no model file at 'gone\.glassnet'$"):
        gn.load_model("gone.glassnet")
    block = next((entry.path for entry in os.scandir("/dev")
                  if stat.S_ISBLK(entry.stat(follow_symlinks=False).st_mode)), None)
    if block is None:
        pytest.skip("no block device in /dev")
    with pytest.raises(ValueError, match="it is a block device, not a file"):
        gn.load_model(block)


def test_a_zip_of_many_members_and_json_of_many_lists_are_refused_in_bounded_memory(tmp_path):
    import io
    import zipfile
    good = tmp_path / "good.glassnet"
    gn.Sequential([gn.Dense(1, input_dim=2)]).save(good)
    with zipfile.ZipFile(good) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    many = tmp_path / "many.glassnet"
    with zipfile.ZipFile(many, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        for i in range(20_000):
            archive.writestr(f"x{i}", b"")
    with pytest.raises(ValueError, match="members"):
        _load_bounded(many)
    meta = json.loads(members["glassnet.json"])
    meta["junk"] = [[] for _ in range(400_000)]
    lists = tmp_path / "lists.glassnet"
    buffer = io.BytesIO()
    with zipfile.ZipFile(lists, "w") as archive:
        archive.writestr("glassnet.json", json.dumps(meta),
                         compress_type=zipfile.ZIP_DEFLATED)
        for name, data in members.items():
            if name != "glassnet.json":
                archive.writestr(name, data)
    del buffer
    with pytest.raises(ValueError, match="JSON objects and arrays"):
        _load_bounded(lists)


# ---- zip directories crafted by hand: the member count is bounded before zipfile parses ----

def _zip_bytes(members, fake=0, count=None, comment=b"", zip64=False, before=b"",
               cd_size=None, first_comment=b"", cut=None):
    """A stored zip of ``members`` (name -> bytes), written byte by byte as an attacker would.

    ``fake`` more directory entries (empty, distinct names, no data) follow the real ones;
    ``count`` is what the end record declares (default: the truth); ``zip64`` writes the
    zip64 end record and locator (the plain record then says 0xFFFF); ``before`` is data
    prepended to the archive (a self-extracting stub); ``cd_size`` overrides the
    directory's declared size in bytes; ``first_comment`` is the first member's comment
    in the directory; ``cut`` keeps only the directory's first ``cut`` bytes (the end
    records follow them).
    """
    import struct
    import zlib
    entry = struct.Struct("<4s6H3L5H2L")
    body, directory, offset = [], [], len(before)
    for name, data in members.items():
        name, crc = name.encode(), zlib.crc32(data)
        body.append(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 0, 0, 33, crc, len(data),
                                len(data), len(name), 0) + name + data)
        note = b"" if directory else first_comment
        directory.append(entry.pack(b"PK\x01\x02", 20, 20, 0, 0, 0, 33, crc, len(data),
                                    len(data), len(name), 0, len(note), 0, 0, 0, offset)
                         + name + note)
        offset += len(body[-1])
    for i in range(fake):
        name = b"%x" % i
        directory.append(entry.pack(b"PK\x01\x02", 20, 20, 0, 0, 0, 33, 0, 0, 0, len(name), 0,
                                    0, 0, 0, 0, 0) + name)
    directory = b"".join(directory)[:cut]
    declared = len(members) + fake if count is None else count
    size = len(directory) if cd_size is None else cd_size
    tail = b""
    if zip64:
        tail = (struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, declared, declared,
                            size, offset)
                + struct.pack("<4sLQL", b"PK\x06\x07", 0, offset + len(directory), 1))
        declared = 0xFFFF
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, min(declared, 0xFFFF),
                      min(declared, 0xFFFF), min(size, 0xFFFFFFFF), offset, len(comment))
    return before + b"".join(body) + directory + tail + end + comment


@pytest.fixture
def model_members(tmp_path):
    """A saved model's members and its prediction, to be repacked by hand."""
    import zipfile
    model = gn.Sequential([gn.Dense(2, input_dim=3, activation="softmax")])
    model.compile(loss="categorical_crossentropy", optimizer="adam")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 3)).astype(np.float32)
    model.fit(x, np.eye(2)[rng.integers(0, 2, 16)], epochs=1, verbose=0)
    model.save(tmp_path / "good.glassnet")
    with zipfile.ZipFile(tmp_path / "good.glassnet") as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    return members, x, model.predict(x, verbose=0)


@pytest.mark.parametrize("layout", [
    {},                                                # every member counted truthfully
    {"zip64": True},                                   # as zipfile writes more than 65,535
    {"count": 3},                                      # the end record lies: 3 members
    {"count": 3, "zip64": True},                       # the zip64 record lies
    {"count": 0},
    {"comment": b"#" * 65_535},                        # the longest comment, last 64 KB
    {"before": b"#!/bin/sh\nexit 0\n" * 64},           # a stub before the archive
    {"first_comment": b"#" * 40_000, "count": 3},      # lengths past 32767 are unsigned
], ids=["truthful", "zip64", "count-3", "zip64-count-3", "count-0", "comment-64k", "stub",
        "member-comment-40k"])
def test_a_directory_of_300000_members_is_refused_before_zipfile_parses_it(
        tmp_path, monkeypatch, model_members, layout):
    """A 15 MB file whose directory zipfile would turn into 160 MB of Python objects.

    zipfile walks the directory by its size in bytes and ignores the count the end record
    declares, so a file that lies about the count must be refused all the same; zipfile
    is never reached, and opening the file costs far less than one MB.
    """
    members, _, _ = model_members
    path = tmp_path / "many.glassnet"
    path.write_bytes(_zip_bytes(members, fake=300_000, **layout))

    def never(*args, **kwargs):
        raise AssertionError("zipfile.ZipFile was asked to parse the directory")

    monkeypatch.setattr(serialization.zipfile, "ZipFile", never)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"many\.glassnet.*its zip directory lists more "
                                             r"than 64 members \(a model file has at most 64\)"):
            gn.load_model(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1024 * 1024, f"peak {peak} bytes"


@pytest.mark.parametrize("layout", [
    {"zip64": True}, {"comment": b"#" * 65_535}, {"comment": b"note"},
    {"before": b"#!/bin/sh\nexit 0\n" * 64}, {"count": 65_000}, {"count": 0xFFFF},
], ids=["zip64", "comment-64k", "comment", "stub", "count-65000", "count-ffff"])
def test_a_model_file_that_zipfile_reads_loads_and_predicts_the_same(
        tmp_path, model_members, layout):
    """Zip tools write zip64 records for small archives, comments and stubs; zipfile reads
    them all.  A wrong member count in the end record (a careless tool's) is not refused
    either: zipfile reads the directory by its size, and so does the member limit."""
    members, x, expected = model_members
    path = tmp_path / "repacked.glassnet"
    path.write_bytes(_zip_bytes(members, **layout))
    np.testing.assert_array_equal(gn.load_model(path).predict(x, verbose=0), expected)


def test_the_member_limit_is_exact(tmp_path, model_members):
    members, _, _ = model_members
    extra = serialization.MAX_MEMBERS - len(members)
    at_limit = tmp_path / "at_limit.glassnet"
    at_limit.write_bytes(_zip_bytes(members, fake=extra))
    with pytest.raises(ValueError, match=r"unexpected members \['0', '1', "):
        gn.load_model(at_limit)                   # counted, then refused by name
    over = tmp_path / "over.glassnet"
    over.write_bytes(_zip_bytes(members, fake=extra + 1, count=3))
    with pytest.raises(ValueError, match="lists more than 64 members"):
        gn.load_model(over)


@pytest.mark.parametrize("damage", [
    "directory-size-short", "directory-size-long", "directory-size-long-in-stub",
    "directory-size-huge", "directory-size-ends-in-65th-header", "bad-header", "truncated",
])
def test_a_damaged_directory_is_a_value_error(tmp_path, model_members, damage):
    """Directory records that do not add up: zipfile's own refusal, as a ValueError that says
    the archive is unreadable (not that it has too many members: zipfile stops at the damage,
    and so does the count)."""
    members, _, _ = model_members
    data = _zip_bytes(members, fake=200)
    if damage == "directory-size-short":           # ends inside the first member's header
        data = _zip_bytes(members, fake=200, cd_size=40)
    elif damage == "directory-size-long":          # runs past the directory into the end
        data = _zip_bytes(members, fake=200, cd_size=len(data))
    elif damage == "directory-size-long-in-stub":   # starts in the stub before the archive
        data = _zip_bytes(members, fake=200, before=b"#" * 20_000, cd_size=len(data))
    elif damage == "directory-size-ends-in-65th-header":
        start = data.index(b"PK\x01\x02")
        at = start
        for _ in range(serialization.MAX_MEMBERS):
            at = data.index(b"PK\x01\x02", at + 4)
        data = _zip_bytes(members, fake=200, cut=at - start + 45)
    elif damage == "directory-size-huge":
        data = _zip_bytes(members, fake=200, cd_size=0xFFFFFFF0)
    elif damage == "bad-header":                   # the second member's signature
        at = data.index(b"PK\x01\x02")
        at = data.index(b"PK\x01\x02", at + 4)
        data = data[:at] + b"PK\x01\x03" + data[at + 4:]
    else:
        data = data[:-30]                          # the end record cut off
    path = tmp_path / "damaged.glassnet"
    path.write_bytes(data)
    with pytest.raises(ValueError, match=r"damaged\.glassnet.*not a readable zip archive"):
        gn.load_model(path)


def test_every_truncation_of_a_model_file_is_a_value_error(tmp_path, model_members):
    members, _, _ = model_members
    data = _zip_bytes(members)
    path = tmp_path / "cut.glassnet"
    for cut in range(len(data)):
        path.write_bytes(data[:cut])
        with pytest.raises(ValueError, match="cut.glassnet"):
            gn.load_model(path)
