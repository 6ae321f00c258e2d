"""The task registry: specs, versions, the nested-data grammar, and ``make_task``.

A :class:`TaskSpec` names a buildable thing: a task (``PerceptualDecisionMaking-v1``), a
modifier (``Noise-v0``, wrapping one task) or a composition (``MultiTask-v1``, over
several). A spec is an id, a factory, the parameters it fixes, its family, tags, version
and paper; many variants of one family are declared together (:func:`variants`).
Versions stay buildable side by side (Gymnasium keeps ``CartPole-v0`` next to ``-v1``):
a version is bumped whenever a seed's trials or a score's definition change, so a
published number always names what it was measured on.

Every task is also nested data, the one form suites, result files, hashes and
``make_task`` share::

    "PerceptualDecisionMaking"                                  # latest version, defaults
    {"id": "PerceptualDecisionMaking-v1", "params": {"dt": 50}}
    {"id": "Noise-v0", "params": {"std": 0.1},
     "task": {"id": "ReactionTime-v0", "task": "PerceptualDecisionMaking"}}
    {"id": "MultiTask-v1", "params": {"schedule": "random"}, "tasks": ["GoNogo", "DelayMatchSample"]}

``neurobench/core`` imports no task module: the catalog (``neurobench.catalog``) imports
them and registers their specs.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym

from neurobench.core.errors import InvalidParameterError, NeuroBenchError, UnknownNameError
from neurobench.core.task import Paper, Task, env_id

KINDS = ("task", "modifier", "composition")
NODE_KEYS = ("id", "params", "task", "tasks")
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.]*$")
_ID = re.compile(r"^(?:neurobench/)?(?P<name>[A-Za-z][A-Za-z0-9_.]*?)(?:-v(?P<version>\d+))?$")
_MAX_DEPTH = 32


class RegistrationError(NeuroBenchError, ValueError):
    """A spec that cannot be registered: the message names it and says why."""


@dataclass(frozen=True)
class TaskSpec:
    """What a registered id builds: ``factory(**{**params, **overrides})``."""

    name: str
    version: int
    factory: Callable[..., Any]
    params: Mapping[str, Any] = field(default_factory=dict)
    family: str = "custom"
    tags: tuple[str, ...] = ()
    paper: Paper | None = None
    kind: str = "task"
    description: str = ""
    deviations: tuple[str, ...] = ()  # where this task departs from NeuroGym 2.3.1, and why

    @property
    def id(self) -> str:
        return f"{self.name}-v{self.version}"

    @property
    def gym_id(self) -> str:
        return env_id(self.name, self.version)

    def parameters(self) -> set[str]:
        """The keyword parameters the factory accepts (without the spec itself)."""
        if dataclasses.is_dataclass(self.factory):
            names = {f.name for f in dataclasses.fields(self.factory) if f.init}
        else:
            names = {
                p.name
                for p in inspect.signature(self.factory).parameters.values()
                if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
            }
        return names - {"spec", "task", "tasks"}

    def build(self, inner: Any = None, **overrides: Any) -> Any:
        """Build with ``overrides`` on top of this spec's parameters; ``inner`` is the
        wrapped task of a modifier or the task list of a composition."""
        valid = self.parameters()
        for key in overrides:
            if key not in valid:
                raise UnknownNameError(f"parameter of {self.id}", key, valid)
        params = {**self.params, **overrides}
        if self.kind == "modifier":
            return self.factory(inner, spec=self, **params)
        if self.kind == "composition":
            return self.factory(tasks=inner, spec=self, **params)
        return self.factory(spec=self, **params)


_SPECS: dict[str, dict[int, TaskSpec]] = {}
_CANONICAL: dict[Callable[..., Any], TaskSpec] = {}  # keys: the factories that are classes


def register(spec: TaskSpec) -> TaskSpec:
    """Add a spec (and, for tasks, its Gymnasium id); refuse a bad or duplicate one."""
    where = f"spec {spec.name!r} (version {spec.version!r})"
    if not isinstance(spec.name, str) or not _NAME.match(spec.name):
        raise RegistrationError(f"{where}: a name starts with a letter and holds letters, digits, '_' and '.'")
    if not isinstance(spec.version, int) or isinstance(spec.version, bool) or spec.version < 0:
        raise RegistrationError(f"{where}: the version must be an integer >= 0")
    if spec.kind not in KINDS:
        raise RegistrationError(f"{where}: kind {spec.kind!r} is not one of {', '.join(KINDS)}")
    if not callable(spec.factory):
        raise RegistrationError(f"{where}: factory {spec.factory!r} is not callable")
    try:
        accepted = spec.parameters()
    except (TypeError, ValueError) as error:
        raise RegistrationError(f"{where}: cannot read the factory's parameters ({error})") from None
    unknown = sorted(set(spec.params) - accepted)
    if unknown:
        raise RegistrationError(
            f"{where}: parameters {unknown} are not accepted by {getattr(spec.factory, '__name__', spec.factory)}; "
            f"it accepts {sorted(accepted)}"
        )
    versions = _SPECS.setdefault(spec.name, {})
    if spec.version in versions:
        raise RegistrationError(f"{where}: {spec.id} is already registered")
    versions[spec.version] = spec
    if not spec.params and isinstance(spec.factory, type):
        current = _CANONICAL.get(spec.factory)
        if current is None or current.version < spec.version:
            _CANONICAL[spec.factory] = spec
    if spec.kind == "task":
        gym.register(
            id=spec.gym_id,
            entry_point="neurobench.core.make:make_env",
            vector_entry_point="neurobench.core.make:make_vec_env",
            kwargs={"task": spec.id},
        )
    return spec


def unregister(task_id: str) -> TaskSpec:
    """Remove a registered spec (and its Gymnasium id): for experiments and tests."""
    target = spec(task_id)
    del _SPECS[target.name][target.version]
    if not _SPECS[target.name]:
        del _SPECS[target.name]
    if _CANONICAL.get(target.factory) is target:
        del _CANONICAL[target.factory]
    gym.envs.registration.registry.pop(target.gym_id, None)
    return target


def variants(
    factory: Callable[..., Any],
    params: Mapping[str, Mapping[str, Any]],
    *,
    family: str,
    paper: Paper | None,
    tags: Sequence[str] = (),
    version: int = 0,
    description: str = "",
    deviations: Sequence[str] = (),
) -> list[TaskSpec]:
    """Specs of many variants of one family, ``{name: params}``: data for a module's
    ``SPECS`` (Minigrid-style: one class, hundreds of registered ids)."""
    return [
        TaskSpec(name, version, factory, dict(p), family, tuple(tags), paper, "task", description, tuple(deviations))
        for name, p in params.items()
    ]


def register_variants(
    factory: Callable[..., Any], params: Mapping[str, Mapping[str, Any]], **kw: Any
) -> list[TaskSpec]:
    """Register many variants of one family at once (see :func:`variants`)."""
    return [register(s) for s in variants(factory, params, **kw)]


def spec(name: str) -> TaskSpec:
    """A spec by ``Name`` (its latest version), ``Name-vN`` or ``neurobench/Name-vN``."""
    match = _ID.match(name) if isinstance(name, str) else None
    versions = _SPECS.get(match["name"]) if match else None
    if not versions:
        raise UnknownNameError("task", name, _SPECS)
    if match and match["version"] is not None:
        version = int(match["version"])
        if version not in versions:
            raise UnknownNameError(f"version of {match['name']}", name, [s.id for s in versions.values()])
        return versions[version]
    return versions[max(versions)]


def canonical_spec(cls: type) -> TaskSpec | None:
    """The latest spec that builds ``cls`` with its own defaults (a task made by calling
    its class directly takes that identity)."""
    return _CANONICAL.get(cls)


def specs(kind: str | None = None, latest: bool = True) -> list[TaskSpec]:
    """Registered specs (of one ``kind``), by name; only latest versions unless told."""
    out = []
    for versions in _SPECS.values():
        chosen = [versions[max(versions)]] if latest else list(versions.values())
        out += [s for s in chosen if kind in (None, s.kind)]
    return sorted(out, key=lambda s: (s.name, s.version))


# -- the grammar ------------------------------------------------------------------------
def build(node: Any, _depth: int = 0) -> Task:
    """A task from nested data (or a task, returned as is)."""
    if isinstance(node, Task):
        return node
    if _depth > _MAX_DEPTH:
        raise InvalidParameterError(f"task data nested deeper than {_MAX_DEPTH} levels")
    if isinstance(node, str):
        node = {"id": node}
    if not isinstance(node, Mapping):
        raise InvalidParameterError(
            f"a task is a registered name or {{id, params, task/tasks}} data, got {type(node).__name__} {node!r:.80}"
        )
    unknown = sorted(set(node) - set(NODE_KEYS))
    if unknown or "id" not in node:
        raise InvalidParameterError(
            f"task data must hold 'id' and may hold {', '.join(NODE_KEYS[1:])}; got keys {sorted(node)}"
        )
    target = spec(str(node["id"]))
    params = node.get("params") or {}
    if not isinstance(params, Mapping):
        raise InvalidParameterError(f"params of {target.id} must be a mapping, got {params!r:.80}")
    if target.kind == "modifier":
        if "task" not in node or "tasks" in node:
            raise InvalidParameterError(f"{target.id} is a modifier: give the task it modifies as 'task'")
        return target.build(build(node["task"], _depth + 1), **params)
    if target.kind == "composition":
        inner = node.get("tasks")
        if "task" in node or not isinstance(inner, Sequence) or isinstance(inner, str):
            raise InvalidParameterError(f"{target.id} composes tasks: give them as a list under 'tasks'")
        return target.build(tuple(build(t, _depth + 1) for t in inner), **params)
    if "task" in node or "tasks" in node:
        raise InvalidParameterError(f"{target.id} is a task, not a modifier or composition: it takes no inner task")
    return target.build(**params)


def make_task(task: Any, **params: Any) -> Task:
    """A task from a name, nested data or a task, with ``params`` on top (a task object
    is rebuilt with them, checked by name)."""
    if isinstance(task, Task):
        if not params:
            return task
        return rebuilt(task, params)
    if params:
        node: dict[str, Any] | None = (
            {"id": task} if isinstance(task, str) else dict(task) if isinstance(task, Mapping) else None
        )
        if node is None:
            raise InvalidParameterError(f"cannot add parameters to {task!r:.80}")
        node["params"] = {**dict(node.get("params") or {}), **params}
        return build(node)
    return build(task)


def rebuilt(task: Task, params: Mapping[str, Any]) -> Task:
    """``task`` with some parameters changed. A modifier passes the parameters that are not
    its own to the task it wraps (``Noise(pdm)`` with ``dt=5`` rebuilds ``pdm`` at 5 ms);
    names neither knows are refused, listing the valid ones."""
    if not dataclasses.is_dataclass(task):
        raise InvalidParameterError(f"{task.name} cannot be rebuilt with new parameters")
    own = {f.name for f in dataclasses.fields(task) if f.init} - {"spec", "task", "tasks"}
    inner = getattr(task, "task", None)
    passed = {k: v for k, v in params.items() if k not in own} if isinstance(inner, Task) else {}
    if passed:
        try:
            inner = rebuilt(inner, passed)
        except UnknownNameError as error:
            raise UnknownNameError(f"parameter of {task.name}", error.name, own | set(error.valid)) from None
    for key in params:
        if key not in own and key not in passed:
            raise UnknownNameError(f"parameter of {task.name}", key, own)
    changes = {k: v for k, v in params.items() if k in own}
    if passed:
        changes["task"] = inner
    return dataclasses.replace(task, **changes)


def node_of(task: Any) -> Any:
    """Nested data for a task given as a name, data or task (what suites store)."""
    return build(task).node()


@dataclass(frozen=True)
class TaskInfo:
    """One row of :func:`tasks`: what a task is and where it comes from."""

    name: str
    id: str
    family: str
    tags: tuple[str, ...]
    paper: str
    title: str
    url: str
    description: str
    version: int
    deviations: tuple[str, ...] = ()


def tasks(family: str | None = None, tag: str | None = None, all_versions: bool = False) -> list[TaskInfo]:
    """Registered tasks (of one ``family``, with one ``tag``), sorted by family and name."""
    rows = [_info(s) for s in specs("task", latest=not all_versions)]
    families = sorted({row.family for row in rows})
    if family is not None and family not in families:
        raise UnknownNameError("task family", family, families)
    all_tags = sorted({t for row in rows for t in row.tags})
    if tag is not None and tag not in all_tags:
        raise UnknownNameError("task tag", tag, all_tags)
    chosen = [r for r in rows if family in (None, r.family) and (tag is None or tag in r.tags)]
    return sorted(chosen, key=lambda row: (row.family, row.name, row.version))


def _info(s: TaskSpec) -> TaskInfo:
    paper = s.paper or Paper("", "", "")
    return TaskInfo(
        name=s.name,
        id=s.gym_id,
        family=s.family,
        tags=s.tags,
        paper=paper.citation,
        title=paper.title,
        url=paper.url,
        description=s.description or _first_line(getattr(s.factory, "__doc__", "")),
        version=s.version,
        deviations=s.deviations,
    )


def _first_line(text: str | None) -> str:
    lines = (text or "").strip().splitlines()
    return lines[0] if lines else ""
