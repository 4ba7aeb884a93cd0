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
    keras_way = Adam.from_config(Adam(CosineDecay(0.1, 10), beta_1=0.8).get_config())
    assert keras_way.beta_1 == 0.8 and keras_way.learning_rate(10) == CosineDecay(0.1, 10)(10)


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
    with pytest.raises(ValueError, match="valid names are: adam, adamw, rmsprop, sgd"):
        optimizers.get("adagrad")


# ----------------------------------------------------------------------------------------
# Keras's schedules: gn.optimizers.schedules.X, Keras 3's arguments and formulas
# ----------------------------------------------------------------------------------------

schedules = optimizers.schedules


def test_schedules_live_where_keras_puts_them():
    import glassnet as gn
    for name in ("ExponentialDecay", "InverseTimeDecay", "PiecewiseConstantDecay",
                 "PolynomialDecay", "CosineDecay", "CosineDecayRestarts", "LearningRateSchedule"):
        assert getattr(gn.optimizers.schedules, name) is getattr(gn.optimizers, name)
    assert gn.CosineDecay is schedules.CosineDecay and gn.StepDecay is schedules.StepDecay


@pytest.mark.parametrize("step", [0, 1, 5, 9, 10, 15, 100, 1001])
def test_decays_by_their_formulas(step):
    # the formulas of Keras's docstrings, written out here
    assert schedules.ExponentialDecay(0.05, 10, 0.96)(step) == pytest.approx(
        0.05 * 0.96 ** (step / 10))
    assert schedules.ExponentialDecay(0.1, 3, 0.96, staircase=True)(step) == pytest.approx(
        0.1 * 0.96 ** (step // 3))
    assert schedules.InverseTimeDecay(0.1, 10, 0.96)(step) == pytest.approx(
        0.1 / (1 + step / 10 * 0.96))
    assert schedules.InverseTimeDecay(0.1, 10, 0.96, staircase=True)(step) == pytest.approx(
        0.1 / (1 + 0.96 * (step // 10)))
    capped = min(step, 10)
    assert schedules.PolynomialDecay(0.05, 10, 0.001, power=0.5)(step) == pytest.approx(
        (0.05 - 0.001) * (1 - capped / 10) ** 0.5 + 0.001)
    cycle_steps = 10 * max(1, math.ceil(step / 10))
    assert schedules.PolynomialDecay(0.05, 10, 0.001, cycle=True)(step) == pytest.approx(
        (0.05 - 0.001) * (1 - step / cycle_steps) + 0.001)
    assert schedules.CosineDecay(1.0, 10, alpha=0.1)(step) == pytest.approx(
        0.9 * 0.5 * (1 + math.cos(math.pi * capped / 10)) + 0.1)


def test_kerass_documented_values():
    # keras.optimizers.schedules docstrings and tests: the same arguments, the same values
    pcd = schedules.PiecewiseConstantDecay([100, 110, 120], [1.0, 0.1, 0.01, 0.001])
    assert [pcd(s) for s in (-999, 100, 105, 110, 120, 999)] == [1.0, 1.0, 0.1, 0.1, 0.01, 0.001]
    pcd = schedules.PiecewiseConstantDecay([1, 2, 3], [0.4, 0.5, 0.6, 0.7])
    assert [pcd(s) for s in range(5)] == [0.4, 0.4, 0.5, 0.6, 0.7]
    assert schedules.PolynomialDecay(0.05, 10, 0.0)(5) == pytest.approx(0.025)
    assert schedules.PolynomialDecay(0.05, 10, 0.001, cycle=True)(15) == pytest.approx(
        (0.05 - 0.001) * 0.25 + 0.001)
    assert schedules.PolynomialDecay(0.001, 10, cycle=True)(0) == pytest.approx(0.001)


def _restarts_by_walking(step, period, t_mul=2.0, m_mul=1.0, alpha=0.0):
    """SGDR by its definition: walk through the periods, each t_mul longer and m_mul lower."""
    height = 1.0
    while step >= period:
        step, period, height = step - period, period * t_mul, height * m_mul
    return (1 - alpha) * height * 0.5 * (1 + math.cos(math.pi * step / period)) + alpha


@pytest.mark.parametrize("t_mul, m_mul, alpha", [(2.0, 1.0, 0.0), (1.0, 1.0, 0.0),
                                                 (2.0, 0.9, 0.1), (3.0, 0.5, 0.0),
                                                 (1.5, 1.0, 0.2)])
def test_cosine_decay_restarts_walks_through_its_periods(t_mul, m_mul, alpha):
    schedule = schedules.CosineDecayRestarts(2.0, 100, t_mul=t_mul, m_mul=m_mul, alpha=alpha)
    for step in [0, 1, 50, 99, 100, 101, 250, 299, 300, 301, 700, 1234, 5000]:
        assert schedule(step) == pytest.approx(
            2.0 * _restarts_by_walking(step, 100, t_mul, m_mul, alpha), rel=1e-9, abs=1e-12)


def test_cosine_decay_warm_up_then_decay():
    # Keras 3: linear from initial_learning_rate to warmup_target over warmup_steps, then the
    # cosine from warmup_target down to alpha · warmup_target over decay_steps
    schedule = schedules.CosineDecay(0.0, 1000, alpha=0.1, warmup_target=0.1, warmup_steps=200)
    assert schedule(0) == 0.0
    assert schedule(50) == pytest.approx(0.025)
    assert schedule(200) == pytest.approx(0.1)
    assert schedule(700) == pytest.approx(0.1 * (0.9 * 0.5 * (1 + math.cos(math.pi / 2)) + 0.1))
    assert schedule(1200) == pytest.approx(0.01) and schedule(5000) == pytest.approx(0.01)


def test_kerass_fit_with_an_exponential_decay_gives_kerass_losses():
    # keras/src/optimizers/schedules/learning_rate_schedule_test.py, test_fit_lr_correctness:
    # the same program, the losses Keras reports (to its float32 rounding)
    import glassnet as gn
    model = gn.Sequential([gn.Input((2,)),
                           gn.Dense(2, kernel_initializer="ones", bias_initializer="ones")])
    optimizer = gn.optimizers.Adam(
        learning_rate=schedules.ExponentialDecay(initial_learning_rate=0.05, decay_steps=1,
                                                 decay_rate=0.9), epsilon=1e-7)
    model.compile(optimizer=optimizer, loss="mse")
    x = np.arange(32).reshape((16, 2))
    history = model.fit(x, x, epochs=3, batch_size=4, shuffle=False, verbose=0)
    assert optimizer.iterations == 4 * 3
    np.testing.assert_allclose(history.history["loss"],
                               [230.79457092285156, 128.30319213867188, 79.33648681640625],
                               rtol=5e-5)


@pytest.mark.parametrize("schedule", [
    schedules.ExponentialDecay(0.05, 10, 0.96, staircase=True, name="my_ed"),
    schedules.InverseTimeDecay(0.05, 10, 0.96),
    schedules.PiecewiseConstantDecay(boundaries=[10, 20], values=[1, 2, 3], name="my_pcd"),
    schedules.PolynomialDecay(0.1, 100, end_learning_rate=0.005, power=2.0, cycle=True),
    schedules.CosineDecay(0.05, 10, alpha=0.1, warmup_target=0.2, warmup_steps=2, name="cd"),
    schedules.CosineDecayRestarts(0.05, 10, t_mul=3.0, m_mul=0.5, alpha=0.1),
    schedules.StepDecay(0.1, 5, 0.5),
])
def test_every_schedule_serializes_and_drives_every_optimizer(schedule, tmp_path):
    import glassnet as gn
    clone = schedules.deserialize(schedules.serialize(schedule))
    assert type(clone) is type(schedule) and clone.get_config() == schedule.get_config()
    assert [clone(s) for s in range(0, 60, 7)] == [schedule(s) for s in range(0, 60, 7)]
    for opt in (SGD(schedule, momentum=0.5), Adam(schedule), RMSprop(schedule)):
        p = _run(opt, [0.0], [[1.0]] * 4)
        assert opt.current_learning_rate() == schedule(4) and np.isfinite(p).all()
    model = gn.Sequential([gn.Dense(1, input_dim=2)], seed=0)
    model.compile(optimizer=Adam(schedule), loss="mse")
    model.fit(np.ones((8, 2)), np.ones((8, 1)), epochs=1, batch_size=4, verbose=0)
    model.save(tmp_path / "s.glassnet")
    loaded = gn.load_model(tmp_path / "s.glassnet")
    assert loaded.optimizer.learning_rate.get_config() == schedule.get_config()
    assert loaded.optimizer.current_learning_rate() == schedule(2)


@pytest.mark.parametrize("make, match", [
    (lambda: schedules.ExponentialDecay(0.1, 0, 0.5), "decay_steps must be a finite number > 0"),
    (lambda: schedules.PiecewiseConstantDecay([1, 2], [0.1, 0.2]), "one more value"),
    (lambda: schedules.PiecewiseConstantDecay([2, 1], [0.1, 0.2, 0.3]), "strictly increasing"),
    (lambda: schedules.CosineDecay(0.1, 10, alpha=2), r"alpha must be in \[0, 1\]"),
    (lambda: schedules.CosineDecay(0.0, 10, warmup_target=0.1), "warmup_steps > 0"),
    (lambda: schedules.CosineDecayRestarts(0.1, -5), "first_decay_steps"),
    (lambda: schedules.CosineDecayRestarts(0.1, 10, t_mul=0.5), "t_mul must be a finite number >= 1"),
    (lambda: schedules.PolynomialDecay(0.1, 10, power=-1), "power must be a finite number >= 0"),
    (lambda: schedules.PolynomialDecay("x", 10), "initial_learning_rate must be a number"),
    (lambda: schedules.get("cosine_decay"), "must be a LearningRateSchedule or its config"),
])
def test_schedules_reject_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# ----------------------------------------------------------------------------------------
# a custom optimizer through the public seam: Lion
# ----------------------------------------------------------------------------------------

class Lion(optimizers.Optimizer):
    """Lion (Chen et al. 2023): step by the sign of β₁ m + (1 - β₁) g; m ← β₂ m + (1 - β₂) g."""

    state_names = ("m",)

    def __init__(self, learning_rate=1e-4, beta_1=0.9, beta_2=0.99, weight_decay=0.0):
        super().__init__(learning_rate, weight_decay)
        self.beta_1, self.beta_2 = beta_1, beta_2

    def update_step(self, params, grads, lr, out):
        m = self.state["m"]
        c = self.beta_1 * m + (1 - self.beta_1) * grads
        np.subtract(params, lr * np.sign(c), out=out)
        m *= self.beta_2
        m += (1 - self.beta_2) * grads

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}


@pytest.fixture
def lion():
    import glassnet as gn
    gn.register(Lion)
    yield Lion
    del optimizers.REGISTRY.classes["lion"]


def test_lion_steps_by_its_rule():
    opt = Lion(0.1, beta_1=0.9, beta_2=0.99, weight_decay=0.5)
    p = _run(opt, [1.0, -1.0], [[2.0, -3.0], [-1.0, 0.5]])
    # step 1: m = 0, c = 0.1 g → sign(g); θ = θ(1 - 0.05) - 0.1 sign(g); m = 0.01 g
    theta = np.array([1.0, -1.0]) * 0.95 - 0.1 * np.sign([2.0, -3.0])
    m = 0.01 * np.array([2.0, -3.0])
    c = 0.9 * m + 0.1 * np.array([-1.0, 0.5])
    theta = theta * 0.95 - 0.1 * np.sign(c)
    np.testing.assert_array_equal(p, theta)
    np.testing.assert_allclose(opt.state["m"], 0.99 * m + 0.01 * np.array([-1.0, 0.5]))
    assert opt.iterations == 2


def test_lion_saves_loads_and_resumes_bit_identically(lion, tmp_path, rng):
    import glassnet as gn
    x = rng.normal(size=(96, 4))
    y = np.tanh(x @ rng.normal(size=(4, 2)))

    def model():
        m = gn.Sequential([gn.Dense(8, "tanh", input_dim=4), gn.Dense(2)], seed=3)
        return m.compile(optimizer=Lion(schedules.CosineDecay(3e-3, 40)), loss="mse")

    straight = model()
    straight.fit(x, y, epochs=6, batch_size=16, verbose=0)

    first = model()
    first.fit(x, y, epochs=3, batch_size=16, verbose=0)
    first.save(tmp_path / "lion.glassnet")
    resumed = gn.load_model(tmp_path / "lion.glassnet")
    assert isinstance(resumed.optimizer, Lion) and resumed.optimizer.beta_2 == 0.99
    assert resumed.optimizer.iterations == 18
    np.testing.assert_array_equal(resumed.optimizer.state["m"], first.optimizer.state["m"])
    resumed.fit(x, y, epochs=3, batch_size=16, verbose=0)
    for a, b in zip(resumed.get_weights(), straight.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(resumed.optimizer.state["m"], straight.optimizer.state["m"])
    assert resumed.history.history["loss"] == straight.history.history["loss"]


def test_an_optimizer_without_update_step_says_what_to_write():
    class Half(optimizers.Optimizer):
        pass
    with pytest.raises(NotImplementedError, match=r"update_step\(params, grads, lr, out\)"):
        Half(0.1).step(np.zeros(2), np.ones(2))
