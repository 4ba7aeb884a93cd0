"""Callbacks follow Keras's rules epoch by epoch: when they stop, save, reduce and log.

Each callback is driven with a scripted sequence of logged values, so the expected epoch
of every decision is worked out by hand here (written against the survivors of
tools/mutation.sh callbacks).
"""
import io
import re
import threading

import numpy as np
import pytest

import glassnet as gn


def _model(metrics=("accuracy",)):
    model = gn.Sequential([gn.Dense(2, "softmax")], seed=0)
    model.compile(gn.SGD(0.1), "sparse_categorical_crossentropy", metrics=list(metrics))
    model.build(3)
    return model


def _drive(callback, values, key="val_loss", model=None):
    """Feed ``values`` as the epochs' logs; the epochs after which training was stopped."""
    model = model or _model()
    callback.set_model(model)
    callback.on_train_begin()
    stops = []
    for epoch, value in enumerate(values):
        model.stop_training = False
        logs = {"loss": 1.0} if value is None else {"loss": 1.0, key: value}
        callback.on_epoch_end(epoch, logs)
        if model.stop_training:
            stops.append(epoch)
            break
    callback.on_train_end()
    return stops, model


@pytest.mark.parametrize("values,patience,min_delta,stop,best", [
    ([1.0, 0.9, 0.95, 0.93, 0.8], 2, 0.0, 3, 0.9),     # two epochs without improving
    ([1.0, 0.9, 0.95, 0.85, 0.86, 0.87], 2, 0.0, 5, 0.85),
    ([1.0, 0.97, 0.96, 0.5], 1, 0.05, 1, 1.0),          # 0.03 is not more than min_delta
    ([1.0, 0.97, 0.96, 0.5], 1, 0.01, 2, 0.97),         # 0.03 is; 0.01 is not
    ([1.0, 1.0, 1.0], 0, 0.0, 1, 1.0),                  # equal is not better; not at epoch 0
    ([1.0, 0.9, 0.8, 0.7], 1, 0.0, None, 0.7),
])
def test_early_stopping_epochs(values, patience, min_delta, stop, best):
    es = gn.EarlyStopping(patience=patience, min_delta=min_delta)
    stops, _ = _drive(es, values)
    assert stops == ([] if stop is None else [stop])
    assert es.stopped_epoch == stop and es.best == best
    assert es.best_epoch == values.index(best)


def test_early_stopping_maximises_accuracy_and_minimises_the_rest():
    es = gn.EarlyStopping(monitor="val_accuracy", patience=1)
    assert _drive(es, [0.5, 0.6, 0.7, 0.65], key="val_accuracy")[0] == [3]
    assert es.best == 0.7
    es = gn.EarlyStopping(monitor="val_mae", patience=1)
    assert _drive(es, [0.5, 0.6], key="val_mae", model=_model(("mae",)))[0] == [1]
    es = gn.EarlyStopping(monitor="val_loss", patience=1, mode="max")
    assert _drive(es, [0.5, 0.6, 0.4])[0] == [2]
    with pytest.raises(ValueError, match=r"EarlyStopping mode must be 'auto', 'min' or 'max', "
                                         r"received 'up'"):
        gn.EarlyStopping(mode="up")
    with pytest.raises(ValueError, match=r"EarlyStopping patience must be >= 0, received -1"):
        gn.EarlyStopping(patience=-1)


def test_early_stopping_baseline_start_and_missing_validation():
    # improving, but never beating the baseline: the wait is not reset
    es = gn.EarlyStopping(patience=2, baseline=0.5)
    assert _drive(es, [0.9, 0.8, 0.85, 0.7])[0] == [2]
    es = gn.EarlyStopping(patience=2, baseline=0.85)
    assert _drive(es, [0.9, 0.8, 0.85, 0.82, 0.81])[0] == [3]
    # warm-up epochs are not watched at all
    es = gn.EarlyStopping(patience=0, start_from_epoch=2)
    assert _drive(es, [0.5, 0.6, 0.7, 0.8])[0] == [3] and es.best == 0.7
    # epochs without validation (validation_freq) are skipped, not errors
    es = gn.EarlyStopping(patience=1)
    assert _drive(es, [1.0, None, 1.1])[0] == [2]
    with pytest.raises(ValueError, match=r"EarlyStopping monitors 'val_los', which is not "
                                         r"among the logged values \['loss', 'val_loss'\]"):
        _drive(gn.EarlyStopping(monitor="val_los"), [1.0])
    with pytest.raises(ValueError, match=r"monitors 'mae', which is not among"):
        _drive(gn.EarlyStopping(monitor="mae"), [1.0])


