"""``TaskEnv``: a task as a Gymnasium environment, trial after trial like a session."""

from __future__ import annotations

import math
import operator
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np

from neurobench.core.checks import check_positive_or_none
from neurobench.core.errors import InvalidActionError
from neurobench.core.rules import OUTCOME_NAMES, Outcome, advance
from neurobench.core.stream import TrialStream
from neurobench.core.task import Task
from neurobench.core.trials import TrialBatch

DEFAULT_TRIALS_PER_EPISODE = 100


class TaskEnv(gym.Env[np.ndarray, np.int64]):
    """Steps through the trials of a task; one episode is a session of trials.

    An episode is truncated (never terminated: the task itself has no end) after
    ``trials_per_episode`` trials (default 100) or ``max_steps`` steps, whichever
    comes first; pass ``None`` to disable either. ``reset()`` without a seed continues
    the same trial stream, so consecutive sessions never repeat trials.

    ``info`` at every step holds ``gt`` (the correct action for the step just taken),
    ``target`` (the correct action for the returned observation), ``window`` (0 if
    that observation's step is outside response windows, 1 inside, 2 on a window's last
    step: the go cue), ``step`` (its index
    in the trial), ``new_trial``
    (a trial just ended), and, when one did, ``trial``: its index in the stream, its
    ``outcome`` (correct / fail / miss / abort), total ``reward``, ``response`` (the
    answer that ended it, -1 if none) and conditions.
    """

    metadata: dict[str, Any] = {"render_modes": []}  # noqa: RUF012 (gymnasium convention)

    def __init__(
        self,
        task: Task,
        trials_per_episode: int | None = DEFAULT_TRIALS_PER_EPISODE,
        max_steps: int | None = None,
    ) -> None:
        check_positive_or_none("trials_per_episode", trials_per_episode)
        check_positive_or_none("max_steps", max_steps)
        self.task = task
        self.trials_per_episode = trials_per_episode
        self.max_steps = max_steps
        self._trial_limit = trials_per_episode or math.inf
        self._step_limit = max_steps or math.inf
        self.observation_space = task.observation_space
        self.action_space = task.action_space
        self._n_actions = int(task.action_space.n)
        self._stream: TrialStream | None = None
        self._chunk: TrialBatch | None = None
        self._row = 0

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if seed is not None or self._stream is None:
            self._stream = TrialStream(self.task, self.np_random)
            self._chunk = None
            self._begin_trial()
        elif self._t > 0:  # abandon the interrupted trial; a trial not yet begun is kept
            self._begin_trial()
        self._episode_trials = 0
        self._episode_steps = 0
        return self._obs[0], {"target": self._target[0], "window": self._window[0], "step": 0}

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        try:
            a = operator.index(action)
        except TypeError:
            a = -1
        if not 0 <= a < self._n_actions:
            raise self._invalid(action)
        t = self._t
        reward = self._reward[t][a]
        event = self._event[t][a]
        if event > self._outcome:
            self._outcome = event
        self._trial_reward += reward
        gt = self._target[t]
        t = self._next[t][a]
        self._episode_steps += 1
        if t >= self._length:
            info = {"gt": gt, "new_trial": True, "trial": self._trial_record(a if 0 < event <= 2 else -1)}
            self._episode_trials += 1
            self._begin_trial()
            t = 0
        else:
            info = {"gt": gt, "new_trial": False}
        self._t = t
        info["target"] = self._target[t]
        info["window"] = self._window[t]
        info["step"] = t
        truncated = self._episode_trials >= self._trial_limit or self._episode_steps >= self._step_limit
        return self._obs[t], reward, False, truncated, info

    @property
    def trial(self) -> TrialBatch:
        """The current trial, as a batch of one (observations, periods, conditions)."""
        if self._chunk is None:
            raise gym.error.ResetNeeded("call reset() before reading the current trial")
        return self._chunk.take(np.array([self._row]))

    @property
    def step_in_trial(self) -> int:
        """Index of the current step within the current trial."""
        return self._t

    def _begin_trial(self) -> None:
        """Move to the next trial of the stream, drawing a new chunk when needed."""
        self._row += 1
        if self._chunk is None or self._row >= self._chunk.n:
            assert self._stream is not None
            self._chunk = self._stream.next_chunk()
            self._tables = tabulate(self.task, self._chunk)
            self._states = self.task.table.states(self._chunk.phase, self._chunk.target)
            self._row = 0
        row, chunk = self._row, self._chunk
        self._length = length = int(chunk.length[row])
        self._obs = chunk.obs[row]
        # plain lists: indexing them is several times faster than numpy scalars
        self._target = chunk.target[row, :length].tolist()
        self._window = self.task.table.window.take(self._states[row, :length]).tolist()
        self._reward, self._event, self._next = (table[row, :length].tolist() for table in self._tables)
        self._t = 0
        self._outcome = 0  # worst event so far (an Outcome code, as a plain int for speed)
        self._trial_reward = 0.0

    def _trial_record(self, response: int) -> dict[str, Any]:
        assert self._chunk is not None
        outcome = self._outcome or Outcome.MISS
        return {
            "index": int(self._chunk.index[self._row]),
            "outcome": OUTCOME_NAMES[outcome],
            "reward": self._trial_reward,
            "response": response,
            **self._chunk.trial_conditions(self._row),
        }

    def _invalid(self, action: Any) -> InvalidActionError:
        names = ", ".join(f"{i}={label}" for i, label in enumerate(self.task.action_channels.labels()))
        return InvalidActionError(
            f"action {action!r} is not in the action space Discrete({self._n_actions}) "
            f"of {self.task.name}; valid actions: {names}"
        )


def tabulate(task: Task, chunk: TrialBatch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reward, event and next-step tables ``[n, T, n_actions]`` for every trial, step
    and action of a chunk, read from the task's lookup table: stepping is then a lookup."""
    table = task.table
    keys = table.keys(table.states(chunk.phase, chunk.target)[..., None], np.arange(table.n_actions))
    t = np.arange(chunk.max_length)[None, :, None]
    resume = None if chunk.resume is None else chunk.resume[..., None]
    next_t = advance(table.move.take(keys), t, chunk.length[:, None, None], resume)
    return table.reward.take(keys), table.event.take(keys), next_t


def oracle_steps(task: Task, batch: TrialBatch) -> np.ndarray:
    """Boolean ``[n, T]``: the steps of each trial that an agent always taking the target
    action goes through (an answer that ends the trial, or skips the rest of its window,
    leaves the following steps unvisited)."""
    table = task.table
    keys = table.keys(table.states(batch.phase, batch.target), batch.target)
    t = np.arange(batch.max_length)[None, :]
    next_t = advance(table.move.take(keys), t, batch.length[:, None], batch.resume)
    reach = np.maximum.accumulate(next_t, axis=1)  # the farthest step jumped to so far
    visited = t < batch.length[:, None]
    visited[:, 1:] &= reach[:, :-1] <= t[:, 1:]
    return visited
