"""Graphs of layers against PyTorch: the same weights and data give the same numbers (float64).

Each case is a functional model and the same computation written with torch
operations on the model's own weights.  Compared: the forward pass, the loss and
its gradient for every weight (autograd), and the weights after 16 Adam steps.
"""
import numpy as np
import pytest

import glassnet as gn
from glassnet import layers

torch = pytest.importorskip("torch")
F = torch.nn.functional


def dense(p, i, x):
    """x · W + b with the i-th Dense layer's weights (W stored as (inputs, units))."""
    return x @ p[2 * i] + p[2 * i + 1]


def residual_mlp():
    x = gn.Input(shape=(6,))
    h = layers.Dense(8, activation="tanh")(x)
    r = layers.Dense(8, activation="relu")(h)
    out = layers.Dense(3, activation="softmax")(layers.add([h, r]))
    model = gn.Model(x, out, dtype="float64", seed=1)

    def torch_forward(p, xs):
        h = torch.tanh(dense(p, 0, xs[0]))
        return [dense(p, 2, h + torch.relu(dense(p, 1, h)))]          # logits
    return model, torch_forward, ([6], [("sparse", 3)]), "sparse_categorical_crossentropy", None


def two_inputs_concatenate():
    a, b = gn.Input(shape=(4,), name="a"), gn.Input(shape=(3,), name="b")
    ha = layers.Dense(5, activation="relu")(a)
    out = layers.Dense(2, activation="sigmoid")(layers.concatenate([ha, b]))
    model = gn.Model([a, b], out, dtype="float64", seed=2)

    def torch_forward(p, xs):
        return [dense(p, 1, torch.cat([torch.relu(dense(p, 0, xs[0])), xs[1]], dim=1))]
    return model, torch_forward, ([4, 3], [("binary", 2)]), "binary_crossentropy", None


def shared_layer_twice():
    x = gn.Input(shape=(5,))
    shared = layers.Dense(5, activation="tanh")
    h1 = shared(x)
    h2 = shared(h1)                             # the same weights, called twice
    out = layers.Dense(1)(layers.multiply([h1, h2]))
    model = gn.Model(x, out, dtype="float64", seed=3)

    def torch_forward(p, xs):
        h1 = torch.tanh(dense(p, 0, xs[0]))
        h2 = torch.tanh(dense(p, 0, h1))
        return [dense(p, 1, h1 * h2)]
    return model, torch_forward, ([5], [("real", 1)]), "mse", None


def two_outputs_weighted():
    x = gn.Input(shape=(6,))
    h = layers.Dense(8, activation="relu")(x)
    cls = layers.Dense(3, activation="softmax", name="cls")(h)
    reg = layers.Dense(2, name="reg")(h)
    model = gn.Model(x, {"cls": cls, "reg": reg}, dtype="float64", seed=4)

    def torch_forward(p, xs):
        h = torch.relu(dense(p, 0, xs[0]))
        return [dense(p, 1, h), dense(p, 2, h)]
    return (model, torch_forward, ([6], [("sparse", 3), ("real", 2)]),
            {"cls": "sparse_categorical_crossentropy", "reg": "mse"}, {"cls": 1.0, "reg": 0.5})


def nested_model():
    i = gn.Input(shape=(4,))
    inner = gn.Model(i, layers.Dense(4)(layers.Dense(6, activation="tanh")(i)),
                     dtype="float64", seed=5)
    x = gn.Input(shape=(4,))
    y = inner(inner(x))                          # a model used as a layer, twice
    out = layers.Dense(2, activation="softmax")(layers.maximum([y, x]))
    model = gn.Model(x, out, dtype="float64", seed=6)

    def torch_forward(p, xs):
        def f(v):
            return dense(p, 1, torch.tanh(dense(p, 0, v)))
        return [dense(p, 2, torch.maximum(f(f(xs[0])), xs[0]))]
    return model, torch_forward, ([4], [("sparse", 2)]), "sparse_categorical_crossentropy", None


def merges():
    x = gn.Input(shape=(3,))
    a = layers.Dense(4)(x)
    b = layers.Dense(4, activation="elu")(x)
    v = layers.average([a, b, a])                     # a tensor read twice by one layer
    s = layers.subtract([v, b]) + a * b               # operators are layers too
    out = layers.Dense(1)(s)
    model = gn.Model(x, out, dtype="float64", seed=7)

    def torch_forward(p, xs):
        a, b = dense(p, 0, xs[0]), F.elu(dense(p, 1, xs[0]))
        v = (a + b + a) / 3
        return [dense(p, 2, (v - b) + a * b)]
    return model, torch_forward, ([3], [("real", 1)]), "mae", None


