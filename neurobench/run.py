"""The main job: ``python -m neurobench suite=<suite> agent=<agent> [overrides]``.

The suite is expanded into (task, seed) jobs. Each job builds a fresh agent, lets it
``fit`` (learning agents train for the suite's budget; reference agents only read the
task), evaluates it through :func:`neurobench.evaluate.evaluate`, and writes its trial
records and metrics to the run directory, atomically. A run started again in the same
directory skips the jobs already done, and re-scores them from their trial records (so a
corrected chance or ceiling reaches a result without retraining). Jobs run one after another here, or as Ray
tasks (``launcher=ray`` or ``ray.address=...``) on a local or remote Ray cluster; every
job is seeded, so results are the same either way.
"""

from __future__ import annotations

import inspect
import logging
import os
import shutil
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import hydra
import pandas as pd
from omegaconf import DictConfig, OmegaConf
from tqdm.auto import tqdm

from neurobench.agents.base import Agent
from neurobench.core.errors import InvalidParameterError, NeuroBenchError, UnknownNameError
from neurobench.core.task import Task
from neurobench.evaluate import evaluate
from neurobench.scoring.metrics import check_scorable, run_metrics
from neurobench.scoring.results import build_result, write_json, write_text
from neurobench.suites import Job, Suite, resolve_suite

log = logging.getLogger("neurobench")

CONFIG_PATH = "pkg://neurobench.conf"
RESERVED_AGENT_KEYS = ("_target_", "name")


class RunDirConflict(NeuroBenchError):
    """The run directory holds a run of another suite or agent configuration."""


def build_agent(config: Mapping[str, Any]) -> Agent:
    """Instantiate the agent a config describes, checking its parameters by name."""
    target = config.get("_target_")
    if not isinstance(target, str):
        raise InvalidParameterError(f"agent config needs a '_target_' class path, got {target!r}")
    cls = hydra.utils.get_class(target)
    params = {k: v for k, v in config.items() if k not in RESERVED_AGENT_KEYS}
    accepted = inspect.signature(cls).parameters
    if not any(p.kind is p.VAR_KEYWORD for p in accepted.values()):
        for key in params:
            if key not in accepted:
                raise UnknownNameError(f"parameter of agent {config.get('name')!r}", key, accepted)
    agent = cls(**params)
    if not isinstance(agent, Agent):
        raise InvalidParameterError(f"{target} is not a neurobench.agents.Agent")
    return agent


