"""Where users' data flows and where their settings differ from the defaults.

Each test is a small program a user would write, checked against a result computed
independently here (issue #25: the bugs the rest of the suite could not see).
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import glassnet as gn
from glassnet import activations
from glassnet.datasets import CSVDataset, load_csv, save_csv, train_test_split, validation_split
from glassnet.report import html_report, worst_sample

FAST = settings(max_examples=25, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def _classifier(n_in, n_classes, seed=0):
    model = gn.Sequential([gn.Dense(6, "tanh"), gn.Dense(n_classes, "softmax")], seed=seed)
    model.compile(gn.SGD(0.1), "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.build(n_in)
    return model


def _blobs(rng, n=60, k=3, d=4):
    y = np.arange(n) % k
    x = rng.normal(size=(n, d)) + y[:, None]
    return x.astype(np.float32), y.astype(np.int64)


# -- class_weight and sample_weight ---------------------------------------------------------

@FAST
@given(weights=st.dictionaries(st.integers(0, 2), st.sampled_from([0.25, 2.0, 5.0]),
                               min_size=1, max_size=2))
def test_class_weight_is_the_sample_weight_it_documents(weights):
    """A class left out of class_weight weighs 1 (Keras's rule), so fitting with class_weight
    trains exactly as fitting with the per-sample weights written out by hand."""
    x, y = _blobs(np.random.default_rng(0))
    by_hand = np.array([weights.get(int(k), 1.0) for k in y])
    a, b = _classifier(4, 3), _classifier(4, 3)
    ha = a.fit(x, y, class_weight=weights, epochs=2, batch_size=16, verbose=0)
    hb = b.fit(x, y, sample_weight=by_hand, epochs=2, batch_size=16, verbose=0)
    np.testing.assert_array_equal(a.variables, b.variables)
    assert ha.history["loss"] == hb.history["loss"]


def test_class_weight_changes_training_when_a_class_is_left_out():
    """Weighting one class only must differ from no weights at all (and from weight 0 for
    the others)."""
    x, y = _blobs(np.random.default_rng(1))
    plain, weighted, zeroed = _classifier(4, 3), _classifier(4, 3), _classifier(4, 3)
    plain.fit(x, y, epochs=2, verbose=0)
    weighted.fit(x, y, class_weight={2: 3.0}, epochs=2, verbose=0)
    zeroed.fit(x, y, class_weight={0: 0.0, 1: 0.0, 2: 3.0}, epochs=2, verbose=0)
    assert not np.allclose(plain.variables, weighted.variables)
    assert not np.allclose(zeroed.variables, weighted.variables)


def test_class_weight_for_binary_and_one_hot_targets():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(40, 3)).astype(np.float32)
    labels = (x[:, 0] > 0).astype(np.int64)
    cases = [("binary_crossentropy", labels[:, None].astype(np.float32), "sigmoid", 1),
             ("categorical_crossentropy", np.eye(2, dtype=np.float32)[labels], "softmax", 2)]
    for loss, y, act, units in cases:
        models = []
        for kw in ({"class_weight": {1: 4.0}},
                   {"sample_weight": np.where(labels == 1, 4.0, 1.0)}):
            m = gn.Sequential([gn.Dense(units, act)], seed=3)
            m.compile(gn.SGD(0.1), loss)
            m.fit(x, y, epochs=2, batch_size=8, verbose=0, **kw)
            models.append(m)
        np.testing.assert_array_equal(models[0].variables, models[1].variables, err_msg=loss)


# -- validation splits ----------------------------------------------------------------------

def test_validation_split_holds_out_the_last_rows_as_keras_does():
    """The reported val_loss is the loss of the trained model on the last rows, computed
    here with evaluate (not read from a warning)."""
    x, y = _blobs(np.random.default_rng(3), n=40)
    model = _classifier(4, 3)
    history = model.fit(x, y, validation_split=0.25, epochs=3, verbose=0)
    held = model.evaluate(x[-10:], y[-10:], return_dict=True)
    assert history.history["val_loss"][-1] == pytest.approx(held["loss"], rel=1e-5)
    assert history.history["val_accuracy"][-1] == pytest.approx(held["accuracy"])
    first = model.evaluate(x[:10], y[:10], return_dict=True)
    assert first["loss"] != pytest.approx(held["loss"], rel=1e-5)


def test_validation_split_keeps_the_sample_weights_with_their_rows():
    x, y = _blobs(np.random.default_rng(4), n=40)
    w = np.linspace(0.5, 2.0, 40)
    model = _classifier(4, 3)
    history = model.fit(x, y, sample_weight=w, validation_split=0.25, epochs=2, verbose=0)
    # Keras reports the validation loss unweighted when validation_split is used? glassnet
    # keeps the weights with their rows: the weighted loss of the last rows.
    weighted = model.evaluate(x[-10:], y[-10:], sample_weight=w[-10:], return_dict=True)["loss"]
    unweighted = model.evaluate(x[-10:], y[-10:], return_dict=True)["loss"]
    assert history.history["val_loss"][-1] == pytest.approx(weighted, rel=1e-5)
    assert weighted != pytest.approx(unweighted, rel=1e-5)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(4, 60), fraction=st.floats(0.05, 0.95), seed=st.integers(0, 2 ** 16),
       stratified=st.booleans())
def test_validation_split_function_keeps_rows_paired_and_disjoint(n, fraction, seed, stratified):
    n_val = int(round(n * fraction))
    ids = np.arange(n)
    labels = ids % 3
    weights = ids * 10.0
    if not 1 <= n_val < n:
        with pytest.raises(ValueError, match="both need at least one"):
            validation_split([ids, labels, weights], fraction)
        return
    rng = np.random.default_rng(seed)
    for generator in (None, rng):
        (ti, tl, tw), (vi, vl, vw) = validation_split(
            [ids, labels, weights], fraction, rng=generator,
            stratify=labels if stratified and generator is not None else None)
        if not (stratified and generator is not None):     # stratified: rounded per class
            assert len(vi) == n_val and len(ti) == n - n_val
        assert sorted(np.concatenate([ti, vi]).tolist()) == list(range(n))
        np.testing.assert_array_equal(tl, ti % 3)
        np.testing.assert_array_equal(vl, vi % 3)
        np.testing.assert_array_equal(tw, ti * 10.0)
        np.testing.assert_array_equal(vw, vi * 10.0)
        if generator is None:
            np.testing.assert_array_equal(vi, np.arange(n - n_val, n))


@settings(max_examples=40, deadline=None)
@given(n=st.integers(6, 80), test_size=st.floats(0.1, 0.9), seed=st.integers(0, 2 ** 16),
       shuffle=st.booleans())
def test_train_test_split_keeps_rows_paired(n, test_size, seed, shuffle):
    ids = np.arange(n)
    x = np.stack([ids, -ids], axis=1)
    y = ids % 2
    n_test = int(round(test_size * n))
    if not 0 < n_test < n:
        return
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=test_size, seed=seed,
                                              shuffle=shuffle)
    assert len(x_te) == len(y_te) == n_test and len(x_tr) == n - n_test
    np.testing.assert_array_equal(y_tr, x_tr[:, 0] % 2)
    np.testing.assert_array_equal(y_te, x_te[:, 0] % 2)
    assert sorted(np.concatenate([x_tr[:, 0], x_te[:, 0]]).tolist()) == list(range(n))
    if not shuffle:
        np.testing.assert_array_equal(x_te[:, 0], np.arange(n - n_test, n))


def test_stratified_split_keeps_each_class_in_proportion():
    labels = np.repeat([0, 1, 2], [50, 30, 20])          # sorted by class, as files often are
    x = np.arange(100)
    x_tr, x_te, y_tr, y_te = train_test_split(x, labels, test_size=0.2, stratify=labels, seed=0)
    assert np.bincount(y_te).tolist() == [10, 6, 4]
    assert np.bincount(y_tr).tolist() == [40, 24, 16]
    np.testing.assert_array_equal(labels[x_te], y_te)
    assert len(set(x_te.tolist()) & set(x_tr.tolist())) == 0


# -- CSV files: labels keep their task -------------------------------------------------------

def test_csv_round_trip_keeps_integer_labels_with_decimal_features(tmp_path):
    """Features with decimals make NumPy parse the whole table as floats; whole-number labels
    must still come back as int64 classes, not float64 regression targets."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(30, 3)).round(3)
    y = np.arange(30) % 3
    save_csv(tmp_path / "d.csv", x, y)
    X, labels = load_csv(tmp_path / "d.csv")
    assert labels.dtype == np.int64
    np.testing.assert_array_equal(labels, y)
    np.testing.assert_allclose(X, x, rtol=1e-6)
    (tmp_path / "f.csv").write_text("label,a\n1.0,0.5\n0.0,1.5\n2.0,2.5\n")
    _, labels = load_csv(tmp_path / "f.csv")
    assert labels.dtype == np.int64 and labels.tolist() == [1, 0, 2]


def test_csv_round_trip_keeps_real_valued_targets(tmp_path):
    x = np.arange(8, dtype=float).reshape(4, 2)
    y = np.array([0.5, 1.0, 2.25, -3.0])
    save_csv(tmp_path / "r.csv", x, y)
    _, labels = load_csv(tmp_path / "r.csv")
    assert labels.dtype == np.float64
    np.testing.assert_array_equal(labels, y)


def test_cli_trains_a_classifier_on_a_csv_with_decimal_features(tmp_path):
    """The user's file: decimals in the features, classes 0..2 as labels. The saved model is
    a 3-class classifier that predicts the classes."""
    from glassnet import cli
    rng = np.random.default_rng(6)
    y = np.arange(90) % 3
    x = (rng.normal(size=(90, 2)) * 0.3 + 3.0 * np.stack([y, -y], axis=1)).round(4)
    save_csv(tmp_path / "d.csv", x, y, label="kind")
    out = tmp_path / "m.glassnet"
    assert cli.main(["train", "--data", str(tmp_path / "d.csv"), "--label", "kind",
                     "--epochs", "100", "--quiet", "--seed", "0", "--out", str(out)]) == 0
    model = gn.load_model(out)
    assert model.output_dim == 3 and model.loss.sparse
    assert model.layers[-1].activation.name == "softmax"
    accuracy = np.mean(model.predict(x.astype(np.float32)).argmax(axis=1) == y)
    assert accuracy > 0.9


# -- CSVDataset: x and y stay paired through every shuffle ------------------------------------

def _write_paired_csv(path, n, with_header, decimals):
    """Row i: label i % 5 first, then features (i, label * 2 (+ .5)): the pairing is checkable."""
    rows = []
    for i in range(n):
        k = i % 5
        rows.append(f"{k},{i},{k * 2}{'.5' if decimals else ''}")
    path.write_text(("label,id,twice\n" if with_header else "") + "\n".join(rows) + "\n")


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 120), batch=st.integers(1, 17), buffer=st.integers(0, 40),
       block=st.integers(8, 400), seed=st.integers(0, 1000), header=st.booleans(),
       decimals=st.booleans())
