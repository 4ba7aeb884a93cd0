"""A network whose layers, nodes and activations come from the command line.

As network1.py of the seed document “Neural networks in numpy”.

    glassnet demo configurable_network --layers 8:tanh,8:relu --output sigmoid \
        --data xor3 --epochs 2000 --lr 0.5
"""
import argparse

import glassnet as gn
from glassnet.datasets import catalog

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--layers", default="8:tanh",
                    help="hidden layers as units:activation, comma separated")
parser.add_argument("--output", default="sigmoid", help="output activation")
parser.add_argument("--data", default="xor3", choices=["xor", "xor3", "image2x2"],
                    help="a data set of glassnet's catalog (default: xor3, 3-input parity)")
parser.add_argument("--loss", default="mse")
parser.add_argument("--epochs", type=int, default=2000)
parser.add_argument("--lr", type=float, default=0.5)
args = parser.parse_args()

data = catalog.load(args.data, seed=0)
X, y = data.x_train, data.y_train
if data.task == "multiclass":             # squared error and sigmoid outputs need one-hot rows
    y = gn.utils.to_categorical(y, data.n_outputs)

layers = []
for spec in args.layers.split(","):
    units, _, activation = spec.partition(":")
    layers.append(gn.Dense(int(units), activation or "sigmoid"))
layers.append(gn.Dense(y.shape[1], args.output))
model = gn.Sequential(layers, seed=0)
model.compile(loss=args.loss, optimizer=gn.SGD(args.lr), metrics=["accuracy"])
model.build(X.shape[1])
model.summary()
history = model.fit(X, y, epochs=args.epochs, batch_size=len(X), verbose=0)
print(f"after {args.epochs} epochs: loss {history.history['loss'][-1]:.5f}, "
      f"accuracy {history.history['accuracy'][-1]:.0%}")
