"""Plant each bug of issue #25 in turn, run the given tests, revert.

    PYTHONPATH=src python tools/planted_bugs.py tests/test_user_paths.py [more tests]

From the repository root.  Each line says CAUGHT (some test failed) or MISSED.  The bugs
are the ones a reviewer planted when the suite was weak where users' data flows; a
refactoring that moves the code they patch makes this script stop with the plant's name
(update the pattern then, so the bug can still be planted).
"""
import os
import subprocess
import sys

os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
PLANTS = {
 "class_weight absent=0": ("src/glassnet/trainer.py", "table = np.ones(max(", "table = np.zeros(max("),
 "csv whole-number check dropped": ("src/glassnet/datasets/files.py", "return labels.astype(np.int64) if whole else labels", "return labels"),
 "CSVDataset final shuffle x only": ("src/glassnet/datasets/stream.py", "pool_x, pool_y = pool_x[order], pool_y[order]", "pool_x, pool_y = pool_x[order], pool_y"),
 "onnx leaky slope 0.01": ("src/glassnet/activations.py", 'graph.const(self.negative_slope,', 'graph.const(0.01,'),
 "onnx elu alpha 1.0": ("src/glassnet/activations.py", 'graph.const(self.alpha, "alpha")', 'graph.const(1.0, "alpha")'),
 "gradcheck floor 1.0": ("src/glassnet/gradcheck.py", "abs(numeric), 1e-8)", "abs(numeric), 1.0)"),
 "worst_sample argmin": ("src/glassnet/report.py", "int(np.argmax(model.per_sample_loss(y)))", "int(np.argmin(model.per_sample_loss(y)))"),
 "validation split first rows": ("src/glassnet/datasets/preprocessing.py", "train_idx, val_idx = slice(0, n - n_val), slice(n - n_val, n)", "train_idx, val_idx = slice(n_val, n), slice(0, n_val)"),
}
tests = sys.argv[1:]
for name, (path, old, new) in PLANTS.items():
    text = open(path).read()
    if text.count(old) != 1:
        sys.exit(f"{name}: the code it plants into is no longer in {path}; update the pattern")
    open(path, "w").write(text.replace(old, new))
    try:
        r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests], capture_output=True, text=True)
    finally:
        open(path, "w").write(text)
    last = [l for l in r.stdout.splitlines() if l.strip()][-1]
    print(f"{name:35s} {'CAUGHT' if r.returncode else 'MISSED'}  {last}")
