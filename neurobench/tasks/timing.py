"""Timing: measure or learn an interval, then produce it, paid by how close the production is.

The production window is one response window: a go inside the tolerated error ends the
trial correct, with a reward graded by the error (NeuroGym's profile: ``max((1 -
error / tolerance) ** 1.5, 0.1)``, tolerance ``prod_margin * interval + 25 ms``); a go
outside it fails; no go is a miss. The target (what the oracle and a supervised network
output) is the step whose production error is smallest. Chance is the best go at a fixed
step of the window whatever the interval (the window's opening is the cue every agent
sees); these tasks are noise-free, so the ceiling is the share of intervals that some
step produces on time (1 unless the tolerance is below half a step).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import numpy as np

from neurobench.agents.base import Agent
from neurobench.core.channels import Channels
from neurobench.core.checks import check_number
from neurobench.core.errors import InvalidParameterError
from neurobench.core.registry import TaskSpec
from neurobench.core.rules import ResponseRule, TimingWindow
from neurobench.core.task import Level, Paper, TimedTask
from neurobench.core.timing import to_steps
from neurobench.core.trials import TrialBatch, TrialBuilder
from neurobench.tasks.working_memory import _floor_distribution, durations_of

TIMING_REWARDS = {"abort": -0.1, "correct": 1.0, "fail": 0.0, "miss": 0.0}


def graded_reward(error_ms: np.ndarray, tolerance_ms: np.ndarray, correct: float) -> np.ndarray:
    """NeuroGym's reward of a production error inside the tolerance (0 outside)."""
    inside = error_ms <= tolerance_ms
    closeness = np.clip(1 - error_ms / tolerance_ms, 0.0, 1.0)
    return np.where(inside, np.maximum(closeness**1.5, 0.1) * correct, 0.0)


def paint_production(
    task: TimedTask,
    trials: TrialBuilder,
    window: str | tuple[str, ...],
    since: np.ndarray,
    interval: np.ndarray,
) -> None:
    """Fill the production ``window`` (a period, or consecutive periods) of a timing task:
    per step, the production time is ``since`` ms before the window's first step plus the
    steps into it; on-time steps (error within the tolerance) get the graded payoff of a
    go, the others the fail reward, and the target is the step of the smallest error."""
    names = (window,) if isinstance(window, str) else tuple(window)
    start, end = trials.periods[names[0]][0], trials.periods[names[-1]][1]
    t = np.arange(trials.max_length)[None, :]
    produced = since[:, None] + (t - start[:, None]) * task.dt
    error = np.abs(produced - interval[:, None])
    tolerance = (task.prod_margin * interval + 25)[:, None]  # type: ignore[attr-defined]
    inside = (t >= start[:, None]) & (t < end[:, None])
    on_time = inside & (error <= tolerance)
    payoff = trials.payoffs()
    payoff[..., 1] = np.where(on_time, graded_reward(error, tolerance, task.rewards["correct"]), task.rewards["fail"])  # type: ignore[index]
    best = np.argmin(np.where(inside, error, np.inf), axis=1)
    target = np.zeros_like(trials.target)
    target[np.arange(trials.n), best] = 1
    trials.target[...] = np.where(inside, target, trials.target)
    trials.on_time = on_time  # type: ignore[attr-defined]


