"""Context tasks (being built)."""

from __future__ import annotations

from neurobench.core.registry import TaskSpec

SPECS: list[TaskSpec] = []
