"""Result files that verify themselves: the schema, validation, atomic writes, ``submit``.

A result file (schema ``neurobench.result/2``, described in ``results/SCHEMA.md``) records
one agent on one suite: the suite's full definition and hash, the agent's exact config and
its hash, and for every (task, seed) job the outcome of every evaluated trial. Every number
derived from those — success, accuracy, rates, chance, ceiling, normalized score,
aggregates — is recomputed by :func:`validate` from the trials and the current tasks, so a
file whose numbers do not follow is refused, whoever edited it. ``submit`` adds a valid file
to ``results/``; anything wrong is reported with its reason and leaves ``results/``
untouched. Reading is defensive: only regular files, size- and depth-capped, strict JSON.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import platform
import re
import stat
import tempfile
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from neurobench.core.errors import NeuroBenchError
from neurobench.core.task import Task
from neurobench.scoring.aggregate import STATISTICS, aggregate
from neurobench.scoring.metrics import METRICS, check_scorable, normalized
from neurobench.suites import Suite, content_hash, known_suites

SCHEMA = "neurobench.result/2"
MAX_BYTES = 20 * 2**20  # larger files are refused before they are parsed
MAX_DEPTH = 64  # JSON nested deeper is refused before it is parsed
TOLERANCE = 1e-6  # chance and ceilings are exact or seeded: they reproduce to rounding
OUTCOME_CODES = {"correct": "c", "fail": "f", "miss": "m", "abort": "a"}
_CODES = {v: k for k, v in OUTCOME_CODES.items()}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}")


class SubmissionError(NeuroBenchError, ValueError):
    """A result file that cannot be accepted; the message says why."""


def machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "processor": platform.machine(),
        "cpus": os.cpu_count(),
    }


# -- trials and metrics ---------------------------------------------------------------------
def compact_trials(
    outcomes: Sequence[str],
    scores: Sequence[float],
    rewards: Sequence[float],
    tasks: Sequence[int] | None = None,
) -> dict[str, Any]:
    """A run's trials as stored in a result: one letter per outcome, the scores only if
    some trial has partial credit, the summed reward, and for a multitask task which of
    its tasks each trial was (``task``), for the per-task breakdown."""
    trials: dict[str, Any] = {
        "outcome": "".join(OUTCOME_CODES[str(o)] for o in outcomes),
        "reward_total": float(np.sum(rewards)),
    }
    expected = [1.0 if o == "correct" else 0.0 for o in outcomes]
    if not np.allclose(scores, expected):
        trials["score"] = [round(float(s), 9) for s in scores]
    if tasks is not None:
        trials["task"] = [int(k) for k in tasks]
    return trials


def subtask_breakdown(trials: Mapping[str, Any], task: Any) -> list[dict[str, Any]]:
    """Per task of a multitask task: its trials' metrics against its own chance and
    ceiling (the success of a mix says little about each task)."""
    index = np.asarray(trials["task"])
    scores = trials.get("score")
    out = []
    for k, sub in enumerate(task.tasks):
        rows = np.flatnonzero(index == k)
        if not len(rows):
            continue
        part: dict[str, Any] = {
            "outcome": "".join(trials["outcome"][i] for i in rows),
            "reward_total": float("nan"),
        }
        if scores is not None:
            part["score"] = [scores[i] for i in rows]
        chance, ceiling = check_scorable(sub)
        metrics = metrics_of(part, chance.value, ceiling.value, sub)
        metrics.pop("reward_per_trial")
        out.append({"task": sub.name, "chance": chance.value, "ceiling": ceiling.value, **metrics})
    return out


def trial_scores(trials: Mapping[str, Any]) -> np.ndarray:
    """Each trial's score from a run's compact trials: the stored scores, else 1 for a
    correct trial and 0 otherwise."""
    if "score" in trials:
        return np.asarray(trials["score"], dtype=float)
    correct = ord(OUTCOME_CODES["correct"])
    return (np.frombuffer(trials["outcome"].encode(), dtype=np.uint8) == correct).astype(float)


def metrics_of(trials: Mapping[str, Any], chance: float, ceiling: float, task: Task) -> dict[str, Any]:
    """Every metric of a run, from its compact trials (normalized on ``task``'s score scale)."""
    outcome = trials["outcome"]
    n = len(outcome)
    counts = {code: outcome.count(code) for code in _CODES}
    scores = trials.get("score")
    success = float(np.mean(scores)) if scores is not None else counts["c"] / n
    answered = counts["c"] + counts["f"]
    return {
        "n_trials": n,
        "success": success,
        "accuracy": counts["c"] / answered if answered else None,
        "abort_rate": counts["a"] / n,
        "miss_rate": counts["m"] / n,
        "reward_per_trial": trials["reward_total"] / n,
        "normalized": normalized(success, chance, ceiling, task.name, task.score_scale),
    }


def family_scores(runs: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, list[float]]]:
    """family (and "overall") -> task -> normalized scores of its seeds."""
    scores: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for run in runs:
        for group in (run["family"], "overall"):
            scores[group][run["task"]].append(run["metrics"]["normalized"])
    return scores


