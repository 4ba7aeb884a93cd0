"""A new user's own data: CSV files with headers and names, no guessed scaling, data
bigger than memory, and a command line that says what it did."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import glassnet as gn
from glassnet import cli
from glassnet.datasets import CSVDataset, encode_labels, load_csv

SPECIES = np.array(["setosa", "versicolor", "virginica"])


def _iris_like(path, rng, sorted_by_class=True, n=150):
    """Integer features in 0..255 (as a pixel file would have) and species names, sorted."""
    labels = np.repeat(np.arange(3), n // 3)
    centres = np.array([[40, 200, 60, 120], [120, 90, 160, 60], [200, 150, 230, 200]])
    x = np.clip(centres[labels] + rng.normal(0, 25, size=(n, 4)), 0, 255).astype(int)
    if not sorted_by_class:
        order = rng.permutation(n)
        x, labels = x[order], labels[order]
    with open(path, "w") as handle:
        handle.write("sepal_length,sepal_width,petal_length,petal_width,species\n")
        for row, k in zip(x, labels):
            handle.write(",".join(map(str, row)) + f",{SPECIES[k]}\n")
    return x, labels


def run(*args, cwd=None, **kw):
    return subprocess.run([sys.executable, "-m", "glassnet.cli", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=300, **kw)


# -- CSV files: names, headers, labels -------------------------------------------------------

def test_load_csv_takes_the_label_column_by_name_and_returns_class_names(tmp_path, rng):
    x, labels = _iris_like(tmp_path / "iris.csv", rng)
    X, y = load_csv(tmp_path / "iris.csv", label_column="species")
    assert X.shape == (150, 4) and y.dtype.kind == "U" and y[0] == "setosa"   # not encoded
    X, codes, names = load_csv(tmp_path / "iris.csv", label_column="species",
                               return_class_names=True)
    assert names == ("setosa", "versicolor", "virginica")
    np.testing.assert_array_equal(codes, labels)
    np.testing.assert_array_equal(X, x)
    with pytest.raises(ValueError, match="has no column 'kind'; its columns are"):
        load_csv(tmp_path / "iris.csv", label_column="kind")


def test_fit_with_string_labels_says_how_to_encode_them(rng):
    model = gn.Sequential([gn.Dense(3, "softmax")], seed=0)
    model.compile("adam", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"encode_labels\(y\).*GlassClassifier"):
        model.fit(rng.normal(size=(3, 2)), np.array(["a", "b", "a"]), verbose=0)
    codes, names = encode_labels(["b", "a", "b"])
    assert codes.tolist() == [1, 0, 1] and names == ("a", "b")


def test_missing_values_are_named_by_line_and_column(tmp_path):
    path = tmp_path / "gaps.csv"
    path.write_text("label,a,b\n0,1,2\n1,,4\n")
    with pytest.raises(ValueError, match=r"gaps.csv', line 3, column 2: expected a number, "
                                         r"found a missing value"):
        load_csv(path)
    path.write_text("label,a,b\n0,1,2\n1,nan,4\n")
    with pytest.raises(ValueError, match=r"line 3, column 2: expected a number, found nan"):
        load_csv(path)


def test_cli_standardises_a_csv_instead_of_guessing_pixels(tmp_path, rng):
    _iris_like(tmp_path / "iris.csv", rng)
    out = tmp_path / "iris.glassnet"
    result = run("train", "--data", str(tmp_path / "iris.csv"), "--label", "species",
                 "--epochs", "30", "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    assert "Preprocessing: each feature standardised with the mean and variance of" \
        in result.stdout
    test_accuracy = float(result.stdout.split("test ")[1].split()[1])
    assert test_accuracy > 0.8                                     # chance is 0.33
    model = gn.load_model(out)
    assert type(model.layers[0]).__name__ == "Normalization"
    assert model.class_names == ("setosa", "versicolor", "virginica")
    for scale, first in (("pixels", "Rescaling"), ("minmax", "Normalization"),
                         ("none", "Dense")):
        result = run("train", "--data", str(tmp_path / "iris.csv"), "--label", "species",
                     "--epochs", "1", "--out", str(tmp_path / f"{scale}.glassnet"), "--quiet",
                     "--scale", scale)
        assert result.returncode == 0, result.stderr
        assert type(gn.load_model(tmp_path / f"{scale}.glassnet").layers[0]).__name__ == first


def test_cli_validates_sorted_data_on_every_class_and_predict_writes_names(tmp_path, rng):
    _iris_like(tmp_path / "iris.csv", rng)
    out = tmp_path / "iris.glassnet"
    result = run("train", "--data", str(tmp_path / "iris.csv"), "--label", "species",
                 "--epochs", "40", "--out", str(out), "--quiet")
    validation_accuracy = float(result.stdout.split("validation ")[1].split()[1])
    assert validation_accuracy > 0.5          # a one-class validation split gave 0.08
    features = tmp_path / "features.csv"
    x, _ = load_csv(tmp_path / "iris.csv", label_column="species")
    np.savetxt(features, x[:3], delimiter=",", fmt="%d")
    result = run("predict", str(out), str(features))
    lines = result.stdout.splitlines()
    assert lines[0] == "class,p_setosa,p_versicolor,p_virginica"
    assert lines[1].split(",")[0] in SPECIES


def test_python_validation_split_warns_when_the_last_rows_are_one_class(tmp_path, rng):
    x, labels = _iris_like(tmp_path / "iris.csv", rng)
    model = gn.Sequential([gn.Normalization().adapt(x), gn.Dense(3, "softmax")], seed=0)
    model.compile("adam", "sparse_categorical_crossentropy")
    with pytest.warns(UserWarning, match="all of class 2 while the training rows have 3 "
                                         "classes: the data looks sorted"):
        model.fit(x, labels, epochs=1, validation_split=0.2, verbose=0)


# -- Normalization ---------------------------------------------------------------------------

def test_normalization_adapts_saves_exports_and_traces(tmp_path, rng):
    x = rng.normal(5.0, [1.0, 10.0, 100.0], size=(200, 3))
    norm = gn.Normalization().adapt(x)
    model = gn.Sequential([norm, gn.Dense(2, "softmax")], seed=0)
    assert model.built                                   # adapt fixed the input width
    out = model.layers[0].forward(x.astype(np.float32))
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=0), 1, atol=1e-5)
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, (x[:, 0] > 5).astype(int), epochs=2, verbose=0)
    model.save(tmp_path / "n.glassnet")
    loaded = gn.load_model(tmp_path / "n.glassnet")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert "a = (x - mean) / std" in str(model.trace(x[0]))
    assert len(model.non_trainable_weights) == 2          # mean and variance, not trained
    ort = pytest.importorskip("onnxruntime")
    model.export_onnx(tmp_path / "n.onnx")
    session = ort.InferenceSession(str(tmp_path / "n.onnx"), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(["output"], {"input": x.astype(np.float32)})[0],
                               model.predict(x), rtol=1e-5, atol=1e-6)


# -- data bigger than memory -------------------------------------------------------------------

def _model(seed=0, width=6):
    model = gn.Sequential([gn.Dense(8, "relu", input_dim=width), gn.Dense(2, "softmax")],
                          seed=seed)
    return model.compile("sgd", "sparse_categorical_crossentropy", ["accuracy"])


def test_a_memory_map_trains_like_the_array_it_holds(tmp_path, rng):
    x = rng.normal(size=(400, 6)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    np.save(tmp_path / "x.npy", x)
    mapped = np.load(tmp_path / "x.npy", mmap_mode="r")
    a, b = _model(), _model()
    a.fit(x, y, epochs=3, batch_size=40, verbose=0, validation_split=0.1)
    b.fit(mapped, y, epochs=3, batch_size=40, verbose=0, validation_split=0.1)
    for wa, wb in zip(a.get_weights(), b.get_weights()):      # the same rows, the same order
        np.testing.assert_array_equal(wa, wb)
    assert b.evaluate(mapped, y, return_dict=True) == pytest.approx(a.evaluate(x, y, return_dict=True), rel=1e-6)
    np.testing.assert_allclose(b.predict(mapped), a.predict(x), rtol=1e-6)


def test_a_csv_dataset_streams_the_same_batches_as_load_csv(tmp_path, rng):
    x = rng.integers(0, 100, size=(1000, 6))
    y = (x[:, 0] > 50).astype(int)
    path = tmp_path / "big.csv"
    np.savetxt(path, np.column_stack([y, x]), fmt="%d", delimiter=",", header="label,a,b,c,d,e,f",
               comments="")
    X, Y = load_csv(path)
    a, b = _model(), _model()
    a.fit(X / 100, Y, epochs=2, batch_size=32, shuffle=False, verbose=0)
    stream = CSVDataset(path, batch_size=32, block_bytes=2000)     # many small blocks
    assert stream.n_rows == 1000 and len(stream) == 32
    scaled = [(xb / 100, yb) for xb, yb in stream]
    b.fit(scaled, epochs=2, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    shuffled = CSVDataset(path, batch_size=32, shuffle_buffer=200, seed=0)
    rows = np.concatenate([yb for _, yb in shuffled])
    assert sorted(rows.tolist()) == sorted(Y.tolist()) and not np.array_equal(rows, Y)


def test_batch_sources_pydataset_generator_dask(rng):
    x = rng.normal(size=(300, 6))
    y = (x[:, 0] > 0).astype(np.int64)

    class Batches:                                   # Keras's PyDataset protocol
        def __len__(self):
            return 10

        def __getitem__(self, i):
            return x[i * 30:(i + 1) * 30], y[i * 30:(i + 1) * 30]

    model = _model()
    history = model.fit(Batches(), epochs=3, verbose=0)
    assert len(history.epoch) == 3 and model.optimizer.iterations == 30
    generator = ((x[i:i + 50], y[i:i + 50]) for i in range(0, 300, 50))
    with pytest.raises(ValueError, match="can be read only once"):
        model.fit(generator, epochs=2, verbose=0)
    model.fit(((x[i:i + 50], y[i:i + 50]) for i in range(0, 300, 50)), epochs=1, verbose=0)
    dask_array = pytest.importorskip("dask.array")
    dx = dask_array.from_array(x, chunks=(70, 6))
    model.fit(dx, y, epochs=2, batch_size=20, verbose=0)
    assert model.evaluate(dx, y, return_dict=True)["loss"] == pytest.approx(model.evaluate(x, y, return_dict=True)["loss"],
                                                          rel=1e-6)


def test_a_bad_value_in_a_streamed_batch_names_the_batch(tmp_path):
    path = tmp_path / "late.csv"
    rows = ["0,1,2,3,4,5,6"] * 300 + ["1,1,2,nan,4,5,6"]
    path.write_text("\n".join(rows) + "\n")
    with pytest.raises(ValueError, match=r"late.csv', line 301, column 4: expected a number"):
        _model().fit(CSVDataset(path, batch_size=64), epochs=1, verbose=0)


# -- from a wheel, in an empty directory --------------------------------------------------------

@pytest.mark.parametrize("name", ["xor_regions", "xor-regions"])
def test_demos_run_by_either_name_from_an_empty_directory(tmp_path, name):
    pytest.importorskip("matplotlib")
    result = run("demo", name, "--epochs", "5", "--gif", "x.gif", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "animation saved to x.gif" in result.stdout
    PIL = pytest.importorskip("PIL.Image")
    assert PIL.open(tmp_path / "x.gif").n_frames == 6          # untrained, then 5 epochs
    bad = run("demo", "nonsense", cwd=tmp_path)
    assert bad.returncode == 2 and "unknown demo 'nonsense'" in bad.stderr


def test_saved_files_get_the_mode_of_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        model = gn.Sequential([gn.Dense(1, input_dim=2)])
        model.save(tmp_path / "m.glassnet")
    finally:
        os.umask(old)
    assert oct((tmp_path / "m.glassnet").stat().st_mode & 0o777) == oct(0o644)


# -- a command line that reads well ---------------------------------------------------------------

def test_debug_after_the_command_and_usage_errors(tmp_path):
    result = run("summary", str(tmp_path / "none.glassnet"), "--debug")
    assert "Traceback" in result.stderr
    result = run("train", "--activation", "step")
    assert result.returncode == 2 and "invalid choice: 'step'" in result.stderr


def test_a_closed_pipe_ends_quietly_and_the_model_is_still_saved(tmp_path):
    out = tmp_path / "m.glassnet"
    command = (f"{sys.executable} -m glassnet.cli train --data xor --epochs 300 "
               f"--out {out} | head -3")
    result = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=120)
    assert result.stderr == "" and len(result.stdout.splitlines()) == 3
    assert gn.load_model(out).count_params() > 0


def test_ctrl_c_prints_one_line(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "glassnet.cli", "train", "--data", "cubic",
                             "--epochs", "100000", "--out", str(tmp_path / "m.glassnet")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(3)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert stderr.strip().splitlines() == [stderr.strip()]      # one line
    assert stderr.startswith("glassnet: warning: training interrupted by Ctrl-C")


def test_progress_lines_show_every_metric(tmp_path):
    result = run("train", "--data", "xor", "--epochs", "2", "--validation", "0",
                 "--out", str(tmp_path / "m.glassnet"), env={**os.environ, "COLUMNS": "80"})
    assert "loss: " in result.stdout and "accuracy: " in result.stdout


@pytest.mark.parametrize("data, picture", [("xor", "decision regions"),
                                           ("cubic", "fitted function"),
                                           ("digits", "confusion matrix")])
def test_evaluate_plot_draws_a_picture_for_every_task(tmp_path, data, picture, capsys):
    PIL = pytest.importorskip("PIL.Image")
    pytest.importorskip("matplotlib")
    model = tmp_path / f"{data}.glassnet"
    assert cli.main(["train", "--data", data, "--epochs", "2", "--quiet", "--out",
                     str(model)]) == 0
    png = tmp_path / f"{data}.png"
    capsys.readouterr()
    # in this process (mutation testing sees it); the command's own process is tested above
    assert cli.main(["evaluate", str(model), "--data", data, "--plot", str(png)]) == 0
    assert capsys.readouterr().out.endswith(f"{picture} saved to {png}\n")
    assert PIL.open(png).size[0] > 300                          # a real picture


def test_configurable_network_help_finishes_its_sentence():
    result = subprocess.run([sys.executable, "-m", "glassnet.demos.configurable_network",
                             "--help"], capture_output=True, text=True)
    assert "A network whose layers, nodes and activations come from the command line." \
        in result.stdout


def test_a_list_of_rows_is_data_and_a_list_of_batches_is_a_source():
    rows = [(0, 0), (0, 1), (1, 0), (1, 1)]
    a, b = _model(width=2), _model(width=2)
    a.fit(rows, [0, 1, 1, 0], batch_size=4, epochs=3, verbose=0)
    b.fit([(np.array(rows, dtype=float), np.array([0, 1, 1, 0]))], epochs=3, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