def test_early_stopping_restores_the_best_epochs_weights():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3))
    y = (x[:, 0] > 0).astype(int)
    model = _model()
    snapshots = []
    keep = gn.LambdaCallback(on_epoch_end=lambda epoch, logs: snapshots.append(
        model.variables.copy()))
    es = gn.EarlyStopping(monitor="loss", patience=50)
    history = model.fit(x, y, epochs=6, verbose=0, callbacks=[keep, es])
    best = int(np.argmin(history.history["loss"]))
    np.testing.assert_array_equal(model.variables, snapshots[best])
    plain = _model()
    plain.fit(x, y, epochs=6, verbose=0,
              callbacks=[gn.EarlyStopping(monitor="loss", restore_best_weights=False)])
    np.testing.assert_array_equal(plain.variables, snapshots[-1])


def test_model_checkpoint_saves_the_improving_epochs_by_name(tmp_path, capsys):
    pattern = str(tmp_path / "m-{epoch:02d}-{val_loss:.2f}.glassnet")
    cp = gn.ModelCheckpoint(pattern, save_best_only=True, verbose=1)
    _drive(cp, [1.0, 0.5, 0.7, 0.5, 0.25])
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "m-01-1.00.glassnet", "m-02-0.50.glassnet", "m-05-0.25.glassnet"]
    assert "Epoch 5: saved the model to " in capsys.readouterr().out
    every = gn.ModelCheckpoint(str(tmp_path / "all-{epoch}.glassnet"))
    _drive(every, [1.0, 2.0])
    assert (tmp_path / "all-1.glassnet").exists() and (tmp_path / "all-2.glassnet").exists()
    best_acc = gn.ModelCheckpoint(str(tmp_path / "acc-{epoch}.glassnet"),
                                  monitor="val_accuracy", save_best_only=True)
    _drive(best_acc, [0.5, 0.4, 0.6], key="val_accuracy")
    assert sorted(p.name for p in tmp_path.glob("acc-*")) == ["acc-1.glassnet",
                                                              "acc-3.glassnet"]
    loaded = gn.load_model(tmp_path / "m-05-0.25.glassnet")
    assert loaded.input_dim == 3


def test_reduce_lr_on_plateau_schedule(capsys):
    model = _model()
    model.optimizer.learning_rate = 0.8
    cb = gn.ReduceLROnPlateau(factor=0.5, patience=2, cooldown=1, min_lr=0.15, min_delta=0.0,
                              verbose=1)
    cb.set_model(model)
    cb.on_train_begin()
    rates = []
    for epoch, value in enumerate([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.6, 0.6, 0.6]):
        logs = {"val_loss": value}
        cb.on_epoch_end(epoch, logs)
        rates.append(model.optimizer.current_learning_rate())
        assert logs["learning_rate"] == pytest.approx(rates[-2] if epoch else 0.8)
    # Keras's rule: 2 epochs without improvement -> 0.4 (epoch 2); the cooldown epoch resets
    # the wait and then counts as one -> 0.2 at epoch 4; likewise 0.1, floored at min_lr 0.15,
    # at epoch 6; an improvement (7); then no further cut: already at min_lr
    assert rates == pytest.approx([0.8, 0.8, 0.4, 0.4, 0.2, 0.2, 0.15, 0.15, 0.15, 0.15, 0.15])
    assert "Epoch 3: learning rate reduced to 0.4" in capsys.readouterr().out
    with pytest.raises(ValueError, match=r"ReduceLROnPlateau factor must be in \(0, 1\), "
                                         r"received 1.0"):
        gn.ReduceLROnPlateau(factor=1.0)


