"""glassnet and PyTorch, same weights, same data, same optimizer: same numbers."""
import numpy as np
import pytest

import glassnet as gn

torch = pytest.importorskip("torch")

TORCH_ACT = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid,
             "elu": torch.nn.ELU, "softplus": torch.nn.Softplus, "swish": torch.nn.SiLU,
             "leaky_relu": torch.nn.LeakyReLU, "linear": torch.nn.Identity}


def _pair(sizes, acts, dtype, seed=0):
    model = gn.Sequential([gn.Dense(u, a) for u, a in zip(sizes[1:], acts)], dtype=dtype,
                          seed=seed)
    model.build(sizes[0])
    mods = []
    for (n_in, n_out), act, W, b in zip(zip(sizes[:-1], sizes[1:]), acts,
                                        model.get_weights()[::2], model.get_weights()[1::2]):
        lin = torch.nn.Linear(n_in, n_out).to(getattr(torch, dtype))
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W.T.copy()))
            lin.bias.copy_(torch.from_numpy(b.copy()))
        mods += [lin] if act in ("softmax", "linear") else [lin, TORCH_ACT[act]()]
    return model, torch.nn.Sequential(*mods)


def _compare(model, net, atol):
    theirs = [p.detach().numpy() for p in net.parameters()]
    ours = [w.T if w.ndim == 2 else w for w in model.get_weights()]
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=0, atol=atol)


@pytest.mark.parametrize("opt", ["sgd", "momentum", "nesterov", "adam", "adamw", "rmsprop"])
def test_training_matches_pytorch_step_for_step(opt, rng):
    x = rng.normal(size=(64, 6)).astype(np.float64)
    labels = rng.integers(0, 4, size=64)
    model, net = _pair([6, 16, 8, 4], ["tanh", "relu", "softmax"], "float64")
    ours, theirs = {
        "sgd": (gn.SGD(0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
        "momentum": (gn.SGD(0.1, momentum=0.9),
                     lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
        "nesterov": (gn.SGD(0.05, momentum=0.9, nesterov=True),
                     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True)),
        "adam": (gn.Adam(0.01), lambda p: torch.optim.Adam(p, lr=0.01)),
        "adamw": (gn.Adam(0.01, weight_decay=0.1),
                  lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1)),
        "rmsprop": (gn.RMSprop(0.01, rho=0.9),
                    lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9)),
    }[opt]
    model.compile(loss="sparse_categorical_crossentropy", optimizer=ours)
    model.fit(x, labels, epochs=5, batch_size=16, shuffle=False, verbose=0)
    topt = theirs(net.parameters())
    xt, yt = torch.from_numpy(x), torch.from_numpy(labels)
    for _ in range(5):
        for s in range(0, 64, 16):
            topt.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(xt[s:s + 16]), yt[s:s + 16])
            loss.backward()
            topt.step()
    _compare(model, net, atol=1e-10)


@pytest.mark.parametrize("act", sorted(TORCH_ACT))
@pytest.mark.parametrize("loss", ["mse", "mae", "binary_crossentropy"])
def test_loss_and_gradients_match_autograd(act, loss, rng):
    x = rng.normal(size=(9, 5))
    out_act = "sigmoid" if loss == "binary_crossentropy" else "linear"
    model, net = _pair([5, 7, 3], [act, out_act], "float64")
    model.compile(loss=loss, optimizer="sgd")
    y = rng.uniform(0, 1, size=(9, 3))
    value, grads = model.loss_and_gradients(x, y)
    fn = {"mse": torch.nn.functional.mse_loss, "mae": torch.nn.functional.l1_loss,
          "binary_crossentropy": torch.nn.functional.binary_cross_entropy}[loss]
    tloss = fn(net(torch.from_numpy(x)), torch.from_numpy(y))
    tloss.backward()
    assert value == pytest.approx(tloss.item(), rel=1e-12)
    tgrads = [p.grad.numpy() for p in net.parameters()]
    for g, tg in zip(grads, tgrads):
        np.testing.assert_allclose(g.T if g.ndim == 2 else g, tg, rtol=1e-9, atol=1e-12)


def test_float32_adam_run_agrees_with_pytorch_to_float32_rounding(rng):
    x = rng.normal(size=(256, 20)).astype(np.float32)
    labels = rng.integers(0, 5, size=256)
    model, net = _pair([20, 32, 5], ["relu", "softmax"], "float32")
    model.compile(loss="sparse_categorical_crossentropy", optimizer=gn.Adam(1e-3))
    model.fit(x, labels, epochs=3, batch_size=32, shuffle=False, verbose=0)
    topt = torch.optim.Adam(net.parameters(), lr=1e-3)
    xt, yt = torch.from_numpy(x), torch.from_numpy(labels)
    for _ in range(3):
        for s in range(0, 256, 32):
            topt.zero_grad()
            torch.nn.functional.cross_entropy(net(xt[s:s + 32]), yt[s:s + 32]).backward()
            topt.step()
    _compare(model, net, atol=2e-6)


# -- BatchNormalization against torch.nn.BatchNorm1d ---------------------------------------

