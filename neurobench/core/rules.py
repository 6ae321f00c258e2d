"""Response rules: how an action at a step becomes a reward, a trial event and a move.

Every step of a pre-sampled trial carries a *phase code*, written when the trial is built,
that says what the rule expects there. A code is a :class:`Kind` plus flags:

* ``SKIP``: an answer (or the window's end) does not end the trial; time jumps to the
  batch's ``resume`` step (the end of the window, or per action: a branch);
* ``LAST``: the last step of a response window, where not answering is decided;
* ``FINAL``: the trial ends after this step whatever the action (the end of a branch).

Discrete rules are tabulated once per task over every (phase code, target, action), so
the single env steps by list lookup and the vector env by a few gathers. ``accepts``
separates what counts as correct from the target: the target is what the oracle and a
supervised network output, the accept matrix says which answers score (Yang et al.'s ring
criterion accepts every output within 36 degrees of the target). Continuous rules
(``Box`` actions) are evaluated on arrays at every step instead.
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
    """How a trial (or one answer in it) ended. Larger is worse: a trial's outcome is the
    worst of its events, so one missed answer spoils a two-answer trial."""

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
    SKIP = 2  # the batch's resume step (end of the window, or a branch chosen by the action)


class Kind(IntEnum):
    """What the rule expects at a step (the low bits of a phase code)."""

    FREE = 0  # anything goes, nothing happens
    HOLD = 1  # keep fixating; leaving costs the abort reward (and ends the trial with abort=True)
    GO = 2  # answer now: correct if the answer is accepted for the target
    GO_ANY = 3  # answer now: any answer is correct (the right moment of a timing window)
    GO_NONE = 4  # inside a window, but any answer is wrong (too early or too late)
    NOGO = 5  # withhold: keep fixating through the window; any answer is wrong


# Plain ints of those codes for per-step Python paths (the single env) and per-chunk ones (a
# rule's phases): on Python 3.11 a read of an enum member, or numpy converting one, goes
# through EnumType.__getattr__ and costs a few hundred ns.
HOLD_CODE, GO_CODE, NOGO_CODE = int(Kind.HOLD), int(Kind.GO), int(Kind.NOGO)
CORRECT_CODE, FAIL_CODE, MISS_CODE, ABORT_CODE = (
    int(Outcome.CORRECT),
    int(Outcome.FAIL),
    int(Outcome.MISS),
    int(Outcome.ABORT),
)
NEXT_CODE, END_CODE = int(Move.NEXT), int(Move.END)

SKIP, LAST, FINAL = 8, 16, 32  # flags of a phase code
N_PHASES = 64
RESPONSE_KINDS = (Kind.GO, Kind.GO_ANY, Kind.GO_NONE, Kind.NOGO)
FIXATE = 0  # action index of "keep fixating / do nothing" in every discrete task with fixation


def kind_of(phase: np.ndarray) -> np.ndarray:
    return np.asarray(phase) & 7


class Response(NamedTuple):
    reward: np.ndarray
    event: np.ndarray  # Outcome codes, int8
    move: np.ndarray  # Move codes, int8


class ResponseRule(ABC):
    """Maps (phase, target, action) at a step to reward, event and where time goes."""

    continuous: bool = False
    n_phases: int = N_PHASES  # phase codes run from 0 to n_phases - 1

    @abstractmethod
    def phases(self, trials: TrialBuilder) -> tuple[np.ndarray, np.ndarray | None]:
        """Per-step phase codes ``[n, T]`` (and optional resume steps) for new trials."""

    @abstractmethod
    def respond(self, phase: np.ndarray, target: np.ndarray, action: np.ndarray) -> Response:
        """Evaluate actions given the phase codes and targets of their steps (broadcastable)."""

    def window_code(self, phase: np.ndarray) -> np.ndarray:
        """Per phase code: 0 outside response windows, 1 inside, 2 on a window's last step.
        The go cue reference agents may read; it never tells the answer."""
        inside = np.isin(kind_of(phase), RESPONSE_KINDS)
        return np.where(inside, np.where(np.asarray(phase) & LAST, 2, 1), 0).astype(np.int8)


class LookupTable:
    """A discrete rule's responses to every (phase code, target, action), computed once.

    A step's *state* is ``phase * n_actions + target``; its response to ``action`` sits at
    ``state * n_actions + action``.
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
        self.ends = self.move == Move.END
        self.skips = self.move == Move.SKIP
        self.answered = (self.event == Outcome.CORRECT) | (self.event == Outcome.FAIL)
        self.window = rule.window_code(np.arange(rule.n_phases)).astype(np.int8)  # per phase code

    def states(self, phase: np.ndarray, target: np.ndarray) -> np.ndarray:
        return phase.astype(np.int32) * self.n_actions + target

    def keys(self, states: np.ndarray, action: np.ndarray | int) -> np.ndarray:
        return states * self.n_actions + action


