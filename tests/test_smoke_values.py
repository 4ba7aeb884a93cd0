"""The command line and the demos, checked by their values (issue #25).

A smoke test that only looks at the exit code passes for a CLI that prints a wrong
accuracy or saves a model that predicts nonsense.  Here the printed figures are parsed
and recomputed from the saved model, and each demo's result is compared with what the
README's demo table promises.
"""
import contextlib
import io
import os
import re
import signal
import subprocess
import sys

import numpy as np
import pytest

import glassnet as gn


def glassnet(*args, cwd):
    """``glassnet ARGS`` as a user types it; its standard output (the exit code must be 0)."""
    result = subprocess.run([sys.executable, "-m", "glassnet.cli", *args], capture_output=True,
                            text=True, cwd=cwd, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def cli(*args, cwd):
    """The same command run in this process (``cli.main``), so that mutation testing, which
    mutates only this process's copy of glassnet, sees what the command line computes."""
    from glassnet import cli as command_line
    out, err = io.StringIO(), io.StringIO()
    previous = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            status = command_line.main(list(args))
    finally:
        os.chdir(previous)
    assert status == 0, err.getvalue()
    return out.getvalue()


def table_rows(out):
    """The ``split  loss  accuracy`` table that train prints, as {split: (loss, accuracy)}."""
    rows = {}
    for line in out.splitlines():
        m = re.fullmatch(r"(train|validation|test)\s+([0-9.]+)\s+([0-9.]+)(?:\s+\d+)?", line.strip())
        if m:
            rows[m.group(1)] = (float(m.group(2)), float(m.group(3)))
    return rows


def confusion(out):
    """The confusion matrix evaluate prints, as an integer array (rows: true class)."""
    lines = out.split("confusion matrix")[1].splitlines()[3:]
    return np.array([[int(v) for v in line.split()[1:]] for line in lines if line.strip()])


# -- the command line ---------------------------------------------------------------------------

def test_train_digits_reports_accuracies_that_evaluate_and_the_saved_model_reproduce(tmp_path):
    out = cli("train", "--quiet", "--out", "m.glassnet", cwd=tmp_path)
    rows = table_rows(out)
    assert set(rows) == {"train", "validation", "test"}
    assert rows["test"][1] >= 0.95                       # README: ">= 95 % in seconds"
    m = re.search(r": (\d+) samples \(and (\d+) held out for validation\)", out)
    n_train, n_val = int(m.group(1)), int(m.group(2))

    # evaluate on the same data set reports the test split's figures, with a confusion
    # matrix that adds up to them
    report = cli("evaluate", "m.glassnet", "--data", "digits", cwd=tmp_path)
    loss, accuracy = (float(v) for v in re.search(r"loss: ([0-9.]+) - accuracy: ([0-9.]+)",
                                                  report).groups())
    assert (loss, accuracy) == pytest.approx(rows["test"], abs=1e-4)
    matrix = confusion(report)
    x, y = gn.datasets.digits()
    assert matrix.shape == (10, 10)
    assert matrix.sum() == len(y) - n_train - n_val
    assert np.trace(matrix) / matrix.sum() == pytest.approx(accuracy, abs=1e-4)
    assert (matrix.sum(axis=1) >= 30).all()              # stratified: every class is tested

    # the saved model, loaded by a user, takes raw pixels (its Rescaling is saved with it)
    model = gn.load_model(tmp_path / "m.glassnet")
    assert model.class_names == tuple(str(k) for k in range(10))
    assert np.mean(model.predict(x).argmax(axis=1) == y) >= 0.95


def test_predict_writes_the_models_own_classes_and_probabilities(tmp_path):
    cli("train", "--quiet", "--epochs", "10", "--out", "m.glassnet", cwd=tmp_path)
    x, y = gn.datasets.digits()
    rows = np.r_[0:5, 700:705]
    gn.datasets.save_csv(tmp_path / "features.csv", x[rows])
    cli("predict", "m.glassnet", "features.csv", "--out", "p.csv", cwd=tmp_path)
    lines = (tmp_path / "p.csv").read_text().splitlines()
    assert lines[0] == "class," + ",".join(f"p_{k}" for k in range(10))
    written = np.array([[float(v) for v in line.split(",")] for line in lines[1:]])
    expected = gn.load_model(tmp_path / "m.glassnet").predict(x[rows])
    np.testing.assert_allclose(written[:, 1:], expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(written[:, 0], expected.argmax(axis=1))
    np.testing.assert_allclose(written[:, 1:].sum(axis=1), 1, atol=1e-5)
    assert np.mean(written[:, 0] == y[rows]) >= 0.8


def test_train_xor_saves_a_model_that_computes_xor(tmp_path):
    out = cli("train", "--data", "xor", "--out", "xor.glassnet", "--quiet", cwd=tmp_path)
    assert table_rows(out)["train"][1] == 1.0
    model = gn.load_model(tmp_path / "xor.glassnet")
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    p = model.predict(x)[:, 0]
    np.testing.assert_array_equal(p > 0.5, [False, True, True, False])
    assert np.all(np.abs(p - [0, 1, 1, 0]) < 0.2)


def test_explain_prints_the_models_own_numbers(tmp_path):
    cli("train", "--data", "xor", "--out", "xor.glassnet", "--quiet", "--seed", "1",
             cwd=tmp_path)
    out = cli("explain", "xor.glassnet", "--data", "xor", "--sample", "3", cwd=tmp_path)
    model = gn.load_model(tmp_path / "xor.glassnet")
    assert "Sample 3 of xor (target [0.])" in out
    # the first layer's weighted sum for input [1, 1], as printed, equals x·W + b
    W, b = model.layers[0].get_weights()
    z = np.array([1.0, 1.0]) @ W + b
    printed = re.search(r"z\s+weighted sum z = x·W \+ b\s+= \[\[([^\]]+)\]\]", out).group(1)
    np.testing.assert_allclose([float(v) for v in printed.split()], z, atol=1e-4)


def test_train_on_a_csv_of_names_predicts_the_names(tmp_path):
    rng = np.random.default_rng(0)
    names = np.array(["cat", "dog", "eel"])
    k = np.arange(90) % 3
    x = rng.normal(size=(90, 2)) * 0.2 + np.stack([k, k * k], axis=1)
    gn.datasets.save_csv(tmp_path / "d.csv", x.round(3), names[k], label="animal")
    gn.datasets.save_csv(tmp_path / "f.csv", x[:6].round(3))
    cli("train", "--data", "d.csv", "--label", "animal", "--epochs", "60", "--quiet",
             "--out", "m.glassnet", cwd=tmp_path)
    cli("predict", "m.glassnet", "f.csv", "--out", "p.csv", cwd=tmp_path)
    lines = (tmp_path / "p.csv").read_text().splitlines()
    assert lines[0] == "class,p_cat,p_dog,p_eel"
    assert [line.split(",")[0] for line in lines[1:]] == names[k[:6]].tolist()


# -- the demos, against the README's table ------------------------------------------------------

def demo(name, *args, cwd):
    return glassnet("demo", name, *args, cwd=cwd)


def test_demo_xor_predicts_every_target(tmp_path):
    out = demo("xor", cwd=tmp_path)
    assert re.findall(r"XOR with (\d) inputs: final loss [0-9.e-]+, accuracy (\d+)%", out) \
        == [("2", "100"), ("3", "100")]
    rows = re.findall(r"\[([01 ]+)\] -> ([0-9.]+)\s+\(target ([01])\)", out)
    assert len(rows) == 4 + 8
    for bits, p, target in rows:
        parity = sum(int(b) for b in bits.split()) % 2
        assert int(target) == parity and round(float(p)) == parity


def test_demo_predefined_weights_classify_every_image(tmp_path):
    out = demo("predefined", cwd=tmp_path)
    rows = re.findall(r"\]\s+([01])\s+([01])\s+([01])\s*$", out, flags=re.M)
    assert len(rows) == 16 and sum(r[2] == "1" for r in rows) >= 2
    assert all(folded == separate == desired for folded, separate, desired in rows)
    assert "error, bias folded in : 0\n" in out and "error, bias separate  : 0\n" in out


def test_demo_image2x2_recognises_all_sixteen(tmp_path):
    out = demo("image2x2", cwd=tmp_path)
    rows = re.findall(r"-> (\w+)\s+\(target (\w+)\)", out)
    assert len(rows) == 16 and all(got == want for got, want in rows)
    assert re.search(r"^recognised 16/16 new grayscale images$", out, flags=re.M)


def test_demo_linear_learns_a_and_b(tmp_path):
    out = demo("linear", cwd=tmp_path)
    a, b = (float(v) for v in re.search(r"a = ([-0-9.]+) .*b = ([-0-9.]+)", out).groups())
    assert a == pytest.approx(2, abs=1e-3) and b == pytest.approx(3, abs=1e-3)


def test_demo_cubic_reaches_the_documented_rmse(tmp_path):
    pytest.importorskip("matplotlib")
    out = demo("cubic", "--plot", "c.png", cwd=tmp_path)
    rmse = float(re.search(r"RMSE on \[-5, 5\]: ([0-9.]+)", out).group(1))
    assert rmse < 0.4                                   # README: "RMSE ≈ 0.3"
    from PIL import Image
    assert Image.open(tmp_path / "c.png").size[0] > 300


def test_demo_configurable_network_learns_parity(tmp_path):
    out = demo("network", cwd=tmp_path)
    m = re.search(r"after (\d+) epochs: loss ([0-9.]+), accuracy (\d+)%", out)
    assert int(m.group(3)) == 100 and float(m.group(2)) < 0.01
    widths = [3] + [int(w) for w in re.findall(r"\(None, (\d+)\) +\w+ +\d+$", out, flags=re.M)]
    counts = [int(c) for c in re.findall(r"\(None, \d+\) +\w+ +(\d+)$", out, flags=re.M)]
    assert re.search(r"^Input: \(None, 3\)$", out, flags=re.M) and widths[-1] == 1
    assert counts == [(a + 1) * b for a, b in zip(widths, widths[1:])]    # W and b per layer
    assert f"Total params: {sum(counts)}\n" in out


def test_demo_mnist_learns_a_separable_csv(tmp_path):
    rng = np.random.default_rng(0)
    labels = np.arange(300) % 10
    pixels = rng.integers(0, 60, size=(300, 784))
    for k in range(10):                                  # class k lights its own band
        pixels[labels == k, k * 78:(k + 1) * 78] += 180
    header = "label," + ",".join(f"{r}x{c}" for r in range(1, 29) for c in range(1, 29))
    np.savetxt(tmp_path / "train.csv", np.column_stack([labels, pixels]), fmt="%d",
               delimiter=",", header=header, comments="")
    out = demo("mnist", "--data", "train.csv", "--iterations", "100", "--every", "50",
               "--plot", "", cwd=tmp_path)
    accuracy = [float(v) for v in re.findall(r"iteration\s+\d+: accuracy ([0-9.]+)", out)]
    assert len(accuracy) == 3 and accuracy[0] < 0.3 and accuracy[-1] > 0.9
    assert float(re.search(r"held-out accuracy: ([0-9.]+)", out).group(1)) > 0.9


@pytest.mark.skipif(os.environ.get("GLASSNET_FAST") == "1", reason="the same demo, once is enough")
def test_demo_names_and_aliases_run_the_same_module(tmp_path):
    assert demo("image2x2_predefined", cwd=tmp_path) == demo("predefined", cwd=tmp_path)


def test_predict_writes_a_regressions_numbers_whatever_its_loss(tmp_path):
    model = gn.Sequential([gn.Dense(2)], seed=0)
    model.compile("sgd", "mae")
    model.build(3)
    model.save(tmp_path / "r.glassnet")
    x = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]])
    gn.datasets.save_csv(tmp_path / "f.csv", x)
    out = cli("predict", "r.glassnet", "f.csv", cwd=tmp_path)
    lines = out.splitlines()
    assert lines[0] == "y0,y1"
    np.testing.assert_allclose([[float(v) for v in line.split(",")] for line in lines[1:]],
                               model.predict(x), rtol=1e-5)


