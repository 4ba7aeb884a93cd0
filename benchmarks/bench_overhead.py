"""Per-call overhead of the model machinery: this tree against another, side by side.

The tiny cases of ``bench.py`` (an XOR step through ``fit``, a one-sample
``predict``) are dominated by Python overhead, not arithmetic, so they show what
a change to the model classes costs.  Each measurement runs in a fresh process,
the two trees alternate, and the figures are medians of the per-process best.

    python benchmarks/bench_overhead.py --baseline DIR [--repeats 5]

``DIR`` is another source tree (e.g. ``git worktree add /tmp/base <commit>``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

WORKER = r"""
import json, sys, time
import numpy as np
sys.path.insert(0, sys.argv[1])
import glassnet as gn

def best(f, n, rep=7):
    out = []
    for _ in range(rep):
        t = time.perf_counter()
        for _ in range(n):
            f()
        out.append((time.perf_counter() - t) / n * 1e6)
    return min(out)

rng = np.random.default_rng(0)
m = gn.Sequential([gn.Dense(256, "relu", input_dim=784), gn.Dense(128, "relu"),
                   gn.Dense(10, "softmax")], seed=0)
x1 = rng.random((1, 784)).astype(np.float32)
predict = best(lambda: m.predict(x1), 2000)
x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
y = np.array([[0], [1], [1], [0]], np.float32)
xor = gn.Sequential([gn.Dense(4, "tanh", input_dim=2), gn.Dense(1, "sigmoid")], seed=0)
xor.compile(loss="mse", optimizer=gn.SGD(0.5))
xor.fit(x, y, epochs=50, batch_size=4, verbose=0)
steps = []
for _ in range(7):
    t = time.perf_counter()
    xor.fit(x, y, epochs=500, batch_size=4, verbose=0)
    steps.append((time.perf_counter() - t) / 500 * 1e6)
print(json.dumps({"predict_us": predict, "xor_step_us": min(steps)}))
"""


def run(tree):
    out = subprocess.run([sys.executable, "-c", WORKER, tree], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", required=True, metavar="DIR")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    trees = {"this tree": os.path.join(HERE, "..", "src"),
             "baseline": os.path.join(os.path.abspath(args.baseline), "src")}
    results = {name: [] for name in trees}
    for _ in range(args.repeats):
        for name, tree in trees.items():
            results[name].append(run(tree))
    print(f"medians of {args.repeats} alternating processes (microseconds)")
    for key in ("xor_step_us", "predict_us"):
        this = statistics.median(r[key] for r in results["this tree"])
        base = statistics.median(r[key] for r in results["baseline"])
        print(f"{key:12}  this tree {this:7.1f}  baseline {base:7.1f}  ratio {this / base:.3f}")


if __name__ == "__main__":
    main()
