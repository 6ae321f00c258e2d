"""Motor: report a position, a direction or a distribution, or steer one's own position.

Three kinds of tasks live here. ``ReachingDelayResponse`` reports a remembered position
once, with a ``Box`` action. ``SpatialSuppressMotion`` reports a distribution at every
step (a rule of this module, :class:`ReportEveryStep`, scores each step). The ring
reaching tasks (``Reaching1D``, ``Reaching1DWithSelfDistraction``, ``AngleReproduction``)
are closed loops: each action turns the agent's own position on a ring by 0.05 rad, and
the observation shows that position, so they are :class:`~neurobench.core.step.StepTask`
s stepped for all environments at once; a trial's score is NeuroGym's performance, the
mean over the scored steps of the reward ``max(correct - distance, fail)`` rescaled to
[0, 1].
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from neurobench.agents.base import Agent
from neurobench.core.channels import Channels
from neurobench.core.checks import check_int, check_number
from neurobench.core.engine import Session
from neurobench.core.errors import InvalidParameterError, UnknownNameError
from neurobench.core.registry import TaskSpec
from neurobench.core.rules import (
    CORRECT_CODE,
    FAIL_CODE,
    GO_CODE,
    LAST,
    NEXT_CODE,
    ContinuousReport,
    Kind,
    Move,
    Outcome,
    Response,
    ResponseRule,
)
from neurobench.core.step import Now, State, StepOutcome, StepTask
from neurobench.core.task import Level, Paper, TimedTask
from neurobench.core.timing import Constant, Derived, Duration, parse_duration, to_steps
from neurobench.core.trials import TrialBatch, TrialBuilder
from neurobench.tasks.working_memory import durations_of

HOLD_VALUE = -0.5  # what the stimulus input and the target position show outside the stimulus


@dataclass(frozen=True, kw_only=True, eq=False)
class ReachingDelayResponse(TimedTask):
    """Remember a position shown during the stimulus and report it after a delay.

    The action is continuous, ``[go, position]`` in ``[-1, 1]``: ``go < 0`` holds
    fixation, ``go > 0`` reports ``position`` and ends the trial, with reward
    ``correct / (1 + |error|) ** 2``; the report counts as correct when ``|error| <
    tolerance``. Fixation (``go < 0``) is required during the stimulus; the ``go`` input
    turns on in the decision period. Positions are uniform in ``[lowbound, highbound]``.
    """

    default_timing: ClassVar = {"stimulus": 500, "delay": (0, 1000, 2000), "decision": 500}
    default_rewards: ClassVar = {"abort": -0.1, "correct": 1.0, "fail": 0.0, "miss": -0.5}

    lowbound: float = 0.0
    highbound: float = 1.0
    tolerance: float = 0.1

    def validate(self) -> None:
        check_number("lowbound", self.lowbound)
        check_number("highbound", self.highbound)
        check_number("tolerance", self.tolerance, minimum=1e-9)
        if not (HOLD_VALUE < self.lowbound < self.highbound <= 1.0):
            raise InvalidParameterError(
                f"ReachingDelayResponse needs {HOLD_VALUE} < lowbound < highbound <= 1 (the action's range), got "
                f"lowbound={self.lowbound}, highbound={self.highbound}"
            )

    @property
    def hold_periods(self) -> tuple[str, ...]:
        return ("stimulus",)

    @property
    def obs_channels(self) -> Channels:
        return Channels(go=1, stimulus=1)

    @property
    def action_channels(self) -> Channels:
        return Channels(go=1, position=1)

    @cached_property
    def observation_space(self) -> gym.spaces.Box:
        return gym.spaces.Box(np.array([0.0, HOLD_VALUE], np.float32), np.array([1.0, self.highbound], np.float32))

    @cached_property
    def action_space(self) -> gym.spaces.Box:
        return gym.spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)

    @cached_property
    def rule(self) -> ResponseRule:
        return ContinuousReport(self.hold_periods, "decision", self.rewards, self.tolerance, self.abort)  # type: ignore[arg-type]

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        position = rng.uniform(self.lowbound, self.highbound, size=n)
        trials = self.trials(rng, n)
        trials.set("stimulus", position, "stimulus")
        trials.set("stimulus", HOLD_VALUE, "delay", "decision")
        trials.set("go", 1.0, "decision")
        trials.answer(np.array([-1.0, HOLD_VALUE]), "stimulus", "delay")
        trials.answer(np.stack([np.ones(n), position], axis=1), "decision")
        return trials.build(ground_truth=position)

    def _chance(self) -> Level:
        width = self.highbound - self.lowbound
        return Level(min(1.0, 2 * self.tolerance / width), "exact: reporting the middle of the range every trial")

    def blind_policy(self) -> Agent:
        from neurobench.agents.reference import ConstantReport

        return ConstantReport((self.lowbound + self.highbound) / 2)


class ReportEveryStep(ResponseRule):
    """A continuous report at every step of ``window`` (``Box`` actions), nothing ends early.

    ``measure(target, action)`` gives each step's error and reward (arrays over leading
    axes); a step is correct when its error is below ``tolerance``, and a trial, whose
    outcome is the worst of its steps, is correct when every scored step is. Steps outside
    the window are free. ``measure_one``, if given, is the same measure on one step's
    lists of floats (equal up to rounding), which the single env calls: numpy on a
    4-vector costs ten times more than Python.
    """

    continuous = True

    def __init__(
        self,
        window: str,
        measure: Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]],
        tolerance: float,
        measure_one: Callable[[Sequence[float], Sequence[float]], tuple[float, float]] | None = None,
    ) -> None:
        self.window, self.measure, self.tolerance = window, measure, float(tolerance)
        self.measure_one = measure_one

    def phases(self, trials: TrialBuilder) -> tuple[np.ndarray, np.ndarray | None]:
        phase = np.zeros((trials.n, trials.max_length), dtype=np.int8)
        trials.paint(phase, Kind.GO, self.window)
        start, end = trials.periods[self.window]
        rows = np.flatnonzero(end > start)
        phase[rows, end[rows] - 1] |= LAST
        return phase, None

    def respond(self, phase: np.ndarray, target: np.ndarray, action: np.ndarray) -> Response:
        phase = np.asarray(phase)
        go = (phase & 7) == Kind.GO
        error, pay = self.measure(np.asarray(target, dtype=np.float64), np.asarray(action, dtype=np.float64))
        event = np.where(go, np.where(error < self.tolerance, Outcome.CORRECT, Outcome.FAIL), Outcome.NONE)
        reward = np.where(go, pay, 0.0)
        return Response(reward, event.astype(np.int8), np.full(phase.shape, Move.NEXT, dtype=np.int8))

    def respond_one(self, phase: int, target: Any, action: Any) -> tuple[float, int, int]:
        """:meth:`respond` for one step (the single env's path)."""
        if phase & 7 != GO_CODE:
            return 0.0, 0, 0
        if self.measure_one is not None:
            error, pay = self.measure_one(target, action)
            return pay, (CORRECT_CODE if error < self.tolerance else FAIL_CODE), NEXT_CODE
        reward, event, _ = self.respond(np.array([phase]), np.asarray(target)[None], np.asarray(action)[None])
        return float(reward[0]), int(event[0]), NEXT_CODE


class ConstantVector(Agent):
    """The same continuous action at every step: a stimulus-blind report."""

    name: ClassVar[str] = "constant_vector"

    def __init__(self, value: np.ndarray) -> None:
        self.value = np.asarray(value, dtype=np.float32)

    def act(self, obs: np.ndarray, state: Any, info: Mapping[str, np.ndarray]) -> tuple[np.ndarray, Any]:
        return np.broadcast_to(self.value, (len(obs), len(self.value))).copy(), state


class StepTable(Agent):
    """A continuous action that depends only on the step of the trial (``table[step]``):
    a stimulus-blind report that follows a time course."""

    name: ClassVar[str] = "step_table"

    def __init__(self, table: np.ndarray) -> None:
        self.table = np.asarray(table, dtype=np.float32)

    def act(self, obs: np.ndarray, state: Any, info: Mapping[str, np.ndarray]) -> tuple[np.ndarray, Any]:
        step = np.minimum(np.asarray(info["step"]), len(self.table) - 1)
        return self.table[step], state


# Human choice probabilities of Tadin et al. (2003) as NeuroGym tabulates them, per frame
# of 8.3 ms (a 120 Hz display): P(correct direction) and P(opposite direction) for the
# large high-contrast and the small low-contrast grating; the two orthogonal directions
# share the rest.
_FRAME_MS = 8.3
_FRAMES = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 14, 17, 20, 27, 35, 36, 37, 38], dtype=float)
_FLAT = [0.249] * 7
_HUMAN = {
    0.99: (
        [*_FLAT, 0.249, 0.249, 0.249, 0.27, 0.32, 0.4583, 0.65, 0.85, 0.99, 0.99, 0.99, 0.99],
        [*_FLAT, 0.249, 0.29, 0.31, 0.4, 0.475, 0.4167, 0.3083, 0.075, 0.04, 0.04, 0.03, 0.03],
    ),
    0.05: (
        [*_FLAT, 0.25, 0.26, 0.2583, 0.325, 0.45, 0.575, 0.875, 0.933, 0.99, 0.99, 0.99, 0.99],
        [*_FLAT, 0.25, 0.26, 0.2583, 0.267, 0.1417, 0.1167, 0.058, 0.016, 0.003, 0.003, 0.003, 0.003],
    ),
}
_DIAMETER = {0.99: 8, 0.05: 1}  # large high-contrast and small low-contrast gratings
_DIRECTIONS = np.array([-np.pi / 2, np.pi / 2, 0.0, np.pi])  # left, right, up, down (NeuroGym's 1-4)
_OPPOSITE = np.array([1, 0, 3, 2])
_POOL = 8  # units per direction pool (one per unit of stimulus size)


