"""ReactionTime: answer any time from stimulus onset; the answer ends the trial."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from neurobench.core.errors import InvalidParameterError
from neurobench.core.rules import RESPONSE_KINDS, FixateThenChoose, Response, ResponseRule
from neurobench.core.task import Level
from neurobench.core.trials import TrialBatch, TrialBuilder
from neurobench.wrappers.base import TaskWrapper


@dataclass(frozen=True, eq=False)
class ReactionTime(TaskWrapper):
    """The reaction-time version of a task (Roitman & Shadlen 2002): the response window
    opens at stimulus onset and the first answer ends the trial, so the agent chooses when
    it has seen enough. With ``end_on_stimulus`` (NeuroGym's default) the trial ends with
    the stimulus; otherwise the window runs on through the periods up to the decision.

    ``urgency`` (NeuroGym's) is added to the reward of every step of the window, answered
    or not: a negative urgency is a cost of time. It changes rewards, not outcomes.

    Needs a fixate-then-choose task with ``stimulus`` and ``decision`` periods and one
    response window. Changes the rule and the trial's end; the answers, chance and
    ceiling are the inner task's (waiting to the window's end sees all the evidence).
    """

    end_on_stimulus: bool = True
    urgency: float = 0.0

    def validate(self) -> None:
        order = list(self.task.periods)
        windows = list(getattr(self.task, "response_periods", ()))
        missing = [p for p in ("stimulus", "decision") if p not in order]
        if missing or len(windows) != 1 or order.index("stimulus") > order.index("decision"):
            raise InvalidParameterError(
                f"ReactionTime needs a task with a 'stimulus' period followed by a 'decision' response "
                f"window; {self.task.name} has periods {order} and windows {windows}"
            )
        if not isinstance(self.task.rule, FixateThenChoose):
            raise InvalidParameterError(f"ReactionTime needs a fixate-then-choose task, not {self.task.name}")
        if isinstance(self.urgency, bool) or not isinstance(self.urgency, int | float) or not np.isfinite(self.urgency):
            raise InvalidParameterError(f"urgency must be a finite number, got {self.urgency!r}")

    @property
    def window(self) -> tuple[str, ...]:
        order = list(self.task.periods)
        if self.end_on_stimulus:
            return ("stimulus",)
        return tuple(order[order.index("stimulus") : order.index("decision") + 1])

    @property
    def response_periods(self) -> tuple[str | tuple[str, ...], ...]:
        return (self.window,)

    @cached_property
    def rule(self) -> ResponseRule:
        inner = self.task.rule
        assert isinstance(inner, FixateThenChoose)
        if self.urgency:
            return UrgentRule(inner.hold, (self.window,), inner.rewards, inner.abort, inner.accepts, self.urgency)
        return FixateThenChoose(inner.hold, (self.window,), inner.rewards, inner.abort, inner.accepts)

    def transform(self, batch: TrialBatch, rng: np.random.Generator) -> TrialBatch:
        rows = np.arange(batch.n)
        start, end = batch.periods["stimulus"]
        answer = batch.target[rows, batch.periods["decision"][0]]  # what the decision period asked
        target = batch.target.copy()
        obs = batch.obs
        periods = dict(batch.periods)
        length = batch.length
        t = np.arange(batch.max_length)
        if self.end_on_stimulus:
            length = end.copy()
            after = t[None, :] >= end[:, None]
            obs = np.where(after[..., None], np.float32(0), obs)
            target = np.where(after, 0, target)
            order = list(periods)
            for name in order[order.index("stimulus") + 1 :]:
                periods[name] = (end, end)
        window = (t[None, :] >= start[:, None]) & (t[None, :] < length[:, None])
        last = end if self.end_on_stimulus else periods["decision"][1]
        window &= t[None, :] < last[:, None]
        target = np.where(window, answer[:, None], target).astype(np.int32)
        reshaped = replace(batch, obs=obs, target=target, length=length, periods=periods)
        builder = TrialBuilder.around(self, reshaped)
        phase, resume = self.rule.phases(builder)
        return replace(reshaped, phase=phase, resume=resume)

    def _chance(self) -> Level:
        return self.task.chance()


class UrgentRule(FixateThenChoose):
    """Fixate-then-choose with ``urgency`` added to the reward of every window step."""

    def __init__(
        self,
        hold: Sequence[str],
        windows: Sequence[str | Sequence[str]],
        rewards: Mapping[str, float],
        abort: bool,
        accepts: np.ndarray | None,
        urgency: float,
    ) -> None:
        super().__init__(hold, windows, rewards, abort, accepts)
        self.urgency = float(urgency)

    def respond(self, phase: np.ndarray, target: np.ndarray, action: np.ndarray) -> Response:
        response = super().respond(phase, target, action)
        in_window = np.isin(np.asarray(phase) & 7, RESPONSE_KINDS)
        return response._replace(reward=response.reward + self.urgency * in_window)
