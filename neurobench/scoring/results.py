"""Result files: the documented JSON schema, validation, atomic writes, and ``submit``.

A result file (schema ``neurobench.result/1``, described in ``results/SCHEMA.md``)
records one agent on one suite: provenance (suite name, version and hash, NeuroBench
version, the agent's full config, seeds, wall time, machine), per-(task, seed) metrics,
and per-family aggregates. Submitting validates it and copies it into ``results/``;
anything wrong is reported with its reason and leaves ``results/`` untouched.
"""

from __future__ import annotations

import json
import math
import os
import platform
import re
import tempfile
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from neurobench.core.errors import NeuroBenchError
from neurobench.core.task import Task
from neurobench.scoring.aggregate import STATISTICS, aggregate
from neurobench.scoring.metrics import METRICS, normalized
from neurobench.suites import Suite, content_hash, known_suites

SCHEMA = "neurobench.result/1"
MAX_BYTES = 20 * 2**20  # larger files are refused before they are parsed
SCORE_TOLERANCE = 1e-6  # chance and ceilings are exact or seeded: they reproduce to rounding
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$")


class SubmissionError(NeuroBenchError, ValueError):
    """A result file that cannot be accepted; the message says why."""


def machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "processor": platform.machine(),
        "cpus": os.cpu_count(),
    }


def family_scores(runs: list[Mapping[str, Any]]) -> dict[str, dict[str, list[float]]]:
    """family (and "overall") -> task -> normalized scores of its seeds."""
    scores: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for run in runs:
        for group in (run["family"], "overall"):
            scores[group][run["task"]].append(run["metrics"]["normalized"])
    return scores


