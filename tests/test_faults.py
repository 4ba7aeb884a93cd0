"""Bad input, diverging training, Ctrl-C: a clear message and nothing lost."""
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

import glassnet as gn


def _model(out=3, act="softmax", loss="sparse_categorical_crossentropy", **kw):
    model = gn.Sequential([gn.Dense(5, "relu"), gn.Dense(out, act)], seed=0, **kw)
    model.compile(loss=loss, optimizer="adam", metrics=["accuracy"])
    return model


X = np.random.default_rng(0).normal(size=(20, 4)).astype(np.float32)
Y = np.random.default_rng(1).integers(0, 3, size=20)


@pytest.mark.parametrize("x,y,message", [
    (np.where(np.eye(20, 4) > 0, np.nan, X), Y, r"x contains 4 NaN or infinite value\(s\), first "
                                                  r"at index \(0, 0\)"),
    (X, np.where(np.arange(20) == 3, np.inf, Y), "y contains 1 NaN or infinite"),
    (np.array([["a", "b", "c", "d"]] * 20), Y, "x must be numeric.*received dtype <U1"),
    (np.empty((0, 4)), Y[:0], "x is empty"),
    (X[:, :3], Y, "3 features per sample but the model expects 4"),
    (X, Y[:15], "x has 20, y has 15"),
    (X, np.where(np.arange(20) == 5, 7, Y), "class label 7 is outside the model's 3 outputs"),
    (X, np.where(np.arange(20) == 5, -1, Y), "class label -1 is outside"),
    (X, Y + 0.5, r"expects integer class labels; received \d+\.5"),
    (X[0], Y, r"2-D.*received shape \(4,\).*x.reshape\(1, -1\)"),
])
def test_fit_rejects_bad_data_naming_expected_and_received(x, y, message):
    model = _model()
    model.build(4)
    with pytest.raises(ValueError, match=message):
        model.fit(x, y, verbose=0)


def test_one_hot_targets_of_the_wrong_width():
    model = _model(loss="categorical_crossentropy")
    with pytest.raises(ValueError, match=r"one-hot targets of shape \(n, 3\).*received shape "
                                         r"\(20, 4\)"):
        model.fit(X, np.eye(4)[Y], verbose=0)
    with pytest.raises(ValueError, match="sparse_categorical_crossentropy' for integer labels"):
        model.fit(X, Y, verbose=0)


@pytest.mark.parametrize("kwargs,message", [
    ({"batch_size": 0}, "batch_size must be a positive integer; received 0"),
    ({"batch_size": 2.5}, "batch_size must be a positive integer"),
    ({"epochs": -1}, "epochs must be a non-negative integer; received -1"),
    ({"validation_split": 1.5}, r"validation_split must be in \[0, 1\)"),
    ({"validation_data": [X]}, "validation_data must be a tuple"),
    ({"sample_weight": np.ones(3)}, "sample_weight has 3 entries but x has 20"),
    ({"verbose": 5}, "verbose must be 0, 1, 2 or .auto.; received 5"),
])
def test_fit_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _model().fit(X, Y, **{"verbose": 0, **kwargs})