def human_choices(contrast: float, time_ms: np.ndarray) -> np.ndarray:
    """``[T, 3]`` P(correct), P(opposite), P(each orthogonal) at times ``time_ms`` of a
    grating of ``contrast``: NeuroGym's piecewise-linear curves (constant beyond the last
    frame, where NeuroGym's extrapolation is flat too), with negative orthogonal
    probabilities clipped to 0 and the rest renormalised."""
    corr_table, anti_table = _HUMAN[contrast]
    frame = np.asarray(time_ms, dtype=float) / _FRAME_MS
    corr, anti = np.interp(frame, _FRAMES, corr_table), np.interp(frame, _FRAMES, anti_table)
    ortho = np.maximum((1 - corr - anti) / 2, 0.0)
    total = corr + anti + 2 * ortho
    return np.stack([corr, anti, ortho], axis=1) / total[:, None]


def choice_distribution(direction: np.ndarray, contrast: float, time_ms: np.ndarray) -> np.ndarray:
    """``[n, T, 4]`` human choice probabilities over the four directions, per trial."""
    curve = human_choices(contrast, time_ms)  # [T, 3]
    direction = np.asarray(direction)
    out = np.empty((len(direction), len(curve), 4))
    out[:] = curve[None, :, 2:3]
    rows = np.arange(len(direction))
    out[rows, :, direction] = curve[None, :, 0]
    out[rows, :, _OPPOSITE[direction]] = curve[None, :, 1]
    return out


