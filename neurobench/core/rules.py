"""Response rules: how actions become rewards, trial ends and outcomes.

A rule is evaluated on whole arrays. ``respond(phase, target, action)`` takes the phase
code and target of each step being evaluated, broadcastable against the actions, so the
same code serves two callers:

* the single env tabulates it once per chunk of trials over every (trial, step,
  action), then steps by table lookup (fast for one env);
* the vector env calls it once per step on the current steps and actions of all its
  envs (no per-env Python loop).

Rules write nothing and keep no state between calls; what varies within a trial is
precomputed per step into the batch's ``phase`` codes when the trial is built.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from enum import IntEnum
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

if TYPE_CHECKING:
    from neurobench.core.trials import TrialBuilder


class Outcome(IntEnum):
    """How a trial (or one answer in it) ended. Larger is worse: a trial's outcome is
    the worst of its events, so one missed answer spoils a two-answer trial."""

    NONE = 0
    CORRECT = 1
    FAIL = 2
    MISS = 3
    ABORT = 4


OUTCOME_NAMES = tuple(o.name.lower() for o in Outcome)


class Move(IntEnum):
    """Where time goes after a step."""

    NEXT = 0  # the following step
    END = 1  # the trial is over
    SKIP = 2  # the end of the current response window (answer given, trial goes on)


class Response(NamedTuple):
    reward: np.ndarray
    event: np.ndarray  # Outcome codes, int8
    move: np.ndarray  # Move codes, int8


class ResponseRule(ABC):
    """Maps (phase, target, action) at a step to reward, event and where time goes."""

    n_phases: int  # phase codes run from 0 to n_phases - 1

    @abstractmethod
    def phases(self, trials: TrialBuilder) -> tuple[np.ndarray, np.ndarray | None]:
        """Per-step phase codes ``[n, T]`` (and optional resume steps) for new trials."""

    @abstractmethod
    def respond(self, phase: np.ndarray, target: np.ndarray, action: np.ndarray) -> Response:
        """Evaluate actions given the phase codes and targets of their steps
        (broadcastable arrays)."""

    @abstractmethod
    def window_code(self, phase: np.ndarray) -> np.ndarray:
        """Per phase code: 0 outside response windows, 1 inside, 2 on a window's last
        step. The go cue reference agents may read; it never tells the answer."""


def advance(move: np.ndarray, t: np.ndarray, length: np.ndarray, resume: np.ndarray | None) -> np.ndarray:
    """The step each move leads to; a value >= the trial's ``length`` ends the trial.
    ``resume`` is the batch's resume step at ``t`` (None if the batch has none)."""
    next_t = np.where(move == _END, length, t + 1)
    if resume is not None:
        next_t = np.where(move == _SKIP, resume, next_t)
    return next_t


_END, _SKIP = int(Move.END), int(Move.SKIP)  # plain ints: comparing numpy arrays to enum
# members costs an attribute lookup per call


class LookupTable:
    """A rule's responses to every (phase code, target, action), computed once.

    A step's *state* is ``phase * n_actions + target``; its response to ``action`` sits at
    ``state * n_actions + action``. Envs step with one gather per output instead of
    evaluating the rule again.
    """

    def __init__(self, rule: ResponseRule, n_actions: int) -> None:
        self.n_actions = n_actions
        phase = np.arange(rule.n_phases)[:, None, None]
        target = np.arange(n_actions)[None, :, None]
        action = np.arange(n_actions)[None, None, :]
        shape = (rule.n_phases, n_actions, n_actions)
        reward, event, move = (np.broadcast_to(x, shape).ravel() for x in rule.respond(phase, target, action))
        self.reward = reward.astype(np.float64)
        self.event = event.astype(np.int8)
        self.move = move.astype(np.int8)
        self.ends = self.move == _END
        self.skips = self.move == _SKIP
        self.answered = (self.event == Outcome.CORRECT) | (self.event == Outcome.FAIL)
        self.window = np.repeat(rule.window_code(np.arange(rule.n_phases)), n_actions).astype(np.int8)

    def states(self, phase: np.ndarray, target: np.ndarray) -> np.ndarray:
        return phase.astype(np.int32) * self.n_actions + target

    def keys(self, states: np.ndarray, action: np.ndarray) -> np.ndarray:
        return states * self.n_actions + action


FIXATE = 0  # action index of "keep fixating / do nothing" in every discrete task


