"""Keras's functional API, as users write it: graphs of layers, layers you call, layers of layers.

The first tests retell the keras.io guide "The Functional API" (its MLP examples) in
our own words, with only the import changed.
"""
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import glassnet as keras          # the only change from Keras code
import glassnet as gn
from glassnet import layers


# ------------------------------------------------------------------------------------------
# the guide, retold
# ------------------------------------------------------------------------------------------

def test_guide_mnist_mlp_builds_trains_evaluates_saves_and_reloads(tmp_path, rng):
    inputs = keras.Input(shape=(64,))               # the embedded 8×8 digits, not MNIST's 28×28
    assert inputs.shape == (None, 64) and inputs.dtype == "float32"
    dense = layers.Dense(64, activation="relu")
    x = dense(inputs)
    x = layers.Dense(64, activation="relu")(x)
    outputs = layers.Dense(10)(x)
    model = keras.Model(inputs=inputs, outputs=outputs, name="mnist_model")
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert 'Model: "mnist_model"' in text and "Total params: 8,970" in text
    assert "dense_1 (Dense)" in text and "Connected to" in text
    x_train, y_train = gn.datasets.digits()
    x_train = x_train.astype("float32") / 16
    model.compile(loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  optimizer=keras.optimizers.Adam(1e-3), metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=64, epochs=10, validation_split=0.2,
                        verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    scores = model.evaluate(x_train, y_train, verbose=0, return_dict=True)
    assert scores["accuracy"] > 0.9
    model.save(tmp_path / "mnist.glassnet")
    del model
    again = keras.models.load_model(tmp_path / "mnist.glassnet")
    assert isinstance(again, keras.Model) and again.name == "mnist_model"
    np.testing.assert_allclose(again.evaluate(x_train, y_train, return_dict=True)["accuracy"], scores["accuracy"])


def test_guide_models_are_callable_like_layers_autoencoder(rng):
    encoder_input = keras.Input(shape=(16,), name="img")
    x = layers.Dense(8, activation="relu")(encoder_input)
    encoder_output = layers.Dense(3)(x)
    encoder = keras.Model(encoder_input, encoder_output, name="encoder")
    decoder_input = keras.Input(shape=(3,), name="encoded_img")
    decoder_output = layers.Dense(16)(layers.Dense(8, activation="relu")(decoder_input))
    decoder = keras.Model(decoder_input, decoder_output, name="decoder")
    autoencoder_input = keras.Input(shape=(16,), name="img")
    autoencoder = keras.Model(autoencoder_input, decoder(encoder(autoencoder_input)),
                              name="autoencoder")
    x = rng.normal(size=(200, 16))
    x[:, 8:] = x[:, :8]                             # something to compress
    autoencoder.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    before = autoencoder.evaluate(x, x, return_dict=True)["loss"]
    autoencoder.fit(x, x, epochs=30, batch_size=32, verbose=0)
    assert autoencoder.evaluate(x, x, return_dict=True)["loss"] < 0.7 * before
    # the encoder and decoder are the same objects, trained through the autoencoder
    np.testing.assert_allclose(decoder.predict(encoder.predict(x[:5])),
                               autoencoder.predict(x[:5]), rtol=1e-5, atol=1e-6)


def test_guide_ensemble_averages_three_models(rng):
    def get_model():
        inputs = keras.Input(shape=(12,))
        return keras.Model(inputs, layers.Dense(1)(inputs))
    model1, model2, model3 = get_model(), get_model(), get_model()
    inputs = keras.Input(shape=(12,))
    outputs = layers.average([model1(inputs), model2(inputs), model3(inputs)])
    ensemble = keras.Model(inputs=inputs, outputs=outputs)
    x = rng.normal(size=(7, 12)).astype("float32")
    mean = (model1.predict(x) + model2.predict(x) + model3.predict(x)) / 3
    np.testing.assert_allclose(ensemble.predict(x), mean, rtol=1e-6, atol=1e-6)
    assert ensemble.count_params() == 3 * 13


def test_guide_multiple_inputs_and_outputs_with_dict_losses(rng, tmp_path):
    title_input = keras.Input(shape=(10,), name="title")
    body_input = keras.Input(shape=(20,), name="body")
    tags_input = keras.Input(shape=(4,), name="tags")
    title_features = layers.Dense(8, activation="relu")(title_input)
    body_features = layers.Dense(8, activation="relu")(body_input)
    x = layers.concatenate([title_features, body_features, tags_input])
    priority_pred = layers.Dense(1, name="priority")(x)
    department_pred = layers.Dense(3, name="department")(x)
    model = keras.Model(inputs=[title_input, body_input, tags_input],
                        outputs={"priority": priority_pred, "department": department_pred})
    n = 240
    title, body = rng.normal(size=(n, 10)), rng.normal(size=(n, 20))
    tags = rng.integers(0, 2, size=(n, 4)).astype("float32")
    priority = (title[:, :1] + tags[:, :1]).astype("float32")
    department = keras.utils.to_categorical(rng.integers(0, 3, n), 3)
    model.compile(optimizer=keras.optimizers.RMSprop(1e-3),
                  loss={"priority": "mse",
                        "department": keras.losses.CategoricalCrossentropy(from_logits=True)},
                  loss_weights={"priority": 1.0, "department": 0.2}, metrics={"priority": ["mae"]})
    history = model.fit({"title": title, "body": body, "tags": tags},
                        {"priority": priority, "department": department},
                        epochs=6, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert "priority_mae" in history.history
    out = model.predict({"title": title[:4], "body": body[:4], "tags": tags[:4]})
    assert {k: v.shape for k, v in out.items()} == {"priority": (4, 1), "department": (4, 3)}
    # the total is 1.0 · mse + 0.2 · cross-entropy, each computed on its own
    total = model.evaluate([title, body, tags], [priority, department], return_dict=True)["loss"]
    mse = np.mean((model.predict([title, body, tags])["priority"] - priority) ** 2)
    logits = model.predict([title, body, tags])["department"].astype(np.float64)
    logp = logits - logits.max(1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(1, keepdims=True))
    ce = -np.mean((department * logp).sum(1))
    assert total == pytest.approx(mse + 0.2 * ce, rel=1e-4)
    model.save(tmp_path / "tickets.glassnet")
    again = keras.models.load_model(tmp_path / "tickets.glassnet")
    np.testing.assert_array_equal(again.predict([title, body, tags])["department"],
                                  model.predict([title, body, tags])["department"])
    assert again.evaluate([title, body, tags], [priority, department], return_dict=True)["loss"] == \
        pytest.approx(total, rel=1e-12)


def test_guide_shared_layer_is_one_set_of_weights(rng):
    shared = layers.Dense(4, activation="tanh")
    a, b = keras.Input(shape=(6,)), keras.Input(shape=(6,))
    model = keras.Model([a, b], layers.subtract([shared(a), shared(b)]))
    assert model.count_params() == 6 * 4 + 4
    x = rng.normal(size=(3, 6)).astype("float32")
    np.testing.assert_array_equal(model.predict([x, x]), np.zeros((3, 4), np.float32))


# ------------------------------------------------------------------------------------------
# calling layers on arrays (Keras's eager call)
# ------------------------------------------------------------------------------------------

def test_a_layer_called_on_an_array_builds_and_computes(rng):
    x = rng.normal(size=(5, 3))
    dense = layers.Dense(2, activation="relu")
    out = dense(x)
    assert out.shape == (5, 2) and dense.kernel.shape == (3, 2)
    np.testing.assert_allclose(out, np.maximum(x.astype(np.float32) @ dense.kernel + dense.bias,
                                               0), rtol=1e-6)
    norm = layers.Normalization()
    norm.adapt(x)
    np.testing.assert_allclose(norm(x[:1]), ((x - x.mean(0)) / x.std(0))[:1], rtol=1e-5)
    drop = layers.Dropout(0.5)
    np.testing.assert_array_equal(drop(x), x.astype(np.float32))       # inference by default
    assert (drop(x, training=True) == 0).any()


def test_eagerly_built_weights_follow_the_layer_into_a_model(rng):
    dense = layers.Dense(3)
    dense(np.ones((1, 4)))
    kernel = dense.get_weights()[0]
    inputs = keras.Input(shape=(4,))
    model = keras.Model(inputs, dense(inputs))
    np.testing.assert_array_equal(model.get_weights()[0], kernel)


def test_a_model_called_on_an_array_predicts(rng):
    inputs = keras.Input(shape=(3,))
    model = keras.Model(inputs, layers.Dense(2)(inputs))
    x = rng.normal(size=(4, 3)).astype("float32")
    np.testing.assert_array_equal(model(x), model.predict(x))


# ------------------------------------------------------------------------------------------
# layers made of layers
# ------------------------------------------------------------------------------------------

@gn.register
class ResidualBlock(layers.Layer):
    """x + Dense(Dense_relu(x)): a residual block, written as Keras writes it."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.hidden = layers.Dense(units, activation="tanh")
        self.project = layers.Dense(units)

    def call(self, x):
        return x + self.project(self.hidden(x))


def test_a_residual_block_is_one_short_class_that_trains_saves_and_loads(tmp_path, rng):
    x = rng.normal(size=(64, 6))
    y = rng.integers(0, 3, 64)
    model = gn.Sequential([gn.Input(shape=(6,)), ResidualBlock(6), ResidualBlock(6),
                           layers.Dense(3, activation="softmax")], seed=0)
    assert model.count_params() == 2 * (6 * 6 + 6) * 2 + 6 * 3 + 3
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    model.fit(x, y, epochs=3, verbose=0)
    model.save(tmp_path / "res.glassnet")
    again = gn.load_model(tmp_path / "res.glassnet")
    # (as in Keras, the Input is not one of model.layers)
    assert [type(layer).__name__ for layer in again.layers] == ["ResidualBlock"] * 2 + ["Dense"]
    np.testing.assert_array_equal(again.predict(x), model.predict(x))
    assert again.layers[0].get_config()["units"] == 6


def test_a_composite_layers_backward_comes_from_its_graph(rng):
    model = gn.Sequential([ResidualBlock(4, input_dim=4), layers.Dense(2)], dtype="float64",
                          seed=1)
    model.compile("sgd", "mse")
    x, y = rng.normal(size=(6, 4)), rng.normal(size=(6, 2))
    assert gn.gradcheck(model, x, y) < 1e-7
    # the block's weights, penalties and trace are its sub-layers'
    block = model.layers[0]
    assert [w.shape for w in block.weights] == [(4, 4), (4,), (4, 4), (4,)]
    labels = [s.label for s in model.trace(x[:1], y[:1]).layers[0].forward]
    assert "dense.z" in labels and "dense_1.z" in labels and "add.a" in labels


# ------------------------------------------------------------------------------------------
# the researcher's seams
# ------------------------------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore:x looks unscaled")
def test_a_train_step_override_that_returns_nan_raises_training_diverged(rng):
    class Clipped(gn.Sequential):
        def train_step(self, x, y, sample_weight=None):
            loss = self.compute_loss_and_gradients(x, y, sample_weight, training=True)
            np.clip(self.grads, -1.0, 1.0, out=self.grads)
            self.optimizer.step(self.params, self.grads)
            return {"loss": loss}

    x, y = rng.normal(size=(64, 3)), rng.normal(size=(64, 1))
    model = Clipped([layers.Dense(4, input_dim=3), layers.Dense(1)], seed=0)
    model.compile(gn.SGD(0.01), "mse")
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    good = model.get_weights()
    state = model.optimizer.iterations
    x[40] = 1e30                                     # one batch makes the loss infinite
    with pytest.raises(gn.TrainingDiverged):
        model.fit(x, y, epochs=1, batch_size=16, shuffle=False, verbose=0)
    for w in model.get_weights():
        assert np.isfinite(w).all()
    # the weights are those after the last finite step (batches 1 and 2 of this epoch)
    assert model.optimizer.iterations == state + 2
    assert not all(np.array_equal(a, b) for a, b in zip(good, model.get_weights()))


def test_a_build_override_without_super_still_records_shapes(rng):
    @gn.register
    class Scale(layers.Layer):
        def build(self, input_dim, rng):          # forgets super().build
            self.n = input_dim

        def param_shapes(self):
            return [(self.n,)]

        def initial_weights(self, dtype):
            return [np.ones(self.n, dtype)]

        def bind(self, weights, grads):           # forgets super().bind
            self.s, self.ds = weights[0], grads[0]

        def forward(self, x, training=False):
            self.record = layers.Record(x=x, a=x * self.s)
            return self.record.a

        def backward(self, grad_a, need_input_grad=True):
            self.ds[...] = (grad_a * self.record.x).sum(0)
            return grad_a * self.s

    model = gn.Sequential([Scale(input_dim=3), layers.Dense(1)], seed=0)
    lines = []
    model.summary(print_fn=lines.append)
    assert "(None, 3)" in "\n".join(lines)
    assert [w.shape for w in model.get_weights()] == [(3,), (3, 1), (1,)]
    model.compile("sgd", "mse")
    model.fit(np.ones((2, 3)), np.ones((2, 1)), epochs=2, verbose=0)
    assert not np.array_equal(model.get_weights()[0], np.ones(3, np.float32))
    # above 20,000 weights fit double-buffers them, rebinding every step: still right
    big = gn.Sequential([Scale(input_dim=100), layers.Dense(200), layers.Dense(1)], seed=0)
    assert big.count_params() > 20_000
    big.compile("sgd", "mse")
    x = rng.normal(size=(32, 100))
    before = big.evaluate(x, x[:, :1], return_dict=True)["loss"]
    big.fit(x, x[:, :1], epochs=5, batch_size=8, verbose=0)
    assert big.evaluate(x, x[:, :1], return_dict=True)["loss"] < before
    assert not np.array_equal(big.get_weights()[0], np.ones(100, np.float32))


def test_a_registered_model_subclass_saves_and_loads_as_itself(tmp_path, rng):
    @gn.register
    class Tagged(gn.Sequential):
        def train_step(self, x, y, sample_weight=None):
            return super().train_step(x, y, sample_weight)

    model = Tagged([layers.Dense(2, input_dim=3)], seed=0)
    model.compile("adam", "mse")
    model.fit(rng.normal(size=(8, 3)), rng.normal(size=(8, 2)), epochs=1, verbose=0)
    model.save(tmp_path / "t.glassnet")
    again = gn.load_model(tmp_path / "t.glassnet")
    assert type(again) is Tagged
    np.testing.assert_array_equal(again.get_weights()[0], model.get_weights()[0])


# ------------------------------------------------------------------------------------------
# errors that say what was expected
# ------------------------------------------------------------------------------------------

def test_graph_errors_name_the_problem():
    a, b = keras.Input(shape=(3,)), keras.Input(shape=(4,))
    with pytest.raises(ValueError, match="one width"):
        layers.add([a, b])
    with pytest.raises(ValueError, match="disconnected"):
        keras.Model(a, layers.Dense(1)(layers.concatenate([a, b])))
    with pytest.raises(ValueError, match="at least 2 inputs"):
        layers.Add()([a])
    with pytest.raises(ValueError, match="axis"):
        layers.Concatenate(axis=0)
    with pytest.raises(TypeError, match="no values"):
        np.asarray(a)
    shared = layers.Dense(2)
    shared(a)
    with pytest.raises(ValueError, match="width"):
        shared(b)
    model = keras.Model([a, b], layers.concatenate([a, b]))
    with pytest.raises(ValueError, match="2 inputs"):
        model.predict(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"x\['input_layer_1'\] has 3 features"):
        model.predict([np.ones((2, 3)), np.ones((2, 3))])


def test_plot_model_draws_every_layer(tmp_path):
    pytest.importorskip("matplotlib")
    a, b = keras.Input(shape=(4,), name="a"), keras.Input(shape=(3,), name="b")
    h = layers.Dense(5, activation="relu")(a)
    model = keras.Model([a, b], [layers.Dense(2, name="cls")(layers.concatenate([h, b])),
                                 layers.Dense(1, name="reg")(h)])
    path = keras.utils.plot_model(model, tmp_path / "model.png", show_shapes=True)
    assert (tmp_path / "model.png").stat().st_size > 5_000 and path.endswith("model.png")
    assert sorted(keras.model_plot.layer_edges(model)) == sorted(
        [("a", "dense"), ("dense", "concatenate"), ("b", "concatenate"),
         ("concatenate", "cls"), ("dense", "reg")])


def test_a_graph_exports_to_onnx_and_runs_in_onnxruntime(tmp_path, rng):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    a, b = keras.Input(shape=(4,), name="a"), keras.Input(shape=(3,), name="b")
    h = layers.Dense(5, activation="tanh")(a)
    m = layers.maximum([layers.Dense(5)(b), h])
    out1 = layers.Dense(2, activation="softmax", name="cls")(
        layers.concatenate([layers.average([h, m]), b * layers.Dense(3)(a)]))
    out2 = layers.Dense(1, name="reg")(layers.subtract([h, m]))
    model = keras.Model({"a": a, "b": b}, [out1, out2])
    model.export_onnx(tmp_path / "g.onnx")
    session = ort.InferenceSession(str(tmp_path / "g.onnx"), providers=["CPUExecutionProvider"])
    xa, xb = rng.normal(size=(6, 4)).astype("float32"), rng.normal(size=(6, 3)).astype("float32")
    got = session.run(["cls", "reg"], {"a": xa, "b": xb})
    want = model.predict({"a": xa, "b": xb})
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------------------------------
# generated graphs: gradients against finite differences, save -> load bit for bit
# ------------------------------------------------------------------------------------------

ACTS = ["tanh", "sigmoid", "linear", "softplus"]


@st.composite
def graphs(draw):
    n_inputs = draw(st.integers(1, 2))
    inputs = [keras.Input(shape=(draw(st.integers(1, 4)),)) for _ in range(n_inputs)]
    tensors = list(inputs)
    denses = []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["dense", "dense", "merge", "shared", "concat"]))
        t = draw(st.sampled_from(tensors))
        if kind == "dense" or (kind == "shared" and not denses):
            layer = layers.Dense(draw(st.integers(1, 4)), activation=draw(st.sampled_from(ACTS)))
            denses.append(layer)
            tensors.append(layer(t))
        elif kind == "shared":
            layer = draw(st.sampled_from(denses))
            same = [u for u in tensors if u.width == layer.input_dim]
            if same:
                tensors.append(layer(draw(st.sampled_from(same))))
        elif kind == "merge":
            same = [u for u in tensors if u.width == t.width]
            other = draw(st.sampled_from(same))
            op = draw(st.sampled_from([layers.add, layers.subtract, layers.multiply,
                                       layers.average]))
            tensors.append(op([t, other]))
        else:
            tensors.append(layers.concatenate([t, draw(st.sampled_from(tensors))]))
    outputs = [layers.Dense(draw(st.integers(1, 3)))(tensors[-1])]
    if draw(st.booleans()):
        outputs.append(layers.Dense(1)(draw(st.sampled_from(tensors))))
    return keras.Model(inputs, outputs, dtype="float64", seed=draw(st.integers(0, 9)))


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_generated_graphs_backpropagate_correctly_and_round_trip(tmp_path_factory, model):
    rng = np.random.default_rng(0)
    xs = [rng.normal(size=(5, w)) for w in model.input_widths]
    ys = [rng.normal(size=(5, w)) for w in model.output_widths]
    model.compile("sgd", "mse" if len(ys) == 1 else ["mse", "mse"])
    x_in, y_in = (xs if len(xs) > 1 else xs[0]), (ys if len(ys) > 1 else ys[0])
    assert gn.gradcheck(model, x_in, y_in) < 1e-6
    path = tmp_path_factory.mktemp("g") / "m.glassnet"
    model.fit(x_in, y_in, epochs=2, batch_size=5, verbose=0)
    model.save(path)
    again = gn.load_model(path)
    ours, theirs = again.predict(x_in), model.predict(x_in)
    for a, b in zip(*(v if isinstance(v, list) else [v] for v in (ours, theirs))):
        np.testing.assert_array_equal(a, b)
    assert math.isclose(again.evaluate(x_in, y_in, return_dict=True)["loss"], model.evaluate(x_in, y_in, return_dict=True)["loss"])


def test_fit_and_evaluate_agree_on_every_metric_over_the_same_data(rng):
    """Stateful metrics: an epoch's precision or AUC is over all its samples, as evaluate's."""
    x = rng.normal(size=(200, 5))
    y = (x[:, 0] + 0.5 * rng.normal(size=200) > 0).astype("float32")
    inputs = keras.Input(shape=(5,))
    model = keras.Model(inputs, layers.Dense(1, activation="sigmoid")(
        layers.Dense(8, activation="tanh")(inputs)), seed=0)
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="binary_crossentropy",
                  metrics=[keras.metrics.Precision(name="precision"),
                           keras.metrics.Recall(name="recall"), keras.metrics.AUC(name="auc"),
                           keras.metrics.AUC(name="prc", curve="PR"), "accuracy",
                           keras.metrics.TruePositives(name="tp")])
    history = model.fit(x, y, epochs=1, batch_size=32, verbose=0)   # the weights stay put
    scores = model.evaluate(x, y, return_dict=True)
    for name in ("precision", "recall", "auc", "prc", "accuracy", "tp"):
        assert history.history[name][0] == pytest.approx(scores[name], rel=1e-12), name
    assert history.history["loss"][0] == pytest.approx(scores["loss"], rel=1e-12)


# ------------------------------------------------------------------------------------------
# what an outside tester found (each finding, as a test)
# ------------------------------------------------------------------------------------------

def test_models_inside_models_save_load_and_gradcheck(tmp_path, rng):
    i = keras.Input(shape=(3,))
    inner = keras.Model(i, layers.Dense(3, activation="tanh")(i), seed=1)
    stack = keras.Sequential([layers.Dense(2, input_dim=3)], seed=2)
    x = keras.Input(shape=(3,))
    model = keras.Model(x, layers.Dense(1)(stack(inner(inner(layers.Dense(3)(x))))),
                        dtype="float64", seed=3)
    model.compile("adam", "mse")
    X, Y = rng.normal(size=(10, 3)), rng.normal(size=(10, 1))
    model.fit(X, Y, epochs=2, verbose=0)
    assert gn.gradcheck(model, X, Y) < 1e-6
    model.save(tmp_path / "nested.glassnet")
    again = keras.models.load_model(tmp_path / "nested.glassnet")
    np.testing.assert_array_equal(again.predict(X), model.predict(X))
    loaded_inner = again.get_layer(inner.name)
    assert isinstance(loaded_inner, keras.Model)
    np.testing.assert_array_equal(loaded_inner.predict(X), inner.predict(X))
    np.testing.assert_array_equal(again.predict(X), model.predict(X))    # still, after that


def test_freezing_a_layer_is_refused_not_ignored():
    dense = layers.Dense(2)
    with pytest.raises(ValueError, match="cannot freeze"):
        dense.trainable = False
    with pytest.raises(ValueError, match="cannot freeze"):
        layers.Dense(2, trainable=False)
    assert dense.trainable is True


def test_a_dataframe_of_bools_and_ints_is_numbers_and_words_are_a_value_error():
    pd = pytest.importorskip("pandas")
    inputs = keras.Input(shape=(2,))
    model = keras.Model(inputs, layers.Dense(1)(inputs))
    frame = pd.DataFrame({"x": [True, False], "y": [1, 2]})
    np.testing.assert_array_equal(model.predict(frame),
                                  model.predict(np.array([[1, 1], [0, 2]], np.float32)))
    with pytest.raises(ValueError, match="numeric"):
        model.predict(pd.DataFrame({"x": ["a", "b"], "y": [1, 2]}))


def test_one_output_named_in_a_dict_takes_dict_losses_targets_and_predicts_a_dict(rng):
    i = keras.Input(shape=(3,))
    model = keras.Model(i, {"p": layers.Dense(1, name="p")(i)})
    model.compile("adam", {"p": "mse"}, metrics={"p": ["mae"]})
    X, Y = rng.normal(size=(8, 3)), rng.normal(size=(8, 1))
    history = model.fit(X, {"p": Y}, epochs=2, verbose=0)
    assert set(history.history) == {"loss", "mae"}
    out = model.predict([X])                                    # a one-element list too
    assert list(out) == ["p"] and out["p"].shape == (8, 1)
    with pytest.raises(ValueError, match="named 'p'"):
        model.fit(X, {"q": Y}, verbose=0)


def test_composite_overrides_of_build_and_bind_without_super(rng):
    class Block(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.inner = layers.Dense(2)

        def build(self, input_dim, rng):         # forgets super(): the graph is built anyway
            self.seen_width = input_dim

        def bind(self, weights, grads):          # forgets super(): the sub-layers are bound
            self.n_arrays = len(weights)

        def call(self, x):
            return self.inner(x)

    block = Block()
    model = gn.Sequential([block], seed=0)
    model.build(3)
    assert block.seen_width == 3 and block.n_arrays == 2 and model.count_params() == 8
    np.testing.assert_allclose(model.predict(np.ones((1, 3))),
                               np.ones((1, 3)) @ block.inner.kernel + block.inner.bias,
                               rtol=1e-6)


def test_a_train_step_that_returns_no_dict_is_a_clear_error(rng):
    class Odd(gn.Sequential):
        def train_step(self, x, y, sample_weight=None):
            super().train_step(x, y, sample_weight)
            return float("inf")

    model = Odd([layers.Dense(1, input_dim=2)]).compile("sgd", "mse")
    with pytest.raises(ValueError, match="must return a dict"):
        model.fit(np.ones((4, 2)), np.ones((4, 1)), verbose=0)


def test_a_layer_whose_call_calls_itself_is_a_value_error():
    class Loop(layers.Layer):
        def call(self, x):
            return self(x)

    with pytest.raises(ValueError, match="calls itself"):
        Loop()(keras.Input(shape=(2,)))


@gn.register
class SubclassedMLP(keras.Model):
    """Keras's subclassing API: layers in __init__, the forward pass in call."""

    def __init__(self, classes=3):
        super().__init__()
        self.hidden = layers.Dense(16, activation="relu")
        self.dropout = layers.Dropout(0.2)
        self.out = layers.Dense(classes, activation="softmax")

    def call(self, inputs, training=False):
        return self.out(self.dropout(self.hidden(inputs), training=training))


def test_a_subclassed_model_traces_call_on_first_data_and_saves_as_itself(tmp_path, rng):
    x, y = rng.normal(size=(120, 6)), rng.integers(0, 3, 120)
    model = SubclassedMLP()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=3, verbose=0)
    assert len(history.history["accuracy"]) == 3
    assert model.count_params() == 6 * 16 + 16 + 16 * 3 + 3
    model.save(tmp_path / "sub.glassnet")
    again = keras.models.load_model(tmp_path / "sub.glassnet")
    assert type(again) is SubclassedMLP
    np.testing.assert_array_equal(again.predict(x), model.predict(x))
    built = SubclassedMLP(classes=2)
    built.build((None, 4))
    assert built.output_dim == 2 and built.input_dim == 4


def test_an_output_without_a_loss_is_predicted_but_not_trained_on(tmp_path, rng):
    x = keras.Input(shape=(4,))
    h = layers.Dense(6, activation="tanh")(x)
    side = layers.Dense(2, name="side")(h)                     # e.g. an embedding to look at
    main = layers.Dense(1, name="main")(h)
    model = keras.Model(x, [side, main], dtype="float64")
    model.compile("sgd", loss=[None, "mse"], metrics=[[], ["mae"]])
    X, Y = rng.normal(size=(16, 4)), rng.normal(size=(16, 1))
    history = model.fit(X, [None, Y], epochs=2, verbose=0)
    assert set(history.history) == {"loss", "main_mae"}
    # the loss is the main output's alone, its gradient too (the side layer's is zero)
    alone = keras.Model(x, main, dtype="float64")
    alone.compile("sgd", "mse")
    assert model.evaluate(X, [None, Y])[0] == pytest.approx(alone.evaluate(X, Y), rel=1e-12)
    _, grads = model.loss_and_gradients(X, [np.zeros((16, 2)), Y])
    names = [layer.name for layer in model.layers for _ in layer.trainable_weights]
    side_grads = [g for g, name in zip(grads, names) if name == "side"]
    assert all(not g.any() for g in side_grads)
    model.save(tmp_path / "m.glassnet")
    assert keras.models.load_model(tmp_path / "m.glassnet").output_losses[0] is None


def test_a_third_outside_testers_findings(rng):
    """Each finding of the last outside tester that was fixed, as a check."""
    # a subclassed multi-output model compiled before it has seen data; metrics per output
    class TwoHeads(keras.Model):
        def __init__(self):
            super().__init__()
            self.hidden = layers.Dense(8, activation="relu")
            self.reg, self.cls = layers.Dense(1), layers.Dense(3)

        def call(self, x):
            h = self.hidden(x)
            return [self.reg(h), self.cls(h)]
    model = TwoHeads()
    model.compile("adam", ["mse", keras.losses.SparseCategoricalCrossentropy(from_logits=True)],
                  metrics=[["mae"], "accuracy"])
    x = rng.random((32, 4))
    history = model.fit(x, [x[:, :1], rng.integers(0, 3, 32)], epochs=1, verbose=0)
    assert sorted(history.history) == ["dense_1_mae", "dense_2_accuracy", "loss"]
    # a single metric name per output, in a dict
    i = keras.Input((3,))
    named = keras.Model(i, {"cls": layers.Dense(2, activation="softmax", name="cls")(i),
                            "reg": layers.Dense(1, name="reg")(i)})
    named.compile("adam", {"cls": "sparse_categorical_crossentropy", "reg": "mse"},
                  metrics={"cls": "accuracy"})
    assert named.metrics_names == ["loss", "cls_accuracy"]
    # 1-D arrays for one-feature inputs of a multi-input model
    a, b = keras.Input((1,), name="a"), keras.Input((1,), name="b")
    two = keras.Model([a, b], layers.add([a, b]))
    np.testing.assert_array_equal(two.predict({"a": np.ones(3), "b": np.ones(3)}).ravel(),
                                  [2, 2, 2])
    # a sample of the wrong N-D shape is refused, not permuted
    j = keras.Input((2, 4))
    flat = keras.Model(j, layers.Dense(1)(layers.Flatten()(j)))
    with pytest.raises(ValueError, match=r"samples of shape \(2, 4\); received \(4, 2\)"):
        flat.predict(np.zeros((5, 4, 2)))
    # a generator that runs out stops training and says so
    def batches():
        for k in range(4):
            yield x[k * 8:(k + 1) * 8], x[k * 8:(k + 1) * 8, :1]
    seq = keras.Sequential([layers.Dense(1)])
    seq.compile("sgd", "mse")
    with pytest.warns(RuntimeWarning, match="ran out of data"):
        history = seq.fit(batches(), steps_per_epoch=4, epochs=3, verbose=0)
    assert history.epoch == [0]
