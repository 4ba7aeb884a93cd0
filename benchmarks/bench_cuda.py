"""glassnet on an NVIDIA GPU against PyTorch CUDA, measured side by side in one process.

``python benchmarks/bench.py --device cuda [--anchors DIR]`` runs this (or run it
directly).  Synthetic data of Fashion-MNIST's shape (60,000 × 784, 10 classes),
Adam 1e-3, softmax cross-entropy, float32, seconds per epoch (the fastest of
the epochs after the first, as the anchors in ``../shared/gpu`` measure):

1. 784-256-128-10 at batch 128 and 1024, and 784-4096-4096-10 at batch 1024:
   glassnet (fused kernels, the losses read once per epoch), the same reading
   every step's loss (what metrics or per-batch callbacks make it do), glassnet
   with ``fast=False`` (the plain NumPy-style expressions on CuPy), PyTorch
   eager, and at batch 128 PyTorch with the whole
   step in one CUDA graph.  PyTorch comes from the anchors' ``gpu_anchor.py``
   (``--anchors DIR``, the folder that holds it) so that the ratios compare
   with the issue's table; without it, PyTorch is skipped.
2. Test accuracy on the real Fashion-MNIST (when ``GLASSNET_FASHION_MNIST`` or
   Debian's package provides it), 784-256-128-10, batch 128, 3 epochs, same
   seed: the CPU and the GPU.
3. The host time of one tiny CuPy call (the currency of a training step).

Timing notes: without metrics or per-batch callbacks glassnet leaves each
step's loss on the GPU and reads the epoch's losses once (reading the guard
every 32 steps); the PyTorch anchors never read the loss.
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import sys
import time

import numpy as np


def data(n=60000, d=784, k=10, seed=0):
    r = np.random.default_rng(seed)
    return r.random((n, d), dtype=np.float32), r.integers(0, k, n)


def glassnet_epoch(x, y, widths, batch, epochs=3, fast=None, device="cuda", per_step=False):
    """Seconds per epoch of glassnet's fit (the fastest epoch after the first).

    ``per_step``: a per-batch callback, so that fit reads every step's loss back
    (as it does with metrics), instead of once per epoch.
    """
    import glassnet as gn
    cp = importlib.import_module("cupy") if device == "cuda" else None
    layers = [gn.Input(shape=(x.shape[1],))]
    layers += [gn.layers.Dense(w, activation="relu") for w in widths]
    layers.append(gn.layers.Dense(10, activation="softmax"))
    model = gn.Sequential(layers, seed=0, device=device, fast=fast)
    model.compile(optimizer=gn.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    times = []

    def sync():
        if cp is not None:
            cp.cuda.Device().synchronize()

    class Timer(gn.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            sync()
            self.t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            sync()
            times.append(time.perf_counter() - self.t)

    class EveryStep(gn.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            pass

    xs, ys = (cp.asarray(x), cp.asarray(y)) if cp is not None else (x, y)
    model.fit(xs, ys, batch_size=batch, epochs=epochs, verbose=0,
              callbacks=[Timer()] + ([EveryStep()] if per_step else []))
    return min(times[1:]) if len(times) > 1 else times[0]


def tiny_call_us():
    cp = importlib.import_module("cupy")
    a = cp.zeros(16, cp.float32)
    a += 1                                 # compile the kernel first
    cp.cuda.Device().synchronize()
    t = time.perf_counter()
    for _ in range(2000):
        a += 1
    cp.cuda.Device().synchronize()
    return (time.perf_counter() - t) / 2000 * 1e6


def accuracy(device, epochs=3):
    import glassnet as gn
    try:
        (x, y), (xt, yt) = gn.datasets.fashion_mnist(scale="unit")      # pixels in [0, 1]
    except (OSError, ValueError) as exc:
        return None, str(exc)[:120]
    x, xt = x.reshape(len(x), -1), xt.reshape(len(xt), -1)
    model = gn.Sequential([gn.Input(shape=(x.shape[1],)), gn.layers.Dense(256, "relu"),
                           gn.layers.Dense(128, "relu"), gn.layers.Dense(10, "softmax")],
                          seed=0, device=device)
    model.compile(optimizer=gn.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    t = time.perf_counter()
    model.fit(x, y, batch_size=128, epochs=epochs, verbose=0)
    seconds = time.perf_counter() - t
    return model.evaluate(xt, yt, verbose=0)[1], f"{seconds:.1f} s for {epochs} epochs"


def profile(path, batch=128, widths=(256, 128)):
    """cProfile of one epoch (after a warm-up epoch): where the host's time per step goes."""
    import cProfile
    import pstats
    import glassnet as gn
    cp = importlib.import_module("cupy")
    x, y = data()
    layers = [gn.Input(shape=(784,))] + [gn.layers.Dense(w, activation="relu") for w in widths]
    model = gn.Sequential(layers + [gn.layers.Dense(10, activation="softmax")], seed=0,
                          device="cuda")
    model.compile(optimizer=gn.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
    xs, ys = cp.asarray(x), cp.asarray(y)
    model.fit(xs, ys, batch_size=batch, epochs=1, verbose=0)
    profiler = cProfile.Profile()
    profiler.enable()
    model.fit(xs, ys, batch_size=batch, epochs=1, verbose=0)
    cp.cuda.Device().synchronize()
    profiler.disable()
    steps = -(-len(x) // batch)
    with open(path, "w") as out:
        stats = pstats.Stats(profiler, stream=out)
        out.write(f"one epoch, {steps} steps of batch {batch}\n")
        stats.sort_stats("tottime").print_stats(40)
        stats.sort_stats("cumulative").print_stats(40)
    stats = pstats.Stats(profiler)
    total = sum(v[2] for v in stats.stats.values())
    top = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:12]
    print(f"profile: {total / steps * 1e6:.0f} us of host time per step; the largest shares:")
    for (file, line, name), (cc, nc, tt, ct, callers) in top:
        print(f"  {tt / steps * 1e6:7.1f} us/step  {nc / steps:5.1f} calls/step  "
              f"{os.path.basename(file)}:{line} {name}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--anchors", help="folder holding gpu_anchor.py (PyTorch's timings)")
    parser.add_argument("--repeats", type=int, default=1, help="runs per case (median)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--profile", metavar="FILE",
                        help="also write a cProfile of one epoch at batch 128 to FILE")
    args = parser.parse_args(argv)
    anchor = None
    if args.anchors:
        sys.path.insert(0, os.path.abspath(args.anchors))
        anchor = importlib.import_module("gpu_anchor")
    import cupy as cp
    print(f"GPU: {cp.cuda.runtime.getDeviceProperties(0)['name'].decode()}, CuPy {cp.__version__}")
    print(f"one tiny CuPy call: {tiny_call_us():.1f} us of host time")
    x, y = data()
    cases = [((256, 128), 128), ((256, 128), 1024), ((4096, 4096), 1024)]
    header = (f"{'case':28s} {'glassnet':>9s} {'gn per-step':>11s} {'gn fast=False':>13s} "
              f"{'torch eager':>11s} {'torch graph':>11s} {'gn/eager':>8s} {'gn/graph':>8s}")
    print(header)

    def median(fn):
        return statistics.median(fn() for _ in range(args.repeats))

    for widths, batch in cases:
        gn_s = median(lambda: glassnet_epoch(x, y, widths, batch, args.epochs))
        stepwise = median(lambda: glassnet_epoch(x, y, widths, batch, args.epochs,
                                                 per_step=True))
        plain = median(lambda: glassnet_epoch(x, y, widths, batch, args.epochs, fast=False))
        eager = graph = float("nan")
        if anchor is not None:
            eager = median(lambda: anchor.torch_epoch(x, y, widths, batch, epochs=args.epochs))
            if batch == 128:
                graph = median(lambda: anchor.torch_epoch(x, y, widths, batch,
                                                          epochs=args.epochs, fused=True,
                                                          graphs=True))
        name = f"784-{'-'.join(map(str, widths))}-10 b{batch}"
        print(f"{name:28s} {gn_s:9.3f} {stepwise:11.3f} {plain:13.3f} {eager:11.3f} {graph:11.3f} "
              f"{gn_s / eager:8.2f} {gn_s / graph:8.2f}", flush=True)
    if args.profile:
        profile(args.profile)
    for device in ("cpu", "cuda"):
        acc, note = accuracy(device)
        print(f"Fashion-MNIST test accuracy, {device}: "
              f"{'n/a' if acc is None else f'{acc:.4f}'} ({note})", flush=True)


if __name__ == "__main__":
    main()