@pytest.mark.parametrize("make,message", [
    (lambda: gn.Dense(0), "units must be a positive integer, received 0"),
    (lambda: gn.Dense(3, activation="rleu"), "unknown activation 'rleu'; valid names are: elu"),
    (lambda: gn.Dense(3, kernel_initializer="glorot"), "unknown initializer 'glorot'; valid "
                                                       "names are: constant"),
    (lambda: gn.Dropout(1.0), r"Dropout rate must be in \[0, 1\), received 1.0"),
    (lambda: gn.SGD(-0.1), "learning_rate must be a number >= 0"),
    (lambda: gn.SGD(0.1, momentum=1.5), r"momentum must be in \[0, 1\)"),
    (lambda: gn.Adam(beta_1=1.0), r"beta_1 must be in \[0, 1\)"),
    (lambda: gn.RMSprop(rho=-1), r"rho must be in \[0, 1\)"),
    (lambda: _model().compile(loss="hinge"), "unknown loss 'hinge'; valid names are"),
    (lambda: _model().compile(loss="mse", optimizer="adagrad"), "unknown optimizer 'adagrad'; valid names are"),
    (lambda: _model().compile(loss="mse", metrics=["f1"]),
     "unknown metric .f1.; valid names are: accuracy"),
    (lambda: gn.Sequential(dtype="int8"), "dtype must be 'float32' or 'float64'"),
])
def test_constructors_and_compile_reject_bad_settings(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_predict_and_evaluate_validate_too():
    model = _model()
    model.fit(X, Y, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="5 features per sample but the model expects 4"):
        model.predict(np.ones((2, 5)))
    with pytest.raises(ValueError, match="NaN"):
        model.predict(np.full((1, 4), np.nan))
    with pytest.raises(ValueError, match="class label 3 is outside"):
        model.evaluate(X, np.full(20, 3))


def test_unscaled_inputs_warn():
    with pytest.warns(UserWarning, match="feature 2 spans .* looks unscaled|looks unscaled"):
        _model().fit(X * np.array([1, 1, 1e5, 1], dtype=np.float32), Y, verbose=0)


def test_diverging_training_stops_and_restores_the_last_finite_weights():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype(np.float32) * 1000
    y = (x @ np.array([[1.0], [2.0], [3.0]], dtype=np.float32)) ** 2
    model = gn.Sequential([gn.Dense(16, "relu"), gn.Dense(1)], seed=0)
    model.compile(loss="mse", optimizer=gn.SGD(10.0))
    seen = []

    class Keep(gn.Callback):
        def on_batch_begin(self, batch, logs=None):
            seen.append(self.model.params.copy())

    with pytest.warns(UserWarning, match="unscaled"), \
            pytest.raises(gn.TrainingDiverged, match=r"epoch \d+, batch \d+.*lower learning rate"
                          ) as info:
        model.fit(x, y, epochs=50, batch_size=8, verbose=0, callbacks=[Keep()])
    assert isinstance(info.value, FloatingPointError)
    assert len(seen) >= 2
    # seen[-1] gave the non-finite loss; seen[-2], the weights before the last update, did not
    np.testing.assert_array_equal(model.params, seen[-2])
    assert not np.array_equal(model.params, seen[-1])
    assert np.isfinite(model.params).all()
    assert np.isfinite(model.evaluate(x, y, return_dict=True)["loss"])


def test_sigint_during_fit_stops_between_steps_and_returns_history():
    model = _model()
    steps = []

    class Interrupt(gn.Callback):
        def on_batch_end(self, batch, logs=None):
            steps.append(batch)
            if len(steps) == 7:
                os.kill(os.getpid(), signal.SIGINT)

    with pytest.warns(RuntimeWarning, match="interrupted by Ctrl-C"):
        history = model.fit(X, Y, epochs=100, batch_size=4, verbose=0, callbacks=[Interrupt()])
    assert history.interrupted
    assert model.optimizer.iterations == len(steps) == 7       # no step left half-done
    assert len(history.epoch) == 1                             # 5 steps per epoch: one complete
    assert np.isfinite(model.predict(X)).all()
    # the handler is gone again: a later Ctrl-C behaves normally
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_cli_train_saves_the_model_and_exits_130_on_ctrl_c(tmp_path):
    out = tmp_path / "m.glassnet"
    proc = subprocess.Popen([sys.executable, "-u", "-m", "glassnet.cli", "train", "--epochs",
                             "100000", "--layers", "8", "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for line in proc.stdout:
        if line.startswith("Epoch 3/"):
            break
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "(interrupted)" in stdout and "model saved" in stdout
    model = gn.load_model(out)
    assert model.optimizer.iterations > 0 and len(model.history.epoch) >= 3


@pytest.mark.parametrize("call", ["predict", "evaluate"])
def test_predict_and_evaluate_refuse_a_bad_batch_size(call):
    model = _model()
    x, y = np.zeros((10, 4)), np.zeros(10, dtype=int)
    args = (x,) if call == "predict" else (x, y)
    with pytest.raises(ValueError, match="batch_size must be a positive integer; received -3"):
        getattr(model, call)(*args, batch_size=-3)
