"""Motor: report a position or a direction (continuous actions)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import ClassVar

import gymnasium as gym
import numpy as np

from neurobench.agents.base import Agent
from neurobench.core.channels import Channels
from neurobench.core.checks import check_number
from neurobench.core.errors import InvalidParameterError
from neurobench.core.registry import TaskSpec
from neurobench.core.rules import ContinuousReport, ResponseRule
from neurobench.core.task import Level, Paper, TimedTask
from neurobench.core.trials import TrialBatch

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
    ),
]
