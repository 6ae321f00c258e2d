"""PettingZoo views of the engine.

:class:`ParallelView` maps each agent to a seat of an engine with one environment: the
seats of a game's engine (``parallel_env``), or the single seat of each task's own engine
(``combine``: several tasks on one clock, one agent each; they must share ``dt``). A step
checks every agent's action before any engine moves, so a rejected step changes nothing.
``combine(..., flat=True)`` is the single-agent view of combined tasks: concatenated
observations and one joint action, to test one model doing several tasks at once.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np
from gymnasium.envs.registration import EnvSpec
from pettingzoo import ParallelEnv

from neurobench.core.checks import check_int
from neurobench.core.engine import Engine, trial_record
from neurobench.core.errors import InvalidActionError, InvalidParameterError
from neurobench.core.registry import build, make_task
from neurobench.core.task import Level, Task

if TYPE_CHECKING:
    from neurobench.core.registry import TaskSpec


class ParallelView(ParallelEnv):
    """Agents on one clock; an episode lasts ``max_steps`` steps (``None``: ``trials``
    trials of the first seat's task)."""

    metadata: dict[str, Any] = {"name": "neurobench_parallel_v1", "render_modes": [], "is_parallelizable": True}  # noqa: RUF012

    def __init__(
        self, seats: Sequence[tuple[str, Engine, int]], max_steps: int | None, trials: int | None = None
    ) -> None:
        self._seats = {name: (engine, seat) for name, engine, seat in seats}
        self._engines = list(dict.fromkeys(engine for _, engine, _ in seats))
        self.possible_agents = [name for name, _, _ in seats]
        self.agents: list[str] = []
        self.max_steps, self.trials = max_steps, trials
        self._key: Any = None

    @functools.cache  # noqa: B019 (PettingZoo requires the same space object on every call)
    def observation_space(self, agent: str) -> gym.spaces.Space:
        return self._seats[agent][0].task.observation_space

    @functools.cache  # noqa: B019
    def action_space(self, agent: str) -> gym.spaces.Space:
        return self._seats[agent][0].task.action_space

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[dict, dict]:
        """``seed`` seeds every engine (each task of ``combine`` its own child stream); no
        seed continues the current streams (Gymnasium's rule)."""
        if seed is not None or self._key is None:
            from neurobench.core.seeding import entropy

            self._key = entropy(seed)
            views = [
                engine.reset([*np.atleast_1d(self._key).tolist(), k] if len(self._engines) > 1 else self._key)
                for k, engine in enumerate(self._engines)
            ]
            observed = dict(zip(self._engines, views, strict=True))
        else:
            for engine in self._engines:
                engine.restart(np.array([0]))
            observed = {engine: engine.observe() for engine in self._engines}
        self.agents = list(self.possible_agents)
        self._clock, self._trials = 0, 0
        return self._split(observed, None)

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        if not self.agents:
            raise InvalidActionError("the episode is over: call reset() before step()")
        missing = [a for a in self.agents if a not in actions]
        if missing:
            raise InvalidActionError(f"no action for agents {missing}; every live agent acts at every step")
        batched = {}
        for engine in self._engines:  # every action is checked before any engine moves
            seats = [(a, s) for a, (e, s) in self._seats.items() if e is engine]
            joint = np.stack([np.asarray(actions[a]) for a, _ in sorted(seats, key=lambda x: x[1])])
            joint = joint[None] if engine.task.players > 1 else joint
            try:
                batched[engine] = engine.check(joint.astype(np.int64) if joint.dtype.kind in "iub" else joint)
            except InvalidActionError as error:
                raise InvalidActionError(f"{', '.join(a for a, _ in seats)}: {error}") from None
        results = {engine: engine.step(batched[engine]) for engine in self._engines}
        self._clock += 1
        first = self._seats[self.possible_agents[0]][0]
        self._trials += int(results[first].ended[0])
        done = (self.max_steps is not None and self._clock >= self.max_steps) or (
            self.trials is not None and self._trials >= self.trials
        )
        observations, infos = self._split({e: (r.obs, r.view) for e, r in results.items()}, results)
        rewards = {}
        for agent, (engine, seat) in self._seats.items():
            reward = results[engine].reward[0]
            rewards[agent] = float(reward[seat] if np.ndim(reward) else reward)
        terminations = dict.fromkeys(self.agents, False)
        truncations = dict.fromkeys(self.agents, done)
        if done:
            self.agents = []
        return observations, rewards, terminations, truncations, infos

    def _split(self, observed: dict[Engine, Any], results: dict[Engine, Any] | None) -> tuple[dict, dict]:
        observations, infos = {}, {}
        for agent, (engine, seat) in self._seats.items():
            obs, view = observed[engine]
            players = engine.task.players
            where = (0, seat) if players > 1 else (0,)
            observations[agent] = np.asarray(obs[where], dtype=np.float32)
            info = {
                "target": view.target[where],
                "window": int(view.window[where]),
                "step": int(view.step[0]),
                "trial_index": int(view.trial[0]),
                "new_trial": bool(view.new_trial[0]),
            }
            if results is not None and results[engine].trials is not None and results[engine].ended[0]:
                trials = results[engine].trials
                mine = {
                    k: (v[:, seat] if players > 1 and v.ndim == 2 and v.shape[1] == players else v)
                    for k, v in trials.items()
                }
                info["trial"] = trial_record(mine, 0)
            infos[agent] = info
        return observations, infos


def parallel_env(game: Any, *, trials_per_episode: int = 100, **params: Any) -> ParallelView:
    """A game as a PettingZoo parallel env, one agent per player (``player_0``, ...)."""
    task = make_task(game, **params)
    players = task.players
    if players < 2:
        raise InvalidParameterError(f"{task.name} is played by one agent: use neurobench.make({task.name!r})")
    check_int("trials_per_episode", trials_per_episode, minimum=1)
    engine = task.engine(1)
    return ParallelView([(f"player_{p}", engine, p) for p in range(players)], None, trials_per_episode)


@dataclass(frozen=True, eq=False)
class Combined(Task):
    """Tasks side by side on one clock (nested data ``{"id": "Combine", "tasks": [...]}``);
    run it with :func:`combine`. It has no engine of its own: each task keeps its own."""

    tasks: tuple[Any, ...]
    max_steps: int = 1000
    spec: TaskSpec | None = field(default=None, kw_only=True, compare=False, repr=False)

    def __post_init__(self) -> None:
        built = tuple(build(t) for t in self.tasks)
        if len(built) < 2:
            raise InvalidParameterError(f"combine needs at least two tasks, got {len(built)}")
        if any(t.players > 1 for t in built):
            raise InvalidParameterError("combine runs one-player tasks side by side; play games with parallel_env")
        dts = {t.dt for t in built}
        if len(dts) > 1:
            listing = ", ".join(f"{t.name} (dt={t.dt:g})" for t in built)
            raise InvalidParameterError(f"combined tasks run on one clock and must share dt; got {listing}")
        check_int("max_steps", self.max_steps, minimum=1)
        object.__setattr__(self, "tasks", built)

    @property
    def name(self) -> str:
        return f"Combine({', '.join(t.name for t in self.tasks)})"

    @property
    def dt(self) -> float:  # type: ignore[override]
        return self.tasks[0].dt

    @property
    def obs_channels(self) -> Any:
        raise InvalidParameterError("combined tasks have one observation per task: see combine()")

    action_channels = obs_channels

    @property
    def observation_space(self) -> gym.spaces.Box:
        spaces = [t.observation_space for t in self.tasks]
        return gym.spaces.Box(
            np.concatenate([s.low for s in spaces]), np.concatenate([s.high for s in spaces]), dtype=np.float32
        )

    @property
    def action_space(self) -> gym.spaces.MultiDiscrete:
        return gym.spaces.MultiDiscrete([t.n_actions for t in self.tasks])

    @property
    def period_names(self) -> tuple[str, ...]:
        return ()

    def engine(self, num_envs: int) -> Engine:
        raise InvalidParameterError("combined tasks run side by side on their own engines: use neurobench.combine()")

    def params(self) -> dict[str, Any]:
        return {"max_steps": self.max_steps}

    def node(self) -> dict[str, Any]:
        version = self.spec.version if self.spec is not None else 0
        return {"id": f"Combine-v{version}", "params": self.params(), "tasks": [t.node() for t in self.tasks]}

    def _chance(self) -> Level:
        raise InvalidParameterError("combined tasks are scored task by task")

    _ceiling = _chance


class FlatCombined(gym.Env):
    """One Gymnasium env over combined tasks: observations concatenated, one MultiDiscrete
    action (one entry per task), rewards summed; ``info[agent]`` holds each task's info."""

    metadata: dict[str, Any] = {"render_modes": []}  # noqa: RUF012

    def __init__(self, combined: ParallelView, spec: Combined) -> None:
        self.combined = combined
        self.observation_space = spec.observation_space
        self.action_space = spec.action_space

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        observations, infos = self.combined.reset(seed=seed)
        return self._flat(observations), infos

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        action = np.asarray(action)
        if action.shape != self.action_space.shape:
            raise InvalidActionError(f"the joint action must have shape {self.action_space.shape}, got {action.shape}")
        actions = dict(zip(self.combined.possible_agents, action.tolist(), strict=True))
        observations, rewards, _, truncations, infos = self.combined.step(actions)
        return self._flat(observations), float(sum(rewards.values())), False, any(truncations.values()), infos

    def _flat(self, observations: dict[str, np.ndarray]) -> np.ndarray:
        return np.concatenate([observations[a] for a in self.combined.possible_agents]).astype(np.float32)


def combine(tasks: Sequence[Any], *, flat: bool = False, max_steps: int = 1000) -> ParallelView | FlatCombined:
    """Tasks side by side on one clock: a PettingZoo ParallelEnv (agents ``<task>_<i>``), or
    with ``flat`` one Gymnasium env for a single model doing all of them at once."""
    spec = Combined(tuple(tasks), max_steps)
    seats = [(f"{t.name}_{i}", t.engine(1), 0) for i, t in enumerate(spec.tasks)]
    view = ParallelView(seats, max_steps)
    if not flat:
        return view
    env = FlatCombined(view, spec)
    env.spec = EnvSpec(
        id="neurobench/Combine-v1",
        entry_point="neurobench.multi.views:make_flat",
        kwargs={"task": spec.node()},
    )
    return env


def make_flat(task: Any) -> FlatCombined:
    """Entry point that rebuilds a flat combined env from its nested data."""
    spec = build(task)
    assert isinstance(spec, Combined)
    return combine(spec.tasks, flat=True, max_steps=spec.max_steps)