def test_csv_dataset_keeps_x_and_y_paired_and_reads_every_row_once(
        tmp_path_factory, n, batch, buffer, block, seed, header, decimals):
    path = tmp_path_factory.mktemp("csv") / "d.csv"
    _write_paired_csv(path, n, header, decimals)
    ds = CSVDataset(path, batch_size=batch, shuffle_buffer=buffer, seed=seed, block_bytes=block)
    assert ds.n_rows == n and len(ds) == -(-n // batch)
    for _ in range(2):                                # the file is read again each epoch
        seen = []
        batches = list(ds)
        for xb, yb in batches:
            assert len(xb) == len(yb) >= 1 and len(xb) <= batch
            ids = xb[:, 0].astype(np.int64)
            np.testing.assert_array_equal(yb, ids % 5)
            np.testing.assert_array_equal(np.floor(xb[:, 1]), (ids % 5) * 2)
            seen.extend(ids.tolist())
        assert sorted(seen) == list(range(n))
        assert all(len(xb) == batch for xb, _ in batches[:-1])
        if buffer == 0:
            assert seen == list(range(n))


def test_csv_dataset_shuffle_buffer_shuffles(tmp_path):
    _write_paired_csv(tmp_path / "d.csv", 200, True, False)
    ds = CSVDataset(tmp_path / "d.csv", batch_size=10, shuffle_buffer=50, seed=0,
                    block_bytes=256)
    order = np.concatenate([xb[:, 0] for xb, _ in ds])
    assert sorted(order.tolist()) == list(range(200)) and order.tolist() != list(range(200))


def test_csv_dataset_and_load_csv_agree_on_labels(tmp_path):
    """The same file streamed or loaded gives the same classes (decimal features included)."""
    _write_paired_csv(tmp_path / "d.csv", 37, True, True)
    X, y = load_csv(tmp_path / "d.csv")
    streamed = list(CSVDataset(tmp_path / "d.csv", batch_size=8, block_bytes=64))
    np.testing.assert_array_equal(np.concatenate([b[0] for b in streamed]), X)
    np.testing.assert_array_equal(np.concatenate([b[1] for b in streamed]), y)


def test_fit_on_a_shuffled_csv_dataset_learns_the_labels(tmp_path):
    """End to end: a shuffled stream trains a classifier as well as the arrays do."""
    rng = np.random.default_rng(7)
    y = np.arange(300) % 2
    x = rng.normal(size=(300, 2)) + 2.0 * np.stack([y, -y], axis=1)
    save_csv(tmp_path / "d.csv", x.round(4), y)
    model = gn.Sequential([gn.Dense(2, "softmax")], seed=0)
    model.compile(gn.Adam(0.05), "sparse_categorical_crossentropy", metrics=["accuracy"])
    ds = CSVDataset(tmp_path / "d.csv", batch_size=16, shuffle_buffer=64, seed=1,
                    block_bytes=512)
    model.fit(ds, epochs=5, verbose=0)
    assert model.evaluate(x.astype(np.float32), y, return_dict=True)["accuracy"] > 0.9


# -- ONNX: settings other than the defaults ---------------------------------------------------

#: every activation with a parameter, set away from its default
NON_DEFAULT = {"leaky_relu": {"negative_slope": 0.3}, "elu": {"alpha": 0.4}}


def test_every_parametrised_activation_is_covered_with_non_defaults():
    for name in activations.names():
        config = activations.get(name).get_config()
        if config:
            assert name in NON_DEFAULT, f"add {name} to NON_DEFAULT"
            assert all(NON_DEFAULT[name][k] != v for k, v in config.items())


@pytest.mark.parametrize("name", sorted(NON_DEFAULT))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_onnx_uses_the_activations_own_parameters(tmp_path, name, dtype):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    act = activations.REGISTRY.lookup(name)(**NON_DEFAULT[name])
    model = gn.Sequential([gn.Dense(8, act), gn.Dense(3, act)], dtype=dtype, seed=2)
    model.build(4)
    model.export_onnx(tmp_path / "m.onnx")
    x = np.random.default_rng(0).normal(scale=3, size=(50, 4)).astype(dtype)
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    got = session.run(["output"], {"input": x})[0]
    expected = model.predict(x)
    assert (expected < -0.1).any()                    # the negative side is exercised
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_onnx_layers_with_non_default_settings(tmp_path):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    rng = np.random.default_rng(8)
    x = rng.normal(loc=3, scale=2, size=(64, 5)).astype(np.float32)
    norm = gn.layers.Normalization(mean=x.mean(axis=0) + 0.5, variance=x.var(axis=0) * 2)
    model = gn.Sequential([norm, gn.Rescaling(0.7, offset=-0.2),
                           gn.Dense(6, "elu", use_bias=False),
                           gn.BatchNormalization(momentum=0.3, epsilon=0.5),
                           gn.Dense(5, "tanh"), gn.LayerNormalization(epsilon=0.7),
                           gn.Dropout(0.4), gn.Dense(2, "softmax")], seed=0)
    model.compile(loss="sparse_categorical_crossentropy", optimizer=gn.Adam(0.05))
    model.fit(x, (x[:, 0] > 3).astype(int), epochs=3, verbose=0)
    model.export_onnx(tmp_path / "m.onnx")
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(["output"], {"input": x})[0], model.predict(x),
                               rtol=1e-5, atol=1e-6)