def _total_variation(target: np.ndarray, action: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Total-variation distance between the reported distribution (the action, normalised;
    uniform if it is all zero) and the target one; the step's reward is minus it."""
    total = action.sum(axis=-1, keepdims=True)
    reported = np.where(total > 0, action / np.where(total > 0, total, 1.0), 1.0 / action.shape[-1])
    distance = 0.5 * np.abs(reported - target).sum(axis=-1)
    return distance, -distance


def _total_variation_one(target: Sequence[float], action: Sequence[float]) -> tuple[float, float]:
    """:func:`_total_variation` of one step, in plain Python."""
    total = sum(action)
    reported = [a / total for a in action] if total > 0 else [1.0 / len(action)] * len(action)
    distance = 0.5 * sum(abs(r - t) for r, t in zip(reported, target, strict=True))
    return distance, -distance


@dataclass(frozen=True, kw_only=True, eq=False)
class SpatialSuppressMotion(TimedTask):
    """Report, frame by frame, how often humans see each motion direction (Tadin et al. 2003).

    A grating drifts left, right, up or down for the whole trial (one ``stimulus``
    period, no fixation and no decision). It is either small and low-contrast (contrast
    0.05, diameter 1) or large and high-contrast (0.99, diameter 8): centre-surround
    suppression makes the large high-contrast one *harder* to see, so human accuracy rises
    more slowly with duration. The input is four pools of 8 units, one pool per direction
    (``left, right, up, down``), each unit one unit of size: the pool of direction ``d``
    shows ``contrast * (1 + cos(d - motion)) / 2`` on its first ``diameter`` units.

    The action is the choice distribution over the four directions (``Box`` of 4,
    normalised; all zero reads as uniform), and the target, at every step, the human
    probabilities after that much viewing time. A step is correct when the reported
    distribution is within ``tolerance`` of the human one in total variation, and a trial
    when every step is; each step pays minus that distance. Noise-free: the oracle reports
    the target, ceiling 1. A blind report cannot know the direction, and the human
    distributions of different directions drift apart by more than twice the tolerance
    (parameters where they do not are refused), so the best blind report follows one
    direction's curve and is right on 1/4 of the trials if one report can serve both
    gratings of that direction within tolerance at every step, else on 1/8.
    """

    dt: float = _FRAME_MS
    tolerance: float = 0.1

    default_timing: ClassVar = {"stimulus": 300}
    default_rewards: ClassVar = {}
    contrasts: ClassVar[tuple[float, ...]] = (0.05, 0.99)

    def validate(self) -> None:
        check_number("tolerance", self.tolerance, minimum=1e-9)
        if not isinstance(durations_of(self)["stimulus"], Constant):
            raise InvalidParameterError(
                f"timing['stimulus'] of {self.name} must be a constant duration (the human curves follow viewing "
                f"time), got {durations_of(self)['stimulus'].spec()}"
            )
        if self._blind_sets()[1]:
            raise InvalidParameterError(
                f"{self.name} with a stimulus of {durations_of(self)['stimulus'].mean:g} ms and tolerance "
                f"{self.tolerance:g}: the human choices of different directions stay within twice the tolerance, so "
                f"a report that ignores the stimulus could pass; lengthen the stimulus or lower the tolerance"
            )

    @property
    def response_periods(self) -> tuple[str, ...]:
        return ("stimulus",)

    @property
    def obs_channels(self) -> Channels:
        return Channels(left=_POOL, right=_POOL, up=_POOL, down=_POOL)

    @property
    def action_channels(self) -> Channels:
        return Channels(left=1, right=1, up=1, down=1)

    @cached_property
    def observation_space(self) -> gym.spaces.Box:
        return gym.spaces.Box(0.0, 1.0, shape=(4 * _POOL,), dtype=np.float32)

    @cached_property
    def action_space(self) -> gym.spaces.Box:
        return gym.spaces.Box(0.0, 1.0, shape=(4,), dtype=np.float32)

    @cached_property
    def rule(self) -> ResponseRule:
        return ReportEveryStep("stimulus", _total_variation, self.tolerance, _total_variation_one)

    def payoff_range(self) -> tuple[float, float]:
        return -1.0, 0.0

    @cached_property
    def _times(self) -> np.ndarray:
        steps = int(to_steps(durations_of(self)["stimulus"].mean, self.dt))
        return np.arange(steps) * self.dt

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        direction = rng.integers(4, size=n)
        grating = rng.integers(len(self.contrasts), size=n)
        contrast = np.asarray(self.contrasts)[grating]
        diameter = np.array([_DIAMETER[c] for c in self.contrasts])[grating]
        drive = (np.cos(_DIRECTIONS[None, :] - _DIRECTIONS[direction][:, None]) + 1) * contrast[:, None] / 2
        sized = np.arange(_POOL)[None, :] < diameter[:, None]  # [n, 8]: the units the grating covers
        trials = self.trials(rng, n)
        for k, pool in enumerate(self.obs_channels):
            trials.set(pool, drive[:, k : k + 1] * sized, "stimulus")
        target = np.zeros((n, len(self._times), 4))
        for k, c in enumerate(self.contrasts):
            rows = np.flatnonzero(grating == k)
            target[rows] = choice_distribution(direction[rows], c, self._times)
        trials.target[:, : len(self._times)] = target
        return trials.build(direction=direction + 1, contrast=contrast, diameter=diameter)

    def _blind_sets(self) -> tuple[bool, bool]:
        """Which stimulus-blind reports exist that pass every step: (one for both gratings
        of a direction, one for gratings of different directions)."""
        curves = {c: choice_distribution(np.arange(4), c, self._times) for c in self.contrasts}  # [4, T, 4]
        low, high = curves[self.contrasts[0]], curves[self.contrasts[1]]
        both = float((0.5 * np.abs(low[0] - high[0]).sum(axis=-1)).max()) < 2 * self.tolerance
        every = np.concatenate([low, high])  # 8 conditions
        distance = 0.5 * np.abs(every[:, None] - every[None, :]).sum(axis=-1).max(axis=-1)  # worst step per pair
        different = np.arange(8)[:, None] % 4 != np.arange(8)[None, :] % 4
        return both, bool((distance[different] < 2 * self.tolerance).any())

    def _chance(self) -> Level:
        both = self._blind_sets()[0]
        how = "one report serves both gratings of a direction" if both else "no report serves both gratings"
        return Level(0.25 if both else 0.125, f"exact: following one direction's human curve ({how})")

    def blind_policy(self) -> Agent:
        low, high = (choice_distribution(np.zeros(1, int), c, self._times)[0] for c in self.contrasts)
        return StepTable((low + high) / 2 if self._blind_sets()[0] else high)


STEP = 0.05  # rad the position turns per move (NeuroGym's)
START = np.pi  # where the position starts every trial
_TWO_PI = 2 * np.pi
_STAY, _UP, _DOWN = 0, 1, 2  # actions: keep still, turn +STEP, turn -STEP


def _signed(angle: np.ndarray) -> np.ndarray:
    """Angles wrapped to [-pi, pi)."""
    return np.mod(np.asarray(angle) + np.pi, _TWO_PI) - np.pi


def _ring_units(n: int) -> np.ndarray:
    return np.arange(n) * (_TWO_PI / n)


def _decode(units: np.ndarray, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Angle and strength of ring inputs ``[n, k]`` shaped ``cos(theta - angle)``."""
    z = units.astype(np.float64) @ np.exp(1j * theta)
    return np.mod(np.angle(z), _TWO_PI), np.abs(z)


def _toward(goal: np.ndarray, position: np.ndarray) -> np.ndarray:
    """The move that brings ``position`` closest to ``goal`` (keep still within half a move)."""
    gap = _signed(goal - position)
    return np.where(gap > STEP / 2, _UP, np.where(gap < -STEP / 2, _DOWN, _STAY)).astype(np.int64)


def blind_reach(width: float) -> float:
    """Expected rescaled reward ``max(width - d, 0) / width`` of a reach ``d`` from an angle
    drawn uniformly on the circle (``d`` uniform on [0, pi]): what any stimulus-blind
    trajectory earns per scored step."""
    return width / (2 * np.pi) if width <= np.pi else 1 - np.pi / (2 * width)


_QUADRATURE = 1 << 16  # midpoints of the distance to the target, for greedy reach values


def greedy_reach(moves: np.ndarray, width: float) -> np.ndarray:
    """Expected rescaled reward ``max(width - gap, 0) / width`` after ``j`` informed moves
    (one value per ``j`` in ``moves``) toward an angle placed uniformly relative to the
    start: the gap to the closest lattice point ``START + STEP * m``, ``|m| <= j``, which
    moving straight at the angle reaches; midpoint quadrature over the start distance
    (error below 1e-9)."""
    distance = (np.arange(_QUADRATURE) + 0.5) * (np.pi / _QUADRATURE)
    out = []
    for j in np.asarray(moves).ravel().tolist():
        gaps = []
        for turns in (-1, 0, 1):  # the angle seen the other way round the ring
            x = distance + turns * _TWO_PI
            gaps.append(np.abs(x - STEP * np.clip(np.round(x / STEP), -j, j)))
        gap = np.minimum.reduce(gaps)
        out.append(float(np.maximum(width - gap, 0.0).mean() / width))
    return np.array(out)


@dataclass(frozen=True, kw_only=True, eq=False)
class RingReach(StepTask):
    """Base of the ring reaching tasks: periods in the order of ``default_timing``, angles
    drawn uniformly per trial, a position on the ring that starts at pi and that actions
    1 and 2 turn by +-0.05 rad (action 0 keeps it), and scored periods, each paying
    ``max(correct - distance(position, its angle), fail)`` at every step, after the move.
    Subclasses say which period shows and which scores which angle, and what is seen."""

    dt: float = 100.0
    timing: Mapping[str, Any] | None = None
    rewards: Mapping[str, float] | None = None

    default_timing: ClassVar[Mapping[str, Any]]
    default_rewards: ClassVar[Mapping[str, float]] = {"correct": 1.0, "fail": -0.1}
    scored: ClassVar[Mapping[str, int]]  # period -> the angle it pays the distance to
    guide: ClassVar[Mapping[str, int]]  # period -> the angle the target move heads for
    n_angles: ClassVar[int] = 1

    def __post_init__(self) -> None:
        check_number("dt", self.dt, minimum=1e-9)
        object.__setattr__(self, "dt", float(self.dt))
        object.__setattr__(self, "timing", {p: d.spec() for p, d in self._resolve(self.timing).items()})
        rewards = dict(self.default_rewards)
        if self.rewards is not None and not isinstance(self.rewards, Mapping):
            raise InvalidParameterError(f"rewards of {self.name} must map outcomes to numbers, got {self.rewards!r}")
        for key, value in dict(self.rewards or {}).items():
            if key not in rewards:
                raise UnknownNameError(f"reward of {self.name}", key, rewards)
            check_number(f"rewards[{key!r}]", value)
            rewards[key] = float(value)
        if not rewards["correct"] > rewards["fail"]:
            raise InvalidParameterError(
                f"rewards of {self.name}: 'correct' ({rewards['correct']}) must exceed 'fail' ({rewards['fail']})"
            )
        object.__setattr__(self, "rewards", rewards)
        if sum(int(to_steps(self.durations[p].bounds[0], self.dt)) for p in self.scored) < 1:
            raise InvalidParameterError(
                f"timing of {self.name}: the scored periods {sorted(self.scored)} can last less than one step of "
                f"dt = {self.dt:g} ms together, so a trial could score nothing"
            )
        self.validate()

    def _resolve(self, given: Mapping[str, Any] | None) -> dict[str, Duration]:
        if given is not None and not isinstance(given, Mapping):
            raise InvalidParameterError(f"timing of {self.name} must map periods to durations, got {given!r}")
        given = dict(given or {})
        for period in given:
            if period not in self.default_timing:
                raise UnknownNameError(f"period in timing of {self.name}", period, self.default_timing)
        resolved = {p: parse_duration(given.get(p, d), p) for p, d in self.default_timing.items()}
        for period, duration in resolved.items():
            if isinstance(duration, Derived):
                raise InvalidParameterError(f"timing[{period!r}] of {self.name}: derived durations are not supported")
        return resolved

    def validate(self) -> None:
        """Task-specific parameter checks."""

    # -- layout ------------------------------------------------------------------------
    @cached_property
    def durations(self) -> dict[str, Duration]:
        return {p: parse_duration(spec, p) for p, spec in self.timing.items()}  # type: ignore[union-attr]

    @property
    def period_names(self) -> tuple[str, ...]:
        return tuple(self.default_timing)

    @cached_property
    def action_channels(self) -> Channels:
        return Channels(fixation=1, left=1, right=1)

    @cached_property
    def action_space(self) -> gym.spaces.Discrete:
        return gym.spaces.Discrete(3)

    @cached_property
    def width(self) -> float:
        """``correct - fail``: the distance beyond which a step earns nothing."""
        return self.rewards["correct"] - self.rewards["fail"]  # type: ignore[index]

    def _per_period(self, mapping: Mapping[str, int]) -> np.ndarray:
        return np.array([mapping.get(p, -1) for p in self.period_names], dtype=np.int64)

    @cached_property
    def _scored_angle(self) -> np.ndarray:
        return self._per_period(self.scored)

    @cached_property
    def _guide_angle(self) -> np.ndarray:
        return self._per_period(self.guide)

    def cue_inputs(self, period: np.ndarray, angles: np.ndarray) -> np.ndarray:
        """What the task shows ``[n, D]`` (float64) in each environment's ``period`` of a
        trial with these ``angles``: zero on the inputs ``own_inputs`` writes."""
        raise NotImplementedError

    def own_inputs(self, position: np.ndarray) -> np.ndarray:
        """How each environment's own ``position`` is seen ``[n, D]`` (float64). The
        observation is ``cue_inputs + own_inputs`` cast to float32: the split lets the
        single env compute the cues once per trial and look the position's part up."""
        raise NotImplementedError

    # -- the step ------------------------------------------------------------------------
    def session(self) -> Session:
        from neurobench.tasks.reach_session import RingReachSession

        return RingReachSession(self)

    def init(self, n: int, rng: np.random.Generator) -> State:
        periods = len(self.period_names)
        return {
            "t": np.zeros(n, dtype=np.int64),
            "bounds": np.ones((n, periods + 1), dtype=np.int64),
            "angles": np.zeros((n, self.n_angles)),
            "position": np.full(n, START),
            "earned": np.zeros(n),
            "reward": np.zeros(n),
            "scored_steps": np.ones(n, dtype=np.int64),
        }

    def begin(self, state: State, envs: np.ndarray, nature: np.random.Generator, play: np.random.Generator) -> State:
        m = len(envs)
        steps = np.stack([self.durations[p].steps(nature, m, self.dt) for p in self.period_names], axis=1)
        state["bounds"][envs] = np.concatenate([np.zeros((m, 1), dtype=np.int64), np.cumsum(steps, axis=1)], axis=1)
        state["angles"][envs] = nature.uniform(0, _TWO_PI, size=(m, self.n_angles))
        state["t"][envs] = 0
        state["position"][envs] = START
        state["earned"][envs] = 0.0
        state["reward"][envs] = 0.0
        state["scored_steps"][envs] = (steps * (self._scored_angle >= 0)).sum(axis=1)
        return state

    def _period(self, state: State) -> np.ndarray:
        return (state["bounds"][:, 1:] <= state["t"][:, None]).sum(axis=1)

    def step(
        self, state: State, actions: np.ndarray, nature: np.random.Generator, play: np.random.Generator
    ) -> tuple[State, StepOutcome]:
        period = self._period(state)
        turn = np.where(actions == _UP, STEP, np.where(actions == _DOWN, -STEP, 0.0))
        position = np.mod(state["position"] + turn, _TWO_PI)
        which = self._scored_angle[period]
        scoring = which >= 0
        goal = state["angles"][np.arange(len(which)), np.maximum(which, 0)]
        distance = np.abs(_signed(position - goal))
        correct, fail = self.rewards["correct"], self.rewards["fail"]  # type: ignore[index]
        paid = np.maximum(correct - distance, fail)
        reward = np.where(scoring, paid, 0.0)
        earned = state["earned"] + np.where(scoring, (paid - fail) / self.width, 0.0)
        total = state["reward"] + reward
        t = state["t"] + 1
        ended = t >= state["bounds"][:, -1]
        score = earned / state["scored_steps"]
        new = {**state, "t": t, "position": position, "earned": earned, "reward": total}
        trials = {
            "outcome": np.where(score > 0, Outcome.CORRECT, Outcome.FAIL).astype(np.int8),
            "score": score,
            "reward": total.copy(),
            "response": np.full(len(t), -1, dtype=np.int64),
            "end_position": position.copy(),
            **self.conditions(state["angles"]),
        }
        return new, StepOutcome(reward, ended, trials)

    def conditions(self, angles: np.ndarray) -> dict[str, np.ndarray]:
        if self.n_angles == 1:
            return {"ground_truth": angles[:, 0].copy()}
        return {f"ground_truth{k + 1}": angles[:, k].copy() for k in range(self.n_angles)}

    def observe(self, state: State) -> tuple[np.ndarray, Now]:
        t, bounds = state["t"], state["bounds"]
        period = self._period(state)
        n = len(t)
        obs = (self.cue_inputs(period, state["angles"]) + self.own_inputs(state["position"])).astype(np.float32)
        which = self._guide_angle[period]
        goal = state["angles"][np.arange(n), np.maximum(which, 0)]
        target = np.where(which >= 0, _toward(goal, state["position"]), _STAY)
        scoring = self._scored_angle[period] >= 0
        closing = t == bounds[np.arange(n), np.minimum(period + 1, bounds.shape[1] - 1)] - 1
        window = np.where(scoring, np.where(closing, 2, 1), 0).astype(np.int8)
        return obs, Now(target, window, t.copy(), period.astype(np.int16))

    # -- scores --------------------------------------------------------------------------
    def _chance(self) -> Level:
        return Level(
            blind_reach(self.width),
            "exact: the angles are uniform and independent of any stimulus-blind trajectory, so every scored step "
            "earns the mean rescaled reward of a uniformly placed angle",
        )

    def blind_policy(self) -> Agent:
        return Stay()

    def reach_steps(self, period: str) -> np.ndarray:
        """Equally likely step counts of ``period``."""
        return to_steps(self.durations[period].representative(), self.dt)


class Stay(Agent):
    """Never moves: a stimulus-blind trajectory (all of them score the same)."""

    name: ClassVar[str] = "stay"

    def act(self, obs: np.ndarray, state: Any, info: Mapping[str, np.ndarray]) -> tuple[np.ndarray, Any]:
        return np.zeros(len(obs), dtype=np.int64), state


@dataclass(frozen=True, kw_only=True, eq=False)
class Reaching1D(RingReach):
    """Reach toward a direction shown on a ring, steering one's own position (Georgopoulos
    et al. 1986).

    Two periods: ``fixation`` (nothing to see) and ``reach``, where the ``target`` units
    show ``cos(theta_i - angle)`` on a ring of ``dim_ring`` units; the ``position`` units
    show the agent's own position the same way at every step. Every reach step pays
    ``max(correct - distance, fail)`` after that step's move, so the agent must turn its
    position (0.05 rad per move) toward the angle. The target action is the move toward the
    angle during the reach.

    Chance is exact: whatever a blind agent does, the angle is uniform relative to where it
    is. The ceiling is exact too: the observation gives the angle at the reach's first
    step, and moving straight at it (then keeping still) reaches at every step the closest
    position any policy can, so it maximises every step's reward at once; its value is a
    one-dimensional integral. With NeuroGym's defaults the reach lasts 5 steps (0.25 rad of
    turning), so both are low: about 0.175 and 0.222.
    """

    dim_ring: int = 16

    default_timing: ClassVar = {"fixation": 500, "reach": 500}
    scored: ClassVar = {"reach": 0}
    guide: ClassVar = {"reach": 0}

    def validate(self) -> None:
        check_int("dim_ring", self.dim_ring, minimum=3)

    @cached_property
    def obs_channels(self) -> Channels:
        return Channels(target=self.dim_ring, position=self.dim_ring)

    @cached_property
    def observation_space(self) -> gym.spaces.Box:
        return gym.spaces.Box(-1.0, 1.0, shape=(2 * self.dim_ring,), dtype=np.float32)

    @cached_property
    def _theta(self) -> np.ndarray:
        return _ring_units(self.dim_ring)

    def cue_inputs(self, period: np.ndarray, angles: np.ndarray) -> np.ndarray:
        shown = period == self.period_names.index("reach")
        cues = np.zeros((len(period), 2 * self.dim_ring))
        cues[:, : self.dim_ring] = np.cos(self._theta[None, :] - angles[:, :1]) * shown[:, None]
        return cues

    def own_inputs(self, position: np.ndarray) -> np.ndarray:
        own = np.zeros((len(position), 2 * self.dim_ring))
        own[:, self.dim_ring :] = np.cos(self._theta[None, :] - position[:, None])
        return own

    def read_angle(self, obs: np.ndarray, position: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The angle an observation shows, and whether it shows one."""
        angle, strength = _decode(obs[:, : self.dim_ring], self._theta)
        return angle, strength > 0.25 * self.dim_ring

    def _ceiling(self) -> Level:
        lengths = self.reach_steps("reach")
        per_length = [greedy_reach(np.arange(1, k + 1), self.width).mean() for k in lengths.tolist()]
        return Level(
            float(np.mean(per_length)),
            "exact: moving straight at the angle from the reach's first step is closest at every step; integrated "
            "over the uniformly drawn angle",
        )

    def ideal_observer(self) -> Agent:
        return RingReacher()


@dataclass(frozen=True, kw_only=True, eq=False)
class Reaching1DWithSelfDistraction(Reaching1D):
    """Reaching1D where one's own position drowns the target (NeuroGym's electric-fish idea).

    One ring of 32 units carries both: ``cos(theta_i - position)`` at every step plus, in
    the ``reach`` period, ``0.3 cos(theta_i - angle)``, weaker than the agent's own
    signal, as a mormyrid fish's own electric discharge swamps its electroreceptors (Bell
    1981: an efference copy of the command cancels it; NeuroGym cites no paper). An agent
    that keeps track of its own moves can subtract its own signal the same way, so chance
    and ceiling are those of Reaching1D; the ideal observer does exactly that.
    """

    dim_ring: int = 32
    signal: ClassVar[float] = 0.3

    def validate(self) -> None:
        if self.dim_ring != 32:
            raise InvalidParameterError(f"{self.name} has a ring of 32 units, got dim_ring={self.dim_ring!r}")

    @cached_property
    def obs_channels(self) -> Channels:
        return Channels(stimulus=self.dim_ring)

    @cached_property
    def observation_space(self) -> gym.spaces.Box:
        bound = 1.0 + self.signal
        return gym.spaces.Box(-bound, bound, shape=(self.dim_ring,), dtype=np.float32)

    def cue_inputs(self, period: np.ndarray, angles: np.ndarray) -> np.ndarray:
        shown = period == self.period_names.index("reach")
        return self.signal * np.cos(self._theta[None, :] - angles[:, :1]) * shown[:, None]

    def own_inputs(self, position: np.ndarray) -> np.ndarray:
        return np.cos(self._theta[None, :] - position[:, None])

    def read_angle(self, obs: np.ndarray, position: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rest = obs.astype(np.float64) - np.cos(self._theta[None, :] - position[:, None])
        angle, strength = _decode(rest, self._theta)
        return angle, strength > 0.25 * self.signal * self.dim_ring


class RingReacher(Agent):
    """The ideal observer of the reaching tasks: keeps track of its own position (it starts
    at pi and moves as its actions say), reads the angle from the observation and moves
    straight at it."""

    name: ClassVar[str] = "ideal"

    def prepare(self, task: Any) -> None:
        self.task = task

    def initial_state(self, num_envs: int, *, seed: int) -> dict[str, np.ndarray]:
        return {"moves": np.zeros(num_envs, dtype=np.int64), "goal": np.full(num_envs, np.nan)}

    def act(self, obs: np.ndarray, state: dict[str, np.ndarray], info: Mapping[str, np.ndarray]) -> tuple[Any, Any]:
        new = np.asarray(info["new_trial"])
        moves = np.where(new, 0, state["moves"])
        goal = np.where(new, np.nan, state["goal"])
        position = np.mod(START + STEP * moves, _TWO_PI)
        angle, shown = self.task.read_angle(obs, position)
        goal = np.where(shown, angle, goal)
        action = np.where(np.isnan(goal), _STAY, _toward(np.nan_to_num(goal), position))
        moves = moves + (action == _UP) - (action == _DOWN)
        return action, {"moves": moves, "goal": goal}


_GRID = (180, 360)  # angle midpoints (go1 over [0, pi] by symmetry, go2 over the circle) of the planning value
_COARSE = (90, 180)  # the grid the quadrature error is estimated against


def plan_values(
    first: np.ndarray, second: np.ndarray, lead: int, n1: int, n2: int, span: int, width: float, policy: bool = False
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Dynamic programming once both angles are known (at stim2's onset).

    ``first[i]`` and ``second[i]`` are the go1 and go2 angles of case ``i`` relative to
    the start; the stage runs ``lead`` unscored steps, then ``n1`` steps paid by the first
    angle and ``n2`` by the second. Returns the best total rescaled reward of every
    position ``START + STEP * m`` (``|m| <= span``) at the stage's start, ``[N, 2 span +
    1]``, and with ``policy`` the best move per step and position."""
    offsets = STEP * np.arange(-span, span + 1)
    near = [np.maximum(width - np.abs(_signed(offsets[None, :] - a[:, None])), 0.0) / width for a in (first, second)]
    value = np.zeros((len(first), 2 * span + 1))
    moves: list[np.ndarray] = []
    blocked = np.full((len(first), 1), -np.inf)
    for s in reversed(range(lead + n1 + n2)):
        after = value + near[1] if s >= lead + n1 else value + near[0] if s >= lead else value
        up = np.concatenate([after[:, 1:], blocked], axis=1)  # from m, a move up lands on m + 1
        down = np.concatenate([blocked, after[:, :-1]], axis=1)
        options = np.stack([after, up, down])  # indexed by action: stay, up, down
        value = options.max(axis=0)
        if policy:
            moves.append(options.argmax(axis=0).astype(np.int8))
    return value, moves[::-1]


@dataclass(frozen=True, kw_only=True, eq=False)
class AngleReproduction(RingReach):
    """Reproduce two angles, in order, after seeing both (Ding et al. 2017).

    Seven periods: ``fixation``, ``stim1`` (the ``stimulus`` ring of 16 units shows the
    first angle), ``delay1``, ``stim2`` (the second angle), ``delay2``, then ``go1`` and
    ``go2`` (a ``go1`` or ``go2`` input on), where each step pays ``max(correct -
    distance, fail)`` between the agent's position and the first, then the second angle.
    The ``position`` ring shows the agent's own position, which it turns by 0.05 rad per
    move at any time, so it can start moving toward the first angle as soon as it sees it.
    The target action is the move toward the angle to reproduce next.

    Chance is exact (blind trajectories cannot depend on the uniform angles). The ceiling
    is the optimal policy's value, computed by dynamic programming over the lattice of
    reachable positions: once both angles are known, exactly; before the second is shown,
    the position at its onset is chosen to maximise the expectation over it. The
    expectations over the angles are midpoint quadratures (a labelled estimate whose error
    is the difference to a coarser grid); with random period durations, the programme
    knows them in advance, so it becomes an upper bound. The ideal observer plays that
    policy.
    """

    default_timing: ClassVar = {
        "fixation": 500,
        "stim1": 500,
        "delay1": 500,
        "stim2": 500,
        "delay2": 500,
        "go1": 500,
        "go2": 500,
    }
    scored: ClassVar = {"go1": 0, "go2": 1}
    guide: ClassVar = {"stim1": 0, "delay1": 0, "stim2": 0, "delay2": 0, "go1": 0, "go2": 1}
    n_angles: ClassVar[int] = 2
    dim_ring: ClassVar[int] = 16

    def validate(self) -> None:
        for period in ("stim1", "stim2"):
            if to_steps(self.durations[period].bounds[0], self.dt) < 1:
                raise InvalidParameterError(
                    f"timing[{period!r}] of {self.name} can last less than one step of dt = {self.dt:g} ms: the "
                    f"angle it shows would be unseen"
                )

    @cached_property
    def obs_channels(self) -> Channels:
        return Channels(stimulus=self.dim_ring, position=self.dim_ring, go1=1, go2=1)

    @cached_property
    def observation_space(self) -> gym.spaces.Box:
        return gym.spaces.Box(-1.0, 1.0, shape=(self.obs_channels.size,), dtype=np.float32)

    @cached_property
    def _theta(self) -> np.ndarray:
        return _ring_units(self.dim_ring)

    def cue_inputs(self, period: np.ndarray, angles: np.ndarray) -> np.ndarray:
        c, names = self.obs_channels, self.period_names
        cues = np.zeros((len(period), c.size))
        for k, stim in enumerate(("stim1", "stim2")):
            shown = period == names.index(stim)
            cues[shown, c["stimulus"]] = np.cos(self._theta[None, :] - angles[shown, k : k + 1])
        cues[:, c["go1"].start] = period == names.index("go1")
        cues[:, c["go2"].start] = period == names.index("go2")
        return cues

    def own_inputs(self, position: np.ndarray) -> np.ndarray:
        own = np.zeros((len(position), self.obs_channels.size))
        own[:, self.obs_channels["position"]] = np.cos(self._theta[None, :] - position[:, None])
        return own

    def stage_steps(self, pick: Callable[[str], int]) -> tuple[int, int, int, int]:
        """(moves from stim1's onset to stim2's, unscored steps from stim2's onset, go1, go2)."""
        return pick("stim1") + pick("delay1"), pick("stim2") + pick("delay2"), pick("go1"), pick("go2")

    def planned_steps(self) -> tuple[int, int, int, int]:
        """The stage lengths the ideal observer plans with (the mean durations)."""
        return self.stage_steps(lambda p: int(to_steps(self.durations[p].mean, self.dt)))

    def first_stage(self, steps: tuple[int, int, int, int], grid: tuple[int, int]) -> tuple[np.ndarray, float]:
        """The value ``[Na, 2 span + 1]`` of each position at stim2's onset for each first
        angle of the grid (expectation over the second), and the optimal total value."""
        lead1, lead, n1, n2 = steps
        na, nb = grid
        first = (np.arange(na) + 0.5) * (np.pi / na)
        second = (np.arange(nb) + 0.5) * (_TWO_PI / nb) - np.pi
        span = lead1 + lead + n1 + n2
        value, _ = plan_values(np.repeat(first, nb), np.tile(second, na), lead, n1, n2, span, self.width)
        expected = value.reshape(na, nb, -1).mean(axis=1)
        reachable = np.abs(np.arange(-span, span + 1)) <= lead1
        best = np.where(reachable[None, :], expected, -np.inf).max(axis=1)
        return expected, float(best.mean() / (n1 + n2))

    @cached_property
    def plan(self) -> np.ndarray:
        """The first-stage values the ideal observer plans with."""
        return self.first_stage(self.planned_steps(), _GRID)[0]

    def _ceiling(self) -> Level:
        picks = [self.reach_steps(p) for p in ("stim1", "delay1", "stim2", "delay2", "go1", "go2")]
        combos = np.stack(np.meshgrid(*picks, indexing="ij"), axis=-1).reshape(-1, len(picks))
        names = ("stim1", "delay1", "stim2", "delay2", "go1", "go2")
        if len(combos) == 1:
            steps = self.stage_steps(dict(zip(names, combos[0].tolist(), strict=True)).__getitem__)
            fine, coarse = (self.first_stage(steps, grid)[1] for grid in (_GRID, _COARSE))
            return Level(
                fine,
                f"estimate: dynamic programming of the optimal policy, angles integrated on a {_GRID[0]} x "
                f"{_GRID[1]} grid (error: the difference to a {_COARSE[0]} x {_COARSE[1]} grid)",
                "estimate",
                max(abs(fine - coarse), 1e-5),
            )
        chosen = combos[np.random.default_rng(0).choice(len(combos), min(len(combos), 8), replace=False)]
        values = []
        for combo in chosen:
            named = dict(zip(names, combo.tolist(), strict=True))
            values.append(self.first_stage(self.stage_steps(named.__getitem__), _COARSE)[1])
        se = float(np.std(values, ddof=1) / np.sqrt(len(values))) if len(values) > 1 else 0.0
        return Level(
            float(np.mean(values)),
            f"bound: dynamic programming that knows the period durations in advance, over {len(values)} equally "
            f"likely duration draws",
            "bound",
            se,
        )

    def ideal_observer(self) -> Agent:
        return AngleReproducer()


class AngleReproducer(Agent):
    """The ideal observer of AngleReproduction: reads each angle at its stimulus' onset and
    plays the task's optimal policy (see AngleReproduction), keeping track of its own
    position."""

    name: ClassVar[str] = "ideal"

    def prepare(self, task: Any) -> None:
        self.task = task
        self.lead1, self.lead, self.n1, self.n2 = task.planned_steps()
        self.span = self.lead1 + self.lead + self.n1 + self.n2
        self.table = task.plan  # [Na, 2 span + 1]

    def initial_state(self, num_envs: int, *, seed: int) -> dict[str, np.ndarray]:
        n = num_envs
        return {
            "moves": np.zeros(n, dtype=np.int64),
            "seen": np.zeros(n, dtype=np.int64),
            "showing": np.zeros(n, dtype=bool),
            "last": np.zeros(n),
            "first": np.zeros(n),
            "aim": np.zeros(n, dtype=np.int64),
            "since": np.zeros(n, dtype=np.int64),
            "policy": np.zeros((n, self.lead + self.n1 + self.n2, 2 * self.span + 1), dtype=np.int8),
        }

    def _aim(self, first: np.ndarray) -> np.ndarray:
        """The best position at stim2's onset for first angles ``first`` (relative to the start)."""
        na = len(self.table)
        mirrored = first < 0  # the value of m at angle a is that of -m at -a
        at = np.abs(first) / (np.pi / na) - 0.5
        low = np.clip(np.floor(at).astype(np.int64), 0, na - 1)
        high = np.minimum(low + 1, na - 1)
        frac = np.clip(at - low, 0.0, 1.0)[:, None]
        value = (1 - frac) * self.table[low] + frac * self.table[high]
        value = np.where(mirrored[:, None], value[:, ::-1], value)
        reachable = np.abs(np.arange(-self.span, self.span + 1)) <= self.lead1
        return np.where(reachable[None, :], value, -np.inf).argmax(axis=1) - self.span

    def act(self, obs: np.ndarray, state: dict[str, np.ndarray], info: Mapping[str, np.ndarray]) -> tuple[Any, Any]:
        state = {k: v.copy() for k, v in state.items()}
        new = np.asarray(info["new_trial"])
        for key in ("moves", "seen", "showing", "since"):
            state[key][new] = 0
        c = self.task.obs_channels
        angle, strength = _decode(obs[:, c["stimulus"]], self.task._theta)
        shown = strength > 0.25 * self.task.dim_ring
        changed = np.abs(_signed(angle - state["last"])) > 1e-3  # (stimuli back to back)
        onset = shown & (~state["showing"] | changed)
        state["showing"], state["last"] = shown, np.where(shown, angle, state["last"])
        state["seen"] += onset
        relative = _signed(angle - START)
        first = np.flatnonzero(onset & (state["seen"] == 1))
        if len(first):
            state["first"][first] = relative[first]
            state["aim"][first] = self._aim(relative[first])
        second = np.flatnonzero(onset & (state["seen"] == 2))
        if len(second):
            _, moves = plan_values(
                state["first"][second], relative[second], self.lead, self.n1, self.n2, self.span, self.task.width, True
            )
            state["policy"][second] = np.stack(moves, axis=1)
            state["since"][second] = 0
        rows = np.arange(len(obs))
        toward_aim = np.where(state["moves"] < state["aim"], _UP, np.where(state["moves"] > state["aim"], _DOWN, _STAY))
        step = np.minimum(state["since"], state["policy"].shape[1] - 1)
        planned = state["policy"][rows, step, np.clip(state["moves"] + self.span, 0, 2 * self.span)]
        action = np.where(state["seen"] >= 2, planned, np.where(state["seen"] == 1, toward_aim, _STAY)).astype(np.int64)
        state["since"] += state["seen"] >= 2
        state["moves"] += (action == _UP).astype(np.int64) - (action == _DOWN)
        return action, state


_RING_FIXES = (
    "Rewards are paid against the drawn angle; NeuroGym stores it in its integer ground-truth array and paid the "
    "distance to the angle truncated to whole radians.",
    "The target is an action (the move toward the angle); NeuroGym's ground truth is the angle, outside its action "
    "space.",
    "reset() plays no hidden step; NeuroGym's reset takes one random action, which moves the first trial's position.",
)

SPECS = [
    TaskSpec(
        "ReachingDelayResponse",
        0,
        ReachingDelayResponse,
        {},
        "motor",
        ("perceptual", "delayed response", "continuous action space", "multidimensional action space", "supervised"),
        Paper(
            "Funahashi et al. (1989)",
            "Mnemonic coding of visual space in the monkey's dorsolateral prefrontal cortex",
            "https://journals.physiology.org/doi/10.1152/jn.1989.61.2.331",
        ),
        deviations=(
            "The action space is Box([-1, 1]^2): NeuroGym's unbounded Box fails Gymnasium's checker, and go < 0"
            " / go > 0 keeps its meaning.",
        ),
    ),
    TaskSpec(
        "Reaching1D",
        0,
        Reaching1D,
        {},
        "motor",
        ("motor", "steps action space", "closed loop"),
        Paper(
            "Georgopoulos et al. (1986)",
            "Neuronal population coding of movement direction",
            "https://science.sciencemag.org/content/233/4771/1416",
        ),
        deviations=_RING_FIXES,
    ),
    TaskSpec(
        "Reaching1DWithSelfDistraction",
        0,
        Reaching1DWithSelfDistraction,
        {},
        "motor",
        ("motor", "steps action space", "closed loop"),
        Paper(  # NeuroGym cites none; the electric-fish finding its description alludes to
            "Bell (1981)",
            "An efference copy which is modified by reafferent input",
            "https://www.science.org/doi/10.1126/science.7291985",
        ),
        deviations=_RING_FIXES,
    ),
    TaskSpec(
        "AngleReproduction",
        0,
        AngleReproduction,
        {},
        "motor",
        ("perceptual", "working memory", "delayed response", "steps action space", "closed loop"),
        Paper(
            "Ding et al. (2017)",
            "Visual perception as retrospective Bayesian decoding from high- to low-level features",
            "https://www.pnas.org/content/114/43/E9115.short",
        ),
        deviations=(
            "NeuroGym 2.3.1's step raises a TypeError (it writes the position into a string placeholder), so the task "
            "never ran; this is the task its code describes, the position input showing the position at every step "
            "as in Reaching1D.",
            *_RING_FIXES[:2],
        ),
    ),
    TaskSpec(
        "SpatialSuppressMotion",
        0,
        SpatialSuppressMotion,
        {},
        "motor",
        ("perceptual", "plaid", "motion", "center-surround", "continuous action space", "supervised"),
        Paper(
            "Tadin et al. (2003)",
            "Perceptual consequences of centre-surround antagonism in visual motion processing",
            "https://www.nature.com/articles/nature01800",
        ),
        deviations=(
            "Each step pays minus the total-variation distance between the reported and the human choice "
            "distribution, and a trial is correct when every step is within tolerance (a parameter added here); "
            "NeuroGym pays nothing and defines no success, and its unused rewards parameter is not accepted.",
            "Negative probabilities of NeuroGym's high-contrast curve (down to -0.015, outside its own action space) "
            "are clipped to 0 and the distribution renormalised.",
            "The human curves are read at each step's time in frames of 8.3 ms, so they stay right at any dt; "
            "NeuroGym reads them by step index.",
        ),
    ),
]
