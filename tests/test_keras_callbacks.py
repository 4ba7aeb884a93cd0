"""Keras's callbacks as Keras programs use them: TensorBoard, ModelCheckpoint(save_freq), logs."""

import os

import numpy as np
import pytest

import glassnet as gn
from glassnet import callbacks


@pytest.fixture
def data(rng):
    x = rng.normal(size=(64, 3))
    y = (x[:, :1] + x[:, 1:2] > 0).astype(float)
    return x, y


def _model(metrics=("accuracy",)):
    model = gn.Sequential([gn.Dense(4, "tanh", input_dim=3), gn.Dense(1, "sigmoid")], seed=0)
    return model.compile(optimizer=gn.Adam(0.05), loss="binary_crossentropy",
                         metrics=list(metrics))


# ----------------------------------------------------------------------------------------
# TensorBoard: event files TensorBoard's own reader reads back
# ----------------------------------------------------------------------------------------

def _read(run_dir):
    accumulator_module = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator")
    acc = accumulator_module.EventAccumulator(
        str(run_dir), size_guidance={accumulator_module.SCALARS: 0,
                                     accumulator_module.HISTOGRAMS: 0})
    acc.Reload()
    return acc


def test_tensorboard_writes_what_tensorboard_reads(data, tmp_path):
    pytest.importorskip("tensorboardX")
    x, y = data
    model = _model()
    history = model.fit(x, y, epochs=4, batch_size=16, verbose=0, validation_split=0.25,
                        callbacks=[gn.callbacks.TensorBoard(log_dir=tmp_path / "logs",
                                                            histogram_freq=2)])
    train = _read(tmp_path / "logs" / "train")
    validation = _read(tmp_path / "logs" / "validation")
    for key in ("loss", "accuracy"):
        events = train.Scalars(f"epoch_{key}")
        assert [e.step for e in events] == [0, 1, 2, 3]
        np.testing.assert_allclose([e.value for e in events], history.history[key], rtol=1e-6)
        val = validation.Scalars(f"epoch_{key}")
        np.testing.assert_allclose([e.value for e in val], history.history["val_" + key],
                                   rtol=1e-6)
    assert [e.value for e in train.Scalars("epoch_learning_rate")] == pytest.approx([0.05] * 4)
    # histograms of every weight array after epochs 2 and 4, of the weights of that moment
    tags = train.Tags()["histograms"]
    assert sorted(tags) == ["dense/W", "dense/b", "dense_1/W", "dense_1/b"]
    last = train.Histograms("dense/W")
    assert [h.step for h in last] == [1, 3]
    kernel = model.layers[0].get_weights()[0]
    assert last[-1].histogram_value.num == kernel.size
    assert last[-1].histogram_value.sum == pytest.approx(float(kernel.sum()), rel=1e-5)
    assert last[-1].histogram_value.min == pytest.approx(float(kernel.min()), rel=1e-6)


def test_tensorboard_batch_values_at_the_optimizer_step(data, tmp_path):
    pytest.importorskip("tensorboardX")
    x, y = data
    model = _model(metrics=())
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, shuffle=False,
              callbacks=[gn.callbacks.TensorBoard(tmp_path, update_freq=2)])
    events = _read(tmp_path / "train").Scalars("batch_loss")
    assert [e.step for e in events] == [2, 4, 6, 8]         # 4 batches an epoch, every 2nd
    assert all(np.isfinite(e.value) for e in events)


def test_tensorboard_rejects_bad_arguments(tmp_path):
    pytest.importorskip("tensorboardX")
    with pytest.raises(ValueError, match="histogram_freq must be an integer >= 0"):
        gn.callbacks.TensorBoard(tmp_path, histogram_freq=-1)
    with pytest.raises(ValueError, match="update_freq must be 'epoch', 'batch'"):
        gn.callbacks.TensorBoard(tmp_path, update_freq="sometimes")


# ----------------------------------------------------------------------------------------
# ModelCheckpoint(save_freq=...)
# ----------------------------------------------------------------------------------------

def test_model_checkpoint_every_n_batches_across_epochs(data, tmp_path):
    x, y = data
    model = _model()
    saved = []
    path = str(tmp_path / "m-{epoch}-{batch}.glassnet")
    check = gn.callbacks.ModelCheckpoint(path, save_freq=3)
    spy = gn.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: saved.append(
            (model.optimizer.iterations, model.get_weights()[0].copy())))
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[check, spy])
    # 8 batches in all, a save after the 3rd and 6th (counted across the epochs, as Keras)
    assert sorted(os.listdir(tmp_path)) == ["m-1-3.glassnet", "m-2-2.glassnet"]
    loaded = gn.load_model(tmp_path / "m-2-2.glassnet")
    assert loaded.optimizer.iterations == 6
    np.testing.assert_array_equal(loaded.get_weights()[0], saved[5][1])


