"""The trace shows the network's own numbers; the report renders in a real browser."""
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

import glassnet as gn
from glassnet import cli
from glassnet.datasets import logic_gate


def _digits_like(loss="sparse_categorical_crossentropy", opt=None):
    rng = np.random.default_rng(0)
    model = gn.Sequential([gn.Rescaling(0.5), gn.Dense(6, "relu", kernel_regularizer="l2"),
                           gn.Dropout(0.2), gn.Dense(5, "tanh"), gn.Dense(3, "softmax")], seed=0)
    model.compile(loss=loss, optimizer=opt or gn.SGD(0.1, momentum=0.9))
    x = rng.normal(size=(30, 4))
    y = rng.integers(0, 3, size=30)
    model.fit(x, y if loss.startswith("sparse") else np.eye(3)[y], epochs=2, verbose=0)
    return model, x, y


@pytest.mark.parametrize("loss", ["sparse_categorical_crossentropy", "categorical_crossentropy",
                                  "mse"])
def test_traced_numbers_equal_predict_and_loss_and_gradients(loss):
    model, x, y = _digits_like(loss, gn.Adam(0.01))
    target = y[:3] if loss.startswith("sparse") else np.eye(3)[y[:3]]
    tr = model.trace(x[:3], target)
    np.testing.assert_array_equal(tr.output, model.predict(x[:3]))
    value, grads = model.loss_and_gradients(x[:3], target)
    assert tr.loss == value
    assert tr.loss == pytest.approx(model.evaluate(x[:3], target, return_dict=True)["loss"], rel=1e-6)
    assert len(tr.gradients) == len(grads) == 6
    for mine, theirs in zip(tr.gradients, grads):
        np.testing.assert_array_equal(mine, theirs)
    # the update is exactly what the optimizer then does
    before = model.params.copy()
    model.optimizer.step(model.params, np.concatenate([g.ravel() for g in grads]))
    change = model.params - before
    np.testing.assert_allclose(np.concatenate([u.ravel() for u in tr.updates]), change,
                               rtol=1e-5, atol=1e-8)


def test_forward_steps_follow_the_equations():
    model, x, y = _digits_like()
    tr = model.trace(x[0])
    dense = tr.layers[1]
    W, b, z = dense.get("W"), dense.get("b"), dense.get("z")
    np.testing.assert_allclose(z, dense.get("x") @ W + b, rtol=1e-6)
    np.testing.assert_array_equal(dense.get("a"), np.maximum(z, 0))
    soft = tr.layers[-1]
    np.testing.assert_allclose(soft.get("exp") / soft.get("sum"), soft.get("a"), rtol=1e-6)
    assert soft.get("z-max").max() == 0


def test_the_update_shows_this_samples_gradient_step_and_the_real_next_step(rng):
    model = gn.Sequential([gn.Dense(3, "tanh"), gn.Dense(1, "sigmoid")], seed=0)
    model.compile(gn.Adam(0.1), "binary_crossentropy")
    x = rng.normal(size=(20, 2))
    y = (x[:, :1] > 0).astype(float)
    model.fit(x, y, epochs=3, batch_size=5, verbose=0)
    tr = model.trace(x[0], y[0])
    out = tr.layers[-1]
    # plain gradient descent on this sample: -η g
    np.testing.assert_allclose(out.get("-η·dL/dW"), -0.1 * out.get("dL/dW"), rtol=1e-6)
    # Adam's real step uses its moments: not proportional to this sample's gradient
    assert not np.allclose(out.get("ΔW"), out.get("-η·dL/dW"))


def test_printed_report_uses_the_seeds_notation_and_summarises_large_arrays():
    model, x, y = _digits_like()
    text = str(model.trace(x[0], y[0]))
    for needle in ("weighted sum z = x·W + b", "activation a = relu(z)", "e^(z - max)",
                   "Loss (sparse_categorical_crossentropy)", "dL/dz = dL/da ⊙ tanh'(z)",
                   "xᵀ · δ + dR/dW", "gradient descent on this sample, η = 0.1",
                   "the real next step: SGD with its stored state"):
        assert needle in text, needle
    assert re.search(r"-0\.(?![0-9])", text) is None   # rounding never prints a negative zero
    big = gn.Sequential([gn.Dense(64, "relu"), gn.Dense(2, "softmax")], seed=0)
    big.build(100)
    assert "shape (100, 64): min" in str(big.trace(np.ones(100)))


def test_step_networks_trace_forward_and_explain_why_no_backward():
    model = gn.Sequential([gn.Dense(1, "step")])
    model.compile(loss="mse")
    model.set_weights([np.array([[1.0], [1.0]]), np.array([-1.5])])
    tr = model.trace([1, 1], [1])
    assert tr.output[0, 0] == 1.0 and tr.gradients is None
    assert "cannot train" in str(tr)