def test_reduce_lr_on_plateau_default_min_delta_and_accuracy():
    model = _model()
    model.optimizer.learning_rate = 1.0
    cb = gn.ReduceLROnPlateau(monitor="val_accuracy", patience=1, factor=0.5)
    cb.set_model(model)
    cb.on_train_begin()
    for epoch, value in enumerate([0.5, 0.50005, 0.6]):     # +5e-5 is below min_delta 1e-4
        cb.on_epoch_end(epoch, {"val_accuracy": value})
    assert model.optimizer.current_learning_rate() == pytest.approx(0.5)


def test_csv_logger_writes_every_epoch_exactly(tmp_path):
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(20, 3)), rng.integers(0, 2, size=20)
    path = tmp_path / "log.csv"
    model = _model()
    history = model.fit(x, y, epochs=2, verbose=0, validation_split=0.25,
                        callbacks=[gn.CSVLogger(path, separator=";")])
    lines = path.read_text().splitlines()
    assert lines[0] == "epoch;accuracy;loss;val_accuracy;val_loss"
    for epoch, line in enumerate(lines[1:]):
        fields = line.split(";")
        assert fields[0] == str(epoch)
        for key, text in zip(["accuracy", "loss", "val_accuracy", "val_loss"], fields[1:]):
            assert float(text) == history.history[key][epoch]          # repr: exact
    assert len(lines) == 3
    model.fit(x, y, epochs=1, verbose=0, validation_split=0.25,
              callbacks=[gn.CSVLogger(path, separator=";", append=True)])
    lines = path.read_text().splitlines()
    # the header is kept; a further fit continues the epoch count (as History does)
    assert len(lines) == 4 and lines[0].startswith("epoch;") and lines[3].startswith("2;")
    model.fit(x, y, epochs=1, verbose=0, callbacks=[gn.CSVLogger(path)])   # overwrite
    assert path.read_text().splitlines()[0] == "epoch,accuracy,loss"
    assert len(path.read_text().splitlines()) == 2


def test_progress_lines_show_the_epoch_and_every_metric():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(20, 3)), rng.integers(0, 2, size=20)
    out = io.StringIO()
    model = _model()
    history = model.fit(x, y, epochs=3, verbose=0, validation_split=0.25,
                        callbacks=[gn.callbacks.ProgbarLogger(verbose=2, stream=out)])
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    for epoch, line in enumerate(lines):
        m = re.fullmatch(r"Epoch (\d+)/3 - (\d+\.\d\d)s - loss: ([0-9.]+) - accuracy: "
                         r"([0-9.]+) - val_loss: ([0-9.]+) - val_accuracy: ([0-9.]+)", line)
        assert m, line
        assert float(m.group(2)) < 60                          # the epoch's own seconds
        assert int(m.group(1)) == epoch + 1
        assert float(m.group(3)) == pytest.approx(history.history["loss"][epoch], abs=1e-4)
        assert float(m.group(6)) == pytest.approx(history.history["val_accuracy"][epoch],
                                                  abs=1e-4)


def test_history_survives_save_and_load(tmp_path):
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(20, 3)), np.arange(20) % 2
    model = _model()
    model.fit(x, y, epochs=3, verbose=0, validation_split=0.25, validation_freq=2)
    model.save(tmp_path / "m.glassnet")
    loaded = gn.load_model(tmp_path / "m.glassnet")
    assert loaded.history.history == model.history.history
    assert loaded.history.epoch == [0, 1, 2]
    assert len(loaded.history.history["val_loss"]) == 1        # validated once, at epoch 2
    assert repr(loaded.history).startswith("History(epochs=3, last={")
    loaded.fit(x, y, epochs=1, verbose=0)
    assert loaded.history.epoch == [0, 1, 2, 3] and len(loaded.history.history["loss"]) == 4


