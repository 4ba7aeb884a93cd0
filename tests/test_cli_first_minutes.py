"""The command line as a newcomer and an attacker meet it (issues #22 item 7 and #23).

Each test is a command someone typed, with what they must see: the label column is the
last by default and a wrong one is named with --label; training stops when validation
stops improving and says so, in at most a screenful of lines; predict and evaluate say
which columns and rows they used; a network too big for memory, a device, a FIFO, an
identifier column and an empty --layers are refused with what to do.
"""
import contextlib
import io
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import glassnet as gn
from glassnet import cli, load_model

SPECIES = np.array(["setosa", "versicolor", "virginica"])


@pytest.fixture(autouse=True)
def _in_a_fresh_directory(tmp_path_factory, monkeypatch):
    """Commands that should fail but do not must not leave model.glassnet where we run."""
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))


def run(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "glassnet.cli", *args], capture_output=True,
                          text=True, timeout=timeout)


def _iris(path, rng, n=150, label_first=False):
    """Three separable species, four measurements, the species last (as iris.csv)."""
    k = np.arange(n) % 3
    x = np.round(rng.normal(size=(n, 4)) * 0.3 + k[:, None] * [1.0, -0.5, 2.0, 0.8] + 4, 2)
    names = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    rows = [[*map(str, r), s] for r, s in zip(x.tolist(), SPECIES[k])]
    if label_first:
        rows, names = [[r[-1], *r[:-1]] for r in rows], names[::-1][:0] + names
        header = ["species", *names]
    else:
        header = [*names, "species"]
    path.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n")
    return x, SPECIES[k]


def _table(stdout):
    """split -> (loss, metric, rows) of train's result table."""
    found = {}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[0] in ("train", "validation", "test"):
            found[parts[0]] = (float(parts[1]), float(parts[2]), int(parts[3]))
    return found


def _one_line_error(result, status=1):
    assert result.returncode == status, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert re.match(r"glassnet( train)?: error: ", last), last
    return last


# --- the label column -------------------------------------------------------------------

