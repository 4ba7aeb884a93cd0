"""A grid search over glassnet estimators on a Dask cluster equals the same search run locally."""
import numpy as np
import pytest

pytest.importorskip("sklearn")
distributed = pytest.importorskip("dask.distributed")
joblib = pytest.importorskip("joblib")

from sklearn.datasets import make_blobs  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402

from glassnet.sklearn import GlassClassifier  # noqa: E402


def test_grid_search_on_a_local_dask_cluster_equals_local_search():
    X, y = make_blobs(150, centers=3, n_features=4, cluster_std=2.5, random_state=0)
    grid = {"hidden_layer_sizes": [(4,), (16,)], "learning_rate": [1e-3, 1e-2]}
    make = lambda **kw: GridSearchCV(GlassClassifier(epochs=15, random_state=0), grid,  # noqa
                                     cv=3, **kw)
    local = make().fit(X, y)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        with distributed.get_task_stream(client) as stream, joblib.parallel_backend("dask"):
            remote = make(n_jobs=-1).fit(X, y)
        ran_on = {task["worker"] for task in stream.data}
    assert ran_on and all(w.startswith("tcp://127.0.0.1") for w in ran_on)
    for key in ("params", "mean_test_score", "split0_test_score", "rank_test_score"):
        assert list(remote.cv_results_[key]) == list(local.cv_results_[key])
    assert remote.best_params_ == local.best_params_
    np.testing.assert_array_equal(remote.predict_proba(X), local.predict_proba(X))
