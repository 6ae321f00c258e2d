"""Figures of trials and of behaviour, good enough for a paper.

``neurobench.plot.trial("PerceptualDecisionMaking", agent=my_agent, n_trials=3)`` returns a
matplotlib Figure of trials as played: inputs (drawn as steps: a value holds for its whole
time step), ground truth, the agent's actions and rewards, periods shaded and named.
Without an agent, trial tasks are drawn whole from their stream (the supervised view);
closed-loop tasks are played by the oracle. Nothing is shown or saved unless you ask;
``save(fig, "trials")`` writes PNG and SVG (vector) files.

Giving an agent to a plot never retrains it: plots call ``agent.prepare``, never ``fit``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from neurobench.core.errors import InvalidParameterError, UnknownNameError
from neurobench.core.registry import make_task
from neurobench.core.stream import lane_reader
from neurobench.core.task import Task

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from neurobench.agents.base import Agent

_MAX_LINE_UNITS = 6  # more input units than this are drawn as a heat map
_MAX_ACTION_LABELS = 12  # more actions than this get a few tick labels
_PERIOD_COLORS = ("#ececec", "#d9e7f5", "#f7e4d0", "#dcefd9", "#efdcef", "#f5f2c9", "#d9f0f0", "#f0d9d9")


def trial(task: Any, agent: Agent | None = None, n_trials: int = 2, seed: int = 0, **params: Any) -> Figure:
    """Draw ``n_trials`` consecutive trials of ``task`` (a name, nested data or a task;
    ``params`` go to it) from seed ``seed``."""
    from neurobench.core.make import single_agent

    built = single_agent(make_task(task, **params))
    if agent is None and built.supervised:
        return trials_of(built, seed, n_trials)
    from neurobench.agents.reference import OracleAgent
    from neurobench.evaluate import evaluate

    player = agent if agent is not None else OracleAgent()
    _, steps = evaluate(player, built, seed=seed, n_trials=n_trials, num_envs=1, record_steps=True)
    trial_ids = list(dict.fromkeys(steps.trial.tolist()))
    lengths = [int(np.sum(steps.trial == i)) for i in trial_ids]
    names = [steps.period_names[p] if p >= 0 else "" for p in steps.period]
    return _draw(built, steps.obs, steps.target, names, lengths, steps.action, steps.reward, title_agent=player.name)


def trials_of(task: Task, seed: int, n_trials: int) -> Figure:
    """The first ``n_trials`` trials of a seed's stream, whole, with their ground truth."""
    _, next_batch = lane_reader(task, seed)  # type: ignore[arg-type]
    batch = next_batch().take(np.arange(n_trials))
    rows = np.concatenate([np.full(length, i) for i, length in enumerate(batch.length)])
    steps = np.concatenate([np.arange(length) for length in batch.length])
    codes = batch.period_at(rows, steps, task.period_names)
    names = [task.period_names[c] if c >= 0 else "" for c in codes]
    return _draw(task, batch.obs[rows, steps], batch.target[rows, steps], names, batch.length.tolist())


def _draw(
    task: Task,
    obs: np.ndarray,
    target: np.ndarray,
    periods: Sequence[str],
    lengths: Sequence[int],
    actions: np.ndarray | None = None,
    rewards: np.ndarray | None = None,
    title_agent: str | None = None,
) -> Figure:
    import matplotlib.pyplot as plt

    rows = 2 if actions is None else 3
    heights = [2.2, 1.6, 1.0][:rows]
    fig, grid = plt.subplots(
        rows, 1, sharex=True, figsize=(9, sum(heights) + 1.2), squeeze=False, gridspec_kw={"height_ratios": heights}
    )
    axes = list(grid[:, 0])
    dt = task.dt
    edges = np.arange(len(obs) + 1) * dt  # step k covers [k dt, (k + 1) dt)
    _inputs(fig, axes[0], task, obs, edges)
    _actions(axes[1], task, target, actions, edges)
    if rewards is not None:
        axes[2].stairs(rewards, edges, color="tab:green", lw=1.5)
        axes[2].axhline(0, color="grey", lw=0.5)
        axes[2].set_ylabel("reward")
    _shade(axes, periods, edges)
    for boundary in np.cumsum(lengths)[:-1]:
        for ax in axes:
            ax.axvline(boundary * dt, color="black", lw=1.2)
    axes[-1].set_xlabel("time (ms)")
    axes[-1].set_xlim(edges[0], edges[-1])
    who = f", played by {title_agent}" if title_agent else ""
    fig.suptitle(f"{task.name} (dt = {task.dt:g} ms){who}", fontsize="medium")
    fig.tight_layout()
    return fig


