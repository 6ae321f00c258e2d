"""``TaskVectorEnv``: many sessions of a task stepped in numpy lockstep.

A Gymnasium ``VectorEnv`` over the task's :class:`~neurobench.core.engine.Engine`: every
environment steps with one call of the engine on arrays; no Python loop runs over
environments, whatever kind of task it is (games against opponents included). Episodes
and autoreset live here; trials and their dealing live in the engine.
"""

from __future__ import annotations

import math
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from neurobench.core.checks import check_int, check_positive_or_none
from neurobench.core.errors import InvalidParameterError
from neurobench.core.task import Task

_MODES = (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP)


class TaskVectorEnv(VectorEnv):
    """``num_envs`` sessions of one task.

    Episodes end as in :class:`~neurobench.core.env.TaskEnv` (truncated after
    ``trials_per_episode`` trials or ``max_steps`` steps per environment). With
    ``autoreset_mode`` NEXT_STEP (Gymnasium's default, and what RLlib expects) the step
    after a truncation resets that environment and ignores its action; with SAME_STEP the
    reset happens in the same step and ``info["final_obs"]`` holds the last observation.

    ``info`` holds arrays over environments: ``gt``, ``target``, ``window``, ``step``,
    ``trial_index``, ``new_trial``, and ``trial`` (a dict of arrays: ``index``,
    ``outcome`` codes of :class:`~neurobench.core.rules.Outcome`, ``reward``, ``score``,
    ``response`` and the conditions) valid where ``info["_trial"]`` is true, i.e. where a
    trial just ended.
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
        self._trial_limit = trials_per_episode or math.inf
        self._step_limit = max_steps or math.inf
        self.engine = task.engine(self.num_envs)
        self._started = False

    # -- Gymnasium API -------------------------------------------------------------
    def reset(
        self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Start sessions. ``seed`` names the trial stream (a list of seeds is combined
        into one); ``options={"reset_mask": mask}`` resets only some environments."""
        mask = (options or {}).get("reset_mask")
        n = self.num_envs
        if seed is not None or not self._started:
            obs, view = self.engine.reset(seed)
            self._np_random_seed = self.engine.key
            self._started = True
            self._episode_trials = np.zeros(n, dtype=np.int64)
            self._episode_steps = np.zeros(n, dtype=np.int64)
            self._autoreset = np.zeros(n, dtype=bool)
        else:
            columns = np.arange(n) if mask is None else np.flatnonzero(mask)
            self._restart(columns)
            obs, view = self.engine.observe()
        return obs, view.as_info()

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        if not self._started:
            raise gym.error.ResetNeeded("call reset() before step()")
        resetting = self._autoreset
        any_resetting = bool(resetting.any())
        # NEXT_STEP: resetting environments ignore their action and restart after the step
        result = self.engine.step(actions, active=~resetting if any_resetting else None)
        reward, ended = result.reward, result.ended
        if any_resetting:
            self._restart(np.flatnonzero(resetting))
            obs, view = self.engine.observe()
            result.obs, result.view = obs, view
        self._episode_trials += ended
        if self._step_limit < math.inf:
            self._episode_steps += ~resetting
        info: dict[str, Any] = {"gt": result.gt, **result.view.as_info()}
        info["new_trial"] = ended
        if result.trials is not None and ended.any():
            info["trial"], info["_trial"] = result.trials, ended
        truncated = self._truncated()
        obs = result.obs
        if self._next_step_mode:
            self._autoreset = truncated
        elif truncated.any():
            info["final_obs"], info["_final_obs"] = obs, truncated
            self._restart(np.flatnonzero(truncated))
            obs, view = self.engine.observe()
            info.update(view.as_info())
        return obs, reward, np.zeros(self.num_envs, dtype=bool), truncated, info

    def _truncated(self) -> np.ndarray:
        truncated = self._episode_trials >= self._trial_limit
        if self._step_limit < math.inf:
            truncated |= self._episode_steps >= self._step_limit
        return truncated

    def _restart(self, columns: np.ndarray) -> None:
        """New episodes for ``columns``: an interrupted trial is abandoned."""
        self.engine.restart(columns)
        self._episode_trials[columns] = 0
        self._episode_steps[columns] = 0
        self._autoreset[columns] = False
