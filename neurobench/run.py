"""The main job: ``python -m neurobench suite=<suite> agent=<agent> [overrides]``.

The suite is expanded into (task, seed) jobs. Each job builds a fresh agent, lets it
``fit`` (learning agents train for the suite's budget; reference agents only read the
task), evaluates it through :func:`neurobench.evaluate.evaluate`, and writes its trial
records and its run entry to the run directory, atomically.

A run directory belongs to one configuration (its ``run.json``: the suite's hash and the
agent's config); every job file names it too, so a job of another configuration is never
reused. A run started again in the same directory resumes: finished jobs are not redone but
re-scored from their trial records (a corrected chance or ceiling reaches the result
without retraining); a job whose records are missing, damaged or of the wrong length runs
again. Two runs cannot share a directory at once (a lock). Jobs run one after another here,
or as Ray tasks (``launcher=ray`` or ``ray.address=...``), retried if a worker dies; every
job is seeded, so results are the same either way.
"""

from __future__ import annotations

import fcntl
import inspect
import json
import logging
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hydra
import pandas as pd
from omegaconf import DictConfig, OmegaConf
from tqdm.auto import tqdm

from neurobench.agents.base import Agent
from neurobench.config import Launcher, parse_progress, register_schema, typed_agent_params
from neurobench.core.errors import InvalidParameterError, NeuroBenchError
from neurobench.core.task import Task
from neurobench.evaluate import evaluate
from neurobench.scoring.metrics import check_scorable
from neurobench.scoring.results import (
    build_result,
    compact_trials,
    content_hash,
    metrics_of,
    remove_stale_temporaries,
    subtask_breakdown,
    write_json,
    write_text,
)
from neurobench.suites import Job, Suite, resolve_suite

log = logging.getLogger("neurobench")

CONFIG_PATH = "pkg://neurobench.conf"
RESERVED_AGENT_KEYS = ("_target_", "name")
RUN_FORMAT = "neurobench.run/2"
MODEL = "model"  # a job's saved agent: run_dir/work/<job>/model/


class RunDirConflict(NeuroBenchError):
    """The run directory holds a run of another configuration, or another run is using it."""


def build_agent(config: Mapping[str, Any]) -> Agent:
    """Instantiate the agent a config describes, its parameters checked by name and type."""
    target = config.get("_target_")
    if not isinstance(target, str):
        raise InvalidParameterError(f"agent config needs a '_target_' class path, got {target!r}")
    try:
        cls = hydra.utils.get_class(target)
    except (ImportError, ValueError, AttributeError) as error:
        raise InvalidParameterError(f"agent _target_ {target!r} cannot be imported ({error})") from None
    name = str(config.get("name"))
    params = typed_agent_params(cls, {k: v for k, v in config.items() if k not in RESERVED_AGENT_KEYS}, name)
    agent = cls(**params)
    if not isinstance(agent, Agent):
        raise InvalidParameterError(f"{target} is not a neurobench.agents.Agent")
    return agent


def score_run(task: Task, records: pd.DataFrame) -> dict[str, Any]:
    """A job's chance, ceiling, compact trials and metrics, from its per-trial records."""
    chance, ceiling = check_scorable(task)
    multitask = hasattr(task, "tasks") and "task" in records
    trials = compact_trials(
        records["outcome"].astype(str).tolist(),
        records["score"].tolist(),
        records["reward"].tolist(),
        records["task"].astype(int).tolist() if multitask else None,
    )
    scored: dict[str, Any] = {
        "chance": chance.as_dict(),
        "ceiling": ceiling.as_dict(),
        "trials": trials,
        "metrics": metrics_of(trials, chance.value, ceiling.value, task),
    }
    if multitask:
        scored["by_task"] = subtask_breakdown(trials, task)
    return scored


