"""The task registry: names, versions, Gymnasium ids, and the ``make`` functions.

Every task is registered with Gymnasium as ``neurobench/<Name>-v<version>``; the
version is bumped whenever a task's behaviour changes, so a published number always
names the trials it was measured on (Minigrid's convention).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass
from typing import Any, TypeVar

import gymnasium as gym
from gymnasium.envs.registration import EnvSpec

from neurobench.core.env import TaskEnv
from neurobench.core.errors import UnknownNameError
from neurobench.core.task import Task

NAMESPACE = "neurobench"
ENV_PARAMS = ("trials_per_episode", "max_steps")

_TASKS: dict[str, type[Task]] = {}
_UNSAFE = re.compile(r"[^\w.-]")  # characters not allowed in a Gymnasium id
_ID = re.compile(rf"^(?:{NAMESPACE}/)?(?P<name>[A-Za-z0-9_.]+?)(?:-v(?P<version>\d+))?$")

T = TypeVar("T", bound=type[Task])


def register(cls: T) -> T:
    """Class decorator: add a task to the registry and to Gymnasium's."""
    name = cls.task_name()
    _TASKS[name] = cls
    gym.register(
        id=gym_id(cls),
        entry_point="neurobench.core.registry:make",
        vector_entry_point="neurobench.core.vector:make_vec",
        kwargs={"name": name},
    )
    return cls


def gym_id(cls: type[Task]) -> str:
    return f"{NAMESPACE}/{cls.task_name()}-v{cls.version}"


def task_class(name: str) -> type[Task]:
    """Look a task up by name, ``Name-vN`` or ``neurobench/Name-vN``."""
    match = _ID.match(name) if isinstance(name, str) else None
    cls = _TASKS.get(match["name"]) if match else None
    if cls is None:
        raise UnknownNameError("task", name, _TASKS)
    if match and match["version"] is not None and int(match["version"]) != cls.version:
        raise UnknownNameError("task version", name, [gym_id(c) for c in _TASKS.values()])
    return cls


def make_task(name: str | Task, **params: Any) -> Task:
    """Build a task from its name and parameters, rejecting unknown parameters. A game's
    name gives a GameTask (the game against a reference ``opponent``)."""
    if isinstance(name, Task):
        if params:
            return dataclasses.replace(name, **_checked(type(name), params))
        return name
    from neurobench.tasks.game_tasks import GameTask
    from neurobench.tasks.games import GAMES

    if isinstance(name, GameTask):
        return name  # type: ignore[return-value]
    if name in GAMES:
        opponent = params.pop("opponent", "")
        return GameTask(name, opponent, params)  # type: ignore[return-value]
    cls = task_class(name)
    return cls(**_checked(cls, params))


def make(name: str | Task, **kwargs: Any) -> TaskEnv:
    """A :class:`TaskEnv` for a task; ``trials_per_episode`` and ``max_steps`` go to the
    env, every other keyword is a task parameter (``dt``, ``timing``, ``rewards``...)."""
    env_kwargs = {k: kwargs.pop(k) for k in ENV_PARAMS if k in kwargs}
    task = make_task(name, **kwargs)
    env = TaskEnv(task, **env_kwargs)
    if _TASKS.get(type(task).task_name()) is type(task):
        spec = gym.spec(gym_id(type(task)))
        env.spec = dataclasses.replace(spec, kwargs={**spec.kwargs, **kwargs, **env_kwargs})
    else:  # a modified task: its spec rebuilds the env from the task object
        env.spec = EnvSpec(
            id=f"{NAMESPACE}/{_UNSAFE.sub('_', task.name)}-v0",
            entry_point=functools.partial(TaskEnv, task, **env_kwargs),
        )
    return env


def _checked(cls: type[Task], params: dict[str, Any]) -> dict[str, Any]:
    valid = {f.name for f in dataclasses.fields(cls)}
    for key in params:
        if key not in valid:
            raise UnknownNameError(f"parameter of {cls.task_name()}", key, valid | set(ENV_PARAMS))
    return params


@dataclass(frozen=True)
class TaskInfo:
    """One row of :func:`tasks`: what a task is and where it comes from."""

    name: str
    id: str
    family: str
    paper: str
    title: str
    url: str
    description: str
    timing: dict[str, list[Any]]


def tasks(family: str | None = None) -> list[TaskInfo]:
    """Registered tasks (of one ``family`` if given), sorted by family and name."""
    families = sorted({cls.family for cls in _TASKS.values()})
    if family is not None and family not in families:
        raise UnknownNameError("task family", family, families)
    rows = []
    for name, cls in sorted(_TASKS.items(), key=lambda item: (item[1].family, item[0])):
        if family is not None and cls.family != family:
            continue
        task = cls()
        rows.append(
            TaskInfo(
                name=name,
                id=gym_id(cls),
                family=cls.family,
                paper=cls.paper.citation,
                title=cls.paper.title,
                url=cls.paper.url,
                description=(cls.__doc__ or "").strip().splitlines()[0],
                timing={k: d.spec() for k, d in task.timing.items()},  # type: ignore[union-attr]
            )
        )
    return rows


def task_names(family: str | None = None) -> list[str]:
    return [info.name for info in tasks(family)]