class Phase(IntEnum):
    """What the fixate-then-choose rule expects at a step."""

    FREE = 0  # anything goes, nothing happens
    HOLD = 1  # keep fixating; moving costs the abort reward (and ends the trial if abort)
    GO = 2  # answer now; the answer ends the trial
    GO_SKIP = 3  # answer now; the answer ends this window, the trial goes on
    NOGO = 4  # withhold (target is fixation); any answer is wrong and ends the trial
    NOGO_SKIP = 5
    # the same six codes + LAST mark the last step of a response window, where
    # not answering is decided (a miss, or a correct withhold)


LAST = len(Phase)
_RELATIONS = 3  # action is: fixate, the target, another answer


class FixateThenChoose(ResponseRule):
    """Hold fixation, then answer once per response window.

    The rule of most NeuroGym tasks and of the papers behind them:

    * in ``hold`` periods, leaving fixation costs ``rewards["abort"]``; with
      ``abort=True`` it also ends the trial (outcome ``abort``);
    * in each of the ``windows`` (in time order; a window is a period, or a tuple of
      consecutive periods), the first non-fixation action is the answer: ``correct`` if it
      equals the target, else ``fail``. The answer in the last window ends the trial;
      earlier answers jump to the end of their window;
    * a window passed without an answer is a ``miss`` (reward ``miss``) if an answer was
      expected, and ``correct`` if the target was to keep fixating (no-go trials);
    * other periods are free: actions there have no consequence.

    Everything is encoded in a lookup table indexed by (phase code, relation of the
    action to the target), computed once per rule.
    """

    n_phases = 2 * LAST

    def __init__(
        self,
        hold: Sequence[str],
        windows: Sequence[str | Sequence[str]],
        rewards: Mapping[str, float],
        abort: bool = False,
    ) -> None:
        self.hold = tuple(hold)
        self.windows = tuple((w,) if isinstance(w, str) else tuple(w) for w in windows)
        self.abort = abort
        self.rewards = dict(rewards)
        self._reward, self._event, self._move = self._table()

    def _table(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        r = self.rewards
        miss = r.get("miss", 0.0)
        shape = (2 * LAST, _RELATIONS)
        reward = np.zeros(shape, dtype=np.float64)
        event = np.zeros(shape, dtype=np.int8)
        move = np.zeros(shape, dtype=np.int8)

        def answer(code: int, ends: Move) -> None:
            for base in (code, code + LAST):
                reward[base, 1:] = r["correct"], r["fail"]
                event[base, 1:] = Outcome.CORRECT, Outcome.FAIL
                move[base, 1:] = ends

        def withhold(code: int, ends: Move) -> None:
            for base in (code, code + LAST):
                reward[base, 1:] = r["fail"]
                event[base, 1:] = Outcome.FAIL
                move[base, 1:] = ends
            event[code + LAST, 0] = Outcome.CORRECT

        for base in (Phase.HOLD, Phase.HOLD + LAST):
            reward[base, 2] = r["abort"]
            if self.abort:
                event[base, 2], move[base, 2] = Outcome.ABORT, Move.END
        answer(Phase.GO, Move.END)
        answer(Phase.GO_SKIP, Move.SKIP)
        withhold(Phase.NOGO, Move.END)
        withhold(Phase.NOGO_SKIP, Move.SKIP)
        for code in (Phase.GO, Phase.GO_SKIP):
            reward[code + LAST, 0] = miss
            event[code + LAST, 0] = Outcome.MISS
        return reward.ravel(), event.ravel(), move.ravel()

    def phases(self, trials: TrialBuilder) -> tuple[np.ndarray, np.ndarray | None]:
        phase = np.zeros((trials.n, trials.max_length), dtype=np.int8)
        trials.paint(phase, Phase.HOLD, *self.hold)
        resume = None
        rows = np.arange(trials.n)
        for k, window in enumerate(self.windows):
            nogo = ~trials.any_nonzero(trials.target, *window)
            code = np.where(nogo, Phase.NOGO, Phase.GO).astype(np.int8)
            start, end = trials.periods[window[0]][0], trials.periods[window[-1]][1]
            if k < len(self.windows) - 1:
                code += Phase.GO_SKIP - Phase.GO
                if resume is None:
                    resume = np.zeros(phase.shape, dtype=np.int32)
                trials.paint(resume, end, *window)
            trials.paint(phase, code, *window)
            nonempty = end > start
            phase[rows[nonempty], end[nonempty] - 1] += LAST
        return phase, resume

    def window_code(self, phase: np.ndarray) -> np.ndarray:
        return np.where(phase % LAST >= Phase.GO, np.where(phase >= LAST, 2, 1), 0)

    def respond(self, phase: np.ndarray, target: np.ndarray, action: np.ndarray) -> Response:
        relation = (action != FIXATE) * (1 + (action != target))
        key = phase * _RELATIONS + relation
        return Response(self._reward.take(key), self._event.take(key), self._move.take(key))
