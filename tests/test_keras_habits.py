"""Keras code runs as written: one test per everyday habit of a Keras user.

Expected values follow Keras 3's documentation (keras.io/api): names, argument order,
return types and the rules of its callbacks.
"""
import csv
import io

import numpy as np
import pytest

import glassnet as gn


@pytest.fixture
def data(rng):
    x = rng.normal(size=(64, 4))
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 1)
    return x, y


# -- namespaces ---------------------------------------------------------------------------

def test_namespaces_a_keras_user_reaches_for():
    assert gn.models.Sequential is gn.Sequential and gn.models.load_model is gn.load_model
    assert gn.datasets.digits()[0].shape == (1797, 64)
    np.testing.assert_array_equal(gn.activations.relu(np.array([-1.0, 2.0])), [0.0, 2.0])
    np.testing.assert_allclose(gn.activations.sigmoid(np.array([0.0])), [0.5])
    assert gn.layers.Dense(3, activation=gn.activations.relu).activation.name == "relu"
    assert gn.regularizers.l2(0.01).get_config() == {"l2": 0.01}
    assert gn.regularizers.l1(0.02).get_config() == {"l1": 0.02}
    assert gn.regularizers.l1_l2(l1=0.1, l2=0.2).get_config() == {"l1": 0.1, "l2": 0.2}
    onehot = gn.utils.to_categorical([0, 2, 1], num_classes=3)
    np.testing.assert_array_equal(onehot, [[1, 0, 0], [0, 0, 1], [0, 1, 0]])
    assert onehot.dtype == np.float32


# -- a model with a known input is built at once --------------------------------------------

@pytest.mark.parametrize("make", [
    lambda: gn.Sequential([gn.Dense(5, "relu", input_dim=4), gn.Dense(2)]),
    lambda: gn.Sequential([gn.Dense(5, "relu", input_shape=(4,)), gn.Dense(2)]),
    lambda: gn.Sequential([gn.Input(shape=(4,)), gn.Dense(5, "relu"), gn.Dense(2)]),
    lambda: gn.Sequential([gn.layers.InputLayer(shape=(4,)), gn.Dense(5, "relu"),
                           gn.Dense(2)])])
def test_a_model_with_a_known_input_is_built_at_once(make, tmp_path):
    model = make()
    assert model.built and model.count_params() == 4 * 5 + 5 + 5 * 2 + 2
    assert [w.shape for w in model.get_weights()] == [(4, 5), (5,), (5, 2), (2,)]
    assert len(model.weights) == 4
    out = io.StringIO()
    model.summary(print_fn=out.write)
    assert "Total params: 37" in out.getvalue()
    model.save(tmp_path / "m.glassnet")
    np.testing.assert_array_equal(gn.load_model(tmp_path / "m.glassnet").get_weights()[0],
                                  model.get_weights()[0])


def test_a_model_grows_with_add_after_input_and_keeps_its_weights():
    model = gn.Sequential()
    model.add(gn.Input(shape=(3,)))
    model.add(gn.Dense(4, "relu"))
    first = model.get_weights()[0]
    model.add(gn.Dense(1))
    assert model.count_params() == 3 * 4 + 4 + 4 + 1
    np.testing.assert_array_equal(model.get_weights()[0], first)


def test_an_unbuilt_model_says_so_instead_of_counting_zero():
    model = gn.Sequential([gn.Dense(2)])
    with pytest.raises(ValueError, match="not built yet.*input_dim"):
        model.count_params()
    with pytest.raises(ValueError, match="no weights yet"):
        model.weights


# -- weights as Keras exposes them --------------------------------------------------------

def test_weights_layers_and_calling_the_model(rng):
    model = gn.Sequential([gn.Dense(3, "tanh", input_dim=2, name="hidden"),
                           gn.BatchNormalization(), gn.Dense(1, name="out")], seed=0)
    x = rng.normal(size=(5, 2))
    hidden = model.get_layer("hidden")
    assert np.shares_memory(hidden.kernel, hidden.W) and np.shares_memory(hidden.bias, hidden.b)
    hidden.bias.assign([1.0, 2.0, 3.0])                   # Keras's weights: assign, numpy
    assert hidden.b.tolist() == [1.0, 2.0, 3.0] and hidden.bias.numpy().tolist() == [1, 2, 3]
    with pytest.raises(ValueError, match="shape"):
        hidden.bias.assign([1.0, 2.0])
    assert len(model.trainable_weights) == 6 and len(model.non_trainable_weights) == 2
    model.weights[0][...] = 0.0                        # live views: the model changes
    np.testing.assert_array_equal(hidden.get_weights()[0], np.zeros((2, 3)))
    hidden.set_weights([np.ones((2, 3)), np.full(3, 0.5)])
    np.testing.assert_array_equal(model.get_weights()[0], np.ones((2, 3)))
    with pytest.raises(ValueError, match="hidden weight 0 must have shape"):
        hidden.set_weights([np.ones((3, 3)), np.zeros(3)])
    np.testing.assert_array_equal(model(x), model.predict(x))


