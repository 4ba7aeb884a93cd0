"""Every block of README.md runs as pasted, and says what the README says it does.

The command-line block runs line by line in an empty directory; then every ```python
block of the README runs, each in a fresh interpreter, in that same directory (so a block
may use a file the command line made, as the ONNX one uses ``model.onnx``). Blocks are
found when the tests are collected: blocks added later run too. Only a block right
under an HTML comment ``<!-- not-run: REASON -->`` is skipped (it needs a server or a
cluster). Known blocks get their output checked; every block must exit 0 with nothing
on stderr.
"""
import os
import pathlib
import re
import subprocess
import sys
import textwrap

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
FENCE = re.compile(r"^(?P<before>.*?)^```(?P<lang>[\w-]*)[ \t]*\n(?P<body>.*?)^```[ \t]*$",
                   re.S | re.M)
NOT_RUN = re.compile(r"<!--\s*not-run:\s*(?P<why>.*?)\s*-->\s*$")


def readme_blocks(text):
    """(language, body, line number, why-not-run or None) for each fenced block."""
    blocks = []
    for match in FENCE.finditer(text):
        start = match.start("body")
        line = text.count("\n", 0, start)
        preceding = text[:text.rfind("```", 0, start)].rstrip()
        skip = NOT_RUN.search(preceding.splitlines()[-1]) if preceding else None
        blocks.append((match.group("lang"), match.group("body"), line,
                       skip.group("why") if skip else None))
    return blocks