class _TTY(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_on_a_terminal_shows_the_epoch_the_samples_and_the_running_loss(
        monkeypatch):
    tqdm = pytest.importorskip("tqdm")
    # no monitor thread and a plain lock (tqdm's default also takes a multiprocessing lock):
    # both hang the forked workers of mutation testing
    monkeypatch.setattr(tqdm.tqdm, "monitor_interval", 0)
    previous_lock = tqdm.tqdm.get_lock()
    tqdm.tqdm.set_lock(threading.RLock())
    try:
        _progress_bar_checks()
    finally:
        tqdm.tqdm.set_lock(previous_lock)


def _progress_bar_checks():
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(200, 3)), np.arange(200) % 2
    out = _TTY()
    model = _model()
    history = model.fit(x, y, epochs=2, batch_size=10, verbose=0,
                        callbacks=[gn.callbacks.ProgbarLogger(verbose=1, stream=out)])
    text = out.getvalue()
    assert "Epoch 1/2" in text and "Epoch 2/2" in text
    assert "0/200 [" in text and "sample/s]" in text     # a bar over the epoch's samples
    lines = [l for l in re.split(r"[\r\n]", text) if l.startswith("Epoch 2/2 - ")]
    assert len(lines) == 1 and f"loss: {history.history['loss'][1]:.4f}" in lines[0]
    quiet = _TTY()
    model.fit(x, y, epochs=1, verbose=0,
              callbacks=[gn.callbacks.ProgbarLogger(verbose=2, stream=quiet)])
    assert "sample" not in quiet.getvalue() and quiet.getvalue().count("\n") == 1


def test_evaluate_and_predict_send_their_events_with_batch_numbers():
    events = []

    class Recorder(gn.Callback):
        def on_test_begin(self, logs=None):
            events.append("test_begin")

        def on_test_batch_begin(self, batch, logs=None):
            events.append(("test_batch_begin", batch))

        def on_test_batch_end(self, batch, logs=None):
            events.append(("test_batch_end", batch))

        def on_test_end(self, logs=None):
            events.append(("test_end", sorted(logs or {})))

        def on_predict_begin(self, logs=None):
            events.append("predict_begin")

        def on_predict_batch_begin(self, batch, logs=None):
            events.append(("predict_batch_begin", batch))

        def on_predict_batch_end(self, batch, logs=None):
            events.append(("predict_batch_end", batch))

        def on_predict_end(self, logs=None):
            events.append("predict_end")

        def on_train_batch_begin(self, batch, logs=None):
            events.append(("train_batch_begin", batch))

        def on_epoch_begin(self, epoch, logs=None):
            events.append(("epoch_begin", epoch))

        def on_train_begin(self, logs=None):
            events.append("train_begin")

        def on_train_end(self, logs=None):
            events.append("train_end")

    model = _model()
    x, y = np.zeros((25, 3)), np.arange(25) % 2
    model.evaluate(x, y, batch_size=10, callbacks=[Recorder()])
    assert events == ["test_begin", ("test_batch_begin", 0), ("test_batch_end", 0),
                      ("test_batch_begin", 1), ("test_batch_end", 1),
                      ("test_batch_begin", 2), ("test_batch_end", 2),
                      ("test_end", ["accuracy", "loss"])]
    events.clear()
    model.predict(x, batch_size=20, callbacks=[Recorder()])
    assert events == ["predict_begin", ("predict_batch_begin", 0), ("predict_batch_end", 0),
                      ("predict_batch_begin", 1), ("predict_batch_end", 1), "predict_end"]
    events.clear()
    model.fit(x, y, batch_size=20, epochs=1, verbose=0, callbacks=[Recorder()])
    assert events == ["train_begin", ("epoch_begin", 0), ("train_batch_begin", 0),
                      ("train_batch_begin", 1), "train_end"]


