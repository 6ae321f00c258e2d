"""Value-based decisions: choose by what choices have paid.

Rewards here are stochastic and come from the task's hidden state (arm probabilities,
which second-stage state pays well), which changes across a session: these tasks run
sessions (every environment and Dataset row its own), and their observations hold no
reward feedback, as in NeuroGym: give it to an agent with ``PassReward`` / ``PassAction``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from neurobench.core.channels import Channels
from neurobench.core.checks import check_int, check_number
from neurobench.core.errors import InvalidParameterError
from neurobench.core.registry import TaskSpec
from neurobench.core.rules import AnyChoice, Branching, ResponseRule
from neurobench.core.task import Level, Paper, TimedTask
from neurobench.core.trials import TrialBatch

_BOUND = "bound: always choosing the better option (what the oracle, who knows it, does)"


@dataclass(frozen=True, kw_only=True, eq=False)
class Bandit(TimedTask):
    """A multi-armed bandit (Wang et al. 2018): each trial is one choice among ``n`` arms;
    arm ``i`` pays ``magnitudes[i]`` with probability ``p[i]``.

    With ``p`` given the probabilities are fixed, as in NeuroGym (whose default, 50/50,
    leaves nothing to learn). By default they are drawn for every block of
    ``block_length`` trials of a session, as in the paper's episodes: uniformly, and for
    two ``correlated`` arms ``p2 = 1 - p1``. A trial is correct when the chosen arm is the
    more probable one; the reward is drawn with the trial.
    """

    default_timing: ClassVar = {"choice": 100}
    default_rewards: ClassVar = {"correct": 1.0, "fail": 0.0}

    n: int = 2
    p: tuple[float, ...] | None = None
    magnitudes: tuple[float, ...] | None = None
    block_length: int = 100
    correlated: bool = True

    def validate(self) -> None:
        check_int("n", self.n, minimum=2)
        check_int("block_length", self.block_length, minimum=1)
        for name, values in (("p", self.p), ("magnitudes", self.magnitudes)):
            if values is not None and (len(values) != self.n or not all(isinstance(v, int | float) for v in values)):
                raise InvalidParameterError(f"{name} must be {self.n} numbers (one per arm) or null, got {values!r}")
        if self.p is not None and not all(0 <= v <= 1 for v in self.p):
            raise InvalidParameterError(f"p must be probabilities, got {self.p!r}")

    @property
    def sequential(self) -> bool:
        return self.p is None  # blocks of drawn probabilities belong to a session

    @property
    def hold_periods(self) -> tuple[str, ...]:
        return ()

    @property
    def response_periods(self) -> tuple[str, ...]:
        return ("choice",)

    @property
    def obs_channels(self) -> Channels:
        return Channels(cue=1)

    @property
    def action_channels(self) -> Channels:
        return Channels(**{f"arm{i}": 1 for i in range(self.n)})

    @cached_property
    def observation_space(self) -> gym.spaces.Box:
        return gym.spaces.Box(0.0, 1.0, shape=(1,), dtype=np.float32)

    @cached_property
    def rule(self) -> ResponseRule:
        return AnyChoice(self.rewards)  # type: ignore[arg-type]

    @property
    def answers(self) -> tuple[int, ...]:
        return tuple(range(self.n))

    def payoff_range(self) -> tuple[float, float]:
        return 0.0, float(max(self._magnitudes))

    @property
    def _magnitudes(self) -> np.ndarray:
        return np.ones(self.n) if self.magnitudes is None else np.asarray(self.magnitudes, dtype=float)

    def _draw_p(self, rng: np.random.Generator, size: tuple[int, ...]) -> np.ndarray:
        if self.correlated and self.n == 2:
            first = rng.random(size)
            return np.stack([first, 1 - first], axis=-1)
        return rng.random((*size, self.n))

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        if self.p is None:
            return self.sample_sessions(rng, 1, n, None)[0]
        return self._trials(rng, np.broadcast_to(np.asarray(self.p, dtype=float), (n, self.n)))

    def sample_sessions(self, rng: np.random.Generator, sessions: int, m: int, carry: Any) -> tuple[TrialBatch, Any]:
        position, current, current_block = carry if carry is not None else (0, None, -1)
        block = (position + np.arange(m)) // self.block_length
        fresh = [b for b in np.unique(block).tolist() if b != current_block]
        drawn = self._draw_p(rng, (sessions, len(fresh)))  # [sessions, new blocks, n]
        ids = np.asarray(([current_block] if current is not None else []) + fresh)
        table = drawn if current is None else np.concatenate([current[:, None], drawn], axis=1)
        p = table[:, np.searchsorted(ids, block)].reshape(sessions * m, self.n)
        return self._trials(rng, p), (position + m, table[:, -1], int(ids[-1]))

    def _trials(self, rng: np.random.Generator, p: np.ndarray) -> TrialBatch:
        n = len(p)
        best = np.argmax(p, axis=1)
        trials = self.trials(rng, n)
        trials.set("cue", 0.0)
        trials.answer(best, "choice")
        paid = rng.random((n, self.n)) < p
        trials.payoffs()[:, 0, :] = paid * self._magnitudes
        return trials.build(answer=best, p=p, paid=paid.astype(np.int8))

    def _chance(self) -> Level:
        if self.p is not None:
            return Level(1.0, "exact: with fixed probabilities, always picking the best arm needs no feedback")
        return Level(1 / self.n, "exact: the arms' probabilities are drawn alike, so no arm is more often the best")

    def _ceiling(self) -> Level:
        return Level(1.0, _BOUND, "bound")


@dataclass(frozen=True, kw_only=True, eq=False)
class DawTwoStep(TimedTask):
    """The two-step task (Daw et al. 2011) as NeuroGym has it: a first-stage choice
    (action 1 or 2) leads to second-stage state 1 or 2, commonly (``p_common``) the state
    of the same number; the state is shown on the next step, and the reward it brings is
    paid with the choice. One state pays with probability ``high_reward_p``, the other
    with ``low_reward_p``, and which is which switches with probability ``p_switch`` per
    trial. A first-stage choice is correct when its common transition leads to the
    better state. Fixating at the choice costs 0.1 (a miss); not fixating at the second
    stage costs 0.1.

    The trial lays out both second stages (``outcome1`` after action 1, ``outcome2`` after
    action 2) and visits the one chosen. Each session starts with a random better state
    (NeuroGym always starts with state 1, which a blind "always 1" would exploit).
    """

    default_timing: ClassVar = {"choice": 100, "outcome1": 100, "outcome2": 100}
    default_rewards: ClassVar = {"abort": -0.1, "correct": 1.0, "fail": 0.0, "miss": -0.1}

    p_common: float = 0.8
    p_switch: float = 0.025
    high_reward_p: float = 0.9
    low_reward_p: float = 0.1

    def validate(self) -> None:
        for name in ("p_common", "p_switch", "high_reward_p", "low_reward_p"):
            check_number(name, getattr(self, name), minimum=0)
            if getattr(self, name) > 1:
                raise InvalidParameterError(f"{name} must be a probability, got {getattr(self, name)!r}")
        if self.p_common < 0.5:
            raise InvalidParameterError(
                f"p_common must be >= 0.5 (common transitions are the likelier), got {self.p_common}"
            )

    @property
    def sequential(self) -> bool:
        return True

    @property
    def obs_channels(self) -> Channels:
        return Channels(start=1, state1=1, state2=1)

    @property
    def action_channels(self) -> Channels:
        return Channels(fixation=1, action1=1, action2=1)

    @property
    def hold_periods(self) -> tuple[str, ...]:
        return ("outcome1", "outcome2")

    @property
    def response_periods(self) -> tuple[str, ...]:
        return ("choice",)

    @cached_property
    def rule(self) -> ResponseRule:
        return Branching("choice", {1: "outcome1", 2: "outcome2"}, self.rewards, self.abort)  # type: ignore[arg-type]

    @cached_property
    def mean_steps(self) -> float:
        return (self.timing["choice"].mean + self.timing["outcome1"].mean) / self.dt

    def payoff_range(self) -> tuple[float, float]:
        return min(0.0, self.rewards["correct"]), max(0.0, self.rewards["correct"])  # type: ignore[index]

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        return self.sample_sessions(rng, 1, n, None)[0]

    def sample_sessions(self, rng: np.random.Generator, sessions: int, m: int, carry: Any) -> tuple[TrialBatch, Any]:
        first = rng.integers(2, size=sessions).astype(bool) if carry is None else carry
        switched = np.cumsum(rng.random((sessions, m)) < self.p_switch, axis=1) % 2 == 1
        state1_high = (first[:, None] ^ switched).ravel()
        n = sessions * m
        common = rng.random((n, 2)) < self.p_common
        reached = np.stack(
            [np.where(common[:, 0], 1, 2), np.where(common[:, 1], 2, 1)], axis=1
        )  # state after actions 1, 2
        high = np.where(state1_high, 1, 2)
        p_paid = np.where(reached == high[:, None], self.high_reward_p, self.low_reward_p)
        paid = rng.random((n, 2)) < p_paid
        trials = self.trials(rng, n)
        trials.set("start", 1.0, "choice")
        for k, period in enumerate(("outcome1", "outcome2")):
            trials.set("state1", reached[:, k] == 1, period)
            trials.set("state2", reached[:, k] == 2, period)
        trials.answer(high, "choice")
        trials.payoffs()[:, 0, 1:] = paid * self.rewards["correct"]  # type: ignore[index]
        batch = trials.build(
            ground_truth=high,
            answer=high,
            state_after1=reached[:, 0],
            state_after2=reached[:, 1],
            paid1=paid[:, 0],
            paid2=paid[:, 1],
        )
        return batch, (state1_high.reshape(sessions, m)[:, -1])

    def _chance(self) -> Level:
        return Level(0.5, "exact: each session starts with a random better state and switches symmetrically")

    def _ceiling(self) -> Level:
        return Level(1.0, _BOUND, "bound")


SPECS = [
    TaskSpec(
        "Bandit",
        0,
        Bandit,
        {},
        "value",
        ("n-alternative", "value-based", "reward learning"),
        Paper(
            "Wang et al. (2018)",
            "Prefrontal cortex as a meta-reinforcement learning system",
            "https://www.nature.com/articles/s41593-018-0147-8",
        ),
    ),
    TaskSpec(
        "DawTwoStep",
        0,
        DawTwoStep,
        {},
        "value",
        ("two-alternative", "value-based", "model-based", "closed loop"),
        Paper(
            "Daw et al. (2011)",
            "Model-based influences on humans' choices and striatal prediction errors",
            "https://www.sciencedirect.com/science/article/pii/S0896627311001255",
        ),
    ),
]