def _cli_block():
    text = README.read_text()
    block = text.split("<!-- cli-block -->\n```bash\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


PYTHON_BLOCKS = [(body, line, why) for lang, body, line, why in readme_blocks(README.read_text())
                 if lang == "python"]

#: what a known block must print or leave behind: code run after it, in its namespace,
#: keyed by a line that identifies the block
CHECKS = {
    "from glassnet.datasets import digits, train_test_split": """
        test_loss, test_accuracy = model.evaluate(X_test, y_test)
        assert test_accuracy >= 0.95
        assert (gn.load_model("digits.glassnet").predict(X_test[:3]).argmax(axis=1)
                == model.predict(X_test[:3]).argmax(axis=1)).all()
    """,
    "import glassnet as keras                      # the only change": """
        loss, accuracy = model.evaluate(x, y, verbose=0, return_dict=False)
        assert np.isfinite(loss) and 0 <= accuracy <= 1 and model(x[:2]).shape == (2, 2)
        assert 1 <= len(model.history.epoch) <= 5
    """,
    "class Clipped(gn.Sequential):": """
        m = Clipped([gn.Dense(1, input_dim=1)], seed=0)
        m.compile(loss="mse", optimizer=gn.SGD(1.0))
        before = m.params.copy()
        m.train_step(np.array([[1e3]], np.float32), np.array([[-1e3]], np.float32))
        assert np.isclose(np.abs(m.params - before).max(), 1.0)   # a clipped gradient's step
    """,
    "class Cube(gn.activations.Activation):": """
        import numpy as np
        model.compile(loss="mse")
        model.save("cube.glassnet")
        x = np.array([[0.5, -1.0]], np.float32)
        assert np.array_equal(gn.load_model("cube.glassnet").predict(x), model.predict(x))
    """,
    "norm = gn.Normalization().adapt(x)": """
        assert model.evaluate(x, y, return_dict=True)["accuracy"] > 0.8
    """,
    "department = layers.Dense(3, activation=\"softmax\", name=\"department\")(x)": """
        assert model.metrics_names == ["loss", "department_accuracy"]
        assert len(history.history["loss"]) == 5 and history.history["loss"][-1] < \
            history.history["loss"][0]
        assert [layer.name for layer in model.layers][:2] == ["title", "tags"]
    """,
    "class Residual(layers.Layer):": """
        import numpy as np
        assert model.count_params() == 2 * (8 * 8 + 8) * 2 + 8 + 1
        out = model.predict(np.ones((3, 8)))
        assert out.shape == (3, 1)
    """,
    "from glassnet.sklearn import GlassClassifier": """
        assert type(search).__name__ == "GridSearchCV" and search.cv == 3
    """,
    "import numpy as np, onnxruntime as ort": """
        assert probabilities.shape == (5, 10)
        assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    """,
}


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """An empty directory, then where the command-line block ran (once)."""
    return tmp_path_factory.mktemp("readme")


def _env():
    return {**os.environ, "PATH": os.path.dirname(sys.executable) + os.pathsep
            + os.environ.get("PATH", "")}


def test_the_cli_block_runs_as_pasted(workdir):
    pytest.importorskip("matplotlib")
    pytest.importorskip("onnx")
    lines = _cli_block()
    assert len(lines) >= 10
    outputs = {}
    for line in lines:
        result = subprocess.run(line, shell=True, cwd=workdir, env=_env(), capture_output=True,
                                text=True, timeout=300, executable="/bin/bash")
        assert result.returncode == 0, f"{line}\n{result.stderr}"
        outputs[line] = result.stdout
    for made in ("model.glassnet", "xor.glassnet", "csv.glassnet", "confusion.png",
                 "regions.png", "predictions.csv", "model.onnx", "report.html", "cubic.png"):
        assert (workdir / made).stat().st_size > 0, made
    said = "\n".join(outputs.values())
    test_rows = re.findall(r"^test\s+([\d.]+)\s+([\d.]+)\s+(\d+)$", said, re.M)
    assert float(test_rows[0][1]) >= 0.95                  # glassnet train: the digits
    assert float(test_rows[1][1]) == 1.0                   # xor
    trained = next(out for line, out in outputs.items() if "--data digits.csv" in line
                   and line.startswith("glassnet train"))
    scored = next(out for line, out in outputs.items() if "--split test" in line)
    assert "Scored: the 359 rows of digits.csv held out as the test split (seed 0)" in scored
    test_loss = re.search(r"^test\s+([\d.]+)\s", trained, re.M).group(1)
    assert re.search(r"^loss: ([\d.]+)", scored, re.M).group(1) == test_loss   # the same rows
    predictions = (workdir / "predictions.csv").read_text().splitlines()
    assert predictions[0].startswith("class,p_0") and len(predictions) == 6
    assert [row.split(",")[0] for row in predictions[1:]] == ["0", "1", "2", "3", "4"]
    rmse = float(re.search(r"RMSE on \[-5, 5\]: ([\d.]+)", said).group(1))
    assert rmse < 2.0                        # the demo's fit (--epochs 300 gave 19.6)
    assert said.count("Epoch ") <= 3 * 25    # a screenful for each of the three trainings


def test_every_python_block_is_found():
    assert len(PYTHON_BLOCKS) >= 7
    skipped = [body for body, _, why in PYTHON_BLOCKS if why is not None]
    assert any("Client(" in body for body in skipped)                     # the Dask one
    assert len(skipped) < len(PYTHON_BLOCKS) / 2         # the marker stays the exception
    for key in CHECKS:                       # each check still names a block of the README
        assert any(key in body for body, _, _ in PYTHON_BLOCKS), key


def test_the_block_finder_honours_not_run_markers():
    text = ("x\n```python\nprint(1)\n```\n<!-- not-run: needs a server -->\n```python\n"
            "boom()\n```\n```bash\nls\n```\n")
    found = readme_blocks(text)
    assert [(lang, body, why) for lang, body, _, why in found] == [
        ("python", "print(1)\n", None), ("python", "boom()\n", "needs a server"),
        ("bash", "ls\n", None)]


@pytest.mark.parametrize("body,line,why", PYTHON_BLOCKS,
                         ids=[f"line{line}" for _, line, _ in PYTHON_BLOCKS])
def test_python_block_runs_as_pasted(workdir, body, line, why):
    if why is not None:
        pytest.skip(f"README line {line}: not run ({why})")
    checks = [textwrap.dedent(code) for key, code in CHECKS.items() if key in body]
    program = body + "\n# --- the test's checks ---\n" + "\n".join(checks)
    result = subprocess.run([sys.executable, "-c", program], cwd=workdir, env=_env(),
                            capture_output=True, text=True, timeout=300)
    missing = re.search(r"No module named '([\w.]+)'", result.stderr)
    if result.returncode and missing and missing.group(1).split(".")[0] in (
            "sklearn", "onnxruntime", "dask", "distributed", "joblib", "onnx", "matplotlib"):
        pytest.skip(f"README line {line} needs {missing.group(1)}, not installed")
    if result.returncode and "model.onnx" in body and not (workdir / "model.onnx").exists():
        pytest.skip("needs model.onnx from the command-line block, which did not run")
    assert result.returncode == 0, f"README line {line}:\n{result.stderr}"
    assert result.stderr == "", f"README line {line} printed on stderr:\n{result.stderr}"
