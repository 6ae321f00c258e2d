"""Trial-to-trial structure in the ground truth: history (repeat/alternate) and side bias.

Both draw, for each trial of a chunk, which answer it should have (a Markov chain or
block-wise probabilities, continued across chunks), then fill the slots with trials of
the inner task that have that answer. The inner task's trials are independent, so taking
the next one with the wanted answer is the same as drawing a trial conditioned on it.
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np

from neurobench.core.checks import check_int, check_number
from neurobench.core.errors import InvalidParameterError, UnknownNameError
from neurobench.core.trials import TrialBatch
from neurobench.wrappers.base import TaskWrapper

_PROBE = 2048  # trials drawn (with a fixed seed) to learn which answers a task has


@dataclass(frozen=True, eq=False)
class AnswerSchedule(TaskWrapper):
    """Base: decide each trial's answer (``condition``), then pick matching trials."""

    condition: str = "ground_truth"

    @cached_property
    def choices(self) -> np.ndarray:
        probe = self.task.sample(np.random.default_rng(0), _PROBE).conditions
        if self.condition not in probe:
            raise UnknownNameError(f"condition of {self.task.name}", self.condition, probe)
        return np.unique(probe[self.condition])

    @abstractmethod
    def schedule(self, rng: np.random.Generator, n: int, carry: Any) -> tuple[np.ndarray, dict[str, np.ndarray], Any]:
        """Indices into ``choices`` for ``n`` trials, extra conditions, and the carry."""

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        return self.sample_sequence(rng, n, None)[0]

    def sample_sequence(self, rng: np.random.Generator, n: int, carry: Any) -> tuple[TrialBatch, Any]:
        wanted, extra, carry = self.schedule(rng, n, carry)
        batch = self._matching(rng, wanted)
        return replace(batch, conditions={**batch.conditions, **extra}), carry

    def _matching(self, rng: np.random.Generator, wanted: np.ndarray) -> TrialBatch:
        """Inner trials whose answer is ``choices[wanted[i]]``, in that order."""
        needed = np.bincount(wanted, minlength=len(self.choices))
        pools, found = [], np.zeros(len(self.choices), dtype=int)
        while np.any(found < needed):
            pool = self.task.sample(rng, max(64, 2 * len(wanted)))
            pools.append(pool)
            found += np.bincount(
                np.searchsorted(self.choices, pool.conditions[self.condition]), minlength=len(self.choices)
            )
        pool = TrialBatch.concat(pools)
        answer = np.searchsorted(self.choices, pool.conditions[self.condition])
        order = np.empty(len(wanted), dtype=np.int64)
        for k, count in enumerate(needed):
            order[wanted == k] = np.flatnonzero(answer == k)[:count]
        return pool.take(order)


@dataclass(frozen=True, eq=False)
class TrialHistory(AnswerSchedule):
    """Blocks in which the answer tends to repeat, alternating with blocks in which it
    tends to alternate (NeuroGym's TrialHistory): in a repeating block the answer repeats
    with ``probability`` (else another answer, uniformly); in an alternating block it moves
    to the next answer with ``probability``. Blocks last ``block_length`` trials; the
    condition ``history_block`` is 0 for repeating and 1 for alternating blocks.
    """

    probability: float = 0.8
    block_length: int = 200

    def validate(self) -> None:
        check_number("probability", self.probability, minimum=0)
        if self.probability > 1:
            raise InvalidParameterError(f"probability must be in [0, 1], got {self.probability!r}")
        check_int("block_length", self.block_length, minimum=1)
        if len(self.choices) < 2:
            raise InvalidParameterError(f"TrialHistory needs at least two answers; {self.task.name} has {self.choices}")

    def schedule(self, rng: np.random.Generator, n: int, carry: Any) -> tuple[np.ndarray, dict[str, np.ndarray], Any]:
        k = len(self.choices)
        if carry is None:
            carry = (int(rng.integers(k)), int(rng.integers(2)), 0)
        previous, context, into = carry
        position = into + np.arange(n)
        block = (context + position // self.block_length) % 2
        keep = rng.random(n) < self.probability
        other = rng.integers(1, k, size=n)  # any answer but the repeated one
        shift = rng.integers(0, k - 1, size=n)
        shift += shift >= 1  # any step but +1
        step = np.where(block == 0, np.where(keep, 0, other), np.where(keep, 1, shift))
        wanted = (previous + np.cumsum(step)) % k
        end = into + n
        carry = (int(wanted[-1]), int((context + end // self.block_length) % 2), end % self.block_length)
        return wanted, {"history_block": block}, carry


@dataclass(frozen=True, eq=False)
class SideBias(AnswerSchedule):
    """Block-wise answer probabilities, like the prior blocks of the IBL task: each row
    of ``probs`` is a block type; a block lasts ``block_dur`` trials (an int), a
    uniformly drawn number of trials in ``(low, high)``, or switches with probability
    ``block_dur`` per trial (a float). The next block type is drawn among the others.
    The condition ``bias_block`` names the block type of each trial.
    """

    probs: tuple[tuple[float, ...], ...] = ((0.8, 0.2), (0.2, 0.8))
    block_dur: int | float | tuple[int, int] = 200

    def validate(self) -> None:
        table = np.asarray(self.probs, dtype=float)
        if table.ndim != 2 or table.shape[1] != len(self.choices):
            raise InvalidParameterError(
                f"probs must be a list of rows of {len(self.choices)} probabilities (one per answer "
                f"{self.choices.tolist()} of {self.task.name}), got {self.probs!r}"
            )
        if np.any(table < 0) or not np.allclose(table.sum(axis=1), 1):
            raise InvalidParameterError(f"each row of probs must be probabilities summing to 1, got {self.probs!r}")
        self._durations(np.random.default_rng(0), 1)  # validates block_dur

    def _durations(self, rng: np.random.Generator, m: int) -> np.ndarray:
        spec = self.block_dur
        if isinstance(spec, bool):
            raise InvalidParameterError(f"block_dur must be an int, a float in (0, 1) or (low, high), got {spec!r}")
        if isinstance(spec, int) and spec >= 1:
            return np.full(m, spec)
        if isinstance(spec, float) and 0 < spec < 1:
            return rng.geometric(spec, size=m)
        if isinstance(spec, tuple | list) and len(spec) == 2 and 1 <= spec[0] <= spec[1]:
            return rng.integers(spec[0], spec[1] + 1, size=m)
        raise InvalidParameterError(
            f"block_dur must be an int >= 1, a switch probability in (0, 1), or (low, high), got {spec!r}"
        )

    def schedule(self, rng: np.random.Generator, n: int, carry: Any) -> tuple[np.ndarray, dict[str, np.ndarray], Any]:
        table = np.asarray(self.probs, dtype=float)
        blocks = len(table)
        if carry is None:
            carry = (int(rng.integers(blocks)), int(self._durations(rng, 1)[0]))
        current, remaining = carry
        block = np.empty(n, dtype=np.int64)
        filled = 0
        while filled < n:  # one pass per block, not per trial
            count = min(remaining, n - filled)
            block[filled : filled + count] = current
            filled, remaining = filled + count, remaining - count
            if remaining == 0:
                current = (current + int(rng.integers(1, blocks))) % blocks if blocks > 1 else current
                remaining = int(self._durations(rng, 1)[0])
        cumulative = np.cumsum(table[block], axis=1)
        wanted = np.minimum((rng.random(n)[:, None] >= cumulative).sum(axis=1), len(self.choices) - 1)
        return wanted, {"bias_block": block}, (current, remaining)