def test_keras_defaults():
    es = gn.EarlyStopping()
    assert (es.monitor, es.patience, es.baseline, es.restore_best_weights,
            es.start_from_epoch) == ("val_loss", 0, None, True, 0)
    assert _drive(es, [1.0, 1.0])[0] == [1]                 # patience 0, min_delta 0
    rl = gn.ReduceLROnPlateau()
    assert (rl.factor, rl.patience, rl.cooldown, rl.min_lr) == (0.1, 10, 0, 0.0)
    model = _model()
    model.optimizer.learning_rate = 1.0
    _drive(rl, [1.0] * 11, model=model)
    assert model.optimizer.current_learning_rate() == pytest.approx(0.1)   # after 10 epochs
    cp = gn.ModelCheckpoint("m.glassnet")
    assert (cp.monitor, cp.save_best_only) == ("val_loss", False)
    log = gn.CSVLogger("log.csv")
    assert (log.separator, log.append) == (",", False)


@pytest.mark.parametrize("history,message", [
    ({"history": {"loss": [1.0, 2.0]}, "epoch": [0]}, r"the history of 'loss' must hold at "
                                                       r"most one number \(or list of numbers\) "
                                                       r"for each of the 1 epochs"),
    ({"history": {"loss": ["1.0"]}, "epoch": [0]}, r"history of 'loss' must hold"),
    ({"history": {"loss": [True]}, "epoch": [0]}, r"history of 'loss' must hold"),
    ({"history": {"loss": 1.0}, "epoch": [0]}, r"history of 'loss' must hold"),
    ({"history": {"loss": [1.0]}, "epoch": [-1]}, r"the history must be \{name: \[one number "
                                                  r"per epoch\]\} with non-negative integer "
                                                  r"epochs"),
    ({"history": {"loss": [1.0]}, "epoch": [True]}, r"non-negative integer epochs"),
    ({"history": {"loss": [1.0]}, "epoch": [2 ** 53]}, r"non-negative integer epochs"),
    ({"history": {"loss": [1.0]}, "epoch": 0}, r"non-negative integer epochs"),
    ({"history": [], "epoch": []}, r"non-negative integer epochs"),
])
def test_a_saved_history_is_checked(history, message):
    with pytest.raises(ValueError, match=message):
        gn.History().restore(history)


def test_a_saved_history_is_restored_as_floats():
    h = gn.History()
    h.restore({"history": {"loss": [1, 0.5], "val_loss": [2]}, "epoch": [0, 2 ** 53 - 1]})
    assert h.history == {"loss": [1.0, 0.5], "val_loss": [2.0]}
    assert all(type(v) is float for v in h.history["loss"]) and h.epoch == [0, 2 ** 53 - 1]
    h.restore({})
    assert h.history == {} and h.epoch == []
    assert repr(gn.History()) == "History(epochs=0, last={})"


def test_modes_given_explicitly_and_metrics_without_val(capsys):
    es = gn.EarlyStopping(monitor="val_accuracy", mode="min", patience=1)
    assert _drive(es, [0.5, 0.6], key="val_accuracy")[0] == [1]       # lower wanted
    es = gn.EarlyStopping(monitor="accuracy", patience=1)              # auto: an accuracy
    assert _drive(es, [0.5, 0.6, 0.7], key="accuracy")[0] == [] and es.best == 0.7
    es = gn.EarlyStopping(patience=3, baseline=0.5)                    # wait counts from 0
    assert _drive(es, [0.9, 0.95, 0.97])[0] == [2]
    assert capsys.readouterr().out == ""                                 # quiet by default
    es = gn.EarlyStopping(patience=1, verbose=1)
    _drive(es, [1.0, 0.9, 0.95])
    assert capsys.readouterr().out == "Epoch 3: early stopping (best val_loss 0.9 at epoch 2)\n"