def _bn_pair(rng, d=5):
    ours = gn.BatchNormalization(momentum=0.9, epsilon=1e-5)    # PyTorch's momentum=0.1
    model = gn.Sequential([ours], dtype="float64")
    model.build(d)
    gamma, beta = rng.normal(size=d), rng.normal(size=d)
    model.set_weights([gamma, beta, np.zeros(d), np.ones(d)])
    theirs = torch.nn.BatchNorm1d(d, eps=1e-5, momentum=0.1, dtype=torch.float64)
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(gamma))
        theirs.bias.copy_(torch.from_numpy(beta))
    return ours, theirs


@pytest.mark.parametrize("training", [True, False])
def test_batch_normalization_matches_batchnorm1d_forward_backward_and_moving_stats(training,
                                                                                   rng):
    ours, theirs = _bn_pair(rng)
    theirs.train()
    for _ in range(3):                          # a few batches move the running statistics
        x = rng.normal(2.0, 3.0, size=(16, 5))
        ours.forward(x, training=True)
        theirs(torch.from_numpy(x))
    np.testing.assert_allclose(ours.moving_mean, theirs.running_mean.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.moving_variance, theirs.running_var.numpy(), rtol=0,
                               atol=1e-12)
    theirs.train(training)
    x = rng.normal(2.0, 3.0, size=(16, 5))
    upstream = rng.normal(size=(16, 5))
    a = ours.forward(x, training=training)
    dx = ours.backward(upstream)
    xt = torch.from_numpy(x).requires_grad_(True)
    at = theirs(xt)
    at.backward(torch.from_numpy(upstream))
    np.testing.assert_allclose(a, at.detach().numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(ours.dgamma, theirs.weight.grad.numpy(), rtol=0, atol=1e-10)
    np.testing.assert_allclose(ours.dbeta, theirs.bias.grad.numpy(), rtol=0, atol=1e-10)


def test_network_with_batch_normalization_trains_like_pytorch(rng):
    x = rng.normal(size=(64, 6))
    labels = rng.integers(0, 3, size=64)
    model = gn.Sequential([gn.Dense(8, "relu"), gn.BatchNormalization(momentum=0.9,
                                                                      epsilon=1e-5),
                           gn.Dense(3, "softmax")], dtype="float64", seed=0)
    model.build(6)
    W1, b1, g, be, _, _, W2, b2 = model.get_weights()
    lin1, bn, lin2 = (torch.nn.Linear(6, 8).double(), torch.nn.BatchNorm1d(8, momentum=0.1).double(),
                      torch.nn.Linear(8, 3).double())
    with torch.no_grad():
        for lin, W, b in ((lin1, W1, b1), (lin2, W2, b2)):
            lin.weight.copy_(torch.from_numpy(W.T.copy()))
            lin.bias.copy_(torch.from_numpy(b))
    net = torch.nn.Sequential(lin1, torch.nn.ReLU(), bn, lin2)
    model.compile(loss="sparse_categorical_crossentropy", optimizer=gn.SGD(0.1, momentum=0.9))
    model.fit(x, labels, epochs=4, batch_size=16, shuffle=False, verbose=0)
    topt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    xt, yt = torch.from_numpy(x), torch.from_numpy(labels)
    for _ in range(4):
        for s in range(0, 64, 16):
            topt.zero_grad()
            torch.nn.functional.cross_entropy(net(xt[s:s + 16]), yt[s:s + 16]).backward()
            topt.step()
    theirs = [lin1.weight.T, lin1.bias, bn.weight, bn.bias, bn.running_mean, bn.running_var,
              lin2.weight.T, lin2.bias]
    for ours_w, their_w in zip(model.get_weights(), theirs):
        np.testing.assert_allclose(ours_w, their_w.detach().numpy(), rtol=0, atol=1e-10)
    net.eval()                                   # inference uses the moving statistics
    np.testing.assert_allclose(model.predict(x),
                               torch.softmax(net(xt), dim=1).detach().numpy(), rtol=0, atol=1e-10)


def test_layer_normalization_matches_torch_layernorm(rng):
    model = gn.Sequential([gn.LayerNormalization(epsilon=1e-5)], dtype="float64")
    model.build(6)
    gamma, beta = rng.normal(size=6), rng.normal(size=6)
    model.set_weights([gamma, beta])
    theirs = torch.nn.LayerNorm(6, eps=1e-5, dtype=torch.float64)
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(gamma))
        theirs.bias.copy_(torch.from_numpy(beta))
    x, upstream = rng.normal(1.0, 2.0, size=(7, 6)), rng.normal(size=(7, 6))
    layer = model.layers[0]
    a, dx = layer.forward(x), None
    dx = layer.backward(upstream)
    xt = torch.from_numpy(x).requires_grad_(True)
    at = theirs(xt)
    at.backward(torch.from_numpy(upstream))
    for ours, their in ((a, at), (dx, xt.grad), (layer.dgamma, theirs.weight.grad),
                        (layer.dbeta, theirs.bias.grad)):
        np.testing.assert_allclose(ours, their.detach().numpy(), rtol=0, atol=1e-10)
