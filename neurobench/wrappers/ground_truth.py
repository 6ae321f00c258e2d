"""Who decides the answer: class probabilities (RandomGroundTruth) and a Markov chain over
answers (TrialHistoryV2), both NeuroGym wrappers of ``wrappers/block.py``.

Like :mod:`neurobench.wrappers.history`, they decide which answer each trial has and then
fill the slots with the inner task's trials of that answer (the inner trials are
independent, so taking the next one with the wanted answer is drawing a trial conditioned
on it).

* :class:`RandomGroundTruth` draws every answer independently with probabilities ``p``.
  Its trials stay independent (no session, random access kept), so the best stimulus-blind
  policy is the constant answer of the likeliest class. With it NeuroGym composes its
  ``ibl20`` collection: ``ScheduleAttr`` switching ``p`` across blocks (see the
  ``PerceptualDecisionMaking.ibl20`` task for why that task is built on a block prior).
* :class:`TrialHistoryV2` draws each answer from the row of a transition matrix picked by
  the previous answer. A session's answers are a Markov chain, sampled for a whole chunk
  at once by composing the per-trial transition functions with a parallel prefix scan
  (``log2(m)`` array steps, no loop over trials). Its chance is exact: the blind policy
  that answers the likeliest successor of the previous answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from neurobench.agents.base import Agent
from neurobench.core.errors import InvalidParameterError
from neurobench.core.levels import blind_chance
from neurobench.core.task import Level, Task
from neurobench.core.trials import TrialBatch
from neurobench.wrappers.history import AnswerSchedule, Predictor


def draw_index(rng: np.random.Generator, probs: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Indices drawn with probabilities ``probs`` (``[k]``, or ``[*shape, k]`` per draw)."""
    cumulative = np.cumsum(np.broadcast_to(probs, (*shape, probs.shape[-1])), axis=-1)
    return np.minimum((rng.random(shape)[..., None] >= cumulative).sum(axis=-1), probs.shape[-1] - 1)


def _probabilities(name: str, values: Any, k: int, choices: np.ndarray, task: str) -> np.ndarray:
    array = np.asarray(values, dtype=float) if isinstance(values, list | tuple | np.ndarray) else None
    if array is None or array.shape[-1:] != (k,) or not np.all(np.isfinite(array)):
        raise InvalidParameterError(
            f"{name} must give {k} probabilities per row, one per answer {choices.tolist()} of {task}, got {values!r}"
        )
    if np.any(array < 0) or not np.allclose(array.sum(axis=-1), 1.0):
        raise InvalidParameterError(f"{name} must hold probabilities summing to 1, got {values!r}")
    return array / array.sum(axis=-1, keepdims=True)


