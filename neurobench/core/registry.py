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
from neurobench.core.errors import InvalidParameterError, UnknownNameError
from neurobench.core.task import NAMESPACE, Task, env_id

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


def register_game(name: str, version: int) -> None:
    """Add a two-player game to Gymnasium's registry, played against its reference
    opponent (``opponent=`` picks another): ``gymnasium.make("neurobench/<Game>-v0")``."""
    gym.register(
        id=env_id(name, version),
        entry_point="neurobench.core.registry:make",
        vector_entry_point="neurobench.core.vector:make_vec",
        kwargs={"name": name},
    )


def gym_id(cls: type[Task]) -> str:
    return env_id(cls.task_name(), cls.version)


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
    return build_task(name, params, also_valid=())


def build_task(name: str | Task, params: dict[str, Any], also_valid: tuple[str, ...]) -> Task:
    """``make_task``; ``also_valid`` names the caller's own keywords, listed in errors."""
    if isinstance(name, Task):
        if params:
            return dataclasses.replace(name, **_checked(type(name), params, also_valid))
        return name
    from neurobench.tasks.game_tasks import GameTask
    from neurobench.tasks.games import GAMES

    if isinstance(name, GameTask):
        if params:
            settings = {**name.settings, **params}
            return GameTask(name.game, settings.pop("opponent", name.opponent), settings)  # type: ignore[return-value]
        return name  # type: ignore[return-value]
    if name in GAMES:
        opponent = params.pop("opponent", "")
        return GameTask(name, opponent, params)  # type: ignore[return-value]
    cls = task_class(name)
    return cls(**_checked(cls, params, also_valid))


def make(name: str | Task, **kwargs: Any) -> TaskEnv:
    """A :class:`TaskEnv` for a task; ``trials_per_episode`` and ``max_steps`` go to the
    env, every other keyword is a task parameter (``dt``, ``timing``, ``rewards``...)."""
    env_kwargs = {k: kwargs.pop(k) for k in ENV_PARAMS if k in kwargs}
    task = build_task(name, kwargs, also_valid=ENV_PARAMS)
    if not isinstance(task, Task):  # a game: the agent plays it against its opponent
        if "max_steps" in env_kwargs:
            raise InvalidParameterError(
                f"{task.name} episodes are counted in trials: use trials_per_episode, not max_steps"
            )
        return task.env(**env_kwargs)  # type: ignore[return-value]
    env = TaskEnv(task, **env_kwargs)
    if _TASKS.get(type(task).task_name()) is type(task):
        spec = gym.spec(gym_id(type(task)))
        env.spec = dataclasses.replace(spec, kwargs={**spec.kwargs, **kwargs, **env_kwargs})
    else:  # a modified task: its spec rebuilds the env from the task object
        env.spec = EnvSpec(
            id=env_id(_UNSAFE.sub("_", task.name), 0),
            entry_point=functools.partial(TaskEnv, task, **env_kwargs),
        )
    return env


def _checked(cls: type[Task], params: dict[str, Any], also_valid: tuple[str, ...]) -> dict[str, Any]:
    valid = {f.name for f in dataclasses.fields(cls)}
    for key in params:
        if key not in valid:
            raise UnknownNameError(f"parameter of {cls.task_name()}", key, valid | set(also_valid))
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
    """Registered tasks and games (of one ``family`` if given), sorted by family and name."""
    rows = [_task_info(name, cls) for name, cls in _TASKS.items()] + _game_infos()
    families = sorted({row.family for row in rows})
    if family is not None and family not in families:
        raise UnknownNameError("task family", family, families)
    return sorted((row for row in rows if family in (None, row.family)), key=lambda row: (row.family, row.name))


def _task_info(name: str, cls: type[Task]) -> TaskInfo:
    return TaskInfo(
        name=name,
        id=gym_id(cls),
        family=cls.family,
        paper=cls.paper.citation,
        title=cls.paper.title,
        url=cls.paper.url,
        description=_first_line(cls.__doc__),
        timing={k: d.spec() for k, d in cls().timing.items()},  # type: ignore[union-attr]
    )


def _game_infos() -> list[TaskInfo]:
    from neurobench.tasks.games import FAMILY, GAMES, VERSION, make_game

    rows = []
    for name, cls in GAMES.items():
        game = make_game(name)
        rows.append(
            TaskInfo(
                name=name,
                id=env_id(name, VERSION),
                family=FAMILY,
                paper=cls.paper.citation,
                title=cls.paper.title,
                url=cls.paper.url,
                description=_first_line(cls.__doc__),
                timing={
                    "fixation": ["constant", game.fixation_steps * game.dt],
                    "choice": ["constant", game.choice_steps * game.dt],
                },
            )
        )
    return rows


def _first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0]
