"""glassnet against PyTorch (CPU) and scikit-learn, side by side in one run.

Each measurement runs in a fresh subprocess (so peak memory is that
framework's alone), the frameworks alternate, and every figure is the median
over ``--repeats`` runs.  Cases:

1. Fashion-MNIST 784-256-128-10, ReLU, softmax cross-entropy, Adam 1e-3,
   batch 128, float32: seconds per epoch, peak memory, test accuracy.
2. XOR 2-4-1 (tanh, sigmoid, MSE, SGD), full batch through ``fit``:
   microseconds per training step.
3. One-sample ``predict`` through 784-256-128-10: microseconds per call.
4. Loading Fashion-MNIST from IDX; a 60,000-row MNIST-format CSV against
   ``pandas.read_csv``.

    python benchmarks/bench.py [--repeats 3] [--epochs 3] [--quick] [--baseline DIR]
    python benchmarks/bench.py --device cuda [--anchors DIR]   # on a GPU: bench_cuda.py

``--baseline DIR`` also runs cases 1–3 with the glassnet of another source
tree (``DIR/src``, e.g. a ``git worktree`` of an earlier commit), alternating
with this one, and prints this/baseline ratios: how a change moved the speed.

Needs Debian's ``dataset-fashion-mnist`` for cases 1 and 4; PyTorch,
scikit-learn and pandas are used when installed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

from measure import peak_mb   # benchmarks/measure.py, beside this script

HERE = os.path.abspath(__file__)


# ----------------------------------------------------------------------------------------
# workers: each prints one JSON line
# ----------------------------------------------------------------------------------------


def _fashion():
    from glassnet.datasets import fashion_mnist
    return fashion_mnist(scale="unit")


def _path(framework):
    """glassnet's NumPy path, its fast path (numba kernels), or the baseline tree's default."""
    return {} if framework == "baseline" else {"fast": framework == "glassnet-fast"}


def worker_mlp(framework, epochs, seed=0):
    (X, y), (Xt, yt) = _fashion()
    times = []
    if framework in ("glassnet", "glassnet-fast", "baseline"):
        import glassnet as gn
        model = gn.Sequential([gn.Dense(256, "relu"), gn.Dense(128, "relu"),
                               gn.Dense(10, "softmax")], seed=seed, **_path(framework))
        model.compile(loss="sparse_categorical_crossentropy", optimizer=gn.Adam(1e-3))

        class EpochTimer(gn.Callback):        # seconds per epoch, as inside one fit call
            def on_epoch_begin(self, epoch, logs=None):
                self.start = time.perf_counter()

            def on_epoch_end(self, epoch, logs=None):
                times.append(time.perf_counter() - self.start)

        model.fit(X, y, epochs=epochs, batch_size=128, verbose=0, callbacks=[EpochTimer()])
        accuracy = float((model.predict(Xt).argmax(axis=1) == yt).mean())
    elif framework == "torch":
        import torch
        torch.manual_seed(seed)
        net = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(),
                                  torch.nn.Linear(256, 128), torch.nn.ReLU(),
                                  torch.nn.Linear(128, 10))
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        xt, ytt = torch.from_numpy(X), torch.from_numpy(y)
        gen = torch.Generator().manual_seed(seed)
        for _ in range(epochs):
            start = time.perf_counter()
            perm = torch.randperm(len(X), generator=gen)
            for s in range(0, len(X), 128):
                idx = perm[s:s + 128]
                opt.zero_grad()
                loss = torch.nn.functional.cross_entropy(net(xt[idx]), ytt[idx])
                loss.backward()
                opt.step()
            times.append(time.perf_counter() - start)
        with torch.no_grad():
            accuracy = float((net(torch.from_numpy(Xt)).argmax(1).numpy() == yt).mean())
    elif framework == "sklearn":
        import warnings
        from sklearn.neural_network import MLPClassifier
        clf = MLPClassifier((256, 128), solver="adam", learning_rate_init=1e-3, batch_size=128,
                            max_iter=1, shuffle=True, random_state=seed, warm_start=True,
                            tol=0, n_iter_no_change=10 ** 9)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _ in range(epochs):
                start = time.perf_counter()
                clf.fit(X, y)
                times.append(time.perf_counter() - start)
        accuracy = float(clf.score(Xt, yt))
    return {"epoch_s": statistics.median(times), "peak_mb": peak_mb(), "accuracy": accuracy}


def worker_gemm(framework, epochs):
    """The floor for case 1: only the matrix products of one epoch (forward and backward)."""
    rng = np.random.default_rng(0)
    sizes, batch, steps = [784, 256, 128, 10], 128, -(-60000 // 128)
    W = [rng.random((a, b), dtype=np.float32) for a, b in zip(sizes[:-1], sizes[1:])]
    acts = [rng.random((batch, s), dtype=np.float32) for s in sizes]
    deltas = [rng.random((batch, s), dtype=np.float32) for s in sizes[1:]]
    dW = [np.empty_like(w) for w in W]
    out = [np.empty_like(a) for a in acts]
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        for _ in range(steps):
            for i, w in enumerate(W):                      # forward: z = x·W
                np.matmul(acts[i], w, out=out[i + 1])
            for i in range(len(W) - 1, -1, -1):            # backward: xᵀ·δ and δ·Wᵀ
                np.matmul(acts[i].T, deltas[i], out=dW[i])
                if i > 0:
                    np.matmul(deltas[i], W[i].T, out=out[i])
        times.append(time.perf_counter() - start)
    return {"epoch_s": statistics.median(times)}


def worker_xor(framework, steps):
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    Y = np.array([[0], [1], [1], [0]], dtype=np.float32)
    if framework in ("glassnet", "glassnet-fast", "baseline"):
        import glassnet as gn
        model = gn.Sequential([gn.Dense(4, "tanh"), gn.Dense(1, "sigmoid")], seed=0,
                              **_path(framework))
        model.compile(loss="mse", optimizer=gn.SGD(0.5))
        model.fit(X, Y, epochs=50, batch_size=4, verbose=0)           # warm-up
        start = time.perf_counter()
        model.fit(X, Y, epochs=steps, batch_size=4, verbose=0)
        elapsed = time.perf_counter() - start
    else:
        import torch
        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1),
                                  torch.nn.Sigmoid())
        opt = torch.optim.SGD(net.parameters(), lr=0.5)
        xt, yt = torch.from_numpy(X), torch.from_numpy(Y)

        def step():
            opt.zero_grad()
            torch.nn.functional.mse_loss(net(xt), yt).backward()
            opt.step()
        for _ in range(50):
            step()
        start = time.perf_counter()
        for _ in range(steps):
            step()
        elapsed = time.perf_counter() - start
    return {"step_us": elapsed / steps * 1e6}


def worker_predict(framework, calls):
    rng = np.random.default_rng(0)
    x = rng.random((1, 784), dtype=np.float32)
    if framework in ("glassnet", "baseline"):
        import glassnet as gn
        model = gn.Sequential([gn.Dense(256, "relu"), gn.Dense(128, "relu"),
                               gn.Dense(10, "softmax")], seed=0)
        model.build(784)
        fn = lambda: model.predict(x)          # noqa: E731
    else:
        import torch
        net = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(),
                                  torch.nn.Linear(256, 128), torch.nn.ReLU(),
                                  torch.nn.Linear(128, 10), torch.nn.Softmax(dim=1)).eval()

        def fn():
            with torch.no_grad():
                return net(torch.from_numpy(x)).numpy()
    for _ in range(200):
        fn()
    samples = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        samples.append((time.perf_counter() - start) / calls * 1e6)
    return {"call_us": statistics.median(samples)}


def worker_load(framework, csv_path):
    start = time.perf_counter()
    if framework == "glassnet-idx":
        _fashion()
    elif framework == "glassnet-csv":
        from glassnet.datasets import load_csv
        load_csv(csv_path)
    elif framework == "pandas-csv":
        import pandas
        pandas.read_csv(csv_path)
    return {"load_s": time.perf_counter() - start}


WORKERS = {"gemm": worker_gemm, "mlp": worker_mlp, "xor": worker_xor, "predict": worker_predict, "load": worker_load}


# ----------------------------------------------------------------------------------------
# driver
# ----------------------------------------------------------------------------------------

def _available(module):
    try:
        __import__(module)
        return True
    except ImportError:
        return False


#: the other source tree that "baseline" runs (set by --baseline)
BASELINE = None


def _run(case, framework, arg):
    env = dict(os.environ)
    if framework == "baseline":
        env["PYTHONPATH"] = os.path.join(BASELINE, "src")
    out = subprocess.run([sys.executable, HERE, "--worker", case, framework, str(arg)],
                         capture_output=True, text=True, check=False, env=env)
    if out.returncode != 0:
        raise RuntimeError(f"{case}/{framework} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _median_runs(case, frameworks, arg, repeats):
    results = {f: [] for f in frameworks}
    for r in range(repeats):
        order = frameworks if r % 2 == 0 else frameworks[::-1]     # alternate who goes first
        for framework in order:
            results[framework].append(_run(case, framework, arg))
    return {f: {k: statistics.median(run[k] for run in runs) for k in runs[0]}
            for f, runs in results.items()}


def _write_csv(path):
    from glassnet.datasets import fashion_mnist
    (X, y), _ = fashion_mnist(scale="none")
    with open(path, "w") as handle:
        handle.write("label," + ",".join(f"pixel{i}" for i in range(784)) + "\n")
        np.savetxt(handle, np.column_stack([y, X]), fmt="%d", delimiter=",")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="1 repeat, 1 epoch")
    parser.add_argument("--baseline", metavar="DIR",
                        help="also run cases 1-3 with the glassnet source tree in DIR")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                        help="cuda: glassnet on an NVIDIA GPU against PyTorch CUDA "
                             "(benchmarks/bench_cuda.py)")
    parser.add_argument("--anchors", metavar="DIR",
                        help="with --device cuda: the folder holding gpu_anchor.py (PyTorch)")
    parser.add_argument("--profile", metavar="FILE",
                        help="with --device cuda: a cProfile of one epoch at batch 128")
    args = parser.parse_args()
    if args.device == "cuda":
        import bench_cuda   # benchmarks/bench_cuda.py, beside this script
        return bench_cuda.main((["--anchors", args.anchors] if args.anchors else [])
                               + (["--profile", args.profile] if args.profile else [])
                               + ["--epochs", str(args.epochs)])
    global BASELINE
    BASELINE = args.baseline and os.path.abspath(args.baseline)
    base = ["baseline"] if BASELINE else []
    fast = ["glassnet-fast"] if _available("numba") else []
    if args.worker:
        case, framework, arg = args.worker
        arg = arg if case == "load" else int(arg)
        print(json.dumps(WORKERS[case](framework, arg)))
        return 0
    if args.quick:
        args.repeats, args.epochs = 1, 1
    import glassnet
    from glassnet.datasets import FASHION_MNIST_DIR
    have_torch, have_sklearn = _available("torch"), _available("sklearn")
    have_fashion = os.path.isdir(FASHION_MNIST_DIR)
    print(f"glassnet {glassnet.__version__}, numpy {np.__version__}, {os.cpu_count()} cores; "
          f"medians of {args.repeats} alternating runs in fresh processes")
    if have_torch:
        import torch
        print(f"torch {torch.__version__} ({torch.get_num_threads()} threads)")
    rows = []

    def ratio(a, b):
        return f"{a / b:.2f}" if b else "-"

    if have_fashion:
        frameworks = ["glassnet"] + fast + base + (["torch"] if have_torch else []) \
            + (["sklearn"] if have_sklearn else [])
        r = _median_runs("mlp", frameworks, args.epochs, args.repeats)
        g, t = r["glassnet"], r.get("torch")
        rows.append(("1. Fashion-MNIST MLP, s/epoch (NumPy)", f"{g['epoch_s']:.3f}",
                     f"{t['epoch_s']:.3f}" if t else "-",
                     ratio(g["epoch_s"], t["epoch_s"]) if t else "-", "<= 0.70"))
        if fast:
            f = r["glassnet-fast"]
            rows.append(("1. Fashion-MNIST MLP, s/epoch (glassnet[fast])", f"{f['epoch_s']:.3f}",
                         f"{t['epoch_s']:.3f}" if t else "-",
                         ratio(f["epoch_s"], t["epoch_s"]) if t else "-", "<= 0.55"))
            rows.append(("1. fast path: accuracy, peak MB", f"{f['accuracy']:.4f}, "
                         f"{f['peak_mb']:.0f}", "-", "-", ""))
        rows.append(("1. peak memory, MB", f"{g['peak_mb']:.0f}",
                     f"{t['peak_mb']:.0f}" if t else "-",
                     ratio(g["peak_mb"], t["peak_mb"]) if t else "-", "<= 0.6"))
        rows.append((f"1. test accuracy after {args.epochs} epoch(s)", f"{g['accuracy']:.4f}",
                     f"{t['accuracy']:.4f}" if t else "-",
                     f"{100 * (g['accuracy'] - t['accuracy']):+.2f} pts" if t else "-",
                     "within 0.5 pts"))
        if base:
            b = r["baseline"]
            rows.append(("1. this tree / baseline, s/epoch", f"{g['epoch_s']:.3f}",
                         f"{b['epoch_s']:.3f} (baseline)", ratio(g["epoch_s"], b["epoch_s"]), ""))
        floor = _median_runs("gemm", ["numpy"], args.epochs, args.repeats)["numpy"]["epoch_s"]
        rows.append(("1. GEMM floor (matrix products only), s/epoch", f"{floor:.3f}", "-",
                     f"glassnet/floor {ratio(g['epoch_s'], floor)}", ""))
        if fast:
            rows.append(("1. fast path / GEMM floor", f"{r['glassnet-fast']['epoch_s']:.3f}",
                         f"{floor:.3f} (floor)", ratio(r["glassnet-fast"]["epoch_s"], floor),
                         "<= 1.4"))
        if "sklearn" in r:
            s = r["sklearn"]
            rows.append(("1. scikit-learn MLPClassifier, s/epoch", f"{s['epoch_s']:.3f}", "-",
                         f"glassnet/sklearn {ratio(g['epoch_s'], s['epoch_s'])}", ""))
    else:
        print("(case 1 and 4 skipped: apt-get install dataset-fashion-mnist)")
    if have_torch:
        r = _median_runs("xor", ["glassnet", "torch"] + fast + base, 20000, args.repeats)
        rows.append(("2. XOR 2-4-1 fit, us/step", f"{r['glassnet']['step_us']:.1f}",
                     f"{r['torch']['step_us']:.1f}",
                     ratio(r["glassnet"]["step_us"], r["torch"]["step_us"]), "<= 0.2"))
        if fast:
            rows.append(("2. XOR 2-4-1 fit, us/step (glassnet[fast])",
                         f"{r['glassnet-fast']['step_us']:.1f}", f"{r['torch']['step_us']:.1f}",
                         ratio(r["glassnet-fast"]["step_us"], r["torch"]["step_us"]), "<= 0.2"))
        if base:
            rows.append(("2. this tree / baseline, us/step", f"{r['glassnet']['step_us']:.1f}",
                         f"{r['baseline']['step_us']:.1f} (baseline)",
                         ratio(r["glassnet"]["step_us"], r["baseline"]["step_us"]), ""))
        r = _median_runs("predict", ["glassnet", "torch"] + base, 2000, args.repeats)
        rows.append(("3. one-sample predict, us/call", f"{r['glassnet']['call_us']:.1f}",
                     f"{r['torch']['call_us']:.1f}",
                     ratio(r["glassnet"]["call_us"], r["torch"]["call_us"]), "<= 0.5"))
        if base:
            rows.append(("3. this tree / baseline, us/call", f"{r['glassnet']['call_us']:.1f}",
                         f"{r['baseline']['call_us']:.1f} (baseline)",
                         ratio(r["glassnet"]["call_us"], r["baseline"]["call_us"]), ""))
    if have_fashion:
        r = _median_runs("load", ["glassnet-idx"], "-", args.repeats)
        rows.append(("4. load Fashion-MNIST IDX (gz), s", f"{r['glassnet-idx']['load_s']:.3f}",
                     "-", "-", ""))
        if _available("pandas"):
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "fashion_train.csv")
                _write_csv(path)
                r = _median_runs("load", ["glassnet-csv", "pandas-csv"], path, args.repeats)
            g, p = r["glassnet-csv"]["load_s"], r["pandas-csv"]["load_s"]
            rows.append(("4. 60,000-row MNIST CSV, s (vs pandas)", f"{g:.3f}", f"{p:.3f}",
                         ratio(g, p), "<= 1.5"))
    header = ("case", "glassnet", "PyTorch / other", "ratio", "target")
    widths = [max(len(str(row[i])) for row in rows + [header]) for i in range(5)]
    print()
    for k, row in enumerate([header] + rows):
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths)) + " |")
        if k == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return 0


if __name__ == "__main__":
    sys.exit(main())