def _cli_error(*args, cwd):
    from glassnet import cli as command_line
    err = io.StringIO()
    previous = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            status = command_line.main(list(args))
    finally:
        os.chdir(previous)
    return status, err.getvalue()


@pytest.mark.parametrize("units,loss", [(1, "mse"), (2, "mse"), (1, "binary_crossentropy")])
def test_predict_writes_numbers_for_one_output_or_a_regression(tmp_path, units, loss):
    model = gn.Sequential([gn.Dense(units, "sigmoid" if "cross" in loss else None)], seed=0)
    model.compile("sgd", loss)
    model.build(3)
    model.save(tmp_path / "m.glassnet")
    x = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0], [0.0, 0.0, 0.0]])
    gn.datasets.save_csv(tmp_path / "f.csv", x)
    lines = cli("predict", "m.glassnet", "f.csv", cwd=tmp_path).splitlines()
    assert lines[0] == ",".join(f"y{i}" for i in range(units)) and len(lines) == 4
    np.testing.assert_allclose([[float(v) for v in line.split(",")] for line in lines[1:]],
                               model.predict(x), rtol=1e-5)
    out = cli("predict", "m.glassnet", "f.csv", "--out", "p.csv", cwd=tmp_path)
    assert out == "3 predictions written to p.csv\n"
    assert (tmp_path / "p.csv").read_text().splitlines() == lines


def test_predict_and_evaluate_errors_say_what_to_give(tmp_path):
    model = gn.Sequential([gn.Dense(2, "softmax")], seed=0)
    model.build(3)
    model.save(tmp_path / "raw.glassnet")                           # never compiled
    gn.datasets.save_csv(tmp_path / "f.csv", np.zeros((2, 5)))
    status, err = _cli_error("predict", "raw.glassnet", "f.csv", cwd=tmp_path)
    assert status == 1 and re.search(r"'f\.csv' has 5 (feature )?columns but the model "
                                     r"expects 3 features", err)
    two = gn.Sequential([gn.Dense(1, "sigmoid")], seed=0)
    two.build(2)
    two.save(tmp_path / "xor.glassnet")
    status, err = _cli_error("evaluate", "xor.glassnet", "--data", "xor", cwd=tmp_path)
    assert status == 1 and "'xor.glassnet' was saved without compile settings; cannot " \
        "evaluate" in err


def test_evaluate_a_binary_classifier_and_a_regression(tmp_path):
    cli("train", "--data", "xor", "--quiet", "--out", "xor.glassnet", cwd=tmp_path)
    out = cli("evaluate", "xor.glassnet", "--data", "xor", cwd=tmp_path)
    assert re.search(r"^loss: [0-9.]+ - accuracy: 1\.0000$", out, flags=re.M)
    matrix = confusion(out)
    np.testing.assert_array_equal(matrix, [[2, 0], [0, 2]])     # one sigmoid: two classes
    header = out.split("confusion matrix")[1].splitlines()[1].split()
    assert header == ["0", "1"]
    cli("train", "--data", "cubic", "--quiet", "--epochs", "5", "--out", "c.glassnet",
        cwd=tmp_path)
    out = cli("evaluate", "c.glassnet", "--data", "cubic", cwd=tmp_path)
    assert re.search(r"^loss: [0-9.]+ - mae: [0-9.]+$", out, flags=re.M)
    assert "confusion matrix" not in out                            # a regression


