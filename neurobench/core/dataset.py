"""``Dataset``: supervised batches of consecutive trials, for training RNNs.

Each of the ``batch_size`` rows is a continuous stream of trials, cut into
``seq_len``-step sequences: a trial that does not fit in one batch continues in the
next, as in NeuroGym (and Yang et al. 2019), so a network trained on successive
batches with its state carried over sees unbroken sessions.

Trials come from the stream the seed names (the same trials a single env with that
seed would run) and are dealt to rows in rounds: each round, every row that still needs
steps takes the next trial, in row order. With ``batch_size=1`` the row is exactly the
single env's sequence of trials. Memory stays bounded however many batches are drawn:
consumed trials are dropped as new chunks are drawn (what is kept is the trials dealt
since the oldest one still being read, about batch_size x (1 + longest trial / seq_len),
plus about one batch's worth of trials drawn ahead).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from neurobench.core.checks import check_int, check_number
from neurobench.core.env import oracle_steps
from neurobench.core.errors import InvalidParameterError
from neurobench.core.registry import make_task
from neurobench.core.stream import TrialStream
from neurobench.core.task import Task
from neurobench.core.trials import TrialBatch


class Dataset:
    """Batches ``(inputs, targets)`` (plus ``mask`` with ``fixation_weight``).

    Args:
        task: a task name or :class:`~neurobench.core.task.Task` (``params`` go to it).
        batch_size, seq_len: shape of each batch.
        seed: names the trial stream; the same seed gives the same batches.
        batch_first: ``(batch, time, ...)`` arrays if True (default), else time-first.
        fixation_weight: if set, also return a loss mask weighting steps whose target is
            fixation by this value (1 elsewhere), e.g. 0.1 to down-weight fixation.
        end_at_answer: show each trial as the env plays it for an agent that always takes
            the target action: cut where its answer ends the trial (and without the rest of
            a window its answer skips). By default trials are whole, as in NeuroGym; but the
            env ends a trial at the first answer, so a network trained on whole trials never
            sees a trial start right after an answer, which costs it accuracy in the env.
        torch: return ``torch.Tensor`` instead of numpy arrays (needs torch).

    ``trial_index`` holds, after each batch, the stream index of the trial each step
    belongs to, so trials can be cut out of a batch for analysis.
    """

    def __init__(
        self,
        task: str | Task,
        batch_size: int,
        seq_len: int,
        seed: int | None = None,
        *,
        batch_first: bool = True,
        fixation_weight: float | None = None,
        end_at_answer: bool = False,
        torch: bool = False,
        **params: Any,
    ) -> None:
        check_int("batch_size", batch_size, minimum=1)
        check_int("seq_len", seq_len, minimum=1)
        if fixation_weight is not None:
            check_number("fixation_weight", fixation_weight, minimum=0)
        self.task = make_task(task, **params)
        if not isinstance(self.task, Task):
            raise InvalidParameterError(
                f"{self.task.name} is a game: its trials depend on the opponent's play, so there are no "
                f"supervised targets to sample; play it with neurobench.make({self.task.name!r})"
            )
        self.batch_size = int(batch_size)
        self.seq_len = int(seq_len)
        self.batch_first = batch_first
        self.fixation_weight = fixation_weight
        self.end_at_answer = end_at_answer
        self._torch = _torch_module() if torch else None
        self._stream = TrialStream.seeded(self.task, seed)
        self._use_pool(self._stream.next_chunk())
        # trials are tracked by stream index; the pool is sorted by it
        self._next_index = 0  # next trial of the stream to deal
        self._current = self._deal(self.batch_size, oldest=0)
        self._offset = np.zeros(self.batch_size, dtype=np.int64)  # steps of it already used
        self.trial_index = np.zeros((self.batch_size, self.seq_len), dtype=np.int64)

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return self

    def __next__(self) -> tuple[Any, ...]:
        return self.draw()

    def __call__(self) -> tuple[Any, ...]:
        return self.draw()

    def draw(self) -> tuple[Any, ...]:
        """The next batch: ``(inputs, targets)`` or ``(inputs, targets, mask)``."""
        trials, steps = self._plan()
        rows = (trials - self._first) * self._horizon
        flat = rows + (steps if self._step_map is None else self._step_map.take(rows + steps))
        shape = (self.batch_size, self.seq_len)
        inputs = self._obs.take(flat, axis=0).reshape(*shape, -1)
        targets = self._target.take(flat, axis=0).reshape(*shape, *self._target.shape[1:])
        self.trial_index = trials.reshape(shape)
        out = [inputs, targets]
        if self.fixation_weight is not None:
            out.append(np.where(targets == 0, np.float32(self.fixation_weight), np.float32(1.0)))
        if not self.batch_first:
            out = [np.ascontiguousarray(np.swapaxes(a, 0, 1)) for a in out]
        if self._torch is not None:
            out = [self._torch.from_numpy(a) for a in out]
        return tuple(out)

    def _plan(self) -> tuple[np.ndarray, np.ndarray]:
        """Which (trial, step) fills each position of the next batch, row-major.

        The rest of each row's current trial comes first; then rounds of dealing give
        every row still short of ``seq_len`` steps its next trial.
        """
        oldest = int(self._current.min())
        filled = np.minimum(self._length(self._current) - self._offset, self.seq_len)
        segments = [(np.arange(self.batch_size), self._current.copy(), self._offset.copy(), filled.copy())]
        self._offset += filled
        short = np.flatnonzero(filled < self.seq_len)
        while len(short):
            trials = self._deal(len(short), oldest)
            count = np.minimum(self._length(trials), self.seq_len - filled[short])
            segments.append((short, trials, np.zeros(len(short), dtype=np.int64), count))
            self._current[short] = trials
            self._offset[short] = count
            filled[short] += count
            short = short[filled[short] < self.seq_len]
        row, trial, start, count = (np.concatenate(parts) for parts in zip(*segments, strict=True))
        order = np.argsort(row, kind="stable")  # a row's segments are already in time order
        trial, start, count = trial[order], start[order], count[order]
        first = np.cumsum(count) - count
        within = np.arange(self.batch_size * self.seq_len) - np.repeat(first, count)
        return np.repeat(trial, count), np.repeat(start, count) + within

    def _length(self, trials: np.ndarray) -> np.ndarray:
        return self._lengths[trials - self._first]

    def _deal(self, needed: int, oldest: int) -> np.ndarray:
        """Stream indices of the next ``needed`` trials, drawing chunks if needed.

        The pool holds a contiguous run of the stream, so trial ``i`` is pool row
        ``i - first``. When new chunks are drawn, trials before ``oldest`` (the oldest
        one the batch being built still reads) are dropped."""
        first = self._next_index
        if first + needed > self._stream.drawn:
            parts = [self._pool.take(np.arange(oldest - self._first, self._pool.n))]
            # Draw ahead by about one batch's worth of trials: each refill copies the pool,
            # and refilling once per batch instead of once per dealing round saves copies.
            # The stream's chunks come in the same order either way, so batches are unchanged.
            ahead = self.batch_size * self.seq_len / max(self.task.mean_steps, 1.0)
            while self._stream.drawn < first + needed + ahead:
                parts.append(self._stream.next_chunk())
            self._use_pool(TrialBatch.concat(parts))
        self._next_index += needed
        return np.arange(first, first + needed)

    def _use_pool(self, pool: TrialBatch) -> None:
        self._pool = pool
        self._first = int(pool.index[0]) if pool.n else self._stream.drawn
        self._horizon = pool.max_length
        self._obs = pool.obs.reshape(-1, pool.obs.shape[-1])
        self._target = pool.target.reshape(pool.n * pool.max_length, *pool.target.shape[2:])
        self._lengths, self._step_map = pool.length, None
        if self.end_at_answer:
            played = oracle_steps(self.task, pool)
            self._lengths = played.sum(axis=1)
            self._step_map = np.argsort(~played, axis=1, kind="stable").ravel()  # played steps first, in order


def _torch_module() -> Any:
    try:
        import torch
    except ImportError:
        raise InvalidParameterError(
            "Dataset(torch=True) needs PyTorch: pip install torch (or the 'rllib' extra)"
        ) from None
    return torch