def test_model_checkpoint_per_batch_best_only_watches_the_batch_logs(data, tmp_path):
    x, y = data
    model = _model()
    check = gn.callbacks.ModelCheckpoint(str(tmp_path / "best.glassnet"), monitor="loss",
                                         save_best_only=True, save_freq=1)
    model.fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=[check])
    assert check.best is not None and (tmp_path / "best.glassnet").exists()


def test_model_checkpoint_default_saves_each_epoch(data, tmp_path):
    x, y = data
    model = _model()
    model.fit(x, y, epochs=2, batch_size=32, verbose=0, callbacks=[
        gn.callbacks.ModelCheckpoint(str(tmp_path / "e{epoch:02d}-{loss:.2f}.glassnet"))])
    names = sorted(os.listdir(tmp_path))
    assert [n[:3] for n in names] == ["e01", "e02"]


@pytest.mark.parametrize("bad", [0, -1, "batch", 1.5, True])
def test_model_checkpoint_rejects_bad_save_freq(bad, tmp_path):
    with pytest.raises(ValueError, match="save_freq must be 'epoch' or a positive number"):
        gn.callbacks.ModelCheckpoint(str(tmp_path / "m.glassnet"), save_freq=bad)


# ----------------------------------------------------------------------------------------
# every hook receives a dict
# ----------------------------------------------------------------------------------------

def test_every_hook_receives_a_dict_never_none(data):
    x, y = data
    received = {}

    class Recorder(gn.callbacks.Callback):
        pass

    recorder = Recorder()
    for hook in callbacks.HOOKS:
        if hook in ("on_batch_begin", "on_batch_end"):
            continue
        setattr(recorder, hook, lambda *args, _hook=hook: received.setdefault(
            _hook, []).append(args[-1]))
    model = _model()
    model.fit(x, y, epochs=1, batch_size=32, verbose=0, validation_split=0.25,
              callbacks=[recorder])
    model.evaluate(x, y, callbacks=[recorder])
    model.predict(x, batch_size=32, callbacks=[recorder])
    assert set(received) == set(callbacks.HOOKS) - {"on_batch_begin", "on_batch_end"}
    for hook, logs in received.items():
        assert all(isinstance(entry, dict) for entry in logs), hook


def test_a_metric_with_several_values_is_logged_saved_and_loaded(data, tmp_path):
    x, y = data
    model = _model(metrics=[gn.metrics.Precision(thresholds=[0.3, 0.6])])
    history = model.fit(x, y, epochs=2, batch_size=32, verbose=0,
                        callbacks=[gn.callbacks.CSVLogger(tmp_path / "log.csv")])
    values = history.history["precision"]
    assert len(values) == 2 and all(len(v) == 2 for v in values)
    model.save(tmp_path / "m.glassnet")
    assert gn.load_model(tmp_path / "m.glassnet").history.history["precision"] == values
    rows = (tmp_path / "log.csv").read_text().splitlines()
    assert rows[0] == "epoch,loss,precision"
    assert rows[1].endswith(f'"[{values[0][0]!r}, {values[0][1]!r}]"')


@pytest.mark.parametrize("bad", [[["x"]], [[[1.0]]], [True], ["0.5"]])
def test_a_history_restores_only_numbers_or_lists_of_numbers(bad):
    with pytest.raises(ValueError, match="at most one number"):
        gn.callbacks.History().restore({"history": {"m": bad}, "epoch": [0]})


# ----------------------------------------------------------------------------------------
# from the survivors of tools/mutation.sh callbacks (second round)
# ----------------------------------------------------------------------------------------

def test_model_checkpoint_save_weights_only_writes_a_weights_file(data, tmp_path, capsys):
    x, y = data
    model = _model()
    model.fit(x, y, epochs=1, batch_size=16, verbose=0, shuffle=False, callbacks=[
        gn.callbacks.ModelCheckpoint(tmp_path / "w-{epoch}-{batch}.glassnet", verbose=1,
                                     save_weights_only=True, save_freq=2)])
    assert sorted(os.listdir(tmp_path)) == ["w-1-2.glassnet", "w-1-4.glassnet"]
    assert capsys.readouterr().out.splitlines() == [
        f"Epoch 1, batch 2: saved the model to {tmp_path / 'w-1-2.glassnet'}",
        f"Epoch 1, batch 4: saved the model to {tmp_path / 'w-1-4.glassnet'}"]
    fresh = _model()
    fresh.load_weights(tmp_path / "w-1-4.glassnet")            # the weights after batch 4
    np.testing.assert_array_equal(fresh.predict(x), model.predict(x))
    with pytest.raises(ValueError):
        gn.load_model(tmp_path / "w-1-4.glassnet")              # not a whole model


