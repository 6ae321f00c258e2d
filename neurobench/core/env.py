"""``TaskEnv``: a task as a Gymnasium environment, trial after trial like a session."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, SupportsFloat

import gymnasium as gym
import numpy as np

from neurobench.core.checks import check_positive_or_none
from neurobench.core.errors import InvalidActionError, InvalidParameterError
from neurobench.core.task import Task

if TYPE_CHECKING:
    from neurobench.core.render import Recorder

DEFAULT_TRIALS_PER_EPISODE = 100
RENDER_MODES = ("rgb_array",)


class TaskEnv(gym.Env[np.ndarray, Any]):
    """Steps through the trials of a task; one episode is a session of trials.

    An episode is truncated (never terminated: the task itself has no end) after
    ``trials_per_episode`` trials (default 100) or ``max_steps`` steps, whichever comes
    first; pass ``None`` to disable either. ``reset()`` without a seed continues the same
    trial stream, so consecutive sessions never repeat trials.

    ``info`` at every step holds ``gt`` (the correct action for the step just taken),
    ``target`` (the correct action for the returned observation), ``window`` (0 outside
    response windows, 1 inside, 2 on a window's last step: the go cue), ``step`` (its index
    in the trial), ``trial_index`` (the trial's position in the seed's stream),
    ``new_trial`` (a trial just ended), and, when one did, ``trial``: its record (index,
    ``outcome`` correct / fail / miss / abort, total ``reward``, ``score``, ``response`` (the
    last discrete answer, -1 if none or the report is continuous) and conditions).

    ``render_mode="rgb_array"`` keeps the last trials and ``render()`` draws them (inputs,
    ground truth, actions and rewards, periods shaded) as an RGB array.
    """

    metadata: dict[str, Any] = {"render_modes": list(RENDER_MODES), "render_fps": 4}  # noqa: RUF012

    def __init__(
        self,
        task: Task,
        trials_per_episode: int | None = DEFAULT_TRIALS_PER_EPISODE,
        max_steps: int | None = None,
        render_mode: str | None = None,
    ) -> None:
        check_positive_or_none("trials_per_episode", trials_per_episode)
        check_positive_or_none("max_steps", max_steps)
        if render_mode is not None and render_mode not in RENDER_MODES:
            raise InvalidParameterError(
                f"render_mode {render_mode!r} is not supported; valid: None, {', '.join(map(repr, RENDER_MODES))}"
            )
        self.task = task
        self.trials_per_episode = trials_per_episode
        self.max_steps = max_steps
        self.render_mode = render_mode
        self._trial_limit = trials_per_episode or math.inf
        self._step_limit = max_steps or math.inf
        self.observation_space = task.observation_space
        self.action_space = task.action_space
        self.session = task.session()
        self._started = False
        self._ended = False
        self._recorder: Recorder | None = None
        if render_mode == "rgb_array":
            from neurobench.core.render import Recorder

            self._recorder = Recorder(task)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if seed is not None or not self._started:
            obs, info = self.session.reset(seed)
            self._started = True
        else:
            info = self.session.restart()
            obs = info.pop("obs")
        self._episode_trials = 0
        self._episode_steps = 0
        self._ended = False
        if self._recorder is not None:
            self._recorder.begin(obs, info, self.session.period())
        return obs, info

    def step(self, action: Any) -> tuple[np.ndarray, SupportsFloat, bool, bool, dict[str, Any]]:
        if self._ended:  # a new episode starts with reset(), never silently
            raise InvalidActionError("the episode is over (truncated): call reset() before step()")
        obs, reward, info = self.session.step(action)
        self._episode_steps = steps = self._episode_steps + 1
        truncated = steps >= self._step_limit
        if "trial" in info:
            self._episode_trials = trials = self._episode_trials + 1
            truncated = truncated or trials >= self._trial_limit
        if self._recorder is not None:
            self._recorder.record(action, reward, info, obs, self.session.period())
        self._ended = truncated
        return obs, reward, False, truncated, info

    def render(self) -> np.ndarray | None:  # type: ignore[override]
        if self._recorder is None:
            return None
        return self._recorder.image()
