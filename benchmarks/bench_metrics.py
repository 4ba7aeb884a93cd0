"""What metrics cost: a training step with metrics, and update_state on big batches.

    PYTHONPATH=src python benchmarks/bench_metrics.py

Prints one line per case (median of 5 repeats).  Cases:

1. ``fit`` step on XOR (4 samples, 2-4-1) with ``metrics=["accuracy"]`` and without:
   the per-step price of a metric on the smallest network, where it shows most;
2. ``AUC().update_state`` on 1,000,000 predictions (200 thresholds);
3. ``Precision(thresholds=<200 values>).update_state`` on 1,000,000 predictions;
4. ``F1Score(average="macro").update_state`` on 100,000 samples of 10 classes.

Targets (2 cores): 1. metrics add under 10 µs per step; 2.–4. under 0.5 s.
"""

import statistics
import time

import numpy as np

import glassnet as gn


def median_time(fn, repeats=5):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def xor_step(metrics, epochs=2000):
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    y = np.array([[0], [1], [1], [0]], dtype=np.float32)

    def run():
        model = gn.Sequential([gn.Dense(4, "tanh", input_dim=2), gn.Dense(1, "sigmoid")], seed=0)
        model.compile(optimizer=gn.SGD(0.5), loss="binary_crossentropy", metrics=metrics)
        model.fit(x, y, epochs=epochs, batch_size=4, verbose=0)
    return median_time(run) / epochs


def main():
    rng = np.random.default_rng(0)
    plain, with_accuracy = xor_step([]), xor_step(["accuracy"])
    print(f"1. XOR fit step: {plain * 1e6:.1f} us without metrics, {with_accuracy * 1e6:.1f} us "
          f"with accuracy (+{(with_accuracy - plain) * 1e6:.1f} us)")
    y = rng.integers(0, 2, size=1_000_000)
    p = rng.uniform(size=1_000_000)
    auc = gn.metrics.AUC()
    print(f"2. AUC update_state, 1e6 predictions: {median_time(lambda: auc.update_state(y, p)):.3f} s")
    precision = gn.metrics.Precision(thresholds=list(np.linspace(0, 1, 200)))
    print(f"3. Precision, 200 thresholds, 1e6 predictions: "
          f"{median_time(lambda: precision.update_state(y, p)):.3f} s")
    labels = np.eye(10)[rng.integers(0, 10, size=100_000)]
    scores = rng.uniform(size=(100_000, 10))
    f1 = gn.metrics.F1Score(average="macro")
    print(f"4. F1Score macro, 1e5 x 10: {median_time(lambda: f1.update_state(labels, scores)):.3f} s")


if __name__ == "__main__":
    main()