def test_model_checkpoint_mode_and_messages(tmp_path, capsys):
    cp = gn.ModelCheckpoint(str(tmp_path / "m-{epoch}.glassnet"), save_best_only=True,
                            mode="max")
    _drive(cp, [1.0, 0.5, 2.0])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m-1.glassnet", "m-3.glassnet"]
    assert capsys.readouterr().out == ""                                 # quiet by default
    with pytest.raises(ValueError, match=r"^ModelCheckpoint monitors 'val_acc', which is not"):
        _drive(gn.ModelCheckpoint(str(tmp_path / "x.glassnet"), monitor="val_acc",
                                  save_best_only=True), [1.0])
    with pytest.raises(ValueError, match=r"^ReduceLROnPlateau monitors 'val_acc', which is"):
        _drive(gn.ReduceLROnPlateau(monitor="val_acc"), [1.0])
    with pytest.raises(ValueError, match=r"ReduceLROnPlateau factor must be in \(0, 1\), "
                                         r"received 0.0"):
        gn.ReduceLROnPlateau(factor=0.0)


def test_reduce_lr_on_plateau_refuses_a_schedule_and_the_scheduler_logs(capsys):
    model = _model()
    model.optimizer.learning_rate = gn.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    cb = gn.ReduceLROnPlateau(patience=1)
    cb.set_model(model)
    cb.on_train_begin()
    cb.on_epoch_end(0, {"val_loss": 1.0})
    with pytest.raises(ValueError, match=r"^ReduceLROnPlateau needs a number as the "
                                         r"optimizer's learning rate, not a schedule$"):
        cb.on_epoch_end(1, {"val_loss": 1.0})
    rng = np.random.default_rng(5)
    x, y = rng.normal(size=(8, 3)), np.arange(8) % 2
    quiet = _model()
    quiet.fit(x, y, epochs=1, verbose=0,
              callbacks=[gn.LearningRateScheduler(lambda epoch: 0.05)])
    assert capsys.readouterr().out == ""
    loud = _model()
    history = loud.fit(x, y, epochs=2, verbose=0, callbacks=[
        gn.LearningRateScheduler(lambda epoch, lr: lr * 0.5, verbose=1)])
    assert capsys.readouterr().out == ("Epoch 1: learning rate 0.05\n"
                                       "Epoch 2: learning rate 0.025\n")
    assert history.history["learning_rate"] == pytest.approx([0.05, 0.025])


def test_history_repr_and_csv_logger_appending_to_an_empty_file(tmp_path):
    h = gn.History()
    h.restore({"history": {"loss": [0.5, 0.123456789]}, "epoch": [0, 1]})
    assert repr(h) == "History(epochs=2, last={'loss': 0.123457})"
    (tmp_path / "log.csv").write_text("")                         # there, but empty
    rng = np.random.default_rng(6)
    _model().fit(rng.normal(size=(8, 3)), np.arange(8) % 2, epochs=1, verbose=0,
                 callbacks=[gn.CSVLogger(tmp_path / "log.csv", append=True)])
    lines = (tmp_path / "log.csv").read_text().splitlines()
    assert lines[0] == "epoch,accuracy,loss" and len(lines) == 2


def test_reduce_lr_without_cooldown_waits_patience_epochs_again():
    model = _model()
    model.optimizer.learning_rate = 1.0
    cb = gn.ReduceLROnPlateau(factor=0.5, patience=2, min_delta=0.0)
    cb.set_model(model)
    cb.on_train_begin()
    rates = []
    for epoch in range(7):
        cb.on_epoch_end(epoch, {"val_loss": 1.0})
        rates.append(model.optimizer.current_learning_rate())
    assert rates == pytest.approx([1.0, 1.0, 0.5, 0.5, 0.25, 0.25, 0.125])


# -- from the survivors of the second round (each one read; see tools/mutation-survivors.md) ----

def _xy(n=40, seed=7):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 3)), np.arange(n) % 2