def aggregates(runs: list[Mapping[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
    return {
        group: {name: estimate.as_dict() for name, estimate in aggregate(by_task).items()}
        for group, by_task in sorted(family_scores(runs).items())
    }


def build_result(
    suite: Suite, agent: Mapping[str, Any], runs: list[dict[str, Any]], wall_time_s: float
) -> dict[str, Any]:
    from neurobench import __version__

    ordered = sorted(runs, key=lambda r: (r["index"], r["seed"]))
    return {
        "schema": SCHEMA,
        "suite": suite.summary(),
        "agent": {"name": str(agent.get("name")), "config": dict(agent)},
        "neurobench_version": __version__,
        "wall_time_s": wall_time_s,
        "machine": machine(),
        "runs": ordered,
        "aggregates": aggregates(ordered),
    }


def write_json(path: Path, data: Any) -> None:
    """Write atomically: a temporary file in the same folder, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=1, sort_keys=True, allow_nan=False) + "\n"
    write_text(path, text)


def write_text(path: Path, text: str) -> None:
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def read_result(path: Path) -> dict[str, Any]:
    """Parse a result file defensively: size-capped, strict JSON (no NaN/Infinity)."""
    path = Path(path)
    if not path.is_file():
        raise SubmissionError(f"{path}: no such file")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise SubmissionError(f"{path}: {size} bytes, larger than the {MAX_BYTES}-byte limit")
    try:
        data = json.loads(path.read_bytes(), parse_constant=_reject_constant)
    except (ValueError, RecursionError, UnicodeDecodeError) as error:
        raise SubmissionError(f"{path}: not valid JSON ({error})") from None
    validate(data)
    return data


def validate(data: Any, suites: Mapping[str, Suite] | None = None) -> None:
    """Check a parsed result against the schema and its suite (one of ``suites`` by hash,
    by default the shipped ones); raise SubmissionError."""
    if not isinstance(data, dict):
        raise SubmissionError("a result must be a JSON object")
    _require(data.get("schema") == SCHEMA, f"schema must be {SCHEMA!r}, got {data.get('schema')!r}")
    for key in ("suite", "agent", "neurobench_version", "wall_time_s", "machine", "runs", "aggregates"):
        _require(key in data, f"missing field {key!r}")
    _check_finite(data, "result")
    agent = data["agent"]
    _require(isinstance(agent, dict) and isinstance(agent.get("config"), dict), "agent must hold name and config")
    _require(
        isinstance(agent.get("name"), str) and bool(_NAME.match(agent["name"])),
        f"agent name {agent.get('name')!r} must be 1-64 letters, digits, '_', '.', '+' or '-'",
    )
    suite_info = data["suite"]
    _require(isinstance(suite_info, dict), "suite must be an object")
    suites = known_suites() if suites is None else suites
    suite = suites.get(str(suite_info.get("hash")))
    _require(
        suite is not None,
        f"suite hash {suite_info.get('hash')!r} (suite {suite_info.get('name')!r}) is not one of this "
        f"NeuroBench version's suites: "
        + ", ".join(f"{s.name}={h}" for h, s in sorted(suites.items(), key=lambda i: i[1].name)),
    )
    assert suite is not None
    _require(suite_info.get("name") == suite.name, f"suite name {suite_info.get('name')!r} does not match its hash")
    _check_runs(data["runs"], suite)
    _check_aggregates(data["aggregates"])


def _check_aggregates(groups: Any) -> None:
    """Well-formed only: submit and the leaderboard recompute them from the runs (the
    bootstrap may differ in the last digits across library versions)."""
    _require(isinstance(groups, dict) and "overall" in groups, "aggregates must hold an 'overall' entry")
    for group, statistics in groups.items():
        _require(isinstance(statistics, dict), f"aggregates[{group!r}] must be an object")
        for name in STATISTICS:
            estimate = statistics.get(name)
            _require(
                isinstance(estimate, dict)
                and all(isinstance(estimate.get(k), int | float) for k in ("point", "low", "high")),
                f"aggregates[{group!r}][{name!r}] must hold point, low and high",
            )


def _check_runs(runs: Any, suite: Suite) -> None:
    _require(isinstance(runs, list), "runs must be a list")
    expected = {(job.task.name, job.seed) for job in suite.jobs()}
    tasks = {spec.name: spec.build() for spec in suite.tasks}
    seen = set()
    for run in runs:
        _require(isinstance(run, dict), "each run must be an object")
        for key in ("task", "family", "seed", "eval_seed", "metrics", "index"):
            _require(key in run, f"a run is missing {key!r}")
        _require(isinstance(run["task"], str), f"a run's task must be a task name, got {run['task']!r}")
        _require(
            isinstance(run["seed"], int) and not isinstance(run["seed"], bool),
            f"a run's seed must be an integer, got {run['seed']!r}",
        )
        key = (run["task"], run["seed"])
        _require(
            key in expected,
            f"run {key} is not a (task, seed) of suite {suite.name!r}; its runs are {sorted(expected)}",
        )
        _require(key not in seen, f"run {key} appears twice")
        seen.add(key)
        task = tasks[run["task"]]
        _require(run["family"] == task.family, f"run {key}: family {run['family']!r} should be {task.family!r}")
        metrics = run["metrics"]
        _require(isinstance(metrics, dict), f"run {key}: metrics must be an object")
        for name in METRICS:
            value = metrics.get(name)
            allowed_none = name == "accuracy"
            _require(
                (value is None and allowed_none) or (isinstance(value, int | float) and not isinstance(value, bool)),
                f"run {key}: metric {name!r} must be a number, got {value!r}",
            )
        _check_score(run, key, task)
    missing = sorted(expected - seen)
    _require(
        not missing,
        f"missing runs for suite {suite.name!r}: {missing[:5]}{' ...' if len(missing) > 5 else ''}",
    )


def _check_score(run: Mapping[str, Any], key: tuple[str, int], task: Task) -> None:
    """Chance and ceiling must be this version's, and the normalized score follow from them
    and the success rate: stale or hand-edited scores cannot reach the tables."""
    for name, current in (("chance", task.chance), ("ceiling", task.ceiling().value)):
        value = run.get(name)
        _require(
            isinstance(value, int | float) and abs(value - current) <= SCORE_TOLERANCE,
            f"run {key}: {name} {value!r} is not this NeuroBench's {current:.10g} for {run['task']}; "
            f"re-score the run by starting it again with the same run_dir (finished jobs are not redone)",
        )
    metrics = run["metrics"]
    expected = normalized(metrics["success"], run["chance"], run["ceiling"])
    _require(
        abs(metrics["normalized"] - expected) <= SCORE_TOLERANCE,
        f"run {key}: normalized {metrics['normalized']!r} does not follow from success {metrics['success']!r}, "
        f"chance and ceiling (expected {expected:.10g})",
    )


def _check_finite(value: Any, where: str, depth: int = 0) -> None:
    _require(depth < 64, f"{where}: nested too deeply")
    if isinstance(value, float):
        _require(math.isfinite(value), f"{where}: {value} is not a finite number")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_finite(item, f"{where}.{key}", depth + 1)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_finite(item, f"{where}[{i}]", depth + 1)


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not allowed (results must be finite numbers)")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise SubmissionError(message)


def submission_name(data: Mapping[str, Any]) -> str:
    """``<suite>/<agent>-<content hash>.json``: stable, collision-free, inside results/."""
    return f"{data['suite']['name']}/{data['agent']['name']}-{content_hash(data['runs'])[:10]}.json"


def submit(path: Path, results_dir: Path) -> Path:
    """Validate ``path`` and copy it into ``results_dir``; return where it went."""
    data = read_result(Path(path))
    root = Path(results_dir).resolve()
    target = (root / submission_name(data)).resolve()
    _require(root in target.parents, f"refusing to write outside {root}: {target}")
    for existing in sorted(root.glob("*/*.json")):
        try:
            other = json.loads(existing.read_text())
        except ValueError:
            continue
        same = other.get("runs") == data["runs"] and other.get("suite", {}).get("hash") == data["suite"]["hash"]
        _require(not same, f"duplicate: {existing} already holds these results")
    write_json(target, {**data, "aggregates": aggregates(data["runs"])})
    return target
