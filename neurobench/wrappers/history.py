"""Trial-to-trial structure in the ground truth: history (repeat/alternate) and side bias.

Both decide, for every trial of a session, which answer it should have (a Markov chain,
or block-wise probabilities), then fill the slots with trials of the inner task that have
that answer. The inner task's trials are independent, so taking the next one with the
wanted answer is the same as drawing a trial conditioned on it.

The structure lives within a *session* (an environment's sequence of trials, a Dataset
row): these tasks are sequential, and every lane of a vector env or Dataset runs its own
session (see ``core/stream.py``), so the history an agent sees is the history that
generated its trials.

Scores: the best stimulus-blind policy now reads the history (it predicts the answer from
the ones before), so chance is estimated by playing that policy on sessions of the
evaluation's length; the ceiling is the Bayes observer that also knows the block and the
previous answer — a bound, since a real observer must infer the block.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, ClassVar

import numpy as np
from scipy import stats

from neurobench.agents.base import Agent
from neurobench.core.checks import check_int, check_number
from neurobench.core.errors import InvalidParameterError, UnknownNameError
from neurobench.core.levels import session_estimate
from neurobench.core.task import Level
from neurobench.core.trials import TrialBatch
from neurobench.wrappers.base import TaskWrapper

_PROBE = 2048  # trials drawn (with a fixed seed) to learn which answers a task has
CHANCE_SESSIONS = 256  # sessions the blind policy plays to estimate chance


@dataclass(frozen=True, eq=False)
class AnswerSchedule(TaskWrapper):
    """Base: decide each trial's answer (``condition``), then pick matching trials.

    ``session_trials`` is the length of an evaluation session: what the history lets a
    blind policy predict depends on how much of it there is, so chance is estimated for
    sessions of that length, and evaluation runs them."""

    condition: str = "ground_truth"
    session_trials: int = 500

    def __post_init__(self) -> None:
        super().__post_init__()
        check_int("session_trials", self.session_trials, minimum=1)
        if self.task.sequential:
            raise InvalidParameterError(
                f"{self.modifier} needs independent trials; {self.task.name} has its own history"
            )

    @property
    def sequential(self) -> bool:
        return True

    @cached_property
    def choices(self) -> np.ndarray:
        probe = self.task.sample(np.random.default_rng(0), _PROBE).conditions
        if self.condition not in probe:
            raise UnknownNameError(f"condition of {self.task.name}", self.condition, probe)
        return np.unique(probe[self.condition])

    @abstractmethod
    def schedule(
        self, rng: np.random.Generator, sessions: int, m: int, carry: Any
    ) -> tuple[np.ndarray, dict[str, np.ndarray], Any]:
        """Indices into ``choices`` ``[sessions, m]``, extra conditions, and the carry."""

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        return self.sample_sessions(rng, 1, n, None)[0]

    def sample_sessions(self, rng: np.random.Generator, sessions: int, m: int, carry: Any) -> tuple[TrialBatch, Any]:
        wanted, extra, carry = self.schedule(rng, sessions, m, carry)
        batch = self._matching(rng, wanted.ravel())
        flat = {k: v.ravel() for k, v in extra.items()}
        return replace(batch, conditions={**batch.conditions, **flat}), carry

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

    # -- scores ------------------------------------------------------------------------
    @abstractmethod
    def predictor(self) -> Predictor:
        """The best history-only prediction of the next answer (as an index into
        ``choices``), learned from the answers of a session so far."""

    @abstractmethod
    def prior(self, batch: TrialBatch, sessions: int) -> np.ndarray:
        """The probability of each trial's true answer under the generating process, for an
        observer that knows the block and the previous answer (the ceiling's prior);
        ``batch`` holds ``sessions`` sessions, session-major."""

    def _chance(self) -> Level:
        """Played: the history-only policy that predicts each answer from the previous
        ones (it learns them from feedback), on sessions as long as an evaluation's."""
        rng = np.random.default_rng(0)
        wanted, _, _ = self.schedule(rng, CHANCE_SESSIONS, self.session_trials, None)
        predictor = self.predictor()
        state = predictor.init(CHANCE_SESSIONS)
        rows = np.arange(CHANCE_SESSIONS)
        correct = np.zeros(wanted.shape, dtype=bool)
        for j in range(self.session_trials):  # over the trials of a session, all sessions at once
            correct[:, j] = predictor.guess(state, rows) == wanted[:, j]
            predictor.observe(state, rows, wanted[:, j])
        per_session = correct.mean(axis=1)
        return session_estimate(
            per_session,
            f"estimate: the best history-only predictor on {CHANCE_SESSIONS} sessions of {self.session_trials} trials "
            f"(answers are {self.condition}; the inner task's stimulus ignored)",
        )

    def blind_policy(self) -> Agent:
        return HistoryPolicy(self)

    @cached_property
    def answer_actions(self) -> np.ndarray:
        """The action that answers each of ``choices`` (read off the inner task's trials)."""
        from neurobench.core.rules import LAST as _LAST

        probe = self.task.sample(np.random.default_rng(1), _PROBE)
        closing = np.argmax((probe.phase & _LAST) > 0, axis=1)
        target = probe.target[np.arange(probe.n), closing]
        index = np.searchsorted(self.choices, probe.conditions[self.condition])
        actions = np.zeros(len(self.choices), dtype=np.int64)
        for k in range(len(self.choices)):
            values, counts = np.unique(target[index == k], return_counts=True)
            actions[k] = values[np.argmax(counts)]
        return actions

    def _ceiling(self) -> Level:
        """Bound: the inner task's ideal observer, given as prior the probability the
        generating process gives each answer knowing the block and the previous answer.
        Exact for tasks whose evidence is a two-choice Gaussian (``evidence_model``);
        otherwise the trivial bound 1 (noise-free inner tasks reach it)."""
        model = getattr(self.task, "evidence_model", None)
        inner = self.task.ceiling()
        batch = self.sample_sessions(np.random.default_rng(0), 64, 500, None)[0]
        modelled = model(batch) if model is not None and inner.value < 1.0 else None
        if modelled is None:
            return Level(1.0, f"bound: trivial (inner task: {inner.method})", "bound")
        prior = np.clip(self.prior(batch, 64), 1e-12, 1 - 1e-12)
        signal, noise = modelled
        log_odds = np.log(prior / (1 - prior))
        informative = (signal > 0) & (noise > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (signal + log_odds * noise**2 / (2 * signal)) / noise
        blind = np.where(log_odds > 0, 1.0, np.where(log_odds < 0, 0.0, 0.5))  # no evidence: the prior decides
        value = float(np.mean(np.where(informative, stats.norm.cdf(np.where(informative, z, 0)), blind)))
        return Level(
            value,
            "bound: the Bayes observer with the true block and previous answer as prior (32k seeded trials)",
            "bound",
        )


@dataclass(frozen=True, eq=False)
class TrialHistory(AnswerSchedule):
    """Blocks in which the answer tends to repeat, alternating with blocks in which it tends
    to alternate (NeuroGym's TrialHistory): in a repeating block the answer repeats with
    ``probability`` (else another answer, uniformly); in an alternating block it moves to
    the next answer with ``probability``. Blocks last ``block_length`` trials of a session
    and alternate; the condition ``history_block`` is 0 for repeating, 1 for alternating.
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

    def schedule(
        self, rng: np.random.Generator, sessions: int, m: int, carry: Any
    ) -> tuple[np.ndarray, dict[str, np.ndarray], Any]:
        k = len(self.choices)
        if carry is None:
            carry = (rng.integers(k, size=sessions), rng.integers(2, size=sessions), np.zeros(sessions, dtype=np.int64))
        previous, context, into = carry
        position = into[:, None] + np.arange(m)
        block = (context[:, None] + position // self.block_length) % 2
        keep = rng.random((sessions, m)) < self.probability
        other = rng.integers(1, k, size=(sessions, m))  # any answer but the repeated one
        shift = rng.integers(0, k - 1, size=(sessions, m))
        shift += shift >= 1  # any step but +1
        step = np.where(block == 0, np.where(keep, 0, other), np.where(keep, 1, shift))
        wanted = (previous[:, None] + np.cumsum(step, axis=1)) % k
        return wanted, {"history_block": block}, (wanted[:, -1], context, into + m)

    def predictor(self) -> Predictor:
        return HistoryPredictor(len(self.choices), self.probability, self.block_length)

    def prior(self, batch: TrialBatch, sessions: int) -> np.ndarray:
        k = len(self.choices)
        answer = np.searchsorted(self.choices, batch.conditions[self.condition]).reshape(sessions, -1)
        block = batch.conditions["history_block"].reshape(sessions, -1)
        steps = (answer[:, 1:] - answer[:, :-1]) % k
        follows = np.where(block[:, 1:] == 0, steps == 0, steps == 1)
        prior = np.full(answer.shape, 1 / k)
        prior[:, 1:] = np.where(follows, self.probability, (1 - self.probability) / (k - 1))
        return prior.ravel()


@dataclass(frozen=True, eq=False)
class SideBias(AnswerSchedule):
    """Block-wise answer probabilities, like the prior blocks of the IBL task: each row of
    ``probs`` is a block type; a block lasts ``block_dur`` trials (an int), a uniformly
    drawn number of trials in ``(low, high)``, or switches with probability ``block_dur``
    per trial (a float). The next block type is drawn among the others. The condition
    ``bias_block`` names the block type of each trial.
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

    def schedule(
        self, rng: np.random.Generator, sessions: int, m: int, carry: Any
    ) -> tuple[np.ndarray, dict[str, np.ndarray], Any]:
        table = np.asarray(self.probs, dtype=float)
        blocks = len(table)
        if carry is None:
            carry = (rng.integers(blocks, size=sessions), self._durations(rng, sessions))
        current, remaining = (np.array(c, dtype=np.int64) for c in carry)
        block = np.empty((sessions, m), dtype=np.int64)
        filled = np.zeros(sessions, dtype=np.int64)
        position = np.arange(m)
        while (filled < m).any():  # one pass per block boundary, over all sessions at once
            todo = filled < m
            count = np.where(todo, np.minimum(remaining, m - filled), 0)
            span = (position >= filled[:, None]) & (position < (filled + count)[:, None])
            block[span] = np.broadcast_to(current[:, None], (sessions, m))[span]
            filled += count
            remaining -= count
            switch = todo & (remaining == 0)
            step = rng.integers(1, blocks, size=sessions) if blocks > 1 else np.zeros(sessions, dtype=np.int64)
            current = np.where(switch, (current + step) % blocks, current)
            remaining = np.where(switch, self._durations(rng, sessions), remaining)
        cumulative = np.cumsum(table[block], axis=2)
        wanted = np.minimum((rng.random((sessions, m))[..., None] >= cumulative).sum(axis=2), len(self.choices) - 1)
        return wanted, {"bias_block": block}, (current, remaining)

    def predictor(self) -> Predictor:
        """The exact Bayes filter over (block type, trials into the block)."""
        table = np.asarray(self.probs, dtype=float)
        if isinstance(self.block_dur, float):
            return BlockFilter.memoryless(table, self.block_dur)
        return BlockFilter(table, 0, self.length_pmf)

    @cached_property
    def length_pmf(self) -> np.ndarray:
        """P(a block lasts 1, 2, ... trials), for fixed or uniformly drawn lengths."""
        spec = self.block_dur
        if isinstance(spec, int):
            return np.eye(spec)[spec - 1]
        low, high = int(spec[0]), int(spec[1])  # type: ignore[index]
        pmf = np.zeros(high)
        pmf[low - 1 :] = 1 / (high - low + 1)
        return pmf

    def prior(self, batch: TrialBatch, sessions: int) -> np.ndarray:
        table = np.asarray(self.probs, dtype=float)
        answer = np.searchsorted(self.choices, batch.conditions[self.condition])
        return table[batch.conditions["bias_block"], answer]


class Predictor:
    """A history-only predictor of the next answer, for many sessions at once."""

    def init(self, n: int) -> dict[str, np.ndarray]:
        raise NotImplementedError

    def guess(self, state: dict[str, np.ndarray], rows: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def observe(self, state: dict[str, np.ndarray], rows: np.ndarray, answers: np.ndarray) -> None:
        raise NotImplementedError


class HistoryPredictor(Predictor):
    """For :class:`TrialHistory`: blocks alternate on a clock known from the session's
    start, so the first block's type is all there is to infer; every transition seen adds
    its log-likelihood ratio, and the guess follows the likelier block (repeat, or +1)."""

    def __init__(self, k: int, probability: float, block_length: int) -> None:
        self.k, self.p, self.block = k, probability, block_length
        self.q = (1 - probability) / (k - 1)

    def init(self, n: int) -> dict[str, np.ndarray]:
        return {"count": np.zeros(n, dtype=np.int64), "last": np.zeros(n, dtype=np.int64), "llr": np.zeros(n)}

    def guess(self, state: dict[str, np.ndarray], rows: np.ndarray) -> np.ndarray:
        count, last = state["count"][rows], state["last"][rows]
        block_if_zero = (count // self.block) % 2
        current = np.where(state["llr"][rows] >= 0, block_if_zero, 1 - block_if_zero)
        return np.where(count == 0, 0, np.where(current == 0, last, (last + 1) % self.k))

    def observe(self, state: dict[str, np.ndarray], rows: np.ndarray, answers: np.ndarray) -> None:
        count = state["count"][rows]
        step = (answers - state["last"][rows]) % self.k
        block_if_zero = (count // self.block) % 2
        repeat_like = np.where(step == 0, self.p, self.q)
        next_like = np.where(step == 1, self.p, self.q)
        zero = np.where(block_if_zero == 0, repeat_like, next_like)
        one = np.where(block_if_zero == 0, next_like, repeat_like)
        state["llr"][rows] += np.where(count >= 1, np.log(zero) - np.log(one), 0.0)
        state["last"][rows] = answers
        state["count"][rows] = count + 1


class BlockFilter(Predictor):
    """The Bayes filter of a block schedule: a belief over (block type, trials already in
    the block) updated by each answer and moved on by the block-length hazard. Before the
    first block the answers are uniform and the belief waits; at the first block it is
    uniform over types at age 0. Exact for the schedule's law (it is a hidden semi-Markov
    chain with known parameters)."""

    def __init__(self, table: np.ndarray, unbiased: int, length_pmf: np.ndarray) -> None:
        self.table, self.unbiased = table, int(unbiased)
        self.blocks, self.k = table.shape
        survival = np.cumsum(length_pmf[::-1])[::-1]  # P(L >= a + 1), a = 0 .. A-1
        with np.errstate(divide="ignore", invalid="ignore"):
            self.hazard = np.where(survival > 0, length_pmf / survival, 1.0)  # the block ends after age a
        self.hazard[-1] = 1.0
        self.ages = len(length_pmf)
        b = self.blocks
        self.switch = np.ones((1, 1)) if b == 1 else (np.ones((b, b)) - np.eye(b)) / (b - 1)

    @classmethod
    def memoryless(cls, table: np.ndarray, switch: float) -> BlockFilter:
        """Blocks that end with probability ``switch`` after every trial (geometric
        lengths): the age carries no information, one age suffices."""
        made = cls(table, 0, np.ones(1))
        made.hazard = np.array([switch])
        return made

    def _start(self, n: int) -> np.ndarray:
        belief = np.zeros((n, self.blocks, self.ages))
        belief[:, :, 0] = 1 / self.blocks
        return belief

    def init(self, n: int) -> dict[str, np.ndarray]:
        belief = self._start(n) if self.unbiased == 0 else np.zeros((n, self.blocks, self.ages))
        return {"count": np.zeros(n, dtype=np.int64), "belief": belief}

    def predictive(self, state: dict[str, np.ndarray], rows: np.ndarray) -> np.ndarray:
        """``[len(rows), k]``: P(next answer) given the answers so far."""
        biased = state["count"][rows] >= self.unbiased
        known = np.einsum("nba,bk->nk", state["belief"][rows], self.table)
        return np.where(biased[:, None], known, 1 / self.k)

    def guess(self, state: dict[str, np.ndarray], rows: np.ndarray) -> np.ndarray:
        return np.argmax(self.predictive(state, rows), axis=1)

    def observe(self, state: dict[str, np.ndarray], rows: np.ndarray, answers: np.ndarray) -> None:
        count = state["count"][rows]
        belief = state["belief"][rows]
        posterior = belief * self.table[:, answers].T[:, :, None]
        total = posterior.sum(axis=(1, 2), keepdims=True)
        posterior = np.where(total > 0, posterior / np.where(total > 0, total, 1), belief)
        moved = np.zeros_like(posterior)
        staying = posterior * (1 - self.hazard)
        if self.ages == 1:  # memoryless: a block that goes on stays at the one age
            moved += staying
        else:
            moved[:, :, 1:] = staying[:, :, :-1]
        moved[:, :, 0] += (posterior * self.hazard).sum(axis=2) @ self.switch
        belief = np.where((count >= self.unbiased)[:, None, None], moved, belief)
        count = count + 1
        starting = count == self.unbiased
        if starting.any():
            belief[starting] = self._start(int(starting.sum()))
        state["count"][rows] = count
        state["belief"][rows] = belief


class HistoryPolicy(Agent):
    """The guess agent of a task with answer history: at each window's close it gives the
    predicted answer; after each trial it learns the trial's answer (the target it saw as
    the window closed: the feedback every animal gets)."""

    name: ClassVar[str] = "history_guess"

    def __init__(self, task: AnswerSchedule) -> None:
        self.schedule_task = task

    def prepare(self, task: Any) -> None:
        self.predictor = self.schedule_task.predictor()
        self.actions = self.schedule_task.answer_actions

    def initial_state(self, num_envs: int, *, seed: int) -> dict[str, Any]:
        return {"predictor": self.predictor.init(num_envs), "seen": np.full(num_envs, -1, dtype=np.int64)}

    def act(self, obs: np.ndarray, state: dict[str, Any], info: Mapping[str, np.ndarray]) -> tuple[np.ndarray, Any]:
        new = np.flatnonzero(np.asarray(info["new_trial"]) & (state["seen"] >= 0))
        if len(new):
            index = np.searchsorted(self.actions, state["seen"][new]) if np.all(np.diff(self.actions) > 0) else None
            answers = (
                index
                if index is not None
                else np.array([int(np.flatnonzero(self.actions == a)[0]) for a in state["seen"][new]])
            )
            self.predictor.observe(state["predictor"], new, answers)
            state["seen"][new] = -1
        rows = np.arange(len(obs))
        closing = np.asarray(info["window"]) == 2
        guess = self.actions[self.predictor.guess(state["predictor"], rows)]
        state["seen"] = np.where(closing, np.asarray(info["target"]), state["seen"])
        return np.where(closing, guess, 0), state
