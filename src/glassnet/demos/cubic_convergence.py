"""Watch 8 tanh nodes converge on y = x³ + 15x, saved as a GIF.

    glassnet demo cubic_convergence [--epochs 1500] [--gif cubic_convergence.gif]
"""
import argparse

import glassnet as gn
from glassnet.datasets import StandardScaler, function_samples
from glassnet.visualize import Snapshots

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--epochs", type=int, default=1500)
parser.add_argument("--gif", default="cubic_convergence.gif")
args = parser.parse_args()

X, y = function_samples("cubic", n=500, seed=0)
scaler = StandardScaler()
y_scaled = scaler.fit_transform(y)        # the network learns targets of scale 1 ...
model = gn.Sequential([gn.Rescaling(0.2), gn.Dense(8, "tanh"), gn.Dense(1)], seed=0)
steps = args.epochs * -(-len(X) // 128)
model.compile(loss="mse", optimizer=gn.Adam(gn.CosineDecay(0.05, decay_steps=steps)))
# ... and the animation shows its fit in the function's own units
snapshots = Snapshots(X, y_scaled, inverse=scaler.inverse_transform)
history = model.fit(X, y_scaled, epochs=args.epochs, batch_size=128, verbose=0,
                    callbacks=[snapshots])
print(f"final loss {history.history['loss'][-1]:.5f} (scaled targets); "
      f"{len(snapshots.frames)} snapshots")
snapshots.to_gif(args.gif)
print(f"animation saved to {args.gif}")