def aggregates(runs: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, dict[str, float]]]:
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
        "suite": {**suite.summary(), "frozen": suite.frozen},
        "agent": {"name": str(agent.get("name")), "config": dict(agent), "hash": content_hash(dict(agent))},
        "neurobench_version": __version__,
        "wall_time_s": wall_time_s,
        "machine": machine(),
        "runs": ordered,
        "aggregates": aggregates(ordered),
    }


# -- files ---------------------------------------------------------------------------------
def write_json(path: Path, data: Any) -> None:
    """Write atomically: a temporary file in the same folder, then a rename."""
    text = json.dumps(data, indent=1, sort_keys=True, allow_nan=False) + "\n"
    write_text(path, text)


def write_text(path: Path, text: str) -> None:
    """Atomic write (temporary file, fsync, rename) that honours the umask, as a plain
    ``open`` would (``mkstemp`` alone makes files private)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temp, 0o666 & ~_umask())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def remove_stale_temporaries(folder: Path) -> list[Path]:
    """Temporary files an interrupted atomic write left behind (``.<name>.<random>.tmp``)."""
    removed = []
    for path in Path(folder).rglob(".*.tmp"):
        if path.is_file():
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def read_json_file(path: Path, what: str = "result") -> Any:
    """Parse a JSON file defensively: a regular file (no FIFO, device, symlink or folder),
    at most ``MAX_BYTES``, nested at most ``MAX_DEPTH`` deep, strict JSON (no NaN)."""
    path = Path(path)
    try:
        info = os.lstat(path)
    except OSError as error:
        raise SubmissionError(f"{path}: cannot read the {what} ({error.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise SubmissionError(f"{path}: not a regular file; a {what} must be a plain JSON file")
    if info.st_size > MAX_BYTES:
        raise SubmissionError(f"{path}: {info.st_size} bytes, larger than the {MAX_BYTES}-byte limit")
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        descriptor = os.open(path, flags)
        with os.fdopen(descriptor, "rb") as file:
            raw = file.read(MAX_BYTES + 1)
    except OSError as error:
        raise SubmissionError(f"{path}: cannot read the {what} ({error.strerror})") from None
    if len(raw) > MAX_BYTES:
        raise SubmissionError(f"{path}: larger than the {MAX_BYTES}-byte limit")
    depth = _max_depth(raw)
    if depth > MAX_DEPTH:
        raise SubmissionError(f"{path}: JSON nested {depth} deep, more than the {MAX_DEPTH} allowed")
    try:
        return json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, RecursionError, UnicodeDecodeError) as error:
        raise SubmissionError(f"{path}: not valid JSON ({error})") from None


def _max_depth(raw: bytes) -> int:
    """How deeply brackets nest in JSON text, outside strings (without parsing it)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def read_result(path: Path, suites: Mapping[str, Suite] | None = None) -> dict[str, Any]:
    data = read_json_file(path)
    validate(data, suites)
    return data


