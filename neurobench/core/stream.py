"""The trial stream: the endless sequence of trials that a task and a seed determine.

Trials are drawn in chunks of ``task.chunk_size`` with one generator. Every consumer
(single env, vector env, dataset) reads trials through a stream, so a seed names the
same trials everywhere; consumers only differ in how they deal them out.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neurobench.core.seeding import generator
from neurobench.core.task import Task
from neurobench.core.trials import TrialBatch


class TrialStream:
    def __init__(self, task: Task, rng: np.random.Generator) -> None:
        self.task = task
        self.rng = rng
        self.drawn = 0  # trials handed out so far; the next chunk starts at this index
        self.carry: Any = None  # what sequential tasks pass from one chunk to the next

    @classmethod
    def seeded(cls, task: Task, seed: int | None) -> TrialStream:
        """The stream ``reset(seed=seed)`` gives (Gymnasium's seeding)."""
        return cls(task, generator(seed)[0])

    def take(self, n: int) -> TrialBatch:
        """The next ``n`` trials, drawn chunk by chunk (the rest of a chunk is dropped)."""
        chunks = [self.next_chunk()]
        while sum(c.n for c in chunks) < n:
            chunks.append(self.next_chunk())
        return TrialBatch.concat(chunks).take(np.arange(n))

    def next_chunk(self) -> TrialBatch:
        chunk, self.carry = self.task.sample_sequence(self.rng, self.task.chunk_size, self.carry)
        chunk = chunk.with_index(self.drawn)
        self.drawn += chunk.n
        return chunk
