"""The one evaluation path: every agent, reference agents included, is scored here.

An agent plays ``n_trials`` trials of a task in a vector env seeded with the evaluation
seed. Each environment is one long session (no resets, the agent's state carries over
from trial to trial). Exactly the trials with stream index ``0 .. n_trials - 1`` are
recorded, so every agent is scored on the same trials and results pair across agents.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from neurobench.agents.base import Agent
from neurobench.core.errors import InvalidActionError, InvalidParameterError
from neurobench.core.rules import OUTCOME_NAMES
from neurobench.core.task import Task
from neurobench.core.vector import TaskVectorEnv


def evaluate(
    agent: Agent,
    task: Task,
    *,
    seed: int,
    n_trials: int,
    num_envs: int = 64,
    on_trials: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Per-trial records of ``agent`` on the first ``n_trials`` trials of ``seed``'s stream.

    Columns: ``trial`` (stream index), ``outcome`` (correct / fail / miss / abort),
    ``reward`` (summed over the trial), ``response`` (the answer that ended the trial,
    -1 if none) and the trial's conditions. ``on_trials(k)`` is called as ``k`` more
    trials complete (for progress bars).
    """
    if not isinstance(n_trials, int) or n_trials < 1:
        raise InvalidParameterError(f"n_trials must be an integer >= 1, got {n_trials!r}")
    from neurobench.tasks.game_tasks import GameTask, evaluate_game

    if isinstance(task, GameTask):  # the agent plays a game against its reference opponent
        return evaluate_game(agent, task, seed=seed, n_trials=n_trials, num_envs=num_envs, on_trials=on_trials)
    env = TaskVectorEnv(task, num_envs=min(num_envs, n_trials), trials_per_episode=None)
    obs, info = env.reset(seed=seed)
    state = agent.initial_state(env.num_envs, seed=seed)
    new_trial = np.ones(env.num_envs, dtype=bool)
    parts: list[dict[str, np.ndarray]] = []
    done = 0
    while done < n_trials:
        view = {"target": info["target"], "window": info["window"], "step": info["step"], "new_trial": new_trial}
        actions, state = agent.act(obs, state, view)
        try:
            obs, _, _, _, info = env.step(np.asarray(actions))
        except InvalidActionError as error:
            raise InvalidActionError(f"agent {agent.name!r} on {task.name}: {error}") from None
        new_trial = info["new_trial"]
        if "trial" in info:
            keep = info["_trial"] & (info["trial"]["index"] < n_trials)
            if keep.any():
                parts.append({name: values[keep] for name, values in info["trial"].items()})
                done += int(keep.sum())
                if on_trials is not None:
                    on_trials(int(keep.sum()))
    return _records(parts)


def _records(parts: list[dict[str, np.ndarray]]) -> pd.DataFrame:
    columns = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    frame = pd.DataFrame({name: _column(values) for name, values in columns.items()})
    frame = frame.rename(columns={"index": "trial"})
    frame["outcome"] = pd.Categorical(np.asarray(OUTCOME_NAMES)[frame["outcome"]], categories=OUTCOME_NAMES[1:])
    return frame.sort_values("trial", ignore_index=True)


def _column(values: np.ndarray) -> Any:
    """Scalar conditions stay columns; vector-valued ones (e.g. pulse trains) become JSON."""
    if values.ndim == 1:
        return values
    return [json.dumps(v.tolist()) for v in values]