def test_csv_logger_keeps_the_validation_values_of_every_validated_epoch(tmp_path):
    # validation_freq=2: the first epoch has no val_ values; Keras's CSVLogger still has the
    # columns, and so must this one (it used to drop them for the whole run)
    x, y = _xy()
    model = _model()
    history = model.fit(x, y, epochs=4, verbose=0, validation_split=0.25, validation_freq=2,
                        callbacks=[gn.CSVLogger(tmp_path / "log.csv")])
    lines = (tmp_path / "log.csv").read_text().splitlines()
    assert lines[0] == "epoch,accuracy,loss,val_accuracy,val_loss" and len(lines) == 5
    rows = [line.split(",") for line in lines[1:]]
    assert [r[0] for r in rows] == ["0", "1", "2", "3"]
    assert rows[0][3:] == ["", ""] and rows[2][3:] == ["", ""]      # not validated: empty
    assert [float(rows[1][4]), float(rows[3][4])] == history.history["val_loss"]
    assert [float(r[2]) for r in rows] == history.history["loss"]
    # the first epoch validates, the second does not: its val_ fields are empty
    model = _model()
    history = model.fit(x, y, epochs=2, verbose=0, validation_split=0.25,
                        validation_freq=[1], callbacks=[gn.CSVLogger(tmp_path / "b.csv")])
    assert (tmp_path / "b.csv").read_text().splitlines()[1:] == [
        f"0,{history.history['accuracy'][0]!r},{history.history['loss'][0]!r},"
        f"{history.history['val_accuracy'][0]!r},{history.history['val_loss'][0]!r}",
        f"1,{history.history['accuracy'][1]!r},{history.history['loss'][1]!r},,"]
    # appending below an older header never rewrites the rows already there
    model.fit(x, y, epochs=2, verbose=0, validation_split=0.25, validation_freq=2,
              callbacks=[gn.CSVLogger(tmp_path / "b.csv", append=True)])
    lines = (tmp_path / "b.csv").read_text().splitlines()
    assert len(lines) == 5 and lines[1].startswith("0,") and lines[3].startswith("2,")


