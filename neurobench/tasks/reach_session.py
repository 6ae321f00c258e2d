"""The single env of the ring reaching tasks, stepped in plain Python.

A :class:`~neurobench.tasks.motor.RingReach` task is closed-loop: each move turns the
agent's position, which the next observation shows. Its engine steps any number of
environments in numpy, and with one environment each step would pay numpy's per-call
overhead some thirty times (about 80 µs, against NeuroGym's 7 µs). Here one environment is
stepped with Python floats, and numpy runs once per trial: the cues a trial shows are
computed for all its periods when it begins, and the inputs that show the agent's own
position are looked up by position (positions recur: every trial starts at the same
place and moves in fixed steps).

It is the engine's step written for one environment: the same draws from the same
generators in the same order, the same floating-point operations (Python's ``%`` is
numpy's ``mod`` on floats), so the single env and a vector env with one environment agree
step for step; a test holds the two together on every reaching task.
"""

from __future__ import annotations

import math
import operator
from typing import TYPE_CHECKING, Any

import numpy as np

from neurobench.core.engine import Session, invalid_discrete_action
from neurobench.core.errors import InvalidActionError
from neurobench.core.rules import OUTCOME_NAMES, Outcome
from neurobench.core.seeding import Seed, child_generator, entropy
from neurobench.core.timing import Constant, to_steps

if TYPE_CHECKING:
    from neurobench.tasks.motor import RingReach

_TWO_PI = 2 * math.pi
_OWN_CACHE = 4096  # positions whose own inputs are kept (cleared when full)
_CORRECT, _FAIL = OUTCOME_NAMES[Outcome.CORRECT], OUTCOME_NAMES[Outcome.FAIL]


def _signed(angle: float) -> float:
    """``motor._signed`` of one angle: wrapped to [-pi, pi)."""
    return (angle + math.pi) % _TWO_PI - math.pi


class RingReachSession(Session):
    """One environment of a ring reaching task (see the module docstring)."""

    task: RingReach
    # the current trial (set by _begin) and step (set by step and _observe)
    _angles: list[float]
    _bounds: list[int]
    _cues: list[np.ndarray]
    _t: int
    _period: int
    _position: float
    _target: int
    _earned: float
    _total: float

    def __init__(self, task: RingReach) -> None:
        from neurobench.tasks.motor import _DOWN, _STAY, _UP, START, STEP

        self.task = task
        self._start, self._half_step, self._stay, self._up, self._down = START, STEP / 2, _STAY, _UP, _DOWN
        self._turns = [0.0] * task.n_actions
        self._turns[_UP], self._turns[_DOWN] = STEP, -STEP
        self._n_actions = task.n_actions
        self._dt = task.dt
        self._durations = [task.durations[p] for p in task.period_names]
        self._fixed = [int(to_steps(d.value, task.dt)) if type(d) is Constant else None for d in self._durations]
        self._scored = task._scored_angle.tolist()
        self._guide = task._guide_angle.tolist()
        self._correct, self._fail = task.rewards["correct"], task.rewards["fail"]  # type: ignore[index]
        self._width = task.width
        self._own: dict[float, np.ndarray] = {}
        self._nature: np.random.Generator | None = None

    # -- the contract --------------------------------------------------------------
    def reset(self, seed: Seed = None) -> tuple[np.ndarray, dict[str, Any]]:
        self.key = entropy(seed)
        self._nature = child_generator(self.key, 0)
        self._next_index = 0
        self._begin()
        return self._observe(), self._info(True)

    def step(self, action: Any) -> tuple[np.ndarray, float, dict[str, Any]]:
        if self._nature is None:
            raise InvalidActionError("call reset() before step()")
        turn = self._turns[self._action(action)]
        gt = self._target
        which = self._scored[self._period]
        position = (self._position + turn) % _TWO_PI
        reward = 0.0
        if which >= 0:
            distance = abs(_signed(position - self._angles[which]))
            paid = max(self._correct - distance, self._fail)
            reward = paid
            self._earned += (paid - self._fail) / self._width
        self._position = position
        self._total += reward
        self._t += 1
        if self._t >= self._end:
            record = self._record()
            self._begin()
            obs, info = self._observe(), self._info(True)
            info["trial"] = record
        else:
            obs, info = self._observe(), self._info(False)
        info["gt"] = gt
        return obs, reward, info

    def restart(self) -> dict[str, Any]:
        if self._nature is None:
            raise InvalidActionError("call reset() before restart()")
        if self._t > 0:
            self._begin()
        obs = self._observe()
        return {**self._info(True), "obs": obs}

    def period(self) -> int:
        return self._period

    # -- internals -----------------------------------------------------------------
    def _action(self, action: Any) -> int:
        try:
            a = -1 if isinstance(action, bool | np.bool_) else operator.index(action)
        except TypeError:
            a = -1
        if not 0 <= a < self._n_actions:
            raise invalid_discrete_action(self.task, action, None)
        return a

    def _begin(self) -> None:
        """The next trial: its durations and angles drawn as the engine's ``begin`` draws
        them for one environment (constant durations draw nothing)."""
        nature = self._nature
        assert nature is not None
        steps = [
            fixed if fixed is not None else int(duration.steps(nature, 1, self._dt)[0])
            for fixed, duration in zip(self._fixed, self._durations, strict=True)
        ]
        angles = nature.uniform(0, _TWO_PI, size=(1, self.task.n_angles))
        self._angles = angles[0].tolist()
        self._bounds = np.cumsum(steps).tolist()
        self._end = self._bounds[-1]
        self._scored_steps = sum(s for s, which in zip(steps, self._scored, strict=True) if which >= 0)
        periods = len(steps)
        self._cues = list(self.task.cue_inputs(np.arange(periods), np.repeat(angles, periods, axis=0)))
        self._index = self._next_index
        self._next_index += 1
        self._t = 0
        self._position = self._start
        self._earned = self._total = 0.0

    def _observe(self) -> np.ndarray:
        """The current step's observation; sets its period and target."""
        t, bounds = self._t, self._bounds
        period = 0
        while period < len(bounds) and bounds[period] <= t:
            period += 1
        self._period = period
        position = self._position
        own = self._own.get(position)
        if own is None:
            if len(self._own) >= _OWN_CACHE:
                self._own.clear()
            own = self._own[position] = self.task.own_inputs(np.array([position]))[0]
        which = self._guide[period]
        self._target = self._stay
        if which >= 0:
            gap = _signed(self._angles[which] - position)
            self._target = self._up if gap > self._half_step else self._down if gap < -self._half_step else self._stay
        return (self._cues[period] + own).astype(np.float32)

    def _info(self, new_trial: bool) -> dict[str, Any]:
        t, period = self._t, self._period
        window = 0
        if self._scored[period] >= 0:
            closing = t == self._bounds[min(period, len(self._bounds) - 1)] - 1
            window = 2 if closing else 1
        return {"target": self._target, "window": window, "step": t, "trial_index": self._index, "new_trial": new_trial}

    def _record(self) -> dict[str, Any]:
        score = self._earned / self._scored_steps
        record = {
            "index": self._index,
            "outcome": _CORRECT if score > 0 else _FAIL,
            "score": score,
            "reward": self._total,
            "response": -1,
            "end_position": self._position,
        }
        angles = self._angles
        if len(angles) == 1:
            record["ground_truth"] = angles[0]
        else:
            record.update({f"ground_truth{k + 1}": angle for k, angle in enumerate(angles)})
        return record