# -- gradcheck reports a wrong gradient -------------------------------------------------------

class _WrongCube(activations.Activation):
    """a = z³ with a planted slip: the derivative written as 2z² instead of 3z²."""

    name = "test_wrong_cube"
    needs_z = True

    def forward(self, z, steps=None):
        return z ** 3

    def backward(self, z, a, grad_a):
        return grad_a * 2 * z ** 2


class _RightCube(_WrongCube):
    name = "test_right_cube"

    def backward(self, z, a, grad_a):
        return grad_a * 3 * z ** 2


@pytest.fixture
def cubes():
    for cls in (_WrongCube, _RightCube):
        gn.register(cls)
    yield
    for cls in (_WrongCube, _RightCube):
        activations.REGISTRY.classes.pop(cls.name, None)


@pytest.mark.parametrize("scale", [1.0, 0.05])
def test_gradcheck_flags_a_wrong_derivative_and_passes_the_right_one(cubes, scale):
    """Small inputs make small gradients: a relative check must still see the slip."""
    rng = np.random.default_rng(9)
    x = rng.normal(scale=scale, size=(6, 3))
    y = rng.normal(scale=scale, size=(6, 2))
    errors = {}
    for name in ("test_wrong_cube", "test_right_cube"):
        model = gn.Sequential([gn.Dense(4, name), gn.Dense(2)], seed=1)
        model.compile("sgd", "mse")
        model.build(3)
        errors[name] = gn.gradcheck(model, x, y)
    assert errors["test_wrong_cube"] > 0.05
    assert errors["test_right_cube"] < 1e-5