def _inputs(fig: Figure, ax: Axes, task: Task, obs: np.ndarray, edges: np.ndarray) -> None:
    labels = task.obs_channels.labels()
    if len(labels) <= _MAX_LINE_UNITS:
        for unit, label in enumerate(labels):
            ax.stairs(obs[:, unit], edges, label=label, lw=1.3, baseline=None)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small", frameon=False)
    else:
        image = ax.pcolormesh(edges, np.arange(len(labels) + 1) - 0.5, obs.T, cmap="viridis", shading="flat", zorder=1)
        groups = task.obs_channels.widths()
        ticks = [task.obs_channels[name].start + (width - 1) / 2 for name, width in groups.items()]  # group centres
        ax.set_yticks(ticks, [f"{name} ({width})" if width > 1 else name for name, width in groups.items()])
        ax.tick_params(axis="y", labelsize="x-small", length=0)
        for name in groups:  # thin lines between the groups of units
            ax.axhline(task.obs_channels[name].start - 0.5, color="white", lw=0.4, zorder=2)
        ax.invert_yaxis()
        fig.colorbar(image, ax=ax, label="input", pad=0.01, fraction=0.04)
    ax.set_ylabel("inputs")


def _actions(ax: Axes, task: Task, target: np.ndarray, actions: np.ndarray | None, edges: np.ndarray) -> None:
    if task.continuous:
        for k in range(task.n_actions):
            ax.stairs(np.asarray(target)[:, k], edges, color=f"C{k}", ls="--", label=f"target[{k}]", baseline=None)
            if actions is not None:
                ax.stairs(np.asarray(actions)[:, k], edges, color=f"C{k}", label=f"action[{k}]", baseline=None)
        ax.set_ylabel("action")
    else:
        ax.stairs(target, edges, color="black", ls="--", lw=1.2, label="ground truth", baseline=None)
        if actions is not None:
            ax.stairs(actions, edges, color="tab:red", lw=1.5, alpha=0.85, label="action", baseline=None)
        labels = task.action_channels.labels()
        if len(labels) <= _MAX_ACTION_LABELS:
            ax.set_yticks(range(len(labels)), labels, fontsize="small")
        else:  # a ring of answers: label the groups' first units and every quarter of the ring
            step = max(1, (len(labels) - 1) // 4)
            shown = [0, *range(1 + step, len(labels), step)]
            ax.set_yticks(shown, [labels[k] for k in shown], fontsize="x-small")
        ax.set_ylim(-0.5, len(labels) - 0.5)
        ax.set_ylabel("action")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize="small", frameon=False)


def _shade(axes: Sequence[Any], periods: Sequence[str], edges: np.ndarray) -> None:
    """Shade each run of steps spent in one period, and name it above the top panel."""
    names = list(dict.fromkeys(p for p in periods if p))
    longest = max((len(n) for n in names), default=1)
    min_width = (edges[-1] - edges[0]) * longest / 110  # about the width of the name at this figure's size
    start = 0
    for i in range(1, len(periods) + 1):
        if i < len(periods) and periods[i] == periods[start]:
            continue
        name = periods[start]
        if name:
            color = _PERIOD_COLORS[names.index(name) % len(_PERIOD_COLORS)]
            left, right = edges[start], edges[i]
            for ax in axes:
                ax.axvspan(left, right, color=color, zorder=0, lw=0)
            if (right - left) >= min_width / 12:  # short periods get vertical names; the shortest none
                axes[0].text(
                    (left + right) / 2,
                    1.01,
                    name,
                    transform=axes[0].get_xaxis_transform(),
                    ha="center",
                    va="bottom",
                    fontsize="x-small",
                    rotation=0 if right - left >= min_width else 90,
                    clip_on=False,
                )
        start = i


