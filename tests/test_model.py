import io

import numpy as np
import pytest

import glassnet as gn
from glassnet import activations

XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
XOR_Y = np.array([[0], [1], [1], [0]], dtype=float)


def _xor_model(seed=0):
    model = gn.Sequential([gn.Dense(4, "tanh"), gn.Dense(1, "sigmoid")], seed=seed)
    model.compile(loss="binary_crossentropy", optimizer=gn.Adam(0.05), metrics=["accuracy"])
    return model


def test_xor_learned_to_100_percent():
    model = _xor_model()
    history = model.fit(XOR_X, XOR_Y, epochs=400, batch_size=4, verbose=0)
    assert history.history["accuracy"][-1] == 1.0
    np.testing.assert_array_equal(model.predict(XOR_X) > 0.5, XOR_Y > 0.5)
    assert model.evaluate(XOR_X, XOR_Y, return_dict=True)["accuracy"] == 1.0


def test_xor_with_mse_and_plain_sgd_as_in_the_seeds():
    model = gn.Sequential([gn.Dense(4, "tanh"), gn.Dense(1, "sigmoid")], seed=3)
    model.compile(loss="mse", optimizer=gn.SGD(1.0))
    model.fit(XOR_X, XOR_Y, epochs=2000, batch_size=4, verbose=0)
    np.testing.assert_array_equal(model.predict(XOR_X) > 0.5, XOR_Y > 0.5)


@pytest.mark.parametrize("act", [a for a in activations.names() if a != "step"])
@pytest.mark.parametrize("loss", ["mse", "mae", "binary_crossentropy"])
def test_gradcheck_every_activation_in_a_network(act, loss, rng):
    model = gn.Sequential([gn.Dense(5, act), gn.Dense(3, act if loss != "binary_crossentropy"
                                                         else "sigmoid")],
                          dtype="float64", seed=1)
    model.compile(loss=loss, optimizer="sgd")
    x = rng.normal(size=(7, 4))
    y = rng.uniform(0.1, 0.9, size=(7, 3)) if loss == "binary_crossentropy" \
        else rng.normal(size=(7, 3))
    assert gn.gradcheck(model, x, y) < 1e-5


@pytest.mark.parametrize("loss,out", [("categorical_crossentropy", "softmax"),
                                      ("sparse_categorical_crossentropy", "softmax"),
                                      ("categorical_crossentropy", "sigmoid"),
                                      ("binary_crossentropy", "sigmoid"),
                                      ("mse", "softmax")])
def test_gradcheck_fused_and_unfused_outputs_with_weights_and_regularizer(loss, out, rng):
    model = gn.Sequential([gn.Dense(6, "relu", kernel_regularizer="l2"),
                           gn.Dense(4, "tanh", use_bias=False), gn.Dense(3, out)],
                          dtype="float64", seed=2)
    model.compile(loss=loss, optimizer="adam")
    x = rng.normal(size=(8, 5))
    labels = rng.integers(0, 3, size=8)
    y = labels if loss.startswith("sparse") else np.eye(3)[labels]
    w = rng.uniform(0.2, 2.0, size=8)
    assert gn.gradcheck(model, x, y, sample_weight=w) < 1e-5


def test_loss_and_gradients_order_and_shapes(rng):
    model = gn.Sequential([gn.Dense(3, "relu", input_dim=2), gn.Dense(1)], seed=0)
    model.compile(loss="mse")
    loss, grads = model.loss_and_gradients(rng.normal(size=(5, 2)), rng.normal(size=(5, 1)))
    assert isinstance(loss, float)
    assert [g.shape for g in grads] == [w.shape for w in model.get_weights()] \
        == [(2, 3), (3,), (3, 1), (1,)]


def test_dropout_is_inverted_and_only_active_while_training(rng):
    layer = gn.Dropout(0.5)
    layer.build(1000, rng)
    x = np.ones((200, 1000), dtype=np.float32)
    np.testing.assert_array_equal(layer.forward(x, training=False), x)
    out = layer.forward(x, training=True)
    assert set(np.unique(out)) == {0.0, 2.0}
    assert abs(out.mean() - 1.0) < 0.02                   # expectation preserved
    grad = layer.backward(np.ones_like(x))
    np.testing.assert_array_equal(grad, out)              # same mask on the way back