# -- in this process, so that mutation testing sees them (the rest of cli.py, round two) --------

class _TTY(io.StringIO):
    def isatty(self):
        return True


def _cli_out(*args, cwd, stdout=None):
    """``cli.main(args)`` with standard output sent to ``stdout``; (status, out, err)."""
    from glassnet import cli as command_line
    out, err = stdout if stdout is not None else io.StringIO(), io.StringIO()
    previous = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = command_line.main(list(args))
            except SystemExit as exc:            # argparse's usage errors
                status = exc.code
    finally:
        os.chdir(previous)
    return status, out.getvalue(), err.getvalue()


def _screen(text):
    """What a terminal shows: each status line overwritten ("\\r\\x1b[K") by the next."""
    return [line.split("\r\x1b[K")[-1] for line in text.split("\n")]


def test_train_prints_a_screenful_of_epoch_lines_with_the_models_own_losses(tmp_path):
    status, out, _ = _cli_out("train", "--data", "xor", "--epochs", "120", "--out", "x.glassnet",
                              cwd=tmp_path)
    assert status == 0
    history = gn.load_model(tmp_path / "x.glassnet").history.history
    lines = re.findall(r"^Epoch (\d+)/120 - loss: ([0-9.]+) - accuracy: ([0-9.]+)$", out,
                       flags=re.M)
    # epochs 1-5, every 10th to 100, every 100th after, and the last
    assert [int(n) for n, _, _ in lines] == [1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 60, 70, 80,
                                             90, 100, 120]
    for n, loss, accuracy in lines:
        assert float(loss) == pytest.approx(history["loss"][int(n) - 1], abs=6e-5)
        assert float(accuracy) == pytest.approx(history["accuracy"][int(n) - 1], abs=6e-5)
    assert "\r" not in out                         # not a terminal: no status line
    assert out.count("Epoch 1/") == 1              # one line per epoch shown, no other bar
    assert re.search(r"^split\s+loss\s+accuracy\s+rows$", out, flags=re.M)
    assert re.search(r"^time: \d+\.\d\d s for 120 epochs$", out, flags=re.M)
    # on a terminal every epoch is shown, on a status line that the next one overwrites
    status, out, _ = _cli_out("train", "--data", "xor", "--epochs", "25", "--out", "y.glassnet",
                              cwd=tmp_path, stdout=_TTY())
    assert status == 0
    assert sorted({int(n) for n in re.findall(r"Epoch (\d+)/25 - ", out)}) == list(range(1, 26))
    shown = [int(m.group(1)) for line in _screen(out)
             if (m := re.fullmatch(r"Epoch (\d+)/25 - loss: [0-9.]+ - accuracy: [0-9.]+", line))]
    assert shown == [1, 2, 3, 4, 5, 10, 20, 25]
    assert out.count("\r\x1b[K") == 18            # each status line is cleared once
    assert "None" not in out


def test_train_layers_and_validation_options_and_their_usage_errors(tmp_path):
    status, out, _ = _cli_out("train", "--data", "xor", "--epochs", "2", "--layers", "8,4",
                              "--quiet", "--out", "a.glassnet", cwd=tmp_path)
    assert status == 0 and "layers [8, 4]" in out
    units = [layer.units for layer in gn.load_model(tmp_path / "a.glassnet").layers
             if hasattr(layer, "units")]
    assert units == [8, 4, 1]
    status, out, _ = _cli_out("train", "--data", "xor", "--epochs", "1", "--layers", "1",
                              "--quiet", "--out", "one.glassnet", cwd=tmp_path)
    assert status == 0 and "layers [1]" in out                   # one unit is a layer too
    status, out, _ = _cli_out("train", "--data", "xor", "--epochs", "2", "--layers", " None ",
                              "--quiet", "--out", "b.glassnet", cwd=tmp_path)
    assert status == 0 and "layers []" in out
    assert [layer.units for layer in gn.load_model(tmp_path / "b.glassnet").layers
            if hasattr(layer, "units")] == [1]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 2))
    gn.datasets.save_csv(tmp_path / "d.csv", x.round(3), (x[:, 0] > 0).astype(int))
    status, out, _ = _cli_out("train", "--data", "d.csv", "--epochs", "1", "--quiet",
                              "--validation", "0.25", "--out", "c.glassnet", cwd=tmp_path)
    m = re.search(r": (\d+) samples \(and (\d+) held out for validation\)", out)
    assert status == 0 and m and int(m.group(1)) + int(m.group(2)) == 48  # 60 less the test
    assert int(m.group(2)) == 12                                         # 0.25 of 48
    status, out, _ = _cli_out("train", "--data", "d.csv", "--epochs", "1", "--quiet",
                              "--validation", "0", "--out", "c.glassnet", cwd=tmp_path)
    assert status == 0 and "held out" not in out and "validation" not in table_rows(out)
    for option, value, message in [
            ("--layers", "8,0", "layer sizes must be positive; received '8,0'"),
            ("--layers", "8;4", "expected comma-separated integers like 128,64 (or 'none' for "
                                "no hidden layer); received '8;4'"),
            ("--validation", "1", "must be in [0, 1); received '1'"),
            ("--validation", "-0.1", "must be in [0, 1); received '-0.1'"),
            ("--epochs", "0", "must be positive; received '0'"),
            ("--lr", "x", "expected a float; received 'x'"),
            ("--batch-size", "2.5", "expected a int; received '2.5'")]:
        status, _, err = _cli_out("train", "--data", "xor", option, value, cwd=tmp_path)
        assert status == 2 and f"argument {option}: {message}" in err, err
    assert not (tmp_path / "model.glassnet").exists()


@pytest.mark.parametrize("header", [True, False])
def test_predict_names_the_label_column_left_in_the_file(tmp_path, header):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(60, 2)).round(3)
    label = (x[:, 0] > 0).astype(int)
    gn.datasets.save_csv(tmp_path / "d.csv", x, label, label="kind")      # kind,x0,x1
    status, _, _ = _cli_out("train", "--data", "d.csv", "--label", "kind", "--epochs", "1",
                            "--quiet", "--out", "m.glassnet", cwd=tmp_path)
    assert status == 0
    rows = [f"{a},{b},{k}" for (a, b), k in zip(x[:5], label[:5])]
    (tmp_path / "f.csv").write_text("\n".join((["a,b,kind"] if header else []) + rows) + "\n")
    status, _, err = _cli_out("predict", "m.glassnet", "f.csv", cwd=tmp_path)
    name, drop = ("'kind'", "kind") if header else ("index 2", "2")
    assert status == 1 and err == (
        f"glassnet: error: 'f.csv' has 3 feature columns but the model expects 2 features: one "
        f"too many. Column 3 ({name}) holds only class labels of the model: is it the label "
        f"column? drop it with --label {drop}\n")
    # the label column dropped as it says: the model's predictions for the features
    status, out, _ = _cli_out("predict", "m.glassnet", "f.csv", "--label", drop, cwd=tmp_path)
    assert out.splitlines()[0] == "class,p_0,p_1"
    predicted = np.array([[float(v) for v in line.split(",")] for line in out.splitlines()[1:]])
    np.testing.assert_allclose(predicted[:, 1:],
                               gn.load_model(tmp_path / "m.glassnet").predict(x[:5]), rtol=1e-5)
    # two columns too many: said plainly, no guess
    (tmp_path / "h.csv").write_text("\n".join(f"{a},{b},{k},{k}"
                                              for (a, b), k in zip(x[:5], label[:5])) + "\n")
    status, _, err = _cli_out("predict", "m.glassnet", "h.csv", cwd=tmp_path)
    assert status == 1 and err == ("glassnet: error: 'h.csv' has 4 feature columns but the "
                                   "model expects 2 features\n")
    # two columns that could both be the label: no guess, the general advice
    (tmp_path / "g.csv").write_text("\n".join(f"{k},{1 - k},{a}"
                                              for (a, _), k in zip(x[:5], label[:5])) + "\n")
    status, _, err = _cli_out("predict", "m.glassnet", "g.csv", cwd=tmp_path)
    assert status == 1 and err.endswith("one too many; if the file still has its label "
                                        "column, drop it with --label NAME_OR_INDEX\n")


