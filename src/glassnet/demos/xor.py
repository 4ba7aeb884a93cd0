"""XOR with 2 and 3 inputs: the problem one neuron cannot solve.

As xor.py of the seed document “Neural networks in numpy”.

    glassnet demo xor [--epochs 2000]
"""
import argparse


import glassnet as gn
from glassnet.datasets import logic_gate

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--epochs", type=int, default=2000)
args = parser.parse_args()

for n_inputs in (2, 3):
    X, y = logic_gate("xor", n_inputs)          # 3 inputs: parity
    # One hidden layer of tanh units, a sigmoid output, squared error and plain
    # gradient descent on the whole truth table: the seed's setup.
    model = gn.Sequential([gn.Dense(2 * n_inputs, "tanh"), gn.Dense(1, "sigmoid")], seed=1)
    model.compile(loss="mse", optimizer=gn.SGD(learning_rate=2.0), metrics=["accuracy"])
    history = model.fit(X, y, epochs=args.epochs, batch_size=len(X), verbose=0)
    out = model.predict(X)
    print(f"XOR with {n_inputs} inputs: final loss {history.history['loss'][-1]:.5f}, "
          f"accuracy {history.history['accuracy'][-1]:.0%}")
    for row, target, p in zip(X.astype(int), y[:, 0], out[:, 0]):
        print(f"  {row} -> {p:.3f}  (target {target:.0f})")