_RELATIONS = 3  # the action is: fixate, an accepted answer, another answer


class FixateThenChoose(ResponseRule):
    """Hold fixation, then answer once per response window.

    The rule of most NeuroGym tasks and of the papers behind them:

    * in ``hold`` periods, leaving fixation costs ``rewards["abort"]``; with ``abort=True``
      it also ends the trial (outcome ``abort``);
    * in each of the ``windows`` (a period or a tuple of consecutive periods, in time
      order) the first non-fixation action is the answer: ``correct`` if ``accepts``
      admits it for the target (by default: it is the target), else ``fail``. The answer
      in the last window ends the trial; earlier answers skip to the end of their window;
    * a window passed without an answer is a ``miss`` if an answer was expected, and
      ``correct`` if the target was to keep fixating (no-go trials);
    * other periods are free.

    Tasks whose trials need other phase kinds (timing windows, branches) paint them after
    ``phases`` and keep this rule's responses.
    """

    def __init__(
        self,
        hold: Sequence[str],
        windows: Sequence[str | Sequence[str]],
        rewards: Mapping[str, float],
        abort: bool = False,
        accepts: np.ndarray | None = None,
    ) -> None:
        self.hold = tuple(hold)
        self.windows = tuple((w,) if isinstance(w, str) else tuple(w) for w in windows)
        self.abort = abort
        self.rewards = dict(rewards)
        self.accepts = None if accepts is None else np.asarray(accepts, dtype=bool)

    def phases(self, trials: TrialBuilder) -> tuple[np.ndarray, np.ndarray | None]:
        phase = np.zeros((trials.n, trials.max_length), dtype=np.int8)
        trials.paint(phase, HOLD_CODE, *self.hold)
        resume = None
        rows = np.arange(trials.n)
        for k, window in enumerate(self.windows):
            nogo = ~trials.any_nonzero(trials.target, *window)
            code = np.where(nogo, NOGO_CODE, GO_CODE).astype(np.int8)
            start, end = trials.periods[window[0]][0], trials.periods[window[-1]][1]
            if k < len(self.windows) - 1:
                code |= SKIP
                if resume is None:
                    resume = np.zeros(phase.shape, dtype=np.int32)
                trials.paint(resume, end, *window)
            trials.paint(phase, code, *window)
            nonempty = end > start
            phase[rows[nonempty], end[nonempty] - 1] |= LAST
        return phase, resume

    def respond(self, phase: np.ndarray, target: np.ndarray, action: np.ndarray) -> Response:
        phase, target, action = np.broadcast_arrays(np.asarray(phase), np.asarray(target), np.asarray(action))
        accepted = action == target
        if self.accepts is not None:
            size = len(self.accepts)
            accepted = self.accepts[np.clip(target, 0, size - 1), np.clip(action, 0, size - 1)]
        relation = (action != FIXATE) * (1 + ~accepted)
        return _respond(phase, relation, self.rewards, self.abort)


class TimingWindow(FixateThenChoose):
    """Fixate-then-choose whose windows are scored by *when* the answer comes: a task marks
    the on-time steps (``trials.on_time``, boolean ``[n, T]``) and an answer there is
    correct (``GO_ANY``), elsewhere in the window wrong (``GO_NONE``). The target stays
    what the task painted: the best moment."""

    def phases(self, trials: TrialBuilder) -> tuple[np.ndarray, np.ndarray | None]:
        phase, resume = super().phases(trials)
        inside = np.isin(phase & 7, (Kind.GO, Kind.NOGO))
        timed = np.where(trials.on_time, Kind.GO_ANY, Kind.GO_NONE).astype(np.int8)  # type: ignore[attr-defined]
        phase = np.where(inside, (phase & ~7) | timed, phase).astype(np.int8)
        return phase, resume


