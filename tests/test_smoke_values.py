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