class _WrongDense(gn.Dense):
    """Dense with a planted slip in dL/dW (halved)."""

    def backward(self, grad_a, need_input_grad=True):
        out = super().backward(grad_a, need_input_grad)
        self.grads[0] *= 0.5
        return out


@pytest.fixture
def wrong_dense():
    gn.register(_WrongDense, name="test_wrong_dense")
    yield
    gn.layers.REGISTRY.classes.pop("test_wrong_dense", None)


class _OneWrongWeight(gn.Dense):
    """Dense whose dL/dW is wrong in one entry only (or not a number there)."""

    slip = 1.0

    def backward(self, grad_a, need_input_grad=True):
        out = super().backward(grad_a, need_input_grad)
        self.grads[0][0, 0] += self.slip
        return out


class _NaNWeight(_OneWrongWeight):
    slip = float("nan")


@pytest.fixture
def one_wrong():
    gn.register(_OneWrongWeight, name="test_one_wrong")
    gn.register(_NaNWeight, name="test_nan_weight")
    yield
    for name in ("test_one_wrong", "test_nan_weight"):
        gn.layers.REGISTRY.classes.pop(name, None)


def _one_layer(cls):
    model = gn.Sequential([cls(3, "tanh"), gn.Dense(1)], seed=0)   # 4·3 + 3 + 3 + 1 = 19
    model.compile("sgd", "mse")
    model.build(4)
    return model