@dataclass(frozen=True, kw_only=True, eq=False)
class ReadySetGo(TimedTask):
    """Ready-set-go: reproduce an interval (times ``gain``) after the set cue.

    A ready flash, then a set flash ``measure`` ms after the ready's onset; the agent must
    go ``gain * measure`` ms after the set's onset. As in NeuroGym the production window
    lasts twice the interval to produce, and fixation is held only during the fixation
    period. ``measure`` is the interval from the ready onset, so the ``measure`` period of a
    trial is what follows the ready flash.
    """

    dt: float = 80.0
    gain: float = 1.0
    prod_margin: float = 0.2

    default_timing: ClassVar = {
        "fixation": 100,
        "ready": 83,
        "measure": ("uniform", (800, 1500)),
        "set": 83,
        "production": ("derived", {"of": "measure", "factor": 2.0}),
    }
    default_rewards: ClassVar = TIMING_REWARDS

    def validate(self) -> None:
        check_number("gain", self.gain, minimum=1e-9)
        check_number("prod_margin", self.prod_margin, minimum=0)

    @property
    def response_periods(self) -> tuple[str, ...]:
        return ("production",)

    @property
    def obs_channels(self) -> Channels:
        return Channels(fixation=1, ready=1, set=1)

    @property
    def action_channels(self) -> Channels:
        return Channels(fixation=1, go=1)

    @cached_property
    def rule(self) -> ResponseRule:
        return TimingWindow(self.hold_periods, self.response_periods, self.rewards, self.abort)  # type: ignore[arg-type]

    @cached_property
    def mean_steps(self) -> float:
        timing = durations_of(self)
        measure = timing["measure"].mean
        return (timing["fixation"].mean + measure + timing["set"].mean + 2 * self.gain * measure) / self.dt

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        timing = durations_of(self)
        ready_steps = timing["ready"].steps(rng, n, self.dt)
        measure_ms = timing["measure"].steps(rng, n, self.dt) * self.dt
        interval = measure_ms * self.gain
        steps = {
            "ready": ready_steps,
            "measure": np.maximum(to_steps(measure_ms, self.dt) - ready_steps, 0),
            "production": to_steps(2 * interval, self.dt),
        }
        trials = self.trials(rng, n, steps)
        trials.set("fixation", 1.0, "fixation", "ready", "measure", "set")
        trials.set("ready", 1.0, "ready")
        trials.set("set", 1.0, "set")
        set_ms = trials.steps["set"] * self.dt
        paint_production(self, trials, "production", set_ms, interval)
        return trials.build(measure=measure_ms, gain=np.full(n, self.gain), production=interval, answer=np.ones(n, int))

    def _chance(self) -> Level:
        return best_fixed_production(self, "measure", self.gain)[0]

    def blind_policy(self) -> Agent:
        return ProduceAt(best_fixed_production(self, "measure", self.gain)[1])


def best_fixed_production(task: TimedTask, interval_period: str, gain: float) -> tuple[Level, int]:
    """Exact: a blind policy goes at a fixed step of the production window, whatever the
    interval; the best such step is on time for the largest share of intervals. Returns
    its success and the step (counted from the window's first)."""
    timing = durations_of(task)
    law = _floor_distribution(timing[interval_period], task.dt)
    since = timing["set"].bounds[0] if "set" in timing else 0.0
    margin = task.prod_margin  # type: ignore[attr-defined]
    best, best_step = 0.0, 0
    for k in range(int(2 * max(law) * gain) + 1):
        produced = since + k * task.dt
        p = sum(
            w
            for steps, w in law.items()
            if abs(produced - steps * task.dt * gain) <= margin * steps * task.dt * gain + 25
        )
        if p > best:
            best, best_step = p, k
    return Level(best, f"exact: going at step {best_step} of the production window whatever the interval"), best_step


class ProduceAt(Agent):
    """Goes at step ``k`` of every production window, whatever the interval: the best
    stimulus-blind timing policy (it reads only when the window opens)."""

    name: ClassVar[str] = "produce_at"

    def __init__(self, k: int) -> None:
        self.k = k

    def initial_state(self, num_envs: int, *, seed: int) -> np.ndarray:
        return np.full(num_envs, -1, dtype=np.int64)

    def act(self, obs: np.ndarray, state: np.ndarray, info: Mapping[str, np.ndarray]) -> tuple[np.ndarray, Any]:
        window = np.asarray(info["window"]) > 0
        state = np.where(np.asarray(info["new_trial"]) | ~window, -1, state)
        state = np.where(window, state + 1, state)
        return np.where(window & (state == self.k), 1, 0), state


def _on_time(task: TimedTask, intervals: np.ndarray, since: float, window: np.ndarray) -> np.ndarray:
    """Boolean ``[K, m]``: going at step ``k`` of the production window (``since`` ms after
    the interval began at its first step) is on time for interval ``j`` (``window[j]`` steps
    long)."""
    k = np.arange(int(window.max()) if len(window) else 0)[:, None]
    error = np.abs(since + k * task.dt - intervals[None, :])
    return (error <= task.prod_margin * intervals[None, :] + 25) & (k < window[None, :])  # type: ignore[attr-defined]


def blind_go(
    task: TimedTask, intervals: np.ndarray, weights: np.ndarray, since: float, window: np.ndarray
) -> tuple[Level, int]:
    """Exact chance of a timing task whose interval to produce is ``intervals[j]`` ms with
    probability ``weights[j]``: the best stimulus-blind policy goes at one fixed step of
    the window, on time for the largest share of intervals. Returns that share and step."""
    share = _on_time(task, intervals, since, window).astype(np.float64) @ weights
    best = int(np.argmax(share))
    return Level(
        float(share[best]), f"exact: going at step {best} of the production window whatever the interval"
    ), best


