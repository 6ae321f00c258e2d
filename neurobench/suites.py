"""Suites: the fixed task lists, seeds and budgets that results are compared on.

A suite is read from ``conf/suite/<name>.yaml`` (shipped in the package as
``neurobench.conf``) or from a Hydra config. Its *hash* covers everything that decides
the trials an agent is scored on: each task's id (with its version) and fully resolved
parameters, the seeds, the number of evaluation trials and environments, and the budget.
Every result carries it, so results of different suite definitions never mix.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources
from typing import Any

from omegaconf import OmegaConf

from neurobench.core.errors import InvalidParameterError, UnknownNameError
from neurobench.core.registry import make_task
from neurobench.core.task import Task

_FIELDS = (
    "name",
    "version",
    "description",
    "tasks",
    "seeds",
    "eval_seed_offset",
    "eval_trials",
    "budget",
    "num_envs",
)


@dataclass(frozen=True)
class SuiteTask:
    """One task of a suite: a registered task and the parameters the suite fixes."""

    name: str
    params: Mapping[str, Any]

    def build(self) -> Task:
        return make_task(self.name, **self.params)


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
        """Validate a suite definition; errors name the suite and the bad entry."""
        data = dict(data)
        name = str(data.get("name", "?"))
        unknown = set(data) - set(_FIELDS)
        if unknown:
            raise UnknownNameError(f"field of suite {name!r}", sorted(unknown)[0], _FIELDS)
        missing = [f for f in _FIELDS if f not in data and f != "description"]
        if missing:
            raise InvalidParameterError(f"suite {name!r} is missing {', '.join(missing)}")
        tasks = tuple(_suite_task(name, entry) for entry in data["tasks"] or [])
        if not tasks:
            raise InvalidParameterError(f"suite {name!r} has no tasks")
        for task in tasks:
            task.build()  # unknown tasks and bad parameters fail here, with their own errors
        seeds = tuple(data["seeds"] or ())
        _check_ints(name, "seeds", seeds, minimum=0)
        if not seeds:
            raise InvalidParameterError(f"suite {name!r}: seeds must list at least one seed, e.g. [0, 1, 2]")
        if len(set(seeds)) != len(seeds):
            raise InvalidParameterError(f"suite {name!r}: seeds must be distinct, got {list(seeds)}")
        for field, minimum in (
            ("version", 0),
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
        """What the hash covers: every fact that decides the trials and the budget."""
        built = [spec.build() for spec in self.tasks]
        return {
            "name": self.name,
            "version": self.version,
            "tasks": [{"id": task.id, "params": _canonical(task.params())} for task in built],
            "seeds": list(self.seeds),
            "eval_seed_offset": self.eval_seed_offset,
            "eval_trials": self.eval_trials,
            "budget": self.budget,
            "num_envs": self.num_envs,
        }

    @cached_property
    def hash(self) -> str:
        return content_hash(self.definition())

    def jobs(self) -> list[Job]:
        """One job per (task, seed), in a fixed order."""
        return [
            Job(f"{i:02d}-{task.name}-seed{seed}", i, task, seed, seed + self.eval_seed_offset)
            for i, task in enumerate(self.tasks)
            for seed in self.seeds
        ]

    def summary(self) -> dict[str, Any]:
        """What a result file records about its suite."""
        return {
            "name": self.name,
            "version": self.version,
            "hash": self.hash,
            "tasks": [t.name for t in self.tasks],
            "seeds": list(self.seeds),
            "eval_seeds": [s + self.eval_seed_offset for s in self.seeds],
            "eval_trials": self.eval_trials,
            "budget": self.budget,
            "num_envs": self.num_envs,
        }


def content_hash(data: Any) -> str:
    """A short, stable hash of JSON-able data (keys sorted, no whitespace)."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def suite_names() -> list[str]:
    folder = resources.files("neurobench.conf") / "suite"
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_suite(name: str) -> Suite:
    """A suite shipped with NeuroBench, by name."""
    if name not in suite_names():
        raise UnknownNameError("suite", name, suite_names())
    text = (resources.files("neurobench.conf") / "suite" / f"{name}.yaml").read_text()
    return Suite.from_mapping(OmegaConf.to_container(OmegaConf.create(text), resolve=True))  # type: ignore[arg-type]


@cache
def known_suites() -> dict[str, Suite]:
    """The shipped suites by hash (what a submission's suite hash must be one of)."""
    return {suite.hash: suite for suite in map(load_suite, suite_names())}


def _canonical(value: Any) -> Any:
    """Numbers as floats, so that ``dt: 100`` and ``dt: 100.0`` hash alike."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, Mapping):
        return {k: _canonical(v) for k, v in value.items()}
    return [_canonical(v) for v in value]


def _suite_task(suite: str, entry: Any) -> SuiteTask:
    if isinstance(entry, str):
        return SuiteTask(entry, {})
    if not isinstance(entry, Mapping) or "name" not in entry or set(entry) - {"name", "params"}:
        raise InvalidParameterError(
            f"suite {suite!r}: each task must be a name or {{name: ..., params: {{...}}}}, got {entry!r}"
        )
    return SuiteTask(str(entry["name"]), dict(entry.get("params") or {}))


def _check_ints(suite: str, field: str, values: Any, minimum: int) -> None:
    for value in values:
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise InvalidParameterError(f"suite {suite!r}: {field} must be integers >= {minimum}, got {value!r}")
