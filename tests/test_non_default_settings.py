"""Settings that differ from their defaults reach what the user sees.

Each test here was written after an outside reviewer planted a bug that the suite missed
(issue #25, round three): a keyword argument silently dropped on save, in the ONNX file or
in a callback, and which rows ``steps_per_epoch`` and ``validation_steps`` read.  Where it
can, a test enumerates the settings (every optimizer's keywords, every exported layer's)
instead of naming the one that broke, so that a setting added later is covered too.
"""

import inspect
import os
import warnings

import numpy as np
import pytest

import glassnet as gn
from glassnet import layers, optimizers


def _blobs(n=90, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    x = rng.normal(size=(n, 5)) + 2.0 * y[:, None]
    return x.astype(np.float32), y


# -- steps_per_epoch and validation_steps: which rows each epoch reads -----------------------

class _Recorder(gn.Sequential):
    """A model that writes down the rows (their first feature: the row number) it trains on."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = []

    def train_step(self, xb, yb, sample_weight=None):
        self.rows.extend(np.asarray(xb)[:, 0].astype(int).tolist())
        return super().train_step(xb, yb, sample_weight)


@pytest.mark.parametrize("shuffle", [False, True])
def test_steps_per_epoch_reads_on_where_the_last_epoch_stopped(shuffle):
    """Keras: with steps_per_epoch an epoch is a number of batches, not a pass over the data;
    five epochs of 2 batches of 10 read each of 100 rows once (not rows 0-19 five times)."""
    x = np.c_[np.arange(100), np.ones(100)].astype(np.float32)
    y = (np.arange(100) % 2).astype(int)
    model = _Recorder([gn.Dense(2, "softmax")], seed=0)
    model.compile(gn.SGD(0.01), "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=10, steps_per_epoch=2, epochs=5, shuffle=shuffle, verbose=0)
    if shuffle:
        assert sorted(model.rows) == list(range(100)) and model.rows != list(range(100))
    else:
        assert model.rows == list(range(100))
    model.rows.clear()
    model.fit(x, y, batch_size=30, steps_per_epoch=3, epochs=2, shuffle=False, verbose=0)
    # 100 rows are 4 batches (30, 30, 30, 10): the 6 steps go round the data once more
    assert model.rows == list(range(100)) + list(range(60))


def test_validation_steps_score_the_same_rows_every_epoch():
    """Keras: "if validation_steps is specified and only part of the dataset is consumed,
    the evaluation will start from the beginning of the dataset at each epoch"."""
    x, y = _blobs()
    xv, yv = _blobs(60, seed=1)
    xv[20:] *= 50                       # rows past the first two batches score far worse
    model = gn.Sequential([gn.Dense(8, "tanh"), gn.Dense(3, "softmax")], seed=0)
    model.compile(gn.Adam(0.01), "sparse_categorical_crossentropy")
    expected = []
    watch = gn.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: expected.append(
        model.evaluate(xv[:20], yv[:20], verbose=0)))
    history = model.fit(x, y, epochs=4, verbose=0, validation_data=(xv, yv),
                        validation_batch_size=10, validation_steps=2, callbacks=[watch])
    np.testing.assert_allclose(history.history["val_loss"], expected, rtol=1e-12)
    # a generator cannot start again: it is read on, and its end is said
    expected.clear()

    def next_rows(epoch, logs):
        k = 20 * len(expected)
        expected.append(model.evaluate(xv[k:k + 20], yv[k:k + 20], verbose=0))

    watch = gn.callbacks.LambdaCallback(on_epoch_end=next_rows)
    chunks = ((xv[i:i + 10], yv[i:i + 10]) for i in range(0, 60, 10))
    history = model.fit(x, y, epochs=3, verbose=0, validation_data=chunks,
                        validation_steps=2, callbacks=[watch])
    np.testing.assert_allclose(history.history["val_loss"], expected, rtol=1e-6)


# -- optimizers: every keyword survives save and load -----------------------------------------

def _non_default(value):
    """A value unlike a keyword's default, of the same kind."""
    if isinstance(value, bool):
        return not value
    if value == 0:
        return 0.3
    return value * 0.5 if value > 0.5 else value * 3


def _optimizer_variants():
    for name in optimizers.names():
        cls = type(optimizers.get(name))
        for keyword, p in inspect.signature(cls.__init__).parameters.items():
            if p.default is not inspect.Parameter.empty and keyword != "learning_rate":
                yield pytest.param(name, keyword, id=f"{name}-{keyword}")