def test_dropout_model_trains_and_predicts_deterministically(rng):
    model = gn.Sequential([gn.Dense(16, "relu"), gn.Dropout(0.3), gn.Dense(1)], seed=0)
    model.compile(loss="mse", optimizer=gn.Adam(0.01))
    x = rng.normal(size=(64, 3))
    y = x.sum(axis=1, keepdims=True)
    history = model.fit(x, y, epochs=30, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    np.testing.assert_array_equal(model.predict(x), model.predict(x))


def test_same_seed_same_weights_and_same_training_run(rng):
    x = rng.normal(size=(50, 3))
    y = (x[:, :1] > 0).astype(float)

    def run():
        model = gn.Sequential([gn.Dense(8, "relu"), gn.Dropout(0.2), gn.Dense(1, "sigmoid")],
                              seed=42)
        model.compile(loss="binary_crossentropy", optimizer="adam")
        model.fit(x, y, epochs=3, batch_size=8, verbose=0)
        return model.get_weights()

    for a, b in zip(run(), run()):
        np.testing.assert_array_equal(a, b)
    other = gn.Sequential([gn.Dense(8, "relu"), gn.Dense(1)], seed=43)
    other.build(3)
    assert not np.array_equal(other.get_weights()[0], run()[0])


def test_fit_history_keys_validation_and_continued_training(rng):
    x = rng.normal(size=(100, 4)).astype(np.float32)
    y = (x.sum(axis=1) > 0).astype(int)
    model = gn.Sequential([gn.Dense(8, "relu"), gn.Dense(2, "softmax")], seed=0)
    model.compile(loss="sparse_categorical_crossentropy", optimizer=gn.Adam(0.01), metrics=["accuracy"])
    h = model.fit(x, y, epochs=3, batch_size=10, validation_split=0.2, verbose=0)
    assert set(h.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(h.history["loss"]) == 3
    h2 = model.fit(x, y, epochs=2, batch_size=10, validation_data=(x[:10], y[:10]), verbose=0)
    assert len(h2.history["loss"]) == 2 and h2.epoch == [3, 4]        # this call's epochs
    assert len(model.history.history["loss"]) == 5 and model.history.epoch == [0, 1, 2, 3, 4]
    assert model.optimizer.iterations == 3 * 8 + 2 * 10
    result = model.evaluate(x, y, return_dict=True)
    assert set(result) == {"loss", "accuracy"} and 0 <= result["accuracy"] <= 1


def test_batch_logs_are_running_means_over_the_epoch_as_keras_reports(rng):
    x = rng.normal(size=(10, 2))
    y = rng.normal(size=(10, 1))
    seen = []

    class Record(gn.Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append((logs["loss"], logs["size"], logs["mae"]))

    model = gn.Sequential([gn.Dense(1)], seed=0)
    model.compile(loss="mse", optimizer=gn.SGD(0.0), metrics=["mae"])   # weights stay put
    batches = [(x[i:i + 4], y[i:i + 4]) for i in (0, 4, 8)]
    each = [model.evaluate(xb, yb, return_dict=True) for xb, yb in batches]
    h = model.fit(x, y, epochs=1, batch_size=4, shuffle=False, verbose=0, callbacks=[Record()])
    assert [s for _, s, _ in seen] == [4, 4, 2]
    sizes = np.array([4, 4, 2])
    for k, (loss, _, mae) in enumerate(seen):          # the mean of batches 1..k, by samples
        w = sizes[:k + 1]
        assert loss == pytest.approx(np.dot([e["loss"] for e in each[:k + 1]], w) / w.sum())
        assert mae == pytest.approx(np.dot([e["mae"] for e in each[:k + 1]], w) / w.sum())
    assert h.history["loss"][0] == pytest.approx(seen[-1][0])
    assert h.history["loss"][0] == pytest.approx(model.evaluate(x, y, return_dict=True)["loss"])


def test_full_batch_gradient_descent_equals_manual_update(rng):
    x = rng.normal(size=(6, 3))
    y = rng.normal(size=(6, 1))
    model = gn.Sequential([gn.Dense(1)], dtype="float64", seed=0)
    model.compile(loss="mse", optimizer=gn.SGD(0.1))
    model.build(3)
    W, b = model.get_weights()
    # dL/dW = xᵀ · 2(ŷ - y)/n for mean squared error
    err = x @ W + b - y
    W_next = W - 0.1 * (x.T @ (2 * err / 6))
    b_next = b - 0.1 * (2 * err / 6).sum(axis=0)
    model.fit(x, y, epochs=1, batch_size=6, verbose=0)
    np.testing.assert_allclose(model.get_weights()[0], W_next, rtol=1e-12)
    np.testing.assert_allclose(model.get_weights()[1], b_next, rtol=1e-12)


def test_sample_weight_zero_ignores_samples(rng):
    x = rng.normal(size=(8, 2))
    y = rng.normal(size=(8, 1))
    w = np.array([1, 1, 1, 1, 0, 0, 0, 0], dtype=float)
    a = gn.Sequential([gn.Dense(1)], dtype="float64", seed=0)
    a.compile(loss="mse", optimizer=gn.SGD(0.1))
    a.fit(x, y, epochs=1, batch_size=8, verbose=0, sample_weight=w)
    b = gn.Sequential([gn.Dense(1)], dtype="float64", seed=0)
    b.compile(loss="mse", optimizer=gn.SGD(0.05))        # half the samples: L is scaled by 4/8
    b.fit(x[:4], y[:4], epochs=1, batch_size=4, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-12)


def test_early_stopping_restores_best_weights(rng):
    x = rng.normal(size=(40, 2))
    y = x @ np.array([[1.0], [-2.0]])
    model = gn.Sequential([gn.Dense(1)], seed=0)
    model.compile(loss="mse", optimizer=gn.SGD(0.05))
    snapshots = []

    class Snap(gn.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots.append((logs["val_loss"], self.model.params.copy()))

    stopper = gn.EarlyStopping(monitor="val_loss", patience=1)
    # a huge learning-rate jump after epoch 3 makes val_loss worse
    sched = gn.LearningRateScheduler(lambda epoch, lr: 0.05 if epoch < 3 else 1.5)
    model.fit(x, y, epochs=20, batch_size=40, validation_data=(x, y), verbose=0,
              callbacks=[sched, Snap(), stopper])
    assert stopper.stopped_epoch is not None and stopper.stopped_epoch < 19
    best_loss, best_params = min(snapshots, key=lambda s: s[0])
    np.testing.assert_array_equal(model.params, best_params)
    assert model.evaluate(x, y, return_dict=True)["loss"] == pytest.approx(best_loss, rel=1e-5)


def test_model_checkpoint_saves_loadable_models(tmp_path, rng):
    x = rng.normal(size=(20, 2))
    y = rng.normal(size=(20, 1))
    model = gn.Sequential([gn.Dense(1)], seed=0)
    model.compile(loss="mse", optimizer="sgd")
    ckpt = gn.ModelCheckpoint(str(tmp_path / "m-{epoch:02d}.glassnet"), monitor="loss")
    model.fit(x, y, epochs=2, verbose=0, callbacks=[ckpt])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m-01.glassnet", "m-02.glassnet"]
    np.testing.assert_array_equal(gn.load_model(tmp_path / "m-02.glassnet").predict(x),
                                  model.predict(x))


def test_summary_lists_layers_shapes_and_parameter_counts():
    model = gn.Sequential([gn.Dense(128, "relu", input_dim=784), gn.Dropout(0.2),
                           gn.Dense(10, "softmax")])
    model.build()
    out = io.StringIO()
    model.summary(print_fn=lambda s: out.write(s))
    text = out.getvalue()
    assert "(None, 128)" in text and "(None, 10)" in text
    assert "100,480" in text and "1,290" in text and "Total params: 101,770" in text


def test_set_weights_builds_and_validates():
    model = gn.Sequential([gn.Dense(2, "relu"), gn.Dense(1)])
    model.set_weights([np.ones((3, 2)), np.zeros(2), np.ones((2, 1)), np.zeros(1)])
    np.testing.assert_allclose(model.predict([[1, 1, 1]]), [[6.0]])
    with pytest.raises(ValueError, match=r"weight 2 must have shape \(2, 1\); received \(3, 1\)"):
        model.set_weights([np.ones((3, 2)), np.zeros(2), np.ones((3, 1)), np.zeros(1)])
    with pytest.raises(ValueError, match="expects 4 arrays"):
        model.set_weights([np.ones((3, 2))])


def test_fold_and_unfold_bias_round_trip(rng):
    W, b = rng.normal(size=(4, 3)), rng.normal(size=3)
    W_aug = gn.fold_bias(W, b)
    assert W_aug.shape == (5, 3)
    x = rng.normal(size=(6, 4))
    x1 = np.hstack([x, np.ones((6, 1))])
    np.testing.assert_allclose(x1 @ W_aug, x @ W + b)
    W2, b2 = gn.unfold_bias(W_aug)
    np.testing.assert_array_equal(W2, W)
    np.testing.assert_array_equal(b2, b)


def test_both_bias_conventions_of_seed_001_predict_identically():
    # seed 001's vertical-line detector, hand-set weights, step activations
    W1_aug = np.array([[1, -2, 1, -2, -1], [-2, 1, -2, 1, -1]], dtype=float).T  # bias last
    W2_aug = np.array([[1, 1, 0]], dtype=float).T
    images = np.array([[int(c) for c in f"{i:04b}"] for i in range(16)], dtype=float)
    vertical = np.array([[1.0] if row in ([1, 0, 1, 0], [0, 1, 0, 1]) else [0.0]
                         for row in images.tolist()])

    separate = gn.Sequential([gn.Dense(2, "step"), gn.Dense(1, "step")])
    separate.set_weights([*gn.unfold_bias(W1_aug), *gn.unfold_bias(W2_aug)])
    # the folded convention: every layer sees an extra constant input 1
    step = activations.get("step")
    h = step(np.hstack([images, np.ones((16, 1))]) @ W1_aug)
    out = step(np.hstack([h, np.ones((16, 1))]) @ W2_aug)
    np.testing.assert_array_equal(separate.predict(images), vertical)
    np.testing.assert_array_equal(out, vertical)


def test_step_activation_refuses_training():
    model = gn.Sequential([gn.Dense(1, "step")])
    model.compile(loss="mse")
    with pytest.raises(ValueError, match="'step' activation, which cannot be trained"):
        model.fit(XOR_X, XOR_Y[:, 0], verbose=0)


def test_float32_end_to_end(rng):
    model = gn.Sequential([gn.Dense(4, "relu"), gn.Dense(2, "softmax")], seed=0)
    model.compile(loss="categorical_crossentropy", optimizer="adam")
    x = rng.normal(size=(10, 3))          # float64 in
    y = np.eye(2)[rng.integers(0, 2, 10)]
    model.fit(x, y, epochs=1, verbose=0)
    assert model.params.dtype == np.float32
    assert model.predict(x).dtype == np.float32
    assert model.optimizer.state["m"].dtype == np.float32
    assert all(w.dtype == np.float32 for w in model.get_weights())


def test_predict_in_chunks_equals_predict_at_once(rng):
    model = gn.Sequential([gn.Dense(5, "tanh"), gn.Dense(3, "softmax")], seed=0)
    x = rng.normal(size=(103, 4))
    np.testing.assert_allclose(model.predict(x, batch_size=10), model.predict(x), rtol=1e-5,
                               atol=1e-7)


def test_verbose_training_prints_one_line_per_epoch_when_not_a_terminal(capsys):
    model = _xor_model()
    model.fit(XOR_X, XOR_Y, epochs=2, verbose=1)
    lines = [l for l in capsys.readouterr().out.splitlines() if l.startswith("Epoch")]
    assert len(lines) == 2 and "loss:" in lines[0] and "accuracy:" in lines[0]


def test_gradients_and_trace_from_a_callback_during_fit(rng):
    # a learner's callback may inspect the network mid-training, with any number of rows
    x = rng.normal(size=(40, 3))
    y = rng.integers(0, 2, size=40)
    model = gn.Sequential([gn.Dense(6, "tanh"), gn.Dense(2, "softmax")], seed=0)
    model.compile(loss="sparse_categorical_crossentropy", optimizer=gn.SGD(0.1))
    seen = []

    class Inspect(gn.Callback):
        def on_batch_end(self, batch, logs=None):
            loss, grads = self.model.loss_and_gradients(x, y)      # 40 rows > batch of 8
            seen.append((loss, self.model.trace(x[0], y[0]).loss))

    model.fit(x, y, epochs=1, batch_size=8, verbose=0, callbacks=[Inspect()])
    assert len(seen) == 5 and all(np.isfinite(a) and np.isfinite(b) for a, b in seen)


def test_early_stopping_restores_best_weights_when_epochs_run_out(rng):
    x = rng.normal(size=(40, 2))
    y = x @ np.array([[1.0], [-2.0]])
    model = gn.Sequential([gn.Dense(1)], seed=0)
    model.compile(loss="mse", optimizer=gn.SGD(0.05))
    losses = []

    class Record(gn.Callback):
        def on_epoch_end(self, epoch, logs=None):
            losses.append((logs["val_loss"], self.model.params.copy()))

    # good steps first, then a rate that makes things worse, ending before patience runs out
    sched = gn.LearningRateScheduler(lambda epoch, lr: 0.05 if epoch < 4 else 1.2)
    stopper = gn.EarlyStopping(patience=100)
    model.fit(x, y, epochs=6, batch_size=40, validation_data=(x, y), verbose=0,
              callbacks=[sched, Record(), stopper])
    assert stopper.stopped_epoch is None
    best = min(losses, key=lambda item: item[0])
    assert best[0] < losses[-1][0]
    np.testing.assert_array_equal(model.params, best[1])


def test_history_records_what_other_callbacks_add_to_the_logs(rng):
    x = rng.normal(size=(20, 2))
    y = rng.normal(size=(20, 1))
    model = gn.Sequential([gn.Dense(1)], seed=0)
    model.compile(loss="mse", optimizer=gn.SGD(0.1))
    sched = gn.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[sched])
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.1 / 3])


def test_batch_normalization_state_is_saved_exported_summarised_and_gradchecked(tmp_path, rng):
    model = gn.Sequential([gn.Dense(6, "tanh", input_dim=3), gn.BatchNormalization(momentum=0.5),
                           gn.Dense(2, "softmax")], dtype="float64", seed=0)
    assert model.count_params() == 24 + 24 + 14          # built at once: input_dim is known
    model.compile(loss="sparse_categorical_crossentropy", optimizer=gn.Adam(0.01))
    x, y = rng.normal(size=(40, 3)), rng.integers(0, 2, size=40)
    model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(3, 6), (6,), (6,), (6,), (6,), (6,), (6, 2), (2,)]
    bn = model.layers[1]
    assert not np.allclose(bn.moving_mean, 0) and len(model.non_trainable_weights) == 2
    # inference uses the moving statistics: one row predicts the same alone or in a batch
    np.testing.assert_allclose(model.predict(x[:1]), model.predict(x)[:1], rtol=1e-12)
    model.save(tmp_path / "bn.glassnet")
    loaded = gn.load_model(tmp_path / "bn.glassnet")
    for a, b in zip(loaded.get_weights(), weights):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    out = io.StringIO()
    model.summary(print_fn=out.write)
    assert "batch_normalization (BatchNormalization)" in out.getvalue()
    assert "Non-trainable params: 12" in out.getvalue()
    assert "μ" in str(model.trace(x[0], y[0]))
    assert gn.gradcheck(model, x[:6], y[:6]) < 1e-6


def test_a_pickled_or_copied_model_still_learns():
    import copy
    import pickle
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4))
    y = (x[:, 0] > 0).astype(int)

    def trained():
        model = gn.Sequential([gn.Input(shape=(4,)), gn.Dense(8, activation="relu"),
                               gn.Dense(2, activation="softmax")], seed=0)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(x, y, epochs=2, verbose=0)
        return model
    reference = trained()
    reference.fit(x, y, epochs=3, verbose=0)
    for clone in (pickle.loads(pickle.dumps(trained())), copy.deepcopy(trained())):
        assert np.shares_memory(clone.layers[0].W, clone.variables)
        clone.fit(x, y, epochs=3, verbose=0)             # goes on exactly as the original
        np.testing.assert_array_equal(clone.predict(x), reference.predict(x))