class Branching(FixateThenChoose):
    """Choose, then see what the choice led to: the answer in ``window`` jumps to the
    period of its branch (``branches[action]``), whose steps hold fixation and end the
    trial after their last step; no answer is a miss and ends the trial. A trial lays its
    branches out one after the other and visits one (DawTwoStep's second stage)."""

    def __init__(
        self, window: str, branches: Mapping[int, str], rewards: Mapping[str, float], abort: bool = False
    ) -> None:
        super().__init__(tuple(branches.values()), (window,), rewards, abort)
        self.window, self.branches = window, dict(branches)

    def phases(self, trials: TrialBuilder) -> tuple[np.ndarray, np.ndarray | None]:
        phase, _ = super().phases(trials)
        rows = np.arange(trials.n)
        trials.paint(phase, phase.dtype.type(Kind.GO | SKIP | 0), self.window)
        window_end = trials.periods[self.window][1] - 1
        phase[rows, window_end] |= LAST
        resume = np.zeros((trials.n, trials.max_length, trials.task.n_actions), dtype=np.int32)
        resume[:] = trials.length[:, None, None]
        for action, period in self.branches.items():
            start, end = trials.periods[period]
            resume[rows, :, action] = np.where(
                np.arange(trials.max_length)[None, :] <= window_end[:, None], start[:, None], trials.length[:, None]
            )
            phase[rows, end - 1] |= FINAL
        return phase, resume


def _respond(phase: np.ndarray, relation: np.ndarray, rewards: Mapping[str, float], abort: bool) -> Response:
    """Responses of the phase kinds to an action's relation (0 fixate, 1 accepted answer,
    2 other answer), shared by every discrete rule."""
    kind, flags = phase & 7, phase & ~7
    last, final, skip = (flags & LAST) > 0, (flags & FINAL) > 0, (flags & SKIP) > 0
    answering = relation > 0
    correct = np.where(kind == Kind.GO, relation == 1, kind == Kind.GO_ANY)
    in_window = np.isin(kind, RESPONSE_KINDS)
    hold_break = (kind == Kind.HOLD) & answering
    reward = np.zeros(phase.shape)
    event = np.zeros(phase.shape, dtype=np.int8)
    move = np.zeros(phase.shape, dtype=np.int8)
    answer = in_window & answering
    event = np.where(answer, np.where(correct, Outcome.CORRECT, Outcome.FAIL), event)
    reward = np.where(answer, np.where(correct, rewards["correct"], rewards["fail"]), reward)
    unanswered_end = in_window & ~answering & last
    withheld = unanswered_end & (kind == Kind.NOGO)
    missed = unanswered_end & (kind != Kind.NOGO)
    event = np.where(withheld, Outcome.CORRECT, np.where(missed, Outcome.MISS, event))
    reward = np.where(missed, rewards.get("miss", 0.0), reward)
    reward = np.where(hold_break, rewards["abort"], reward)
    if abort:
        event = np.where(hold_break, Outcome.ABORT, event)
    leaves = answer | unanswered_end
    move = np.where(leaves, np.where(skip, Move.SKIP, Move.END), move)
    move = np.where(hold_break & abort, Move.END, move)
    move = np.where(final, Move.END, move)
    return Response(reward, event.astype(np.int8), move.astype(np.int8))


class AnyChoice(ResponseRule):
    """Every step is a choice among all actions, with no fixation action (NeuroGym's
    Bandit): the action that equals the target is correct, every action ends the trial
    (tasks give each action its payoff through the batch)."""

    def __init__(self, rewards: Mapping[str, float]) -> None:
        self.rewards = dict(rewards)

    def phases(self, trials: TrialBuilder) -> tuple[np.ndarray, np.ndarray | None]:
        phase = np.full((trials.n, trials.max_length), Kind.GO, dtype=np.int8)
        rows = np.arange(trials.n)
        phase[rows, trials.length - 1] |= LAST
        return phase, None

    def respond(self, phase: np.ndarray, target: np.ndarray, action: np.ndarray) -> Response:
        phase, target, action = np.broadcast_arrays(np.asarray(phase), np.asarray(target), np.asarray(action))
        correct = action == target
        go = (phase & 7) == Kind.GO
        reward = np.where(go, np.where(correct, self.rewards["correct"], self.rewards["fail"]), 0.0)
        event = np.where(go, np.where(correct, Outcome.CORRECT, Outcome.FAIL), Outcome.NONE).astype(np.int8)
        move = np.where(go, Move.END, Move.NEXT).astype(np.int8)
        return Response(reward, event, move)