@pytest.mark.parametrize("name, keyword", list(_optimizer_variants()))
def test_every_optimizer_keyword_survives_save_and_load(tmp_path, name, keyword):
    """A model saved mid-training, loaded and trained on, matches the one that never stopped."""
    cls = type(optimizers.get(name))
    default = inspect.signature(cls.__init__).parameters[keyword].default
    settings = {keyword: _non_default(default), "learning_rate": 0.02}
    if keyword == "nesterov":
        settings["momentum"] = 0.9          # nesterov means nothing without momentum
    x, y = _blobs()
    model = gn.Sequential([gn.Dense(6, "tanh"), gn.Dense(3, "softmax")], seed=0)
    model.compile(cls(**settings), "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, batch_size=30, shuffle=False, verbose=0)
    model.save(tmp_path / "m.glassnet")
    loaded = gn.load_model(tmp_path / "m.glassnet")
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert loaded.optimizer.get_config()[keyword] == settings[keyword]
    for m in (model, loaded):
        m.fit(x, y, epochs=2, batch_size=30, shuffle=False, verbose=0)
    np.testing.assert_array_equal(loaded.get_weights()[0], model.get_weights()[0])


# -- ONNX: every exported layer's settings -----------------------------------------------------

RNG = np.random.default_rng(3)
MEAN, VARIANCE = RNG.normal(size=5), RNG.uniform(0.5, 2.0, size=5)

#: layers placed after Dense(5) with settings unlike their defaults (one entry a keyword)
LAYER_SETTINGS = {
    "Activation": [dict(activation="elu"), dict(activation=gn.activations.LeakyReLU(0.2))],
    "BatchNormalization": [dict(momentum=0.3), dict(epsilon=0.5)],
    "Dense": [dict(units=4, activation="tanh", use_bias=False)],
    "Dropout": [dict(rate=0.6)],
    "LayerNormalization": [dict(epsilon=0.7)],
    "LeakyReLU": [dict(negative_slope=0.05)],
    "Normalization": [dict(mean=MEAN, variance=VARIANCE),
                      dict(mean=MEAN, variance=VARIANCE, invert=True),
                      dict(axis=None, mean=0.4, variance=3.0),
                      dict(axis=None, mean=0.4, variance=3.0, invert=True)],
    "ReLU": [dict(negative_slope=0.1)],
    "Rescaling": [dict(scale=0.7, offset=-0.2)],
}
#: keywords that change nothing in a trained model's output, or cannot differ for the 2-D
#: batches glassnet has
NOT_OUTPUT_SETTINGS = {"name", "input_dim", "input_shape", "trainable", "kernel_initializer",
                       "bias_initializer", "kernel_regularizer", "data_format", "axis",
                       "shape", "target_shape"}


def _exported_layers():
    for name in dir(layers):
        cls = getattr(layers, name)
        if isinstance(cls, type) and issubclass(cls, layers.Layer) and \
                any("to_onnx" in vars(k) for k in cls.__mro__ if k is not layers.Layer):
            yield name, cls


def test_every_setting_of_every_exported_layer_is_exported_with_a_non_default():
    """Adding a keyword to an exported layer means adding it to LAYER_SETTINGS."""
    no_settings = {"Add", "Average", "Concatenate", "Maximum", "Multiply", "Subtract",
                   "InputLayer", "Flatten", "Reshape", "Softmax"}   # none that changes outputs
    for name, cls in _exported_layers():
        keywords = [k for k, p in inspect.signature(cls.__init__).parameters.items()
                    if k not in ("self", "kwargs") and k not in NOT_OUTPUT_SETTINGS]
        if name in no_settings:
            assert keywords == [], (name, keywords)
            continue
        assert name in LAYER_SETTINGS, f"add {name} to LAYER_SETTINGS"
        covered = {k for settings in LAYER_SETTINGS[name] for k in settings}
        assert set(keywords) <= covered | {"mean", "variance", "invert"}, (name, keywords)
        defaults = inspect.signature(cls.__init__).parameters
        for settings in LAYER_SETTINGS[name]:
            for k, v in settings.items():
                if k in defaults and defaults[k].default is not inspect.Parameter.empty and \
                        not isinstance(v, np.ndarray):
                    assert v != defaults[k].default, (name, k)


@pytest.mark.parametrize("name, settings", [
    pytest.param(name, s, id=f"{name}-{'-'.join(s)}")
    for name, entries in LAYER_SETTINGS.items() for s in entries])
def test_onnx_output_matches_predict_for_non_default_settings(tmp_path, name, settings):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    x, y = _blobs()
    layer = getattr(layers, name)(**settings)
    model = gn.Sequential([gn.Input((5,)), gn.Dense(5, "tanh"), layer, gn.Dense(3, "softmax")],
                          seed=0)
    model.compile(gn.Adam(0.05), "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=3, batch_size=16, verbose=0)       # moving statistics move
    model.export_onnx(tmp_path / "m.onnx")
    session = ort.InferenceSession(str(tmp_path / "m.onnx"),
                                   providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(["output"], {"input": x})[0], model.predict(x),
                               rtol=1e-5, atol=1e-6)


# -- callbacks: a non-default keyword changes what happens -------------------------------------

def _model():
    model = gn.Sequential([gn.Dense(2, "softmax")], seed=0)
    model.compile(gn.SGD(1.0), "sparse_categorical_crossentropy")
    model.build(3)
    return model


@pytest.mark.parametrize("cooldown, expected", [
    (0, [1, .5, .25, .125, .0625, .03125]),
    # Keras's rule: a cut starts `cooldown` epochs in which nothing is counted; the epoch that
    # ends the cooldown counts again
    (2, [1, .5, .5, .25, .25, .25 / 2]),
    (3, [1, .5, .5, .5, .25, .25]),
])
def test_reduce_lr_on_plateau_waits_out_its_cooldown(cooldown, expected):
    model = _model()
    cb = gn.ReduceLROnPlateau(factor=0.5, patience=1, cooldown=cooldown, min_lr=1e-6)
    cb.set_model(model)
    cb.on_train_begin()
    rates = []
    for epoch in range(6):                 # a loss that never improves after the first epoch
        cb.on_epoch_end(epoch, {"val_loss": 1.0})
        rates.append(model.optimizer.current_learning_rate())
    assert rates == pytest.approx(expected)


def test_backup_and_restore_keeps_its_backup_when_told(tmp_path):
    x, y = _blobs()
    for delete, left in ((True, []), (False, ["latest.glassnet"])):
        folder = tmp_path / str(delete)
        model = gn.Sequential([gn.Dense(3, "softmax")], seed=0)
        model.compile(gn.SGD(0.1), "sparse_categorical_crossentropy")
        model.fit(x, y, epochs=3, verbose=0,
                  callbacks=[gn.callbacks.BackupAndRestore(folder, delete_checkpoint=delete)])
        assert sorted(os.listdir(folder)) == left
    kept = gn.load_model(tmp_path / "False" / "latest.glassnet")
    assert kept.optimizer.iterations > 0


@pytest.mark.parametrize("restore", [True, False])
def test_early_stopping_restores_the_best_weights_only_when_asked(restore):
    """The monitored value is best at epoch 1 and never again: restore_best_weights=False
    keeps the last epoch's weights, True puts back epoch 1's."""
    x, y = _blobs()
    model = gn.Sequential([gn.Dense(3, "softmax")], seed=0)
    model.compile(gn.SGD(0.1), "sparse_categorical_crossentropy")
    snapshots = []
    fed = [0.5, 0.9, 0.9, 0.9]

    def feed(epoch, logs):
        logs["score"] = fed[epoch]
        snapshots.append([w.copy() for w in model.get_weights()])

    stop = gn.EarlyStopping(monitor="score", mode="min", patience=10,
                            restore_best_weights=restore)
    model.fit(x, y, epochs=4, verbose=0,
              callbacks=[gn.callbacks.LambdaCallback(on_epoch_end=feed), stop])
    want = snapshots[0] if restore else snapshots[-1]
    for got, w in zip(model.get_weights(), want):
        np.testing.assert_array_equal(got, w)
    assert not np.array_equal(snapshots[0][0], snapshots[-1][0])


# -- round four: a second reviewer's survivors ------------------------------------------------

@pytest.mark.parametrize("name, settings", [
    pytest.param(name, s, id=f"{name}-{'-'.join(s)}")
    for name, entries in LAYER_SETTINGS.items() for s in entries])
def test_every_layer_setting_survives_save_and_load(tmp_path, name, settings):
    """The loaded model is configured, and predicts, like the saved one; training goes on
    alike (BatchNormalization's momentum moves its statistics only then)."""
    x, y = _blobs()
    layer = getattr(layers, name)(**settings)
    model = gn.Sequential([gn.Input((5,)), gn.Dense(5, "tanh"), layer, gn.Dense(3, "softmax")],
                          seed=0)
    model.compile(gn.SGD(0.05), "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    model.save(tmp_path / "m.glassnet")
    loaded = gn.load_model(tmp_path / "m.glassnet")
    saved_config, loaded_config = model.layers[1].get_config(), loaded.layers[1].get_config()
    assert set(loaded_config) == set(saved_config)
    for key, value in saved_config.items():
        np.testing.assert_equal(loaded_config[key], value, err_msg=f"{name}.{key}")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    for m in (model, loaded):
        m.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def _initializer_variants():
    for name in gn.initializers.names():
        cls = type(gn.initializers.get(name))
        for keyword, p in inspect.signature(cls.__init__).parameters.items():
            if p.default is not inspect.Parameter.empty:
                yield pytest.param(name, keyword, id=f"{name}-{keyword}")


@pytest.mark.parametrize("name, keyword", list(_initializer_variants()))
def test_every_initializer_keyword_reaches_the_weights_through_a_config(name, keyword):
    """Keras users rebuild models from get_config (and files hold it): an initializer's
    settings must come back, and draw the same weights."""
    cls = type(gn.initializers.get(name))
    default = inspect.signature(cls.__init__).parameters[keyword].default
    init = cls(**{keyword: default - 0.75 if keyword == "minval" else default + 0.75})
    model = gn.Sequential([gn.Input((6,)), gn.Dense(40, kernel_initializer=init)], seed=3)
    rebuilt = gn.Sequential.from_config(model.get_config())
    assert rebuilt.layers[0].get_config()["kernel_initializer"] == \
        model.layers[0].get_config()["kernel_initializer"]
    kernel, again = model.get_weights()[0], rebuilt.get_weights()[0]
    np.testing.assert_array_equal(again, kernel)
    plain = gn.Sequential([gn.Input((6,)), gn.Dense(40, kernel_initializer=cls())], seed=3)
    assert not np.array_equal(plain.get_weights()[0], kernel)      # the keyword mattered


def test_categorical_crossentropy_of_targets_that_do_not_sum_to_one():
    """Multi-hot targets: the loss is -Σ_j y_j log p_j, the loss and the metric agree."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(6, 4))
    y = np.array([[1, 1, 0], [0, 1, 1], [1, 0, 0], [0.5, 0.5, 0.5], [0, 0, 1], [1, 0, 1]])
    model = gn.Sequential([gn.Dense(3, "softmax")], dtype="float64", seed=0)
    model.compile("sgd", "categorical_crossentropy", metrics=["categorical_crossentropy"])
    model.build(4)
    p = model.predict(x)
    expected = float(np.mean(-(y * np.log(p)).sum(axis=1)))
    scores = model.evaluate(x, y, return_dict=True, verbose=0)
    assert scores["loss"] == pytest.approx(expected, rel=1e-12)
    assert scores["categorical_crossentropy"] == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("k", [1, 2, 3])
def test_precision_and_recall_at_top_k_with_several_positives(seed, k):
    rng = np.random.default_rng(seed)
    y = (rng.random((30, 5)) < 0.4).astype(float)
    p = rng.random((30, 5))
    top = np.zeros_like(p)
    np.put_along_axis(top, np.argsort(-p, axis=1)[:, :k], 1.0, axis=1)
    tp = (top * y).sum()
    for metric, expected in ((gn.metrics.Precision(top_k=k), tp / top.sum()),
                             (gn.metrics.Recall(top_k=k), tp / y.sum())):
        metric.update_state(y, p)
        assert float(metric.result()) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("average", ["micro", "macro", "weighted"])
@pytest.mark.parametrize("seed", range(3))
def test_f_scores_match_sklearn_for_every_average(seed, average):
    sk_metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(seed)
    labels = rng.choice(4, size=60, p=[0.5, 0.3, 0.15, 0.05])
    p = rng.random((60, 4)) + 0.8 * np.eye(4)[labels] * rng.random((60, 1))
    metric = gn.metrics.F1Score(average=average)
    metric.update_state(np.eye(4)[labels], p)
    expected = sk_metrics.f1_score(labels, p.argmax(axis=1), average=average,
                                   labels=range(4), zero_division=0)
    assert float(metric.result()) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("merge", ["Add", "Average", "Maximum", "Multiply", "Concatenate"])
def test_merges_of_three_inputs_backpropagate_correctly(merge):
    rng = np.random.default_rng(0)
    inputs = [gn.Input((3,)) for _ in range(3)]
    branches = [gn.Dense(4, "tanh")(i) for i in inputs]
    out = gn.Dense(1)(getattr(layers, merge)()(branches))
    model = gn.Model(inputs, out, dtype="float64", seed=0)
    model.compile("sgd", "mse")
    xs = [rng.normal(size=(7, 3)) for _ in range(3)]
    assert gn.gradcheck(model, xs, rng.normal(size=(7, 1))) < 1e-5   # a wrong one: ~1


def test_gradcheck_checks_the_loss_as_compiled_with_its_loss_weights():
    """A model whose backward pass forgets loss_weights is reported, not passed."""
    class ForgetsLossWeights(gn.Model):
        def backpropagate(self, y, sample_weight=None, seeds=None):
            kept, self.loss_weights = self.loss_weights, [1.0] * len(self.loss_weights)
            try:
                super().backpropagate(y, sample_weight, seeds)
            finally:
                self.loss_weights = kept

    rng = np.random.default_rng(1)
    x = rng.normal(size=(8, 3))
    targets = [rng.normal(size=(8, 1)), rng.normal(size=(8, 2))]
    for cls, ok in ((gn.Model, True), (ForgetsLossWeights, False)):
        inputs = gn.Input((3,))
        h = gn.Dense(4, "tanh")(inputs)
        model = cls(inputs, [gn.Dense(1)(h), gn.Dense(2)(h)], dtype="float64", seed=0)
        model.compile("sgd", ["mse", "mse"], loss_weights=[1.0, 0.1])
        error = gn.gradcheck(model, x, targets)
        assert (error < 1e-6) if ok else (error > 1e-2), (cls.__name__, error)


def test_sklearn_early_stopping_waits_n_iter_no_change_and_holds_out_its_fraction():
    pytest.importorskip("sklearn")
    from glassnet.sklearn import GlassClassifier
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(100, 4)), rng.integers(0, 2, size=100)       # noise: it stops
    for patience in (2, 5):
        clf = GlassClassifier(hidden_layer_sizes=(8,), early_stopping=True, epochs=300,
                              n_iter_no_change=patience, batch_size=10, learning_rate=0.05,
                              random_state=0).fit(X, y)
        val = clf.history_.history["val_loss"]
        assert clf.n_iter_ < 300 and clf.n_iter_ == int(np.argmin(val)) + 1 + patience
    for fraction, train_rows in ((0.1, 90), (0.5, 50)):
        clf = GlassClassifier(hidden_layer_sizes=(8,), early_stopping=True, epochs=3,
                              validation_fraction=fraction, batch_size=10,
                              random_state=0).fit(X, y)
        assert clf.model_.optimizer.iterations == 3 * (train_rows // 10)


@pytest.mark.parametrize("name", ["xor", "xor3", "and", "or", "nand", "circles", "blobs",
                                  "spirals", "linear", "cubic"])
def test_generated_data_sets_take_points_and_noise(name):
    from glassnet.datasets import catalog
    quiet, noisy = catalog.load(name, points=150), catalog.load(name, points=150, noise=1.0)
    assert len(quiet.x_train) + len(quiet.x_test) == 150
    again = catalog.load(name, points=150)
    np.testing.assert_array_equal(again.x_train, quiet.x_train)
    moved = np.abs(np.c_[noisy.x_train, noisy.y_train] - np.c_[quiet.x_train, quiet.y_train])
    assert moved.mean() > 0.05


@pytest.mark.parametrize("name, scale", [("linear", 1.0), ("cubic", 20.0)])
def test_a_functions_noise_is_in_the_documented_units(name, scale):
    """catalog.load: noise is a standard deviation, times 20 for cubic (its values span
    about ±200, linear's about ±10)."""
    from glassnet.datasets import catalog
    quiet = catalog.load(name, points=4000, test_size=0.5)
    noisy = catalog.load(name, points=4000, test_size=0.5, noise=0.5)
    np.testing.assert_array_equal(noisy.x_train, quiet.x_train)
    assert np.std(noisy.y_train - quiet.y_train) == pytest.approx(0.5 * scale, rel=0.08)


def test_more_evaluation_steps_than_batches_score_each_row_once():
    """evaluate(steps=...) and validation_steps past the end of the data stop there, with a
    warning, instead of going round again (which counted some rows twice)."""
    x, y = _blobs(50)
    model = gn.Sequential([gn.Dense(3, "softmax")], seed=0)
    model.compile(gn.SGD(0.1), "sparse_categorical_crossentropy")
    model.build(5)
    everything = model.evaluate(x, y, batch_size=7, verbose=0)
    with pytest.warns(RuntimeWarning, match=r"the data ran out after 8 of 100 steps: scored "
                                             r"the 8 batches it has"):
        assert model.evaluate(x, y, batch_size=7, steps=100, verbose=0) == \
            pytest.approx(everything, rel=1e-12)
    assert model.evaluate(x, y, batch_size=7, steps=2, verbose=0) == \
        pytest.approx(model.evaluate(x[:14], y[:14], verbose=0), rel=1e-12)
    model.compile(gn.SGD(0.0), "sparse_categorical_crossentropy")        # weights stay
    with pytest.warns(RuntimeWarning, match=r"the data ran out after 8 of 100 steps"):
        history = model.fit(x, y, epochs=2, verbose=0, validation_data=(x, y),
                            validation_batch_size=7, validation_steps=100)
    np.testing.assert_allclose(history.history["val_loss"], [everything] * 2, rtol=1e-12)


def test_a_validation_generator_that_runs_out_says_so():
    x, y = _blobs(30)
    model = gn.Sequential([gn.Dense(3, "softmax")], seed=0)
    model.compile(gn.SGD(0.1), "sparse_categorical_crossentropy")
    chunks = ((x[i:i + 10], y[i:i + 10]) for i in range(0, 30, 10))
    with pytest.raises(ValueError, match=r"^validation_data gave no batches after epoch 2: a "
                                         r"generator is used up after one pass"):
        model.fit(x, y, epochs=3, verbose=0, validation_data=chunks)
    with pytest.raises(ValueError, match=r"^there is no data to evaluate: the source gave no "
                                         r"batches$"):
        model.evaluate(iter([]), verbose=0)


def test_steps_count_batches_of_32_rows_unless_told_as_in_keras():
    """evaluate(steps=2) scores 64 rows; validation_steps counts batches of batch_size."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(300, 3))
    y = x @ [1.0, -2.0, 0.5] + rng.normal(size=300) * (np.arange(300) > 64) * 5
    model = gn.Sequential([gn.Dense(1)], dtype="float64", seed=0)
    model.compile(gn.SGD(0.0), "mse")
    model.build(3)
    assert model.evaluate(x, y[:, None], steps=2, verbose=0) == \
        pytest.approx(model.evaluate(x[:64], y[:64, None], verbose=0), rel=1e-12)
    history = model.fit(x, y[:, None], epochs=1, batch_size=5, verbose=0,
                        validation_data=(x, y[:, None]), validation_steps=1)
    assert history.history["val_loss"] == pytest.approx(
        [model.evaluate(x[:5], y[:5, None], verbose=0)], rel=1e-12)


def test_a_used_up_validation_generator_gets_the_error_without_the_training_advice():
    x, y = _blobs(30)
    model = gn.Sequential([gn.Dense(3, "softmax")], seed=0)
    model.compile(gn.SGD(0.1), "sparse_categorical_crossentropy")
    chunks = ((x[i:i + 10], y[i:i + 10]) for i in range(0, 20, 10))
    with warnings.catch_warnings():
        warnings.simplefilter("error")            # no "give it steps_per_epoch × epochs"
        with pytest.raises(ValueError, match=r"^validation_data gave no batches after epoch 2"):
            model.fit(x, y, epochs=2, verbose=0, validation_data=chunks, validation_steps=2)


@pytest.mark.parametrize("kwargs, message", [
    (dict(max_params=0), r"max_params must be a positive integer; received 0"),
    (dict(max_params=-1), r"max_params must be a positive integer; received -1"),
    (dict(max_params=2.5), r"max_params must be a positive integer; received 2.5"),
    (dict(max_params=True), r"max_params must be a positive integer; received True"),
    (dict(eps=0), r"gradcheck eps must be a positive number; received 0"),
    (dict(eps=-1e-6), r"gradcheck eps must be a positive number; received -1e-06"),
])
def test_gradcheck_refuses_settings_that_check_nothing(kwargs, message):
    model = gn.Sequential([gn.Dense(1)], dtype="float64", seed=0)
    model.compile("sgd", "mse")
    model.build(2)
    with pytest.raises(ValueError, match=message):
        gn.gradcheck(model, np.ones((3, 2)), np.ones((3, 1)), **kwargs)
