"""One neuron learns y = a·x + b: here a = 2, b = 3.

As linear.py of the seed document “Neural networks in numpy”.

With a linear activation a single node computes w·x + b, so after training
its weight is a and its bias is b.

    glassnet demo linear [--epochs 200]
"""
import argparse

import glassnet as gn
from glassnet.datasets import function_samples

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--epochs", type=int, default=200)
args = parser.parse_args()

X, y = function_samples("linear", n=200, x_range=(-1, 1), seed=0)
model = gn.Sequential([gn.Dense(1, input_dim=1)], seed=0)
model.compile(loss="mse", optimizer=gn.SGD(learning_rate=0.1))
model.fit(X, y, epochs=args.epochs, batch_size=20, verbose=0)
(W, b) = model.get_weights()
print(f"learned a = {W[0, 0]:.4f} (true 2), b = {b[0]:.4f} (true 3)")
