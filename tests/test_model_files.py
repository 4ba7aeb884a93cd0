"""Model files at the edges of what glassnet accepts: the limits hold exactly where they are
documented, and every refusal says which part of the file was wrong.

Written against the survivors of mutation testing (tools/mutation.sh serialization).
"""
import io
import json
import zipfile

import numpy as np
import pytest

import glassnet as gn
from glassnet.serialization import MAX_JSON_BYTES, MAX_JSON_CONTAINERS, MAX_JSON_DEPTH


def _saved(tmp_path, units=(3,), n_in=2):
    model = gn.Sequential([gn.Dense(u, "tanh") for u in units] + [gn.Dense(1)], seed=0)
    model.compile("adam", "mse")
    model.build(n_in)
    path = tmp_path / "m.glassnet"
    model.save(path)
    return model, path


def _rewrite(path, out, **members):
    """A copy of the model file ``path`` with some members replaced (bytes), stored."""
    with zipfile.ZipFile(path) as archive:
        contents = {info.filename: archive.read(info) for info in archive.infolist()}
    contents.update(members)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in contents.items():
            archive.writestr(name, data)
    return out


def _meta(path):
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("glassnet.json"))


def _npy(array, version=(1, 0)):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, version=version, allow_pickle=False)
    return buffer.getvalue()


def _nested(depth):
    """A JSON value nested ``depth`` levels deep (lists)."""
    return "[" * depth + "]" * depth


def test_json_nesting_limit_is_exact(tmp_path):
    model, path = _saved(tmp_path)
    text = json.dumps(_meta(path))
    # the model's own JSON sits inside one object: an extra key adds its depth to 1
    at_limit = text[:-1] + ', "extra": ' + _nested(MAX_JSON_DEPTH - 1) + "}"
    over = text[:-1] + ', "extra": ' + _nested(MAX_JSON_DEPTH) + "}"
    loaded = gn.load_model(_rewrite(path, tmp_path / "deep.glassnet",
                                    **{"glassnet.json": at_limit.encode()}))
    np.testing.assert_array_equal(loaded.variables, model.variables)
    # depth is nesting, counted down again after each closing bracket
    sibling = text[:-1] + ', "extra": [[[]], ' + _nested(MAX_JSON_DEPTH - 2) + "]}"
    gn.load_model(_rewrite(path, tmp_path / "sibling.glassnet",
                           **{"glassnet.json": sibling.encode()}))
    deeper = text[:-1] + ', "extra": [[[]], ' + _nested(MAX_JSON_DEPTH - 1) + "]}"
    with pytest.raises(ValueError, match=rf"nests deeper than {MAX_JSON_DEPTH} levels"):
        gn.load_model(_rewrite(path, tmp_path / "deeper.glassnet",
                               **{"glassnet.json": deeper.encode()}))
    with pytest.raises(ValueError, match=rf"too-deep.glassnet' is not a valid glassnet model "
                                         rf"file: .*nests deeper than {MAX_JSON_DEPTH} levels"):
        gn.load_model(_rewrite(path, tmp_path / "too-deep.glassnet",
                               **{"glassnet.json": over.encode()}))


def test_many_layers_and_a_long_history_are_not_deep(tmp_path):
    """Depth counts nesting, not the number of brackets: 40 layers load."""
    rng = np.random.default_rng(0)
    model = gn.Sequential([gn.Dense(3, "tanh") for _ in range(40)] + [gn.Dense(1)], seed=0)
    model.compile("sgd", "mse")
    model.fit(rng.normal(size=(8, 2)), rng.normal(size=(8, 1)), epochs=50, verbose=0)
    model.save(tmp_path / "m.glassnet")
    loaded = gn.load_model(tmp_path / "m.glassnet")
    assert len(loaded.layers) == 41 and len(loaded.history.history["loss"]) == 50


def test_json_container_limit_is_exact(tmp_path):
    """At most MAX_JSON_CONTAINERS objects and arrays in all (each costs Python memory)."""
    model, path = _saved(tmp_path)
    text = json.dumps(_meta(path))
    # containers in the model's own JSON: its brackets (no string in it holds one)
    own = sum(text.count(bracket) for bracket in "[{")
    assert own == sum(text.count(bracket) for bracket in "]}")

    def with_extra(n):                 # one list holding n - 1 empty lists: n containers
        extra = "[" + ",".join(["[]"] * (n - 1)) + "]"
        return text[:-1] + ', "extra": ' + extra + "}"

    at_limit = with_extra(MAX_JSON_CONTAINERS - own)
    loaded = gn.load_model(_rewrite(path, tmp_path / "many.glassnet",
                                    **{"glassnet.json": at_limit.encode()}))
    np.testing.assert_array_equal(loaded.variables, model.variables)
    with pytest.raises(ValueError, match=rf"more.glassnet' is not a valid glassnet model file: "
                                         rf"glassnet.json cannot be read \(it holds more than "
                                         rf"{MAX_JSON_CONTAINERS:,} JSON objects and arrays\)"):
        gn.load_model(_rewrite(path, tmp_path / "more.glassnet",
                               **{"glassnet.json": with_extra(MAX_JSON_CONTAINERS - own + 1)
                                  .encode()}))


