"""The embedded digits in a scikit-learn Pipeline (scaling + GlassClassifier) under GridSearchCV.

    glassnet demo sklearn_grid_search [--epochs 30] [--scheduler tcp://HOST:8786]

With --scheduler the search runs on that Dask cluster through joblib's Dask
backend (pip install 'glassnet[dask]'); otherwise on this machine.
"""
import argparse
import contextlib
import time

from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler

from glassnet.datasets import digits, train_test_split
from glassnet.sklearn import GlassClassifier

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--epochs", type=int, default=30)
parser.add_argument("--scheduler", help="address of a Dask scheduler")
args = parser.parse_args()

X, y = digits()
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, seed=0, stratify=y)
pipeline = Pipeline([("scale", MinMaxScaler()),
                     ("net", GlassClassifier(epochs=args.epochs, dtype="float32",
                                             random_state=0))])
grid = {"net__hidden_layer_sizes": [(32,), (128,), (128, 64)],
        "net__learning_rate": [1e-3, 1e-2]}
search = GridSearchCV(pipeline, grid, cv=3, n_jobs=-1 if args.scheduler else None)

backend = contextlib.nullcontext()
if args.scheduler:
    import joblib
    from dask.distributed import Client
    client = Client(args.scheduler)
    backend = joblib.parallel_backend("dask")
start = time.perf_counter()
with backend:
    search.fit(X_train, y_train)
print(f"searched {len(search.cv_results_['params'])} settings x 3 folds in "
      f"{time.perf_counter() - start:.1f} s")
print(f"best parameters: {search.best_params_}")
print(f"cross-validated accuracy: {search.best_score_:.4f}")
print(f"test accuracy: {search.score(X_test, y_test):.4f}")