def save(fig: Figure, path: str | Path, formats: Sequence[str] = ("png", "svg"), dpi: int = 200) -> list[Path]:
    """Write ``fig`` as ``path.<format>`` for each format (PNG for slides, SVG/PDF for papers)."""
    base = Path(path)
    out = []
    for fmt in formats:
        target = base.with_suffix(f".{fmt}")
        fig.savefig(target, dpi=dpi, bbox_inches="tight")
        out.append(target)
    return out


def psychometric(records: Any, task: Any = None, strength: str = "coh", truth: str = "ground_truth") -> Figure:
    """Choice against signed stimulus strength, with binomial error bars and the fit."""
    import matplotlib.pyplot as plt

    from neurobench.scoring.psychometric import psychometric as fit

    curve = fit(records, task, strength, truth)
    fig, ax = plt.subplots(figsize=(4.5, 3.6))
    ax.errorbar(curve.x, curve.p_first, yerr=curve.error, fmt="o", color="black", ms=4, capsize=2, label="data")
    if curve.fitted is not None:
        x = np.linspace(curve.x.min(), curve.x.max(), 200)
        ax.plot(x, curve.fitted(x), color="tab:blue", label=curve.describe())
    else:
        ax.text(
            0.5, 0.05, f"no fit: {curve.warning}", transform=ax.transAxes, ha="center", fontsize="x-small", wrap=True
        )
    ax.axhline(0.5, color="grey", lw=0.5)
    ax.axvline(0, color="grey", lw=0.5)
    ax.set_xlabel(f"signed {curve.strength} (positive: evidence for the first option)")
    ax.set_ylabel("P(first option)")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize="x-small", frameon=False, loc="upper left")
    fig.tight_layout()
    return fig


def chronometric(records: Any, strength: str = "coh") -> Figure:
    """Reaction time (and accuracy) against stimulus strength, for reaction-time tasks."""
    import matplotlib.pyplot as plt

    from neurobench.scoring.psychometric import chronometric as curve

    table = curve(records, strength)
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(4.5, 4.8), gridspec_kw={"height_ratios": [2, 1]})
    top.errorbar(table.index, table["rt"], yerr=table["rt_se"], fmt="o-", color="black", ms=4, capsize=2)
    top.set_ylabel("reaction time (ms)")
    bottom.plot(table.index, table["accuracy"], "o-", color="tab:blue", ms=4)
    bottom.set_ylim(0.4, 1.02)
    bottom.set_ylabel("accuracy")
    bottom.set_xlabel(strength)
    top.set_title("chronometric curve", fontsize="medium")
    fig.tight_layout()
    return fig