def test_export_summary_and_an_unknown_demo(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    _cli_out("train", "--data", "xor", "--quiet", "--epochs", "3", "--out", "x.glassnet",
             cwd=tmp_path)
    status, out, _ = _cli_out("export", "x.glassnet", "x.onnx", cwd=tmp_path)
    from glassnet.export import OPSET
    assert status == 0 and out == (f"x.glassnet exported to x.onnx (ONNX opset {OPSET}, input "
                                   f"'input', output 'output')\n")
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    session = ort.InferenceSession(str(tmp_path / "x.onnx"))
    np.testing.assert_allclose(session.run(["output"], {"input": x})[0],
                               gn.load_model(tmp_path / "x.glassnet").predict(x), rtol=1e-5)
    status, out, _ = _cli_out("summary", "x.glassnet", cwd=tmp_path)
    assert status == 0 and out.endswith(
        f"Loss: binary_crossentropy; optimizer: "
        f"{gn.load_model(tmp_path / 'x.glassnet').optimizer!r}; steps trained: 3\n")
    status, _, err = _cli_out("demo", "no-such-demo", cwd=tmp_path)
    assert status == 2 and "glassnet: error: unknown demo 'no-such-demo'; the demos are " \
        "configurable_network, cubic," in err and "xor, xor_regions, grid_search, " \
        "image2x2, network, predefined" in err


def test_a_network_too_big_for_the_memory_limit_is_refused_before_training(tmp_path):
    resource = pytest.importorskip("resource")
    from glassnet import cli as command_line
    weights, needed = command_line.network_memory(64, [128, 64], 10)
    assert weights == 64 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10
    assert needed == weights * 4 * (4 + 2) + 8 * 64 * 128          # Adam: two state slots
    assert command_line.network_memory(64, [128], 10, "sgd")[1] == \
        (64 * 128 + 128 + 128 * 10 + 10) * 4 * 4 + 8 * 64 * 128
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    with open("/proc/self/statm") as statm:
        mapped = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    resource.setrlimit(resource.RLIMIT_AS, (mapped + 2 ** 30, hard))      # ulimit -v
    try:
        status, _, err = _cli_out("train", "--layers", "30000,30000", "--out", "big.glassnet",
                                  cwd=tmp_path)
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    weights, needed = command_line.network_memory(64, [30000, 30000], 10)
    assert status == 1 and re.fullmatch(
        rf"glassnet: error: the network 64 -> 30000 -> 30000 -> 10 has {weights:,} weights: "
        rf"training it needs about {needed / 2 ** 30:,.1f} GiB \(weights, gradients, the "
        rf"optimizer's state and two copies\), more than the [\d,]+\.\d (MiB|GiB) of memory "
        rf"available; choose fewer or smaller --layers\n", err), err
    assert not (tmp_path / "big.glassnet").exists()
    with open("/proc/self/statm") as statm:
        mapped = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    resource.setrlimit(resource.RLIMIT_AS, (mapped + 100 * 2 ** 20, hard))
    try:
        status, _, err = _cli_out("train", "--layers", "4000,4000", "--out", "big.glassnet",
                                  cwd=tmp_path)
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    weights, needed = command_line.network_memory(64, [4000, 4000], 10)
    assert status == 1 and f"has {weights:,} weights: training it needs about " \
        f"{needed / 2 ** 20:,.1f} MiB (weights" in err
    available = float(re.search(r"more than the ([\d.]+) MiB of memory", err).group(1))
    assert 50 < available <= 100


def test_evaluate_scores_the_rows_train_held_out_with_the_models_seed(tmp_path):
    status, out, _ = _cli_out("train", "--data", "circles", "--epochs", "3", "--seed", "3",
                              "--quiet", "--out", "c.glassnet", cwd=tmp_path)
    assert status == 0
    held_out = table_rows(out)["test"]
    # no --seed: the model's own seed draws the same test split that train held out
    status, out, _ = _cli_out("evaluate", "c.glassnet", "--data", "circles", cwd=tmp_path)
    assert status == 0 and out.startswith(
        "Scored: the 100 rows of circles held out as the test split (seed 3): the model never "
        "trained on them if 'glassnet train' trained it on this data with this seed\n")
    loss, accuracy = map(float, re.search(r"loss: ([0-9.]+) - accuracy: ([0-9.]+)", out).groups())
    assert (loss, accuracy) == pytest.approx(held_out, abs=1e-4)
    assert confusion(out).sum() == 100
    # --split all: every row of the data set
    model = gn.load_model(tmp_path / "c.glassnet")
    data = gn.datasets.catalog.load("circles", seed=3)
    x = np.concatenate([data.x_train, data.x_test])
    y = np.concatenate([data.y_train, data.y_test])
    status, out, _ = _cli_out("evaluate", "c.glassnet", "--data", "circles", "--split", "all",
                              cwd=tmp_path)
    assert status == 0 and out.startswith(
        f"Scored: all {len(x)} rows of circles (training rows included)\n")
    expected = model.evaluate(x, y, return_dict=True)
    assert re.search(rf"loss: {expected['loss']:.4f} - accuracy: {expected['accuracy']:.4f}",
                     out)
    assert confusion(out).sum() == len(x)


def test_evaluate_a_csv_file_maps_its_names_to_the_models_classes(tmp_path):
    rng = np.random.default_rng(0)
    names = np.array(["cat", "dog", "eel"])
    k = np.arange(90) % 3
    x = (rng.normal(size=(90, 2)) * 0.2 + np.stack([k, k * k], axis=1)).round(3)
    gn.datasets.save_csv(tmp_path / "d.csv", x, names[k], label="animal")
    status, out, _ = _cli_out("train", "--data", "d.csv", "--label", "animal", "--epochs", "40",
                              "--quiet", "--seed", "2", "--out", "m.glassnet", cwd=tmp_path)
    assert status == 0
    held_out = table_rows(out)["test"]
    model = gn.load_model(tmp_path / "m.glassnet")
    # a file with only dogs and eels, eels first: "dog" is still the model's class 1
    rows = np.r_[np.flatnonzero(k == 2)[:10], np.flatnonzero(k == 1)[:10]]
    gn.datasets.save_csv(tmp_path / "de.csv", x[rows], names[k[rows]], label="animal")
    status, out, _ = _cli_out("evaluate", "m.glassnet", "--data", "de.csv", "--label", "animal",
                              cwd=tmp_path)
    assert status == 0 and out.startswith(
        "Scored: all 20 rows of de.csv (rows the model was trained on included; --split test "
        "scores only the rows 'glassnet train --seed 2' held out)\n")
    expected = model.evaluate(x[rows], k[rows], return_dict=True)
    assert re.search(rf"loss: {expected['loss']:.4f} - accuracy: {expected['accuracy']:.4f}",
                     out)
    table = out.split("confusion matrix")[1].splitlines()
    assert table[1].split() == ["cat", "dog", "eel"]           # the model's three classes
    predicted = model.predict(x[rows]).argmax(axis=1)
    np.testing.assert_array_equal(confusion(out), [
        [np.sum((k[rows] == t) & (predicted == p)) for p in range(3)] for t in range(3)])
    # cats and dogs only: the eel row and column are still there, empty
    rows = np.flatnonzero(k < 2)[:20]
    assert not np.any(model.predict(x[rows]).argmax(axis=1) == 2)
    gn.datasets.save_csv(tmp_path / "cd.csv", x[rows], names[k[rows]], label="animal")
    status, out, _ = _cli_out("evaluate", "m.glassnet", "--data", "cd.csv", "--label", "animal",
                              cwd=tmp_path)
    matrix = confusion(out)
    assert status == 0 and matrix.shape == (3, 3) and matrix.sum() == 20
    assert not matrix[2].any() and not matrix[:, 2].any()
    # --split test on the training file: the rows train held out, its figures
    status, out, _ = _cli_out("evaluate", "m.glassnet", "--data", "d.csv", "--label", "animal",
                              "--split", "test", cwd=tmp_path)
    assert status == 0 and "held out as the test split (seed 2)" in out
    loss, accuracy = map(float, re.search(r"loss: ([0-9.]+) - accuracy: ([0-9.]+)", out).groups())
    assert (loss, accuracy) == pytest.approx(held_out, abs=1e-4)
    # a file of another width names the label column it took
    gn.datasets.save_csv(tmp_path / "w.csv", np.c_[x, x[:, :1]], names[k], label="animal")
    status, _, err = _cli_out("evaluate", "m.glassnet", "--data", "w.csv", "--label", "animal",
                              cwd=tmp_path)
    assert status == 1 and err == ("glassnet: error: the model expects 2 features but 'w.csv' "
                                   "has 3 (label column: 'animal')\n")
    status, _, err = _cli_out("evaluate", "m.glassnet", "--data", "w.csv", "--label", "0",
                              cwd=tmp_path)
    assert status == 1 and err.endswith("has 3 (label column: column 1 ('animal'))\n")
    status, _, err = _cli_out("evaluate", "m.glassnet", "--data", "w.csv", "--label", "-4",
                              cwd=tmp_path)
    assert status == 1 and err.endswith("has 3 (label column: column 1 ('animal'))\n")
    # predict: a file that still has the names says which --label drops them
    status, _, err = _cli_out("predict", "m.glassnet", "de.csv", cwd=tmp_path)
    assert status == 1 and "is column 1 the label column? predict reads features only; drop " \
        "it with --label animal" in err
    (tmp_path / "nh.csv").write_text("a,b,kind\n" + "".join(
        f"{a},{b},{names[c]}\n" for (a, b), c in zip(x[:4], k[:4])))
    status, _, err = _cli_out("predict", "m.glassnet", "nh.csv", cwd=tmp_path)
    assert status == 1 and "is column 3 the label column? predict reads features only; drop " \
        "it with --label kind" in err
    for drop in ("kind", "2", "-1"):
        status, out, _ = _cli_out("predict", "m.glassnet", "nh.csv", "--label", drop,
                                  cwd=tmp_path)
        assert status == 0 and [line.split(",")[0] for line in out.splitlines()[1:]] == \
            names[model.predict(x[:4]).argmax(axis=1)].tolist()


def test_predict_without_class_names_writes_class_indices(tmp_path):
    model = gn.Sequential([gn.Dense(3, "softmax")], seed=0)
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.build(2)
    model.save(tmp_path / "m.glassnet")
    x = np.array([[1.0, 2.0], [-1.0, 0.5], [3.0, -2.0]])
    gn.datasets.save_csv(tmp_path / "f.csv", x)
    lines = cli("predict", "m.glassnet", "f.csv", cwd=tmp_path).splitlines()
    assert lines[0] == "class,p_0,p_1,p_2"
    p = model.predict(x)
    assert [line.split(",")[0] for line in lines[1:]] == [str(c) for c in p.argmax(axis=1)]


def test_explain_traces_the_worst_sample_and_its_loss_and_checks_the_index(tmp_path):
    cli("train", "--data", "xor", "--epochs", "3", "--quiet", "--out", "x.glassnet",
        cwd=tmp_path)
    model = gn.load_model(tmp_path / "x.glassnet")
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([0, 1, 1, 0])
    p = model.predict(x)[:, 0]
    losses = -(y * np.log(p) + (1 - y) * np.log(1 - p))         # each sample's loss
    out = cli("explain", "x.glassnet", "--data", "xor", cwd=tmp_path)
    worst = int(np.argmax(losses))
    assert out.startswith(f"Sample {worst} of xor (target [{y[worst]}.]):\n")
    assert f"Loss (binary_crossentropy): L = {losses[worst]:.5g}" in out
    out = cli("explain", "x.glassnet", "--data", "xor", "--sample", "0", cwd=tmp_path)
    assert out.startswith("Sample 0 of xor (target [0.]):\n")
    for bad in ("4", "-1"):
        status, _, err = _cli_out("explain", "x.glassnet", "--data", "xor", "--sample", bad,
                                  cwd=tmp_path)
        assert status == 1 and err == f"glassnet: error: --sample must be in 0..3; received " \
                                      f"{bad}\n"
    status, out, _ = _cli_out("report", "x.glassnet", "--data", "xor", "--out", "r.html",
                              cwd=tmp_path)
    assert status == 0 and out == "report written to r.html\n"
    assert (tmp_path / "r.html").read_text().lstrip().lower().startswith("<!doctype html")


@pytest.mark.parametrize("features,labels,picture", [
    (3, "numbers", "predicted vs target"),       # a regression of several inputs
    (1, "classes", "confusion matrix")])         # a classifier of one input
def test_evaluate_plot_picks_the_picture_for_the_task_and_the_width(tmp_path, features, labels,
                                                                     picture):
    PIL = pytest.importorskip("PIL.Image")
    pytest.importorskip("matplotlib")
    rng = np.random.default_rng(5)
    x = rng.normal(size=(80, features)).round(3)
    y = (x.sum(axis=1) * 1.5 + 0.25).round(3) if labels == "numbers" else \
        np.array(["low", "high"])[(x[:, 0] > 0).astype(int)]
    gn.datasets.save_csv(tmp_path / "d.csv", x, y, label="t")
    assert _cli_out("train", "--data", "d.csv", "--label", "t", "--epochs", "2", "--quiet",
                    "--out", "m.glassnet", cwd=tmp_path)[0] == 0
    status, out, _ = _cli_out("evaluate", "m.glassnet", "--data", "d.csv", "--label", "t",
                              "--plot", "p.png", cwd=tmp_path)
    assert status == 0 and out.endswith(f"{picture} saved to p.png\n")
    assert PIL.open(tmp_path / "p.png").size[0] > 200                # a real picture


def _noise_csv(path, n, seed=0, classes=2):
    """Features and labels with nothing to learn: the validation loss soon stops improving."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).round(3)
    gn.datasets.save_csv(path, x, np.arange(n) % classes, label="y")
    return x


def test_train_without_epochs_stops_early_and_keeps_the_best_epochs_weights(tmp_path):
    _noise_csv(tmp_path / "n.csv", 200)
    status, out, _ = _cli_out("train", "--data", "n.csv", "--label", "y", "--patience", "3",
                              "--lr", "0.05", "--out", "m.glassnet", cwd=tmp_path)
    assert status == 0
    assert "Epochs: until the validation loss has not improved for 3 epochs (at most 1000; the " \
           "best epoch's weights are kept; --epochs N trains exactly N)\n" in out
    m = re.search(r"^stopped early after (\d+) epochs: the val_loss was best at epoch (\d+) "
                  r"\(([0-9.]+)\); its weights are kept$", out, flags=re.M)
    assert m, out
    ran, best, value = int(m.group(1)), int(m.group(2)), float(m.group(3))
    model = gn.load_model(tmp_path / "m.glassnet")
    history = model.history.history
    assert ran == len(history["val_loss"]) == best + 3                     # patience 3
    assert value == pytest.approx(min(history["val_loss"]), abs=6e-5)
    assert best == int(np.argmin(history["val_loss"])) + 1
    # the saved weights are the best epoch's: its validation rows score its val_loss again
    validation = table_rows(out)["validation"]
    assert validation[0] == pytest.approx(value, abs=2e-4)
    assert re.search(rf"^time: \d+\.\d\d s for {ran} epochs$", out, flags=re.M)
    # without validation rows (under 50), the training loss is watched
    _noise_csv(tmp_path / "s.csv", 40)
    status, out, _ = _cli_out("train", "--data", "s.csv", "--label", "y", "--patience", "2",
                              "--quiet", "--out", "s.glassnet", cwd=tmp_path)
    assert status == 0 and "Epochs: until the training loss has not improved for 2 epochs" in out
    assert re.search(r"^(stopped early|reached the cap) after \d+ epochs: the loss was best",
                     out, flags=re.M)
    assert "held out" not in out and "Epoch 1/" not in out             # --quiet: no lines


@pytest.mark.parametrize("rows", [61, 62])
def test_train_holds_out_a_stratified_tenth_from_fifty_rows_on(tmp_path, rows):
    # 61 rows: 49 training rows after the test split, no validation; 62 rows: 50, a tenth
    _noise_csv(tmp_path / "d.csv", rows, seed=1)
    status, out, _ = _cli_out("train", "--data", "d.csv", "--label", "y", "--epochs", "1",
                              "--batch-size", "7", "--seed", "4", "--quiet",
                              "--out", "m.glassnet", cwd=tmp_path)
    data = gn.datasets.catalog.load(str(tmp_path / "d.csv"), seed=4, label="y")
    model = gn.load_model(tmp_path / "m.glassnet")
    assert status == 0 and len(data.x_train) == rows - 12
    if len(data.x_train) < 50:
        assert "held out" not in out and "val_loss" not in model.history.history
        assert model.optimizer.iterations == -(-len(data.x_train) // 7)   # --batch-size 7
        return
    # the held-out rows are a seeded, stratified sample (every class its share)
    train, val = gn.datasets.validation_split([data.x_train, data.y_train], 0.1,
                                              rng=np.random.default_rng(4),
                                              stratify=data.y_train)
    assert f": {len(train[0])} samples (and {len(val[0])} held out for validation)" in out
    assert sorted(np.bincount(val[1]).tolist()) == [2, 2]
    assert model.history.history["val_loss"][0] == pytest.approx(
        model.evaluate(*val, return_dict=True)["loss"], rel=1e-5)
    assert model.optimizer.iterations == -(-len(train[0]) // 7)        # --batch-size 7


def test_train_classes_too_small_to_stratify_hold_out_a_plain_sample(tmp_path):
    _noise_csv(tmp_path / "d.csv", 75, classes=25)
    status, out, _ = _cli_out("train", "--data", "d.csv", "--label", "y", "--epochs", "1",
                              "--quiet", "--seed", "2", "--out", "m.glassnet", cwd=tmp_path)
    assert status == 0 and "Validation: the classes have too few rows each for a stratified " \
        "0.1 of every class; a plain random sample is held out\n" in out
    data = gn.datasets.catalog.load(str(tmp_path / "d.csv"), seed=2, label="y")
    train, val = gn.datasets.validation_split([data.x_train, data.y_train], 0.1,
                                              rng=np.random.default_rng(2))
    assert f"(and {len(val[0])} held out for validation)" in out
    model = gn.load_model(tmp_path / "m.glassnet")
    assert model.history.history["val_loss"][0] == pytest.approx(
        model.evaluate(*val, return_dict=True)["loss"], rel=1e-5)


class PressCtrlC(io.StringIO):
    """Standard output of a user who presses Ctrl-C as epoch 3's line appears."""

    def write(self, text):
        if text.startswith("Epoch 3/"):
            signal.raise_signal(signal.SIGINT)
        return super().write(text)


def test_ctrl_c_during_training_saves_the_model_and_exits_130(tmp_path):
    with pytest.warns(RuntimeWarning, match="interrupted by Ctrl-C after 3 complete epoch"):
        status, out, _ = _cli_out("train", "--data", "xor", "--epochs", "500",
                                  "--out", "x.glassnet", cwd=tmp_path, stdout=PressCtrlC())
    assert status == 130
    assert re.search(r"^time: \d+\.\d\d s for 3 epochs \(interrupted\)$", out, flags=re.M)
    assert "model saved to x.glassnet" in out
    assert gn.load_model(tmp_path / "x.glassnet").history.epoch == [0, 1, 2]


def test_debug_before_or_after_the_command_shows_the_traceback(tmp_path):
    from glassnet import cli as command_line
    status, _, err = _cli_out("train", "--data", "no-such.csv", cwd=tmp_path)
    assert status == 2 and err.startswith("usage: glassnet [-h] [--debug] COMMAND") and \
        "glassnet: error: --data must be one of digits" in err
    for argv in (["--debug", "train", "--data", "no-such.csv"],
                 ["train", "--data", "no-such.csv", "--debug"]):
        with pytest.raises(gn.datasets.catalog.UnknownDataset):
            with contextlib.redirect_stdout(io.StringIO()):
                command_line.main(argv)
    status, _, err = _cli_out("evaluate", "no-such.glassnet", "--data", "xor", cwd=tmp_path)
    assert status == 1 and err.startswith("glassnet: error: ") and "no-such.glassnet" in err
    status, out, _ = _cli_out("--help", cwd=tmp_path)
    assert status == 0 and out.startswith("usage: glassnet [-h] [--debug] COMMAND ...")
    assert "Run 'glassnet COMMAND --help' for a command's options." in out
    assert re.search(r"^\s+train\s+train a network \(default: the embedded digits\)$", out,
                     flags=re.M)


def test_report_and_explain_trace_the_sample_asked_for_or_the_worst(tmp_path):
    from glassnet.report import html_report, worst_sample
    cli("train", "--data", "xor", "--epochs", "3", "--quiet", "--out", "x.glassnet",
        cwd=tmp_path)
    model = gn.load_model(tmp_path / "x.glassnet")
    data = gn.datasets.catalog.load("xor", seed=0)
    other = (worst_sample(model, data.x_test, data.y_test) + 1) % len(data.x_test)
    for extra, sample in ((["--sample", str(other)], other), ([], None)):
        cli("report", "x.glassnet", "--data", "xor", "--out", "r.html", *extra, cwd=tmp_path)
        assert (tmp_path / "r.html").read_text(encoding="utf-8") == html_report(
            model, data.x_test, data.y_test, sample)
    # a model saved without compile settings: no loss, so sample 0 and no loss line
    raw = gn.Sequential([gn.Dense(1, "sigmoid")], seed=0)
    raw.build(2)
    raw.save(tmp_path / "raw.glassnet")
    out = cli("explain", "raw.glassnet", "--data", "xor", cwd=tmp_path)
    assert out.startswith("Sample 0 of xor") and "Loss (" not in out


def test_demo_runs_in_this_process_by_either_name(tmp_path):
    a = cli("demo", "predefined", cwd=tmp_path)
    assert a == cli("demo", "image2x2_predefined", cwd=tmp_path)
    rows = [line.split() for line in a.splitlines()[1:17]]
    assert len(rows) == 16 and all(r[-3:][1] == r[-3:][2] for r in rows)   # separate = desired


def test_an_identifier_column_is_not_taken_for_classes_and_lr_is_the_optimizers(tmp_path):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(40, 2)).round(3)
    gn.datasets.save_csv(tmp_path / "id.csv", x, np.array([f"r{i}" for i in range(40)]),
                         label="id")
    status, _, err = _cli_out("train", "--data", "id.csv", "--label", "id", "--epochs", "1",
                              cwd=tmp_path)
    assert status == 1 and re.search(
        r"the label column of 'id\.csv', 'id', holds 40 different values in 40 "
        r"rows, so most classes have a single example: it is not a column of classes \(an "
        r"identifier\? a measurement\?\)\. Give the label column with --label NAME or --label "
        r"INDEX; the columns are \['id', 'x0', 'x1'\]", err), err
    # half as many classes as rows is still a column of classes (the limit is "more than")
    gn.datasets.save_csv(tmp_path / "half.csv", x, np.array([f"c{i % 20}" for i in range(40)]),
                         label="c")
    status, out, err = _cli_out("train", "--data", "half.csv", "--label", "c", "--epochs", "1",
                                "--validation", "0", "--quiet", "--lr", "0.25",
                                "--optimizer", "sgd", "--out", "h.glassnet", cwd=tmp_path)
    assert status == 0, err
    model = gn.load_model(tmp_path / "h.glassnet")
    assert model.optimizer.current_learning_rate() == pytest.approx(0.25)      # --lr
    assert type(model.optimizer).__name__ == "SGD"
    # four rows, three classes: refused (at least two classes are always allowed)
    (tmp_path / "tiny.csv").write_text("a,b,k\n0,1,x\n1,0,y\n1,1,z\n0,0,x\n")
    status, _, err = _cli_out("train", "--data", "tiny.csv", "--label", "k", "--epochs", "1",
                              cwd=tmp_path)
    assert status == 1 and "it is not a column of classes" in err