def test_batch_hooks_receive_the_batchs_own_logs(data):
    x, y = data
    seen = {"train_begin": [], "test_end": [], "predict_end": []}
    record = gn.callbacks.LambdaCallback(
        on_train_batch_begin=lambda batch, logs: seen["train_begin"].append(dict(logs)),
        on_test_batch_end=lambda batch, logs: seen["test_end"].append(dict(logs)),
        on_predict_batch_end=lambda batch, logs: seen["predict_end"].append(logs["outputs"]))
    model = _model()
    model.fit(x, y, epochs=1, batch_size=40, verbose=0, callbacks=[record])
    assert seen["train_begin"] == [{"size": 40}, {"size": 24}]
    model.evaluate(x, y, batch_size=40, callbacks=[record])
    assert [sorted(logs) for logs in seen["test_end"]] == [["accuracy", "loss"]] * 2
    assert seen["test_end"][-1]["loss"] == pytest.approx(
        model.evaluate(x, y, return_dict=True)["loss"], rel=1e-6)
    p = model.predict(x, batch_size=40, callbacks=[record])
    np.testing.assert_array_equal(np.concatenate(seen["predict_end"]), p)


def test_tensorboard_batch_frequency_histograms_and_a_second_fit(data, tmp_path, monkeypatch):
    pytest.importorskip("tensorboardX")
    x, y = data
    model = _model(metrics=["accuracy", gn.metrics.Precision(thresholds=[0.3, 0.7])])
    board = gn.callbacks.TensorBoard(tmp_path / "a", update_freq="batch", histogram_freq=3)
    model.fit(x, y, epochs=3, batch_size=32, verbose=0, validation_split=0.25,
              callbacks=[board])
    train = _read(tmp_path / "a" / "train")
    assert [e.step for e in train.Scalars("batch_loss")] == [1, 2, 3, 4, 5, 6]   # every batch
    assert "batch_size" not in train.Tags()["scalars"]
    assert [h.step for h in train.Histograms("dense/W")] == [2]               # after epoch 3
    # a metric with several values has no scalar chart; the values after it still do
    validation = _read(tmp_path / "a" / "validation")
    assert [e.step for e in validation.Scalars("epoch_loss")] == [0, 1, 2]
    assert "epoch_precision" not in train.Tags()["scalars"]
    model.fit(x, y, epochs=1, batch_size=32, verbose=0, callbacks=[board])     # used again
    assert 3 in [e.step for e in _read(tmp_path / "a" / "train").Scalars("epoch_loss")]
    gn.callbacks.TensorBoard(tmp_path / "b", update_freq=1)                    # accepted
    # Keras's defaults: ./logs, epoch values only, no histograms
    monkeypatch.chdir(tmp_path)
    _model().fit(x, y, epochs=1, verbose=0, callbacks=[gn.callbacks.TensorBoard()])
    default = _read(tmp_path / "logs" / "train")
    assert default.Tags()["histograms"] == [] and "batch_loss" not in default.Tags()["scalars"]
    assert [e.step for e in default.Scalars("epoch_loss")] == [0]
    for bad in (True, 1.5):
        with pytest.raises(ValueError, match="histogram_freq must be an integer >= 0"):
            gn.callbacks.TensorBoard(tmp_path, histogram_freq=bad)


class _Writer:
    """A stream with write and flush only (no isatty): a log file object of a user's own."""

    def __init__(self):
        self.parts = []

    def write(self, text):
        self.parts.append(text)

    def flush(self):
        pass


def test_progress_lines_to_a_stream_without_isatty_and_a_loaded_models_history(data,
                                                                               tmp_path):
    x, y = data
    stream = _Writer()
    model = _model()
    model.fit(x, y, epochs=2, verbose=0,
              callbacks=[gn.callbacks.ProgbarLogger(verbose=1, stream=stream)])
    lines = "".join(stream.parts).splitlines()
    assert [line.split(" - ")[0] for line in lines] == ["Epoch 1/2", "Epoch 2/2"]
    model.save(tmp_path / "m.glassnet")
    assert gn.load_model(tmp_path / "m.glassnet").history.interrupted is False