def test_gradcheck_max_params_checks_a_seeded_random_subset(one_wrong):
    rng = np.random.default_rng(11)
    x, y = rng.normal(size=(5, 4)), rng.normal(size=(5, 1))
    model = _one_layer(_OneWrongWeight)
    assert gn.gradcheck(model, x, y) > 0.05                      # every parameter: seen
    assert gn.gradcheck(model, x, y, max_params=19) > 0.05      # all 19 of them
    seen = [gn.gradcheck(model, x, y, max_params=4, seed=s) > 0.05 for s in range(30)]
    assert 0 < sum(seen) < 30                                   # 4 of 19: sometimes
    assert gn.gradcheck(model, x, y, max_params=4) == gn.gradcheck(model, x, y, max_params=4,
                                                                    seed=0)
    right = _one_layer(gn.Dense)
    errors = [gn.gradcheck(right, x, y, max_params=4, seed=s) for s in range(5)]
    assert max(errors) < 1e-6 and len(set(errors)) > 1          # other seeds, other subsets
    assert errors == [gn.gradcheck(right, x, y, max_params=4, seed=s) for s in range(5)]
    # 18 distinct parameters of 19 miss the wrong one 1 time in 19 (drawn with replacement,
    # 18 draws would miss it 38 times in 100)
    found = sum(gn.gradcheck(model, x, y, max_params=18, seed=s) > 0.05 for s in range(30))
    assert found >= 26, found
    with pytest.raises(RuntimeError, match=r"^gradcheck needs a compiled model$"):
        gn.gradcheck(gn.Sequential([gn.Dense(1)]), x, y)


def test_gradcheck_reports_a_gradient_that_is_not_a_number(one_wrong):
    rng = np.random.default_rng(12)
    x, y = rng.normal(size=(5, 4)), rng.normal(size=(5, 1))
    assert np.isnan(gn.gradcheck(_one_layer(_NaNWeight), x, y))


