"""Suites: the frozen, versioned task lists, seeds and budgets that results are compared on.

A suite version is a file, ``conf/suites/<name>/v<N>.yaml`` (shipped in the package as
``neurobench.conf``), and it never changes once released: adding a task makes version
``N + 1``, and results of version ``N`` stay valid (the leaderboard lists them, marked as
an older version). ``conf/suite/<name>.yaml``, the Hydra option ``suite=<name>``, names the
latest version; ``suite.version=N`` picks another, and overriding any other field
(``suite.eval_trials=200``) makes a custom suite with its own hash.

Tasks are nested task data (a name, or ``{id, params, task/tasks}``; see
``neurobench.core.registry``), so modified and composed tasks belong in suites as plain
tasks do; ``label`` names an entry in results (default: the task's name). The *hash*
covers everything that decides what an agent is scored on: every task's resolved nested
data (ids with versions, every parameter at every level), the seeds, the evaluation trials
and width, and the budget. Every result carries it, so results of different suite
definitions never mix.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from importlib.abc import Traversable
from typing import Any

from omegaconf import OmegaConf

from neurobench.core.errors import InvalidParameterError, UnknownNameError
from neurobench.core.registry import build
from neurobench.core.task import Task

FIELDS = ("name", "version", "description", "tasks", "seeds", "eval_seed_offset", "eval_trials", "budget", "num_envs")
_REQUIRED = tuple(f for f in FIELDS if f != "description")
_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+()=, -]{0,120}$")


@dataclass(frozen=True)
class SuiteTask:
    """One task of a suite: its label in results and its nested data."""

    label: str
    node: Any

    @cached_property
    def task(self) -> Task:
        return build(self.node)

    def build(self) -> Task:
        return self.task


@dataclass(frozen=True)
class Job:
    """One (task, training seed) unit of work; evaluated on ``eval_seed``."""

    key: str
    index: int
    task: SuiteTask
    seed: int
    eval_seed: int


@dataclass(frozen=True)
class Suite:
    name: str
    version: int
    description: str
    tasks: tuple[SuiteTask, ...]
    seeds: tuple[int, ...]
    eval_seed_offset: int
    eval_trials: int
    budget: int
    num_envs: int

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Suite:
        """Validate a suite definition; errors name the suite, the field and the bad value."""
        if not isinstance(data, Mapping):
            raise InvalidParameterError(f"a suite must be a mapping of its fields, got {type(data).__name__}")
        data = dict(data)
        name = str(data.get("name", "?"))
        unknown = sorted(set(data) - set(FIELDS))
        if unknown:
            raise UnknownNameError(f"field of suite {name!r}", unknown[0], FIELDS)
        missing = [f for f in _REQUIRED if f not in data]
        if missing:
            raise InvalidParameterError(f"suite {name!r} is missing {', '.join(missing)}")
        entries = data["tasks"]
        if not isinstance(entries, list | tuple):
            raise InvalidParameterError(
                f"suite {name!r}: tasks must be a list of tasks (names or {{id, params, ...}}), got {entries!r:.80}"
            )
        tasks = tuple(_suite_task(name, entry) for entry in entries)
        if not tasks:
            raise InvalidParameterError(f"suite {name!r} has no tasks")
        labels = [t.label for t in tasks]
        duplicates = sorted({label for label in labels if labels.count(label) > 1})
        if duplicates:
            raise InvalidParameterError(
                f"suite {name!r} lists {duplicates} more than once; give each entry its own 'label'"
            )
        for task in tasks:
            task.build()  # unknown tasks and bad parameters fail here, with their own errors
        seeds = data["seeds"]
        if not isinstance(seeds, list | tuple):
            raise InvalidParameterError(
                f"suite {name!r}: seeds must be a list of integers, e.g. [0, 1, 2], got {seeds!r}"
            )
        _check_ints(name, "seeds", seeds, minimum=0)
        if not seeds:
            raise InvalidParameterError(f"suite {name!r}: seeds must list at least one seed, e.g. [0, 1, 2]")
        if len(set(seeds)) != len(seeds):
            raise InvalidParameterError(f"suite {name!r}: seeds must be distinct, got {list(seeds)}")
        for field, minimum in (
            ("version", 1),
            ("eval_seed_offset", 1),
            ("eval_trials", 1),
            ("budget", 0),
            ("num_envs", 1),
        ):
            _check_ints(name, field, [data[field]], minimum)
        overlap = set(seeds) & {s + data["eval_seed_offset"] for s in seeds}
        if overlap:
            raise InvalidParameterError(
                f"suite {name!r}: evaluation seeds (seed + {data['eval_seed_offset']}) overlap the "
                f"training seeds at {sorted(overlap)}; use a larger eval_seed_offset"
            )
        return cls(
            name=name,
            version=int(data["version"]),
            description=str(data.get("description", "")),
            tasks=tasks,
            seeds=tuple(int(s) for s in seeds),
            eval_seed_offset=int(data["eval_seed_offset"]),
            eval_trials=int(data["eval_trials"]),
            budget=int(data["budget"]),
            num_envs=int(data["num_envs"]),
        )

    def definition(self) -> dict[str, Any]:
        """What the hash covers: every fact that decides the trials, the scores and the budget."""
        return {
            "name": self.name,
            "version": self.version,
            "tasks": [{"label": t.label, "task": t.build().node()} for t in self.tasks],
            "seeds": list(self.seeds),
            "eval_seed_offset": self.eval_seed_offset,
            "eval_trials": self.eval_trials,
            "budget": self.budget,
            "num_envs": self.num_envs,
        }

    @cached_property
    def hash(self) -> str:
        """Of the definition with every number as a float (``dt: 100`` and ``dt: 100.0`` are
        the same trials)."""
        return content_hash(_canonical(self.definition()))

    @property
    def frozen(self) -> bool:
        """Whether this is a released suite version, unchanged."""
        return self.hash in known_suites()

    def jobs(self) -> list[Job]:
        """One job per (task, seed), in a fixed order."""
        return [
            Job(f"{i:02d}-{_file_safe(task.label)}-seed{seed}", i, task, seed, seed + self.eval_seed_offset)
            for i, task in enumerate(self.tasks)
            for seed in self.seeds
        ]

    def summary(self) -> dict[str, Any]:
        """What a result file records about its suite (everything to rebuild it)."""
        return {
            "name": self.name,
            "version": self.version,
            "hash": self.hash,
            "tasks": [t.label for t in self.tasks],
            "definition": self.definition(),
            "seeds": list(self.seeds),
            "eval_seeds": [s + self.eval_seed_offset for s in self.seeds],
            "eval_trials": self.eval_trials,
            "budget": self.budget,
            "num_envs": self.num_envs,
        }

    @classmethod
    def from_definition(cls, definition: Mapping[str, Any]) -> Suite:
        """The suite a result's ``suite.definition`` describes."""
        data = dict(definition)
        entries = data.get("tasks")
        if not isinstance(entries, list) or not all(
            isinstance(t, Mapping) and isinstance(t.get("label"), str) and isinstance(t.get("task"), Mapping | str)
            for t in entries
        ):
            raise InvalidParameterError(
                f"a suite definition's tasks must be a list of {{label, task}} entries, got {entries!r:.100}"
            )
        data["tasks"] = [{"label": t["label"], **_as_entry(t["task"])} for t in entries]
        return cls.from_mapping(data)


