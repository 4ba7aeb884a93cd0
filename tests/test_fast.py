"""The fast path (numba kernels, double-buffered weights) against the NumPy reference."""
import subprocess
import sys

import numpy as np
import pytest

import glassnet as gn
from glassnet import trainer

OPTIMIZERS = {
    "sgd": lambda: gn.SGD(0.05), "momentum": lambda: gn.SGD(0.05, momentum=0.9),
    "nesterov": lambda: gn.SGD(0.05, momentum=0.9, nesterov=True),
    "sgd_decay": lambda: gn.SGD(0.05, momentum=0.5, weight_decay=0.01),
    "adam": lambda: gn.Adam(0.01), "adamw": lambda: gn.Adam(0.01, weight_decay=0.1),
    "rmsprop": lambda: gn.RMSprop(0.01), "rmsprop_momentum": lambda: gn.RMSprop(0.01, momentum=0.9),
}


def _train(fast, optimizer, activation, dtype, rng_seed=0):
    rng = np.random.default_rng(rng_seed)
    x = rng.normal(size=(200, 12))
    y = rng.integers(0, 4, size=200)
    model = gn.Sequential([gn.Dense(32, activation), gn.Dense(16, "relu"),
                           gn.BatchNormalization(), gn.Dense(4, "softmax")],
                          dtype=dtype, seed=0, fast=fast)
    model.compile(OPTIMIZERS[optimizer](), "sparse_categorical_crossentropy", ["accuracy"])
    history = model.fit(x, y, batch_size=32, epochs=3, verbose=0)
    return model, history.history


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "tanh"])
@pytest.mark.parametrize("optimizer", sorted(OPTIMIZERS))
def test_fast_kernels_train_bit_identically(optimizer, activation, dtype):
    pytest.importorskip("numba")
    reference, ref_history = _train(False, optimizer, activation, dtype)
    fast, fast_history = _train(True, optimizer, activation, dtype)
    for a, b in zip(reference.get_weights(), fast.get_weights()):
        np.testing.assert_array_equal(a, b)
    for key in ("m", "v", "velocity", "square_avg", "momentum_buffer"):
        if key in reference.optimizer.state:
            np.testing.assert_array_equal(reference.optimizer.state[key],
                                          fast.optimizer.state[key])
    assert ref_history == fast_history


@pytest.mark.parametrize("activation", ["relu", "leaky_relu"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activation_kernels_equal_numpy_on_special_values(activation, dtype):
    pytest.importorskip("numba")
    from glassnet import fast
    act = gn.activations.get(activation)
    kernels = fast.kernels()
    z = np.array([[-0.0, 0.0, np.nan, np.inf, -np.inf, 1.5, -2.5, 1e-42]], dtype=dtype)
    z = np.repeat(z, 3, axis=0) * np.array([[1], [-1], [0.5]], dtype=dtype)
    b = np.array([0.0, -0.0, 1.0, -1.0, 0.0, 0.25, -0.0, 0.0], dtype=dtype)
    z_ref = z + b
    a_ref = act.forward(z_ref)
    z_fast = z.copy()
    a_fast = kernels.bias_activation(act, z_fast, b)
    np.testing.assert_array_equal(z_fast, z_ref)
    np.testing.assert_array_equal(np.signbit(a_fast), np.signbit(a_ref))
    np.testing.assert_array_equal(a_fast, a_ref)
    grad = np.array([[1.0, -1.0, 2.0, -0.0, 3.0, -2.0, 0.5, -4.0]] * 3, dtype=dtype)
    delta_ref = act.backward(z_ref, a_ref, grad)
    db = np.empty(8, dtype=dtype)
    delta_fast = kernels.activation_backward_bias(act, a_ref, grad, db)
    np.testing.assert_array_equal(np.signbit(delta_fast), np.signbit(delta_ref))
    np.testing.assert_array_equal(delta_fast, delta_ref)
    db_ref = np.add.reduce(delta_ref, axis=0)
    np.testing.assert_array_equal(np.signbit(db), np.signbit(db_ref))
    np.testing.assert_array_equal(db, db_ref)


def _big_model(fast=False):
    model = gn.Sequential([gn.Dense(256, "relu", input_dim=100), gn.BatchNormalization(),
                           gn.Dense(2)], seed=0, fast=fast)
    return model.compile(gn.SGD(0.05), "mse")


def test_double_buffered_fit_restores_the_previous_weights_on_divergence(rng):
    x = rng.normal(size=(64, 100))
    y = rng.normal(size=(64, 2))
    model = _big_model()
    assert model.variables.size >= trainer.DOUBLE_BUFFER_MIN
    original = model.variables
    seen = []

    class Watch(gn.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(self.model.get_weights())
            if len(seen) == 3:           # the next step's loss is infinite
                self.model.layers[-1].W[0, 0] = np.inf

    with pytest.raises(gn.TrainingDiverged):
        model.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[Watch()])
    assert model.variables is original                  # the weights live where they did
    for restored, before in zip(model.get_weights(), seen[-2]):
        np.testing.assert_array_equal(restored, before)


def test_double_buffered_and_copying_fit_give_identical_weights(rng, monkeypatch):
    x, y = rng.normal(size=(64, 100)), rng.normal(size=(64, 2))
    double = _big_model()
    stop = gn.EarlyStopping(monitor="val_loss", patience=1)
    double.fit(x, y, batch_size=16, epochs=4, validation_split=0.25, verbose=0, callbacks=[stop])
    monkeypatch.setattr(trainer, "DOUBLE_BUFFER_MIN", 10 ** 9)
    copying = _big_model()
    stop = gn.EarlyStopping(monitor="val_loss", patience=1)
    copying.fit(x, y, batch_size=16, epochs=4, validation_split=0.25, verbose=0, callbacks=[stop])
    for a, b in zip(double.get_weights(), copying.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_small_models_do_not_import_numba():
    code = ("import sys, glassnet as gn\n"
            "x, y = gn.datasets.digits()\n"
            "m = gn.Sequential([gn.Rescaling(1 / 16), gn.Dense(32, 'relu'),"
            " gn.Dense(10, 'softmax')], seed=0)\n"
            "m.compile('adam', 'sparse_categorical_crossentropy')\n"
            "m.fit(x, y, epochs=1, verbose=0)\n"
            "print('numba' in sys.modules)")
    env = {"PATH": "/usr/bin:/bin", "GLASSNET_FAST": ""}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True)
    assert out.stdout.strip() == "False"


def test_fast_must_be_none_true_or_false():
    with pytest.raises(ValueError, match="fast must be None"):
        gn.Sequential([gn.Dense(1)], fast="yes")
