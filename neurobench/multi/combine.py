"""``combine``: several tasks at once, one agent each, on one clock (PettingZoo parallel).

Each agent runs its own task — its own observations, actions, rewards and trial
boundaries — while all act at every step of a shared clock, which is why the tasks
must share ``dt``. ``combine(..., flat=True)`` gives the single-agent Gymnasium view:
concatenated observations and one joint action, to test one model doing two tasks at
the same time.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.envs.registration import EnvSpec
from pettingzoo import ParallelEnv

from neurobench.core.checks import check_int
from neurobench.core.env import TaskEnv
from neurobench.core.errors import InvalidActionError, InvalidParameterError
from neurobench.core.registry import make_task
from neurobench.core.task import Task


class CombinedTasks(ParallelEnv):
    """Agents ``<task name>_<i>``; an episode lasts ``max_steps`` steps of the clock."""

    metadata: dict[str, Any] = {"name": "neurobench_combined_v0", "render_modes": [], "is_parallelizable": True}  # noqa: RUF012

    def __init__(self, tasks: Sequence[Task | str], max_steps: int = 1000) -> None:
        built = [make_task(t) for t in tasks]
        if len(built) < 2:
            raise InvalidParameterError(f"combine needs at least two tasks, got {len(built)}")
        dts = {t.dt for t in built}
        if len(dts) > 1:
            listing = ", ".join(f"{t.name} (dt={t.dt:g})" for t in built)
            raise InvalidParameterError(f"combined tasks run on one clock and must share dt; got {listing}")
        check_int("max_steps", max_steps, minimum=1)
        self.tasks = built
        self.max_steps = max_steps
        self.possible_agents = [f"{t.name}_{i}" for i, t in enumerate(built)]
        self.agents: list[str] = []
        self._envs = {a: TaskEnv(t, trials_per_episode=None) for a, t in zip(self.possible_agents, built, strict=True)}

    @functools.cache  # noqa: B019 (PettingZoo requires the same space object on every call)
    def observation_space(self, agent: str) -> gym.spaces.Space:
        return self._envs[agent].observation_space

    @functools.cache  # noqa: B019
    def action_space(self, agent: str) -> gym.spaces.Space:
        return self._envs[agent].action_space

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]]]:
        """``seed`` seeds every task's trial stream (each from its own child seed)."""
        self.agents = list(self.possible_agents)
        self._clock = 0
        seeds = (
            [None] * len(self.agents) if seed is None else np.random.SeedSequence(seed).generate_state(len(self.agents))
        )
        observations, infos = {}, {}
        for agent, child in zip(self.agents, seeds, strict=True):
            observations[agent], infos[agent] = self._envs[agent].reset(seed=None if child is None else int(child))
        return observations, infos

    def step(self, actions: dict[str, Any]) -> tuple[dict, dict, dict, dict, dict]:
        missing = [a for a in self.agents if a not in actions]
        if missing:
            raise InvalidActionError(f"no action for agents {missing}; every live agent acts at every step")
        self._clock += 1
        done = self._clock >= self.max_steps
        observations, rewards, terminations, truncations, infos = {}, {}, {}, {}, {}
        for agent in self.agents:
            obs, reward, _, _, info = self._envs[agent].step(actions[agent])
            observations[agent], rewards[agent], infos[agent] = obs, float(reward), info
            terminations[agent], truncations[agent] = False, done
        if done:
            self.agents = []
        return observations, rewards, terminations, truncations, infos


class FlatCombined(gym.Env):
    """One Gymnasium env over combined tasks: observations concatenated, one
    MultiDiscrete action (one entry per task), rewards summed; ``info[agent]`` holds
    each task's info."""

    metadata: dict[str, Any] = {"render_modes": []}  # noqa: RUF012

    def __init__(self, combined: CombinedTasks) -> None:
        self.combined = combined
        spaces = [combined.observation_space(a) for a in combined.possible_agents]
        self.observation_space = gym.spaces.Box(
            np.concatenate([s.low for s in spaces]), np.concatenate([s.high for s in spaces]), dtype=np.float32
        )
        self.action_space = gym.spaces.MultiDiscrete([combined.action_space(a).n for a in combined.possible_agents])

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


def combine(tasks: Sequence[Task | str], *, flat: bool = False, max_steps: int = 1000) -> CombinedTasks | FlatCombined:
    """Tasks side by side on one clock: a PettingZoo ParallelEnv, or with ``flat`` one
    Gymnasium env for a single model doing all of them at once."""
    combined = CombinedTasks(tasks, max_steps=max_steps)
    if not flat:
        return combined
    env = FlatCombined(combined)
    env.spec = EnvSpec(
        id="neurobench/Combined-v0", entry_point=functools.partial(combine, tasks, flat=True, max_steps=max_steps)
    )
    return env
