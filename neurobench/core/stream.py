"""Trial streams: the trials that a task and a seed determine, and who gets which.

Every consumer (single env, vector env, Dataset, plots, the ideal observer) reads trials
through a stream, so a seed names the same trials everywhere; consumers only differ in
how they deal them out.

* Independent trials (most tasks) form one :class:`TrialStream`, drawn in chunks of
  ``task.chunk_size``. With the ``keyed`` scheme chunk ``c`` has a generator of its own,
  so a stream can start at any trial (resume a Dataset, shard it across workers) without
  drawing the trials before; it can also *stride*: read trials ``offset, offset + stride,
  ...`` (worker ``offset`` of ``stride`` data-parallel workers). Version-0 tasks keep their
  ``sequential`` scheme: one generator, chunks in order.
* Trials that depend on earlier ones (trial history, blocks, drifting contingencies) only
  make sense within a session: a :class:`SessionStream` holds one session per lane (an
  environment, a Dataset row), drawn for all lanes at once by the task's
  ``sample_sessions``. Lane ``k`` is then the same session whatever consumes it.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Any

import numpy as np

from neurobench.core.errors import InvalidParameterError
from neurobench.core.seeding import Seed, chunk_generator, entropy, stream_generator
from neurobench.core.task import TrialTask
from neurobench.core.trials import TrialBatch

_CACHED_CHUNKS = 4
_MIN_SESSION_CHUNK = 8


class TrialStream:
    """Trials ``offset + stride * j`` for ``j = position, position + 1, ...`` of a seed."""

    def __init__(self, task: TrialTask, seed: Seed = None, *, start: int = 0, offset: int = 0, stride: int = 1) -> None:
        if not (isinstance(stride, int) and stride >= 1 and isinstance(offset, int) and 0 <= offset < stride):
            raise InvalidParameterError(
                f"a stream needs 0 <= offset < stride, got offset={offset!r}, stride={stride!r}"
            )
        if not isinstance(start, int | np.integer) or start < 0:
            raise InvalidParameterError(f"start must be a trial index >= 0, got {start!r}")
        if task.stream == "sequential" and (offset or stride != 1 or start):
            raise InvalidParameterError(
                f"{task.name} uses the sequential stream of version-0 tasks, which cannot start elsewhere than "
                f"its first trial or be sharded; use the task's latest version"
            )
        self.task = task
        self.key = entropy(seed)
        self.offset, self.stride = offset, stride
        self.position = int(start)  # index j of the next trial of this view
        self.chunk_size = task.chunk_size
        self._cache: OrderedDict[int, TrialBatch] = OrderedDict()
        self._sequential_rng: np.random.Generator | None = None
        self._sequential_next = 0  # next chunk the sequential scheme's generator draws

    def take(self, m: int) -> TrialBatch:
        """The next ``m`` trials of the view, in order (``index`` holds their stream indices)."""
        indices = self.offset + self.stride * (self.position + np.arange(m, dtype=np.int64))
        self.position += m
        return self.trials(indices)

    def take_rest_of_chunk(self) -> TrialBatch:
        """The view's next trials up to the end of the chunk the next one is in: trials
        of one chunk only, so no copy joins two chunks (the pool's refill copies once)."""
        first = self.offset + self.stride * self.position
        end = (first // self.chunk_size + 1) * self.chunk_size  # the next chunk's first trial
        return self.take(-(-(end - self.offset) // self.stride) - self.position)

    def trials(self, indices: np.ndarray) -> TrialBatch:
        """The trials at stream ``indices`` (increasing), drawn chunk by chunk."""
        chunks = indices // self.chunk_size
        parts = []
        for c in np.unique(chunks):
            rows = indices[chunks == c] - c * self.chunk_size
            parts.append(self.chunk(int(c)).take(_as_slice(rows)))
        return parts[0] if len(parts) == 1 else TrialBatch.concat(parts)

    def chunk(self, c: int) -> TrialBatch:
        """Chunk ``c``: trials ``c * chunk_size`` to ``(c + 1) * chunk_size - 1``."""
        if c not in self._cache:
            if self.task.stream == "sequential":
                self._draw_sequential(c)
            else:
                batch, _ = self.task.sample_chunk(
                    chunk_generator(self.key, c), self.chunk_size, c * self.chunk_size, None
                )
                self._remember(c, batch)
        self._cache.move_to_end(c)
        return self._cache[c]

    def _remember(self, c: int, batch: TrialBatch) -> None:
        self._cache[c] = batch.with_index(c * self.chunk_size)
        while len(self._cache) > _CACHED_CHUNKS:
            self._cache.popitem(last=False)

    def _draw_sequential(self, c: int) -> None:
        """Version-0 streams: one generator, chunks in order; going back restarts it."""
        if self._sequential_rng is None or c < self._sequential_next:
            self._sequential_rng, self._sequential_next = stream_generator(self.key), 0
        while self._sequential_next <= c:
            k = self._sequential_next
            batch, _ = self.task.sample_chunk(self._sequential_rng, self.chunk_size, k * self.chunk_size, None)
            self._remember(k, batch)
            self._sequential_next += 1


class SessionStream:
    """``sessions`` sessions of a sequential task, drawn together chunk by chunk.

    Chunk ``c`` holds trials ``c * m .. (c + 1) * m - 1`` of every session (session-major:
    session ``s``'s trials are rows ``s * m`` onwards), drawn by
    ``task.sample_sessions(generator of chunk c, sessions, m, carry)``. A trial's ``index``
    is ``session * SESSION_STRIDE + position``, unique across sessions.
    """

    SESSION_STRIDE = 10**9

    def __init__(self, task: TrialTask, seed: Seed = None, *, sessions: int = 1) -> None:
        if not isinstance(sessions, int) or sessions < 1:
            raise InvalidParameterError(f"sessions must be an integer >= 1, got {sessions!r}")
        self.task = task
        self.key = entropy(seed)
        self.sessions = sessions
        self.per_session = max(_MIN_SESSION_CHUNK, math.ceil(task.chunk_size / sessions))
        self._cache: OrderedDict[int, TrialBatch] = OrderedDict()
        self._carries: dict[int, Any] = {0: None}

    def chunk(self, c: int) -> TrialBatch:
        if c not in self._cache:
            known = max(k for k in self._carries if k <= c)
            for k in range(known, c):  # the chunks in between, for their carry only
                self._carries[k + 1] = self._sample(k)[1]
            batch, self._carries[c + 1] = self._sample(c)
            m = self.per_session
            session, position = np.divmod(np.arange(batch.n), m)
            index = session.astype(np.int64) * self.SESSION_STRIDE + c * m + position
            self._cache[c] = TrialBatch(**{**batch.__dict__, "index": index})
            while len(self._cache) > _CACHED_CHUNKS:
                self._cache.popitem(last=False)
        self._cache.move_to_end(c)
        return self._cache[c]

    def _sample(self, c: int) -> tuple[TrialBatch, Any]:
        m = self.per_session
        return self.task.sample_sessions(chunk_generator(self.key, c), self.sessions, m, self._carries[c])  # type: ignore[attr-defined]


def _as_slice(rows: np.ndarray) -> np.ndarray | slice:
    """Consecutive increasing rows as a slice: ``take`` then returns views of the chunk, and
    the one copy is the consumer's concatenation (a fancy index copied every array once more)."""
    if len(rows) and (np.diff(rows) == 1).all():
        return slice(int(rows[0]), int(rows[-1]) + 1)
    return rows


def lane_reader(task: TrialTask, seed: Seed) -> tuple[Any, Any]:
    """``(key, next_batch)`` for one consumer reading one lane in order (the single env):
    ``next_batch()`` returns that lane's next trials."""
    if task.sequential:
        sessions = SessionStream(task, seed, sessions=1)
        counter = iter(range(2**62))
        return sessions.key, lambda: sessions.chunk(next(counter))
    stream = TrialStream(task, seed)
    return stream.key, lambda: stream.take(task.chunk_size)