def test_train_names_a_device_and_a_names_column_read_as_a_feature(tmp_path):
    status, _, err = _cli_out("train", "--data", "/dev/null", cwd=tmp_path)
    assert status == 1 and "/dev/null" in err and "character device" in err
    (tmp_path / "n.csv").write_text("animal,a,b\ncat,1,2\ndog,2,1\ncat,1,3\n")
    status, _, err = _cli_out("train", "--data", "n.csv", "--epochs", "1", cwd=tmp_path)
    assert status == 1 and err.rstrip().endswith(
        "glassnet read column 1 as a feature because the label is column 3 ('b'): if column 1 "
        "is the label, give --label animal"), err


def test_train_scales_a_csv_inside_the_model_and_says_why_it_stopped(tmp_path):
    rng = np.random.default_rng(11)
    x = (rng.normal(size=(80, 3)) * 50 + 100).round(2)             # far from standard
    gn.datasets.save_csv(tmp_path / "n.csv", x, np.arange(80) % 2, label="y")
    status, out, _ = _cli_out("train", "--data", "n.csv", "--label", "y", "--epochs", "1",
                              "--validation", "0", "--quiet", "--plot", "curves.png",
                              "--out", "m.glassnet", cwd=tmp_path)
    assert status == 0 and out.endswith("training curves saved to curves.png\n")
    model = gn.load_model(tmp_path / "m.glassnet")
    data = gn.datasets.catalog.load(str(tmp_path / "n.csv"), seed=0, label="y")
    norm = model.layers[0]                                           # the model's own scaling
    assert type(norm).__name__ == "Normalization"
    np.testing.assert_allclose(np.ravel(norm.mean), data.x_train.mean(axis=0), rtol=1e-4)
    np.testing.assert_allclose(np.ravel(norm.variance), data.x_train.var(axis=0), rtol=1e-3)
    # xor improves for all 1000 epochs: the cap, not an early stop
    status, out, _ = _cli_out("train", "--data", "xor", "--quiet", "--out", "x.glassnet",
                              cwd=tmp_path)
    assert status == 0 and re.search(r"^reached the cap after 1000 epochs: the loss was best at "
                                     r"epoch \d+", out, flags=re.M)

    with pytest.warns(RuntimeWarning, match="interrupted by Ctrl-C after 3 complete epoch"):
        status, out, _ = _cli_out("train", "--data", "xor", "--out", "y.glassnet",
                                  cwd=tmp_path, stdout=PressCtrlC())
    assert status == 130 and re.search(r"^interrupted after 3 epochs: the loss was best at "
                                       r"epoch \d+", out, flags=re.M)


