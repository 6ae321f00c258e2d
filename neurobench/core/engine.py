"""The engine contract: what every consumer drives, whatever kind of task runs inside.

An :class:`Engine` runs ``num_envs`` sessions of one task in numpy lockstep::

    obs, view = engine.reset(seed)           # obs [n, obs_dim]
    result = engine.step(actions)            # actions [n] (discrete) or [n, k] (Box)
    result.obs, result.reward, result.ended  # arrays over environments
    result.trials                            # records of the trials that just ended
    result.view                              # where each environment now is

A session never ends by itself: trials follow one another (episodes are the Gymnasium
envs' business). The single env, the native vector env, evaluation, plots, the reference
agents, the PettingZoo views and RLlib all sit on this contract; trial tasks and
closed-loop step tasks each implement it (``Task.engine``). A :class:`Session` is the same
contract for one environment in plain Python values, which is what makes the single env
fast; :class:`EngineSession` derives one from any engine.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from neurobench.core.errors import InvalidActionError
from neurobench.core.rules import OUTCOME_NAMES
from neurobench.core.seeding import Seed

if TYPE_CHECKING:
    from neurobench.core.task import Task


@dataclass
class StepView:
    """Where each environment is, for the step whose observation was just returned.

    ``trial``: stream index of its trial; ``step``: index within the trial; ``target``:
    the correct action now (privileged: only reference agents may read it); ``window``:
    0 outside response windows, 1 inside, 2 on a window's last step (the go cue);
    ``new_trial``: the observation is the first of a trial.
    """

    trial: np.ndarray
    step: np.ndarray
    target: np.ndarray
    window: np.ndarray
    new_trial: np.ndarray

    def as_info(self) -> dict[str, np.ndarray]:
        return {
            "trial_index": self.trial,
            "step": self.step,
            "target": self.target,
            "window": self.window,
            "new_trial": self.new_trial,
        }


@dataclass
class StepResult:
    """What one step of all environments produced.

    ``gt`` is the target of the step just taken; ``trials`` (``None`` if no trial ended)
    holds per-environment arrays valid where ``ended``: ``index``, ``outcome`` (codes of
    :class:`~neurobench.core.rules.Outcome`), ``reward`` (summed over the trial),
    ``score`` (the trial's success in [0, 1]), ``response`` (the answer that ended it, -1
    if none) and the trial's conditions.
    """

    obs: np.ndarray
    reward: np.ndarray
    ended: np.ndarray
    gt: np.ndarray
    trials: dict[str, np.ndarray] | None
    view: StepView


class Engine(ABC):
    """``num_envs`` sessions of ``task`` stepped together (see the module docstring)."""

    task: Task
    num_envs: int

    @abstractmethod
    def reset(self, seed: Seed = None, *, start: int = 0) -> tuple[np.ndarray, StepView]:
        """Start every session on the stream ``seed`` names, from its trial ``start``."""

    @abstractmethod
    def step(self, actions: np.ndarray, active: np.ndarray | None = None) -> StepResult:
        """Advance every environment by one step (actions are checked, see ``check``).
        Environments outside ``active`` (a mask) stay where they are: no reward, no event."""

    @abstractmethod
    def restart(self, envs: np.ndarray) -> None:
        """Give ``envs`` (indices) a new trial; the trials they were in are abandoned."""

    @abstractmethod
    def observe(self) -> tuple[np.ndarray, StepView]:
        """The current observations and view (after ``restart``)."""

    @abstractmethod
    def periods(self) -> np.ndarray:
        """Index into ``task.period_names`` of the period each environment is in (-1: none)."""

    @property
    def key(self) -> Any:
        """The entropy of the stream the last ``reset`` named."""
        return self._key  # type: ignore[attr-defined]

    def check(self, actions: Any) -> np.ndarray:
        """Actions as an array, or a clear error naming the first bad one and the valid ones."""
        return check_actions(self.task, actions, self.num_envs)


class Session(ABC):
    """One environment of an engine, in plain Python values (the single env's engine).

    ``reset`` returns ``(obs, info)``; ``step`` returns ``(obs, reward, info)`` where
    ``info`` holds ``gt``, ``target``, ``window``, ``step``, ``trial_index``,
    ``new_trial`` and, when a trial ended, ``trial`` (its record, outcome as a name).
    """

    task: Task

    @abstractmethod
    def reset(self, seed: Seed = None) -> tuple[np.ndarray, dict[str, Any]]: ...

    @abstractmethod
    def step(self, action: Any) -> tuple[np.ndarray, float, dict[str, Any]]: ...

    @abstractmethod
    def restart(self) -> dict[str, Any]:
        """Abandon the current trial (if it has begun) and return the new step's info."""

    @abstractmethod
    def period(self) -> int:
        """Index into ``task.period_names`` of the current step's period (-1: none)."""


class EngineSession(Session):
    """A session over any engine with one environment."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.task = engine.task

    def reset(self, seed: Seed = None) -> tuple[np.ndarray, dict[str, Any]]:
        obs, view = self.engine.reset(seed)
        return obs[0], _one(view)

    def step(self, action: Any) -> tuple[np.ndarray, float, dict[str, Any]]:
        actions = np.asarray(action)[None] if self.task.continuous else np.array([_as_int(action, self.task)])
        result = self.engine.step(actions)
        info = _one(result.view)
        info["gt"] = result.gt[0]
        if result.ended[0]:
            assert result.trials is not None
            info["trial"] = trial_record(result.trials, 0)
        return result.obs[0], float(result.reward[0]), info

    def restart(self) -> dict[str, Any]:
        obs, view = self.engine.observe()
        if view.step[0] > 0:
            self.engine.restart(np.array([0]))
            obs, view = self.engine.observe()
        return {**_one(view), "obs": obs[0]}

    def period(self) -> int:
        return int(self.engine.periods()[0])


def trial_record(trials: dict[str, np.ndarray], env: int) -> dict[str, Any]:
    """One environment's record from a step's trial records, as plain Python values."""
    record = {k: (v[env].tolist() if isinstance(v[env], np.ndarray) else v[env].item()) for k, v in trials.items()}
    record["outcome"] = OUTCOME_NAMES[record["outcome"]]
    return record


def _one(view: StepView) -> dict[str, Any]:
    return {
        "target": view.target[0],
        "window": int(view.window[0]),
        "step": int(view.step[0]),
        "trial_index": int(view.trial[0]),
        "new_trial": bool(view.new_trial[0]),
    }


def _as_int(action: Any, task: Task) -> int:
    array = np.asarray(action)
    if array.ndim == 0 and array.dtype.kind in "iub" and array.dtype.kind != "b":
        return int(array)
    raise invalid_discrete_action(task, action, None)


def check_actions(task: Task, actions: Any, num_envs: int) -> np.ndarray:
    """Validate a batch of actions for ``num_envs`` environments of ``task``."""
    action = np.asarray(actions)
    if task.continuous:
        width = task.n_actions
        if action.shape != (num_envs, width) or action.dtype.kind not in "fiu":
            raise InvalidActionError(
                f"actions must be a float array of shape ({num_envs}, {width}) for {num_envs} environments of "
                f"{task.name}, got {_describe(actions)}"
            )
        action = action.astype(np.float64, copy=False)
        space = task.action_space
        bad = ~np.isfinite(action).all(axis=1) | (action < space.low).any(axis=1) | (action > space.high).any(axis=1)  # type: ignore[attr-defined]
        if bad.any():
            env = int(np.flatnonzero(bad)[0])
            raise InvalidActionError(
                f"action {action[env].tolist()} of environment {env} is not in {space} of {task.name}: "
                f"each entry must be finite and within [{space.low.tolist()}, {space.high.tolist()}]"  # type: ignore[attr-defined]
            )
        return action
    if action.shape != (num_envs,) or action.dtype.kind not in "iu":
        raise InvalidActionError(
            f"actions must be an integer array of shape ({num_envs},) for {num_envs} environments of "
            f"{task.name}, got {_describe(actions)}"
        )
    n = task.n_actions
    unsigned = action.view(action.dtype.str.replace("i", "u"))  # negatives become huge
    if len(action) and unsigned.max() >= n:
        bad = (action < 0) | (action >= n)
        env = int(np.flatnonzero(bad)[0])
        raise invalid_discrete_action(task, action[env], env)
    return action


def invalid_discrete_action(task: Task, action: Any, env: int | None) -> InvalidActionError:
    names = ", ".join(f"{i}={label}" for i, label in enumerate(task.action_channels.labels()))
    where = "" if env is None else f" of environment {env}"
    shown = action.item() if isinstance(action, np.generic) else action
    return InvalidActionError(
        f"action {shown!r}{where} is not in the action space Discrete({task.n_actions}) of {task.name}; "
        f"valid actions: {names}"
    )


def _describe(value: Any) -> str:
    array = np.asarray(value)
    return f"{type(value).__name__} of shape {array.shape} and dtype {array.dtype}"
