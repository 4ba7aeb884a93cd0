"""Watch XOR's decision regions form while the network trains, saved as a GIF.

    glassnet demo xor_regions [--epochs 300] [--gif xor_regions.gif]
"""
import argparse

import glassnet as gn
from glassnet.datasets import logic_gate
from glassnet.visualize import Snapshots

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--epochs", type=int, default=300)
parser.add_argument("--gif", default="xor_regions.gif")
args = parser.parse_args()

X, y = logic_gate("xor")
model = gn.Sequential([gn.Dense(4, "tanh"), gn.Dense(1, "sigmoid")], seed=0)
model.compile(loss="binary_crossentropy", optimizer=gn.Adam(0.05), metrics=["accuracy"])
snapshots = Snapshots(X, y)          # epoch 0, then about 40 log-spaced epochs
history = model.fit(X, y, epochs=args.epochs, batch_size=4, verbose=0, callbacks=[snapshots])
print(f"accuracy {history.history['accuracy'][-1]:.0%} after {args.epochs} epochs; "
      f"{len(snapshots.frames)} snapshots")
snapshots.to_gif(args.gif)
print(f"animation saved to {args.gif}")