# -- compile ----------------------------------------------------------------------------

def test_compile_takes_kerass_positional_order(data):
    x, y = data
    model = gn.Sequential([gn.Dense(3, "softmax")], seed=0)
    model.compile("sgd", "sparse_categorical_crossentropy", ["accuracy"])
    assert model.optimizer.name == "sgd" and model.loss.name == "sparse_categorical_crossentropy"
    assert model.metric_names == ["accuracy"]
    with pytest.raises(ValueError, match="in Keras's order; it received 'mse' as the optimizer"):
        model.compile("mse", "adam")


@pytest.mark.parametrize("loss, output, targets", [
    ("sparse_categorical_crossentropy", "softmax", lambda y: y),
    ("categorical_crossentropy", "softmax", lambda y: gn.utils.to_categorical(y, 3)),
    ("binary_crossentropy", "sigmoid", lambda y: (y > 0).astype(float)[:, None])])
def test_from_logits_trains_exactly_like_the_fused_output_layer(loss, output, targets, data):
    x, y = data
    y = targets(y)
    units = 1 if output == "sigmoid" else 3
    runs = []
    for activation, from_logits in ((output, False), (None, True)):
        model = gn.Sequential([gn.Dense(6, "tanh"), gn.Dense(units, activation)],
                              dtype="float64", seed=0)
        model.compile(gn.SGD(0.1), gn.losses.get(loss).__class__(from_logits=from_logits),
                      ["accuracy"])
        history = model.fit(x, y, batch_size=16, epochs=3, verbose=0, shuffle=False)
        runs.append((model.get_weights(), history.history))
    for a, b in zip(runs[0][0], runs[1][0]):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    np.testing.assert_allclose(runs[0][1]["loss"], runs[1][1]["loss"], rtol=1e-12)
    assert runs[0][1]["accuracy"] == runs[1][1]["accuracy"]


# -- fit, predict, evaluate ------------------------------------------------------------------

def _compiled(seed=0, **kwargs):
    model = gn.Sequential([gn.Dense(8, "relu"), gn.Dense(3, "softmax")], seed=seed)
    return model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"], **kwargs)


def test_fit_initial_epoch_and_batch_size_none(data):
    x, y = data
    model = _compiled()
    history = model.fit(x, y, epochs=5, initial_epoch=3, verbose=0)
    assert history.epoch == [3, 4]                     # Keras: epochs 3 and 4 of 0..4
    a, b = _compiled(), _compiled()
    a.fit(x, y, batch_size=None, epochs=2, verbose=0)
    b.fit(x, y, batch_size=32, epochs=2, verbose=0)
    np.testing.assert_array_equal(a.get_weights()[0], b.get_weights()[0])
    assert a.optimizer.iterations == 2 * 2             # 64 samples, 32 per step


