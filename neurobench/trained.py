"""Trained agents kept in a run directory, evaluated again without retraining.

Every job of a run saves what its agent learned into ``run_dir/work/<job>/model/``
(:meth:`Agent.save`; agents that learn nothing write nothing). From there an agent is
rebuilt from the run's own configuration and :meth:`Agent.load`-ed, never fitted, so a
network trained overnight can be evaluated on more trials or other seeds, plotted, or its
hidden states recorded for analysis::

    from neurobench.trained import load
    job = load("runs/working_memory/rnn_supervised", task="DelayMatchSample", seed=0)
    records, steps = evaluate(job.agent, job.task, seed=job.eval_seed, n_trials=500, record_steps=True)

or ``python -m neurobench evaluate run_dir=runs/working_memory/rnn_supervised n_trials=500``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from neurobench.agents.base import Agent
from neurobench.core.errors import NeuroBenchError, UnknownNameError
from neurobench.core.task import Task
from neurobench.evaluate import evaluate
from neurobench.run import MODEL, RUN_FORMAT, build_agent, score_run
from neurobench.suites import Job, Suite


@dataclass
class TrainedJob:
    """One job of a run, its agent loaded from the job's saved model."""

    job: Job
    agent: Agent
    task: Task

    @property
    def eval_seed(self) -> int:
        return self.job.eval_seed


def jobs(run_dir: Path | str) -> list[Job]:
    """The jobs of the run in ``run_dir`` (its suite's, in order)."""
    return _suite(Path(run_dir)).jobs()


def load(run_dir: Path | str, task: str | None = None, seed: int | None = None) -> TrainedJob:
    """The trained agent of one job: the run's only job, or the one of ``task`` (its label
    in the suite) and training ``seed``."""
    run_dir = Path(run_dir)
    stamp = _stamp(run_dir)
    candidates = [j for j in _suite(run_dir).jobs() if task in (None, j.task.label) and seed in (None, j.seed)]
    if len(candidates) != 1:
        labels = sorted({f"task={j.task.label} seed={j.seed}" for j in _suite(run_dir).jobs()})
        what = "no job matches" if not candidates else f"{len(candidates)} jobs match"
        raise UnknownNameError(f"job of {run_dir} ({what}; give task= and seed=)", f"task={task} seed={seed}", labels)
    job = candidates[0]
    model = run_dir / "work" / job.key / MODEL
    agent = build_agent(stamp["agent"])
    built = job.task.build()
    if _learns(agent) and not model.is_dir():
        raise NeuroBenchError(
            f"{model} does not exist: job {job.key} has not finished training, or ran before models were kept"
        )
    agent.load(model, built)
    return TrainedJob(job, agent, built)


def evaluate_run(
    run_dir: Path | str, *, n_trials: int | None = None, seed: int | None = None, num_envs: int | None = None
) -> list[dict[str, Any]]:
    """Evaluate every job's trained agent again (its own evaluation seed unless ``seed``),
    on ``n_trials`` trials (the suite's count unless given); one scored row per job."""
    run_dir = Path(run_dir)
    suite = _suite(run_dir)
    rows = []
    for job in suite.jobs():
        trained = load(run_dir, job.task.label, job.seed)
        eval_seed = job.eval_seed if seed is None else seed
        records = evaluate(
            trained.agent,
            trained.task,
            seed=eval_seed,
            n_trials=n_trials or suite.eval_trials,
            num_envs=num_envs or suite.num_envs,
            prepare=False,
        )
        assert isinstance(records, pd.DataFrame)
        scored = score_run(trained.task, records)
        rows.append({"task": job.task.label, "seed": job.seed, "eval_seed": eval_seed, **scored["metrics"]})
    return rows


def _learns(agent: Agent) -> bool:
    return type(agent).save is not Agent.save


def _stamp(run_dir: Path) -> dict[str, Any]:
    path = run_dir / "run.json"
    try:
        stamp = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise NeuroBenchError(f"{path} cannot be read ({error}): is {run_dir} a run directory?") from None
    if not isinstance(stamp, dict) or stamp.get("format") != RUN_FORMAT or "definition" not in stamp:
        raise NeuroBenchError(f"{path} is not a run description of this NeuroBench version ({RUN_FORMAT})")
    return stamp


def _suite(run_dir: Path) -> Suite:
    return Suite.from_definition(_stamp(run_dir)["definition"])
