"""Reference agents: random, guess (chance), oracle, and the ideal observer.

They bracket every score: a model's normalized score is 0 at chance and 1 at the
ceiling, and these agents are how chance and ceiling are checked empirically. The guess
and ideal agents read ``info["window"]`` (the go cue: a response is due now), never the
answer.
"""

from __future__ import annotations

import dataclasses
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


class GuessAgent(Agent):
    """Holds fixation, then answers uniformly at random among the task's answers once per
    response window: its success is the task's chance level, by definition."""

    name: ClassVar[str] = "guess"

    def fit(self, task: Task, *, seed: int, budget: int) -> None:
        self.answers = np.asarray(task.answers)

    def initial_state(self, num_envs: int, *, seed: int) -> tuple[np.random.Generator, np.ndarray, np.ndarray]:
        return np.random.default_rng(seed), np.zeros(num_envs, dtype=bool), np.zeros(num_envs, dtype=int)

    def act(
        self, obs: np.ndarray, state: tuple[np.random.Generator, np.ndarray, np.ndarray], info: Mapping[str, np.ndarray]
    ) -> tuple[np.ndarray, tuple[np.random.Generator, np.ndarray, np.ndarray]]:
        rng, was_window, guess = state
        window = np.asarray(info["window"]) > 0
        opens = window & (~was_window | np.asarray(info["new_trial"]))
        guess = np.where(opens, self.answers[rng.integers(len(self.answers), size=len(obs))], guess)
        return np.where(window, guess, FIXATE), (rng, window, guess)


class OracleAgent(Agent):
    """Always takes the correct action: the ceiling of noise-free tasks."""

    name: ClassVar[str] = "oracle"

    def act(self, obs: np.ndarray, state: Any, info: Mapping[str, np.ndarray]) -> tuple[np.ndarray, Any]:
        return np.asarray(info["target"]), state


class IdealObserver(Agent):
    """The Bayes-optimal observer: the real ceiling of a task.

    Its answers come from the noisy observations alone; it only reads *when* to answer
    (``info["window"]``: it answers on a window's last step, with all the evidence the
    window brings) and where it is in the trial (``info["step"]``).

    * Tasks with an evidence readout (``task.evidence_weights()``: a sufficient
      statistic, e.g. the perceptual family): it sums the readout over the trial and
      answers the argmax. Exact.
    * Noise-free tasks: the observations determine the answer, so it answers correctly
      (it is the oracle there).
    * Other noisy tasks: it compares the observations, step by step, with noise-free
      trials of the task (``TEMPLATES`` of them, drawn from the task's own condition
      distribution, duplicates merged and weighted by their frequency), keeps the
      Gaussian log-likelihood of each, and answers the answer with the largest
      posterior mass. Exact for tasks with finitely many conditions (all are drawn).
      For continuous ones it approximates the prior by the templates, which is coarse
      when several continuous variables combine: on DelayMatchCategory it reaches about
      0.963 where the exact per-stimulus Bayes observer of ``task.ceiling()`` reaches
      0.972.
    """

    name: ClassVar[str] = "ideal"
    TEMPLATES = 3000

    def fit(self, task: Task, *, seed: int, budget: int) -> None:
        readout = getattr(task, "evidence_weights", None)
        self.mode = "evidence" if readout is not None else "exact" if task.noise_std == 0 else "templates"
        if self.mode == "templates" and "sigma" not in {f.name for f in dataclasses.fields(task)}:
            raise InvalidParameterError(
                f"the ideal observer needs a noise-free task, an evidence readout, or a task with a sigma "
                f"parameter to draw noise-free templates from; {task.name} has none"
            )
        if self.mode == "evidence":
            self.weights = np.asarray(readout(), dtype=np.float64)  # type: ignore[misc]
        elif self.mode == "templates":
            self.templates = _Templates(task, self.TEMPLATES)

    def initial_state(self, num_envs: int, *, seed: int) -> np.ndarray | None:
        if self.mode == "evidence":
            return np.zeros((num_envs, self.weights.shape[1]))
        if self.mode == "templates":
            return np.zeros((num_envs, len(self.templates.weight)))
        return None

    def act(
        self, obs: np.ndarray, state: np.ndarray | None, info: Mapping[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray | None]:
        if self.mode == "exact":
            return np.asarray(info["target"]), None
        new_trial = np.asarray(info["new_trial"])
        closing = np.asarray(info["window"]) == 2  # answer with all the evidence the window gives
        state = np.where(new_trial[:, None], 0.0, state)
        if self.mode == "evidence":
            state = state + obs @ self.weights
            return np.where(closing, state.argmax(axis=1) + 1, FIXATE), state
        state = state + self.templates.log_likelihood(obs, np.asarray(info["step"]))
        answers = self.templates.best_answers(state, np.asarray(info["step"]))
        return np.where(closing, answers, FIXATE), state


class _Templates:
    """Noise-free trials of a task, for the ideal observer's likelihoods."""

    def __init__(self, task: Task, n: int) -> None:
        from neurobench.core.stream import TrialStream

        clean = dataclasses.replace(task, sigma=0.0)
        batch = TrialStream.seeded(clean, 0).take(n)
        noisy = TrialStream.seeded(task, 0).take(min(n, 64))
        differs = np.abs(noisy.obs - batch.obs[: noisy.n]).max(axis=(0, 1)) > 0
        keys = np.concatenate([batch.obs.reshape(batch.n, -1), batch.target.astype(np.float32)], axis=1)
        unique, first, counts = np.unique(keys, axis=0, return_index=True, return_counts=True)
        del unique
        self.obs = batch.obs[first].transpose(1, 0, 2)  # [T, H, D]
        self.target = batch.target[first].T  # [T, H]
        self.weight = counts / counts.sum()
        # noisy inputs: Gaussian likelihood; noise-free ones must match (a steep penalty)
        self.precision = np.where(differs, 1 / task.noise_std**2, 1e6)
        self.answers = np.unique(self.target)

    def log_likelihood(self, obs: np.ndarray, step: np.ndarray) -> np.ndarray:
        """``[E, H]`` log-likelihood of each environment's observation under each template."""
        step = np.minimum(step, len(self.obs) - 1)
        error = obs[:, None, :] - self.obs[step]  # [E, H, D]
        return -0.5 * np.einsum("ehd,ehd,d->eh", error, error, self.precision)

    def best_answers(self, log_likelihood: np.ndarray, step: np.ndarray) -> np.ndarray:
        """The answer with the largest posterior mass, per environment, at ``step``."""
        step = np.minimum(step, len(self.obs) - 1)
        posterior = np.exp(log_likelihood - log_likelihood.max(axis=1, keepdims=True)) * self.weight
        expected = self.target[step]  # [E, H] the answer each template wants now
        mass = np.stack([(posterior * (expected == a)).sum(axis=1) for a in self.answers], axis=1)
        return self.answers[mass.argmax(axis=1)]
