"""The one agent loop: every agent on every task — trial tasks, closed loops, games
against their opponents — is evaluated, recorded and plotted through :func:`evaluate`.

An agent plays ``n_trials`` trials of a task on the task's engine, with ``num_envs``
sessions seeded by the evaluation seed. Each environment is one long session (no resets,
the agent's state carries over from trial to trial). Exactly the first ``n_trials`` trials
of the seed's stream are recorded (for tasks that run sessions, the first trials of each
session), so every agent is scored on the same trials and results pair across agents.

With ``record_steps=True`` it also returns every step: trial index, step in the trial,
period, observation, action, reward, target and — for agents that expose it
(``Agent.hidden``) — the hidden state: the raw material of Yang et al. (2019)-style
analyses of network activity.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, overload

import numpy as np
import pandas as pd

from neurobench.agents.base import Agent
from neurobench.core.errors import InvalidActionError, InvalidParameterError
from neurobench.core.registry import make_task
from neurobench.core.rules import OUTCOME_NAMES
from neurobench.core.task import Task

EVALUATION_ENVS = 64  # envs an evaluation steps in lockstep by default


@dataclass
class Steps:
    """Per-step records of an evaluation, one row per (step, environment) in time order.

    ``trial`` (stream index), ``env``, ``step`` (within the trial), ``period`` (index into
    ``period_names``), ``obs``, ``action``, ``reward``, ``target`` and, if the agent exposes
    it, ``hidden`` ``[rows, units]``. Only steps of recorded trials are kept.
    """

    trial: np.ndarray
    env: np.ndarray
    step: np.ndarray
    period: np.ndarray
    obs: np.ndarray
    action: np.ndarray
    reward: np.ndarray
    target: np.ndarray
    hidden: np.ndarray | None
    period_names: tuple[str, ...]

    def of_trial(self, index: int) -> dict[str, np.ndarray]:
        """The steps of one trial, in order."""
        rows = np.flatnonzero(self.trial == index)
        out = {k: getattr(self, k)[rows] for k in ("step", "period", "obs", "action", "reward", "target")}
        if self.hidden is not None:
            out["hidden"] = self.hidden[rows]
        return out


@overload
def evaluate(
    agent: Agent,
    task: Any,
    *,
    seed: int,
    n_trials: int,
    num_envs: int = ...,
    on_trials: Callable[[int], None] | None = ...,
    record_steps: Literal[False] = ...,
    prepare: bool = ...,
) -> pd.DataFrame: ...


@overload
def evaluate(
    agent: Agent,
    task: Any,
    *,
    seed: int,
    n_trials: int,
    num_envs: int = ...,
    on_trials: Callable[[int], None] | None = ...,
    record_steps: Literal[True],
    prepare: bool = ...,
) -> tuple[pd.DataFrame, Steps]: ...


@overload
def evaluate(
    agent: Agent,
    task: Any,
    *,
    seed: int,
    n_trials: int,
    num_envs: int = ...,
    on_trials: Callable[[int], None] | None = ...,
    record_steps: bool = ...,
    prepare: bool = ...,
) -> pd.DataFrame | tuple[pd.DataFrame, Steps]: ...


def evaluate(
    agent: Agent,
    task: Any,
    *,
    seed: int,
    n_trials: int,
    num_envs: int = EVALUATION_ENVS,
    on_trials: Callable[[int], None] | None = None,
    record_steps: bool = False,
    prepare: bool = True,
) -> pd.DataFrame | tuple[pd.DataFrame, Steps]:
    """Per-trial records of ``agent`` on the first ``n_trials`` trials of ``seed``'s stream.

    Columns: ``trial`` (stream index), ``outcome`` (correct / fail / miss / abort),
    ``score`` (the trial's success in [0, 1]), ``reward`` (summed over the trial),
    ``response`` (the last discrete answer, -1 if none or the report is continuous) and the
    trial's conditions. ``on_trials(k)`` is called as ``k`` more trials complete (for
    progress bars). ``prepare=False`` skips ``agent.prepare(task)`` (the caller has done
    it). With ``record_steps`` the per-step :class:`Steps` come too.
    """
    if not isinstance(n_trials, int) or isinstance(n_trials, bool) or n_trials < 1:
        raise InvalidParameterError(f"n_trials must be an integer >= 1, got {n_trials!r}")
    from neurobench.core.make import single_agent

    task = single_agent(make_task(task))
    if prepare:
        agent.prepare(task)
    session = getattr(task, "session_trials", None)
    if session is not None:  # opponents learn over a session: run sessions of the length scores assume
        num_envs = -(-n_trials // session)
    engine = task.engine(min(num_envs, n_trials))
    obs, view = engine.reset(seed)
    state = agent.initial_state(engine.num_envs, seed=seed)
    limit = _session_limit(task, n_trials, engine.num_envs)
    parts: list[dict[str, np.ndarray]] = []
    steps: list[dict[str, Any]] = []
    done = 0
    while done < n_trials:
        info = {"target": view.target, "window": view.window, "step": view.step, "new_trial": view.new_trial}
        actions, state = agent.act(obs, state, info)
        if record_steps:
            row = {
                "trial": view.trial,
                "step": view.step,
                "period": engine.periods(),
                "obs": obs,
                "target": view.target,
            }
        try:
            result = engine.step(np.asarray(actions))
        except InvalidActionError as error:
            raise InvalidActionError(f"agent {agent.name!r} on {task.name}: {error}") from None
        if record_steps:
            row.update(action=np.asarray(actions), reward=result.reward, hidden=agent.hidden(state))
            steps.append(row)
        obs, view = result.obs, result.view
        if result.trials is not None:
            keep = result.ended & limit(result.trials["index"])
            if keep.any():
                parts.append({name: values[keep] for name, values in result.trials.items()})
                done += int(keep.sum())
                if on_trials is not None:
                    on_trials(int(keep.sum()))
    records = _records(parts)
    if not record_steps:
        return records
    return records, _steps(steps, set(records["trial"].tolist()), task)


def _session_limit(task: Task, n_trials: int, num_envs: int) -> Callable[[np.ndarray], np.ndarray]:
    """Which trial indices count: the stream's first ``n_trials``; for tasks that run
    sessions, ``n_trials`` spread over the sessions as evenly as can be, in order
    (indices are session * stride + position)."""
    if not getattr(task, "sequential", False):
        return lambda index: index < n_trials
    from neurobench.core.stream import SessionStream

    base, longer = divmod(n_trials, num_envs)  # the first ``longer`` sessions get one more trial

    def limit(index: np.ndarray) -> np.ndarray:
        session, position = np.divmod(index, SessionStream.SESSION_STRIDE)
        return position < base + (session < longer)

    return limit


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


def _steps(rows: list[dict[str, Any]], kept: set[int], task: Task) -> Steps:
    num_envs = len(rows[0]["trial"])
    stacked = {
        key: np.stack([r[key] for r in rows])
        for key in ("trial", "step", "period", "obs", "action", "reward", "target")
    }
    env = np.broadcast_to(np.arange(num_envs), stacked["trial"].shape)
    flat = {key: value.reshape(-1, *value.shape[2:]) for key, value in stacked.items()}
    mask = np.isin(flat["trial"], list(kept))
    hidden = None
    if rows[0]["hidden"] is not None:
        hidden = np.stack([np.asarray(r["hidden"]) for r in rows]).reshape(-1, np.asarray(rows[0]["hidden"]).shape[-1])[
            mask
        ]
    return Steps(
        trial=flat["trial"][mask],
        env=env.reshape(-1)[mask],
        step=flat["step"][mask],
        period=flat["period"][mask],
        obs=flat["obs"][mask],
        action=flat["action"][mask],
        reward=flat["reward"][mask],
        target=flat["target"][mask],
        hidden=hidden,
        period_names=task.period_names,
    )