def test_the_label_hint_for_a_file_without_a_header_works_when_followed(tmp_path):
    """No header, names in the third column (index 2): the hint gives the index to pass, and
    passing it trains on the names."""
    rng = np.random.default_rng(4)
    kinds = np.array(["cat", "dog"])[np.arange(60) % 2]
    weight = np.where(kinds == "cat", 4.0, 20.0) + rng.normal(size=60)
    rows = [f"{w:.2f},{w * 2.5:.1f},{k},{i % 15 + 1}" for i, (w, k) in enumerate(zip(weight,
                                                                                    kinds))]
    (tmp_path / "pets.csv").write_text("\n".join(rows) + "\n")
    status, _, err = _cli_out("train", "--data", "pets.csv", "--epochs", "1", cwd=tmp_path)
    assert status == 1 and err.rstrip().endswith(
        "glassnet read column 3 as a feature because the label is column index -1: if column "
        "3 is the label, give --label 2"), err
    status, out, err = _cli_out("train", "--data", "pets.csv", "--label", "2", "--epochs", "30",
                                "--quiet", cwd=tmp_path)
    assert status == 0, err
    model = gn.load_model(tmp_path / "model.glassnet")
    assert list(model.class_names) == ["cat", "dog"]


# -- round three of cli.py's survivors (issue #25) ---------------------------------------------