def test_a_metric_at_several_thresholds_is_one_quoted_csv_field(tmp_path):
    x, y = _xy()
    model = gn.Sequential([gn.Dense(1, "sigmoid")], seed=0)
    model.compile(gn.SGD(0.1), "binary_crossentropy",
                  metrics=[gn.metrics.Precision(thresholds=[0.3, 0.7])])
    history = model.fit(x, y, epochs=2, verbose=0, callbacks=[gn.CSVLogger(tmp_path / "l.csv")])
    import csv
    with open(tmp_path / "l.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))           # what pandas / a spreadsheet reads
    assert len(rows) == 2
    for epoch, row in enumerate(rows):
        values = history.history["precision"][epoch]
        assert len(values) == 2
        assert row["precision"] == "[" + ", ".join(repr(float(v)) for v in values) + "]"


def _interrupt_at(hook, when):
    """A callback that presses Ctrl-C (SIGINT to this process) at ``hook`` number ``when``."""
    import signal
    calls = []

    def press(*args):
        calls.append(args)
        if len(calls) == when:
            signal.raise_signal(signal.SIGINT)
    return gn.callbacks.LambdaCallback(**{hook: press})


def test_backup_is_kept_after_ctrl_c_and_deleted_when_fit_completes(tmp_path):
    x, y = _xy()
    backup = tmp_path / "backup" / "latest.glassnet"

    def run(*extra, epochs=6):
        model = _model()
        history = model.fit(x, y, epochs=epochs, batch_size=10, verbose=0,
                            callbacks=[gn.BackupAndRestore(tmp_path / "backup"), *extra])
        return model, history

    with pytest.warns(RuntimeWarning, match="interrupted by Ctrl-C after 2 complete"):
        _, history = run(_interrupt_at("on_epoch_end", 2))
    assert history.interrupted is True and history.epoch == [0, 1] and backup.exists()
    # resumed, then Ctrl-C again during the first epoch of this run: the backup stays
    with pytest.warns(RuntimeWarning, match="interrupted by Ctrl-C"):
        _, history = run(_interrupt_at("on_train_batch_end", 1))
    assert history.interrupted is True and history.epoch == [] and backup.exists()
    # the backup is written as each epoch begins: Ctrl-C after epoch 2 (index 1) resumes at
    # the beginning of epoch index 1, and runs to the end
    model, history = run()
    assert history.interrupted is False and history.epoch == [1, 2, 3, 4, 5]
    assert model.history.epoch == [0, 1, 2, 3, 4, 5] and not backup.exists()
    # an early stop completes fit too (Keras deletes the backup then): a later run starts
    # afresh instead of resuming a finished one
    es = gn.EarlyStopping(monitor="loss", patience=0, min_delta=10.0)
    model, history = run(es, epochs=50)
    assert es.stopped_epoch == 1 and history.epoch == [0, 1] and not backup.exists()


def test_early_stopping_that_never_watched_leaves_the_trained_weights(tmp_path):
    x, y = _xy()
    plain, watched = _model(), _model()
    plain.fit(x, y, epochs=2, verbose=0, validation_split=0.25)
    es = gn.EarlyStopping(start_from_epoch=5)                  # longer than the run
    watched.fit(x, y, epochs=2, verbose=0, validation_split=0.25, callbacks=[es])
    assert es.best_weights is None
    np.testing.assert_array_equal(watched.predict(x), plain.predict(x))


def test_progress_bar_shows_the_epochs_running_loss(monkeypatch):
    tqdm = pytest.importorskip("tqdm")
    monkeypatch.setattr(tqdm.tqdm, "monitor_interval", 0)
    previous_lock = tqdm.tqdm.get_lock()
    tqdm.tqdm.set_lock(threading.RLock())

    class Eager(tqdm.tqdm):             # draws at every update (a slow epoch's view)
        def __init__(self, *args, **kwargs):
            super().__init__(*args, mininterval=0, miniters=1, **kwargs)

    monkeypatch.setattr(tqdm, "tqdm", Eager)
    try:
        rng = np.random.default_rng(8)
        x, y = rng.normal(size=(300, 3)), np.arange(300) % 2
        out, seen = _TTY(), {}
        record = gn.callbacks.LambdaCallback(
            on_epoch_begin=lambda epoch, logs: seen.setdefault(epoch, []),
            on_train_batch_end=lambda batch, logs: seen[max(seen)].append(logs["loss"]))
        model = _model()
        model.fit(x, y, epochs=2, batch_size=10, verbose=0,
                  callbacks=[record, gn.callbacks.ProgbarLogger(stream=out)])   # verbose=1
    finally:
        tqdm.tqdm.set_lock(previous_lock)
    text = out.getvalue()
    # what stays on the terminal: the two epoch lines; each bar is cleared (leave=False)
    visible = [line.split("\r")[-1].strip() for line in text.split("\n")]
    assert [line.split(" - ")[0] for line in visible if line] == ["Epoch 1/2", "Epoch 2/2"]
    for epoch in (0, 1):
        part = text.split(f"Epoch {epoch + 1}/2")
        assert len(part) >= 2
        bars = "".join(p for p in part[1:] if not p.startswith(" - "))   # not the epoch line
        shown = re.findall(r"loss=([0-9.]+)", bars.split("Epoch")[0] if epoch else bars)
        # every 10 batches, the running loss of the epoch so far (what Keras's bar shows)
        assert set(shown) >= {f"{seen[epoch][0]:.4f}", f"{seen[epoch][10]:.4f}",
                              f"{seen[epoch][20]:.4f}"}
        assert set(shown) <= {f"{seen[epoch][k]:.4f}" for k in (0, 10, 20)}


def test_lambda_callback_names_a_misspelt_hook_and_reduce_lr_is_quiet(capsys):
    with pytest.raises(ValueError, match=r"LambdaCallback received 'on_epoch_ended', which is "
                                         r"not a callback hook"):
        gn.callbacks.LambdaCallback(on_epoch_ended=print)
    x, y = _xy()
    model = _model()
    model.optimizer.learning_rate = 0.4
    model.fit(x, y, epochs=3, verbose=0, validation_split=0.25,
              callbacks=[gn.ReduceLROnPlateau(factor=0.5, patience=0, min_delta=10.0)])
    assert model.optimizer.current_learning_rate() == pytest.approx(0.1)    # two cuts
    assert capsys.readouterr().out == ""                    # verbose=0, as Keras
