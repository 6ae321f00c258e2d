"""Reference agents: the floor (random), the oracle, and the ideal observer.

They bracket every score: a model's normalized score is 0 at chance and 1 at the
ceiling, and these agents are how chance and ceiling are checked empirically.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from neurobench.agents.base import Agent
from neurobench.core.errors import InvalidParameterError
from neurobench.core.rules import FIXATE
from neurobench.core.task import Task


class RandomAgent(Agent):
    """Uniformly random actions at every step (its own seeded generator)."""

    name: ClassVar[str] = "random"

    def fit(self, task: Task, *, seed: int, budget: int) -> None:
        self.n_actions = int(task.action_space.n)

    def initial_state(self, num_envs: int, *, seed: int) -> np.random.Generator:
        return np.random.default_rng(seed)

    def act(
        self, obs: np.ndarray, state: np.random.Generator, info: Mapping[str, np.ndarray]
    ) -> tuple[np.ndarray, np.random.Generator]:
        return state.integers(self.n_actions, size=len(obs)), state


class OracleAgent(Agent):
    """Always takes the correct action: the ceiling of noise-free tasks."""

    name: ClassVar[str] = "oracle"

    def act(self, obs: np.ndarray, state: Any, info: Mapping[str, np.ndarray]) -> tuple[np.ndarray, Any]:
        return np.asarray(info["target"]), state


class IdealObserver(Agent):
    """Accumulates the evidence it observes and answers its best guess.

    It sums the task's linear evidence readout (``task.evidence_weights()``, a
    sufficient statistic of the stimulus) over the trial and answers the argmax when
    a response is due. It knows when to answer (the response window, read from the
    target being non-fixation) but never what to answer: its choices come from the
    noisy observations alone, so its success is the task's real ceiling.
    """

    name: ClassVar[str] = "ideal"

    def fit(self, task: Task, *, seed: int, budget: int) -> None:
        readout = getattr(task, "evidence_weights", None)
        if readout is None:
            raise InvalidParameterError(
                f"the ideal observer needs a task with an evidence readout; {task.name} has "
                f"none (supported: the perceptual family)"
            )
        self.weights = np.asarray(readout(), dtype=np.float64)

    def initial_state(self, num_envs: int, *, seed: int) -> np.ndarray:
        return np.zeros((num_envs, self.weights.shape[1]))

    def act(self, obs: np.ndarray, state: np.ndarray, info: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        evidence = np.where(np.asarray(info["new_trial"])[:, None], 0.0, state)
        evidence = evidence + obs @ self.weights
        respond = np.asarray(info["target"]) != FIXATE
        return np.where(respond, evidence.argmax(axis=1) + 1, FIXATE), evidence