def reachable_share(
    task: TimedTask, intervals: np.ndarray, weights: np.ndarray, since: float, window: np.ndarray
) -> Level:
    """Exact ceiling of a noise-free timing task: the share of intervals that some step of
    their window produces on time (what the oracle, going at the step of smallest error,
    gets right)."""
    share = float(_on_time(task, intervals, since, window).any(axis=0) @ weights)
    return Level(share, "exact (noise-free): the oracle goes at the step of smallest error, on time when any step is")


@dataclass(frozen=True, kw_only=True, eq=False)
class IntervalProduction(TimedTask):
    """Base of timing tasks that produce one of finitely many intervals, timed from the
    first step of their window (the go, fixation and payoff of ReadySetGo; NeuroGym's
    dt of 80 ms and ``prod_margin`` of 0.2). Subclasses give the law of the interval."""

    dt: float = 80.0
    prod_margin: float = 0.2

    default_rewards: ClassVar = TIMING_REWARDS

    def validate(self) -> None:
        check_number("prod_margin", self.prod_margin, minimum=0)

    @property
    def action_channels(self) -> Channels:
        return Channels(fixation=1, go=1)

    @cached_property
    def rule(self) -> ResponseRule:
        return TimingWindow(self.hold_periods, self.response_periods, self.rewards, self.abort)  # type: ignore[arg-type]

    def interval_law(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The intervals to produce (ms), their probabilities, and their windows' lengths (steps)."""
        raise NotImplementedError

    def _chance(self) -> Level:
        intervals, weights, window = self.interval_law()
        return blind_go(self, intervals, weights, 0.0, window)[0]

    def _ceiling(self) -> Level:
        intervals, weights, window = self.interval_law()
        return reachable_share(self, intervals, weights, 0.0, window)

    def blind_policy(self) -> Agent:
        intervals, weights, window = self.interval_law()
        return ProduceAt(blind_go(self, intervals, weights, 0.0, window)[1])


@dataclass(frozen=True, kw_only=True, eq=False)
class MotorTiming(IntervalProduction):
    """Cue-set-go: produce the interval a cue names (800 or 1500 ms) after a set flash.

    Wang et al. (2018) trained monkeys to produce one of two intervals, instructed by the
    colour of a cue, after a set flash. A ``fixation`` period, then the ``cue``: the
    fixation input and one of two ``interval`` units (which interval) stay on through the
    cue and the ``set`` flash; at the set's offset everything turns off and the
    ``production`` window opens, lasting twice the interval. The go is timed from the
    window's first step, paid by NeuroGym's graded profile (see the module). Fixation is
    required in the fixation period only, as in NeuroGym (the paper's second manipulation,
    the effector, is not modelled there either).

    NeuroGym's set flash lasts 50 ms, which floors to no step at its dt of 80 ms: here a
    flash lasts at least one step, so the set input exists at every dt.
    """

    intervals: ClassVar[tuple[float, ...]] = (800.0, 1500.0)
    default_timing: ClassVar = {
        "fixation": 500,
        "cue": ("uniform", (1000, 3000)),
        "set": 50,
        "production": ("choice", [1600.0, 3000.0]),  # twice the interval (set by the cue, not here)
    }

    def validate(self) -> None:
        super().validate()
        if durations_of(self)["production"].spec() != ["choice", [2 * i for i in self.intervals]]:
            raise InvalidParameterError(
                f"timing['production'] of {self.name} lasts twice the cued interval ({list(self.intervals)} ms) "
                f"and cannot be set"
            )

    @property
    def response_periods(self) -> tuple[str, ...]:
        return ("production",)

    @property
    def obs_channels(self) -> Channels:
        return Channels(fixation=1, interval=len(self.intervals), set=1)

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        which = rng.integers(len(self.intervals), size=n)
        interval = np.asarray(self.intervals)[which]
        steps = {
            "set": np.maximum(durations_of(self)["set"].steps(rng, n, self.dt), 1),
            "production": to_steps(2 * interval, self.dt),
        }
        trials = self.trials(rng, n, steps)
        trials.set("fixation", 1.0, "fixation", "cue", "set")
        trials.set("interval", np.eye(len(self.intervals))[which], "cue", "set")
        trials.set("set", 1.0, "set")
        paint_production(self, trials, "production", np.zeros(n), interval)
        return trials.build(production_ind=which, production=interval, answer=np.ones(n, int))

    def interval_law(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        intervals = np.asarray(self.intervals)
        return intervals, np.full(len(intervals), 1 / len(intervals)), to_steps(2 * intervals, self.dt)


@dataclass(frozen=True, kw_only=True, eq=False)
class OneTwoThreeGo(IntervalProduction):
    """1-2-3-go: three flashes an interval apart; go one more interval after the third.

    Egger et al. (2019): after fixation and a target, flashes ``s1``, ``s2`` and ``s3``
    are separated by the same interval (600 to 1000 ms, one per trial); the agent goes one
    interval after the third. The window to go spans ``interval3`` and ``response``:
    going at the step where ``response`` begins (one interval after ``s3``) is the best,
    paid by NeuroGym's graded profile; fixation must be held until ``s3`` ends. As in
    NeuroGym the fixation input stays on through the whole trial and the target input
    from the target's onset: the go is timed, never cued.
    """

    default_timing: ClassVar = {
        "fixation": ("truncated_exponential", (400, 100, 800)),
        "target": ("truncated_exponential", (1000, 500, 1500)),
        "s1": 100,
        "interval1": (600, 700, 800, 900, 1000),
        "s2": 100,
        "interval2": ("derived", {"of": "interval1"}),
        "s3": 100,
        "interval3": ("derived", {"of": "interval1"}),
        "response": 1000,
    }

    def validate(self) -> None:
        super().validate()
        for period in ("interval2", "interval3"):
            if durations_of(self)[period].spec() != ["derived", {"of": ["interval1"], "factor": 1.0, "offset": 0.0}]:
                raise InvalidParameterError(
                    f"timing[{period!r}] of {self.name} repeats interval1 (the interval to produce) and cannot be set"
                )

    @property
    def hold_periods(self) -> tuple[str, ...]:
        return ("fixation", "target", "s1", "interval1", "s2", "interval2", "s3")

    @property
    def response_periods(self) -> tuple[tuple[str, ...], ...]:
        return (("interval3", "response"),)

    @property
    def obs_channels(self) -> Channels:
        return Channels(fixation=1, stimulus=1, target=1)

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        trials = self.trials(rng, n)
        interval = trials.ms["interval1"]
        trials.set("fixation", 1.0)
        trials.set("stimulus", 1.0, "s1", "s2", "s3")
        trials.set("target", 1.0, *self.periods[1:])
        paint_production(self, trials, ("interval3", "response"), np.zeros(n), interval)
        return trials.build(interval=interval, answer=np.ones(n, int))

    def interval_law(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        law = _floor_distribution(durations_of(self)["interval1"], self.dt)
        steps = np.array(list(law))
        shortest_response = int(to_steps(durations_of(self)["response"].bounds[0], self.dt))
        return steps * self.dt, np.array(list(law.values())), steps + shortest_response


SPECS = [
    TaskSpec(
        "ReadySetGo",
        0,
        ReadySetGo,
        {},
        "timing",
        ("timing", "go-no-go", "graded reward", "supervised"),
        Paper(
            "Remington et al. (2018)",
            "Flexible sensorimotor computations through rapid reconfiguration of cortical dynamics",
            "https://www.sciencedirect.com/science/article/pii/S0896627318304185",
        ),
        deviations=(
            "The target (what the oracle and a supervised network output) is the step of the smallest "
            "production error; NeuroGym's ground truth goes one set-flash duration late.",
            "The interval shown, from the ready flash's onset to the set flash's, is `measure`, the one to produce "
            "(NeuroGym shows the ready flash and then a `measure`-long gap: 83 ms more than it asks to produce).",
        ),
    ),
    TaskSpec(
        "MotorTiming",
        0,
        MotorTiming,
        {},
        "timing",
        ("timing", "go-no-go", "graded reward", "supervised"),
        Paper(
            "Wang et al. (2018)",
            "Flexible timing by temporal scaling of cortical responses",
            "https://www.nature.com/articles/s41593-017-0028-6",
        ),
        deviations=(
            "The set flash lasts at least one step: NeuroGym's 50 ms floors to no step at its dt of 80 ms, so its set "
            "input never turned on (trials are one step longer at dt = 80 ms).",
            "The target is go at the one step of smallest production error; NeuroGym's is step int(interval / dt), "
            "60 ms early for the 1500 ms interval at dt = 80 ms.",
        ),
    ),
    TaskSpec(
        "OneTwoThreeGo",
        0,
        OneTwoThreeGo,
        {},
        "timing",
        ("timing", "go-no-go", "graded reward", "supervised"),
        Paper(
            "Egger et al. (2019)",
            "Internal models of sensorimotor integration regulate cortical dynamics",
            "https://www.nature.com/articles/s41593-019-0500-6",
        ),
        deviations=(
            "The target is go at the first step of the response period only (the interval produced exactly); "
            "NeuroGym's target is go through the whole response period, most of which is paid less or fails.",
            "interval2 and interval3 repeat interval1 and refuse other timings; NeuroGym accepts and ignores them.",
        ),
    ),
]