CASES = [residual_mlp, two_inputs_concatenate, shared_layer_twice, two_outputs_weighted,
         nested_model, merges]


def _data(spec, n, rng):
    in_widths, outs = spec
    xs = [rng.normal(size=(n, w)) for w in in_widths]
    ys = []
    for kind, w in outs:
        if kind == "sparse":
            ys.append(rng.integers(0, w, size=n))
        elif kind == "binary":
            ys.append(rng.integers(0, 2, size=(n, w)).astype(np.float64))
        else:
            ys.append(rng.normal(size=(n, w)))
    return xs, ys


def _torch_loss(loss, weights, outs, ys, model):
    names = model.output_names
    losses = loss if isinstance(loss, dict) else {names[0]: loss}
    total = 0
    for name, out, y in zip(names, outs, ys):
        kind = losses[name]
        yt = torch.from_numpy(y)
        if kind == "sparse_categorical_crossentropy":
            value = F.cross_entropy(out, yt)
        elif kind == "binary_crossentropy":
            value = F.binary_cross_entropy_with_logits(out, yt)
        elif kind == "mse":
            value = F.mse_loss(out, yt)
        else:
            value = F.l1_loss(out, yt)
        total = total + (weights or {}).get(name, 1.0) * value
    return total


def _leaves(model):
    return [torch.tensor(w.copy(), requires_grad=True) for w in model.trainable_weights]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.__name__)
def test_graph_forward_gradients_and_adam_match_pytorch(case, rng):
    model, torch_forward, spec, loss, weights = case()
    xs, ys = _data(spec, 24, rng)
    x_in = xs if len(xs) > 1 else xs[0]
    y_in = dict(zip(model.output_names, ys)) if len(ys) > 1 else ys[0]
    model.compile(optimizer=gn.Adam(0.01), loss=loss, loss_weights=weights)

    # forward (the torch side gives logits where the output fuses with softmax/sigmoid)
    params = _leaves(model)
    outs = torch_forward(params, [torch.from_numpy(x) for x in xs])
    ours = model.predict(x_in)
    ours = list(ours.values()) if isinstance(ours, dict) else \
        ours if isinstance(ours, list) else [ours]
    acts = [model.get_layer(n).activation.name if n in [lay.name for lay in model.layers]
            else "linear" for n in model.output_names]
    for o, t, act in zip(ours, outs, acts):
        t = {"softmax": lambda v: torch.softmax(v, 1), "sigmoid": torch.sigmoid}.get(
            act, lambda v: v)(t)
        np.testing.assert_allclose(o, t.detach().numpy(), rtol=0, atol=1e-12)

    # loss and every gradient
    value, grads = model.loss_and_gradients(x_in, y_in)
    tloss = _torch_loss(loss, weights, outs, ys, model)
    tloss.backward()
    assert value == pytest.approx(tloss.item(), rel=1e-12)
    assert len(grads) == len(params)
    for g, p in zip(grads, params):
        np.testing.assert_allclose(g, p.grad.numpy(), rtol=1e-9, atol=1e-12)

    # 16 full-batch Adam steps
    model.fit(x_in, y_in, batch_size=24, epochs=16, shuffle=False, verbose=0)
    params = [p.detach().clone().requires_grad_(True) for p in params]
    opt = torch.optim.Adam(params, lr=0.01)
    for _ in range(16):
        opt.zero_grad()
        _torch_loss(loss, weights, torch_forward(params, [torch.from_numpy(x) for x in xs]),
                    ys, model).backward()
        opt.step()
    for w, p in zip(model.trainable_weights, params):
        np.testing.assert_allclose(w, p.detach().numpy(), rtol=0, atol=1e-10)


def test_a_shared_layers_gradient_is_the_sum_over_its_calls(rng):
    """Calling a layer twice sums its gradients: planting an overwrite would fail this test."""
    model, torch_forward, spec, loss, _ = shared_layer_twice()
    model.compile(optimizer="sgd", loss=loss)
    xs, ys = _data(spec, 10, rng)
    _, grads = model.loss_and_gradients(xs[0], ys[0])
    params = _leaves(model)
    _torch_loss(loss, None, torch_forward(params, [torch.from_numpy(xs[0])]), ys,
                model).backward()
    # the shared kernel's gradient is neither call's alone
    np.testing.assert_allclose(grads[0], params[0].grad.numpy(), rtol=1e-9, atol=1e-12)
