"""Data bigger than memory: a memory map and a streamed CSV file against in-memory arrays.

    python benchmarks/bench_data.py [--rows 1000000] [--repeats 3]

Each measurement runs in a fresh process (peak RSS is that run's alone):

1. One epoch over a ``rows`` × 784 float32 memory map (3.1 GB for a million
   rows) with the Fashion-MNIST MLP: samples per second and peak RSS, against
   the samples per second of the same network on a 100,000-row slice held in
   memory.  Targets: RSS ≤ 600 MB, speed ≥ 0.8 × in memory.
2. ``CSVDataset`` over a 60,000-row MNIST-format CSV file, one epoch, against
   ``load_csv`` + in-memory ``fit``: total seconds and peak RSS above the
   model.  Targets: ≥ 0.7 × the speed, ≤ 200 MB above the model.
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


def _model():
    import glassnet as gn
    model = gn.Sequential([gn.Dense(256, "relu", input_dim=784), gn.Dense(128, "relu"),
                           gn.Dense(10, "softmax")], seed=0, fast=False)
    return model.compile(gn.Adam(1e-3), "sparse_categorical_crossentropy")


def worker(case, path, rows):
    rows = int(rows)
    y = np.random.default_rng(1).integers(0, 10, size=rows)
    if case == "memmap":
        x = np.load(path, mmap_mode="r")
        model, base = _model(), peak_mb()
        start = time.perf_counter()
        model.fit(x, y, batch_size=128, epochs=1, verbose=0)
        elapsed = time.perf_counter() - start
        return {"samples_per_s": rows / elapsed, "peak_mb": peak_mb(), "model_mb": base}
    if case == "in-memory":
        x = np.array(np.load(path, mmap_mode="r")[:rows])
        model = _model()
        start = time.perf_counter()
        model.fit(x, y[:rows], batch_size=128, epochs=1, verbose=0)
        return {"samples_per_s": rows / (time.perf_counter() - start), "peak_mb": peak_mb()}
    from glassnet.datasets import CSVDataset, load_csv
    model, base = _model(), peak_mb()
    start = time.perf_counter()
    if case == "csv-stream":
        model.fit(CSVDataset(path, batch_size=128), epochs=1, verbose=0)
    else:
        x, labels = load_csv(path)
        model.fit(x, labels, batch_size=128, epochs=1, verbose=0)
    return {"seconds": time.perf_counter() - start, "peak_mb": peak_mb(), "model_mb": base}


def _run(*args):
    out = subprocess.run([sys.executable, HERE, "--worker", *map(str, args)],
                         capture_output=True, text=True, check=False)
    if out.returncode:
        raise RuntimeError(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _median(runs, key):
    return statistics.median(r[key] for r in runs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dir", default=tempfile.gettempdir(),
                        help="where the big files go (needs rows × 3.1 KB free)")
    parser.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(*args.worker)))
        return 0
    rng = np.random.default_rng(0)
    big = os.path.join(args.dir, "glassnet_bench_memmap.npy")
    csv = os.path.join(args.dir, "glassnet_bench_mnist.csv")
    try:
        x = np.lib.format.open_memmap(big, mode="w+", dtype=np.float32, shape=(args.rows, 784))
        for start in range(0, args.rows, 50_000):             # written in pieces, never whole
            x[start:start + 50_000] = rng.random((min(50_000, args.rows - start), 784),
                                                 dtype=np.float32)
        x.flush()
        del x
        slice_rows = min(100_000, args.rows)
        mapped, memory = [], []
        for _ in range(args.repeats):
            mapped.append(_run("memmap", big, args.rows))
            memory.append(_run("in-memory", big, slice_rows))
        speed = _median(mapped, "samples_per_s") / _median(memory, "samples_per_s")
        print(f"1. memory map, {args.rows:,} x 784 float32 "
              f"({args.rows * 784 * 4 / 1e9:.1f} GB), one epoch:")
        print(f"   {_median(mapped, 'samples_per_s'):,.0f} samples/s vs "
              f"{_median(memory, 'samples_per_s'):,.0f} in memory ({slice_rows:,} rows): "
              f"{speed:.2f} x (target >= 0.8)")
        print(f"   peak RSS {_median(mapped, 'peak_mb'):.0f} MB (target <= 600; the model and "
              f"NumPy alone: {_median(mapped, 'model_mb'):.0f} MB)")
    finally:
        if os.path.exists(big):
            os.remove(big)
    try:
        from glassnet.datasets import fashion_mnist
        (X, y), _ = fashion_mnist(normalize=False)
        with open(csv, "w") as handle:
            handle.write("label," + ",".join(f"pixel{i}" for i in range(784)) + "\n")
            np.savetxt(handle, np.column_stack([y, X]), fmt="%d", delimiter=",")
    except (OSError, ValueError):
        print("2. skipped: apt-get install dataset-fashion-mnist")
        return 0
    try:
        stream, loaded = [], []
        for _ in range(args.repeats):
            stream.append(_run("csv-stream", csv, 60_000))
            loaded.append(_run("csv-load", csv, 60_000))
        ratio = _median(loaded, "seconds") / _median(stream, "seconds")
        print(f"2. CSVDataset over a 60,000-row MNIST CSV, one epoch: "
              f"{_median(stream, 'seconds'):.2f} s vs load_csv + fit "
              f"{_median(loaded, 'seconds'):.2f} s: {ratio:.2f} x the speed (target >= 0.7)")
        print(f"   peak RSS above the model: streamed "
              f"{_median(stream, 'peak_mb') - _median(stream, 'model_mb'):.0f} MB (target "
              f"<= 200), loaded {_median(loaded, 'peak_mb') - _median(loaded, 'model_mb'):.0f} MB")
    finally:
        os.remove(csv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