def test_the_label_column_is_the_last_by_default_and_training_stops_by_itself(tmp_path, rng):
    _iris(tmp_path / "iris.csv", rng)
    out = tmp_path / "iris.glassnet"
    result = run("train", "--data", str(tmp_path / "iris.csv"), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "Epochs: until the validation loss has not improved for 20 epochs (at most 1000" \
        in result.stdout
    stop = re.search(r"after (\d+) epochs: the val_loss was best at epoch (\d+)", result.stdout)
    assert stop, result.stdout
    ran, best = int(stop.group(1)), int(stop.group(2))
    assert best <= ran <= 1000 and (ran == 1000 or ran == best + 20)
    epoch_lines = [l for l in result.stdout.splitlines() if l.startswith("Epoch ")]
    assert len(epoch_lines) <= 25 and epoch_lines[-1].startswith(f"Epoch {ran}/1000 ")
    table = _table(result.stdout)
    assert table["test"][1] >= 0.9 and table["test"][2] == 30      # separable: well above 1/3
    model = load_model(out)
    assert model.class_names == tuple(SPECIES) and model.input_dim == 4
    assert len(model.history.epoch) == ran


def test_a_label_that_is_not_the_label_column_names_label(tmp_path, rng):
    _iris(tmp_path / "first.csv", rng, label_first=True)
    line = _one_line_error(run("train", "--data", str(tmp_path / "first.csv")))
    assert "line 2, column 1: expected a number, found 'setosa'" in line
    assert "the label is column 5 ('petal_width')" in line and "give --label species" in line
    # and with the hint followed, it trains
    result = run("train", "--data", str(tmp_path / "first.csv"), "--label", "species",
                 "--epochs", "3", "--quiet", "--out", str(tmp_path / "m.glassnet"))
    assert result.returncode == 0, result.stderr


def test_a_column_of_identifiers_is_not_taken_for_classes(tmp_path, rng):
    x = rng.normal(size=(80, 3))
    path = tmp_path / "ids.csv"
    np.savetxt(path, np.column_stack([x, np.arange(80)]), delimiter=",", fmt="%g",
               header="a,b,c,id", comments="")
    line = _one_line_error(run("train", "--data", str(path)))
    assert "column 4 ('id'), holds 80 different values in 80 rows" in line
    assert "--label NAME" in line and "['a', 'b', 'c', 'id']" in line
    assert "x_val is empty" not in line


# --- what a network and a path may be ---------------------------------------------------

def test_a_network_too_big_for_memory_is_refused_before_allocating():
    result = run("train", "--layers", "100000,100000", "--epochs", "1")
    line = _one_line_error(result)
    assert "64 -> 100000 -> 100000 -> 10 has 10,007,600,010 weights" in line
    assert "GiB" in line and "--layers" in line and "Unable to allocate" not in result.stderr


def test_the_memory_check_uses_what_is_available(monkeypatch):
    monkeypatch.setattr(cli, "_available_memory", lambda: 2 ** 20)          # 1 MiB
    weights, needed = cli.network_memory(64, [512, 512], 10, "adam")
    assert weights == 64 * 512 + 512 + 512 * 512 + 512 + 512 * 10 + 10
    assert needed == weights * 4 * 6 + 8 * 512 * 512 > 2 ** 20
    with pytest.raises(ValueError, match=r"has 301,066 weights: training it needs about 8.9 MiB"
                                         r".* more than the 1.0 MiB of memory available"):
        cli._check_fits_in_memory(64, [512, 512], 10, "adam")
    cli._check_fits_in_memory(64, [16], 10, "adam")                         # fits
    monkeypatch.setattr(cli, "_available_memory", lambda: None)             # unknown: trust
    cli._check_fits_in_memory(64, [512, 512], 10, "adam")
    assert cli._available_memory is not None


@settings(max_examples=30, deadline=None)
@given(n_in=st.integers(1, 40), hidden=st.lists(st.integers(1, 40), max_size=3),
       n_out=st.integers(1, 12), optimizer=st.sampled_from(["adam", "sgd", "rmsprop"]))
def test_the_weight_estimate_is_the_built_networks_count(n_in, hidden, n_out, optimizer):
    weights, needed = cli.network_memory(n_in, hidden, n_out, optimizer)
    model = gn.Sequential([gn.Dense(h, "relu") for h in hidden] + [gn.Dense(n_out)])
    model.compile(loss="mse", optimizer=optimizer)
    model.build(n_in)
    assert weights == model.count_params()
    model.optimizer.build(model.params.size, model.dtype)
    largest = max(layer.kernel.size for layer in model.layers)   # its float64 draw, too
    assert needed == 4 * weights * (4 + len(model.optimizer.state)) + 8 * largest


def test_empty_layers_is_a_usage_error_and_none_means_no_hidden_layer(tmp_path):
    line = _one_line_error(run("train", "--layers", ""), status=2)
    assert "'none' for no hidden layer" in line
    out = tmp_path / "m.glassnet"
    assert cli.main(["train", "--data", "xor", "--layers", "none", "--epochs", "2", "--quiet",
                     "--out", str(out)]) == 0
    dense = [layer for layer in load_model(out).layers if type(layer).__name__ == "Dense"]
    assert len(dense) == 1                                  # the output layer alone


def test_devices_and_fifos_are_named_for_what_they_are(tmp_path):
    line = _one_line_error(run("train", "--data", "/dev/zero"))
    assert "'/dev/zero' is a character device" in line and "no such file" not in line
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    line = _one_line_error(run("train", "--data", str(fifo), timeout=60))   # never blocks
    assert "is a FIFO (a named pipe)" in line
    model = tmp_path / "m.glassnet"
    assert cli.main(["train", "--data", "xor", "--epochs", "1", "--quiet", "--out",
                     str(model)]) == 0
    line = _one_line_error(run("predict", str(model), str(fifo), timeout=60))
    assert "is a FIFO" in line
    line = _one_line_error(run("evaluate", str(model), "--data", "/dev/zero"))
    assert "character device" in line


# --- epoch lines --------------------------------------------------------------------------

@given(st.integers(1, 100_000))
def test_epoch_lines_fill_at_most_a_screen(epochs):
    shown = [n for n in range(1, epochs + 1) if cli.EpochLines.shown(n)]
    assert shown[:5] == list(range(1, min(epochs, 5) + 1))
    assert len(shown) <= 5 + 9 * max(0, len(str(epochs)) - 1)       # 24 lines for 1000
    if epochs <= 1000:
        assert len(shown) + 1 <= 25                                  # and the last line


def test_xor_prints_a_screenful_not_five_hundred_lines(tmp_path):
    result = run("train", "--data", "xor", "--out", str(tmp_path / "x.glassnet"),
                 "--epochs", "500")
    lines = [l for l in result.stdout.splitlines() if l.startswith("Epoch ")]
    assert 5 < len(lines) <= 25
    assert lines[-1].startswith("Epoch 500/500 - loss: ")


# --- predict and evaluate say what they used --------------------------------------------

@pytest.fixture(scope="module")
def iris_model(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("iris")
    x, species = _iris(tmp / "iris.csv", np.random.default_rng(1))
    out = tmp / "iris.glassnet"
    result = run("train", "--data", str(tmp / "iris.csv"), "--epochs", "60", "--seed", "3",
                 "--quiet", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return tmp, out, _table(result.stdout), x, species


def test_predict_names_the_label_column_left_in_and_drops_it_with_label(iris_model):
    tmp, model, _, x, species = iris_model
    line = _one_line_error(run("predict", str(model), str(tmp / "iris.csv")))
    assert "column 5: expected a number, found 'setosa' (in column 'species')" in line
    assert "is column 5 the label column?" in line and "--label species" in line
    with_label = run("predict", str(model), str(tmp / "iris.csv"), "--label", "species")
    assert with_label.returncode == 0, with_label.stderr
    features = tmp / "x.csv"
    np.savetxt(features, x, delimiter=",", fmt="%g")
    alone = run("predict", str(model), str(features))
    assert alone.stdout == with_label.stdout
    classes = [row.split(",")[0] for row in alone.stdout.splitlines()[1:]]
    assert np.mean(np.array(classes) == species) > 0.9
    coded = tmp / "coded.csv"                      # a label column of class indices
    codes = np.searchsorted(SPECIES, species)
    np.savetxt(coded, np.column_stack([x, codes]), delimiter=",", fmt="%g",
               header="a,b,c,d,kind", comments="")
    line = _one_line_error(run("predict", str(model), str(coded)))
    assert "5 feature columns but the model expects 4" in line
    assert "Column 5 ('kind') holds only class labels" in line and "--label kind" in line


def test_evaluate_says_which_rows_and_scores_the_held_out_split(iris_model):
    tmp, model, table, _, _ = iris_model
    every = run("evaluate", str(model), "--data", str(tmp / "iris.csv"))
    assert every.returncode == 0, every.stderr
    assert "Scored: all 150 rows of" in every.stdout and "training on" not in every.stdout
    assert "rows the model was trained on included; --split test" in every.stdout
    held_out = run("evaluate", str(model), "--data", str(tmp / "iris.csv"), "--split", "test")
    assert held_out.returncode == 0, held_out.stderr
    assert "Scored: the 30 rows of" in held_out.stdout and "(seed 3)" in held_out.stdout
    loss = float(re.search(r"loss: ([\d.]+)", held_out.stdout).group(1))
    assert loss == pytest.approx(table["test"][0], abs=1e-4)   # the very rows train tested
    counts = [int(n) for n in re.findall(r"^\S+\s+(\d+)\s+(\d+)\s+(\d+)$",
                                         held_out.stdout, re.M) for n in n]
    assert sum(counts) == 30


def test_evaluate_on_a_named_set_scores_its_test_split_and_says_so(tmp_path):
    out = tmp_path / "x.glassnet"
    assert cli.main(["train", "--data", "circles", "--epochs", "3", "--quiet", "--seed", "2",
                     "--out", str(out)]) == 0
    result = run("evaluate", str(out), "--data", "circles")
    assert "Scored: the 100 rows of circles held out as the test split (seed 2)" \
        in result.stdout
    result = run("evaluate", str(out), "--data", "circles", "--split", "all")
    assert "Scored: all 500 rows of circles (training rows included)" in result.stdout


def test_the_regions_legend_hides_no_point(tmp_path):
    pytest.importorskip("matplotlib")
    from glassnet.plotting import plot_decision_regions
    model = tmp_path / "xor.glassnet"
    assert cli.main(["train", "--data", "xor", "--epochs", "2", "--quiet", "--out",
                     str(model)]) == 0
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float64)   # (1, 1): the upper right
    fig = plot_decision_regions(load_model(model), x, np.array([0, 1, 1, 0]))
    fig.canvas.draw()
    ax = fig.axes[0]
    box = ax.get_legend().get_window_extent()
    points = ax.transData.transform(x)
    assert not any(box.x0 - 6 <= px <= box.x1 + 6 and box.y0 - 6 <= py <= box.y1 + 6
                   for px, py in points)                        # (markers are ~6 px wide)
    assert box.x1 <= fig.bbox.x1                                 # and the legend is seen


def test_evaluate_a_model_of_an_integer_labelled_csv(tmp_path, rng):
    labels = np.arange(90) % 3
    x = rng.normal(size=(90, 2)) + labels[:, None] * 3
    path = tmp_path / "d.csv"
    np.savetxt(path, np.column_stack([x, labels]), delimiter=",", fmt="%g",
               header="a,b,kind", comments="")
    out = tmp_path / "m.glassnet"
    assert cli.main(["train", "--data", str(path), "--quiet", "--out", str(out)]) == 0
    result = run("evaluate", str(out), "--data", str(path))
    assert result.returncode == 0, result.stderr
    accuracy = float(re.search(r"accuracy: ([\d.]+)", result.stdout).group(1))
    assert accuracy > 0.9


@settings(max_examples=12, deadline=None)
@given(n=st.integers(20, 120), share=st.floats(0.02, 1.0), seed=st.integers(0, 100))
def test_any_number_of_classes_trains_or_says_what_to_do(tmp_path_factory, n, share, seed):
    """Never 'x_val is empty': a label column trains (held-out rows and all) or is refused
    with --label, whatever its number of classes."""
    tmp = tmp_path_factory.mktemp("k")
    k = max(2, int(share * n))
    rng = np.random.default_rng(seed)
    path = tmp / "d.csv"
    np.savetxt(path, np.column_stack([rng.normal(size=(n, 3)), rng.permutation(np.arange(n) % k)]),
               delimiter=",", fmt="%g", header="a,b,c,y", comments="")
    said, errors = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(said), contextlib.redirect_stderr(errors):
        status = cli.main(["train", "--data", str(path), "--epochs", "1", "--quiet",
                           "--out", str(tmp / "m.glassnet")])
    assert "x_val is empty" not in errors.getvalue()
    if k > n / 2:
        assert status == 1 and f"holds {k} different values in {n} rows" in errors.getvalue()
        assert "--label NAME" in errors.getvalue()
    else:
        trained = int(re.search(r": (\d+) samples", said.getvalue()).group(1))
        if trained >= 50:              # (the default holds out validation rows from 50 on)
            assert re.search(r"^validation\s.*\s[1-9]\d*$", said.getvalue(), re.M)
        assert status == 0 and load_model(tmp / "m.glassnet").output_dim == k


def test_a_read_only_out_fails_before_training(tmp_path):
    out = tmp_path / "m.glassnet"
    out.write_bytes(b"precious")
    out.chmod(0o444)
    result = run("train", "--data", "xor", "--out", str(out))
    line = _one_line_error(result)
    assert "is read-only (mode 0444)" in line and "Training on" not in result.stdout
    assert out.read_bytes() == b"precious"
    line = _one_line_error(run("train", "--data", "xor", "--out", str(tmp_path / "no" / "m")))
    assert "the directory" in line and "does not exist" in line


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("terminal", [False, True])
def test_epoch_lines_on_a_terminal_show_every_epoch_on_one_status_line(terminal):
    out = _Terminal() if terminal else io.StringIO()
    lines = cli.EpochLines(237, stream=out)
    lines.on_train_begin()
    for epoch in range(237):
        lines.on_epoch_end(epoch, {"loss": 1.0 / (epoch + 1)})
    lines.on_train_end()
    text = out.getvalue()
    kept = [line.split("\r\x1b[K")[-1] for line in text.split("\n")[:-1]]
    assert [int(line.split()[1].split("/")[0]) for line in kept] == \
        [1, 2, 3, 4, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 200, 237]
    assert kept[-1] == "Epoch 237/237 - loss: 0.0042"
    updates = text.count("\r\x1b[K")                   # each status line, overwritten
    assert updates == (237 - 16 if terminal else 0)


def test_the_memory_check_respects_ulimit_v(tmp_path):
    """Under `ulimit -v` a network too big for the limit is refused in one line."""
    import subprocess
    import sys
    result = subprocess.run(
        ["prlimit", "--as=2000000000", sys.executable, "-m", "glassnet.cli", "train",
         "--data", "digits", "--layers", "12000,12000", "--out", str(tmp_path / "m.glassnet")],
        capture_output=True, text=True, timeout=120)
    if result.returncode != 0 and "prlimit" in result.stderr and "glassnet" not in result.stderr:
        pytest.skip("prlimit is not available here")
    assert result.returncode == 1
    assert result.stderr.strip().startswith("glassnet: error: the network 64 -> 12000 -> 12000")
    assert "Traceback" not in result.stderr
