"""A model on an NVIDIA GPU (device="cuda"): the same equations through CuPy.

Every test here needs CuPy and a GPU and is skipped without them (CI has
none; the GPU machine runs ``pytest -m cuda``).  What they hold:

* each fused kernel of :mod:`glassnet.cuda` equals the NumPy-style expression
  it replaces, run on the same CuPy arrays (``fast=False`` is that reference);
* training on the GPU follows the CPU's trajectory, and PyTorch's on CUDA
  (float64 to 1e-10, float32 to 1e-5);
* everything around training works for a GPU model: NumPy or CuPy data in,
  the input's kind of array out, save on the GPU and load on the CPU (and
  back), EarlyStopping's restore, divergence rollback, functional graphs,
  metrics, trace and ONNX export; a CuPy array given to a CPU model is refused.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import glassnet as gn
from glassnet import backend


def _gpu_available():
    if importlib.util.find_spec("cupy") is None:
        return False
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not _gpu_available(), reason="needs CuPy and an NVIDIA GPU")]

if _gpu_available():
    import cupy as cp
    from glassnet import cuda


def _mlp(device, dtype="float64", seed=0, hidden=(16, 8), classes=3, inputs=20,
         activation="relu", fast=None, optimizer=None):
    model = gn.Sequential([gn.Input(shape=(inputs,))]
                          + [gn.layers.Dense(h, activation=activation) for h in hidden]
                          + [gn.layers.Dense(classes, activation="softmax")],
                          dtype=dtype, seed=seed, device=device, fast=fast)
    model.compile(optimizer=optimizer or gn.optimizers.Adam(1e-2),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _data(n=200, d=20, k=3, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    y = (x[:, :k].argmax(axis=1)).astype(np.int64)
    return x, y


def _host(a):
    return np.asarray(backend.to_host(a))


# ----------------------------------------------------------------------------------------
# each fused kernel against the expression it replaces
# ----------------------------------------------------------------------------------------
ACTIVATIONS = [gn.activations.ReLU(), gn.activations.LeakyReLU(0.3), gn.activations.Sigmoid(),
               gn.activations.Tanh(), gn.activations.Softmax()]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ACTIVATIONS, ids=lambda a: a.name)
def test_bias_activation_kernel_equals_the_expression(activation, dtype):
    rng = np.random.default_rng(0)
    z = rng.normal(size=(257, 13)).astype(dtype) * 4
    z[0, :3] = [0.0, -0.0, np.nan]                 # the edge cases of max(z, 0)
    b = rng.normal(size=13).astype(dtype)
    z_ref = cp.asarray(z)
    z_ref += cp.asarray(b)
    a_ref = activation.forward(z_ref)
    z_fused = cp.asarray(z)
    a_fused = cuda.kernels().bias_activation(activation, z_fused, cp.asarray(b))
    assert a_fused is not None
    tol = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_array_equal(_host(z_fused), _host(z_ref))          # z += b exactly
    np.testing.assert_allclose(_host(a_fused), _host(a_ref), rtol=tol, atol=tol)


@pytest.mark.parametrize("rows", [100, cuda.COLUMN_KERNEL_MAX_ROWS + 44] if _gpu_available()
                         else [100])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ACTIVATIONS[:4], ids=lambda a: a.name)
def test_backward_kernel_equals_the_expression(activation, dtype, rows):
    rng = np.random.default_rng(1)
    z = cp.asarray(rng.normal(size=(rows, 17)).astype(dtype))
    a = activation.forward(z)
    grad = cp.asarray(rng.normal(size=(rows, 17)).astype(dtype))
    db = cp.empty(17, dtype)
    delta = cuda.kernels().activation_backward_bias(activation, a, grad, db)
    ref = activation.backward(z, a, grad)
    np.testing.assert_array_equal(_host(delta), _host(ref))       # same operations, same order
    if rows <= cuda.COLUMN_KERNEL_MAX_ROWS:                        # a thread per column:
        np.testing.assert_array_equal(_host(db), _host(ref).sum(axis=0))   # NumPy's order
    else:                                                          # CuPy's parallel sum
        tol = 1e-5 if dtype == np.float32 else 1e-13
        np.testing.assert_allclose(_host(db), _host(ref).sum(axis=0), rtol=tol, atol=tol)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bias_gradient_kernel_sums_the_rows_as_numpy_does(dtype):
    delta = np.random.default_rng(4).normal(size=(cuda.COLUMN_KERNEL_MAX_ROWS, 33)).astype(dtype)
    db = cp.empty(33, dtype)
    assert cuda.kernels().bias_gradient(cp.asarray(delta), db)
    np.testing.assert_array_equal(_host(db), delta.sum(axis=0))
    assert not cuda.kernels().bias_gradient(cp.asarray(np.vstack([delta, delta])), db)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("loss", [gn.losses.SparseCategoricalCrossentropy(),
                                  gn.losses.CategoricalCrossentropy()], ids=lambda l: l.name)
def test_loss_kernel_equals_the_fused_expressions(loss, weighted):
    rng = np.random.default_rng(2)
    n, k = 333, 7
    z = cp.asarray(rng.normal(size=(n, k)) * 5)
    a = gn.activations.Softmax().forward(z)
    labels = rng.integers(0, k, n)
    y = cp.asarray(labels) if loss.sparse else cp.asarray(np.eye(k)[labels])
    w = cp.asarray(rng.random(n)) if weighted else None
    per_sample, delta = cuda.kernels().loss_and_delta(loss, y, z, a, w)
    np.testing.assert_allclose(_host(per_sample), _host(loss.fused_per_sample(y, z, a)),
                               rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(_host(delta), _host(loss.fused_delta(y, z, a, w)),
                               rtol=1e-13, atol=1e-15)
    host_w = None if w is None else _host(w)
    assert cuda.kernels().mean_loss(per_sample, w) == pytest.approx(
        gn.losses.reduce(_host(per_sample), host_w), rel=1e-15)


OPTIMIZERS = [lambda: gn.optimizers.SGD(0.1), lambda: gn.optimizers.SGD(0.1, momentum=0.9),
              lambda: gn.optimizers.SGD(0.1, momentum=0.9, nesterov=True),
              lambda: gn.optimizers.Adam(1e-2), lambda: gn.optimizers.AdamW(1e-2),
              lambda: gn.optimizers.RMSprop(1e-2),
              lambda: gn.optimizers.RMSprop(1e-2, momentum=0.5, weight_decay=0.1)]


@pytest.mark.parametrize("make", OPTIMIZERS, ids=lambda f: repr(f()))
def test_optimizer_kernel_equals_update_step(make):
    rng = np.random.default_rng(3)
    params = rng.normal(size=1001)
    fused, plain = make(), make()
    p_fused, p_plain = cp.asarray(params), cp.asarray(params)
    for _ in range(5):
        grads = cp.asarray(rng.normal(size=1001))
        fused.step(p_fused, grads, kernels=cuda.kernels())
        plain.step(p_plain, grads)
    np.testing.assert_allclose(_host(p_fused), _host(p_plain), rtol=1e-14, atol=1e-15)
    for key in plain.state:
        np.testing.assert_allclose(_host(fused.state[key]), _host(plain.state[key]),
                                   rtol=1e-14, atol=1e-15)


def test_a_subclass_that_rewrites_forward_does_not_inherit_the_kernel():
    class Shifted(gn.activations.ReLU):
        name = "shifted_relu_test"

        def forward(self, z, steps=None):
            return backend.array_module(z).maximum(z, 1.0)

    z = cp.zeros((4, 3))
    assert cuda.kernels().bias_activation(Shifted(), z, cp.zeros(3)) is None


# ----------------------------------------------------------------------------------------
# training: GPU = CPU = PyTorch CUDA
# ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("fast", [None, False])
def test_gpu_training_follows_the_cpu_trajectory(fast):
    x, y = _data()
    cpu, gpu = _mlp("cpu"), _mlp("cuda", fast=fast)
    h_cpu = cpu.fit(x, y, batch_size=32, epochs=5, verbose=0)
    h_gpu = gpu.fit(x, y, batch_size=32, epochs=5, verbose=0)
    for w_cpu, w_gpu in zip(cpu.get_weights(), gpu.get_weights()):
        np.testing.assert_allclose(w_gpu, w_cpu, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(h_gpu.history["loss"], h_cpu.history["loss"], rtol=1e-10)
    assert h_gpu.history["accuracy"] == h_cpu.history["accuracy"]


def _torch_trajectory(model, x, y, steps, batch, dtype, device="cuda"):
    import torch
    tdtype = torch.float64 if dtype == "float64" else torch.float32
    dense = [layer for layer in model.layers]
    linears = [torch.nn.Linear(d.input_dim, d.units).to(device=device, dtype=tdtype)
               for d in dense]
    with torch.no_grad():
        for lin, d in zip(linears, dense):
            lin.weight.copy_(torch.as_tensor(_host(d.W).T))
            lin.bias.copy_(torch.as_tensor(_host(d.b)))
    params = [p for lin in linears for p in lin.parameters()]
    opt = torch.optim.Adam(params, lr=1e-2)
    xt = torch.as_tensor(x, dtype=tdtype, device=device)
    yt = torch.as_tensor(y, device=device)
    for step in range(steps):
        s = slice((step * batch) % len(x), (step * batch) % len(x) + batch)
        h = xt[s]
        for i, lin in enumerate(linears):
            h = lin(h)
            if i < len(linears) - 1:
                h = torch.relu(h)
        loss = torch.nn.functional.cross_entropy(h, yt[s])
        opt.zero_grad()
        loss.backward()
        opt.step()
    return [t.detach().cpu().numpy() for lin in linears for t in (lin.weight.T, lin.bias)]


@pytest.mark.parametrize("dtype,tol", [("float64", 1e-10), ("float32", 1e-5)])
def test_gpu_training_follows_pytorch_cuda(dtype, tol):
    pytest.importorskip("torch")
    import torch
    if not torch.cuda.is_available():
        pytest.skip("PyTorch without CUDA")
    x, y = _data(n=256)
    model = _mlp("cuda", dtype=dtype)
    expected = _torch_trajectory(model, x, y, steps=16, batch=64, dtype=dtype)
    model.fit(x, y, batch_size=64, epochs=4, shuffle=False, verbose=0)
    for got, want in zip(model.get_weights(), expected):
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_functional_graph_on_the_gpu_equals_the_cpu():
    def build(device):
        inputs = gn.Input(shape=(20,))
        h = gn.layers.Dense(16, activation="tanh")(inputs)
        h2 = gn.layers.Dense(16, activation="leaky_relu")(h)
        merged = gn.layers.Concatenate()([h + h2, inputs])
        out = gn.layers.Dense(3, activation="softmax")(gn.layers.Dropout(0.2)(merged))
        model = gn.Model(inputs, out, dtype="float64", seed=3, device=device)
        model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy")
        return model

    x, y = _data()
    cpu, gpu = build("cpu"), build("cuda")
    cpu.fit(x, y, batch_size=50, epochs=3, verbose=0)
    gpu.fit(x, y, batch_size=50, epochs=3, verbose=0)
    np.testing.assert_allclose(gpu.predict(x), cpu.predict(x), rtol=1e-10, atol=1e-12)


def test_two_inputs_and_the_layers_of_a_gpu_model():
    def build(device):
        a, b = gn.Input(shape=(15,), name="a"), gn.Input(shape=(5,), name="b")
        h = gn.layers.Concatenate()([gn.layers.Dense(8, activation="relu")(a), b])
        model = gn.Model([a, b], gn.layers.Dense(3, activation="softmax")(h), dtype="float64",
                         seed=2, device=device)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        return model
    x, y = _data()
    inputs = [x[:, :15], x[:, 15:]]
    cpu, gpu = build("cpu"), build("cuda")
    cpu.fit(inputs, y, epochs=3, verbose=0)
    gpu.fit([cp.asarray(v) for v in inputs], cp.asarray(y), epochs=3, verbose=0)
    np.testing.assert_allclose(gpu.predict(inputs), cpu.predict(inputs), rtol=1e-10,
                               atol=1e-12)
    dense = next(layer for layer in gpu.layers if getattr(layer, "units", None) == 8)
    twin = next(layer for layer in cpu.layers if getattr(layer, "units", None) == 8)
    assert all(type(w) is np.ndarray for w in dense.get_weights())
    out = dense(cp.asarray(inputs[0]))                 # a GPU model's layer: CuPy in, out
    assert isinstance(out, cp.ndarray)
    np.testing.assert_allclose(out.get(), twin(inputs[0]), rtol=1e-10, atol=1e-12)


# ----------------------------------------------------------------------------------------
# data in and out
# ----------------------------------------------------------------------------------------
def test_numpy_in_numpy_out_cupy_in_cupy_out():
    x, y = _data()
    model = _mlp("cuda")
    model.fit(cp.asarray(x), cp.asarray(y), epochs=1, verbose=0)
    out_np = model.predict(x)
    out_cp = model.predict(cp.asarray(x))
    assert type(out_np) is np.ndarray
    assert isinstance(out_cp, cp.ndarray)
    np.testing.assert_array_equal(out_np, out_cp.get())
    chunked = model.predict(cp.asarray(x), batch_size=7)
    assert isinstance(chunked, cp.ndarray)
    np.testing.assert_allclose(chunked.get(), out_np, rtol=1e-12)
    loss, acc = model.evaluate(cp.asarray(x), cp.asarray(y), verbose=0)
    assert (loss, acc) == tuple(model.evaluate(x, y, verbose=0))


def test_a_cupy_array_given_to_a_cpu_model_is_refused():
    x, y = _data()
    model = _mlp("cpu")
    with pytest.raises(ValueError, match=r"CuPy array .*model is on the CPU.*to\('cuda'\)"):
        model.predict(cp.asarray(x))
    with pytest.raises(ValueError, match="CuPy array"):
        model.fit(x, cp.asarray(y), verbose=0)


def test_weights_live_on_the_gpu_and_move_back():
    x, y = _data()
    model = _mlp("cuda")
    assert isinstance(model.variables, cp.ndarray)
    assert isinstance(model.layers[0].W, cp.ndarray)
    model.fit(x, y, epochs=1, verbose=0)
    assert isinstance(model.optimizer.state["m"], cp.ndarray)
    before = model.predict(x)
    model.to("cpu")
    assert type(model.variables) is np.ndarray and type(model.optimizer.state["m"]) is np.ndarray
    np.testing.assert_allclose(model.predict(x), before, rtol=1e-12)
    model.fit(x, y, epochs=1, verbose=0)              # training goes on, with Adam's state
    model.to("cuda")
    assert isinstance(model.layers[0].W, cp.ndarray)


# ----------------------------------------------------------------------------------------
# everything else works for a GPU model
# ----------------------------------------------------------------------------------------
def test_saved_on_the_gpu_loads_on_the_cpu_and_back(tmp_path):
    x, y = _data()
    model = _mlp("cuda")
    model.fit(x, y, epochs=2, verbose=0)
    path = tmp_path / "gpu.glassnet"
    model.save(path)
    loaded = gn.load_model(path)
    assert loaded.device == "cpu" and type(loaded.variables) is np.ndarray
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), rtol=1e-12)
    again = loaded.to("cuda")
    again.fit(x, y, epochs=1, verbose=0)
    model.fit(x, y, epochs=1, verbose=0)             # same optimizer state: same step
    np.testing.assert_allclose(again.predict(x), model.predict(x), rtol=1e-10)
    model.save_weights(tmp_path / "w.weights.h5")
    fresh = _mlp("cpu", seed=9)
    fresh.load_weights(tmp_path / "w.weights.h5")
    np.testing.assert_allclose(fresh.predict(x), model.predict(x), rtol=1e-12)


def test_restore_puts_back_a_gpu_run(tmp_path):
    x, y = _data()
    model = _mlp("cuda")
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "run.glassnet")
    saved = model.predict(x)
    model.fit(x, y, epochs=2, verbose=0)
    model.restore(tmp_path / "run.glassnet")
    assert isinstance(model.variables, cp.ndarray)
    np.testing.assert_array_equal(model.predict(x), saved)


def test_the_readme_gpu_block_runs_as_pasted(tmp_path, monkeypatch):
    import pathlib
    import re
    readme = (pathlib.Path(__file__).resolve().parents[1] / "README.md").read_text()
    block = re.search(r"<!-- not-run: needs an NVIDIA GPU and CuPy[^>]*-->\n```python\n"
                      r"(?P<body>.*?)```", readme, re.S).group("body")
    monkeypatch.chdir(tmp_path)
    namespace = {}
    exec(compile(block, "README.md", "exec"), namespace)
    model = namespace["model"]
    assert model.device == "cpu"                       # the block's last line
    loss, accuracy = model.evaluate(namespace["X_test"], namespace["y_test"], verbose=0)
    assert accuracy >= 0.95
    loaded = gn.load_model(tmp_path / "digits-gpu.glassnet")
    np.testing.assert_allclose(loaded.predict(namespace["X_test"]), namespace["probabilities"],
                               rtol=1e-5, atol=1e-6)


def test_early_stopping_restores_the_best_weights_on_the_gpu():
    x, y = _data()
    model = _mlp("cuda", optimizer=gn.optimizers.SGD(3.0))      # too high: val loss rises
    stop = gn.callbacks.EarlyStopping(monitor="val_loss", patience=1, restore_best_weights=True)
    history = model.fit(x, y, validation_split=0.25, epochs=30, verbose=0, callbacks=[stop])
    best = int(np.argmin(history.history["val_loss"]))
    assert model.evaluate(x[150:], y[150:], verbose=0)[0] == pytest.approx(
        history.history["val_loss"][best], rel=1e-9)


def test_divergence_rolls_back_on_the_gpu():
    x, y = _data()
    restored = {}
    for device in ("cpu", "cuda"):                    # a step of 1e300 overflows the next loss
        model = _mlp(device, optimizer=gn.optimizers.SGD(1e300))
        with pytest.raises(gn.TrainingDiverged) as info:
            model.fit(x, y, batch_size=50, epochs=1, shuffle=False, verbose=0)
        assert (info.value.epoch, info.value.batch) == (0, 1)
        restored[device] = model.get_weights()        # after the one finite step
    for w_gpu, w_cpu in zip(restored["cuda"], restored["cpu"]):
        assert np.isfinite(w_gpu).all()
        np.testing.assert_allclose(w_gpu, w_cpu, rtol=1e-10)


def _plain(device, optimizer, seed=0):
    """A model fit can train with its losses left on the GPU (no metrics, no penalty)."""
    model = gn.Sequential([gn.Input(shape=(20,)), gn.layers.Dense(16, activation="relu"),
                           gn.layers.Dense(3, activation="softmax")], dtype="float64",
                          seed=seed, device=device)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    return model


class _EveryBatch(gn.callbacks.Callback):
    """A per-batch callback: fit then reads every step's loss (no deferral)."""

    def __init__(self):
        super().__init__()
        self.losses = []

    def on_train_batch_end(self, batch, logs=None):
        self.losses.append(logs["loss"])