def run_job(
    agent_config: Mapping[str, Any],
    job: Job,
    suite: Suite,
    on_progress: Callable[[str, int, int], None] | None = None,
    workdir: Path | None = None,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Train (if the agent learns) and evaluate one job; return its run entry and records.

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
    if workdir is not None:  # what it learned, for evaluating or analysing it later without retraining
        agent.save(Path(workdir) / MODEL)
    fitted = time.perf_counter()
    done = 0

    def trials_done(k: int) -> None:
        nonlocal done
        done += k
        if on_progress is not None:
            on_progress("eval", done, suite.eval_trials)

    records = evaluate(
        agent, task, seed=job.eval_seed, n_trials=suite.eval_trials, num_envs=suite.num_envs, on_trials=trials_done
    )
    assert isinstance(records, pd.DataFrame)
    run = {
        "key": job.key,
        "index": job.index,
        "task": job.task.label,
        "family": task.family,
        "seed": job.seed,
        "eval_seed": job.eval_seed,
        **score_run(task, records),
        "fit_time_s": fitted - started,
        "eval_time_s": time.perf_counter() - fitted,
    }
    return run, records


class RunDir:
    """A run's folder: ``run.json`` (what it runs), ``jobs/*.json`` (finished jobs, each
    naming its configuration), ``records/*.csv`` (their trials), ``work/<job>/`` (learning
    agents' checkpoints), ``result.json``. Held under a lock while a run uses it."""

    def __init__(
        self, path: Path, configuration: dict[str, Any], overwrite: bool, extra: Mapping[str, Any] | None = None
    ) -> None:
        """``configuration`` identifies the run (its fingerprint); ``extra`` is stored beside it
        (the suite's full definition, which its hash already covers)."""
        extra = dict(extra or {})
        self.path = Path(path)
        self.configuration = configuration
        self.fingerprint = content_hash(configuration)
        self.path.mkdir(parents=True, exist_ok=True)
        self._lock = open(self.path / ".lock", "a")  # noqa: SIM115 (held for the run's lifetime)
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise RunDirConflict(
                f"{self.path} is in use by another run; wait for it to finish, or use run_dir=<another folder>"
            ) from None
        for stale in remove_stale_temporaries(self.path):
            log.info("removed %s, left by an interrupted write", stale)
        stamp = self.path / "run.json"
        previous = self._previous(stamp, overwrite)
        if previous is not None and previous.get("fingerprint") != self.fingerprint and not overwrite:
            self.release()
            raise RunDirConflict(_difference(self.path, previous, configuration))
        if overwrite:
            for child in ("jobs", "records", "work", "result.json"):
                target = self.path / child
                shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
        write_json(stamp, {"format": RUN_FORMAT, "fingerprint": self.fingerprint, **configuration, **extra})
        (self.path / "jobs").mkdir(exist_ok=True)
        (self.path / "records").mkdir(exist_ok=True)

    def _previous(self, stamp: Path, overwrite: bool) -> dict[str, Any] | None:
        if not stamp.exists():
            jobs = list((self.path / "jobs").glob("*.json"))
            if jobs and not overwrite:
                log.warning(
                    "%s has no run.json: its %d job files are kept only if they name this configuration",
                    self.path,
                    len(jobs),
                )
            return None
        try:
            previous = json.loads(stamp.read_text())
            if not isinstance(previous, dict):
                raise ValueError("not an object")
        except (ValueError, OSError) as error:
            if overwrite:
                return None
            self.release()
            raise RunDirConflict(
                f"{stamp} is damaged ({error}); use overwrite=true to start this run directory afresh, "
                "or run_dir=<new folder>"
            ) from None
        return previous

    def release(self) -> None:
        if not self._lock.closed:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()

    def workdir(self, key: str) -> Path:
        """The job's own folder for checkpoints (absolute: Ray workers run elsewhere)."""
        return self.path.resolve() / "work" / key

    def finished(self, jobs: list[Job], eval_trials: int) -> dict[str, tuple[dict[str, Any], pd.DataFrame]]:
        """Finished jobs of this configuration with complete records; others run again."""
        return _finished_in(self.path, self.fingerprint, jobs, eval_trials)

    def adopt(self, jobs: list[Job], suite: Suite, agent_config: dict[str, Any], sources: list[Path]) -> int:
        """Copy in the finished jobs of other run dirs that are the same job as one of
        ``jobs`` (same :func:`job_identity`): a suite's new version that changes one task
        retrains only that task. Returns how many were adopted."""
        wanted = {job_identity(agent_config, job, suite): job for job in jobs}
        adopted = 0
        for source in sources:
            theirs = _run_of(source)
            their_jobs = {job_identity(theirs.agent, job, theirs.suite): job for job in theirs.suite.jobs()}
            matches = {identity: job for identity, job in their_jobs.items() if identity in wanted}
            found = _finished_in(source, theirs.fingerprint, list(matches.values()), theirs.suite.eval_trials)
            for identity, their_job in matches.items():
                if their_job.key not in found:
                    continue
                job = wanted.pop(identity)
                run, records = found[their_job.key]
                origin = f"{theirs.suite.name} v{theirs.suite.version} ({theirs.suite.hash}) job {their_job.key}"
                run.update(key=job.key, index=job.index, task=job.task.label, adopted_from=origin)
                model = source.resolve() / "work" / their_job.key / MODEL
                if model.is_dir() and not (self.workdir(job.key) / MODEL).exists():
                    shutil.copytree(model, self.workdir(job.key) / MODEL)
                self.save({k: v for k, v in run.items() if k != "fingerprint"}, records)
                log.info("job %s adopted from %s (job %s)", job.key, source, their_job.key)
                adopted += 1
        return adopted

    def save(self, run: dict[str, Any], records: pd.DataFrame) -> None:
        """Records first, then the job file: a job counts as done only once both exist."""
        write_text(self.path / "records" / f"{run['key']}.csv", records.to_csv(index=False))
        write_json(self.path / "jobs" / f"{run['key']}.json", {**run, "fingerprint": self.fingerprint})


def job_identity(agent_config: Mapping[str, Any], job: Job, suite: Suite) -> str:
    """Everything a job's records follow from: the agent, the task (with its versions), the
    seeds and the suite's budget, evaluation length and environments, not its label."""
    return content_hash(
        {
            "agent": dict(agent_config),
            "task": job.task.build().node(),
            "seed": job.seed,
            "eval_seed": job.eval_seed,
            "budget": suite.budget,
            "eval_trials": suite.eval_trials,
            "num_envs": suite.num_envs,
        }
    )


@dataclass(frozen=True)
class _OtherRun:
    """What :meth:`RunDir.adopt` reads of another run directory."""

    suite: Suite
    agent: dict[str, Any]
    fingerprint: str


def _run_of(path: Path) -> _OtherRun:
    """The suite, agent and fingerprint of the run in ``path`` (read, not locked)."""
    stamp = Path(path) / "run.json"
    try:
        data = json.loads(stamp.read_text())
        suite = Suite.from_definition(data["definition"])
        return _OtherRun(suite, dict(data["agent"]), str(data["fingerprint"]))
    except (OSError, ValueError, KeyError, TypeError, NeuroBenchError) as error:
        raise InvalidParameterError(
            f"reuse={path}: not a readable run directory ({stamp}: {error}); give the run_dir of a finished or "
            "interrupted run"
        ) from None


def _finished_in(
    path: Path, fingerprint: str, jobs: list[Job], eval_trials: int
) -> dict[str, tuple[dict[str, Any], pd.DataFrame]]:
    """The jobs of ``jobs`` finished in ``path`` under ``fingerprint``, with complete records."""
    done = {}
    for job in jobs:
        file = path / "jobs" / f"{job.key}.json"
        if not file.exists():
            continue
        try:
            run = json.loads(file.read_text())
            if not isinstance(run, dict) or run.get("fingerprint") != fingerprint:
                raise ValueError("it belongs to another configuration" if isinstance(run, dict) else "not an object")
            records = pd.read_csv(path / "records" / f"{job.key}.csv")
            if len(records) != eval_trials or not {"outcome", "score", "reward"} <= set(records.columns):
                raise ValueError(f"its records hold {len(records)} trials, not {eval_trials}")
        except (ValueError, OSError, KeyError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
            log.warning("job %s in %s will not be used: %s", job.key, path, error)
            continue
        done[job.key] = (run, records)
    return done


def _difference(path: Path, previous: Mapping[str, Any], current: Mapping[str, Any]) -> str:
    """One line: what differs between the run in ``path`` and this one, and the ways out."""
    changes = []
    for part in ("suite", "agent"):
        old, new = previous.get(part) or {}, current.get(part) or {}
        if part == "suite" and old.get("hash") != new.get("hash"):
            changes.append(f"suite {old.get('name')} ({old.get('hash')}) -> {new.get('name')} ({new.get('hash')})")
        elif part == "agent":
            keys = sorted(set(old) | set(new))
            changes += [f"agent.{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in keys if old.get(k) != new.get(k)]
    said = "; ".join(changes) or "another configuration"
    return (
        f"{path} holds another run ({said}): resume it with its settings, or use run_dir=<new folder> or overwrite=true"
    )


def check_config(cfg: DictConfig) -> tuple[Suite, dict[str, Any], Launcher]:
    """Everything a run needs, checked before anything runs or is written: the suite, the
    agent and its parameters, the tasks' scorability, the options."""
    suite = resolve_suite(OmegaConf.to_container(cfg.suite, resolve=True))  # type: ignore[arg-type]
    agent_config: dict[str, Any] = OmegaConf.to_container(cfg.agent, resolve=True)  # type: ignore[assignment]
    build_agent(agent_config)  # bad agent parameters fail here, before any training
    for spec in suite.tasks:
        check_scorable(spec.build())  # and a task that cannot be scored
    parse_progress(cfg.progress)
    return suite, agent_config, Launcher(cfg.launcher)


def run(cfg: DictConfig) -> dict[str, Any]:
    """Run (or resume) a suite x agent; return the result written to ``run_dir``."""
    suite, agent_config, launcher = check_config(cfg)
    configuration = {"suite": {"name": suite.name, "version": suite.version, "hash": suite.hash}, "agent": agent_config}
    run_dir = RunDir(Path(cfg.run_dir), configuration, bool(cfg.overwrite), {"definition": suite.definition()})
    try:
        return _run(cfg, suite, agent_config, run_dir, launcher)
    finally:
        run_dir.release()


def _run(
    cfg: DictConfig, suite: Suite, agent_config: dict[str, Any], run_dir: RunDir, launcher: Launcher
) -> dict[str, Any]:
    _attach_log(run_dir.path)
    jobs = suite.jobs()
    finished: dict[str, dict[str, Any]] = {}
    own = run_dir.finished(jobs, suite.eval_trials)
    missing = [job for job in jobs if job.key not in own]
    if missing and cfg.reuse:
        adopted = run_dir.adopt(missing, suite, agent_config, [Path(p) for p in cfg.reuse])
        log.info("adopted %d of %d jobs to do from reuse=%s", adopted, len(missing), list(cfg.reuse))
        own = run_dir.finished(jobs, suite.eval_trials)
    for key, (run_, records) in own.items():
        job = next(j for j in jobs if j.key == key)
        run_.update(score_run(job.task.build(), records))  # this version's scoring, from the trials
        finished[key] = {k: v for k, v in run_.items() if k != "fingerprint"}
    todo = [job for job in jobs if job.key not in finished]
    log.info(
        "suite %s v%d (%s), agent %s: %d jobs, %d already done, run dir %s",
        suite.name,
        suite.version,
        suite.hash,
        agent_config.get("name"),
        len(jobs),
        len(finished),
        run_dir.path,
    )
    bars = _bars(parse_progress(cfg.progress))
    with _overall(bars, len(jobs), len(jobs) - len(todo)) as overall:

        def save(job: Job, run_: dict[str, Any], records: pd.DataFrame) -> None:
            run_dir.save(run_, records)
            finished[job.key] = run_
            overall(job, run_)

        if launcher is Launcher.ray or cfg.ray.address is not None:
            _run_on_ray(cfg, todo, agent_config, suite, save, run_dir.workdir)
        else:
            _run_locally(bars, todo, agent_config, suite, save, run_dir.workdir)
    runs = [finished[job.key] for job in jobs]
    wall = sum(r["fit_time_s"] + r["eval_time_s"] for r in runs)
    result = build_result(suite, agent_config, runs, wall)
    write_json(run_dir.path / "result.json", result)
    _print_summary(result, run_dir.path / "result.json")
    return result


def _bars(progress: bool | None) -> bool:
    """Progress bars on a terminal; a line per job in logs (``auto``)."""
    return sys.stderr.isatty() if progress is None else progress


@contextmanager
def _overall(bars: bool, total: int, initial: int) -> Iterator[Callable[[Job, dict[str, Any]], None]]:
    bar = tqdm(total=total, initial=initial, desc="jobs", position=0, disable=not bars)
    done = initial

    def finished(job: Job, run_: dict[str, Any]) -> None:
        nonlocal done
        done += 1
        bar.update(1)
        metrics = run_["metrics"]
        line = f"[{done}/{total}] {job.key}: success {metrics['success']:.3f}, normalized {metrics['normalized']:.3f}"
        log.info(line)
        if not bars:
            print(line, file=sys.stderr, flush=True)

    try:
        yield finished
    finally:
        bar.close()


def _run_locally(
    bars: bool,
    todo: list[Job],
    agent_config: dict[str, Any],
    suite: Suite,
    save: Callable[..., None],
    workdir: Callable[[str], Path],
) -> None:
    for job in todo:
        with tqdm(desc=job.key, disable=not bars, position=1, leave=False) as bar:

            def progress(phase: str, done: int, total: int, bar: tqdm = bar, key: str = job.key) -> None:
                if bar.total != total or bar.desc != f"{key} {phase}":
                    bar.reset(total=total)
                    bar.set_description(f"{key} {phase}")
                bar.n = done
                bar.refresh()

            run_, records = run_job(agent_config, job, suite, progress if bars else None, workdir(job.key))
        save(job, run_, records)


RAY_RETRIES = 3  # a job whose worker dies runs again (it resumes from its checkpoints)


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
    cpus = float(cfg.ray.num_cpus_per_job)
    if not cpus > 0:
        raise InvalidParameterError(f"ray.num_cpus_per_job must be > 0, got {cpus!r}")
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
    available = ray.cluster_resources().get("CPU", 0.0)
    if cpus > available:
        raise InvalidParameterError(
            f"ray.num_cpus_per_job={cpus:g} asks for more CPUs than the Ray cluster has ({available:g}): no job could "
            f"ever start; use ray.num_cpus_per_job<={available:g}"
        )
    remote_job = ray.remote(num_cpus=cpus, max_retries=RAY_RETRIES, retry_exceptions=False)(run_job)
    pending = {remote_job.remote(agent_config, job, suite, None, workdir(job.key)): job for job in todo}
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        job = pending.pop(ready[0])
        run_, records = ray.get(ready[0])
        save(job, run_, records)


def _attach_log(run_dir: Path) -> None:
    """Everything the run logs goes to ``neurobench.log`` in its folder."""
    path = (run_dir / "neurobench.log").resolve()
    handlers = [*log.handlers, *logging.getLogger().handlers]  # Hydra's job logging writes there already
    if not any(isinstance(h, logging.FileHandler) and Path(h.baseFilename) == path for h in handlers):
        handler = logging.FileHandler(path)
        handler.setFormatter(logging.Formatter("[%(asctime)s][%(levelname)s] %(message)s"))
        log.addHandler(handler)
    log.setLevel(logging.INFO)


def _print_summary(result: dict[str, Any], path: Path) -> None:
    lines = [
        f"\n{result['agent']['name']} on suite {result['suite']['name']} v{result['suite']['version']} "
        f"({result['suite']['hash']})"
    ]
    lines.append(f"  {'task':40s} {'seed':>5s} {'success':>8s} {'chance':>7s} {'ceiling':>8s} {'normalized':>11s}")
    for run_ in result["runs"]:
        m = run_["metrics"]
        lines.append(
            f"  {run_['task']:40s} {run_['seed']:5d} {m['success']:8.3f} {run_['chance']['value']:7.3f} "
            f"{run_['ceiling']['value']:8.3f} {m['normalized']:11.3f}"
        )
    for group, statistics in result["aggregates"].items():
        iqm = statistics["iqm"]
        lines.append(f"  IQM {group:20s} {iqm['point']:.3f} [{iqm['low']:.3f}, {iqm['high']:.3f}]")
    lines.append(f"  result: {path}")
    print("\n".join(lines))


register_schema()


@hydra.main(config_path=CONFIG_PATH, config_name="config", version_base=None)
def app(cfg: DictConfig) -> None:
    try:
        run(cfg)
    except NeuroBenchError as error:
        if cfg.get("debug"):
            raise
        print(f"error: {error}\n(debug=true shows the full traceback)", file=sys.stderr)
        raise SystemExit(2) from None
