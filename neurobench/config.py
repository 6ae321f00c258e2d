"""Strict, typed configuration of the main job: every option has a type, and a value that
is not of it stops the run before anything happens, with the key, the value and what is
accepted.

The harness options are a Hydra structured config (:class:`RunConfig`, stored as
``base_config`` and listed first in ``conf/config.yaml``'s defaults), so OmegaConf parses
them: booleans accept ``true/false`` (and ``yes/no``, ``on/off``, ``1/0``), nothing else.
An agent's options are checked against its class's signature by :func:`typed_agent_params`
(an agent config is free-form in YAML, so it cannot be a schema of its own).
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from hydra.core.config_store import ConfigStore

from neurobench.core.errors import InvalidParameterError, UnknownNameError

TRUE = ("true", "yes", "on", "1")
FALSE = ("false", "no", "off", "0")


class Launcher(Enum):
    local = "local"
    ray = "ray"


@dataclass
class RayConfig:
    address: str | None = None
    num_cpus_per_job: float = 1.0


@dataclass
class RunConfig:
    """The main job's own options (``suite`` and ``agent`` come from their config groups)."""

    suite: Any = None
    agent: Any = None
    run_dir: str = "runs"
    overwrite: bool = False
    reuse: list[str] = field(default_factory=list)  # run dirs whose identical finished jobs are adopted
    launcher: Launcher = Launcher.local
    ray: RayConfig = field(default_factory=RayConfig)
    progress: str = "auto"  # auto: bars on a terminal, a line per job otherwise; true; false
    debug: bool = False  # show full tracebacks


def register_schema() -> None:
    ConfigStore.instance().store(name="base_config", node=RunConfig)


def parse_progress(value: Any) -> bool | None:
    """``progress``: ``auto`` (None: decide by the terminal) or a boolean."""
    if isinstance(value, str) and value.strip().lower() == "auto":
        return None
    try:
        return parse_bool("progress", value)
    except InvalidParameterError:
        raise InvalidParameterError(f"progress: {value!r} is not one of auto, true, false") from None


def parse_bool(key: str, value: Any) -> bool:
    """``True``/``False``, or one of the accepted spellings; anything else is an error."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE + FALSE:
        return value.strip().lower() in TRUE
    raise InvalidParameterError(f"{key}: {value!r} is not a boolean; use true or false")


def typed_agent_params(cls: type[Any], params: Mapping[str, Any], agent: str) -> dict[str, Any]:
    """``params`` checked and converted against ``cls.__init__``'s annotations: unknown
    keys and values of the wrong type are errors naming the key, the value and the type."""
    signature = inspect.signature(cls)
    accepted = signature.parameters
    open_ended = any(p.kind is p.VAR_KEYWORD for p in accepted.values())
    try:
        hints = typing.get_type_hints(cls.__init__)
    except (NameError, TypeError):
        hints = {}
    out = {}
    for key, value in params.items():
        if key not in accepted:
            if open_ended:
                out[key] = value
                continue
            raise UnknownNameError(f"parameter of agent {agent!r}", key, [k for k in accepted if k != "self"])
        out[key] = _coerce(f"agent.{key}", value, hints.get(key))
    return out


def _coerce(key: str, value: Any, annotation: Any) -> Any:
    if annotation is None or annotation is Any:
        return value
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        if value is None and type(None) in args:
            return None
        errors = []
        for option in (a for a in args if a is not type(None)):
            try:
                return _coerce(key, value, option)
            except InvalidParameterError as error:
                errors.append(str(error))
        raise InvalidParameterError(errors[0] if errors else f"{key}: {value!r} is not accepted")
    if annotation is bool:
        return parse_bool(key, value)
    if annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise InvalidParameterError(f"{key}: {value!r} is not an integer")
    if annotation is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise InvalidParameterError(f"{key}: {value!r} is not a number")
    if annotation is str:
        if isinstance(value, str):
            return value
        raise InvalidParameterError(f"{key}: {value!r} is not a string")
    if origin in (tuple, list):
        if isinstance(value, str) or not isinstance(value, list | tuple):
            raise InvalidParameterError(f"{key}: {value!r} is not a list, e.g. [64, 64]")
        inner = args[0] if args else Any
        return [_coerce(f"{key}[{i}]", v, inner) for i, v in enumerate(value)]
    return value