def test_params_in_npy_format_2_load(tmp_path):
    """.npy format 2.0 (NumPy writes it for large headers; other writers may always do)."""
    model, path = _saved(tmp_path)
    v2 = _rewrite(path, tmp_path / "v2.glassnet",
                  **{"params.npy": _npy(np.asarray(model.variables), version=(2, 0))})
    np.testing.assert_array_equal(gn.load_model(v2).variables, model.variables)


def test_json_size_limit_is_exact(tmp_path):
    model, path = _saved(tmp_path)
    text = json.dumps(_meta(path)).encode()
    exact = text[:-1] + b" " * (MAX_JSON_BYTES - len(text)) + b"}"     # spaces, then the end
    loaded = gn.load_model(_rewrite(path, tmp_path / "big.glassnet", **{"glassnet.json": exact}))
    np.testing.assert_array_equal(loaded.variables, model.variables)
    with pytest.raises(ValueError, match=rf"glassnet.json is {MAX_JSON_BYTES + 1} bytes \(at "
                                         rf"most {MAX_JSON_BYTES}\)"):
        gn.load_model(_rewrite(path, tmp_path / "bigger.glassnet",
                               **{"glassnet.json": exact + b" "}))


def test_large_models_load(tmp_path):
    """A params.npy of hundreds of kilobytes is not 'far more than the array needs'."""
    model, path = _saved(tmp_path, units=(300, 200), n_in=50)
    assert model.params.size > 70_000
    loaded = gn.load_model(path)
    np.testing.assert_array_equal(loaded.variables, model.variables)


def test_params_refusals_name_the_member_and_the_reason(tmp_path):
    model, path = _saved(tmp_path)
    good = model.variables.copy()
    n = good.size
    cases = {
        "nan": (_npy(np.where(np.arange(n) == 2, np.nan, good).astype(good.dtype)),
                r"params.npy contains NaN or infinite values"),
        "padded": (_npy(good) + b"\0" * 5000,
                   rf"params.npy is \d+ bytes, far more than an array of shape \({n},\) needs"),
        "short": (_npy(good)[:40],
                  rf"params.npy holds 40 bytes, fewer than the {good.nbytes} that the "
                  rf"architecture's {good.dtype} array of shape \({n},\) needs"),
        "v3": (_npy(good, version=(3, 0)),
               r"params.npy is not a .npy array \(unsupported .npy version \(3, 0\)\)"),
        "dtype": (_npy(good.astype(np.float16).astype(np.float64)[: n // 2]),
                  rf"params.npy has dtype float64 and shape \({n // 2},\); the architecture "
                  rf"needs {good.dtype} \({n},\)"),
        "cut": (_npy(good)[:-4],
                r"params.npy is truncated or damaged \("),
    }
    for name, (data, message) in cases.items():
        bad = _rewrite(path, tmp_path / f"{name}.glassnet", **{"params.npy": data})
        with pytest.raises(ValueError, match=rf"{name}.glassnet' is not a valid glassnet model "
                                             rf"file: {message}"):
            gn.load_model(bad)


def test_a_file_of_another_format_is_refused(tmp_path):
    _, path = _saved(tmp_path)
    meta = _meta(path)
    meta["format"] = "keras"
    with pytest.raises(ValueError, match=r"other.glassnet' is not a valid glassnet model file: "
                                         r"its metadata does not say format 'glassnet'$"):
        gn.load_model(_rewrite(path, tmp_path / "other.glassnet",
                               **{"glassnet.json": json.dumps(meta).encode()}))


def test_params_size_limits_are_exact(tmp_path):
    model, path = _saved(tmp_path)
    good = model.variables.copy()
    data = _npy(good)
    assert len(data) == 128 + good.nbytes                       # a version 1.0 header
    # up to 4096 bytes more than the array needs are tolerated (np.load reads what it needs)
    loaded = gn.load_model(_rewrite(path, tmp_path / "pad.glassnet",
                                    **{"params.npy": data + b"\0" * 4096}))
    np.testing.assert_array_equal(loaded.variables, model.variables)
    with pytest.raises(ValueError, match=r"params.npy is \d+ bytes, far more than"):
        gn.load_model(_rewrite(path, tmp_path / "pad1.glassnet",
                               **{"params.npy": data + b"\0" * 4097}))
    with pytest.raises(ValueError, match=r"params.npy is not a .npy array"):
        gn.load_model(_rewrite(path, tmp_path / "exact.glassnet",
                               **{"params.npy": b"\0" * good.nbytes}))    # no room for a header
    with pytest.raises(ValueError, match=rf"params.npy has dtype float64 and shape "
                                         rf"\({good.size},\); the architecture needs "
                                         rf"{good.dtype} \({good.size},\)"):
        gn.load_model(_rewrite(path, tmp_path / "f64.glassnet",
                               **{"params.npy": _npy(good.astype(np.float64))}))


def test_a_damaged_member_is_reported(tmp_path):
    _, path = _saved(tmp_path)
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("params.npy")
    # flip a byte of the stored array data: the CRC no longer matches
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 128
    raw[start + 1] ^= 0xFF
    (tmp_path / "crc.glassnet").write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"crc.glassnet' is not a valid glassnet model file: "
                                         r"params.npy cannot be read \(.*CRC"):
        gn.load_model(tmp_path / "crc.glassnet")
