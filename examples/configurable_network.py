"""A configurable network (seed 001's network1.py): layers, nodes and activations from the
command line.

    python examples/configurable_network.py --layers 8:tanh,8:relu --output sigmoid \
        --data xor3 --epochs 2000 --lr 0.5
"""
import argparse

import glassnet as gn
from glassnet.datasets import image2x2, logic_gate

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--layers", default="8:tanh",
                    help="hidden layers as units:activation, comma separated")
parser.add_argument("--output", default="sigmoid", help="output activation")
parser.add_argument("--data", default="xor3", choices=["xor2", "xor3", "image2x2"])
parser.add_argument("--loss", default="mse")
parser.add_argument("--epochs", type=int, default=2000)
parser.add_argument("--lr", type=float, default=0.5)
args = parser.parse_args()

if args.data == "image2x2":
    X, y = image2x2(sets=10, grayscale=True, seed=0)
else:
    X, y = logic_gate("xor", int(args.data[-1]))

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