@dataclass(frozen=True, eq=False)
class RandomGroundTruth(AnswerSchedule):
    """Each trial's answer drawn independently with probabilities ``p`` (one per answer of
    the inner task, in increasing order of its ``condition``; ``None``: uniform), as
    NeuroGym's RandomGroundTruth.

    Trials stay independent, so the task keeps random access and is not sequential
    (``session_trials`` plays no role). Chance: the constant answer of the likeliest class,
    exact (``max(p)``) when the inner task's own chance is the exact uniform one of its
    answers, else measured as the best constant answers. Ceiling: the inner ideal observer
    given ``p`` as its prior (a bound; exact inner ceilings of noise-free tasks stay exact).
    """

    p: tuple[float, ...] | None = None

    def validate(self) -> None:
        self.probabilities  # noqa: B018 (validates p against the inner task's answers)

    @cached_property
    def probabilities(self) -> np.ndarray:
        k = len(self.choices)
        if self.p is None:
            return np.full(k, 1.0 / k)
        table = _probabilities("p", self.p, k, self.choices, self.task.name)
        if table.ndim != 1:
            raise InvalidParameterError(f"p must be one row of {k} probabilities, got {self.p!r}")
        return table

    @property
    def sequential(self) -> bool:
        return False

    def schedule(
        self, rng: np.random.Generator, sessions: int, m: int, carry: Any
    ) -> tuple[np.ndarray, dict[str, np.ndarray], Any]:
        return draw_index(rng, self.probabilities, (sessions, m)), {}, carry

    def sample_chunk(self, rng: np.random.Generator, n: int, start: int, carry: Any) -> tuple[TrialBatch, Any]:
        return self.sample(rng, n), carry

    def predictor(self) -> Predictor:
        return ConstantPredictor(int(np.argmax(self.probabilities)))

    def prior(self, batch: TrialBatch, sessions: int) -> np.ndarray:
        return self.probabilities[np.searchsorted(self.choices, batch.conditions[self.condition])]

    def blind_policy(self) -> Agent:
        return Task.blind_policy(self)  # the best constant answers: no history to read

    def _chance(self) -> Level:
        inner = self.task.chance()
        windows = getattr(self.task, "response_periods", ())
        k = len(self.choices)
        if inner.kind == "exact" and np.isclose(inner.value, 1 / k) and len(windows) == 1:
            return Level(
                float(self.probabilities.max()),
                f"exact: always the likeliest answer (the inner task's exact chance is 1/{k}: each answer wins "
                f"only the trials that have it)",
            )
        return blind_chance(self)

    def _ceiling(self) -> Level:
        inner = self.task.ceiling()
        if inner.value >= 1.0 or np.allclose(self.probabilities, 1 / len(self.choices)):
            return inner  # noise-free trials stay noise-free; uniform p changes nothing
        return prior_bound(self)


@dataclass(frozen=True, eq=False)
class TrialHistoryV2(AnswerSchedule):
    """Each answer drawn from row ``i`` of the transition matrix ``probs`` when the
    previous answer was ``i`` (NeuroGym's TrialHistoryV2; ``None``: uniform). The first
    trial of a session follows a uniformly drawn "previous" answer, as in NeuroGym.

    Chance is exact: knowing the previous answer (from feedback), the best blind guess is
    the likeliest entry of its row; averaged over the chain's distribution at each trial of
    a ``session_trials``-trial session. Ceiling: the inner ideal observer with the row of
    the true previous answer as prior (a bound for two-choice Gaussian inner tasks).
    """

    probs: tuple[tuple[float, ...], ...] | None = None

    def validate(self) -> None:
        self.matrix  # noqa: B018 (validates probs against the inner task's answers)

    @cached_property
    def matrix(self) -> np.ndarray:
        k = len(self.choices)
        if k < 2:
            raise InvalidParameterError(f"TrialHistoryV2 needs at least two answers; {self.task.name} has {k}")
        if self.probs is None:
            return np.full((k, k), 1.0 / k)
        table = _probabilities("probs", self.probs, k, self.choices, self.task.name)
        if table.shape != (k, k):
            raise InvalidParameterError(f"probs must be a {k} x {k} transition matrix, got {self.probs!r}")
        return table

    def schedule(
        self, rng: np.random.Generator, sessions: int, m: int, carry: Any
    ) -> tuple[np.ndarray, dict[str, np.ndarray], Any]:
        k = len(self.choices)
        previous = rng.integers(k, size=sessions) if carry is None else np.asarray(carry)
        steps = _transitions(rng, self.matrix, sessions, m)  # each trial's map: previous answer -> next
        wanted = np.take_along_axis(compose_prefix(steps), previous[:, None, None], axis=2)[..., 0]
        return wanted, {}, wanted[:, -1].copy()

    def predictor(self) -> Predictor:
        return MarkovPredictor(self.matrix)

    def prior(self, batch: TrialBatch, sessions: int) -> np.ndarray:
        answer = np.searchsorted(self.choices, batch.conditions[self.condition]).reshape(sessions, -1)
        prior = np.empty(answer.shape)
        prior[:, 0] = self.matrix.mean(axis=0)[answer[:, 0]]  # the previous answer was uniform
        prior[:, 1:] = self.matrix[answer[:, :-1], answer[:, 1:]]
        return prior.ravel()

    def _ceiling(self) -> Level:
        if np.allclose(self.matrix, 1 / len(self.choices)):
            return self.task.ceiling()  # a uniform matrix changes nothing
        return prior_bound(self)

    def _chance(self) -> Level:
        """Exact: trial 1 is guessed from the mean row (the previous answer was uniform);
        trial t > 1 from the row of answer t-1, whose distribution is the chain's."""
        k = len(self.choices)
        best = self.matrix.max(axis=1)
        state = np.full(k, 1.0 / k)  # distribution of the "previous" answer of trial 1
        success = np.empty(self.session_trials)
        success[0] = float((state @ self.matrix).max())
        for t in range(1, self.session_trials):  # a level, not sampling: k-vector products
            state = state @ self.matrix
            success[t] = float(state @ best)
        return Level(
            float(success.mean()),
            f"exact: the likeliest successor of the previous answer, over sessions of {self.session_trials} trials",
        )