def test_gradcheck_flags_a_wrong_layer_gradient(wrong_dense):
    rng = np.random.default_rng(10)
    x, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 1))
    model = gn.Sequential([_WrongDense(4, "tanh"), gn.Dense(1)], seed=0)
    model.compile("sgd", "mse")
    model.build(3)
    assert gn.gradcheck(model, x, y) > 0.05
    right = gn.Sequential([gn.Dense(4, "tanh"), gn.Dense(1)], seed=0)
    right.compile("sgd", "mse")
    right.build(3)
    assert gn.gradcheck(right, x, y) < 1e-6


# -- the report's worst sample ----------------------------------------------------------------

def test_worst_sample_is_the_highest_loss_row_computed_independently():
    rng = np.random.default_rng(11)
    x, y = _blobs(rng, n=50)
    model = _classifier(4, 3)
    model.fit(x, y, epochs=5, verbose=0)
    p = model.predict(x).astype(np.float64)
    losses = -np.log(p[np.arange(len(y)), y])          # cross-entropy of each row, by hand
    assert np.sum(losses == losses.max()) == 1
    expected = int(np.argmax(losses))
    assert expected != int(np.argmin(losses))
    assert worst_sample(model, x, y) == expected
    assert worst_sample(model, x, y, limit=10) == int(np.argmax(losses[:10]))
    pytest.importorskip("matplotlib")
    page = html_report(model, x, y)
    assert f"Sample {expected}, traced through every equation" in page


def test_worst_sample_for_regression():
    rng = np.random.default_rng(12)
    x = rng.normal(size=(20, 2)).astype(np.float32)
    y = (x[:, :1] * 3).astype(np.float32)
    y[13] += 40                                        # one row far off
    model = gn.Sequential([gn.Dense(1)], seed=0)
    model.compile("sgd", "mse")
    model.build(2)
    squared = ((model.predict(x) - y) ** 2)[:, 0]
    assert worst_sample(model, x, y) == int(np.argmax(squared)) == 13


# -- evaluate reports what the predictions say ------------------------------------------------

@pytest.mark.parametrize("kind", ["sparse", "one_hot", "binary"])
def test_evaluate_accuracy_and_loss_are_those_of_the_predictions(kind):
    rng = np.random.default_rng(13)
    x = rng.normal(size=(37, 3)).astype(np.float32)
    labels = (x[:, 0] + 0.5 * rng.normal(size=37) > 0).astype(np.int64)
    if kind == "binary":
        model = gn.Sequential([gn.Dense(1, "sigmoid")], seed=0)
        y, loss = labels[:, None].astype(np.float32), "binary_crossentropy"
    else:
        model = gn.Sequential([gn.Dense(2, "softmax")], seed=0)
        y = labels if kind == "sparse" else np.eye(2, dtype=np.float32)[labels]
        loss = "sparse_categorical_crossentropy" if kind == "sparse" \
            else "categorical_crossentropy"
    model.compile(gn.SGD(0.1), loss, metrics=["accuracy"])
    model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    p = model.predict(x).astype(np.float64)
    if kind == "binary":
        predicted = (p[:, 0] > 0.5).astype(int)
        expected_loss = -np.mean(labels * np.log(p[:, 0]) + (1 - labels) * np.log(1 - p[:, 0]))
    else:
        predicted = p.argmax(axis=1)
        expected_loss = -np.mean(np.log(p[np.arange(37), labels]))
    result = model.evaluate(x, y, batch_size=10, return_dict=True)  # several batches, uneven
    assert result["accuracy"] == pytest.approx(np.mean(predicted == labels), abs=1e-6)
    assert 0.5 < result["accuracy"] < 1.0                     # neither trivial bound
    assert result["loss"] == pytest.approx(expected_loss, rel=1e-4)


# -- trainer's data path: from the survivors of tools/mutation.sh trainer ----------------------