class ContinuousReport(ResponseRule):
    """Report a value with a ``Box`` action ``[go, report...]`` (NeuroGym's
    ReachingDelayResponse): ``go < 0`` holds fixation, ``go > 0`` gives the answer.

    In ``hold`` periods, ``go >= 0`` costs the abort reward. In the response window the
    first ``go > 0`` ends the trial with reward ``correct / (1 + |error|)^2`` (the error
    between the reported and the target value, summed over report dimensions), and counts
    as correct when the error is below ``tolerance``. A window passed without an answer is
    a miss.
    """

    continuous = True

    def __init__(
        self,
        hold: Sequence[str],
        window: str,
        rewards: Mapping[str, float],
        tolerance: float,
        abort: bool = False,
    ) -> None:
        self.hold, self.window = tuple(hold), window
        self.rewards, self.tolerance, self.abort = dict(rewards), float(tolerance), abort

    def phases(self, trials: TrialBuilder) -> tuple[np.ndarray, np.ndarray | None]:
        phase = np.zeros((trials.n, trials.max_length), dtype=np.int8)
        trials.paint(phase, Kind.HOLD, *self.hold)
        trials.paint(phase, Kind.GO, self.window)
        rows = np.arange(trials.n)
        end = trials.periods[self.window][1]
        nonempty = end > trials.periods[self.window][0]
        phase[rows[nonempty], end[nonempty] - 1] |= LAST
        return phase, None

    def error(self, target: np.ndarray, action: np.ndarray) -> np.ndarray:
        return np.abs(np.asarray(action)[..., 1:] - np.asarray(target)[..., 1:]).sum(axis=-1)

    def respond(self, phase: np.ndarray, target: np.ndarray, action: np.ndarray) -> Response:
        phase = np.asarray(phase)
        go = np.asarray(action)[..., 0]
        kind = phase & 7
        error = self.error(target, action)
        answer = (kind == Kind.GO) & (go > 0)
        hold_break = (kind == Kind.HOLD) & (go >= 0)
        missed = (kind == Kind.GO) & ~answer & ((phase & LAST) > 0)
        correct = error < self.tolerance
        reward = np.where(answer, self.rewards["correct"] / (1 + error) ** 2, 0.0)
        reward = np.where(hold_break, self.rewards["abort"], np.where(missed, self.rewards.get("miss", 0.0), reward))
        event = np.where(answer, np.where(correct, Outcome.CORRECT, Outcome.FAIL), Outcome.NONE)
        event = np.where(missed, Outcome.MISS, event)
        if self.abort:
            event = np.where(hold_break, Outcome.ABORT, event)
        move = np.where(answer | missed | (hold_break & self.abort), Move.END, Move.NEXT)
        return Response(reward, event.astype(np.int8), move.astype(np.int8))

    def respond_one(self, phase: int, target: Sequence[float], action: Sequence[float]) -> tuple[float, int, int]:
        """:meth:`respond` for one step, in plain Python (the single env's fast path)."""
        kind, go = phase & 7, action[0]
        if kind == HOLD_CODE and go >= 0:
            return self.rewards["abort"], (ABORT_CODE if self.abort else 0), (END_CODE if self.abort else 0)
        if kind != GO_CODE:
            return 0.0, 0, 0
        if go > 0:
            error = sum(abs(a - t) for a, t in zip(action[1:], target[1:], strict=True))
            event = CORRECT_CODE if error < self.tolerance else FAIL_CODE
            return self.rewards["correct"] / (1 + error) ** 2, event, END_CODE
        if phase & LAST:
            return self.rewards.get("miss", 0.0), MISS_CODE, END_CODE
        return 0.0, 0, 0