def test_class_weight_equals_the_matching_sample_weight(data):
    x, y = data
    weights = {0: 0.5, 1: 2.0, 2: 3.0}
    a, b = _compiled(), _compiled()
    a.fit(x, y, epochs=2, batch_size=16, class_weight=weights, verbose=0)
    b.fit(x, y, epochs=2, batch_size=16, sample_weight=np.array([weights[c] for c in y]),
          verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    with pytest.raises(ValueError, match="class_weight must be a dict"):
        a.fit(x, y, class_weight=[1, 2, 3], verbose=0)


def test_validation_freq_validates_only_the_chosen_epochs(data):
    x, y = data
    history = _compiled().fit(x, y, epochs=6, validation_split=0.25, validation_freq=2,
                              verbose=0)
    assert len(history.history["loss"]) == 6 and len(history.history["val_loss"]) == 3
    history = _compiled().fit(x, y, epochs=4, validation_split=0.25, validation_freq=[1, 4],
                              verbose=0)
    assert len(history.history["val_loss"]) == 2


def test_predict_and_evaluate_take_kerass_arguments(data):
    x, y = data
    model = _compiled()
    model.fit(x, y, epochs=1, verbose=0)
    np.testing.assert_allclose(model.predict(x, batch_size=10, verbose=0), model.predict(x),
                               rtol=1e-6)
    result = model.evaluate(x, y, verbose=0, return_dict=True)
    assert isinstance(result, dict) and list(result) == ["loss", "accuracy"]
    test_loss, test_acc = model.evaluate(x, y, batch_size=16, verbose=0)    # Keras's list
    assert [test_loss, test_acc] == pytest.approx([result["loss"], result["accuracy"]])
    assert model.metrics_names == ["loss", "accuracy"]
    assert dict(zip(model.metrics_names, model.evaluate(x, y))) == pytest.approx(result)
    plain = gn.Sequential([gn.Dense(1)], seed=0).compile("sgd", "mse")
    assert isinstance(plain.evaluate(x, x[:, :1]), float)                 # the loss alone
    first = model.evaluate(x[:16], y[:16], return_dict=True)
    assert model.evaluate(x, y, batch_size=16, steps=1, return_dict=True) == pytest.approx(first)


def test_each_fit_returns_the_history_of_its_own_epochs(data):
    x, y = data
    model = _compiled()
    first = model.fit(x, y, epochs=2, verbose=0)
    second = model.fit(x, y, epochs=3, verbose=0, validation_split=0.2)
    assert first.epoch == [0, 1] and second.epoch == [2, 3, 4]
    assert len(second.history["loss"]) == 3 and len(second.history["val_loss"]) == 3
    assert len(model.history.history["loss"]) == 5          # the whole run
    assert model.history.history["loss"][2:] == second.history["loss"]


def test_steps_per_epoch_reads_a_generator_on_across_epochs(rng):
    x = rng.normal(size=(64, 3))
    y = x @ np.array([[1.0], [-2.0], [0.5]])

    def batches():
        for i in range(0, 64, 8):
            yield x[i:i + 8], y[i:i + 8]
    seen = []

    class Count(gn.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(batch)
    model = gn.Sequential([gn.Dense(1, input_dim=3)], seed=0).compile("sgd", "mse")
    history = model.fit(batches(), epochs=2, steps_per_epoch=4, verbose=0, callbacks=[Count()])
    assert seen == [0, 1, 2, 3, 0, 1, 2, 3] and len(history.history["loss"]) == 2


# -- callbacks ------------------------------------------------------------------------------

class Feed(gn.Callback):
    """Puts a scripted value into the epoch logs, for the callbacks after it."""

    def __init__(self, values, key="score"):
        super().__init__()
        self.values, self.key = values, key

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]


@pytest.mark.parametrize("values, patience, kwargs, stopped", [
    ([5, 4, 4, 4, 4, 4], 2, {}, 3),                          # wait reaches 2 at epoch 3
    ([5, 4, 4, 4, 4, 4], 0, {}, 2),
    ([5, 5, 5, 5, 5, 5], 2, {}, 2),
    ([5, 5, 5, 5, 5, 5], 2, {"baseline": 0.5}, 1),          # epoch 0 does not beat it
    ([5, 6, 6, 6, 6, 6], 1, {}, 1),
    ([5, 6, 6, 6, 6, 6], 1, {"start_from_epoch": 1}, 2),    # epoch 0 is not watched
    ([1, 2, 2, 2, 2, 2], 1, {"mode": "max"}, 2)])
def test_early_stopping_follows_kerass_rule(values, patience, kwargs, stopped, data):
    x, y = data
    stop = gn.EarlyStopping(monitor="score", patience=patience, **kwargs)
    history = _compiled().fit(x, y, epochs=6, verbose=0, callbacks=[Feed(values), stop])
    assert stop.stopped_epoch == stopped and len(history.epoch) == stopped + 1


def test_early_stopping_auto_mode_maximises_accuracy(data):
    x, y = data
    stop = gn.EarlyStopping(monitor="val_accuracy", patience=1)
    _compiled().fit(x, y, epochs=1, validation_split=0.25, verbose=0, callbacks=[stop])
    assert stop.watch.direction == "max"


def test_learning_rate_scheduler_takes_one_or_two_arguments(data):
    x, y = data
    model = _compiled()
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[
        gn.LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1))])
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.1 / 3])
    history = model.fit(x, y, epochs=2, verbose=0, callbacks=[
        gn.LearningRateScheduler(lambda epoch, lr: lr * 0.5)])
    assert history.history["learning_rate"][-2:] == pytest.approx([0.1 / 6, 0.1 / 12])


