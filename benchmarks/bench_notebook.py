"""The glass box in Jupyter: how long each rich display takes to make, and LivePlot's cost.

    python benchmarks/bench_notebook.py [--repeat 5]

Times (median of ``--repeat``) the HTML a notebook shows for the digits network
(64-32-10): the model (summary and drawing), a trace with its backward pass, a
30-epoch History as curves and as a table; then 50 epochs of XOR (a 2-4-1
network, epochs of microseconds) with and without ``LivePlot()``, outside
IPython (counting its redraws, each costing one ``history_html``).
Targets: each display ≤ 0.5 s (a cell's output appears at once); LivePlot
adds ≤ 1 s to those 50 epochs (``min_interval`` keeps drawing from dominating).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import time

import numpy as np

import glassnet as gn
from glassnet import notebook


def median_seconds(fn, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    repeat = parser.parse_args().repeat
    x, y = gn.datasets.digits()
    model = gn.Sequential([gn.Rescaling(1 / 16, input_dim=64), gn.Dense(32, "relu"),
                           gn.Dense(10, "softmax")], seed=0)
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    history = model.fit(x, y, epochs=30, verbose=0, validation_split=0.1)
    tr = model.trace(x[0], y[0])
    rows = [("model_html", lambda: notebook.model_html(model)),
            ("trace_html", lambda: notebook.trace_html(tr)),
            ("history_html (curves)", lambda: notebook.history_html(history, plot=True)),
            ("history_html (table)", lambda: notebook.history_html(history, plot=False))]
    for name, fn in rows:
        fn()                                              # warm: imports, fonts
        print(f"{name:<24} {median_seconds(fn, repeat) * 1000:8.1f} ms")

    X, Y = gn.datasets.logic_gate("xor")

    def fit(callbacks):
        xor = gn.Sequential([gn.Dense(4, "tanh", input_dim=2), gn.Dense(1, "sigmoid")], seed=0)
        xor.compile(loss="binary_crossentropy", optimizer=gn.SGD(0.5))
        with contextlib.redirect_stdout(io.StringIO()):
            xor.fit(X, Y, epochs=50, batch_size=4, verbose=0, callbacks=callbacks)

    draw = median_seconds(lambda: notebook.history_html(history, plot=True), repeat)
    live = notebook.LivePlot()
    plain = median_seconds(lambda: fit([]), repeat)
    fit([live])
    print(f"{'50 XOR epochs':<24} {plain * 1000:8.1f} ms; LivePlot() redraws {live.updates} "
          f"times: +{live.updates * draw * 1000:.0f} ms in a notebook "
          f"(LivePlot(min_interval=0): +{50 * draw * 1000:.0f} ms)")
    print(f"(a trace shows {sum(np.asarray(s.value).size for l in tr.layers for s in l.forward)}"
          f" forward numbers)")


if __name__ == "__main__":
    main()
