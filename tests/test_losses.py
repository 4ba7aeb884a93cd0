import numpy as np
import pytest

from glassnet import activations, losses
from conftest import numeric_grad


def _targets(name, rng, n=6, k=4):
    if name == "sparse_categorical_crossentropy":
        return rng.integers(0, k, size=n)
    if name == "categorical_crossentropy":
        return np.eye(k)[rng.integers(0, k, size=n)]
    if name == "binary_crossentropy":
        return rng.integers(0, 2, size=(n, k)).astype(float)
    return rng.normal(size=(n, k))


def _predictions(name, rng, n=6, k=4):
    if "categorical" in name:
        return activations.Softmax().forward(rng.normal(size=(n, k)))
    if name == "binary_crossentropy":
        return rng.uniform(0.05, 0.95, size=(n, k))
    return rng.normal(size=(n, k))


@pytest.mark.parametrize("name", losses.names())
@pytest.mark.parametrize("weighted", [False, True])
def test_gradient_matches_finite_differences(name, weighted, rng):
    loss = losses.get(name)
    y = _targets(name, rng)
    p = _predictions(name, rng)
    p[np.abs(p - (y if y.ndim == 2 else 0)) < 1e-3] += 0.01  # away from |.|'s kink
    w = rng.uniform(0.5, 2, size=p.shape[0]) if weighted else None
    analytic = loss.gradient(y, p, w)
    np.testing.assert_allclose(analytic, numeric_grad(lambda q: loss(y, q, w), p),
                               rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("name", ["binary_crossentropy", "categorical_crossentropy",
                                  "sparse_categorical_crossentropy", "mse"])
@pytest.mark.parametrize("weighted", [False, True])
def test_fused_form_equals_unfused_chain_rule(name, weighted, rng):
    loss = losses.get(name)
    act = activations.get(loss.fused_activation)
    y = _targets(name, rng)
    z = rng.normal(size=(6, 4))
    a = act.forward(z.copy())
    w = rng.uniform(0.5, 2, size=6) if weighted else None
    np.testing.assert_allclose(loss.fused_per_sample(y, z, a), loss.per_sample(y, a), rtol=1e-10)
    unfused = act.backward(z, a, loss.gradient(y, a, w))
    np.testing.assert_allclose(loss.fused_delta(y, z, a, w), unfused, rtol=1e-8, atol=1e-12)


def test_fused_softmax_delta_for_targets_that_do_not_sum_to_one(rng):
    # seed 001's 2x2 images: the "unknown" patterns have all-zero targets
    loss = losses.get("categorical_crossentropy")
    y = np.array([[0, 0, 1.0, 0], [0, 0, 0, 0]])
    z = rng.normal(size=(2, 4))
    a = activations.Softmax().forward(z.copy())
    unfused = activations.Softmax().backward(z, a, loss.gradient(y, a))
    np.testing.assert_allclose(loss.fused_delta(y, z, a), unfused, atol=1e-12)


def test_fused_losses_stay_finite_when_probabilities_round_to_zero():
    z = np.array([[200.0, -200.0]], dtype=np.float32)
    cce = losses.get("categorical_crossentropy")
    a = activations.Softmax().forward(z.copy())
    value = cce.fused_per_sample(np.array([[0.0, 1.0]], dtype=np.float32), z, a)
    np.testing.assert_allclose(value, [400.0], rtol=1e-6)
    bce = losses.get("binary_crossentropy")
    zb = np.array([[-200.0]], dtype=np.float32)
    ab = activations.Sigmoid().forward(zb.copy())
    np.testing.assert_allclose(bce.fused_per_sample(np.array([[1.0]], np.float32), zb, ab),
                               [200.0], rtol=1e-6)


def test_known_values_and_pytorch_reductions():
    y = np.array([[1.0, 2.0], [3.0, 4.0]])
    p = np.array([[1.5, 2.0], [2.0, 6.0]])
    assert losses.get("mse")(y, p) == pytest.approx((0.25 + 0 + 1 + 4) / 4)
    assert losses.get("mae")(y, p) == pytest.approx((0.5 + 0 + 1 + 2) / 4)
    yb, pb = np.array([[1.0, 0.0]]), np.array([[0.8, 0.4]])
    assert losses.get("bce")(yb, pb) == pytest.approx(-(np.log(0.8) + np.log(0.6)) / 2)
    yc, pc = np.array([[0, 1.0, 0], [1.0, 0, 0]]), np.array([[0.2, 0.7, 0.1], [0.5, 0.25, 0.25]])
    expected = -(np.log(0.7) + np.log(0.5)) / 2       # per-sample sum, mean over samples
    assert losses.get("categorical_crossentropy")(yc, pc) == pytest.approx(expected)
    assert losses.get("sparse_categorical_crossentropy")(np.array([1, 0]), pc) \
        == pytest.approx(expected)


def test_sample_weight_averages_weighted_losses_over_samples():
    y = np.array([[0.0], [0.0]])
    p = np.array([[1.0], [3.0]])
    assert losses.get("mse")(y, p, np.array([1.0, 0.0])) == pytest.approx(1.0 / 2)
    assert losses.get("mse")(y, p, np.array([2.0, 1.0])) == pytest.approx((2 * 1 + 9) / 2)


def test_unknown_loss_lists_valid_names():
    with pytest.raises(ValueError, match="valid names are: binary_crossentropy"):
        losses.get("hinge")