def prior_bound(task: AnswerSchedule) -> Level:
    """The answer schedule's Bayes bound (see ``AnswerSchedule``) where the inner task has a
    two-choice Gaussian evidence model; the trivial bound 1 where it has none."""
    model = getattr(task.task, "evidence_model", None)
    if model is None or model(task.task.sample(np.random.default_rng(0), 2)) is None:
        inner = task.task.ceiling()
        return Level(1.0, f"bound: trivial (no two-choice evidence model; inner task: {inner.method})", "bound")
    return AnswerSchedule._ceiling(task)


def _transitions(rng: np.random.Generator, matrix: np.ndarray, sessions: int, m: int) -> np.ndarray:
    """``[sessions, m, k]``: for every trial, the next answer after each possible previous
    one, all drawn from one uniform per trial (a coupling that keeps each row's law)."""
    cumulative = np.cumsum(matrix, axis=1)  # [k, k]
    u = rng.random((sessions, m))[..., None, None]
    return np.minimum((u >= cumulative).sum(axis=-1), matrix.shape[1] - 1)


def compose_prefix(steps: np.ndarray) -> np.ndarray:
    """Inclusive prefix composition of per-trial maps ``steps[s, t]: [k] -> [k]``: the
    result at ``t`` is ``steps[t] o ... o steps[0]`` (Hillis-Steele scan, log2(m) rounds)."""
    out = steps.copy()
    shift = 1
    while shift < out.shape[1]:
        out[:, shift:] = np.take_along_axis(out[:, shift:], out[:, :-shift], axis=2)
        shift *= 2
    return out


class ConstantPredictor(Predictor):
    """Always the same answer (independent trials: the likeliest class)."""

    def __init__(self, answer: int) -> None:
        self.answer = answer

    def init(self, n: int) -> dict[str, np.ndarray]:
        return {}

    def guess(self, state: dict[str, np.ndarray], rows: np.ndarray) -> np.ndarray:
        return np.full(len(rows), self.answer, dtype=np.int64)

    def observe(self, state: dict[str, np.ndarray], rows: np.ndarray, answers: np.ndarray) -> None:
        return None


class MarkovPredictor(Predictor):
    """The likeliest successor of the previous answer (the mean row before the first)."""

    def __init__(self, matrix: np.ndarray) -> None:
        self.best = np.argmax(matrix, axis=1)
        self.first = int(np.argmax(matrix.mean(axis=0)))

    def init(self, n: int) -> dict[str, np.ndarray]:
        return {"last": np.full(n, -1, dtype=np.int64)}

    def guess(self, state: dict[str, np.ndarray], rows: np.ndarray) -> np.ndarray:
        last = state["last"][rows]
        return np.where(last >= 0, self.best[np.maximum(last, 0)], self.first)

    def observe(self, state: dict[str, np.ndarray], rows: np.ndarray, answers: np.ndarray) -> None:
        state["last"][rows] = answers
