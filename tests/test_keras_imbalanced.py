"""TensorFlow's "classification on imbalanced data" tutorial, with keras replaced by glassnet.

The program's Keras parts as the tutorial writes them: the metrics list, the output bias
from the class prior, early stopping on the PR-AUC, evaluate; the figures are checked
against scikit-learn on the model's own predictions.
"""

import numpy as np
import pytest

import glassnet as keras

sk = pytest.importorskip("sklearn.metrics")

METRICS = [
    keras.metrics.BinaryCrossentropy(name="cross entropy"),   # same as model's loss
    keras.metrics.MeanSquaredError(name="Brier score"),
    keras.metrics.TruePositives(name="tp"),
    keras.metrics.FalsePositives(name="fp"),
    keras.metrics.TrueNegatives(name="tn"),
    keras.metrics.FalseNegatives(name="fn"),
    keras.metrics.BinaryAccuracy(name="accuracy"),
    keras.metrics.Precision(name="precision"),
    keras.metrics.Recall(name="recall"),
    keras.metrics.AUC(name="auc"),
    keras.metrics.AUC(name="prc", curve="PR"),  # precision-recall curve
]


def make_model(n_features, metrics=METRICS, output_bias=None):
    if output_bias is not None:
        output_bias = keras.initializers.Constant(output_bias)
    model = keras.Sequential([
        keras.layers.Dense(16, activation="relu", input_shape=(n_features,)),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(1, activation="sigmoid", bias_initializer=output_bias),
    ], seed=0)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                  loss=keras.losses.BinaryCrossentropy(), metrics=metrics)
    return model


@pytest.fixture
def imbalanced():
    rng = np.random.default_rng(0)
    n = 3000
    y = (rng.uniform(size=n) < 0.08).astype("float32")[:, None]       # 8 % positives
    x = rng.normal(size=(n, 6)).astype("float32") + 1.2 * y * np.array([1, -1, 0.5, 0, 0, 0.8],
                                                                        dtype="float32")
    return x[:2400], y[:2400], x[2400:], y[2400:]


def test_the_tutorials_program_runs_and_reports_sklearns_figures(imbalanced):
    x_train, y_train, x_val, y_val = imbalanced
    neg, pos = np.bincount(y_train[:, 0].astype(int))
    initial_bias = np.log([pos / neg])
    model = make_model(x_train.shape[-1], output_bias=initial_bias)
    # the bias makes the first predictions the prior, so the first loss is its entropy
    p0 = model.predict(x_train[:1] * 0)[0, 0]
    assert p0 == pytest.approx(pos / (pos + neg), rel=1e-4)

    early_stopping = keras.callbacks.EarlyStopping(monitor="val_prc", verbose=0, patience=3,
                                                   mode="max", restore_best_weights=True)
    history = model.fit(x_train, y_train, batch_size=256, epochs=8, verbose=0,
                        callbacks=[early_stopping], validation_data=(x_val, y_val))
    assert {"prc", "val_prc", "tp", "val_auc", "Brier score", "cross entropy"} \
        <= set(history.history)

    baseline_results = model.evaluate(x_val, y_val, batch_size=256, verbose=0)
    results = {}
    for name, value in zip(model.metrics_names, baseline_results):     # as the tutorial does
        results[name] = value
    p = model.predict(x_val)[:, 0]
    truth = y_val[:, 0].astype(int)
    predicted = (p > 0.5).astype(int)
    tn, fp, fn, tp = sk.confusion_matrix(truth, predicted, labels=[0, 1]).ravel()
    assert (results["tp"], results["fp"], results["tn"], results["fn"]) == (tp, fp, tn, fn)
    assert results["precision"] == pytest.approx(sk.precision_score(truth, predicted,
                                                                   zero_division=0))
    assert results["recall"] == pytest.approx(sk.recall_score(truth, predicted))
    assert results["accuracy"] == pytest.approx(sk.accuracy_score(truth, predicted))
    assert results["Brier score"] == pytest.approx(sk.brier_score_loss(truth, p), rel=1e-5)
    # (the loss comes from the logits, the metric from float32 probabilities)
    assert results["cross entropy"] == pytest.approx(results["loss"], rel=1e-6)
    assert results["auc"] == pytest.approx(sk.roc_auc_score(truth, p), abs=0.01)
    assert results["prc"] == pytest.approx(sk.average_precision_score(truth, p), abs=0.05)
    # EarlyStopping watched the PR-AUC (mode max) and kept the best epoch's weights
    best = int(np.argmax(history.history["val_prc"]))
    assert early_stopping.best_epoch == best
