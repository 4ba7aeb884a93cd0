"""One hidden ReLU layer and softmax, full-batch gradient descent at 0.05, on MNIST.

As in the seed document “Python Neural Network only using NumPy”.

Works on MNIST or Fashion-MNIST, in CSV (label first, 784 pixels, a header
row; that document's format) or as a directory of IDX files.  Without --data it
uses Debian's Fashion-MNIST (apt-get install dataset-fashion-mnist).

    glassnet demo mnist [--data train.csv | --data DIR] [--iterations 500]
        [--every 10] [--hidden 10] [--plot mnist_accuracy.png]
"""
import argparse
import os

import numpy as np

import glassnet as gn
from glassnet import datasets

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--data", help="CSV file or IDX directory (default: Fashion-MNIST)")
parser.add_argument("--iterations", type=int, default=500)
parser.add_argument("--every", type=int, default=10, help="print accuracy every N iterations")
parser.add_argument("--hidden", type=int, default=10, help="hidden ReLU units (seed: 10)")
parser.add_argument("--lr", type=float, default=0.05)
parser.add_argument("--limit", type=int, help="use only the first N training samples")
parser.add_argument("--plot", default="mnist_accuracy.png")
args = parser.parse_args()

if args.data and os.path.isfile(args.data):
    X, y = datasets.load_csv(args.data)
    X = X / np.float32(255)
    X_train, X_dev, y_train, y_dev = datasets.train_test_split(X, y, test_size=0.1, seed=0)
else:
    (X_train, y_train), (X_dev, y_dev) = (datasets.load_mnist(args.data) if args.data
                                          else datasets.fashion_mnist(scale="unit"))
if args.limit:
    X_train, y_train = X_train[:args.limit], y_train[:args.limit]

model = gn.Sequential([gn.Dense(args.hidden, "relu", kernel_initializer="he_uniform"),
                       gn.Dense(10, "softmax")], seed=0)
model.compile(loss="sparse_categorical_crossentropy", optimizer=gn.SGD(args.lr), metrics=["accuracy"])


class Every(gn.Callback):
    """Print and record the accuracy every N iterations (one iteration = one epoch here)."""

    def __init__(self):
        super().__init__()
        self.iterations, self.accuracy = [], []

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % args.every == 0 or epoch == 0:
            self.iterations.append(epoch + 1)
            self.accuracy.append(logs["accuracy"])
            print(f"iteration {epoch + 1:5d}: accuracy {logs['accuracy']:.4f}")


tracker = Every()
# full batch: every iteration is one gradient step on all the training data
model.fit(X_train, y_train, epochs=args.iterations, batch_size=len(X_train), verbose=0,
          callbacks=[tracker])
print(f"held-out accuracy: {model.evaluate(X_dev, y_dev, return_dict=True)['accuracy']:.4f}")
if args.plot:
    try:
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot(tracker.iterations, tracker.accuracy, marker="o", ms=3)
        ax.set_xlabel("iteration")
        ax.set_ylabel("training accuracy")
        ax.set_title(f"The seed document's network, full-batch gradient descent (lr {args.lr})")
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
        print(f"plot saved to {args.plot}")
    except ImportError:
        print("install matplotlib (pip install 'glassnet[plot]') for the plot")
