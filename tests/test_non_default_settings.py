"""Settings that differ from their defaults reach what the user sees.

Each test here was written after an outside reviewer planted a bug that the suite missed
(issue #25, round three): a keyword argument silently dropped on save, in the ONNX file or
in a callback, and which rows ``steps_per_epoch`` and ``validation_steps`` read.  Where it
can, a test enumerates the settings (every optimizer's keywords, every exported layer's)
instead of naming the one that broke, so that a setting added later is covered too.
"""

import inspect
import os

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
    merges = {"Add", "Average", "Concatenate", "Maximum", "Multiply", "Subtract", "InputLayer",
              "Flatten", "Reshape", "Softmax"}       # no output-changing settings
    for name, cls in _exported_layers():
        keywords = [k for k, p in inspect.signature(cls.__init__).parameters.items()
                    if k not in ("self", "kwargs") and k not in NOT_OUTPUT_SETTINGS]
        if name in merges:
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
