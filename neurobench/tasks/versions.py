"""Version lines of tasks that existed before the keyed stream.

Version 0 of the first release's tasks drew a seed's trials from one generator, in order;
version 1 draws each chunk with a generator of its own, so any trial is found without the
ones before it (same trial distributions, other trials per seed). Both stay buildable, so
results of the first release can still be reproduced.
"""

from __future__ import annotations

from collections.abc import Sequence

from neurobench.core.registry import TaskSpec
from neurobench.core.task import Paper


def frozen_versions(
    factory: type,
    *,
    family: str,
    tags: Sequence[str],
    paper: Paper,
    name: str | None = None,
    deviations: Sequence[str] = (),
) -> list[TaskSpec]:
    """Version 0 (the sequential stream) and version 1 (the keyed stream) of a task."""
    name = name or factory.__name__
    return [
        TaskSpec(name, version, factory, params, family, tuple(tags), paper, deviations=tuple(deviations))
        for version, params in ((0, {"stream": "sequential"}), (1, {}))
    ]