def state_space(steps: Any, records: Any, color_by: str = "ground_truth", components: int = 2) -> Figure:
    """Hidden states projected on their first principal components, one line per trial,
    coloured by a trial condition (left), and the first component over the trial's steps,
    averaged per condition with the periods of the first trial shaded (right).

    ``steps`` and ``records`` are what ``evaluate(..., record_steps=True)`` returns for an
    agent that exposes its hidden state (``Agent.hidden``)."""
    import matplotlib.pyplot as plt

    if steps.hidden is None:
        raise InvalidParameterError("these steps hold no hidden states: the agent's hidden() returned None")
    if color_by not in records:
        raise UnknownNameError("trial condition to colour by", color_by, list(records.columns))
    hidden = np.asarray(steps.hidden, dtype=np.float64)
    centred = hidden - hidden.mean(axis=0)
    _, singular, axes = np.linalg.svd(centred, full_matrices=False)
    projected = centred @ axes[:components].T
    explained = singular[:components] ** 2 / np.sum(singular**2)
    condition = dict(zip(records["trial"], records[color_by], strict=True))
    values = sorted({condition[t] for t in np.unique(steps.trial) if t in condition}, key=str)
    colors = {v: plt.get_cmap("viridis")(k / max(len(values) - 1, 1)) for k, v in enumerate(values)}
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.8))
    for trial in np.unique(steps.trial):
        rows = np.flatnonzero(steps.trial == trial)
        color = colors[condition[trial]]
        left.plot(projected[rows, 0], projected[rows, 1], color=color, lw=0.6, alpha=0.6)
        left.plot(projected[rows[0], 0], projected[rows[0], 1], "o", color=color, ms=2)
    for value in values:
        trials = [t for t in np.unique(steps.trial) if condition[t] == value]
        length = max(int(np.sum(steps.trial == t)) for t in trials)
        total, count = np.zeros(length), np.zeros(length)
        for t in trials:
            trace = projected[steps.trial == t, 0]
            total[: len(trace)] += trace
            count[: len(trace)] += 1
        right.plot(np.arange(length), total / np.maximum(count, 1), color=colors[value], label=f"{color_by} = {value}")
    first = steps.trial == steps.trial[0]
    names = [steps.period_names[p] if p >= 0 else "" for p in steps.period[first]]
    _shade([right], names, np.arange(int(first.sum()) + 1) - 0.5)
    left.set_xlabel(f"PC1 ({explained[0]:.0%} of variance)")
    left.set_ylabel(f"PC2 ({explained[1]:.0%})" if components > 1 else "")
    left.set_title("hidden state, one line per trial", fontsize="medium")
    right.set_xlabel("step in trial")
    right.set_ylabel("PC1")
    right.set_title(f"PC1 by {color_by} (mean over trials)", fontsize="medium", pad=16)
    right.legend(fontsize="x-small", frameon=False)
    fig.tight_layout()
    return fig


def breakdown(result: Any, task: str | None = None) -> Figure:
    """Success per task inside a multitask run (a result file or its parsed content): bars
    (mean over seeds, with the seeds as dots) against each task's chance and ceiling."""
    import json

    import matplotlib.pyplot as plt

    data = json.loads(Path(result).read_text()) if isinstance(result, str | Path) else result
    runs = [r for r in data["runs"] if "by_task" in r and task in (None, r["task"])]
    if not runs:
        raise InvalidParameterError("this result has no multitask run with a per-task breakdown")
    names = [part["task"] for part in runs[0]["by_task"]]
    success = np.array([[part["success"] for part in run["by_task"]] for run in runs])  # [seeds, tasks]
    chance = np.array([part["chance"] for part in runs[0]["by_task"]])
    ceiling = np.array([part["ceiling"] for part in runs[0]["by_task"]])
    labels = [n.split(".", 1)[-1] for n in names]
    longest = max(len(label) for label in labels)  # rotated tick labels take this much height
    fig, ax = plt.subplots(figsize=(max(6.0, 0.32 * len(names) + 3.0), 3.0 + 0.075 * longest))
    x = np.arange(len(names))
    ax.bar(x, success.mean(axis=0), color="tab:blue", alpha=0.75, label="success (mean over seeds)")
    for row in success:
        ax.plot(x, row, "o", color="black", ms=2.5)
    ax.hlines(chance, x - 0.4, x + 0.4, color="tab:red", lw=1.5, label="chance")
    ax.hlines(ceiling, x - 0.4, x + 0.4, color="grey", lw=1.5, ls="--", label="ceiling")
    ax.set_xticks(x, labels, rotation=90, fontsize="small")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("success (each task's criterion)")
    suite = data["suite"]
    ax.set_title(
        f"{data['agent']['name']} on {runs[0]['task']} ({suite['name']} v{suite['version']}, "
        f"budget {suite['budget']:,} steps, {len(runs)} seeds)",
        fontsize="medium",
    )
    ax.legend(fontsize="x-small", frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    return fig
