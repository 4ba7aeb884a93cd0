"""Every metric against scikit-learn's function on random data, fed in batches.

A metric over an epoch is computed over all its samples: feeding the data in
random batches (``update_state``) must give the figure scikit-learn computes
on the whole data at once, weighted or not.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import glassnet as gn
from glassnet import losses, metrics

sk = pytest.importorskip("sklearn.metrics")

SETTINGS = settings(max_examples=25, deadline=None)


@st.composite
def problems(draw, min_n=8, max_n=200):
    """Random sizes, a seed, whether to weight, and how to cut the data into batches."""
    n = draw(st.integers(min_n, max_n))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    weighted = draw(st.booleans())
    cuts = sorted(draw(st.lists(st.integers(1, n - 1), max_size=4, unique=True)))
    return n, seed, weighted, cuts


def feed(metric, cuts, y, p, w):
    """update_state batch by batch (the cuts), after a reset; the result."""
    metric.reset_state()
    bounds = [0, *cuts, len(p)]
    for a, b in zip(bounds[:-1], bounds[1:]):
        metric.update_state(y[a:b], p[a:b], None if w is None else w[a:b])
    return metric.result()


def weights(rng, n, weighted):
    return rng.uniform(0.1, 3.0, size=n) if weighted else None


# ----------------------------------------------------------------------------------------
# per-sample means
# ----------------------------------------------------------------------------------------

@SETTINGS
@given(problems())
def test_regression_metrics_match_sklearn(problem):
    n, seed, weighted, cuts = problem
    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, 4))
    y = rng.normal(size=(n, k))
    y += np.sign(y) * 2                        # |y| >= 2: MAPE's epsilon (1e-7) never applies
    p = y + rng.normal(size=(n, k))
    w = weights(rng, n, weighted)
    assert feed(metrics.MeanSquaredError(), cuts, y, p, w) == pytest.approx(
        sk.mean_squared_error(y, p, sample_weight=w), rel=1e-10)
    assert feed(metrics.MeanAbsoluteError(), cuts, y, p, w) == pytest.approx(
        sk.mean_absolute_error(y, p, sample_weight=w), rel=1e-10)
    # Keras's RMSE is the root of the mean over all outputs (sklearn's for one output)
    assert feed(metrics.RootMeanSquaredError(), cuts, y, p, w) == pytest.approx(
        math.sqrt(sk.mean_squared_error(y, p, sample_weight=w)), rel=1e-10)
    # MAPE in percent (sklearn: a fraction)
    assert feed(metrics.MeanAbsolutePercentageError(), cuts, y, p, w) == pytest.approx(
        100 * sk.mean_absolute_percentage_error(y, p, sample_weight=w), rel=1e-10)


@SETTINGS
@given(problems(), st.sampled_from(["uniform_average", "variance_weighted_average", None]))
def test_r2_score_matches_sklearn(problem, aggregation):
    n, seed, weighted, cuts = problem
    rng = np.random.default_rng(seed)
    k = int(rng.integers(1, 4))
    y = rng.normal(size=(n, k)) * rng.uniform(0.5, 3, size=k)
    p = y + rng.normal(size=(n, k))
    w = weights(rng, n, weighted)
    multioutput = {"uniform_average": "uniform_average", None: "raw_values",
                   "variance_weighted_average": "variance_weighted"}[aggregation]
    expected = sk.r2_score(y, p, sample_weight=w, multioutput=multioutput)
    got = feed(metrics.R2Score(class_aggregation=aggregation), cuts, y, p, w)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


def test_adjusted_r2_by_its_formula(rng):
    y = rng.normal(size=(50, 1))
    p = y + rng.normal(size=(50, 1)) * 0.5
    r2 = sk.r2_score(y, p)
    assert metrics.R2Score(num_regressors=3)(y, p) == pytest.approx(1 - (1 - r2) * 49 / 46)


@SETTINGS
@given(problems())
def test_accuracies_match_sklearn(problem):
    n, seed, weighted, cuts = problem
    rng = np.random.default_rng(seed)
    k = int(rng.integers(3, 7))
    labels = rng.integers(0, k, size=n)
    onehot = np.eye(k)[labels]
    p = rng.dirichlet(np.ones(k), size=n)
    w = weights(rng, n, weighted)
    expected = sk.accuracy_score(labels, p.argmax(axis=1), sample_weight=w)
    assert feed(metrics.CategoricalAccuracy(), cuts, onehot, p, w) == pytest.approx(expected)
    assert feed(metrics.SparseCategoricalAccuracy(), cuts, labels, p, w) == pytest.approx(expected)
    top = int(rng.integers(1, k))
    expected_top = sk.top_k_accuracy_score(labels, p, k=top, labels=np.arange(k), sample_weight=w)
    assert feed(metrics.TopKCategoricalAccuracy(k=top), cuts, onehot, p, w) == pytest.approx(
        expected_top)
    assert feed(metrics.SparseTopKCategoricalAccuracy(k=top), cuts, labels, p, w) \
        == pytest.approx(expected_top)
    # binary: every output a yes/no question, averaged over outputs and samples
    yb = rng.integers(0, 2, size=(n, 2))
    pb = rng.uniform(size=(n, 2))
    wb = None if w is None else np.repeat(w, 2)
    assert feed(metrics.BinaryAccuracy(), cuts, yb, pb, w) == pytest.approx(
        sk.accuracy_score(yb.ravel(), (pb > 0.5).ravel(), sample_weight=wb))


@SETTINGS
@given(problems())
def test_crossentropies_match_sklearn_log_loss(problem):
    n, seed, weighted, cuts = problem
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 6))
    labels = rng.integers(0, k, size=n)
    z = rng.normal(size=(n, k)) * 2
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    w = weights(rng, n, weighted)
    expected = sk.log_loss(labels, p, sample_weight=w, labels=np.arange(k))
    assert feed(metrics.CategoricalCrossentropy(), cuts, np.eye(k)[labels], p, w) \
        == pytest.approx(expected, rel=1e-9)
    assert feed(metrics.SparseCategoricalCrossentropy(), cuts, labels, p, w) \
        == pytest.approx(expected, rel=1e-9)
    assert feed(metrics.SparseCategoricalCrossentropy(from_logits=True), cuts, labels, z, w) \
        == pytest.approx(expected, rel=1e-9)
    yb = rng.integers(0, 2, size=n)
    zb = rng.normal(size=n) * 3
    pb = 1 / (1 + np.exp(-zb))
    expected_b = sk.log_loss(yb, pb, sample_weight=w, labels=[0, 1])
    assert feed(metrics.BinaryCrossentropy(), cuts, yb, pb, w) == pytest.approx(expected_b,
                                                                               rel=1e-9)
    assert feed(metrics.BinaryCrossentropy(from_logits=True), cuts, yb, zb, w) \
        == pytest.approx(expected_b, rel=1e-9)


def test_crossentropy_metric_is_the_loss_the_model_reports(rng):
    y = rng.integers(0, 2, size=(40, 1)).astype(float)
    p = rng.uniform(0.01, 0.99, size=(40, 1))
    assert metrics.get("binary_crossentropy")(y, p) == losses.get("binary_crossentropy")(y, p)


def test_label_smoothing_as_keras_defines_it():
    # binary: y → y(1 - s) + s/2;  categorical: y → y(1 - s) + s/k
    y, p = np.array([[1.0]]), np.array([[0.8]])
    t = 1 * 0.8 + 0.1
    assert metrics.BinaryCrossentropy(label_smoothing=0.2)(y, p) == pytest.approx(
        -(t * np.log(0.8) + (1 - t) * np.log(0.2)))
    y3, p3 = np.array([[0.0, 1.0, 0.0]]), np.array([[0.2, 0.7, 0.1]])
    soft = y3 * 0.7 + 0.3 / 3
    assert metrics.CategoricalCrossentropy(label_smoothing=0.3)(y3, p3) == pytest.approx(
        -(soft * np.log(p3)).sum())


# ----------------------------------------------------------------------------------------
# counts at thresholds
# ----------------------------------------------------------------------------------------

@SETTINGS
@given(problems(), st.lists(st.floats(0.05, 0.95), min_size=1, max_size=4))
def test_confusion_counts_precision_recall_match_sklearn(problem, thresholds):
    n, seed, weighted, cuts = problem
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=(n, 2))
    p = rng.uniform(size=(n, 2))
    w = weights(rng, n, weighted)
    wf = None if w is None else np.repeat(w, 2)
    counts = {"tn": [], "fp": [], "fn": [], "tp": []}
    precision, recall = [], []
    for t in thresholds:
        predicted = (p > t).ravel()
        matrix = sk.confusion_matrix(y.ravel(), predicted, labels=[0, 1], sample_weight=wf)
        for key, value in zip(("tn", "fp", "fn", "tp"), matrix.ravel()):
            counts[key].append(value)
        precision.append(sk.precision_score(y.ravel(), predicted, sample_weight=wf,
                                            zero_division=0))
        recall.append(sk.recall_score(y.ravel(), predicted, sample_weight=wf, zero_division=0))
    for cls, key in ((metrics.TruePositives, "tp"), (metrics.FalsePositives, "fp"),
                     (metrics.TrueNegatives, "tn"), (metrics.FalseNegatives, "fn")):
        np.testing.assert_allclose(feed(cls(thresholds=thresholds), cuts, y, p, w),
                                   counts[key] if len(thresholds) > 1 else counts[key][0],
                                   rtol=1e-10)
    np.testing.assert_allclose(feed(metrics.Precision(thresholds=thresholds), cuts, y, p, w),
                               precision if len(thresholds) > 1 else precision[0], rtol=1e-10)
    np.testing.assert_allclose(feed(metrics.Recall(thresholds=thresholds), cuts, y, p, w),
                               recall if len(thresholds) > 1 else recall[0], rtol=1e-10)


def test_precision_class_id_and_top_k(rng):
    y = np.eye(4)[rng.integers(0, 4, size=300)]
    p = rng.dirichlet(np.ones(4), size=300)
    assert metrics.Precision(class_id=2)(y, p) == pytest.approx(
        sk.precision_score(y[:, 2], p[:, 2] > 0.5))
    assert metrics.Recall(class_id=1, thresholds=0.2)(y, p) == pytest.approx(
        sk.recall_score(y[:, 1], p[:, 1] > 0.2))
    # top_k=1: the argmax is the one positive prediction of each row
    assert metrics.Precision(top_k=1)(y, p) == pytest.approx(
        sk.accuracy_score(y.argmax(axis=1), p.argmax(axis=1)))


def test_keras_documented_examples():
    # Keras's docstrings: the same inputs, the same outputs
    m = metrics.AUC(num_thresholds=3)
    m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    assert m.result() == pytest.approx(0.75)
    m.reset_state()
    m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9], sample_weight=[1, 0, 0, 1])
    assert m.result() == pytest.approx(1.0)
    p = metrics.Precision()
    p.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    assert p.result() == pytest.approx(2 / 3)
    p.reset_state()
    p.update_state([0, 1, 1, 1], [1, 0, 1, 1], sample_weight=[0, 0, 1, 0])
    assert p.result() == 1.0
    r = metrics.Recall()
    r.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    assert r.result() == pytest.approx(2 / 3)
    fp = metrics.FalsePositives()
    fp.update_state([0, 1, 0, 0], [0, 0, 1, 1])
    assert fp.result() == 2.0
    f1 = metrics.F1Score(threshold=0.5)
    f1.update_state(np.array([[1, 1, 1], [1, 0, 0], [1, 1, 0]], np.int32),
                    np.array([[0.2, 0.6, 0.7], [0.2, 0.6, 0.6], [0.6, 0.8, 0.0]]))
    np.testing.assert_allclose(f1.result(), [0.5, 0.8, 0.6666667], rtol=1e-6)
    r2 = metrics.R2Score()
    r2.update_state(np.array([[1], [4], [3]], np.float32), np.array([[2], [4], [4]], np.float32))
    assert r2.result() == pytest.approx(0.57142854)


@SETTINGS
@given(problems(min_n=40, max_n=400), st.sampled_from(["ROC", "PR"]))
def test_auc_within_kerass_interpolation_error_of_sklearn(problem, curve):
    n, seed, weighted, cuts = problem
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, size=n)
    y[:2] = [0, 1]                               # both classes present
    p = np.clip(0.35 * y + 0.65 * rng.uniform(size=n), 0, 1)
    w = weights(rng, n, weighted)
    got = feed(metrics.AUC(curve=curve), cuts, y, p, w)
    if curve == "ROC":
        expected = sk.roc_auc_score(y, p, sample_weight=w)
    else:
        expected = sk.average_precision_score(y, p, sample_weight=w)
    # 200 buckets: the trapezoids' error is a few 1e-3 (PR's step sum differs a little more)
    assert got == pytest.approx(expected, abs=0.01 if curve == "ROC" else 0.03)


def test_auc_summation_methods_bound_the_interpolation(rng):
    y = rng.integers(0, 2, size=500)
    p = np.clip(0.3 * y + 0.7 * rng.uniform(size=500), 0, 1)
    low = metrics.AUC(summation_method="minoring")(y, p)
    mid = metrics.AUC()(y, p)
    high = metrics.AUC(summation_method="majoring")(y, p)
    assert low <= mid <= high and high - low < 0.02


def test_auc_from_logits_multi_label_and_label_weights(rng):
    y = rng.integers(0, 2, size=(400, 3))
    z = rng.normal(size=(400, 3)) + 2 * y * np.array([0.5, 1, 2])
    p = 1 / (1 + np.exp(-z))
    assert metrics.AUC(from_logits=True)(y, z) == pytest.approx(metrics.AUC()(y, p))
    per_label = [sk.roc_auc_score(y[:, j], p[:, j]) for j in range(3)]
    assert metrics.AUC(multi_label=True)(y, p) == pytest.approx(np.mean(per_label), abs=0.01)
    weighted = metrics.AUC(multi_label=True, label_weights=[1, 0, 3])(y, p)
    assert weighted == pytest.approx((per_label[0] + 3 * per_label[2]) / 4, abs=0.01)


@SETTINGS
@given(problems(min_n=30), st.sampled_from([None, "micro", "macro", "weighted"]))
def test_f1_score_matches_sklearn(problem, average):
    n, seed, weighted, cuts = problem
    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 5))
    labels = rng.integers(0, k, size=n)
    p = rng.dirichlet(np.ones(k), size=n)
    w = weights(rng, n, weighted)
    expected = sk.f1_score(labels, p.argmax(axis=1), average=average, labels=np.arange(k),
                           sample_weight=w, zero_division=0)
    got = feed(metrics.F1Score(average=average), cuts, np.eye(k)[labels], p, w)
    np.testing.assert_allclose(got, expected, atol=1e-5)       # Keras's ε in P and R
    # multi-label with a threshold: every output its own yes/no
    y = rng.integers(0, 2, size=(n, k))
    expected = sk.f1_score(y, p > 0.3, average=average, sample_weight=w, zero_division=0)
    np.testing.assert_allclose(feed(metrics.F1Score(average=average, threshold=0.3), cuts, y, p,
                                    w), expected, atol=1e-5)
    expected = sk.fbeta_score(y, p > 0.3, beta=2.0, average=average, sample_weight=w,
                              zero_division=0)
    np.testing.assert_allclose(feed(metrics.FBetaScore(average=average, beta=2.0,
                                                       threshold=0.3), cuts, y, p, w),
                               expected, atol=1e-5)


# ----------------------------------------------------------------------------------------
# the state, names, configs
# ----------------------------------------------------------------------------------------

def test_mean_and_sum_weighted_as_keras():
    m = metrics.Mean()
    m.update_state([1, 3, 5, 7])
    assert m.result() == 4.0
    m.update_state([2], sample_weight=[4])            # (16 + 8) / (4 + 4)
    assert m.result() == 3.0
    s = metrics.Sum()
    s.update_state([1, 3, 5, 7], sample_weight=[1, 0, 0, 1])
    assert s.result() == 8.0
    assert metrics.Mean()([[1, 2], [3, 4]], sample_weight=[1, 3]) == pytest.approx(
        (1.5 + 3 * 3.5) / 4)


@pytest.mark.parametrize("metric", [metrics.RootMeanSquaredError(), metrics.MeanSquaredError(),
                                    metrics.MeanAbsolutePercentageError(), metrics.R2Score(),
                                    metrics.AUC(), metrics.Precision(), metrics.F1Score(),
                                    metrics.BinaryAccuracy(), metrics.BinaryCrossentropy()])
def test_calling_a_metric_equals_update_state_then_result(metric, rng):
    # what the trainer calls per batch (metric(y, ŷ)) and the stateful way agree
    y = rng.integers(0, 2, size=(50, 1)).astype(float) + 0.5
    p = np.clip(y - 0.5 + rng.normal(size=(50, 1)) * 0.4, 0.01, 0.99)
    y = y - 0.5
    called = metric(y, p)
    metric.reset_state()
    metric.update_state(y[:20], p[:20])
    metric.update_state(y[20:], p[20:])
    np.testing.assert_allclose(called, metric.result(), rtol=1e-12)


def test_calling_a_metric_leaves_its_state_alone(rng):
    y = rng.integers(0, 2, size=100)
    p = rng.uniform(size=100)
    for metric in (metrics.AUC(), metrics.Precision(), metrics.R2Score(), metrics.F1Score(),
                   metrics.MeanSquaredError(), metrics.Mean()):
        args = (p,) if isinstance(metric, metrics.Mean) else (y, p)
        metric.update_state(*args)
        before = metric.result()
        metric(*[a[:10] for a in args])
        assert np.all(metric.result() == before), metric.name
        metric.reset_state()
        assert np.all(metric.result() == 0), metric.name


def test_names_are_logged_as_written_and_kerass_defaults():
    assert metrics.get("mean_absolute_error").name == "mean_absolute_error"
    assert metrics.get("mae").name == "mae"
    assert metrics.get("MAPE").name == "MAPE"
    assert isinstance(metrics.get("rmse"), metrics.RootMeanSquaredError)
    assert metrics.get(metrics.AUC).name == "auc"                   # a class, as Keras takes
    assert metrics.BinaryCrossentropy(name="cross entropy").name == "cross entropy"
    defaults = {metrics.AUC: "auc", metrics.Precision: "precision", metrics.Recall: "recall",
                metrics.F1Score: "f1_score", metrics.R2Score: "r2_score",
                metrics.MeanSquaredError: "mean_squared_error",
                metrics.RootMeanSquaredError: "root_mean_squared_error",
                metrics.TopKCategoricalAccuracy: "top_k_categorical_accuracy",
                metrics.TruePositives: "true_positives", metrics.Mean: "mean"}
    for cls, name in defaults.items():
        assert cls().name == name


@pytest.mark.parametrize("loss, units, expected", [
    ("binary_crossentropy", 1, metrics.BinaryAccuracy),
    ("mse", 1, metrics.BinaryAccuracy),
    ("categorical_crossentropy", 3, metrics.CategoricalAccuracy),
    ("sparse_categorical_crossentropy", 3, metrics.SparseCategoricalAccuracy),
])
def test_accuracy_resolves_by_the_loss(loss, units, expected):
    metric = metrics.get("acc", losses.get(loss), units)
    assert type(metric) is expected and metric.name == "acc"


@pytest.mark.parametrize("metric", [
    metrics.AUC(curve="PR", num_thresholds=50, name="pr"), metrics.AUC(thresholds=[0.2, 0.7]),
    metrics.Precision(thresholds=[0.3, 0.6], class_id=1), metrics.Recall(top_k=2),
    metrics.TruePositives(0.3), metrics.F1Score(average="macro", threshold=0.4),
    metrics.FBetaScore(beta=0.5), metrics.R2Score(class_aggregation=None),
    metrics.BinaryCrossentropy(from_logits=True, label_smoothing=0.1, name="cross entropy"),
    metrics.TopKCategoricalAccuracy(k=2), metrics.Mean(name="m"),
])
def test_serialize_round_trip(metric):
    clone = metrics.get(metrics.serialize(metric))
    assert type(clone) is type(metric) and clone.get_config() == metric.get_config()
    assert type(metric).from_config(metric.get_config()).get_config() == metric.get_config()


def test_a_model_logs_saves_and_loads_its_metrics(tmp_path, rng):
    x = rng.normal(size=(64, 3))
    y = (x[:, :1] > 0).astype(float)
    model = gn.Sequential([gn.Dense(4, "tanh"), gn.Dense(1, "sigmoid")], seed=0)
    model.compile(optimizer="adam", loss="binary_crossentropy",
                  metrics=["mean_absolute_error", metrics.AUC(name="roc"),
                           metrics.Precision(thresholds=0.4), metrics.Recall])
    history = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert {"mean_absolute_error", "roc", "precision", "recall"} <= set(history.history)
    model.save(tmp_path / "m.glassnet")
    loaded = gn.load_model(tmp_path / "m.glassnet")
    assert [m.name for m in loaded.metrics] == ["mean_absolute_error", "roc", "precision",
                                                "recall"]
    assert loaded.metrics[2].thresholds == 0.4
    assert loaded.evaluate(x, y, return_dict=True) == model.evaluate(x, y, return_dict=True)
    out = model.predict(x)
    assert model.evaluate(x, y, return_dict=True)["roc"] == metrics.AUC()(y, out)


@pytest.mark.parametrize("call, match", [
    (lambda: metrics.MeanSquaredError()([[1.0, 2.0]], [[1.0]]), r"shape \(1, 2\).*\(1, 1\)"),
    (lambda: metrics.SparseCategoricalAccuracy()([3], [[0.2, 0.8]]), r"labels must be in \[0, 2\)"),
    (lambda: metrics.SparseCategoricalAccuracy()([0.5], [[0.2, 0.8]]), "integer class labels"),
    (lambda: metrics.Mean()([1.0, 2.0], sample_weight=[1.0]), r"sample_weight.*shape \(2,\)"),
    (lambda: metrics.AUC(curve="XY"), "'ROC' or 'PR'"),
    (lambda: metrics.AUC(num_thresholds=1), "num_thresholds must be an integer > 1"),
    (lambda: metrics.get({"class": "auc", "config": {"num_thresholds": 10 ** 12}}),
     r"num_thresholds must be an integer > 1 \(at most 1000000\)"),
    (lambda: metrics.Precision(thresholds=[]), "thresholds must be a number or a list"),
    (lambda: metrics.F1Score(average="mean"), "average must be one of"),
    (lambda: metrics.MeanAbsoluteError()(["a"], [[1.0]]), "y_true must be numbers"),
    (lambda: metrics.get("nonsense"), "unknown metric 'nonsense'"),
])
def test_bad_input_says_what_was_expected(call, match):
    with pytest.raises(ValueError, match=match):
        call()


class LargestError(metrics.Metric):
    """A metric with its own state: the largest absolute error seen."""

    def __init__(self, name=None):
        super().__init__(name)
        self.add_variable("largest")

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.largest[...] = max(float(self.largest), float(np.max(np.abs(y_pred - y_true))))

    def result(self):
        return float(self.largest)


@pytest.fixture
def largest_error():
    gn.register(LargestError)
    yield LargestError
    del metrics.REGISTRY.classes["largest_error"]


def test_a_stateful_metric_of_ones_own_trains_saves_and_loads(largest_error, tmp_path, rng):
    x = rng.normal(size=(40, 2))
    y = x[:, :1] * 0.5
    model = gn.Sequential([gn.Dense(1, input_dim=2)], seed=0)
    model.compile(optimizer="sgd", loss="mse", metrics=[LargestError(name="worst")])
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert "worst" in model.history.history
    model.save(tmp_path / "own.glassnet")
    loaded = gn.load_model(tmp_path / "own.glassnet")
    assert isinstance(loaded.metrics[0], LargestError) and loaded.metrics[0].name == "worst"
    out = model.predict(x)
    assert loaded.evaluate(x, y, return_dict=True)["worst"] == pytest.approx(float(np.max(np.abs(out - y))))
    metric = LargestError()
    metric.update_state(np.zeros((2, 1)), np.array([[1.0], [-3.0]]))
    metric.update_state(np.zeros((1, 1)), np.array([[2.0]]))
    assert metric.result() == 3.0 and metric(np.zeros((1, 1)), np.ones((1, 1))) == 1.0
    assert metric.result() == 3.0


def within_a_tenth(y_true, y_pred):
    return (np.abs(y_pred - y_true) < 0.1).mean(axis=1)


def test_a_plain_function_is_a_metric_named_after_it_but_cannot_be_saved(tmp_path, rng):
    x = rng.normal(size=(40, 2))
    y = x[:, :1] * 0.5
    model = gn.Sequential([gn.Dense(1, input_dim=2)], seed=0)
    model.compile(optimizer="sgd", loss="mse", metrics=[within_a_tenth])
    history = model.fit(x, y, epochs=2, batch_size=40, verbose=0, shuffle=False)
    assert len(history.history["within_a_tenth"]) == 2
    out = model.predict(x)
    assert model.evaluate(x, y, return_dict=True)["within_a_tenth"] == pytest.approx(
        float(within_a_tenth(y, out).mean()))
    with pytest.raises(ValueError, match="plain function.*register it"):
        model.save(tmp_path / "fn.glassnet")