def test_deferred_loss_checks_change_nothing_but_the_waiting(monkeypatch):
    from glassnet.trainer import Trainer
    deferred_epochs = []
    original = Trainer._train_epoch_deferred

    def spy(self, *args):
        deferred_epochs.append(args[1])
        return original(self, *args)
    monkeypatch.setattr(Trainer, "_train_epoch_deferred", spy)
    x, y = _data(n=4000)
    batch = cuda.Kernels.defer_min_batch
    deferred, eager = (_plain("cuda", gn.optimizers.Adam(1e-2)) for _ in range(2))
    h_deferred = deferred.fit(x, y, batch_size=batch, epochs=3, verbose=0)
    assert deferred_epochs == [0, 1, 2]
    h_eager = eager.fit(x, y, batch_size=batch, epochs=3, verbose=0, callbacks=[_EveryBatch()])
    assert deferred_epochs == [0, 1, 2]                # the callback turned it off
    _plain("cuda", gn.optimizers.Adam(1e-2)).fit(x, y, batch_size=batch // 2, verbose=0)
    assert deferred_epochs == [0, 1, 2]                # and so does a small batch
    assert h_deferred.history["loss"] == h_eager.history["loss"]
    for a, b in zip(deferred.get_weights(), eager.get_weights()):
        np.testing.assert_array_equal(a, b)
    steps = -(-4000 // batch)
    assert deferred.optimizer.iterations == eager.optimizer.iterations == 3 * steps


@pytest.mark.parametrize("steps_before", [0, 1, 2, 40])
def test_deferred_divergence_stops_where_the_cpu_stops(steps_before, monkeypatch):
    # an SGD step of 1e300 makes the next loss NaN; steps_before steps of a tiny rate first,
    # so the NaN comes at an even or odd step, before or after a read of the guard
    monkeypatch.setattr(cuda.Kernels, "defer_min_batch", 1)
    x, y = _data(n=50 * (steps_before + 8))
    batch = 50

    class Jump(gn.optimizers.schedules.LearningRateSchedule):
        def __call__(self, step):
            return 1e-6 if step < steps_before else 1e300
    outcome = {}
    for device in ("cpu", "cuda"):
        model = _plain(device, gn.optimizers.SGD(Jump()))
        with pytest.raises(gn.TrainingDiverged) as info:
            model.fit(x, y, batch_size=batch, epochs=2, shuffle=False, verbose=0)
        outcome[device] = (info.value.epoch, info.value.batch, model.optimizer.iterations,
                           model.get_weights())
    assert outcome["cuda"][:3] == outcome["cpu"][:3]
    for a, b in zip(outcome["cuda"][3], outcome["cpu"][3]):
        assert np.isfinite(a).all()
        np.testing.assert_allclose(a, b, rtol=1e-10)


def test_trace_and_onnx_of_a_gpu_model(tmp_path):
    pytest.importorskip("onnxruntime")
    import onnxruntime
    x, y = _data()
    model = _mlp("cuda")
    model.fit(x, y, epochs=1, verbose=0)
    t = model.trace(x[0], y[0])
    assert isinstance(t.layers[0].get("W"), np.ndarray)
    np.testing.assert_allclose(t.layers[0].get("W"), model.get_weights()[0])
    path = tmp_path / "m.onnx"
    model.export_onnx(path)
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    np.testing.assert_allclose(session.run(None, {name: x})[0], model.predict(x), rtol=1e-9,
                               atol=1e-12)


def test_sklearn_wrapper_and_cli_on_the_gpu(tmp_path):
    from glassnet.sklearn import GlassClassifier
    x, y = _data()
    gpu = GlassClassifier(hidden_layer_sizes=(16,), epochs=20, device="cuda", random_state=0)
    cpu = GlassClassifier(hidden_layer_sizes=(16,), epochs=20, random_state=0)
    gpu.fit(x, y)
    cpu.fit(x, y)
    assert gpu.model_.device == "cuda"
    proba = gpu.predict_proba(x)
    assert type(proba) is np.ndarray                  # scikit-learn gets NumPy back
    np.testing.assert_allclose(proba, cpu.predict_proba(x), rtol=1e-10, atol=1e-12)
    assert gpu.score(x, y) == cpu.score(x, y)
    from glassnet import cli
    x, y = gn.datasets.digits()
    accuracy = {}
    for device in ("cpu", "cuda"):
        out = tmp_path / f"{device}.glassnet"
        assert cli.main(["train", "--quiet", "--epochs", "5", "--seed", "0", "--device", device,
                         "--out", str(out)]) == 0
        loaded = gn.load_model(out)
        assert loaded.device == "cpu"
        accuracy[device] = float(np.mean(loaded.predict(x).argmax(axis=1) == y))
    assert accuracy["cuda"] > 0.85
    assert abs(accuracy["cuda"] - accuracy["cpu"]) < 0.02, accuracy