# -- validation --------------------------------------------------------------------------------
def validate(data: Any, suites: Mapping[str, Suite] | None = None, *, released: bool = True) -> Suite:
    """Check a parsed result and recompute every number it claims; return its suite. With
    ``released`` the suite must be a released version (or one of ``suites``, by hash)."""
    _require(isinstance(data, dict), "a result must be a JSON object")
    _require(data.get("schema") == SCHEMA, f"schema must be {SCHEMA!r}, got {data.get('schema')!r}")
    for key in ("suite", "agent", "neurobench_version", "wall_time_s", "machine", "runs", "aggregates"):
        _require(key in data, f"missing field {key!r}")
    _check_finite(data, "result")
    agent = data["agent"]
    _require(isinstance(agent, dict) and isinstance(agent.get("config"), dict), "agent must hold name and config")
    name = agent.get("name")
    _require(
        isinstance(name, str) and _NAME.fullmatch(name) is not None,
        f"agent name {name!r} must be 1-64 letters, digits, '_', '.', '+' or '-'",
    )
    _require(agent["config"].get("name") == name, "agent.name must be the name in agent.config")
    _require(agent.get("hash") == content_hash(agent["config"]), "agent.hash does not match agent.config")
    suite = _suite_of(data["suite"], suites, released)
    _check_runs(data["runs"], suite)
    _check_aggregates(data["aggregates"])
    _require(
        _close(data["aggregates"], aggregates(data["runs"])),
        "aggregates do not follow from the runs' normalized scores",
    )
    return suite


def _suite_of(info: Any, suites: Mapping[str, Suite] | None, released: bool) -> Suite:
    _require(isinstance(info, dict), "suite must be an object")
    definition = info.get("definition")
    _require(isinstance(definition, dict), "suite.definition must hold the suite's full definition")
    try:
        suite = Suite.from_definition(definition)
    except NeuroBenchError as error:
        raise SubmissionError(f"suite.definition does not describe a valid suite: {error}") from None
    _require(
        suite.hash == info.get("hash"), f"suite.hash {info.get('hash')!r} does not match its definition ({suite.hash})"
    )
    expected = {**suite.summary(), "frozen": suite.frozen}
    for field in sorted(set(expected) - {"definition"}):
        _require(
            info.get(field) == expected[field],
            f"suite.{field} {info.get(field)!r} does not match its definition ({expected[field]!r})",
        )
    if released:
        known = known_suites() if suites is None else suites
        _require(
            suite.hash in known,
            f"suite {suite.name!r} v{suite.version} ({suite.hash}) is not a released suite version; released: "
            + ", ".join(
                f"{s.name} v{s.version}={h}" for h, s in sorted(known.items(), key=lambda i: (i[1].name, i[1].version))
            ),
        )
    return suite


def _check_runs(runs: Any, suite: Suite) -> None:
    _require(isinstance(runs, list), "runs must be a list")
    expected = {(job.task.label, job.seed): job for job in suite.jobs()}
    seen = set()
    for run in runs:
        _require(isinstance(run, dict), "each run must be an object")
        for name in ("task", "family", "seed", "eval_seed", "metrics", "index", "trials", "chance", "ceiling"):
            _require(name in run, f"a run is missing {name!r}")
        _require(isinstance(run["task"], str), f"a run's task must be a task label, got {run['task']!r}")
        _require(
            isinstance(run["seed"], int) and not isinstance(run["seed"], bool),
            f"a run's seed must be an integer, got {run['seed']!r}",
        )
        key = (run["task"], run["seed"])
        _require(
            key in expected, f"run {key} is not a (task, seed) of suite {suite.name!r}; its runs are {sorted(expected)}"
        )
        _require(key not in seen, f"run {key} appears twice")
        seen.add(key)
        job = expected[key]
        _require(
            run.get("key") == job.key and type(run.get("index")) is int and run["index"] == job.index,
            f"run {key}: key or index is not its job's",
        )
        task = job.task.build()
        _require(run["family"] == task.family, f"run {key}: family {run['family']!r} should be {task.family!r}")
        _require(run["eval_seed"] == job.eval_seed, f"run {key}: eval_seed should be {job.eval_seed}")
        _check_trials(run, key, suite.eval_trials)
        _check_score(run, key, task)
    missing = sorted(set(expected) - seen)
    _require(not missing, f"missing runs for suite {suite.name!r}: {missing[:5]}{' ...' if len(missing) > 5 else ''}")


