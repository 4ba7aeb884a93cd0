import os
import subprocess
import sys

import numpy as np
import pytest

from glassnet import cli, load_model

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "glassnet.cli", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300)


def test_train_default_digits_reaches_95_percent_and_saves(tmp_path):
    result = run("train", "--quiet", "--out", str(tmp_path / "m.glassnet"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    test_row = [l for l in result.stdout.splitlines() if l.startswith("test")][0]
    assert float(test_row.split()[2]) >= 0.95
    assert "validation" in result.stdout and "time:" in result.stdout
    model = load_model(tmp_path / "m.glassnet")
    assert model.input_dim == 64 and model.output_dim == 10


def test_train_plain_progress_lines_evaluate_summary_predict(tmp_path):
    pytest.importorskip("matplotlib")                   # --plot
    out = str(tmp_path / "xor.glassnet")
    result = run("train", "--data", "xor", "--epochs", "3", "--out", out,
                 "--validation", "0")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("Epoch ") == 3          # plain lines when not a terminal
    assert cli.main(["summary", out]) == 0
    m = str(tmp_path / "d.glassnet")
    assert cli.main(["train", "--quiet", "--epochs", "2", "--out", m,
                     "--plot", str(tmp_path / "c.png")]) == 0
    assert (tmp_path / "c.png").stat().st_size > 1000
    assert cli.main(["evaluate", m, "--plot", str(tmp_path / "cm.png")]) == 0
    assert (tmp_path / "cm.png").stat().st_size > 1000
    features = tmp_path / "x.csv"
    np.savetxt(features, np.random.default_rng(0).integers(0, 17, size=(4, 64)), fmt="%d",
               delimiter=",")
    pred = tmp_path / "p.csv"
    assert cli.main(["predict", m, str(features), "--out", str(pred)]) == 0
    lines = pred.read_text().splitlines()
    assert lines[0].startswith("class,p_0,p_1") and len(lines) == 5    # digits' class names
    assert lines[1].split(",")[0] in "0123456789"


@pytest.mark.parametrize("data", ["image2x2", "cubic"])
def test_train_other_named_data(tmp_path, data):
    assert cli.main(["train", "--data", data, "--epochs", "2", "--quiet",
                     "--out", str(tmp_path / "m.glassnet")]) == 0


def test_train_on_csv_file(tmp_path):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, size=60)
    pixels = (labels[:, None] * 80 + rng.integers(0, 40, size=(60, 16)))
    path = tmp_path / "d.csv"
    np.savetxt(path, np.column_stack([labels, pixels]), fmt="%d", delimiter=",",
               header="label," + ",".join(f"p{i}" for i in range(16)), comments="")
    assert cli.main(["train", "--data", str(path), "--label", "label", "--epochs", "30",
                     "--quiet", "--out", str(tmp_path / "m.glassnet")]) == 0
    assert load_model(tmp_path / "m.glassnet").class_names == ("0", "1", "2")


def test_errors_are_one_line_with_status(tmp_path):
    result = run("train", "--data", "nonsense")
    assert result.returncode == 2                       # a usage error
    assert result.stderr.splitlines()[-1].startswith("glassnet: error: --data must be one of")
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 2
    bad = tmp_path / "bad.glassnet"
    bad.write_text("not a model")
    result = run("summary", str(bad))
    assert result.returncode == 1 and "not a valid glassnet model" in result.stderr
    result = run("train", "--epochs", "-3")
    assert result.returncode == 2 and "must be positive" in result.stderr
    result = run("--debug", "summary", str(bad))
    assert result.returncode == 1 and "Traceback" in result.stderr


def test_demo_runs_an_example():
    result = run("demo", "predefined")
    assert result.returncode == 0, result.stderr
    assert "error, bias folded in : 0" in result.stdout


def test_every_demo_alias_names_a_demo_module():
    for name, module in cli.DEMO_ALIASES.items():
        assert module in cli.demo_names(), name
