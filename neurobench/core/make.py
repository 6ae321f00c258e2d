"""``make`` and ``make_vec``: Gymnasium environments of any task, and their entry points.

Keywords that belong to the environment (``trials_per_episode``, ``max_steps``,
``render_mode``, ``autoreset_mode``) go to it; ``opponent`` picks the other player of a
game; every other keyword is a task parameter. A game (a task for several players) becomes
a single-agent environment against an opponent: the reference opponent of its paper
unless told otherwise.
"""

from __future__ import annotations

from typing import Any

from gymnasium.envs.registration import EnvSpec

from neurobench.core.env import TaskEnv
from neurobench.core.errors import InvalidParameterError
from neurobench.core.registry import build, make_task
from neurobench.core.task import NAMESPACE, Task
from neurobench.core.vector import TaskVectorEnv

ENV_PARAMS = ("trials_per_episode", "max_steps", "render_mode")
VECTOR_PARAMS = ("trials_per_episode", "max_steps", "autoreset_mode")


def single_agent(task: Task, opponent: str | None = None) -> Task:
    """``task`` if one agent plays it, else the game against ``opponent`` (by default its
    reference opponent) as a one-player task."""
    players = task.players
    if players == 1:
        if opponent is not None:
            raise InvalidParameterError(f"{task.name} is a single-agent task: it has no opponent to choose")
        return task
    return build({"id": "Versus", "params": {} if opponent is None else {"opponent": opponent}, "task": task})


def _split(kwargs: dict[str, Any], env_keys: tuple[str, ...]) -> tuple[dict[str, Any], str | None]:
    env_kwargs = {k: kwargs.pop(k) for k in env_keys if k in kwargs}
    return env_kwargs, kwargs.pop("opponent", None)


def make(task: Any, **kwargs: Any) -> TaskEnv:
    """A :class:`TaskEnv` for a task (a name, nested data or a task)."""
    env_kwargs, opponent = _split(kwargs, ENV_PARAMS)
    built = single_agent(make_task(task, **kwargs), opponent)
    env = TaskEnv(built, **env_kwargs)
    if _registered(built):  # its spec rebuilds it (a task not yet registered has none)
        env.spec = EnvSpec(
            id=f"{NAMESPACE}/{built.node()['id']}",
            entry_point="neurobench.core.make:make_env",
            vector_entry_point="neurobench.core.make:make_vec_env",
            kwargs={"task": built.node(), **env_kwargs},
        )
    return env


def _registered(task: Task) -> bool:
    from neurobench.core.errors import NeuroBenchError

    try:
        build(task.node())
    except NeuroBenchError:
        return False
    return True


def make_vec(task: Any, num_envs: int = 1, **kwargs: Any) -> TaskVectorEnv:
    """A :class:`TaskVectorEnv` of ``num_envs`` sessions (numpy lockstep, for every task
    kind, games against their opponents included)."""
    env_kwargs, opponent = _split(kwargs, VECTOR_PARAMS)
    built = single_agent(make_task(task, **kwargs), opponent)
    return TaskVectorEnv(built, num_envs, **env_kwargs)


def make_env(task: Any, **kwargs: Any) -> TaskEnv:
    """Gymnasium's entry point (``gym.make("neurobench/<Name>-v<N>", ...)``)."""
    return make(task, **kwargs)


def make_vec_env(task: Any, num_envs: int = 1, **kwargs: Any) -> TaskVectorEnv:
    """Gymnasium's vector entry point (``gym.make_vec``): the native vector env."""
    kwargs.pop("render_mode", None)  # vector envs render nothing
    return make_vec(task, num_envs, **kwargs)
