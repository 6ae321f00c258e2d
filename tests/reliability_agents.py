"""Agents that misbehave on purpose, for the reliability tests (importable by Ray workers)."""

import os
from pathlib import Path

from neurobench.agents import OracleAgent


class DiesOnce(OracleAgent):
    """The oracle, except that the first attempt at each job kills its own process in the
    middle of training (as a worker lost to the OOM killer or a preempted node would be)."""

    name = "dies_once"

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def fit(self, task, *, seed, budget):
        attempt = Path(self.marker) / f"{task.name}-{seed}"
        if not attempt.exists():
            attempt.touch()
            os._exit(1)
        super().fit(task, seed=seed, budget=budget)
