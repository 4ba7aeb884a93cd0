"""One hidden layer of 8 nodes fits y = x³ + 15x on [-5, 5].

As cubic.py of the seed document “Neural networks in numpy”.

The targets reach ±200, so they are standardised for training (a scaler
remembers how) and mapped back for the plot.

    glassnet demo cubic [--epochs 3000] [--plot cubic.png]
"""
import argparse

import numpy as np

import glassnet as gn
from glassnet.datasets import StandardScaler, function_samples

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--epochs", type=int, default=3000)
parser.add_argument("--plot", default="cubic.png")
args = parser.parse_args()

X, y = function_samples("cubic", n=1000, x_range=(-5, 5), seed=0)
y_scaler = StandardScaler().fit(y)
model = gn.Sequential([gn.Rescaling(0.2), gn.Dense(8, "tanh"), gn.Dense(1)], seed=0)
steps = args.epochs * -(-len(X) // 128)          # optimizer steps in the whole run
model.compile(loss="mse", optimizer=gn.Adam(gn.CosineDecay(0.05, decay_steps=steps)))
model.fit(X, y_scaler.transform(y), epochs=args.epochs, batch_size=128, verbose=0)

grid = np.linspace(-5, 5, 201, dtype=np.float32)[:, None]
truth = grid ** 3 + 15 * grid
pred = y_scaler.inverse_transform(model.predict(grid))
rmse = float(np.sqrt(np.mean((pred - truth) ** 2)))
print(f"RMSE on [-5, 5]: {rmse:.3f}  (the function spans {truth.min():.0f} .. {truth.max():.0f})")
if args.plot:
    try:
        from glassnet.plotting import plot_function_fit
        plot_function_fit(grid, truth, pred, path=args.plot,
                          title=f"x³ + 15x, 8 tanh nodes (RMSE {rmse:.2f})")
        print(f"plot saved to {args.plot}")
    except ImportError as exc:
        print(exc)