def _two_class_model(tmp_path):
    """A model of two features trained on classes 0 and 1 (class names '0', '1')."""
    rng = np.random.default_rng(6)
    y = np.arange(60) % 2
    x = rng.normal(size=(60, 2)) + 2.0 * y[:, None]
    gn.datasets.save_csv(tmp_path / "train.csv", x, y, label="label")
    status, _, err = _cli_out("train", "--data", "train.csv", "--label", "label", "--epochs",
                              "2", "--quiet", "--out", "m.glassnet", cwd=tmp_path)
    assert status == 0, err
    return x, y


def test_predict_names_the_one_column_of_class_labels_among_whole_number_features(tmp_path):
    """The extra column is the one whose every value is a class index: not a count (0-2),
    not ages, not a column that starts at 1."""
    x, y = _two_class_model(tmp_path)
    count = np.arange(60) % 3                       # 0, 1, 2: one value past the classes
    ages = 20 + np.arange(60) % 40
    cases = [
        (np.c_[count, y, x[:, :1]], "Column 2 ('b') holds only class labels"),
        (np.c_[ages, y, x[:, :1]], "Column 2 ('b') holds only class labels"),
        (np.c_[y, count + 1, x[:, :1]], "Column 1 ('a') holds only class labels"),
    ]
    for table, said in cases:
        (tmp_path / "f.csv").write_text("a,b,c\n" + "\n".join(
            ",".join(f"{v:g}" for v in row) for row in table) + "\n")
        status, _, err = _cli_out("predict", "m.glassnet", "f.csv", cwd=tmp_path)
        assert status == 1 and err.startswith(
            "glassnet: error: 'f.csv' has 3 feature columns but the model expects 2 features: "
            "one too many. ") and said in err, err
        assert err.rstrip().endswith("is it the label column? drop it with --label "
                                     + said.split("'")[1])
    # no column of labels: say what to do without naming one
    (tmp_path / "g.csv").write_text("a,b,c\n" + "\n".join(
        f"{r[0]:.3f},{r[1]:.3f},{r[0] * 0.5:.3f}" for r in x) + "\n")
    status, _, err = _cli_out("predict", "m.glassnet", "g.csv", cwd=tmp_path)
    assert status == 1 and err.rstrip() == (
        "glassnet: error: 'g.csv' has 3 feature columns but the model expects 2 features: one "
        "too many; if the file still has its label column, drop it with --label NAME_OR_INDEX")


