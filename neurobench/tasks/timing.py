"""Timing: measure an interval, then produce it, paid by how close the production is.

The production window is one response window: a go inside the tolerated error ends the
trial correct, with a reward graded by the error (NeuroGym's profile: ``max((1 -
error / tolerance) ** 1.5, 0.1)``, tolerance ``prod_margin * interval + 25 ms``); a go
outside it fails; no go is a miss. The target (what the oracle and a supervised network
output) is the step whose production error is smallest.
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
from neurobench.core.registry import TaskSpec
from neurobench.core.rules import ResponseRule, TimingWindow
from neurobench.core.task import Level, Paper, TimedTask
from neurobench.core.timing import to_steps
from neurobench.core.trials import TrialBatch, TrialBuilder

TIMING_REWARDS = {"abort": -0.1, "correct": 1.0, "fail": 0.0, "miss": 0.0}


def graded_reward(error_ms: np.ndarray, tolerance_ms: np.ndarray, correct: float) -> np.ndarray:
    """NeuroGym's reward of a production error inside the tolerance (0 outside)."""
    inside = error_ms <= tolerance_ms
    closeness = np.clip(1 - error_ms / tolerance_ms, 0.0, 1.0)
    return np.where(inside, np.maximum(closeness**1.5, 0.1) * correct, 0.0)


def paint_production(
    task: TimedTask, trials: TrialBuilder, window: str, since: np.ndarray, interval: np.ndarray
) -> None:
    """Fill the production ``window`` of a timing task: per step, the production time is
    ``since`` ms before the window's first step plus the steps into it; on-time steps
    (error within the tolerance) get the graded payoff of a go, the others the fail
    reward, and the target is the step of the smallest error."""
    start, end = trials.periods[window]
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
        timing = self.timing
        measure = timing["measure"].mean
        return (timing["fixation"].mean + measure + timing["set"].mean + 2 * self.gain * measure) / self.dt

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        timing = self.timing
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
    from neurobench.tasks.working_memory import _floor_distribution

    law = _floor_distribution(task.timing[interval_period], task.dt)
    since = task.timing["set"].bounds[0] if "set" in task.timing else 0.0
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
    ),
]
