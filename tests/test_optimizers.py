import math

import numpy as np
import pytest

from glassnet import optimizers
from glassnet.optimizers import SGD, Adam, CosineDecay, ExponentialDecay, RMSprop, StepDecay


def _run(opt, params, grads_seq):
    p = np.array(params, dtype=np.float64)
    for g in grads_seq:
        opt.step(p, np.array(g, dtype=np.float64))
    return p


def test_sgd_step_by_hand():
    # θ ← θ - α g
    assert _run(SGD(0.1), [1.0, -2.0], [[0.5, -1.0]]).tolist() == pytest.approx([0.95, -1.9])


def test_sgd_momentum_by_hand():
    # v1 = g1 = 1; θ1 = 0 - 0.1·1 = -0.1;  v2 = 0.9·1 + 2 = 2.9; θ2 = -0.1 - 0.29 = -0.39
    assert _run(SGD(0.1, momentum=0.9), [0.0], [[1.0], [2.0]])[0] == pytest.approx(-0.39)


def test_sgd_nesterov_by_hand():
    # v1 = 1, step1 = g + μv = 1.9 → θ1 = -0.19; v2 = 2.9, step2 = 2 + 2.61 = 4.61 → θ2 = -0.651
    assert _run(SGD(0.1, momentum=0.9, nesterov=True), [0.0], [[1.0], [2.0]])[0] \
        == pytest.approx(-0.651)


def test_adam_two_steps_by_hand():
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    theta, m, v = 0.5, 0.0, 0.0
    for t, g in enumerate([0.2, -0.4], start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        theta -= lr * m_hat / (math.sqrt(v_hat) + eps)     # ε after the square root
    got = _run(Adam(lr, b1, b2, eps), [0.5], [[0.2], [-0.4]])[0]
    assert got == pytest.approx(theta, rel=1e-12)


def test_adam_first_step_moves_each_weight_by_the_learning_rate():
    # m̂ = g and √v̂ = |g| on step 1, so every weight moves by α·sign(g) (up to ε)
    got = _run(Adam(0.001), [0.0, 0.0, 0.0], [[3.0, -0.01, 1e3]])
    np.testing.assert_allclose(got, [-0.001, 0.001, -0.001], rtol=1e-5)


def test_rmsprop_by_hand():
    # s = 0.1·g² = 0.4 for g = 2; θ = 1 - 0.01·2/(√0.4 + 1e-8)
    got = _run(RMSprop(0.01, rho=0.9), [1.0], [[2.0]])[0]
    assert got == pytest.approx(1 - 0.01 * 2 / (math.sqrt(0.4) + 1e-8))


def test_decoupled_weight_decay_shrinks_before_the_update():
    # θ ← θ(1 - αλ) - α g  = 2·(1 - 0.1·0.5) - 0.1·1 = 1.8
    assert _run(SGD(0.1, weight_decay=0.5), [2.0], [[1.0]])[0] == pytest.approx(1.8)


def test_schedules_known_values():
    assert StepDecay(1.0, step_size=10, gamma=0.5)(25) == 0.25
    assert ExponentialDecay(1.0, decay_steps=10, decay_rate=0.5)(5) == pytest.approx(0.5 ** 0.5)
    assert ExponentialDecay(1.0, 10, 0.5, staircase=True)(15) == 0.5
    cosine = CosineDecay(1.0, decay_steps=100, alpha=0.1)
    assert cosine(0) == 1.0 and cosine(50) == pytest.approx(0.55) and cosine(500) == 0.1


def test_schedule_as_learning_rate_is_evaluated_per_step():
    opt = SGD(StepDecay(1.0, step_size=1, gamma=0.5))
    p = _run(opt, [0.0], [[1.0], [1.0], [1.0]])
    assert p[0] == pytest.approx(-(1 + 0.5 + 0.25))
    assert opt.iterations == 3


def test_get_by_name_with_defaults_and_from_config():
    adam = optimizers.get("adam")
    assert isinstance(adam, Adam) and adam.learning_rate == 1e-3
    clone = optimizers.get(optimizers.serialize(SGD(0.3, momentum=0.5)))
    assert clone.learning_rate == 0.3 and clone.momentum == 0.5
    sched = optimizers.get(optimizers.serialize(Adam(CosineDecay(0.1, 10))))
    assert isinstance(sched.learning_rate, CosineDecay)


@pytest.mark.parametrize("bad", [-1.0, -1e-9, float("nan"), float("inf"), "fast", True])
def test_rejects_bad_learning_rates(bad):
    with pytest.raises(ValueError, match="learning_rate"):
        SGD(bad)


@pytest.mark.parametrize("opt", [SGD(0.0, momentum=0.9), Adam(0.0), RMSprop(0.0)])
def test_a_learning_rate_of_zero_is_allowed_and_moves_nothing(opt):
    # warm-up schedules start at 0 (Keras allows it)
    params = np.array([1.0, -2.0, 3.0])
    opt.step(params, np.array([0.5, 0.5, -1.0]))
    np.testing.assert_array_equal(params, [1.0, -2.0, 3.0])


def test_unknown_optimizer_lists_valid_names():
    with pytest.raises(ValueError, match="valid names are: adam, rmsprop, sgd"):
        optimizers.get("adagrad")
