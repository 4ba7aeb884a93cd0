"""Learning-rate schedules: α as a function of the optimizer's step number t = 0, 1, 2, ...

Keras's schedules, with Keras 3's arguments and formulas
(``gn.optimizers.schedules.ExponentialDecay`` is
``keras.optimizers.schedules.ExponentialDecay``).  Pass one as the
``learning_rate`` of any optimizer; it is evaluated before every step at
``t = optimizer.iterations`` (0 for the first step) and saved with the model.

==========================  ===================================================
ExponentialDecay            ``α_0 · r^(t / T)``  (``⌊t / T⌋`` with staircase)
InverseTimeDecay            ``α_0 / (1 + r · t / T)``  (``⌊t / T⌋`` with staircase)
PiecewiseConstantDecay      ``values[i]`` for ``boundaries[i-1] < t ≤ boundaries[i]``
PolynomialDecay             ``(α_0 - α_end)(1 - min(t, T) / T)^p + α_end``
CosineDecay                 ``α_0 · [(1 - a) · ½ (1 + cos(π · min(t, T) / T)) + a]``,
                            after an optional linear warm-up
CosineDecayRestarts         the cosine, restarted after T, T·t_mul, T·t_mul², ...
                            steps, each restart at m_mul times the last height
StepDecay                   ``α_0 · γ^⌊t / step_size⌋``  (glassnet's; PyTorch's StepLR)
==========================  ===================================================

A schedule of your own subclasses :class:`LearningRateSchedule`, defines
``__call__(step)`` and ``get_config()`` (its constructor's arguments), and is
registered with ``glassnet.register`` so that saved models load it.
"""

from __future__ import annotations

import bisect
import math

from .._registry import Registry
from .._text import config_repr

__all__ = ["LearningRateSchedule", "ExponentialDecay", "InverseTimeDecay",
           "PiecewiseConstantDecay", "PolynomialDecay", "CosineDecay", "CosineDecayRestarts",
           "StepDecay", "serialize", "deserialize", "get"]


class LearningRateSchedule:
    """Base class: ``schedule(step) -> learning rate`` for optimizer step ``step`` (from 0)."""

    def __call__(self, step):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must define __call__(self, step)")

    def get_config(self):
        """The constructor's arguments (what a saved model stores)."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_")}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return config_repr(self)


def _number(value, what, owner, minimum=None, strict=False):
    """A finite float, checked against ``minimum`` (``> minimum`` when strict)."""
    if isinstance(value, bool):
        raise ValueError(f"{owner} {what} must be a number; received {value!r}")
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{owner} {what} must be a number; received {value!r}") from None
    if not math.isfinite(value) or (minimum is not None and (
            value <= minimum if strict else value < minimum)):
        bound = "" if minimum is None else f" {'>' if strict else '>='} {minimum:g}"
        raise ValueError(f"{owner} {what} must be a finite number{bound}; received {value!r}")
    return value


class ExponentialDecay(LearningRateSchedule):
    """``α_t = α_0 · r^(t / T)``; with ``staircase``, ``r^⌊t / T⌋`` (a drop every T steps).

    Parameters
    ----------
    initial_learning_rate : float
    decay_steps : float
        T (> 0).
    decay_rate : float
        r: the factor after T steps.
    staircase : bool, default False
    name : str, default "ExponentialDecay"
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="ExponentialDecay"):
        owner = type(self).__name__
        self.initial_learning_rate = _number(initial_learning_rate, "initial_learning_rate",
                                             owner, 0)
        self.decay_steps = _number(decay_steps, "decay_steps", owner, 0, strict=True)
        self.decay_rate = _number(decay_rate, "decay_rate", owner, 0)
        self.staircase = bool(staircase)
        self.name = name

    def __call__(self, step):
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate * self.decay_rate ** p


