import io
import json
import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import glassnet as gn


def _trained(rng, epochs=2):
    model = gn.Sequential([gn.Dense(8, "relu", kernel_regularizer=gn.regularizers.L2(1e-3)),
                           gn.Dropout(0.1), gn.Dense(3, "softmax")], seed=7)
    model.compile(loss="sparse_categorical_crossentropy", optimizer=gn.Adam(gn.CosineDecay(0.01, 100)),
                  metrics=["accuracy"])
    x = rng.normal(size=(60, 4)).astype(np.float32)
    y = rng.integers(0, 3, size=60)
    model.fit(x, y, epochs=epochs, batch_size=16, verbose=0)
    return model, x, y


def test_round_trip_predicts_bit_identically(tmp_path, rng):
    model, x, y = _trained(rng)
    path = tmp_path / "model.glassnet"
    model.save(path)
    loaded = gn.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.evaluate(x, y, return_dict=True) == model.evaluate(x, y, return_dict=True)
    assert loaded.history.history == model.history.history
    assert repr(loaded) == repr(model)


def test_loaded_model_resumes_training_exactly(tmp_path, rng):
    model, x, y = _trained(rng)
    model.save(tmp_path / "m.glassnet")
    model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    resumed = gn.load_model(tmp_path / "m.glassnet")
    resumed.fit(x, y, epochs=3, batch_size=16, verbose=0)
    np.testing.assert_array_equal(resumed.params, model.params)
    assert resumed.optimizer.iterations == model.optimizer.iterations
    assert resumed.history.history == model.history.history


def test_float64_uncompiled_model_round_trip(tmp_path, rng):
    model = gn.Sequential([gn.Dense(3, "elu", input_dim=2), gn.Dense(1, "step")],
                          dtype="float64")
    model.build()
    model.save(tmp_path / "m.glassnet")
    loaded = gn.load_model(tmp_path / "m.glassnet")
    assert loaded.dtype == np.float64 and loaded.loss is None
    x = rng.normal(size=(5, 2))
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_model_file_is_a_zip_of_json_and_npy(tmp_path, rng):
    model, _, _ = _trained(rng)
    model.save(tmp_path / "m.glassnet")
    with zipfile.ZipFile(tmp_path / "m.glassnet") as z:
        assert sorted(z.namelist()) == ["glassnet.json", "optimizer/m.npy", "optimizer/v.npy",
                                        "params.npy"]
        meta = json.loads(z.read("glassnet.json"))
    assert meta["format_version"] == 2
    assert [layer["class"] for layer in meta["model"]["layers"]] == ["dense", "dropout", "dense"]


def test_failed_save_keeps_the_old_file_and_leaves_no_temporary(tmp_path, rng):
    model, x, _ = _trained(rng)
    path = tmp_path / "m.glassnet"
    model.save(path)
    before = path.read_bytes()
    big = gn.Sequential([gn.Dense(512, input_dim=512), gn.Dense(512)])
    big.build()
    # a file-size limit makes the write fail part way, like a full disk
    code = f"""
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))
import glassnet as gn
big = gn.Sequential([gn.Dense(512, input_dim=512), gn.Dense(512)]); big.build()
try:
    big.save({str(path)!r})
except OSError as exc:
    print("OSError:", exc); sys.exit(3)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 3, result.stderr
    assert "saving" in result.stdout and "unchanged" in result.stdout
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.glassnet"]


def test_save_into_missing_directory_is_a_clear_oserror(tmp_path, rng):
    model, _, _ = _trained(rng)
    with pytest.raises(OSError, match="cannot save to"):
        model.save(tmp_path / "no" / "such" / "dir" / "m.glassnet")


def _rewrite(src, dst, change):
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        members = {n: zin.read(n) for n in zin.namelist()}
        for name, data in change(members).items():
            zout.writestr(name, data)


def test_pickle_payload_is_refused_without_running(tmp_path, rng):
    model, _, _ = _trained(rng)
    good = tmp_path / "good.glassnet"
    model.save(good)
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    def inject(members):
        buf = io.BytesIO()
        np.save(buf, np.array([Payload()], dtype=object), allow_pickle=True)
        members["params.npy"] = buf.getvalue()
        return members

    evil = tmp_path / "evil.glassnet"
    _rewrite(good, evil, inject)
    with pytest.raises(ValueError, match="evil.glassnet.*Python objects"):
        gn.load_model(evil)
    assert not marker.exists()


@pytest.mark.parametrize("change,message", [
    (lambda m: {**m, "extra.pkl": b"x"}, "unexpected members"),
    (lambda m: {k: v for k, v in m.items() if k != "params.npy"}, "no params.npy"),
    (lambda m: {**m, "glassnet.json": b"not json"}, "cannot be read"),
    (lambda m: {**m, "glassnet.json": m["glassnet.json"].replace(b'"format_version": 2',
                                                                 b'"format_version": 99')},
     "format version 99 is not supported"),
    (lambda m: {**m, "glassnet.json": m["glassnet.json"].replace(b'"format_version": 2',
                                                                 b'"format_version": true')},
     "format version True is not supported"),
    (lambda m: {**m, "glassnet.json": m["glassnet.json"].replace(b'"format_version": 2',
                                                                 b'"format_version": 1.0')},
     r"format version 1\.0 is not supported"),
    (lambda m: {**m, "params.npy": _npy(np.zeros(3, np.float32))}, "shape"),
    (lambda m: {**m, "params.npy": _npy(np.zeros(99, np.float64))}, "dtype float64"),
    (lambda m: {**m, "glassnet.json": m["glassnet.json"].replace(b'"relu"', b'"evil"')},
     "unknown activation 'evil'"),
])
def test_damaged_or_foreign_files_give_a_clear_value_error(tmp_path, rng, change, message):
    model, _, _ = _trained(rng)
    good = tmp_path / "good.glassnet"
    model.save(good)
    bad = tmp_path / "bad.glassnet"
    _rewrite(good, bad, change)
    with pytest.raises(ValueError, match=message):
        gn.load_model(bad)


def _npy(array):
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def test_truncated_and_non_model_files(tmp_path, rng):
    model, _, _ = _trained(rng)
    good = tmp_path / "good.glassnet"
    model.save(good)
    data = good.read_bytes()
    for size in (0, 10, len(data) // 2, len(data) - 30):
        cut = tmp_path / f"cut{size}.glassnet"
        cut.write_bytes(data[:size])
        with pytest.raises(ValueError, match=f"cut{size}.glassnet.*not a valid glassnet model"):
            gn.load_model(cut)
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ValueError, match="not a readable zip"):
        gn.load_model(text)
    with pytest.raises(FileNotFoundError):
        gn.load_model(tmp_path / "missing.glassnet")


def test_a_model_saved_by_glassnet_0_1_still_loads_and_predicts_the_same():
    # format version 1: flat {"name": ...} configs; saved by glassnet 0.1.0 (tests/data)
    data = os.path.join(os.path.dirname(__file__), "data")
    model = gn.load_model(os.path.join(data, "glassnet-0.1.glassnet"))
    x = np.load(os.path.join(data, "glassnet-0.1-inputs.npy"))
    np.testing.assert_array_equal(model.predict(x),
                                  np.load(os.path.join(data, "glassnet-0.1-predictions.npy")))
    assert [layer.name for layer in model.layers] == ["h", "dropout", "dense"]
    assert model.optimizer.iterations == 2 and model.metric_names == ["accuracy"]
