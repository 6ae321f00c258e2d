"""``Dataset``: supervised batches of consecutive trials, for training RNNs.

Each of the ``batch_size`` rows is a continuous stream of trials, cut into
``seq_len``-step sequences: a trial that does not fit in one batch continues in the next,
as in NeuroGym (and Yang et al. 2019), so a network trained on successive batches with
its state carried over sees unbroken sessions.

Trials come from the stream the seed names (the same trials a single env with that seed
would run) and are dealt to rows in rounds: each round, every row that still needs steps
takes the next trial, in row order. With ``batch_size=1`` the row is exactly the single
env's sequence of trials. Memory stays bounded however many batches are drawn: consumed
trials are dropped as new ones are drawn.

Two things a data-parallel or long training run needs, both without generating the trials
before: ``shard=(k, W)`` makes worker ``k`` of ``W`` read only trials ``k, k + W, k + 2W,
...`` of the stream (the workers' shares are disjoint and together are the whole stream),
and ``state()`` / ``Dataset(..., state=...)`` resume a dataset exactly where it was (the
trials in progress are drawn again by their index, in O(1)).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from neurobench.core.checks import check_int, check_number
from neurobench.core.errors import InvalidParameterError
from neurobench.core.pool import TrialPool
from neurobench.core.seeding import Seed
from neurobench.core.task import Task
from neurobench.core.trial_engine import oracle_steps
from neurobench.core.trials import TrialBatch

STATE_FORMAT = "neurobench.dataset/1"


class Dataset:
    """Batches ``(inputs, targets)`` (plus ``mask`` with ``fixation_weight``).

    Args:
        task: a task name, nested task data or :class:`~neurobench.core.task.Task`
            (``params`` go to it).
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
        torch: return ``torch.Tensor`` instead of numpy arrays (needs torch); class targets
            come as ``int64`` (``long``), ready for ``cross_entropy``.
        shard: ``(k, W)``: this is worker ``k`` of ``W`` data-parallel workers.
        state: what :meth:`state` returned: continue that dataset exactly.

    ``trial_index`` holds, after each batch, the stream index of the trial each step belongs
    to, so trials can be cut out of a batch for analysis.
    """

    def __init__(
        self,
        task: str | Mapping[str, Any] | Task,
        batch_size: int,
        seq_len: int,
        seed: Seed = None,
        *,
        batch_first: bool = True,
        fixation_weight: float | None = None,
        end_at_answer: bool = False,
        torch: bool = False,
        shard: tuple[int, int] = (0, 1),
        state: Mapping[str, Any] | None = None,
        **params: Any,
    ) -> None:
        from neurobench.core.registry import make_task

        check_int("batch_size", batch_size, minimum=1)
        check_int("seq_len", seq_len, minimum=1)
        if fixation_weight is not None:
            check_number("fixation_weight", fixation_weight, minimum=0)
        worker, workers = _shard(shard)
        self.task = make_task(task, **params)
        if not self.task.supervised:
            raise InvalidParameterError(
                f"{self.task.name} has no supervised targets: its trials depend on how it is played (a closed "
                f"loop), so there is nothing to sample ahead; play it with neurobench.make({self.task.name!r})"
            )
        self.batch_size, self.seq_len = int(batch_size), int(seq_len)
        self.batch_first, self.fixation_weight, self.end_at_answer = batch_first, fixation_weight, end_at_answer
        self.shard = (worker, workers)
        self._torch = _torch_module() if torch else None
        ahead = int(self.batch_size * self.seq_len / max(self.task.mean_steps, 1.0))  # type: ignore[attr-defined]
        self._batch: TrialBatch | None = None
        if state is not None:
            self._restore(state, seed, ahead)
        else:
            self._pool = TrialPool(self.task, seed, self.batch_size, offset=worker, stride=workers, ahead=ahead)  # type: ignore[arg-type]
            self._current = self._deal(np.arange(self.batch_size), ())[0]
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
        rows = trials * self._horizon
        flat = rows + (steps if self._step_map is None else self._step_map.take(rows + steps))
        shape = (self.batch_size, self.seq_len)
        inputs = self._obs.take(flat, axis=0).reshape(*shape, -1)
        targets = self._target.take(flat, axis=0).reshape(*shape, *self._target.shape[1:])
        self.trial_index = self._index.take(trials).reshape(shape)
        out = [inputs, targets]
        if self.fixation_weight is not None:
            out.append(np.where(self._fixating(targets), np.float32(self.fixation_weight), np.float32(1.0)))
        if not self.batch_first:
            out = [np.ascontiguousarray(np.swapaxes(a, 0, 1)) for a in out]
        if self._torch is not None:  # class targets as int64, what torch's losses index with
            if np.issubdtype(out[1].dtype, np.integer):
                out[1] = out[1].astype(np.int64)
            out = [self._torch.from_numpy(a) for a in out]
        return tuple(out)

    def state(self) -> dict[str, Any]:
        """Where this dataset is: small, JSON-able; ``Dataset(..., state=...)`` continues it."""
        return {
            "format": STATE_FORMAT,
            "task": self.task.node(),
            "seed": self._pool.key,
            "shard": list(self.shard),
            "shape": [self.batch_size, self.seq_len],
            "end_at_answer": self.end_at_answer,
            "pool": self._pool.state(self._current),
            "offset": self._offset.tolist(),
        }

    # -- internals ----------------------------------------------------------------
    def _fixating(self, targets: np.ndarray) -> np.ndarray:
        if self.task.continuous:
            return targets[..., 0] <= 0
        return targets == 0

    def _restore(self, state: Mapping[str, Any], seed: Seed, ahead: int) -> None:
        if not isinstance(state, Mapping) or state.get("format") != STATE_FORMAT:
            raise InvalidParameterError(
                f"state must be what Dataset.state() returned ({STATE_FORMAT}), got {state!r:.80}"
            )
        expected = {
            "task": self.task.node(),
            "shard": list(self.shard),
            "shape": [self.batch_size, self.seq_len],
            "end_at_answer": self.end_at_answer,
        }
        for key, value in expected.items():
            if state.get(key) != value:
                raise InvalidParameterError(
                    f"this state belongs to a dataset with {key}={state.get(key)!r}, not {value!r}"
                )
        if seed is not None and seed != state["seed"]:
            raise InvalidParameterError(f"seed {seed!r} differs from the state's seed {state['seed']!r}")
        worker, workers = self.shard
        self._pool = TrialPool(self.task, state["seed"], self.batch_size, offset=worker, stride=workers, ahead=ahead)  # type: ignore[arg-type]
        self._current = self._pool.restore(state["pool"])
        self._use_batch(self._pool.batch)
        self._offset = np.asarray(state["offset"], dtype=np.int64)

    def _plan(self) -> tuple[np.ndarray, np.ndarray]:
        """Which (pool row, step) fills each position of the next batch, row-major.

        The rest of each row's current trial comes first; then rounds of dealing give
        every row still short of ``seq_len`` steps its next trial.
        """
        filled = np.minimum(self._lengths.take(self._current) - self._offset, self.seq_len)
        segments = [[np.arange(self.batch_size), self._current.copy(), self._offset.copy(), filled.copy()]]
        self._offset += filled
        short = np.flatnonzero(filled < self.seq_len)
        while len(short):
            trials, kept = self._deal(short, [segment[1] for segment in segments])
            for segment, rows in zip(segments, kept, strict=True):
                segment[1] = rows
            count = np.minimum(self._lengths.take(trials), self.seq_len - filled[short])
            segments.append([short, trials, np.zeros(len(short), dtype=np.int64), count])
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

    def _deal(self, rows: np.ndarray, kept: Any) -> tuple[np.ndarray, list[np.ndarray]]:
        """Pool rows of the next trial for each of ``rows``; ``kept`` (lists of pool rows
        still read, this dataset's current trials among them) renumbered if the pool was
        rebuilt."""
        kept = list(kept)
        current = getattr(self, "_current", np.zeros(0, dtype=np.int64))
        sizes = [len(current)] + [len(k) for k in kept]
        dealt, in_use = self._pool.deal(rows, np.concatenate([current, *kept]).astype(np.int64))
        parts = np.split(in_use, np.cumsum(sizes)[:-1])
        if len(current):
            self._current = parts[0]
        if self._pool.batch is not self._batch:
            self._use_batch(self._pool.batch)
        return dealt, parts[1:]

    def _use_batch(self, batch: TrialBatch) -> None:
        self._batch = batch
        self._horizon = batch.max_length
        self._obs = batch.obs.reshape(-1, batch.obs.shape[-1])
        self._target = batch.target.reshape(batch.n * batch.max_length, *batch.target.shape[2:])
        self._index = batch.index
        self._lengths, self._step_map = batch.length, None
        if self.end_at_answer:
            played = oracle_steps(self.task, batch)  # type: ignore[arg-type]
            self._lengths = played.sum(axis=1)
            self._step_map = np.argsort(~played, axis=1, kind="stable").ravel()  # played steps first, in order


def _shard(shard: Any) -> tuple[int, int]:
    try:
        worker, workers = (int(v) for v in shard)
        ok = workers >= 1 and 0 <= worker < workers and all(float(v) == int(v) for v in shard)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise InvalidParameterError(f"shard must be (k, W) with 0 <= k < W (worker k of W), got {shard!r}")
    return worker, workers


def _torch_module() -> Any:
    try:
        import torch
    except ImportError:
        raise InvalidParameterError(
            "Dataset(torch=True) needs PyTorch: pip install torch (or the 'rllib' extra)"
        ) from None
    return torch