def test_validation_data_in_every_form_scores_the_validation_rows(rng, tmp_path):
    x, y = _blobs(rng, n=60)
    xv, yv = _blobs(rng, n=30)
    wv = np.where(np.arange(30) % 3 == 0, 0.0, 1.5)

    def val_loss(validation_data, **kw):
        model = _classifier(4, 3)
        history = model.fit(x, y, epochs=1, batch_size=20, verbose=0, shuffle=False,
                            validation_data=validation_data, **kw)
        return model, history.history["val_loss"][0]

    model, loss = val_loss((xv, yv, wv), validation_batch_size=7)
    assert loss == pytest.approx(model.evaluate(xv, yv, sample_weight=wv,
                                                return_dict=True)["loss"], rel=1e-5)
    assert loss != pytest.approx(model.evaluate(xv, yv, return_dict=True)["loss"], rel=1e-3)
    plain = model.evaluate(xv, yv, return_dict=True)["loss"]
    for given in ([(xv[:15], yv[:15]), (xv[15:], yv[15:])],            # a list of batches
                  (np.lib.format.open_memmap(tmp_path / "xv.npy", "w+", np.float32,
                                             xv.shape), yv)):
        if isinstance(given, tuple):
            given[0][:] = xv
        model, loss = val_loss(given)
        assert loss == pytest.approx(plain, rel=1e-5)


def test_validation_freq_as_a_list_of_epochs():
    rng = np.random.default_rng(0)
    x, y = _blobs(rng)
    model = _classifier(4, 3)
    validated = []
    watch = gn.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: validated.append("val_loss" in logs))
    history = model.fit(x, y, epochs=4, verbose=0, validation_split=0.25,
                        validation_freq=[2, 3], callbacks=[watch])
    assert validated == [False, True, True, False]                # epochs 2 and 3 (from 1)
    assert len(history.history["val_loss"]) == 2
    with pytest.raises(ValueError, match=r"validation_freq must be a positive integer or a "
                                         r"collection of epoch numbers; received 0"):
        model.fit(x, y, validation_split=0.25, validation_freq=0, verbose=0)


def test_steps_per_epoch_goes_round_the_data_and_a_generator_runs_out():
    rng = np.random.default_rng(1)
    x, y = _blobs(rng, n=40)
    seen = []

    class Rows(gn.Sequential):
        def train_step(self, xb, yb, sample_weight=None):
            seen.append(len(xb))
            return super().train_step(xb, yb, sample_weight)

    model = Rows([gn.Dense(3, "softmax")], seed=0)
    model.compile(gn.SGD(0.1), "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=10, steps_per_epoch=6, epochs=2, verbose=0)
    assert model.optimizer.iterations == 12 and seen == [10] * 12      # round the data again
    batches = ((x[i:i + 10], y[i:i + 10]) for i in range(0, 30, 10))
    with pytest.warns(RuntimeWarning, match=r"the input ran out of data after 3 of 5 steps: "
                                            r"a generator feeds each batch once"):
        model.fit(batches, steps_per_epoch=5, epochs=1, verbose=0)
    assert model.optimizer.iterations == 15


def test_class_weight_multiplies_sample_weight_and_its_keys_are_checked():
    rng = np.random.default_rng(2)
    x, y = _blobs(rng)
    w = np.where(np.arange(60) % 2, 2.0, 0.5)
    a, b = _classifier(4, 3), _classifier(4, 3)
    a.fit(x, y, sample_weight=w, class_weight={0: 3.0, 2: 0.25}, epochs=2, batch_size=16,
          shuffle=False, verbose=0)
    b.fit(x, y, sample_weight=w * np.array([3.0, 1.0, 0.25])[y], epochs=2, batch_size=16,
          shuffle=False, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-6)
    for bad in ({True: 2.0}, {-1: 2.0}, {"0": 2.0}):
        with pytest.raises(ValueError, match=r"class_weight must be a dict \{class index: "
                                             r"weight\}"):
            a.fit(x, y, class_weight=bad, verbose=0)


def test_fit_refuses_a_validation_split_of_everything_and_an_untrainable_layer():
    rng = np.random.default_rng(3)
    x, y = _blobs(rng)
    model = _classifier(4, 3)
    for split in (1.0, 1.5, -0.1):
        with pytest.raises(ValueError, match=rf"validation_split must be in \[0, 1\); received "
                                             rf"{split}"):
            model.fit(x, y, validation_split=split, verbose=0)
    stepped = gn.Sequential([gn.Dense(3, "step"), gn.Dense(3, "softmax")], seed=0)
    stepped.compile("sgd", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"layer 'dense' uses the 'step' activation, which "
                                         r"cannot be trained \(its gradient is zero\)"):
        stepped.fit(x, y, verbose=0)
