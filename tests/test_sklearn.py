"""glassnet as a scikit-learn citizen."""
import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")
from sklearn.datasets import make_blobs, make_regression  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import glassnet as gn  # noqa: E402
from glassnet.sklearn import GlassClassifier, GlassRegressor  # noqa: E402


@parametrize_with_checks([GlassClassifier(epochs=100), GlassRegressor(epochs=100)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_classifier_with_string_labels_in_a_pipeline():
    X, y = make_blobs(300, centers=3, n_features=4, random_state=0)
    labels = np.array(["cat", "dog", "emu"])[y]
    clf = make_pipeline(StandardScaler(), GlassClassifier((16,), epochs=50, random_state=0))
    clf.fit(X, labels)
    assert clf.score(X, labels) > 0.95
    net = clf[-1]
    assert list(net.classes_) == ["cat", "dog", "emu"] and net.n_features_in_ == 4
    proba = clf.predict_proba(X[:5])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert isinstance(net.model_, gn.Sequential) and len(net.history_.history["loss"]) == 50
    assert net.loss_curve_ == net.history_.history["loss"]


def test_feature_names_and_partial_fit():
    pd = pytest.importorskip("pandas")
    X, y = make_blobs(200, centers=2, n_features=3, random_state=1)
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    clf = GlassClassifier((8,), learning_rate=0.01, random_state=0)
    for _ in range(30):
        clf.partial_fit(frame, y, classes=[0, 1])
    assert list(clf.feature_names_in_) == ["a", "b", "c"]
    assert clf.model_.optimizer.iterations == 30 * 7 and clf.score(frame, y) > 0.95
    with pytest.raises(ValueError, match="needs classes"):
        GlassClassifier().partial_fit(X, y)


def test_regressor_cross_val_and_early_stopping():
    X, y = make_regression(200, n_features=5, noise=1.0, random_state=0)
    y = (y - y.mean()) / y.std()
    reg = GlassRegressor((32,), learning_rate=0.01, epochs=500, early_stopping=True,
                         n_iter_no_change=5, random_state=0)
    scores = cross_val_score(reg, X, y, cv=3)
    assert scores.mean() > 0.9
    reg.fit(X, y)
    assert reg.n_iter_ < 500 and "val_loss" in reg.history_.history


def test_grid_search_finds_a_sensible_setting():
    X, y = make_blobs(240, centers=3, n_features=4, cluster_std=3.0, random_state=0)
    search = GridSearchCV(GlassClassifier(epochs=30, random_state=0),
                          {"hidden_layer_sizes": [(4,), (32,)], "learning_rate": [1e-4, 1e-2]},
                          cv=3)
    search.fit(X, y)
    assert search.best_params_["learning_rate"] == 1e-2
    assert search.best_score_ > 0.8


def test_same_random_state_same_predictions():
    X, y = make_blobs(100, centers=2, random_state=0)
    a = GlassClassifier((8,), epochs=5, random_state=3).fit(X, y).predict_proba(X)
    b = GlassClassifier((8,), epochs=5, random_state=3).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