def _check_trials(run: Mapping[str, Any], key: tuple[str, int], eval_trials: int) -> None:
    trials = run["trials"]
    _require(isinstance(trials, dict), f"run {key}: trials must be an object")
    outcome = trials.get("outcome")
    _require(
        isinstance(outcome, str) and set(outcome) <= set(_CODES), f"run {key}: trials.outcome must be letters of 'cfma'"
    )
    _require(
        len(outcome) == eval_trials,
        f"run {key}: {len(outcome)} trials, but the suite evaluates {eval_trials}",
    )
    _require(isinstance(trials.get("reward_total"), int | float), f"run {key}: trials.reward_total must be a number")
    scores = trials.get("score")
    if scores is not None:
        _require(
            isinstance(scores, list)
            and len(scores) == len(outcome)
            and all(isinstance(s, int | float) and 0 <= s <= 1 for s in scores),
            f"run {key}: trials.score must be one number in [0, 1] per trial",
        )
        _require(
            all(s == 0 or code == "c" for s, code in zip(scores, outcome, strict=True)),
            f"run {key}: only correct trials can have a non-zero score",
        )


def _check_score(run: Mapping[str, Any], key: tuple[str, int], task: Any) -> None:
    """Chance and ceiling must be this version's; every metric must follow from the trials."""
    try:
        chance, ceiling = check_scorable(task)
    except NeuroBenchError as error:
        raise SubmissionError(f"run {key}: {error}") from None
    for name, current in (("chance", chance), ("ceiling", ceiling)):
        level = run[name] if isinstance(run[name], dict) else {}
        value = level.get("value")
        _require(
            isinstance(value, int | float) and not isinstance(value, bool) and abs(value - current.value) <= TOLERANCE,
            f"run {key}: {name} {value!r} is not this NeuroBench's {current.value:.10g} for {run['task']}; "
            f"re-score the run by starting it again with the same run_dir (finished jobs are not redone)",
        )
        se = level.get("se")
        _require(
            level.get("kind") == current.kind and isinstance(se, int | float) and abs(se - current.se) <= TOLERANCE,
            f"run {key}: {name} kind/se {level.get('kind')!r}/{se!r} are not this NeuroBench's "
            f"{current.kind}/{current.se:.3g} for {run['task']}",
        )
    metrics = run["metrics"]
    _require(isinstance(metrics, dict), f"run {key}: metrics must be an object")
    recomputed = metrics_of(run["trials"], chance.value, ceiling.value, task)
    _check_breakdown(run, key, task)
    for name in ("n_trials", *METRICS):
        claimed, actual = metrics.get(name), recomputed[name]
        same = (claimed is None and actual is None) or (
            isinstance(claimed, int | float)
            and not isinstance(claimed, bool)
            and actual is not None
            and abs(claimed - actual) <= TOLERANCE
        )
        _require(same, f"run {key}: metric {name} {claimed!r} does not follow from the trials (expected {actual!r})")


