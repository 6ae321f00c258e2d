"""Chance and ceiling levels kept on disk, so that each is measured once per machine.

Some levels are measured by simulation: a game's best blind player against its opponent,
a value task's reference sessions, a Yang et al. decision bound. That takes seconds to a
minute per task, and every process that scores the task (a run, ``neurobench evaluate``
of its saved models, each test worker) would measure it again. An entry is keyed by what
it is (chance or ceiling), the task's name and nested data, and a fingerprint of
NeuroBench's own source: any change to the code measures again. A missing, unreadable or
malformed entry is measured again, never trusted; entries are written atomically, so two
processes measuring the same level at once both leave a whole file.

The cache lives in ``$NEUROBENCH_CACHE`` (default ``~/.cache/neurobench``; ``off``
disables it).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from neurobench.core.task import Level

CACHE_ENV = "NEUROBENCH_CACHE"
KINDS = ("exact", "bound", "estimate")


def cache_dir() -> Path | None:
    """Where level entries go (``None``: the cache is off)."""
    value = os.environ.get(CACHE_ENV)
    if value == "off":
        return None
    if value:
        return Path(value) / "levels"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "neurobench" / "levels"


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of every Python source file of the installed ``neurobench`` package."""
    package = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _entry(key: tuple[str, str, str]) -> tuple[Path, list[str]] | None:
    folder = cache_dir()
    if folder is None:
        return None
    identity = [*key, code_fingerprint()]
    name = hashlib.sha256(json.dumps(identity).encode()).hexdigest()
    return folder / f"{name}.json", identity


def load(key: tuple[str, str, str]) -> Level | None:
    """The cached level for ``key``, or ``None`` when there is no valid entry."""
    from neurobench.core.task import Level

    entry = _entry(key)
    if entry is None:
        return None
    path, identity = entry
    try:
        stored = json.loads(path.read_text())
        level = stored["level"]
        value, method, kind, se = level["value"], level["method"], level["kind"], level["se"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    valid = (
        stored.get("identity") == identity
        and isinstance(value, float)
        and math.isfinite(value)
        and isinstance(method, str)
        and kind in KINDS
        and isinstance(se, float)
        and (se >= 0 or math.isinf(se))
    )
    return Level(value, method, kind, se) if valid else None


def store(key: tuple[str, str, str], level: Level) -> None:
    """Write ``level`` for ``key``; a cache that cannot be written is skipped silently
    (it only saves time)."""
    entry = _entry(key)
    if entry is None:
        return
    path, identity = entry
    record = {"identity": identity, "level": {**level.as_dict(), "value": float(level.value), "se": float(level.se)}}
    from neurobench.scoring.results import write_text

    try:
        write_text(path, json.dumps(record))
    except OSError:
        return