def run_job(
    agent_config: Mapping[str, Any],
    job: Job,
    suite: Suite,
    on_progress: Callable[[str, int, int], None] | None = None,
    workdir: Path | None = None,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Train (if the agent learns) and evaluate one job; return its run and records.

    ``workdir`` is the job's own folder for checkpoints, kept across interruptions."""
    agent = build_agent(agent_config)
    task = job.task.build()
    started = time.perf_counter()
    extras: dict[str, Any] = {}
    accepted = inspect.signature(agent.fit).parameters
    if "workdir" in accepted and workdir is not None:
        Path(workdir).mkdir(parents=True, exist_ok=True)
        extras["workdir"] = Path(workdir)
    if "progress" in accepted and on_progress is not None:
        on_progress("train", 0, suite.budget)
        extras["progress"] = lambda done, total: on_progress("train", done, total)
    agent.fit(task, seed=job.seed, budget=suite.budget, **extras)
    fitted = time.perf_counter()
    if on_progress is not None:
        on_progress("eval", 0, suite.eval_trials)
    done = 0

    def trials_done(k: int) -> None:
        nonlocal done
        done += k
        if on_progress is not None:
            on_progress("eval", done, suite.eval_trials)

    records = evaluate(
        agent, task, seed=job.eval_seed, n_trials=suite.eval_trials, num_envs=suite.num_envs, on_trials=trials_done
    )
    run = {
        "key": job.key,
        "index": job.index,
        "task": job.task.label,
        "family": task.family,
        "seed": job.seed,
        "eval_seed": job.eval_seed,
        **score(task, records),
        "fit_time_s": fitted - started,
        "eval_time_s": time.perf_counter() - fitted,
    }
    return run, records


def score(task: Task, records: pd.DataFrame) -> dict[str, Any]:
    """A job's chance, ceiling and metrics, from its per-trial records."""
    chance, ceiling = check_scorable(task)
    return {
        "chance": chance.value,
        "chance_method": chance.method,
        "ceiling": ceiling.value,
        "ceiling_method": ceiling.method,
        "metrics": run_metrics(records, task),
    }


class RunDir:
    """A run's folder: ``run.json`` (what it runs), ``jobs/*.json`` (finished jobs),
    ``records/*.csv`` (their trials), ``work/<job>/`` (learning agents' checkpoints),
    ``result.json`` (the result file)."""

    def __init__(self, path: Path, fingerprint: dict[str, Any], overwrite: bool) -> None:
        self.path = Path(path)
        stamp = self.path / "run.json"
        if stamp.exists():
            previous = _read_json(stamp)
            if previous != fingerprint and not overwrite:
                raise RunDirConflict(
                    f"{self.path} holds a run of another configuration (suite hash "
                    f"{previous.get('suite_hash')!r}, agent {previous.get('agent')!r}); resume it with "
                    f"the same settings, or use run_dir=<new folder> or overwrite=true"
                )
            if overwrite:
                for child in ("jobs", "records", "work", "result.json"):
                    target = self.path / child
                    shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
        write_json(stamp, fingerprint)
        (self.path / "jobs").mkdir(parents=True, exist_ok=True)
        (self.path / "records").mkdir(parents=True, exist_ok=True)

    def finished(self) -> dict[str, dict[str, Any]]:
        done = {}
        for path in sorted((self.path / "jobs").glob("*.json")):
            try:
                done[path.stem] = _read_json(path)
            except ValueError:
                log.warning("ignoring unreadable job file %s; the job will run again", path)
        return done

    def workdir(self, key: str) -> Path:
        """The job's own folder for checkpoints (absolute: Ray workers run elsewhere)."""
        return self.path.resolve() / "work" / key

    def records(self, key: str) -> pd.DataFrame:
        return pd.read_csv(self.path / "records" / f"{key}.csv")

    def save(self, run: dict[str, Any], records: pd.DataFrame) -> None:
        """Records first, then the job file: a job counts as done only once both exist."""
        write_text(self.path / "records" / f"{run['key']}.csv", records.to_csv(index=False))
        write_json(self.path / "jobs" / f"{run['key']}.json", run)


def run(cfg: DictConfig) -> dict[str, Any]:
    """Run (or resume) a suite x agent; return the result written to ``run_dir``."""
    suite = resolve_suite(OmegaConf.to_container(cfg.suite, resolve=True))  # type: ignore[arg-type]
    agent_config: dict[str, Any] = OmegaConf.to_container(cfg.agent, resolve=True)  # type: ignore[assignment]
    build_agent(agent_config)  # bad agent parameters fail here, before any training
    fingerprint = {"suite_hash": suite.hash, "suite": suite.name, "agent": agent_config}
    run_dir = RunDir(Path(cfg.run_dir), fingerprint, bool(cfg.overwrite))
    jobs = suite.jobs()
    finished = run_dir.finished()
    for job in jobs:  # re-scored from their trials: a result always carries this version's scoring
        if job.key in finished:
            try:
                finished[job.key].update(score(job.task.build(), run_dir.records(job.key)))
            except (OSError, ValueError, KeyError, ZeroDivisionError) as error:
                log.warning("ignoring unreadable records of %s (%r); the job will run again", job.key, error)
                del finished[job.key]
    todo = [job for job in jobs if job.key not in finished]
    log.info(
        "suite %s (%s), agent %s: %d jobs, %d already done, run dir %s",
        suite.name,
        suite.hash,
        agent_config.get("name"),
        len(jobs),
        len(finished),
        run_dir.path,
    )
    overall = tqdm(total=len(jobs), initial=len(jobs) - len(todo), desc="jobs", disable=not cfg.progress, position=0)

    def save(job: Job, run_: dict[str, Any], records: pd.DataFrame) -> None:
        run_dir.save(run_, records)
        finished[job.key] = run_
        overall.update(1)
        log.info(
            "%s: success %.3f, normalized %.3f", job.key, run_["metrics"]["success"], run_["metrics"]["normalized"]
        )

    with overall:
        if cfg.launcher == "ray" or cfg.ray.address is not None:
            _run_on_ray(cfg, todo, agent_config, suite, save, run_dir.workdir)
        elif cfg.launcher == "local":
            _run_locally(cfg, todo, agent_config, suite, save, run_dir.workdir)
        else:
            raise UnknownNameError("launcher", cfg.launcher, ["local", "ray"])
    runs = [finished[job.key] for job in jobs]
    wall = sum(r["fit_time_s"] + r["eval_time_s"] for r in runs)
    result = build_result(suite, agent_config, runs, wall)
    write_json(run_dir.path / "result.json", result)
    _print_summary(result, run_dir.path / "result.json")
    return result


def _run_locally(
    cfg: DictConfig,
    todo: list[Job],
    agent_config: dict[str, Any],
    suite: Suite,
    save: Callable[..., None],
    workdir: Callable[[str], Path],
) -> None:
    for job in todo:
        with tqdm(desc=job.key, disable=not cfg.progress, position=1, leave=False) as bar:

            def progress(phase: str, done: int, total: int, bar: tqdm = bar, key: str = job.key) -> None:
                if bar.total != total or bar.desc != f"{key} {phase}":
                    bar.reset(total=total)
                    bar.set_description(f"{key} {phase}")
                bar.n = done
                bar.refresh()

            run_, records = run_job(agent_config, job, suite, progress, workdir(job.key))
        save(job, run_, records)


def _run_on_ray(
    cfg: DictConfig,
    todo: list[Job],
    agent_config: dict[str, Any],
    suite: Suite,
    save: Callable[..., None],
    workdir: Callable[[str], Path],
) -> None:
    try:
        import ray
    except ImportError:
        raise NeuroBenchError("launcher=ray needs Ray: pip install 'neurobench[rllib]'") from None
    if not todo:
        return
    if cfg.ray.address is None:
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a private local cluster needs no token
    ray.init(
        address=cfg.ray.address,
        include_dashboard=False,
        ignore_reinit_error=True,
        log_to_driver=False,
        logging_level=logging.WARNING,
        runtime_env={"env_vars": {"OMP_NUM_THREADS": "1"}},
    )
    remote_job = ray.remote(num_cpus=cfg.ray.num_cpus_per_job)(run_job)
    pending = {remote_job.remote(agent_config, job, suite, None, workdir(job.key)): job for job in todo}
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        job = pending.pop(ready[0])
        run_, records = ray.get(ready[0])
        save(job, run_, records)


def _print_summary(result: dict[str, Any], path: Path) -> None:
    lines = [f"\n{result['agent']['name']} on suite {result['suite']['name']} ({result['suite']['hash']})"]
    lines.append(f"  {'task':40s} {'seed':>5s} {'success':>8s} {'normalized':>11s}")
    for run_ in result["runs"]:
        m = run_["metrics"]
        lines.append(f"  {run_['task']:40s} {run_['seed']:5d} {m['success']:8.3f} {m['normalized']:11.3f}")
    for group, statistics in result["aggregates"].items():
        iqm = statistics["iqm"]
        lines.append(f"  IQM {group:20s} {iqm['point']:.3f} [{iqm['low']:.3f}, {iqm['high']:.3f}]")
    lines.append(f"  result: {path}")
    print("\n".join(lines))


def _read_json(path: Path) -> dict[str, Any]:
    import json

    return json.loads(path.read_text())


@hydra.main(config_path=CONFIG_PATH, config_name="config", version_base=None)
def app(cfg: DictConfig) -> None:
    run(cfg)
