"""Where a model lives (device=): the parts that run without a GPU.

The GPU itself is tested in tests/test_cuda.py (on a machine with one).  Here:
the device names and their errors, what a user without CuPy is told, which
class owns a fused kernel, and -- through a stand-in for CuPy (tests/fake_cupy.py:
NumPy memory under CuPy's type, no NumPy functions on it) -- the plumbing of a
model on a "device": its arrays, the batches, results handed back as the
input's kind, files from host copies, a CuPy array refused by a CPU model.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys

import numpy as np
import pytest

import glassnet as gn
from glassnet import backend, cuda

import fake_cupy

HAVE_CUPY = importlib.util.find_spec("cupy") is not None


@pytest.mark.parametrize("given,expected", [(None, "cpu"), ("cpu", "cpu"), ("CPU", "cpu"),
                                            ("cuda", "cuda"), ("gpu", "cuda"),
                                            ("cuda:0", "cuda"), (" Cuda ", "cuda")])
def test_device_names(given, expected):
    assert backend.normalize_device(given) == expected


@pytest.mark.parametrize("given", ["tpu", "cuda:1", "", 0, 1.5, ["cuda"]])
def test_an_unknown_device_is_refused_with_what_was_received(given):
    with pytest.raises(ValueError, match=r"'cpu' or 'cuda'.*received " + re.escape(repr(given))):
        gn.Sequential([gn.Dense(1)], device=given)


@pytest.mark.skipif(HAVE_CUPY, reason="CuPy is installed here")
def test_without_cupy_device_cuda_names_the_extra_to_install():
    with pytest.raises(ImportError, match=r"glassnet\[cuda\].*cupy-cuda13x"):
        gn.Sequential([gn.Dense(1)], device="cuda")
    model = gn.Sequential([gn.Dense(1)])
    with pytest.raises(ImportError, match=r"glassnet\[cuda\]"):
        model.to("cuda")
    assert model.device == "cpu"                          # unchanged by the failed move
    from glassnet.sklearn import GlassClassifier
    x, y = np.random.default_rng(0).normal(size=(20, 3)), np.arange(20) % 2
    with pytest.raises(ImportError, match=r"glassnet\[cuda\]"):
        GlassClassifier(device="cuda", epochs=1).fit(x, y)


@pytest.mark.skipif(HAVE_CUPY, reason="CuPy is installed here")
def test_the_command_line_says_what_to_install(tmp_path):
    program = "import sys, glassnet.cli; sys.exit(glassnet.cli.main(sys.argv[1:]))"
    result = subprocess.run([sys.executable, "-c", program, "train", "--device", "cuda",
                             "--epochs", "1", "--out", str(tmp_path / "m.glassnet")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "glassnet[cuda]" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "m.glassnet").exists()


def test_numpy_arrays_stay_what_they_are():
    a = np.arange(6.0).reshape(2, 3)
    assert backend.array_module(a) is np and not backend.is_device_array(a)
    assert backend.to_host(a) is a and backend.to_module(a, np) is a
    assert not backend.holds_device_array([a, {"b": a}])


def test_a_kernel_belongs_to_the_class_that_wrote_the_expressions():
    class Doubled(gn.activations.ReLU):                 # its own forward: no ReLU kernel
        name = "doubled_relu_test"

        def forward(self, z, steps=None):
            return 2 * super().forward(z)

    class Renamed(gn.activations.ReLU):                 # the same expressions: the kernel
        name = "renamed_relu_test"

    assert cuda._fused_twin(Doubled(), "cuda_bias_forward", ("forward",)) is None
    assert cuda._fused_twin(Renamed(), "cuda_bias_forward", ("forward",)) \
        == gn.activations.ReLU.cuda_bias_forward
    adamw = gn.optimizers.AdamW()
    assert cuda._fused_twin(adamw, "cuda_kernel", ("update_step", "kernel_scalars")) \
        == gn.optimizers.Adam.cuda_kernel

    class Halved(gn.optimizers.Adam):
        def update_step(self, params, grads, lr, out):
            super().update_step(params, grads, lr / 2, out)

    assert cuda._fused_twin(Halved(), "cuda_kernel", ("update_step", "kernel_scalars")) is None
    assert cuda._fused_twin(gn.activations.Softplus(), "cuda_bias_forward", ("forward",)) \
        is None


# ----------------------------------------------------------------------------------------
# the plumbing, through the stand-in
# ----------------------------------------------------------------------------------------
@pytest.fixture
def cupy(monkeypatch):
    return fake_cupy.install(monkeypatch)


def _pair(seed=0, **kwargs):
    def build(device):
        model = gn.Sequential([gn.Input(shape=(6,)), gn.Dense(8, activation="tanh"),
                               gn.layers.Dropout(0.1), gn.Dense(3, activation="softmax")],
                              dtype="float64", seed=seed, device=device, fast=False)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"], **kwargs)
        return model
    return build("cpu"), build("cuda")


def _data(n=120):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(n, 6))
    return x, x[:, :3].argmax(axis=1)


def test_a_device_model_trains_as_the_cpu_one(cupy):
    x, y = _data()
    cpu, dev = _pair()
    assert isinstance(dev.variables, cupy.ndarray) and isinstance(dev.layers[0].W,
                                                                  cupy.ndarray)
    h_cpu = cpu.fit(x, y, batch_size=16, epochs=3, validation_split=0.2, verbose=0)
    h_dev = dev.fit(x, y, batch_size=16, epochs=3, validation_split=0.2, verbose=0)
    assert h_dev.history == h_cpu.history
    assert isinstance(dev.optimizer.state["m"], cupy.ndarray)
    for a, b in zip(dev.get_weights(), cpu.get_weights()):
        assert type(a) is np.ndarray
        np.testing.assert_array_equal(a, b)


def test_results_come_back_as_the_inputs_kind(cupy):
    x, y = _data()
    _, dev = _pair()
    dev.fit(cupy.asarray(x), cupy.asarray(y), epochs=1, verbose=0)
    host = dev.predict(x)
    device = dev.predict(cupy.asarray(x))
    chunked = dev.predict(cupy.asarray(x), batch_size=7)
    assert type(host) is np.ndarray
    assert isinstance(device, cupy.ndarray) and isinstance(chunked, cupy.ndarray)
    np.testing.assert_array_equal(device.get(), host)
    np.testing.assert_allclose(chunked.get(), host, rtol=1e-12)
    assert dev.evaluate(cupy.asarray(x), cupy.asarray(y), verbose=0) == \
        dev.evaluate(x, y, verbose=0)


def test_a_cpu_model_refuses_device_arrays(cupy):
    x, y = _data()
    cpu, _ = _pair()
    with pytest.raises(ValueError, match=r"x is a CuPy array.*on the CPU.*model.to\('cuda'\)"):
        cpu.predict(cupy.asarray(x))
    with pytest.raises(ValueError, match=r"y is a CuPy array.*cupy.asnumpy\(y\)"):
        cpu.fit(x, cupy.asarray(y), verbose=0)
    with pytest.raises(ValueError, match="validation_data is a CuPy array"):
        cpu.fit(x, y, validation_data=(cupy.asarray(x), y), verbose=0)


def test_save_on_the_device_load_anywhere_and_move(cupy, tmp_path):
    x, y = _data()
    cpu, dev = _pair()
    dev.fit(x, y, epochs=2, verbose=0)
    dev.save(tmp_path / "dev.glassnet")
    loaded = gn.load_model(tmp_path / "dev.glassnet")
    assert loaded.device == "cpu" and type(loaded.variables) is np.ndarray
    assert type(loaded.optimizer.state["m"]) is np.ndarray
    np.testing.assert_array_equal(loaded.predict(x), dev.predict(x))
    loaded.to("cuda")
    assert isinstance(loaded.optimizer.state["v"], cupy.ndarray)
    loaded.fit(x, y, epochs=1, verbose=0)                  # continues with Adam's state
    dev.fit(x, y, epochs=1, verbose=0)
    np.testing.assert_array_equal(loaded.predict(x), dev.predict(x))
    dev.save_weights(tmp_path / "w.weights.h5")
    cpu.load_weights(tmp_path / "w.weights.h5")
    np.testing.assert_array_equal(cpu.predict(x), dev.predict(x))
    dev.to("cpu")
    assert type(dev.variables) is np.ndarray and dev.device == "cpu"


def test_callbacks_trace_and_export_of_a_device_model(cupy, tmp_path):
    x, y = _data()
    cpu, dev = _pair()
    for model in (cpu, dev):
        stop = gn.callbacks.EarlyStopping("val_loss", patience=2, restore_best_weights=True)
        model.fit(x, y, validation_split=0.25, epochs=40, verbose=0, callbacks=[stop],
                  batch_size=8)
    np.testing.assert_array_equal(dev.predict(x), cpu.predict(x))
    trace = dev.trace(x[0], y[0])
    assert type(trace.layers[0].get("W")) is np.ndarray
    np.testing.assert_array_equal(trace.layers[0].get("W"), cpu.get_weights()[0])
    pytest.importorskip("onnx")
    dev.export_onnx(tmp_path / "dev.onnx")
    cpu.export_onnx(tmp_path / "cpu.onnx")
    assert (tmp_path / "dev.onnx").read_bytes() == (tmp_path / "cpu.onnx").read_bytes()


def test_divergence_restores_the_device_weights(cupy):
    x, y = _data()
    restored = []
    for device in ("cpu", "cuda"):
        model = gn.Sequential([gn.Input(shape=(6,)), gn.Dense(8, activation="relu"),
                               gn.Dense(3, activation="softmax")], dtype="float64", seed=0,
                              device=device, fast=False)
        model.compile(optimizer=gn.optimizers.SGD(1e300), loss="sparse_categorical_crossentropy")
        with pytest.raises(gn.TrainingDiverged):
            model.fit(x, y, batch_size=40, epochs=1, shuffle=False, verbose=0)
        restored.append(model.get_weights())
    for a, b in zip(*restored):
        np.testing.assert_array_equal(a, b)


def test_a_functional_graph_on_the_device(cupy):
    def build(device):
        inputs = gn.Input(shape=(6,))
        h = gn.layers.Dense(5, activation="relu")(inputs)
        both = gn.layers.Concatenate()([h, gn.layers.Dense(4, activation="sigmoid")(inputs)])
        out = gn.layers.Dense(3, activation="softmax")(gn.layers.BatchNormalization()(both))
        model = gn.Model(inputs, [out, gn.layers.Dense(1)(h)], dtype="float64", seed=1,
                         device=device, fast=False)
        model.compile(optimizer="rmsprop", loss=["sparse_categorical_crossentropy", "mse"],
                      metrics=[["accuracy"], []])
        return model
    x, y = _data()
    targets = [y, x[:, :1]]
    cpu, dev = build("cpu"), build("cuda")
    h_cpu = cpu.fit(x, targets, batch_size=10, epochs=2, verbose=0)
    h_dev = dev.fit(x, targets, batch_size=10, epochs=2, verbose=0)
    assert h_dev.history == h_cpu.history
    for a, b in zip(dev.predict(x), cpu.predict(x)):
        assert type(a) is np.ndarray
        np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------------------------------
# an outside tester's findings (each failed before its fix)
# ----------------------------------------------------------------------------------------
def test_loss_and_gradients_of_a_device_model(cupy):
    x, y = _data()
    cpu, dev = _pair()
    loss_cpu, grads_cpu = cpu.loss_and_gradients(x, y)
    loss_dev, grads_dev = dev.loss_and_gradients(x, y)
    assert loss_dev == loss_cpu
    for a, b in zip(grads_dev, grads_cpu):
        np.testing.assert_array_equal(backend.to_host(a), b)


def test_report_and_snapshots_of_a_device_model(cupy, tmp_path):
    pytest.importorskip("matplotlib")
    from glassnet.report import write_report
    from glassnet.visualize import Snapshots
    x, y = _data()
    _, dev = _pair()
    snapshots = Snapshots(x[:20], y[:20])
    dev.fit(x, y, epochs=2, verbose=0, callbacks=[snapshots])
    assert len(snapshots.frames) >= 2
    write_report(tmp_path / "report.html", dev, x[:50], y[:50])
    assert (tmp_path / "report.html").stat().st_size > 10_000


def test_a_two_input_model_on_the_device(cupy):
    def build(device):
        a, b = gn.Input(shape=(4,), name="a"), gn.Input(shape=(2,), name="b")
        h = gn.layers.Concatenate()([gn.Dense(5, activation="relu")(a), b])
        model = gn.Model([a, b], gn.Dense(3, activation="softmax")(h), dtype="float64",
                         seed=2, device=device, fast=False)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        return model
    x, y = _data()
    inputs = [x[:, :4], x[:, 4:]]
    cpu, dev = build("cpu"), build("cuda")
    assert dev.fit(inputs, y, epochs=2, verbose=0).history == \
        cpu.fit(inputs, y, epochs=2, verbose=0).history
    np.testing.assert_array_equal(dev.predict({"a": inputs[0], "b": inputs[1]}),
                                  cpu.predict(inputs))
    mixed = dev.predict([cupy.asarray(inputs[0]), inputs[1]])
    assert isinstance(mixed, cupy.ndarray)


def test_a_move_that_fails_half_way_leaves_the_model_as_it_was(cupy, monkeypatch):
    x, y = _data()
    cpu, _ = _pair()
    cpu.fit(x, y, epochs=1, verbose=0)
    before = cpu.predict(x)
    real, calls = backend.to_module, []

    def out_of_memory(a, xp):
        calls.append(1)
        if len(calls) == 2:
            raise MemoryError("out of GPU memory (simulated)")
        return real(a, xp)
    monkeypatch.setattr(backend, "to_module", out_of_memory)
    with pytest.raises(MemoryError):
        cpu.to("cuda")
    monkeypatch.setattr(backend, "to_module", real)
    assert cpu.device == "cpu" and type(cpu.variables) is np.ndarray
    assert all(type(v) is np.ndarray for v in cpu.optimizer.state.values())
    assert type(cpu.layers[0].W) is np.ndarray
    np.testing.assert_array_equal(cpu.predict(x), before)
    cpu.fit(x, y, epochs=1, verbose=0)


def test_a_model_cannot_move_while_fit_runs_or_be_moved_by_assignment(cupy):
    x, y = _data()
    _, dev = _pair()

    class Mover(gn.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.to("cpu")
    with pytest.raises(RuntimeError, match="while fit runs"):
        dev.fit(x, y, epochs=2, verbose=0, callbacks=[Mover()])
    assert dev.device == "cuda"
    dev.fit(x, y, epochs=1, verbose=0)                      # and it still trains
    with pytest.raises(AttributeError, match=r"model.to\('cpu'\)"):
        dev.device = "cpu"
    kernel = dev.layers[0].W
    assert dev.to("cuda") is dev and dev.layers[0].W is kernel   # already there: unchanged


def test_a_cpu_model_refuses_device_batches_from_any_source(cupy):
    x, y = _data()
    cpu, _ = _pair()

    def batches():
        for i in range(0, 120, 40):
            yield cupy.asarray(x[i:i + 40]), y[i:i + 40]
    with pytest.raises(ValueError, match=r"CuPy array.*model.to\('cuda'\)"):
        cpu.fit(batches(), epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"CuPy array.*model.to\('cuda'\)"):
        cpu.trace(cupy.asarray(x[0]), y[0])


def test_the_layers_of_a_device_model(cupy):
    x, y = _data()
    cpu, dev = _pair()
    dense = dev.layers[0]
    assert all(type(w) is np.ndarray for w in dense.get_weights())
    np.testing.assert_array_equal(dense(x), cpu.layers[0](x))          # NumPy in, out
    assert isinstance(dense(cupy.asarray(x)), cupy.ndarray)             # CuPy in, out
    new = [w * 2 for w in dense.get_weights()]
    dense.set_weights([cupy.asarray(w) for w in new])
    np.testing.assert_array_equal(dense.get_weights()[0], new[0])
    norm = gn.layers.Normalization()
    norm.adapt(cupy.asarray(x))
    model = gn.Sequential([gn.Input(shape=(6,)), norm, gn.Dense(2)], device="cuda",
                          dtype="float64", fast=False)
    np.testing.assert_allclose(backend.to_host(model.predict(x)).std(), model.predict(x).std())
    np.testing.assert_allclose(model.layers[0].mean, x.mean(axis=0))


def test_a_fit_that_fails_at_once_does_not_pin_the_model(cupy):
    x, y = _data()
    cpu, _ = _pair()

    class Broken(gn.callbacks.Callback):
        def on_train_begin(self, logs=None):
            raise KeyError("a callback's own bug")
    with pytest.raises(KeyError):
        cpu.fit(x, y, epochs=1, verbose=0, callbacks=[Broken()])
    assert cpu.to("cuda").device == "cuda"


def test_kernels_are_cached_by_their_code_not_their_class_name():
    made = []

    class Recorder:
        def __init__(self, *args, **kwargs):
            made.append(args)
    kernels = cuda.Kernels.__new__(cuda.Kernels)        # no GPU here: only the cache
    kernels.cp = type("FakeCupy", (), {"ElementwiseKernel": Recorder, "RawKernel": Recorder})
    kernels._cache = {}
    first = kernels._elementwise(("ReLU", "forward"), "T b, T c", "T z, T a", "a = z")
    assert kernels._elementwise(("ReLU", "forward"), "T b, T c", "T z, T a", "a = z") is first
    other = kernels._elementwise(("ReLU", "forward"), "T b, T c", "T z, T a", "a = z + c")
    assert other is not first and len(made) == 2          # same name, other code
    f32 = kernels._raw("void f() {}", "f", np.float32)
    assert kernels._raw("void f() {}", "f", np.float32) is f32
    assert kernels._raw("void f() {}", "f", np.float64) is not f32
    assert "typedef double T;" in made[-1][0]


def test_mean_loss_reads_back_what_the_store_kernel_wrote():
    launches = []

    class Launch:
        def __init__(self, code, function, options=()):
            self.function = function

        def __call__(self, grid, block, args):
            launches.append((self.function, args))

    class Slot(np.ndarray):
        def get(self):
            return np.asarray(self)
    kernels = cuda.Kernels.__new__(cuda.Kernels)        # no GPU here: the Python around it
    kernels.cp = type("FakeCupy", (), {"RawKernel": Launch})
    kernels._cache = {}
    kernels._loss_slot = np.array([0.75]).view(Slot)    # as if the kernel had stored 0.75
    kernels._loss_guard = np.zeros(2, np.int32)
    per_sample = np.ones(4, np.float32)
    assert kernels.mean_loss(per_sample) == 0.75
    function, args = launches[-1]
    assert function == "store_loss" and args[0] is per_sample
    assert args[2] is kernels._loss_slot and args[3] is kernels._loss_guard
    assert [type(a) for a in args[4:]] == [np.int64, np.int32, np.int64, np.int32]
    assert (int(args[4]), int(args[5])) == (4, 0)         # n samples, unweighted
    weights = np.full(4, 2.0, np.float32)
    kernels.mean_loss(per_sample, weights)
    assert launches[-1][1][1] is weights and int(launches[-1][1][5]) == 1
