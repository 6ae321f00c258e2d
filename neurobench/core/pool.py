"""``TrialPool``: the trials a set of lanes is in and will get next, as one batch.

The vector env's environments and the Dataset's rows are *lanes*. A pool deals each lane
its next trial as a row of one :class:`~neurobench.core.trials.TrialBatch`, so a consumer
gathers observations of all its lanes with one ``take``; it rebuilds the batch only now
and then (keeping the trials still in use), never per step.

Independent trials come from one shared stream, dealt in order to the lanes that ask, in
increasing lane order (lane 0 alone reads the stream in order). Sequential tasks give
every lane its own session (:class:`~neurobench.core.stream.SessionStream`).
"""

from __future__ import annotations

import numpy as np

from neurobench.core.errors import InvalidParameterError
from neurobench.core.seeding import Seed
from neurobench.core.stream import SessionStream, TrialStream
from neurobench.core.task import TrialTask
from neurobench.core.trials import TrialBatch


class TrialPool:
    """Trials for ``lanes`` lanes (see the module docstring).

    ``start``, ``offset`` and ``stride`` (independent trials only) make the shared stream
    begin at trial ``start`` of the view ``offset + stride * j``. ``ahead``: at least this
    many trials are drawn whenever the pool refills (the Dataset draws a batch ahead).
    """

    def __init__(
        self,
        task: TrialTask,
        seed: Seed,
        lanes: int,
        *,
        start: int = 0,
        offset: int = 0,
        stride: int = 1,
        ahead: int = 0,
        positions: np.ndarray | None = None,
    ) -> None:
        self.task, self.lanes, self.ahead = task, int(lanes), int(ahead)
        self.sessions = task.sequential
        if self.sessions:
            if start or offset or stride != 1:
                raise InvalidParameterError(
                    f"{task.name} runs sessions (its trials depend on earlier ones): a session cannot start "
                    f"elsewhere than its first trial or be split across workers by trial; shard by rows instead"
                )
            self._sessions = SessionStream(task, seed, sessions=self.lanes)
            self.key = self._sessions.key
            self._m = self._sessions.per_session
            self._position = np.zeros(self.lanes, dtype=np.int64) if positions is None else positions.copy()
            self._chunks: dict[int, int] = {}  # chunk -> first row of it in the pool
            first = int(self._position.min()) // self._m
            self._build([first])
        else:
            self._stream = TrialStream(task, seed, start=start, offset=offset, stride=stride)
            self.key = self._stream.key
            self._use(self._stream.take(max(task.chunk_size, self.lanes, self.ahead)))
            self._next_row = 0

    def deal(self, lanes: np.ndarray, in_use: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows holding the next trial of each of ``lanes``, and the rows ``in_use`` (the
        trials the consumer still reads) renumbered if the pool was rebuilt."""
        if self.sessions:
            return self._deal_sessions(lanes, in_use)
        needed = len(lanes)
        if self._next_row + needed > self.batch.n:
            in_use = self._refill(needed, in_use)
        rows = np.arange(self._next_row, self._next_row + needed)
        self._next_row += needed
        return rows, in_use

    def state(self, in_use: np.ndarray) -> dict[str, list[int]]:
        """Where the pool is, as positions: what :meth:`restore` needs to rebuild it."""
        if self.sessions:
            session, position = np.divmod(self.batch.index[in_use], SessionStream.SESSION_STRIDE)
            return {"lanes": session.tolist(), "in_use": position.tolist(), "next": self._position.tolist()}
        position = self._stream.position - (self.batch.n - self._next_row)
        view = (self.batch.index[in_use] - self._stream.offset) // self._stream.stride
        return {"in_use": view.tolist(), "next": [int(position)]}

    def restore(self, state: dict[str, list[int]]) -> np.ndarray:
        """Rebuild the pool from :meth:`state`; return the rows of the trials in use."""
        in_use = np.asarray(state["in_use"], dtype=np.int64)
        if self.sessions:
            lanes = np.asarray(state["lanes"], dtype=np.int64)
            self._position = np.zeros(self.lanes, dtype=np.int64)
            self._position[lanes] = in_use
            rows, _ = self._deal_sessions(lanes, np.zeros(0, dtype=np.int64))
            self._position = np.asarray(state["next"], dtype=np.int64)
            return rows
        oldest, following = int(in_use.min()), int(state["next"][0])
        self._stream.position = oldest
        self._use(self._stream.take(max(following - oldest, 1) + self.ahead))
        self._next_row = following - oldest
        return in_use - oldest

    # -- independent trials ------------------------------------------------------------
    def _refill(self, needed: int, in_use: np.ndarray) -> np.ndarray:
        """Keep the trials in use and in reserve, drop the consumed ones, draw new ones."""
        reserve = self.batch.take(slice(self._next_row, self.batch.n))  # views: concat copies once
        parts = [self.batch.take(in_use), reserve]
        have = reserve.n
        while have < max(needed, self.lanes, self.ahead):
            parts.append(self._stream.take_rest_of_chunk())
            have += parts[-1].n
        self._use(TrialBatch.concat(parts))
        self._next_row = len(in_use)
        return np.arange(len(in_use))

    # -- sessions ------------------------------------------------------------------------
    def _deal_sessions(self, lanes: np.ndarray, in_use: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        position = self._position[lanes]
        chunk = position // self._m
        missing = sorted(set(chunk.tolist()) - set(self._chunks))
        if missing:
            in_use = self._rebuild(in_use, chunk)
        rows = np.asarray([self._chunks[c] for c in chunk.tolist()], dtype=np.int64) if len(chunk) else chunk
        rows = rows + lanes * self._m + (position - chunk * self._m)
        self._position[lanes] += 1
        return rows, in_use

    def _rebuild(self, in_use: np.ndarray, requested: np.ndarray) -> np.ndarray:
        """A pool of every chunk from the oldest still in use to the newest requested."""
        used_chunks = self._row_chunk[in_use]
        oldest = int(min(used_chunks.min(initial=requested.min()), requested.min()))
        newest = int(max(requested.max(), used_chunks.max(initial=oldest)))
        within = in_use - np.asarray([self._chunks[c] for c in used_chunks.tolist()], dtype=np.int64)
        self._build(list(range(oldest, newest + 1)))
        bases = np.asarray([self._chunks[c] for c in used_chunks.tolist()], dtype=np.int64)
        return bases + within

    def _build(self, chunks: list[int]) -> None:
        parts = [self._sessions.chunk(c) for c in chunks]
        self._chunks, base = {}, 0
        row_chunk = []
        for c, part in zip(chunks, parts, strict=True):
            self._chunks[c] = base
            row_chunk.append(np.full(part.n, c))
            base += part.n
        self._row_chunk = np.concatenate(row_chunk)
        self._use(parts[0] if len(parts) == 1 else TrialBatch.concat(parts))

    def _use(self, batch: TrialBatch) -> None:
        self.batch = batch
