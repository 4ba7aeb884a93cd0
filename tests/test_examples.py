"""Every demo runs (from the installed package, in an empty directory), with small
settings, and prints what it promises."""
import re
import subprocess
import sys

import numpy as np
import pytest

def run(name, *args, cwd):
    module = "glassnet.demos." + name.removesuffix(".py")
    result = subprocess.run([sys.executable, "-m", module, *args],
                            capture_output=True, text=True, cwd=cwd, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_xor(tmp_path):
    out = run("xor.py", cwd=tmp_path)
    assert "XOR with 2 inputs: final loss" in out and "accuracy 100%" in out
    assert "XOR with 3 inputs" in out
    for bits, p, target in re.findall(r"\[([01 ]+)\] -> ([0-9.]+)\s+\(target ([01])\)", out):
        assert round(float(p)) == int(target) == sum(map(int, bits.split())) % 2


def test_predefined_weights_both_bias_conventions(tmp_path):
    out = run("image2x2_predefined.py", cwd=tmp_path)
    assert "error, bias folded in : 0" in out and "error, bias separate  : 0" in out


def test_image2x2_recognition(tmp_path):
    out = run("image2x2_recognition.py", "--epochs", "150", "--sets", "10", cwd=tmp_path)
    rows = re.findall(r"-> (\w+)\s+\(target (\w+)\)", out)
    right = int(re.search(r"^recognised (\d+)/16 new grayscale images$", out, re.M).group(1))
    assert len(rows) == 16 and right == sum(got == want for got, want in rows)
    assert right >= 14                    # short training: most, not yet all (16 by default)


def test_configurable_network(tmp_path):
    out = run("configurable_network.py", "--layers", "6:tanh,4:relu", "--epochs", "300",
              cwd=tmp_path)
    assert "dense_1 (Dense)" in out and "after 300 epochs" in out
    loss, accuracy = re.search(r"after 300 epochs: loss ([0-9.]+), accuracy (\d+)%", out).groups()
    assert float(loss) < 0.7 and int(accuracy) >= 75    # 3-input parity, well above chance


def test_linear_recovers_a_and_b(tmp_path):
    out = run("linear.py", cwd=tmp_path)
    a = float(out.split("a = ")[1].split()[0])
    b = float(out.split("b = ")[1].split()[0])
    assert abs(a - 2) < 0.01 and abs(b - 3) < 0.01


def test_cubic_fits_and_plots(tmp_path):
    pytest.importorskip("matplotlib")
    out = run("cubic.py", "--plot", "c.png", cwd=tmp_path)
    rmse = float(out.split("RMSE on [-5, 5]: ")[1].split()[0])
    assert rmse < 1.0                     # the function spans -200..200
    assert (tmp_path / "c.png").stat().st_size > 1000


def test_mnist_on_a_small_csv(tmp_path):
    pytest.importorskip("matplotlib")
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, size=300)
    pixels = np.clip(labels[:, None] * 25 + rng.integers(0, 30, size=(300, 784)), 0, 255)
    path = tmp_path / "mnist_train.csv"
    header = "label," + ",".join(f"{r}x{c}" for r in range(1, 29) for c in range(1, 29))
    np.savetxt(path, np.column_stack([labels, pixels]), fmt="%d", delimiter=",", header=header,
               comments="")
    out = run("mnist.py", "--data", str(path), "--iterations", "30", "--every", "10",
              "--plot", "acc.png", cwd=tmp_path)
    assert "iteration    10: accuracy" in out and "held-out accuracy" in out
    accuracy = [float(v) for v in re.findall(r"iteration\s+\d+: accuracy ([0-9.]+)", out)]
    assert len(accuracy) == 4 and accuracy[-1] > accuracy[0]      # 1, 10, 20, 30: it learns
    assert (tmp_path / "acc.png").stat().st_size > 1000


def test_sklearn_grid_search_example(tmp_path):
    pytest.importorskip("sklearn")
    out = run("sklearn_grid_search.py", "--epochs", "5", cwd=tmp_path)
    assert "best parameters: {'net__hidden_layer_sizes'" in out
    assert float(out.split("test accuracy: ")[1].split()[0]) > 0.8


@pytest.mark.parametrize("script,args", [("xor_regions.py", ["--epochs", "12"]),
                                         ("cubic_convergence.py", ["--epochs", "12"])])
def test_animation_examples_write_gifs(tmp_path, script, args):
    PIL = pytest.importorskip("PIL.Image")
    out = run(script, *args, "--gif", "a.gif", cwd=tmp_path)
    assert "animation saved to a.gif" in out
    assert PIL.open(tmp_path / "a.gif").n_frames == 13      # the untrained network, then 12