def content_hash(data: Any) -> str:
    """A short, stable hash of JSON-able data (keys sorted, no whitespace)."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _frozen_root() -> Traversable:
    return resources.files("neurobench.conf") / "suites"


def suite_names() -> list[str]:
    return sorted(p.name for p in _frozen_root().iterdir() if p.is_dir() and not p.name.startswith("_"))


def suite_versions(name: str) -> list[int]:
    if name not in suite_names():
        raise UnknownNameError("suite", name, suite_names())
    folder = _frozen_root() / name
    return sorted(int(p.name[1:-5]) for p in folder.iterdir() if re.fullmatch(r"v\d+\.yaml", p.name))


def load_suite(name: str, version: int | None = None) -> Suite:
    """A released suite: its latest version, or ``version``."""
    versions = suite_versions(name)
    chosen = versions[-1] if version is None else version
    if chosen not in versions:
        raise UnknownNameError(f"version of suite {name!r}", chosen, [str(v) for v in versions])
    text = (_frozen_root() / name / f"v{chosen}.yaml").read_text()
    data = OmegaConf.to_container(OmegaConf.create(text), resolve=True)
    suite = Suite.from_mapping(data)  # type: ignore[arg-type]
    if suite.name != name or suite.version != chosen:
        raise InvalidParameterError(f"conf/suites/{name}/v{chosen}.yaml names itself {suite.name!r} v{suite.version}")
    return suite


def resolve_suite(config: Mapping[str, Any]) -> Suite:
    """The suite a run's ``suite`` config names: a released version, with any other
    field overridden (which makes a custom suite)."""
    config = dict(config)
    name = config.pop("name", None)
    if not isinstance(name, str):
        raise InvalidParameterError(f"suite.name must name a suite ({', '.join(suite_names())}), got {name!r}")
    version = config.pop("version", None)
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        raise InvalidParameterError(f"suite.version must be an integer, got {version!r}")
    base = load_suite(name, version)
    config = {k: v for k, v in config.items() if v is not None}  # null: as released
    if not config:
        return base
    merged = {**_mapping_of(base), **config}
    return Suite.from_mapping(merged)


def _mapping_of(suite: Suite) -> dict[str, Any]:
    return {
        "name": suite.name,
        "version": suite.version,
        "description": suite.description,
        "tasks": [{"label": t.label, **_as_entry(t.node)} for t in suite.tasks],
        "seeds": list(suite.seeds),
        "eval_seed_offset": suite.eval_seed_offset,
        "eval_trials": suite.eval_trials,
        "budget": suite.budget,
        "num_envs": suite.num_envs,
    }


@cache
def known_suites() -> dict[str, Suite]:
    """Every released suite version, by hash (what a submission's suite hash must be one of)."""
    return {
        suite.hash: suite
        for name in suite_names()
        # mypy cannot infer a lambda with a default argument (python/mypy#15459)
        for suite in map(lambda v, n=name: load_suite(n, v), suite_versions(name))  # type: ignore[misc]
    }


def latest_versions() -> dict[str, int]:
    return {name: suite_versions(name)[-1] for name in suite_names()}


def _canonical(value: Any) -> Any:
    """Numbers as floats, so that ``dt: 100`` and ``dt: 100.0`` hash alike."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, Mapping):
        return {k: _canonical(v) for k, v in value.items()}
    return [_canonical(v) for v in value]


def _as_entry(node: Any) -> dict[str, Any]:
    return {"id": node} if isinstance(node, str) else dict(node)


def _suite_task(suite: str, entry: Any) -> SuiteTask:
    if isinstance(entry, str):
        return SuiteTask(entry, entry)
    if not isinstance(entry, Mapping) or "id" not in entry:
        raise InvalidParameterError(
            f"suite {suite!r}: each task must be a name or {{id: ..., params: {{...}}, label: ...}}, got {entry!r:.120}"
        )
    node = {k: v for k, v in entry.items() if k != "label"}
    label = entry.get("label") or build(node).name
    if not isinstance(label, str) or not _LABEL.match(label):
        raise InvalidParameterError(f"suite {suite!r}: label {label!r} must be 1-120 letters, digits and _.+()=, -")
    return SuiteTask(label, node)


def _file_safe(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]", "_", label)


def _check_ints(suite: str, field: str, values: Any, minimum: int) -> None:
    for value in values:
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise InvalidParameterError(f"suite {suite!r}: {field} must be integers >= {minimum}, got {value!r}")