def _check_breakdown(run: Mapping[str, Any], key: tuple[str, int], task: Any) -> None:
    """A multitask run carries each trial's task and the per-task breakdown that follows."""
    if not hasattr(task, "tasks"):
        _require("by_task" not in run and "task" not in run["trials"], f"run {key}: only a multitask run has by_task")
        return
    index = run["trials"].get("task")
    _require(
        isinstance(index, list)
        and len(index) == len(run["trials"]["outcome"])
        and all(isinstance(k, int) and not isinstance(k, bool) and 0 <= k < len(task.tasks) for k in index),
        f"run {key}: trials.task must give each trial's task index (0-{len(task.tasks) - 1})",
    )
    expected = subtask_breakdown(run["trials"], task)
    claimed: Any = run.get("by_task")  # checked below
    _require(
        isinstance(claimed, list) and len(claimed) == len(expected),
        f"run {key}: by_task must list the {len(expected)} tasks it played",
    )
    for got, want in zip(claimed, expected, strict=True):
        _require(isinstance(got, dict) and got.get("task") == want["task"], f"run {key}: by_task names {want['task']}")
        for name, value in want.items():
            if name == "task":
                continue
            have = got.get(name)
            same = (have is None and value is None) or (
                isinstance(have, int | float) and value is not None and abs(have - value) <= TOLERANCE
            )
            _require(same, f"run {key}: by_task {want['task']} {name} {have!r} does not follow (expected {value!r})")


def _close(claimed: Any, actual: Any) -> bool:
    """Same structure, and numbers equal within TOLERANCE."""
    if isinstance(actual, dict):
        return (
            isinstance(claimed, dict)
            and claimed.keys() == actual.keys()
            and all(_close(claimed[k], actual[k]) for k in actual)
        )
    if isinstance(actual, int | float) and not isinstance(actual, bool):
        return isinstance(claimed, int | float) and not isinstance(claimed, bool) and abs(claimed - actual) <= TOLERANCE
    return bool(claimed == actual)


def _check_aggregates(groups: Any) -> None:
    """Well-formed only: submit and the leaderboard recompute them from the runs."""
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


def _check_finite(value: Any, where: str, depth: int = 0) -> None:
    _require(depth < MAX_DEPTH, f"{where}: nested too deeply")
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


# -- submit --------------------------------------------------------------------------------
def fingerprint(data: Mapping[str, Any]) -> str:
    """What makes two results the same: suite, agent and every trial's outcome."""
    return content_hash(
        {
            "suite": data["suite"]["hash"],
            "agent": data["agent"]["hash"],
            "runs": [[r["task"], r["seed"], r["trials"]] for r in data["runs"]],
        }
    )


def submission_name(data: Mapping[str, Any]) -> str:
    """``<suite>/<agent>-<content hash>.json``: stable, collision-free, inside results/."""
    return f"{data['suite']['name']}/{data['agent']['name']}-{fingerprint(data)[:10]}.json"


@contextmanager
def locked(folder: Path) -> Iterator[None]:
    """An exclusive lock on ``folder`` (a ``.lock`` file), so concurrent writers queue."""
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def existing_results(root: Path) -> Iterator[tuple[Path, dict[str, Any] | None, str | None]]:
    """Every ``<suite>/*.json`` under ``root``: (path, data or None, why it is unreadable)."""
    for path in sorted(Path(root).glob("*/*.json")):
        try:
            data = read_json_file(path)
        except SubmissionError as error:
            yield path, None, str(error)
            continue
        yield path, data if isinstance(data, dict) else None, None if isinstance(data, dict) else "not a JSON object"


def submit(path: Path, results_dir: Path, warn: Any = None) -> Path:
    """Validate ``path`` and copy it into ``results_dir``; return where it went. Unreadable
    neighbours in ``results_dir`` are reported through ``warn`` and skipped."""
    data = read_result(Path(path))
    root = Path(results_dir).resolve()
    target = (root / submission_name(data)).resolve()
    _require(root in target.parents, f"refusing to write outside {root}: {target}")
    mine = fingerprint(data)
    with locked(root):
        for existing, other, problem in existing_results(root):
            if problem is not None:
                if warn is not None:
                    warn(f"skipping {existing}: {problem}")
                continue
            try:
                same = fingerprint(other) == mine  # type: ignore[arg-type]
            except (KeyError, TypeError):
                same = False
            _require(not same, f"duplicate: {existing} already holds these results")
        write_json(target, {**data, "aggregates": aggregates(data["runs"])})
    return target
