"""2×2 image recognition with a 4-16-8-4 network on grayscale images.

As in the seed document “Neural networks in numpy”.

Four shapes (solid, horizontal, vertical, diagonal) plus eight patterns that
show none of them (all-zero targets, as in the seed).

    glassnet demo image2x2_recognition [--epochs 300] [--sets 20]
"""
import argparse

import numpy as np

import glassnet as gn
from glassnet.datasets import IMAGE2X2_CLASSES, image2x2

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--epochs", type=int, default=300)
parser.add_argument("--sets", type=int, default=20)
args = parser.parse_args()

X, y = image2x2(sets=args.sets, grayscale=True, include_unknown=True, seed=0)
model = gn.Sequential([gn.Dense(16, "tanh"), gn.Dense(8, "tanh"), gn.Dense(4, "sigmoid")],
                      seed=0)
# sigmoid outputs: each shape is a yes/no question, so "none" can be all-no
model.compile(loss="binary_crossentropy", optimizer=gn.Adam(0.01))
history = model.fit(X, y, epochs=args.epochs, batch_size=32, verbose=0)
print(f"final loss {history.history['loss'][-1]:.4f}")

X_test, y_test = image2x2(sets=1, grayscale=True, include_unknown=True, seed=99)
out = model.predict(X_test)
correct = 0
for x, target, p in zip(X_test, y_test, out):
    want = IMAGE2X2_CLASSES[target.argmax()] if target.any() else "none"
    got = IMAGE2X2_CLASSES[p.argmax()] if p.max() > 0.5 else "none"
    correct += want == got
    print(f"{np.array2string(x, precision=2, floatmode='fixed')}  -> {got:10s} (target {want})")
print(f"recognised {correct}/{len(X_test)} new grayscale images")
