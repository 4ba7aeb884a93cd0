"""A vertical-line detector with hand-set weights and step activations.

2x2_image_predefined_1.py and _2.py of the seed document “Neural networks in numpy” run the
same two-layer network with the bias written two ways: as a separate vector b, or folded into the
kernel as the weight of an extra input that is always 1.  Both give zero
error on every 2×2 image, grayscale or not.

    glassnet demo image2x2_predefined
"""
import numpy as np

import glassnet as gn
from glassnet.datasets import image2x2

# Weights from the seed document “Neural networks in numpy”, one row per input, one column per node; the last
# row is the bias (the weight of the constant input 1).
W1_folded = np.array([[+1, -2], [-2, +1], [+1, -2], [-2, +1], [-1, -1]], dtype=float)
W2_folded = np.array([[+1], [+1], [0]], dtype=float)

X, onehot = image2x2(sets=1, grayscale=True, include_unknown=True, seed=0)
vertical = onehot[:, [2]]                       # 1 for the two vertical lines, else 0

# Convention 1, bias folded in: append the constant input 1 to each layer's input.
step = gn.activations.get("step")
a = X
for W in (W1_folded, W2_folded):
    a = step(np.hstack([a, np.ones((len(a), 1))]) @ W)
folded_out = a

# Convention 2, separate bias: a glassnet model, weights set by hand.
model = gn.Sequential([gn.Dense(2, "step"), gn.Dense(1, "step")])
model.set_weights([*gn.unfold_bias(W1_folded), *gn.unfold_bias(W2_folded)])
separate_out = model.predict(X)

print("image (TL TR BL BR)          folded  separate  desired")
for x, f, s, d in zip(X, folded_out[:, 0], separate_out[:, 0], vertical[:, 0]):
    print(f"{np.array2string(x, precision=2, floatmode='fixed')}   {f:.0f}       {s:.0f}         {d:.0f}")
print(f"error, bias folded in : {np.abs(folded_out - vertical).sum():.0f}")
print(f"error, bias separate  : {np.abs(separate_out - vertical).sum():.0f}")
assert np.array_equal(folded_out, separate_out)
