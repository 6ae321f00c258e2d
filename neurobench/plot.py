"""Plots of trials: inputs, ground truth, an agent's actions and rewards, periods shaded.

``neurobench.plot.trial("PerceptualDecisionMaking", agent=OracleAgent(), n_trials=3)``
returns a matplotlib Figure; nothing is shown or saved unless you ask.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from neurobench.core.env import TaskEnv
from neurobench.core.registry import make
from neurobench.core.rollout import Rollout, rollout
from neurobench.core.stream import TrialStream
from neurobench.core.task import Task
from neurobench.core.trials import TrialBatch

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from neurobench.agents.base import Agent

_MAX_LINE_UNITS = 6  # more input units than this are drawn as a heat map


def trial(
    env: str | Task | TaskEnv,
    agent: Agent | None = None,
    n_trials: int = 2,
    seed: int = 0,
    **params: Any,
) -> Figure:
    """Draw ``n_trials`` consecutive trials of ``env`` from ``reset(seed=seed)``.

    ``env`` is a task name or task (``params`` go to :func:`neurobench.make`) or an env.
    With an ``agent``, the trials are played: its actions and rewards are drawn and
    trials end where the agent's answers ended them. Without one, the trials are
    drawn whole, with their ground truth only.
    """
    environment = env if isinstance(env, TaskEnv) else make(env, **params)
    if agent is not None:
        return played(rollout(environment, agent, n_trials, seed), environment.task)
    return batch(TrialStream.seeded(environment.task, seed).take(n_trials), environment.task)


def batch(trials: TrialBatch, task: Task) -> Figure:
    """Draw every trial of a batch back to back, with its ground truth."""
    steps = [np.arange(length) for length in trials.length]
    index = np.concatenate([np.full(len(s), i) for i, s in enumerate(steps)])
    t = np.concatenate(steps)
    return _draw(
        task,
        obs=trials.obs[index, t],
        gt=trials.target[index, t],
        t=t,
        periods=[_periods_of(trials, i, trials.length[i]) for i in range(trials.n)],
        trial_lengths=[len(s) for s in steps],
    )


def played(record: Rollout, task: Task) -> Figure:
    """Draw a :class:`~neurobench.core.rollout.Rollout`: what the agent saw and did."""
    ids, starts = np.unique(record.trial, return_index=True)
    order = np.argsort(starts)
    lengths = np.diff(np.append(starts[order], len(record.trial)))
    periods = [
        _periods_at(record.batches[int(i)], record.t[s : s + n])
        for i, s, n in zip(ids[order], starts[order], lengths, strict=True)
    ]
    return _draw(
        task,
        obs=record.obs,
        gt=record.gt,
        t=record.t,
        periods=periods,
        trial_lengths=list(lengths),
        actions=record.action,
        rewards=record.reward,
    )


def _periods_of(trials: TrialBatch, i: int, length: int) -> list[str]:
    return _periods_at(trials.take(np.array([i])), np.arange(length))


def _periods_at(one_trial: TrialBatch, t: np.ndarray) -> list[str]:
    """Name of the period each step ``t`` of a one-trial batch falls in."""
    names = np.full(len(t), "", dtype=object)
    for name, (start, end) in one_trial.periods.items():
        names[(t >= start[0]) & (t < end[0])] = name
    return list(names)


def _draw(
    task: Task,
    obs: np.ndarray,
    gt: np.ndarray,
    t: np.ndarray,
    periods: Sequence[list[str]],
    trial_lengths: Sequence[int],
    actions: np.ndarray | None = None,
    rewards: np.ndarray | None = None,
) -> Figure:
    import matplotlib.pyplot as plt

    rows = 2 if actions is None else 3
    fig, axes = plt.subplots(rows, 1, sharex=True, figsize=(10, 2.2 * rows + 0.8), squeeze=False)
    axes = axes[:, 0]
    time = np.arange(len(t)) * task.dt
    _inputs(axes[0], task, obs, time)
    _choices(axes[1], task, gt, actions, time)
    if rewards is not None:
        axes[2].step(time, rewards, where="post", color="tab:green")
        axes[2].set_ylabel("reward")
    flat_periods = [p for trial_periods in periods for p in trial_periods]
    _shade(axes, flat_periods, time, task.dt)
    for boundary in np.cumsum(trial_lengths)[:-1]:
        for ax in axes:
            ax.axvline(boundary * task.dt, color="black", lw=1)
    axes[-1].set_xlabel("time (ms)")
    axes[0].set_title(f"{task.name} (dt = {task.dt:g} ms)")
    fig.tight_layout()
    return fig


def _inputs(ax: Axes, task: Task, obs: np.ndarray, time: np.ndarray) -> None:
    labels = task.obs_channels.labels()
    if len(labels) <= _MAX_LINE_UNITS:
        for unit, label in enumerate(labels):
            ax.plot(time, obs[:, unit], label=label, lw=1)
        ax.legend(loc="upper right", fontsize="small", ncol=min(len(labels), 3))
    else:
        step = time[1] - time[0] if len(time) > 1 else 1.0
        ax.imshow(
            obs.T,
            aspect="auto",
            interpolation="nearest",
            cmap="viridis",
            zorder=1,
            extent=(time[0], time[-1] + step, len(labels) - 0.5, -0.5),
        )
        ticks = [task.obs_channels[name].start for name in task.obs_channels]
        ax.set_yticks(ticks, list(task.obs_channels))
    ax.set_ylabel("inputs")


def _choices(ax: Axes, task: Task, gt: np.ndarray, actions: np.ndarray | None, time: np.ndarray) -> None:
    ax.step(time, gt, where="post", color="black", ls="--", label="ground truth")
    if actions is not None:
        ax.step(time, actions, where="post", color="tab:red", alpha=0.8, label="action")
    labels = task.action_channels.labels()
    ax.set_yticks(range(len(labels)), labels)
    ax.set_ylim(-0.5, len(labels) - 0.5)
    ax.legend(loc="upper right", fontsize="small")
    ax.set_ylabel("action")


def _shade(axes: Sequence[Any], periods: list[str], time: np.ndarray, dt: float) -> None:
    """Shade each run of steps spent in one period, and name it on the top panel."""
    colors = ["#e8e8e8", "#d6e6f5", "#f6e3cf", "#dcefd9", "#efd9ef", "#f5f2c9"]
    names = list(dict.fromkeys(p for p in periods if p))
    start = 0
    for i in range(1, len(periods) + 1):
        if i < len(periods) and periods[i] == periods[start]:
            continue
        name = periods[start]
        if name:
            color = colors[names.index(name) % len(colors)]
            left, right = time[start], time[i - 1] + dt
            for ax in axes:
                ax.axvspan(left, right, color=color, zorder=0, lw=0)
            if i - start < 2:
                start = i
                continue
            axes[0].text(
                (left + right) / 2,
                1.0,
                name,
                transform=axes[0].get_xaxis_transform(),
                ha="center",
                va="bottom",
                fontsize="x-small",
                clip_on=True,
            )
        start = i


def psychometric(records: Any, strength: str = "coh", truth: str = "ground_truth") -> Figure:
    """Choice against signed stimulus strength, with the fitted sigmoid.

    ``records`` are evaluation records (:func:`neurobench.evaluate.evaluate`, or a run's
    ``records/*.csv`` read with pandas) of a two-choice task.
    """
    import matplotlib.pyplot as plt

    from neurobench.scoring.psychometric import psychometric as fit

    curve = fit(records, strength, truth)
    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    ax.scatter(curve.x, curve.p_first, s=12 + 60 * curve.n / curve.n.max(), label="data", zorder=3)
    if np.isfinite(curve.bias):
        x = np.linspace(curve.x.min(), curve.x.max(), 200)
        ax.plot(x, curve.fitted(x), label=f"fit: bias {curve.bias:.2g}, scale {curve.scale:.2g}")
    ax.axhline(0.5, color="grey", lw=0.5)
    ax.axvline(0, color="grey", lw=0.5)
    ax.set_xlabel(f"signed {strength} (positive: evidence for the first choice)")
    ax.set_ylabel("P(first choice)")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize="small")
    fig.tight_layout()
    return fig
