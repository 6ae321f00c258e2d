"""``TaskVectorEnv``: many sessions of a task stepped in numpy lockstep.

All environments step with one call of the task's response rule on arrays; no Python
loop runs over environments. Trials come from a single trial stream (the one the seed
names) and are dealt to environments in order as they need them: at reset, trial ``i``
goes to environment ``i``; afterwards the environments whose trials ended in a step get
the next trials of the stream, in increasing environment order. So with one
environment the vector env is the single env step for step, and with many it runs
exactly the trials a single env with the same seed would, spread across columns.

Dealing from one stream is what makes this fast: trials are drawn in large batches with
one generator call per chunk, instead of one per environment.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from neurobench.core.checks import check_int, check_positive_or_none
from neurobench.core.errors import InvalidActionError, InvalidParameterError
from neurobench.core.registry import ENV_PARAMS, build_task
from neurobench.core.rules import Outcome
from neurobench.core.seeding import generator
from neurobench.core.stream import TrialStream
from neurobench.core.task import Task
from neurobench.core.trials import TrialBatch

_MODES = (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP)
_NONE = int(Outcome.NONE)


class TaskVectorEnv(VectorEnv):
    """``num_envs`` sessions of one task; see the module docstring for trial dealing.

    Episodes end as in :class:`~neurobench.core.env.TaskEnv` (truncated after
    ``trials_per_episode`` trials or ``max_steps`` steps per environment). With
    ``autoreset_mode`` NEXT_STEP (Gymnasium's default, and what RLlib expects) the step
    after a truncation resets that environment and ignores its action; with SAME_STEP the
    reset happens in the same step and ``info["final_obs"]`` holds the last observation.

    ``info`` holds arrays over environments: ``gt``, ``target``, ``window``, ``step``, ``new_trial``, and
    ``trial`` (a dict of arrays: ``index``, ``outcome`` codes of
    :class:`~neurobench.core.rules.Outcome`, ``reward``, ``response`` (the answer that
    ended the trial, -1 if none) and the conditions) valid where ``info["_trial"]`` is
    true, i.e. where a trial just ended.
    """

    def __init__(
        self,
        task: Task,
        num_envs: int,
        trials_per_episode: int | None = 100,
        max_steps: int | None = None,
        autoreset_mode: AutoresetMode | str = AutoresetMode.NEXT_STEP,
    ) -> None:
        check_int("num_envs", num_envs, minimum=1)
        check_positive_or_none("trials_per_episode", trials_per_episode)
        check_positive_or_none("max_steps", max_steps)
        try:
            mode = AutoresetMode(autoreset_mode)
        except ValueError:
            mode = None
        if mode not in _MODES:
            raise InvalidParameterError(
                f"autoreset_mode {autoreset_mode!r} is not supported; use one of {[m.value for m in _MODES]}"
            )
        self.task = task
        self.num_envs = int(num_envs)
        self.trials_per_episode = trials_per_episode
        self.max_steps = max_steps
        self.metadata = {"autoreset_mode": mode}
        self._next_step_mode = mode == AutoresetMode.NEXT_STEP
        self.single_observation_space = task.observation_space
        self.single_action_space = task.action_space
        self.observation_space = batch_space(task.observation_space, self.num_envs)
        self.action_space = batch_space(task.action_space, self.num_envs)
        self._n_actions = int(task.action_space.n)
        self._trial_limit = trials_per_episode or math.inf
        self._step_limit = max_steps or math.inf
        self._stream: TrialStream | None = None
        self._columns = np.arange(self.num_envs)

    # -- Gymnasium API -------------------------------------------------------------
    def reset(
        self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start sessions. ``seed`` names the trial stream (a list of seeds is combined
        into one); ``options={"reset_mask": mask}`` resets only some environments."""
        mask = (options or {}).get("reset_mask")
        if seed is not None or self._stream is None:
            self._np_random, self._np_random_seed = generator(seed)
            self._stream = TrialStream(self.task, self._np_random)
            self._use_pool(self._stream.next_chunk())
            self._next_row = 0
            self._rows = np.zeros(self.num_envs, dtype=np.intp)
            self._t = np.zeros(self.num_envs, dtype=np.intp)
            self._outcome = np.zeros(self.num_envs, dtype=np.int8)
            self._trial_reward = np.zeros(self.num_envs)
            self._episode_trials = np.zeros(self.num_envs, dtype=np.int64)
            self._episode_steps = np.zeros(self.num_envs, dtype=np.int64)
            self._autoreset = np.zeros(self.num_envs, dtype=bool)
            self._deal(self._columns)
        else:
            columns = self._columns if mask is None else np.flatnonzero(mask)
            self._restart(columns)
        return self._observe()

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if self._stream is None:
            raise gym.error.ResetNeeded("call reset() before step()")
        action = self._checked(actions)
        table, rows, t = self.task.table, self._rows, self._t
        flat = rows * self._horizon + t
        key = table.keys(self._state.take(flat), action)
        reward, event = table.reward.take(key), table.event.take(key)
        next_t = t + 1
        if self._resume is not None:
            next_t = np.where(table.skips.take(key), self._resume.take(flat), next_t)
        length = self._length.take(rows)
        ended = table.ends.take(key) | (next_t >= length)
        target = self._target.take(flat)
        resetting = self._autoreset
        any_resetting = bool(resetting.any())
        if any_resetting:  # NEXT_STEP: these environments restart and ignore their action
            reward = np.where(resetting, 0.0, reward)
            event = np.where(resetting, _NONE, event)
            next_t = np.where(resetting, t, next_t)
            ended &= ~resetting
        np.maximum(self._outcome, event, out=self._outcome)
        self._trial_reward += reward
        self._t = next_t
        if self._step_limit < math.inf:
            self._episode_steps += ~resetting
        info: dict[str, Any] = {"gt": target, "new_trial": ended}
        finished = np.flatnonzero(ended)
        if len(finished):
            info["trial"] = self._records(rows, np.where(table.answered.take(key), action, -1))
            info["_trial"] = ended
            self._episode_trials += ended
            self._deal(finished)
        if any_resetting:
            self._restart(np.flatnonzero(resetting))
        truncated = self._truncated()
        if self._next_step_mode:
            self._autoreset = truncated
        elif truncated.any():
            info["final_obs"], info["_final_obs"] = self._observe()[0], truncated
            self._restart(np.flatnonzero(truncated))
        obs, now = self._observe()
        info.update(now)
        return obs, reward, np.zeros(self.num_envs, dtype=bool), truncated, info

    def _observe(self) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        """Observations at the current step of every environment, and what ``info``
        says of that step: its ``target``, whether it is in a response ``window``, and
        its index in the trial (``step``)."""
        flat = self._rows * self._horizon + self._t
        window = self.task.table.window.take(self._state.take(flat))
        now = {"target": self._target.take(flat), "window": window, "step": self._t.copy()}
        return self._obs.take(flat, axis=0), now

    def _truncated(self) -> np.ndarray:
        truncated = self._episode_trials >= self._trial_limit
        if self._step_limit < math.inf:
            truncated |= self._episode_steps >= self._step_limit
        return truncated

    # -- trial dealing -------------------------------------------------------------
    def _deal(self, columns: np.ndarray) -> None:
        """Give the next trials of the stream to ``columns``, in order."""
        needed = len(columns)
        if self._next_row + needed > self._pool.n:
            self._refill(needed)
        self._rows[columns] = np.arange(self._next_row, self._next_row + needed)
        self._next_row += needed
        self._t[columns] = 0
        self._outcome[columns] = _NONE
        self._trial_reward[columns] = 0.0

    def _refill(self, needed: int) -> None:
        """Keep the trials in play, drop the consumed ones, draw enough new chunks."""
        fresh = [self._pool.take(np.arange(self._next_row, self._pool.n))]
        have = fresh[0].n
        while have < max(needed, self.num_envs):
            fresh.append(self._stream.next_chunk())  # type: ignore[union-attr]
            have += fresh[-1].n
        self._use_pool(TrialBatch.concat([self._pool.take(self._rows), *fresh]))
        self._rows = np.arange(self.num_envs)
        self._next_row = self.num_envs

    def _use_pool(self, pool: TrialBatch) -> None:
        """Trials in play and in reserve, with flat views for one-call gathers."""
        self._pool = pool
        self._horizon = pool.max_length
        self._obs = pool.obs.reshape(-1, pool.obs.shape[-1])
        self._target = pool.target.reshape(-1)
        self._state = self.task.table.states(pool.phase, pool.target).reshape(-1)
        self._resume = None if pool.resume is None else pool.resume.reshape(-1)
        self._length = pool.length

    def _restart(self, columns: np.ndarray) -> None:
        """New episodes for ``columns``: an interrupted trial is abandoned."""
        interrupted = columns[self._t[columns] > 0]
        if len(interrupted):
            self._deal(interrupted)
        self._episode_trials[columns] = 0
        self._episode_steps[columns] = 0
        self._autoreset[columns] = False

    def _records(self, rows: np.ndarray, response: np.ndarray) -> dict[str, np.ndarray]:
        """Per-environment trial records (meaningful where a trial ended); ``response``
        is the answer given at this step (-1 if the trial ended another way). Every trial
        passes the last step of a response window or answers, so its outcome is set."""
        records = {
            "index": self._pool.index.take(rows),
            "outcome": self._outcome.copy(),
            "reward": self._trial_reward.copy(),
            "response": response,
        }
        records.update({name: values.take(rows, axis=0) for name, values in self._pool.conditions.items()})
        return records

    def _checked(self, actions: Any) -> np.ndarray:
        action = np.asarray(actions)
        if action.shape != (self.num_envs,) or action.dtype.kind not in "iu":
            raise InvalidActionError(
                f"actions must be an integer array of shape ({self.num_envs},) for "
                f"{self.num_envs} environments of {self.task.name}, got {_describe(actions)}"
            )
        unsigned = action.view(action.dtype.str.replace("i", "u"))  # negatives become huge
        if unsigned.max() >= self._n_actions:
            bad = (action < 0) | (action >= self._n_actions)
            env = int(np.flatnonzero(bad)[0])  # the first offending environment
            names = ", ".join(f"{i}={label}" for i, label in enumerate(self.task.action_channels.labels()))
            raise InvalidActionError(
                f"action {action[env]} of environment {env} is not in Discrete({self._n_actions}) "
                f"of {self.task.name}; valid actions: {names}"
            )
        return action


def _describe(value: Any) -> str:
    array = np.asarray(value)
    return f"{type(value).__name__} of shape {array.shape} and dtype {array.dtype}"


def make_vec(name: str | Task, num_envs: int = 1, **kwargs: Any) -> gym.vector.VectorEnv:
    """A :class:`TaskVectorEnv`; ``trials_per_episode``, ``max_steps`` and
    ``autoreset_mode`` go to the env, every other keyword is a task parameter.

    A game against its opponent steps one env at a time (the opponents are scripted
    per env), so it comes as Gymnasium's ``SyncVectorEnv`` of ``num_envs`` copies,
    env ``i`` seeded with ``seed + i``."""
    env_kwargs = {k: kwargs.pop(k) for k in (*ENV_PARAMS, "autoreset_mode") if k in kwargs}
    task = build_task(name, kwargs, also_valid=(*ENV_PARAMS, "autoreset_mode"))
    if isinstance(task, Task):
        return TaskVectorEnv(task, num_envs, **env_kwargs)
    check_int("num_envs", num_envs, minimum=1)
    unsupported = sorted(set(env_kwargs) - {"trials_per_episode"})
    if unsupported:
        raise InvalidParameterError(f"{unsupported} do not apply to games; valid: trials_per_episode")
    return gym.vector.SyncVectorEnv([functools.partial(task.env, **env_kwargs)] * num_envs)
