"""Record an agent acting in one :class:`TaskEnv`, step by step (for plots and tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neurobench.agents.base import Agent
from neurobench.core.env import TaskEnv
from neurobench.core.trials import TrialBatch


@dataclass
class Rollout:
    """Everything that happened, one row per step.

    ``obs[i]`` is the observation the agent acted on at step ``i``; ``trial[i]`` and
    ``t[i]`` say which trial (its stream index) and which step of it that was.
    ``trials`` holds each completed trial's record (outcome, reward, conditions) and
    ``batches`` each trial's arrays (periods, ground truth), keyed by stream index.
    """

    obs: np.ndarray
    action: np.ndarray
    reward: np.ndarray
    gt: np.ndarray
    trial: np.ndarray
    t: np.ndarray
    trials: list[dict[str, Any]] = field(default_factory=list)
    batches: dict[int, TrialBatch] = field(default_factory=dict)

    def outcomes(self) -> list[str]:
        return [record["outcome"] for record in self.trials]


def rollout(env: TaskEnv, agent: Agent, n_trials: int, seed: int = 0) -> Rollout:
    """Run ``agent`` in ``env`` from ``reset(seed=seed)`` until ``n_trials`` end.

    Episode truncation does not stop the run: the session goes on with ``reset()``
    (same trial stream) and the agent keeps its state, as in the harness.
    """
    task = env.task
    agent.fit(task, seed=seed, budget=0)
    state = agent.initial_state(1, seed=seed)
    obs, info = env.reset(seed=seed)
    new_trial = True
    rows: dict[str, list[Any]] = {k: [] for k in ("obs", "action", "reward", "gt", "trial", "t")}
    trials: list[dict[str, Any]] = []
    batches: dict[int, TrialBatch] = {}
    while len(trials) < n_trials:
        current = env.trial
        batches.setdefault(int(current.index[0]), current)
        batch_info = {
            "target": np.array([info["target"]]),
            "window": np.array([info["window"]]),
            "step": np.array([info["step"]]),
            "new_trial": np.array([new_trial]),
        }
        actions, state = agent.act(obs[None], state, batch_info)
        action = int(actions[0])
        rows["obs"].append(obs)
        rows["trial"].append(int(current.index[0]))
        rows["t"].append(env.step_in_trial)
        obs, reward, _, truncated, info = env.step(action)
        rows["action"].append(action)
        rows["reward"].append(float(reward))
        rows["gt"].append(info["gt"])
        new_trial = info["new_trial"]
        if new_trial:
            trials.append(info["trial"])
        if truncated:
            obs, info = env.reset()
            new_trial = True
    arrays = {key: np.asarray(values) for key, values in rows.items()}
    return Rollout(**arrays, trials=trials, batches=batches)
