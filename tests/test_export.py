"""ONNX export: every layer and activation, run in ONNX Runtime, equal to predict."""
import json
import subprocess
import sys

import numpy as np
import pytest

import glassnet as gn
from glassnet import activations

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _run(path, x):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(["output"], {"input": x})[0]


@pytest.mark.parametrize("act", activations.names())
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_every_activation_matches_predict(tmp_path, act, dtype):
    model = gn.Sequential([gn.Rescaling(0.5, offset=0.1), gn.Dense(16, act), gn.Dropout(0.3),
                           gn.Dense(5, act, use_bias=False), gn.Dense(3, "softmax")],
                          dtype=dtype, seed=1)
    model.build(7)
    path = tmp_path / "m.onnx"
    model.export_onnx(path)
    x = np.random.default_rng(0).normal(scale=3, size=(64, 7)).astype(dtype)
    got = _run(path, x)
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_allclose(got, model.predict(x), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("act", ["step", "leaky_relu", "elu", "softplus", "swish", "linear",
                                 "sigmoid"])
def test_activation_as_the_output(tmp_path, act):
    model = gn.Sequential([gn.Dense(4, "tanh"), gn.Dense(2, act)], seed=0)
    model.build(3)
    model.export_onnx(tmp_path / "m.onnx")
    x = np.random.default_rng(1).normal(size=(10, 3)).astype(np.float32)
    np.testing.assert_allclose(_run(tmp_path / "m.onnx", x), model.predict(x), rtol=1e-5,
                               atol=1e-6)


def test_deep_and_wide_networks_with_dynamic_batch(tmp_path):
    model = gn.Sequential([gn.Dense(512, "relu")] + [gn.Dense(64, "tanh") for _ in range(8)]
                          + [gn.Dense(10, "softmax")], seed=0)
    model.build(784)
    model.export_onnx(tmp_path / "deep.onnx")
    for n in (1, 7, 300):
        x = np.random.default_rng(n).random((n, 784), dtype=np.float32)
        np.testing.assert_allclose(_run(tmp_path / "deep.onnx", x), model.predict(x), rtol=1e-5,
                                   atol=1e-6)


def test_metadata_names_and_checker(tmp_path):
    model = gn.Sequential([gn.Dense(3, "relu"), gn.Dense(1, "sigmoid")], seed=0)
    model.build(2)
    model.export_onnx(tmp_path / "m.onnx")
    proto = onnx.load(str(tmp_path / "m.onnx"))
    onnx.checker.check_model(proto)
    props = {p.key: p.value for p in proto.metadata_props}
    assert props["glassnet_version"] == gn.__version__
    assert [layer["class"] for layer in json.loads(props["architecture"])["layers"]] \
        == ["dense", "dense"]
    assert proto.graph.input[0].name == "input" and proto.graph.output[0].name == "output"
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"


def test_unbuilt_model_and_unknown_layer_give_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="no weights yet"):
        gn.Sequential([gn.Dense(2)]).export_onnx(tmp_path / "m.onnx")

    class Custom(gn.layers.Layer):
        def forward(self, x, training=False):
            return x

    model = gn.Sequential([gn.Dense(2), Custom()])
    model.build(2)
    with pytest.raises(ValueError, match="layer Custom has no ONNX form; give its class a to_onnx"):
        model.export_onnx(tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_cli_export(tmp_path):
    model = gn.Sequential([gn.Dense(3, "relu"), gn.Dense(2, "softmax")], seed=0)
    model.build(4)
    model.save(tmp_path / "m.glassnet")
    result = subprocess.run([sys.executable, "-m", "glassnet.cli", "export",
                             str(tmp_path / "m.glassnet"), str(tmp_path / "m.onnx")],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    x = np.ones((2, 4), np.float32)
    np.testing.assert_allclose(_run(tmp_path / "m.onnx", x), model.predict(x), rtol=1e-5)


def test_normalization_layers_export_their_inference_form(tmp_path, rng):
    ort = pytest.importorskip("onnxruntime")
    model = gn.Sequential([gn.Dense(5, "relu"), gn.BatchNormalization(momentum=0.5),
                           gn.Dense(4, "tanh"), gn.LayerNormalization(),
                           gn.Dense(2, "softmax")], seed=0)
    model.compile(loss="sparse_categorical_crossentropy", optimizer=gn.Adam(0.05))
    x = rng.normal(size=(64, 4)).astype(np.float32)
    model.fit(x, rng.integers(0, 2, size=64), epochs=3, verbose=0)
    model.export_onnx(tmp_path / "bn.onnx")
    session = ort.InferenceSession(str(tmp_path / "bn.onnx"), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(["output"], {"input": x})[0], model.predict(x),
                               rtol=1e-5, atol=1e-6)


def test_model_proto_names_producer_and_ir_version(tmp_path):
    model = gn.Sequential([gn.Dense(2, "softmax")], seed=0)
    model.build(3)
    proto = gn.export.to_onnx(model)
    assert proto.graph.name == "sequential"                  # an unnamed model: Keras's name
    assert proto.producer_name == "glassnet" and proto.producer_version == gn.__version__
    assert proto.ir_version <= 8                             # older runtimes read it too
    assert proto.graph.output[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert proto.graph.output[0].type.tensor_type.shape.dim[1].dim_value == 2
    assert proto.graph.input[0].type.tensor_type.shape.dim[1].dim_value == 3
    named = gn.Sequential([gn.Dense(2)], name="scorer", seed=0)
    named.build(3)
    assert gn.export.to_onnx(named).graph.name == "scorer"
    names = [out for node in proto.graph.node for out in node.output]
    assert len(names) == len(set(names))                     # every value named once


def test_export_without_onnx_says_what_to_install(tmp_path, monkeypatch):
    model = gn.Sequential([gn.Dense(2)], seed=0)
    model.build(3)
    monkeypatch.setitem(sys.modules, "onnx", None)          # as if it were not installed
    with pytest.raises(ImportError, match=r"^ONNX export needs the onnx package: pip install "
                                          r"'glassnet\[onnx\]'$"):
        model.export_onnx(tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_inputs_and_outputs_are_named_as_the_model_names_them(tmp_path, rng):
    """One input and one output: "input" and "output" (what the CLI prints); several: the
    model's own names, which an ONNX Runtime program feeds and fetches by name."""
    from glassnet import layers
    a, b = gn.Input(shape=(4,), name="a"), gn.Input(shape=(3,), name="b")
    h = layers.Dense(5, activation="tanh")(a)
    out1 = layers.Dense(2, activation="softmax", name="cls")(layers.concatenate([h, b]))
    out2 = layers.Dense(1, name="reg")(h)
    model = gn.Model({"a": a, "b": b}, [out1, out2])
    model.export_onnx(tmp_path / "two.onnx")
    session = ort.InferenceSession(str(tmp_path / "two.onnx"), providers=["CPUExecutionProvider"])
    assert [(i.name, i.shape[1]) for i in session.get_inputs()] == [("a", 4), ("b", 3)]
    assert [o.name for o in session.get_outputs()] == ["cls", "reg"]
    xa, xb = rng.normal(size=(5, 4)).astype("float32"), rng.normal(size=(5, 3)).astype("float32")
    for got, want in zip(session.run(None, {"a": xa, "b": xb}),
                         model.predict({"a": xa, "b": xb})):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    one = gn.Model(a, layers.Dense(2, name="head")(h))
    one.export_onnx(tmp_path / "one.onnx")
    session = ort.InferenceSession(str(tmp_path / "one.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["input"]
    assert [o.name for o in session.get_outputs()] == ["output"]
    proto = onnx.load(str(tmp_path / "one.onnx"))
    assert proto.graph.name == one.name