def test_predict_hint_for_a_names_column_in_a_file_without_a_header(tmp_path):
    x, y = _two_class_model(tmp_path)
    rows = [f"{a:.3f},{['cat', 'dog'][k]},{b:.3f}" for (a, b), k in zip(x, y)]
    (tmp_path / "f.csv").write_text("\n".join(rows) + "\n")
    status, _, err = _cli_out("predict", "m.glassnet", "f.csv", cwd=tmp_path)
    assert status == 1 and err.rstrip().endswith(
        "is column 2 the label column? predict reads features only; drop it with --label 1"), err
    status, out, err = _cli_out("predict", "m.glassnet", "f.csv", "--label", "1", cwd=tmp_path)
    assert status == 0 and len(out.splitlines()) == 61, err


def test_a_model_without_a_seed_is_evaluated_on_the_test_split_of_seed_0(tmp_path):
    """A model saved from Python without a seed: ``evaluate --split test`` draws the split
    with seed 0, the same rows every time."""
    rng = np.random.default_rng(2)
    y = np.arange(100) % 2
    x = rng.normal(size=(100, 2)) + 2.0 * y[:, None]
    gn.datasets.save_csv(tmp_path / "d.csv", x, y, label="label")
    model = gn.Sequential([gn.Dense(2, "softmax")], seed=None)
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.build(2)
    model.save(tmp_path / "m.glassnet")
    outs = [_cli_out("evaluate", "m.glassnet", "--data", "d.csv", "--label", "label",
                     "--split", "test", cwd=tmp_path) for _ in range(2)]
    assert outs[0][0] == 0 and outs[0][1] == outs[1][1], outs[0][2]
    from glassnet.datasets import catalog
    part = catalog.load(str(tmp_path / "d.csv"), seed=0, label="label")
    loss = model.evaluate(part.x_test, part.y_test, verbose=0)[0]
    assert f"loss: {loss:.4f} - " in outs[0][1] and "test split (seed 0)" in outs[0][1], outs[0][1]


def test_demo_runs_as_a_script_and_says_which_extra_it_needs(tmp_path, monkeypatch):
    status, out, err = _cli_out("demo", "predefined", cwd=tmp_path)      # an alias
    assert status == 0 and "error, bias separate  : 0" in out, err
    status, dashed, _ = _cli_out("demo", "image2x2-predefined", cwd=tmp_path)
    assert status == 0 and dashed == out
    from glassnet import cli as command_line

    def missing(name):
        def run(*args, **kwargs):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return run

    monkeypatch.setattr(command_line.runpy, "run_module", missing("matplotlib.pyplot"))
    status, _, err = _cli_out("demo", "cubic", cwd=tmp_path)
    assert status == 1 and err == ("glassnet: error: the demo 'cubic' needs matplotlib: pip "
                                   "install \"glassnet[plot]\"\n")
    monkeypatch.setattr(command_line.runpy, "run_module", missing("glassnet.nowhere"))
    status, _, err = _cli_out("demo", "cubic", cwd=tmp_path)   # ours, not a missing extra
    assert status == 1 and err == "glassnet: error: No module named 'glassnet.nowhere'\n"


def test_predict_knows_a_column_of_class_indices_for_a_model_of_named_classes(tmp_path):
    """Classes named cat and dog: a column of their indices (0, 1) is their label column too."""
    rng = np.random.default_rng(7)
    k = np.arange(60) % 2
    x = rng.normal(size=(60, 2)) + 2.0 * k[:, None]
    (tmp_path / "pets.csv").write_text("a,c,kind\n" + "\n".join(
        f"{a:.3f},{b:.3f},{['cat', 'dog'][i]}" for (a, b), i in zip(x, k)) + "\n")
    status, _, err = _cli_out("train", "--data", "pets.csv", "--label", "kind", "--epochs", "2",
                              "--quiet", "--out", "p.glassnet", cwd=tmp_path)
    assert status == 0, err
    (tmp_path / "f.csv").write_text("a,b,c\n" + "\n".join(
        f"{a:.3f},{i},{b:.3f}" for (a, b), i in zip(x, k)) + "\n")
    status, _, err = _cli_out("predict", "p.glassnet", "f.csv", cwd=tmp_path)
    assert status == 1 and "Column 2 ('b') holds only class labels of the model" in err, err


def test_train_and_evaluate_say_how_they_read_a_file_and_what_they_did(tmp_path):
    """The Columns line (header or not; only for files), the Preprocessing line, and a
    regression file trained as one (its all-different targets are not refused as ids)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(80, 3))
    gn.datasets.save_csv(tmp_path / "reg.csv", x, x @ [1.0, 2.0, -1.0] + 0.5, label="target")
    np.savetxt(tmp_path / "nohead.csv", np.c_[x, np.arange(80) % 2], delimiter=",",
               fmt="%.4f")
    status, out, err = _cli_out("train", "--data", "reg.csv", "--label", "target", "--epochs",
                                "2", "--quiet", "--out", "r.glassnet", cwd=tmp_path)
    assert status == 0, err
    lines = out.splitlines()
    assert lines[0] == "Columns: the first line of reg.csv is its header ('target', 'x0', " \
                       "'x1', 'x2')"
    assert lines[1].startswith("Training on reg.csv: 58 samples (and 6 held out for "
                               "validation), 3 features -> 1 outputs")
    assert lines[3] == ("Preprocessing: each feature standardised with the mean and variance "
                        "of the 58 training rows (a Normalization layer, saved with the model)")
    status, out, err = _cli_out("train", "--data", "nohead.csv", "--epochs", "1", "--quiet",
                                "--out", "c.glassnet", cwd=tmp_path)
    headerless = ("Columns: nohead.csv has no header line: its first line is data, and its "
                  "columns are numbered from 0 (--label INDEX)")
    assert status == 0 and out.splitlines()[0] == headerless, err
    status, out, err = _cli_out("evaluate", "c.glassnet", "--data", "nohead.csv", cwd=tmp_path)
    assert status == 0 and out.splitlines()[1] == headerless, err
    status, out, err = _cli_out("train", "--data", "xor", "--epochs", "1", "--quiet", "--out",
                                "x.glassnet", cwd=tmp_path)
    assert status == 0 and "Columns:" not in out, err
    assert "Preprocessing: none (the inputs go in as they are)" in out.splitlines()


def test_an_identifier_column_in_a_file_without_a_header_is_refused_without_column_names(
        tmp_path):
    rng = np.random.default_rng(1)
    np.savetxt(tmp_path / "ids.csv", np.c_[rng.normal(size=(40, 2)), np.arange(40)],
               delimiter=",", fmt="%.4f")
    status, _, err = _cli_out("train", "--data", "ids.csv", "--epochs", "1", cwd=tmp_path)
    assert status == 1 and "it is not a column of classes" in err, err
    assert err.rstrip().endswith("Give the label column with --label NAME or --label INDEX"), err


def test_predict_knows_a_label_column_of_classes_named_by_numbers_from_one(tmp_path):
    """Classes 1, 2, 3 (names '1', '2', '3'): a column of 1..3 is their label column."""
    rng = np.random.default_rng(8)
    k = np.arange(90) % 3 + 1
    x = rng.normal(size=(90, 2)) + 2.0 * k[:, None]
    gn.datasets.save_csv(tmp_path / "t.csv", x, k, label="label")
    status, _, err = _cli_out("train", "--data", "t.csv", "--label", "label", "--epochs", "2",
                              "--quiet", "--out", "m.glassnet", cwd=tmp_path)
    assert status == 0, err
    (tmp_path / "f.csv").write_text("a,b,c\n" + "\n".join(
        f"{a:.3f},{i},{b:.3f}" for (a, b), i in zip(x, k)) + "\n")
    status, _, err = _cli_out("predict", "m.glassnet", "f.csv", cwd=tmp_path)
    assert status == 1 and "Column 2 ('b') holds only class labels of the model" in err, err