def test_every_keras_hook_is_called(data):
    x, y = data
    seen = []
    hooks = gn.callbacks.HOOKS
    recorder = gn.LambdaCallback(**{h: (lambda *a, h=h: seen.append(h)) for h in hooks})
    model = _compiled()
    model.fit(x, y, epochs=1, batch_size=32, validation_split=0.25, verbose=0,
              callbacks=[recorder])
    assert seen[:3] == ["on_train_begin", "on_epoch_begin", "on_train_batch_begin"]
    assert {"on_test_begin", "on_test_batch_end", "on_test_end", "on_epoch_end",
            "on_train_end"} <= set(seen)
    seen.clear()
    model.evaluate(x, y, callbacks=[recorder])
    assert seen == ["on_test_begin", "on_test_batch_begin", "on_test_batch_end", "on_test_end"]
    seen.clear()
    model.predict(x, callbacks=[recorder])
    assert seen == ["on_predict_begin", "on_predict_batch_begin", "on_predict_batch_end",
                    "on_predict_end"]


def test_on_train_batch_end_override_is_called(data):
    x, y = data
    calls = []

    class Counter(gn.Callback):
        def on_train_batch_end(self, batch, logs=None):
            calls.append(logs["loss"])

    _compiled().fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[Counter()])
    assert len(calls) == 8


def test_reduce_lr_on_plateau_and_cooldown(data):
    x, y = data
    model = _compiled()
    model.optimizer.learning_rate = 0.1
    reduce = gn.ReduceLROnPlateau(monitor="score", factor=0.5, patience=2, cooldown=1,
                                  min_lr=0.02)
    history = model.fit(x, y, epochs=8, verbose=0,
                        callbacks=[Feed([1.0] * 8), reduce])
    # no improvement after epoch 0: halved at the end of epochs 2, 4 and 6 (the wait
    # restarts after one epoch of cooldown), never below 0.02; the log shows the rate
    # each epoch trained with
    assert history.history["learning_rate"] == pytest.approx(
        [0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.02])


def test_csv_logger_writes_one_row_per_epoch(data, tmp_path):
    x, y = data
    path = tmp_path / "log.csv"
    _compiled().fit(x, y, epochs=3, verbose=0, callbacks=[gn.CSVLogger(path)])
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["epoch", "accuracy", "loss"] and [r[0] for r in rows[1:]] == ["0", "1",
                                                                                        "2"]


def test_terminate_on_nan_is_what_fit_does_anyway(data):
    x, y = data
    model = gn.Sequential([gn.Dense(1)], seed=0).compile(gn.SGD(1e6), "mse")
    with pytest.raises(gn.TrainingDiverged), pytest.warns(UserWarning, match="unscaled"):
        model.fit(x * 1e3, x[:, :1] * 1e6, epochs=5, verbose=0,
                  callbacks=[gn.TerminateOnNaN()])
    assert np.isfinite(model.get_weights()[0]).all()


def test_backup_and_restore_resumes_an_interrupted_run_exactly(data, tmp_path):
    x, y = data

    class Crash(gn.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 2:
                raise RuntimeError("the machine went away")

    def model():
        m = gn.Sequential([gn.Dense(8, "relu"), gn.Dropout(0.2), gn.Dense(3, "softmax")],
                          seed=0)
        return m.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])

    whole = model()
    whole.fit(x, y, epochs=6, batch_size=16, verbose=0)
    backup = gn.BackupAndRestore(tmp_path / "backup")
    with pytest.raises(RuntimeError, match="went away"):
        model().fit(x, y, epochs=6, batch_size=16, verbose=0, callbacks=[backup, Crash()])
    assert (tmp_path / "backup" / "latest.glassnet").exists()
    resumed = model()                                   # a new process would start so
    history = resumed.fit(x, y, epochs=6, batch_size=16, verbose=0, callbacks=[backup])
    assert resumed.history.epoch == [0, 1, 2, 3, 4, 5]  # the whole run: 0-1 restored
    assert history.epoch == [2, 3, 4, 5]                 # this call: from the interrupted one
    for a, b in zip(resumed.get_weights(), whole.get_weights()):
        np.testing.assert_array_equal(a, b)             # as if nothing had happened
    assert resumed.history.history == whole.history.history
    assert not (tmp_path / "backup" / "latest.glassnet").exists()
