"""Closed-loop tasks: a pure, batched step over explicit per-environment state.

In the spirit of gymnax, a :class:`StepTask` holds parameters only; its state is a dict of
arrays with one row per environment, and everything is vectorized in numpy over the
``n`` environments (never a Python loop over them)::

    state = task.init(n, nature)
    state = task.begin(state, envs, nature, play)          # new trials in envs
    state, out = task.step(state, actions, nature, play)   # rewards, trial ends, records
    obs, now = task.observe(state)                         # observations, target, window, step

A task for several players (a game) takes actions ``[n, players]`` and returns rewards
and observations with a player axis; :class:`StepEngine` runs any of them under the
engine contract. Randomness comes from two generators named by the seed: ``nature`` (what
the task draws: stimuli) and ``play`` (what a built-in player draws: an opponent's coin),
so a game's stimuli do not depend on who plays it.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from neurobench.core.engine import Engine, StepResult, StepView, check_actions
from neurobench.core.errors import InvalidActionError
from neurobench.core.seeding import Seed, child_generator, entropy
from neurobench.core.task import Task

if TYPE_CHECKING:
    from neurobench.core.registry import TaskSpec

State = dict[str, np.ndarray]


@dataclass
class StepOutcome:
    """What one step of a closed-loop task produced, per environment (and player).

    ``ended``: a trial ended at this step; ``trials`` (valid where ``ended``, and may be
    left empty when no trial ended, so a task need not build it on every step):
    ``outcome`` codes, ``score``, ``response`` and the trial's conditions (arrays over
    environments, ``[n, players]`` for per-player entries of games).
    """

    reward: np.ndarray
    ended: np.ndarray
    trials: dict[str, np.ndarray]


@dataclass
class Now:
    """What the view of the current step needs: ``target``, ``window``, ``step``, ``period``."""

    target: np.ndarray
    window: np.ndarray
    step: np.ndarray
    period: np.ndarray


@dataclass(frozen=True, kw_only=True, eq=False)
class StepTask(Task):
    """Base of closed-loop tasks (see the module docstring)."""

    spec: TaskSpec | None = field(default=None, compare=False, repr=False)

    @abstractmethod
    def init(self, n: int, rng: np.random.Generator) -> State:
        """State of ``n`` fresh sessions (before their first trial)."""

    @abstractmethod
    def begin(self, state: State, envs: np.ndarray, nature: np.random.Generator, play: np.random.Generator) -> State:
        """Start new trials in ``envs``."""

    @abstractmethod
    def step(
        self, state: State, actions: np.ndarray, nature: np.random.Generator, play: np.random.Generator
    ) -> tuple[State, StepOutcome]:
        """Advance every environment by one step."""

    @abstractmethod
    def observe(self, state: State) -> tuple[np.ndarray, Now]:
        """Observations ``[n, (players,) obs_dim]`` and what the view needs."""

    def engine(self, num_envs: int) -> Engine:
        return StepEngine(self, num_envs)

    def params(self) -> dict[str, Any]:
        import dataclasses

        from neurobench.core.task import plain

        return {f.name: plain(getattr(self, f.name)) for f in dataclasses.fields(self) if f.name != "spec"}


class StepEngine(Engine):
    """``num_envs`` sessions of a :class:`StepTask` under the engine contract."""

    task: StepTask

    def __init__(self, task: StepTask, num_envs: int) -> None:
        self.task = task
        self.num_envs = int(num_envs)
        self._state: State | None = None

    def reset(self, seed: Seed = None, *, start: int = 0) -> tuple[np.ndarray, StepView]:
        self._key = entropy(seed)
        self._nature = child_generator(self._key, 0)
        self._play = child_generator(self._key, 1)
        n = self.num_envs
        state = self.task.init(n, self._nature)
        self._index = np.zeros(n, dtype=np.int64)
        self._next_index = int(start)
        self._new = np.ones(n, dtype=bool)
        self._state = self._begin(state, np.arange(n))
        return self.observe()

    def step(self, actions: np.ndarray, active: np.ndarray | None = None) -> StepResult:
        if self._state is None:
            raise InvalidActionError("call reset() before step()")
        action = self.check(actions)
        target = self._target
        # environments outside ``active`` keep their state: only their rows are saved and put
        # back (a game's opponent carries large per-session tables, too large to copy whole)
        held = None if active is None else np.flatnonzero(~active)
        saved = None if held is None else {k: v[held] for k, v in self._state.items()}
        state, out = self.task.step(self._state, action, self._nature, self._play)
        reward, ended = out.reward, out.ended
        if active is not None and saved is not None:
            for k, rows in saved.items():
                state[k][held] = rows
            reward = np.where(_rows(active, reward), reward, 0.0)
            ended = ended & active
        trials = None
        finished = np.flatnonzero(ended)
        if len(finished):
            trials = {"index": self._index.copy(), **out.trials}
            state = self._begin(state, finished)
        self._state = state
        self._new = ended.copy()
        obs, view = self.observe()
        return StepResult(obs, reward, ended, target, trials, view)

    def restart(self, envs: np.ndarray) -> None:
        assert self._state is not None
        _, now = self.task.observe(self._state)
        interrupted = envs[now.step[envs] > 0]
        if len(interrupted):
            self._state = self._begin(self._state, interrupted)
        self._new[envs] = True

    def observe(self) -> tuple[np.ndarray, StepView]:
        assert self._state is not None
        obs, now = self.task.observe(self._state)
        self._target, self._period = now.target, now.period
        return obs, StepView(self._index.copy(), now.step, now.target, now.window, self._new.copy())

    def periods(self) -> np.ndarray:
        return self._period

    def check(self, actions: Any) -> np.ndarray:
        players = self.task.players
        if players == 1:
            return check_actions(self.task, actions, self.num_envs)
        action = np.asarray(actions)
        if action.shape != (self.num_envs, players) or action.dtype.kind not in "iu":
            raise InvalidActionError(
                f"actions must be an integer array of shape ({self.num_envs}, {players}) for {self.num_envs} "
                f"environments of {self.task.name}, got shape {action.shape} and dtype {action.dtype}"
            )
        n = self.task.n_actions
        bad = (action < 0) | (action >= n)
        if bad.any():
            env, player = (int(i[0]) for i in np.nonzero(bad))
            raise InvalidActionError(
                f"action {action[env, player].item()} of player {player} in environment {env} is not in "
                f"Discrete({n}) of "
                f"{self.task.name}"
            )
        return action

    def _begin(self, state: State, envs: np.ndarray) -> State:
        self._index[envs] = np.arange(self._next_index, self._next_index + len(envs))
        self._next_index += len(envs)
        return self.task.begin(state, envs, self._nature, self._play)


def _rows(mask: np.ndarray, like: np.ndarray) -> np.ndarray:
    """``mask`` over environments, broadcastable against an array with more axes."""
    return mask.reshape(-1, *([1] * (np.ndim(like) - 1)))