def test_snapshots_record_and_render_a_gif(tmp_path):
    PIL = pytest.importorskip("PIL.Image")
    from glassnet.visualize import Snapshots
    X, y = logic_gate("xor")
    model = gn.Sequential([gn.Dense(4, "tanh"), gn.Dense(1, "sigmoid")], seed=0)
    model.compile(loss="binary_crossentropy", optimizer=gn.Adam(0.05))
    snaps = Snapshots(X, y, every=10)
    model.fit(X, y, epochs=35, batch_size=4, verbose=0, callbacks=[snaps])
    assert [f["epoch"] for f in snaps.frames] == [0, 10, 20, 30, 35]   # 0: untrained
    assert snaps.frames[-1]["grid"].shape == (80 * 80, 1)
    assert len(snaps.frames[0]["weights"]) == 2
    path = tmp_path / "xor.gif"
    snaps.to_gif(path)
    assert PIL.open(path).n_frames == 5


def test_snapshots_default_to_log_spaced_frames_from_the_untrained_network():
    from glassnet.visualize import Snapshots
    X, y = logic_gate("xor")
    model = gn.Sequential([gn.Dense(4, "tanh"), gn.Dense(1, "sigmoid")], seed=0)
    model.compile(gn.Adam(0.05), "binary_crossentropy")
    snaps = Snapshots(X, y, frames=20)
    model.fit(X, y, epochs=500, batch_size=4, verbose=0, callbacks=[snaps])
    epochs = [f["epoch"] for f in snaps.frames]
    assert epochs[:4] == [0, 1, 2, 3] and epochs[-1] == 500 and len(epochs) <= 21
    gaps = np.diff(epochs)
    assert gaps[-1] > 10 * gaps[0]                    # dense at the start, sparse later
    assert snaps.frames[0]["logs"]["loss"] > snaps.frames[-1]["logs"]["loss"]


def test_cli_explain_prints_the_trace(tmp_path):
    out = tmp_path / "xor.glassnet"
    assert cli.main(["train", "--data", "xor", "--quiet", "--epochs", "50",
                        "--out", str(out)]) == 0
    result = subprocess.run([sys.executable, "-m", "glassnet.cli", "explain", str(out),
                             "--data", "xor", "--sample", "3"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Sample 3 of xor" in result.stdout and "Loss (binary_crossentropy)" in result.stdout
    bad = subprocess.run([sys.executable, "-m", "glassnet.cli", "explain", str(out),
                          "--data", "xor", "--sample", "9"], capture_output=True, text=True)
    assert bad.returncode == 1 and "--sample must be in 0..3" in bad.stderr


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _rendered_dom(page, tmp_path):
    """The page's DOM after headless Chromium loaded it and ran its scripts (offline)."""
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom",
         page.as_uri()], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium package is not installed")
def test_html_report_renders_every_image_and_section_in_chromium(tmp_path):
    pytest.importorskip("matplotlib")
    model_path = tmp_path / "digits.glassnet"
    assert cli.main(["train", "--quiet", "--epochs", "3", "--out", str(model_path)]) == 0
    report = tmp_path / "report.html"
    assert cli.main(["report", str(model_path), "--sample", "5", "--out", str(report)]) == 0
    text = report.read_text()
    assert "http://" not in text and "https://" not in text and "<script src" not in text
    dom = _rendered_dom(report, tmp_path)
    assert 'data-images-rendered="3/3"' in dom
    for section in ("summary", "training", "network", "histograms", "trace"):
        assert f'<section id="{section}">' in dom
    assert "Sample 5, traced through every equation" in dom
    assert "figures rendered" not in dom                  # no test text on the page


def test_report_traces_the_worst_sample_with_its_target_and_prediction(tmp_path):
    pytest.importorskip("matplotlib")
    from glassnet.report import html_report, worst_sample
    x, y = gn.datasets.digits()
    model = gn.Sequential([gn.Rescaling(1 / 16), gn.Dense(16, "relu"),
                           gn.Dense(10, "softmax")], seed=0)
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    model.class_names = tuple("0123456789")
    model.fit(x, y, epochs=2, verbose=0)
    page = html_report(model, x[:300], y[:300])
    p = model.predict(x[:300]).astype(np.float64)
    k = int(np.argmax(-np.log(p[np.arange(300), y[:300]])))   # the highest loss, by hand
    assert worst_sample(model, x[:300], y[:300]) == k
    assert f"Sample {k}, traced" in page
    assert f"target: class {y[k]}; prediction: class " in page and "loss: " in page
    assert model.trace(x[k], y[k]).loss > 0


@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium package is not installed")
def test_snapshot_report_embeds_the_animation_and_renders(tmp_path):
    pytest.importorskip("PIL")
    from glassnet.visualize import Snapshots
    X, y = logic_gate("xor")
    model = gn.Sequential([gn.Dense(4, "tanh"), gn.Dense(1, "sigmoid")], seed=0)
    model.compile(loss="binary_crossentropy", optimizer=gn.Adam(0.05), metrics=["accuracy"])
    snaps = Snapshots(X, y, every=5)
    model.fit(X, y, epochs=20, batch_size=4, verbose=0, callbacks=[snaps])
    report = tmp_path / "xor.html"
    snaps.to_report(report, sample=3)
    assert "data:image/gif;base64," in report.read_text()
    dom = _rendered_dom(report, tmp_path)
    assert 'data-images-rendered="4/4"' in dom
    assert '<section id="learning">' in dom and "Sample 3, traced" in dom
