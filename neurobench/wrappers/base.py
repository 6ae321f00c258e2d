"""``TaskWrapper``: a task made by transforming the trials of another.

Modifiers that change *trials* (reaction time, noise, trial history, blocks, schedules)
are tasks themselves: they draw the inner task's trials and transform them. So every
consumer — single env, vector env, Dataset, the harness — gets the modified trials, and
seeding stays exact (all randomness comes from the stream's generators). Modifiers nest:
``Noise(ReactionTime(PerceptualDecisionMaking()), std=0.2)``.

A modifier says what it changes and passes everything else through from the task it
wraps — ``dt``, timing, rewards, ``abort``, spaces, the evidence readout. Chance and
ceiling are the exception: by default a modifier's chance is measured anew on its own
trials (:func:`~neurobench.core.levels.blind_chance`), and each modifier states its
ceiling, so no score silently inherits a number that no longer holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import cached_property
from typing import Any

import gymnasium as gym
import numpy as np

from neurobench.core.channels import Channels
from neurobench.core.errors import InvalidParameterError
from neurobench.core.levels import blind_chance
from neurobench.core.rules import ResponseRule
from neurobench.core.task import Level, Paper, TrialTask, env_id, plain
from neurobench.core.timing import Duration
from neurobench.core.trials import TrialBatch


@dataclass(frozen=True, eq=False)
class TaskWrapper(TrialTask):
    """Delegates everything to ``task``; subclasses override ``transform`` and what their
    transformation changes (spaces, rule, chance, ceiling)."""

    task: TrialTask

    def __post_init__(self) -> None:
        if not isinstance(self.task, TrialTask):
            kind = getattr(self.task, "name", type(self.task).__name__)
            raise InvalidParameterError(
                f"{type(self).__name__} modifies pre-sampled trials; {kind} is not a trial task (a closed loop "
                f"such as a game cannot be modified this way)"
            )
        if not self.task.supervised:  # its engine adds inputs to the trials (Feedback): nothing can go around it
            raise InvalidParameterError(
                f"{type(self).__name__} modifies pre-sampled trials, but {self.task.name} adds inputs as it is "
                f"played; put {self.task.name.split('(')[0]} outermost"
            )
        self.validate()

    def validate(self) -> None:
        """Check the modifier's own parameters against the task it wraps."""

    def transform(self, batch: TrialBatch, rng: np.random.Generator) -> TrialBatch:
        """The modified trials (default: unchanged)."""
        return batch

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        return self.transform(self.task.sample(rng, n), rng)

    def sample_chunk(self, rng: np.random.Generator, n: int, start: int, carry: Any) -> tuple[TrialBatch, Any]:
        batch, inner = self.task.sample_chunk(rng, n, start, carry)
        return self.transform(batch, rng), inner

    def sample_sessions(self, rng: np.random.Generator, sessions: int, m: int, carry: Any) -> tuple[TrialBatch, Any]:
        batch, inner = self.task.sample_sessions(rng, sessions, m, carry)  # type: ignore[attr-defined]
        return self.transform(batch, rng), inner

    # -- identity --------------------------------------------------------------------
    @property
    def modifier(self) -> str:
        return self.spec.name if self.spec is not None else type(self).__name__

    @property
    def name(self) -> str:
        return f"{self.modifier}({self.task.name})"

    @property
    def id(self) -> str:
        return env_id(self.modifier, self.spec.version if self.spec is not None else 0)

    @property
    def family(self) -> str:
        return self.task.family

    @property
    def tags(self) -> tuple[str, ...]:
        return self.task.tags

    @property
    def paper(self) -> Paper | None:
        return self.task.paper

    def params(self) -> dict[str, Any]:
        return {f.name: plain(getattr(self, f.name)) for f in fields(self) if f.name not in ("task", "spec")}

    def node(self) -> dict[str, Any]:
        version = self.spec.version if self.spec is not None else 0
        return {"id": f"{self.modifier}-v{version}", "params": self.params(), "task": self.task.node()}

    # -- passed through --------------------------------------------------------------
    @property
    def dt(self) -> float:  # type: ignore[override]
        return self.task.dt

    @property
    def timing(self) -> Mapping[str, Duration]:
        return self.task.timing

    @property
    def periods(self) -> tuple[str, ...]:
        return self.task.periods

    @property
    def period_names(self) -> tuple[str, ...]:
        return self.task.period_names

    @property
    def rewards(self) -> Mapping[str, float]:
        return self.task.rewards  # type: ignore[attr-defined]

    @property
    def abort(self) -> bool:
        return self.task.abort  # type: ignore[attr-defined]

    @property
    def stream(self) -> str:
        return self.task.stream

    @property
    def sequential(self) -> bool:
        return self.task.sequential

    @property
    def obs_channels(self) -> Channels:
        return self.task.obs_channels

    @property
    def action_channels(self) -> Channels:
        return self.task.action_channels

    @property
    def answers(self) -> tuple[int, ...]:
        return self.task.answers

    @property
    def input_range(self) -> tuple[float, float]:
        return self.task.input_range

    @property
    def noise_std(self) -> float:
        return self.task.noise_std

    @property
    def hold_periods(self) -> tuple[str, ...]:
        return self.task.hold_periods  # type: ignore[attr-defined]

    @property
    def response_periods(self) -> tuple[str | tuple[str, ...], ...]:
        return self.task.response_periods  # type: ignore[attr-defined]

    @cached_property
    def observation_space(self) -> gym.spaces.Box:
        return self.task.observation_space

    @cached_property
    def action_space(self) -> gym.spaces.Space:
        return self.task.action_space

    @cached_property
    def rule(self) -> ResponseRule:
        return self.task.rule

    @cached_property
    def mean_steps(self) -> float:
        return self.task.mean_steps

    @cached_property
    def chunk_size(self) -> int:
        return self.task.chunk_size

    def __getattr__(self, name: str) -> Any:
        """Task-specific readouts (``evidence_weights``, ``signed_evidence``) pass through
        unless a modifier defines its own."""
        if name in ("evidence_weights", "signed_evidence") and "task" in self.__dict__:
            return getattr(self.task, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    # -- scores ------------------------------------------------------------------------
    def _chance(self) -> Level:
        return blind_chance(self)

    def _ceiling(self) -> Level:
        return self.task.ceiling()