class InverseTimeDecay(LearningRateSchedule):
    """``α_t = α_0 / (1 + r · t / T)``; with ``staircase``, ``⌊t / T⌋`` in place of ``t / T``."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="InverseTimeDecay"):
        owner = type(self).__name__
        self.initial_learning_rate = _number(initial_learning_rate, "initial_learning_rate",
                                             owner, 0)
        self.decay_steps = _number(decay_steps, "decay_steps", owner, 0, strict=True)
        self.decay_rate = _number(decay_rate, "decay_rate", owner, 0)
        self.staircase = bool(staircase)
        self.name = name

    def __call__(self, step):
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate / (1.0 + self.decay_rate * p)


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``t ≤ boundaries[0]``, ``values[i]`` for
    ``boundaries[i-1] < t ≤ boundaries[i]``, ``values[-1]`` after the last boundary.

    Parameters
    ----------
    boundaries : list of numbers, strictly increasing
    values : list of float, one more than ``boundaries``
    name : str, default "PiecewiseConstant"
    """

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        owner = type(self).__name__
        if not isinstance(boundaries, (list, tuple)) or not isinstance(values, (list, tuple)):
            raise ValueError(f"{owner} boundaries and values must be lists; received "
                             f"{boundaries!r} and {values!r}")
        if len(boundaries) != len(values) - 1:
            raise ValueError(f"{owner} needs one more value than boundaries; received "
                             f"{len(boundaries)} boundaries and {len(values)} values")
        self.boundaries = [_number(b, "boundaries", owner) for b in boundaries]
        if any(a >= b for a, b in zip(self.boundaries, self.boundaries[1:])):
            raise ValueError(f"{owner} boundaries must be strictly increasing; received "
                             f"{boundaries!r}")
        self.values = [_number(v, "values", owner, 0) for v in values]
        self.name = name

    def __call__(self, step):
        return self.values[bisect.bisect_left(self.boundaries, step)]    # #{b < t}


class PolynomialDecay(LearningRateSchedule):
    """``α_t = (α_0 - α_end) · (1 - t / T)^power + α_end`` with t capped at T.

    With ``cycle``, T grows to the first multiple of ``decay_steps`` at or
    after t (T itself at t = 0), so the rate climbs back and decays again.
    """

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0,
                 cycle=False, name="PolynomialDecay"):
        owner = type(self).__name__
        self.initial_learning_rate = _number(initial_learning_rate, "initial_learning_rate",
                                             owner, 0)
        self.decay_steps = _number(decay_steps, "decay_steps", owner, 0, strict=True)
        self.end_learning_rate = _number(end_learning_rate, "end_learning_rate", owner, 0)
        self.power = _number(power, "power", owner, 0)      # (1 - 1)^power: no negative powers
        self.cycle = bool(cycle)
        self.name = name

    def __call__(self, step):
        steps = self.decay_steps
        if self.cycle:
            steps = steps * (1.0 if step == 0 else math.ceil(step / steps))
        else:
            step = min(step, steps)
        p = step / steps
        return (self.initial_learning_rate - self.end_learning_rate) * (1 - p) ** self.power \
            + self.end_learning_rate


