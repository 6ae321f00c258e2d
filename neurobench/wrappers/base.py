"""``TaskWrapper``: a task made by transforming the trials of another.

Modifiers that change *trials* (reaction time, noise, trial history, blocks, schedules)
are tasks themselves: they draw the inner task's trial batch and transform it. So every
consumer — single env, vector env, Dataset, the harness — gets the modified trials, and
seeding stays exact (all randomness comes from the stream's one generator). Wrappers
nest: ``Noise(ReactionTime(PerceptualDecisionMaking()), std=0.2)``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import gymnasium as gym
import numpy as np

from neurobench.core.channels import Channels
from neurobench.core.errors import InvalidParameterError
from neurobench.core.rules import ResponseRule
from neurobench.core.task import Ceiling, Paper, Task, plain
from neurobench.core.trials import TrialBatch


@dataclass(frozen=True, eq=False)
class TaskWrapper(Task):
    """Delegates everything to ``task``; subclasses override ``transform`` (and what
    their transformation changes: spaces, rule, chance, ceiling)."""

    task: Task

    def __post_init__(self) -> None:
        if not isinstance(self.task, Task):
            raise InvalidParameterError(f"{type(self).__name__} wraps a Task, got {self.task!r}")
        for shared in ("dt", "timing", "rewards", "abort"):
            object.__setattr__(self, shared, getattr(self.task, shared))
        self.validate()

    def transform(self, batch: TrialBatch, rng: np.random.Generator) -> TrialBatch:
        """The modified trials (default: unchanged)."""
        return batch

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        return self.transform(self.task.sample(rng, n), rng)

    def sample_sequence(self, rng: np.random.Generator, n: int, carry: Any) -> tuple[TrialBatch, Any]:
        batch, inner = self.task.sample_sequence(rng, n, carry)
        return self.transform(batch, rng), inner

    # -- delegation ------------------------------------------------------------------
    @property
    def name(self) -> str:
        return f"{type(self).__name__}({self.task.name})"

    @property
    def family(self) -> str:  # type: ignore[override]
        return self.task.family

    @property
    def paper(self) -> Paper:  # type: ignore[override]
        return self.task.paper

    @property
    def obs_channels(self) -> Channels:
        return self.task.obs_channels

    @property
    def action_channels(self) -> Channels:
        return self.task.action_channels

    @property
    def hold_periods(self) -> tuple[str, ...]:
        return self.task.hold_periods

    @property
    def response_periods(self) -> tuple[str | tuple[str, ...], ...]:
        return self.task.response_periods

    @property
    def answers(self) -> tuple[int, ...]:
        return self.task.answers

    @property
    def input_range(self) -> tuple[float, float]:
        return self.task.input_range

    @property
    def noise_std(self) -> float:
        return self.task.noise_std

    @cached_property
    def observation_space(self) -> gym.spaces.Box:
        return self.task.observation_space

    @cached_property
    def rule(self) -> ResponseRule:
        return self.task.rule

    @cached_property
    def mean_steps(self) -> float:
        return self.task.mean_steps

    def _ceiling(self) -> Ceiling:
        return self.task.ceiling()

    def params(self) -> dict[str, Any]:
        own = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name not in _SHARED}
        del own["task"]
        return {
            "modifier": type(self).__name__,
            **plain(own),
            "task": self.task.name,
            "task_params": self.task.params(),
        }


_SHARED = ("dt", "timing", "rewards", "abort")