class CosineDecay(LearningRateSchedule):
    """Half a cosine from the peak down to ``alpha`` × the peak, after an optional warm-up.

    Without ``warmup_target`` the peak is ``initial_learning_rate``:

        α_t = α_0 · [(1 - a) · ½ (1 + cos(π · min(t, T) / T)) + a]

    With it, the rate first climbs linearly from ``initial_learning_rate``
    to ``warmup_target`` over ``warmup_steps`` W steps,
    ``α_t = α_0 + (target - α_0) · t / W``, then decays from the target as
    above with ``t - W`` in place of t.

    Parameters
    ----------
    initial_learning_rate : float
    decay_steps : float
        T (> 0).
    alpha : float in [0, 1], default 0
        The floor, as a fraction of the peak.
    name : str, default "CosineDecay"
    warmup_target : float, optional
    warmup_steps : float, default 0
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        owner = type(self).__name__
        self.initial_learning_rate = _number(initial_learning_rate, "initial_learning_rate",
                                             owner, 0)
        self.decay_steps = _number(decay_steps, "decay_steps", owner, 0, strict=True)
        alpha = _number(alpha, "alpha", owner, 0)
        if alpha > 1:
            raise ValueError(f"{owner} alpha must be in [0, 1]; received {alpha!r}")
        self.alpha = alpha
        self.name = name
        self.warmup_target = None if warmup_target is None else _number(
            warmup_target, "warmup_target", owner, 0)
        self.warmup_steps = _number(warmup_steps, "warmup_steps", owner, 0)
        if self.warmup_target is not None and self.warmup_steps == 0:
            raise ValueError(f"{owner} warmup_target needs warmup_steps > 0")

    def _decay(self, step, peak):
        cosine = 0.5 * (1.0 + math.cos(math.pi * step / self.decay_steps))
        return peak * ((1.0 - self.alpha) * cosine + self.alpha)

    def __call__(self, step):
        if self.warmup_target is None:
            return self._decay(min(step, self.decay_steps), self.initial_learning_rate)
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            return self.initial_learning_rate + (
                self.warmup_target - self.initial_learning_rate) * (step / self.warmup_steps)
        return self._decay(step - self.warmup_steps, self.warmup_target)


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR, Loshchilov & Hutter).

    The first period lasts ``first_decay_steps`` T; each next one ``t_mul``
    times longer and starting ``m_mul`` times lower.  With f = t / T, the
    period i and the fraction ``c`` done of it are

        i = ⌊f⌋,  c = f - i                                  (t_mul = 1)
        i = ⌊log(1 - f (1 - t_mul)) / log t_mul⌋,
        c = (f - (1 - t_mulⁱ) / (1 - t_mul)) / t_mulⁱ         (otherwise)

    and ``α_t = α_0 · [(1 - a) · ½ m_mulⁱ (1 + cos(π c)) + a]``.
    """

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0,
                 alpha=0.0, name="SGDRDecay"):
        owner = type(self).__name__
        self.initial_learning_rate = _number(initial_learning_rate, "initial_learning_rate",
                                             owner, 0)
        self.first_decay_steps = _number(first_decay_steps, "first_decay_steps", owner, 0,
                                         strict=True)
        # t_mul < 1 would shrink the periods until infinitely many restarts fit before
        # step T / (1 - t_mul), after which the schedule has no value
        self.t_mul = _number(t_mul, "t_mul", owner, 1)
        self.m_mul = _number(m_mul, "m_mul", owner, 0)
        self.alpha = _number(alpha, "alpha", owner, 0)
        self.name = name

    def __call__(self, step):
        fraction = step / self.first_decay_steps
        if self.t_mul == 1.0:
            restart = math.floor(fraction)
            fraction -= restart
        else:
            restart = math.floor(math.log(1.0 - fraction * (1.0 - self.t_mul))
                                 / math.log(self.t_mul))
            done = (1.0 - self.t_mul ** restart) / (1.0 - self.t_mul)
            fraction = (fraction - done) / self.t_mul ** restart
        cosine = 0.5 * self.m_mul ** restart * (1.0 + math.cos(math.pi * fraction))
        return self.initial_learning_rate * ((1.0 - self.alpha) * cosine + self.alpha)


class StepDecay(LearningRateSchedule):
    """``α_t = α_0 · γ^⌊t / step_size⌋``: multiply by γ every ``step_size`` steps."""

    def __init__(self, initial_learning_rate, step_size, gamma=0.1):
        owner = type(self).__name__
        self.initial_learning_rate = _number(initial_learning_rate, "initial_learning_rate",
                                             owner, 0, strict=True)
        size = _number(step_size, "step_size", owner, 0, strict=True)
        if size != int(size):
            raise ValueError(f"StepDecay step_size must be a whole number of steps; received "
                             f"{step_size!r}")
        self.step_size = int(size)
        self.gamma = _number(gamma, "gamma", owner, 0, strict=True)

    def __call__(self, step):
        return self.initial_learning_rate * self.gamma ** (step // self.step_size)


SCHEDULES = Registry(
    "learning-rate schedule", LearningRateSchedule,
    {"exponential_decay": ExponentialDecay, "inverse_time_decay": InverseTimeDecay,
     "piecewise_constant_decay": PiecewiseConstantDecay, "polynomial_decay": PolynomialDecay,
     "cosine_decay": CosineDecay, "cosine_decay_restarts": CosineDecayRestarts,
     "step_decay": StepDecay},
    aliases={"exponentialdecay": "exponential_decay", "inversetimedecay": "inverse_time_decay",
             "piecewiseconstantdecay": "piecewise_constant_decay",
             "piecewise_constant": "piecewise_constant_decay",
             "polynomialdecay": "polynomial_decay", "cosinedecay": "cosine_decay",
             "cosinedecayrestarts": "cosine_decay_restarts", "sgdr": "cosine_decay_restarts",
             "stepdecay": "step_decay"})
serialize = SCHEDULES.serialize
deserialize = SCHEDULES.deserialize


def get(identifier):
    """A :class:`LearningRateSchedule` from an instance or a config dict.

    A name alone is not enough (every schedule needs its arguments).
    """
    if isinstance(identifier, str):
        raise ValueError(f"a learning-rate schedule must be a LearningRateSchedule or its config "
                         f"{{'class': name, 'config': {{...}}}}; the name {identifier!r} alone "
                         f"gives no arguments")
    return SCHEDULES.get(identifier, "a LearningRateSchedule or its config")
