"""Reasoning: combine pieces of evidence, or infer the rule that maps evidence to action.

* ``ProbabilisticReasoning`` (Yang & Shadlen 2007): four shapes, each with a weight of
  evidence (a log10 likelihood ratio), are shown one after the other; the rewarded target
  is drawn with the probability their summed weights give. Noise-free inputs but a
  stochastic answer: the ceiling is the exact success of answering the likelier target.
* ``HierarchicalReasoning`` (Sarafyazd & Jazayeri 2019): judge whether an interval is
  short or long and answer toward or away from its flashes, by a rule that switches
  covertly between blocks of trials; the rule is reported first, and only a trial with
  both the rule and the choice right pays, so an error does not say which of the two was
  wrong. Its reference policies infer the rule from the outcomes of their own answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import numpy as np
from scipy import special

from neurobench.agents.base import Agent
from neurobench.core.channels import Channels
from neurobench.core.checks import check_int, check_values
from neurobench.core.errors import InvalidParameterError
from neurobench.core.levels import session_estimate
from neurobench.core.registry import TaskSpec
from neurobench.core.rules import LAST, FixateThenChoose, Kind, ResponseRule
from neurobench.core.task import Level, Paper, TimedTask
from neurobench.core.timing import Derived, Duration, to_steps
from neurobench.core.trials import TrialBatch, TrialBuilder

FAMILY = "reasoning"
LEVEL_SESSIONS = 1000  # seeded sessions the reference policies play to estimate chance and ceiling
_MAX_SUPPORT = 200_000  # distinct sums of shape weights enumerated exactly; beyond, Monte Carlo
_LN10 = float(np.log(10))


def _timing(task: TimedTask) -> Mapping[str, Duration]:
    """A task's timing as resolved durations (the field's type is what may be given)."""
    return task.timing  # type: ignore[return-value]


@dataclass(frozen=True, kw_only=True, eq=False)
class ProbabilisticReasoning(TimedTask):
    """The weather-prediction task of Yang & Shadlen (2007).

    ``n_loc`` shapes (drawn with replacement from ``len(shape_weight)``) appear one per
    ``stimulus{i}`` period at distinct random locations and stay on until the delay: input
    ``loc{k}`` holds the one-hot code of the shape at location ``k``. Each shape carries a
    weight of evidence ``w`` (log10 likelihood ratio; the paper's +-0.3 ... +-0.9 and, for
    its "trump" shapes of infinite weight, +-10), and the rewarded target is the second with
    probability ``p = 1 / (1 + 10^-W)``, ``W`` the summed weights. Fixation is held until
    the decision period.

    Since the answer is drawn from ``p``, no policy is right more often than ``max(p, 1 -
    p)``: the ceiling is ``E[max(p, 1 - p)]`` (exact, over the distribution of ``W``), which
    the ideal observer reaches by answering the sign of ``W``; chance is the better class
    prior ``max(E[p], 1 - E[p])`` (1/2 for symmetric weights).
    """

    shape_weight: tuple[float, ...] = (-10.0, -0.9, -0.7, -0.5, -0.3, 0.3, 0.5, 0.7, 0.9, 10.0)
    n_loc: int = 4

    @property
    def default_timing(self) -> dict[str, Any]:  # type: ignore[override]
        check_int("n_loc", self.n_loc, minimum=1)
        shapes = {f"stimulus{i}": 500 for i in range(self.n_loc)}
        return {"fixation": 500, **shapes, "delay": ("uniform", (450, 550)), "decision": 500}

    def validate(self) -> None:
        check_values("shape_weight", self.shape_weight)

    @property
    def n_shape(self) -> int:
        return len(self.shape_weight)

    @property
    def hold_periods(self) -> tuple[str, ...]:
        return tuple(p for p in self.periods if p != "decision")

    @property
    def obs_channels(self) -> Channels:
        return Channels(fixation=1, **{f"loc{k}": self.n_shape for k in range(self.n_loc)})

    @property
    def action_channels(self) -> Channels:
        return Channels(fixation=1, choice=2)

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        weight = np.asarray(self.shape_weight, dtype=float)
        locs = np.argsort(rng.random((n, self.n_loc)), axis=1)  # location of the i-th shape shown
        shapes = rng.integers(self.n_shape, size=(n, self.n_loc))
        log_odds = weight[shapes].sum(axis=1)
        p_second = special.expit(_LN10 * log_odds)
        truth = (rng.random(n) < p_second).astype(np.int64)
        trials = self.trials(rng, n)
        trials.set("fixation", 1.0, *self.hold_periods)
        rows, eye = np.arange(n), np.eye(self.n_shape)
        shown_at = np.argsort(locs, axis=1)  # which shape (its order) sits at location k
        for k in range(self.n_loc):
            code = eye[shapes[rows, shown_at[:, k]]]
            for i in range(self.n_loc):
                trials.set(f"loc{k}", code * (shown_at[:, k] <= i)[:, None], f"stimulus{i}")
        trials.answer(truth + 1, "decision")
        return trials.build(
            ground_truth=truth, answer=truth + 1, log_odds=log_odds, p_second=p_second, shapes=shapes, locs=locs
        )

    def _log_odds_law(self) -> tuple[np.ndarray, np.ndarray] | None:
        """The distinct values of the summed weights and their probabilities (None if too many)."""
        weight = np.asarray(self.shape_weight, dtype=float)
        values: np.ndarray = np.zeros(1)
        probs: np.ndarray = np.ones(1)
        for _ in range(self.n_loc):
            if len(values) * len(weight) > _MAX_SUPPORT:
                return None
            values, inverse = np.unique(np.round((values[:, None] + weight).ravel(), 9), return_inverse=True)
            probs = np.bincount(inverse, np.repeat(probs / len(weight), len(weight)))
        return values, probs

    def _levels(self) -> tuple[float, float, str, float]:
        """(chance, ceiling, method, standard error)."""
        law = self._log_odds_law()
        if law is not None:
            values, probs = law
            p = special.expit(_LN10 * values)
            prior = float(probs @ p)
            return max(prior, 1 - prior), float(probs @ np.maximum(p, 1 - p)), "exact", 0.0
        rng, draws = np.random.default_rng(0), 200_000
        weight = np.asarray(self.shape_weight, dtype=float)
        p = special.expit(_LN10 * weight[rng.integers(self.n_shape, size=(draws, self.n_loc))].sum(axis=1))
        prior, best = float(p.mean()), np.maximum(p, 1 - p)
        return max(prior, 1 - prior), float(best.mean()), "estimate", float(best.std(ddof=1) / np.sqrt(draws))

    def _chance(self) -> Level:
        value, _, kind, se = self._levels()
        return Level(value, f"{kind}: the likelier target a priori (the class prior E[p])", kind, se)

    def _ceiling(self) -> Level:
        _, value, kind, se = self._levels()
        return Level(value, f"{kind}: E[max(p, 1 - p)], answering the sign of the summed weights", kind, se)

    def ideal_observer(self) -> Agent:
        return ShapeReader(self)


class ShapeReader(Agent):
    """ProbabilisticReasoning's ideal observer: remembers the last display of shapes and,
    as the decision closes, answers the target the sign of their summed weights favours."""

    name: ClassVar[str] = "shape_reader"

    def __init__(self, task: ProbabilisticReasoning) -> None:
        self.n_loc, self.n_shape = task.n_loc, task.n_shape
        self.weight = np.asarray(task.shape_weight, dtype=float)
        self.shapes = slice(task.obs_channels["loc0"].start, task.obs_channels.size)

    def initial_state(self, num_envs: int, *, seed: int) -> np.ndarray:
        return np.zeros((num_envs, self.n_loc * self.n_shape))

    def act(self, obs: np.ndarray, state: np.ndarray, info: Mapping[str, np.ndarray]) -> tuple[np.ndarray, Any]:
        display = obs[:, self.shapes]
        state = np.where(np.asarray(info["new_trial"])[:, None], 0.0, state)
        showing = np.asarray((display > 0.5).any(axis=1))
        state = np.where(showing[:, None], display, state)
        codes = state.reshape(len(obs), self.n_loc, self.n_shape)
        present = codes.max(axis=2) > 0.5
        log_odds = np.where(present, self.weight[codes.argmax(axis=2)], 0.0).sum(axis=1)
        action = np.where(log_odds > 0, 2, 1)
        return np.where(np.asarray(info["window"]) == 2, action, 0), state


# -- hierarchical reasoning --------------------------------------------------------------------
BLOCK = (10, 20)  # trials per block of one rule, uniform (NeuroGym)
_AFTER_RULE = ("fixation2", "flash1", "delay", "flash2", "decision")
VOID = tuple(f"void_{p}" for p in _AFTER_RULE)  # the trial after a wrong rule report


@dataclass(frozen=True, kw_only=True, eq=False)
class HierarchicalReasoning(TimedTask):
    """Interval judgement under covertly switching rules (Sarafyazd & Jazayeri 2019).

    After fixation both rule targets appear (``rule`` inputs) and the agent reports the rule
    it believes in force (action ``rule`` 0 or 1), then fixates again. Two flashes at one
    location (``stimulus`` input 0 or 1) enclose a ``delay`` of 530-1170 ms; in the
    decision period the agent goes to the flashes' location (``choice``) or away from it.
    Under rule 1 a long interval (longer than the median delay, 850 ms; the median itself
    a coin flip) calls for going toward the flashes and a short one away; rule 0 is the
    reverse. Rules alternate in blocks of 10-20 trials, unannounced. A trial is correct,
    and pays, only if the rule report and the choice are both right; the rule report pays
    nothing by itself, so an error is ambiguous, as in the paper.

    Layout: what follows a wrong (or missing) rule report is a copy of the rest of the trial
    (periods ``void_*``, laid out after the decision) whose observations are the same but
    whose decision pays ``fail`` for every answer; the report jumps to the copy it earns.

    Levels (sessions of ``session_trials`` trials, as evaluation runs them): the reference
    policies track the posterior over (rule, position in the block) given whether each
    trial was right, report the likelier rule and choose by it. The ideal observer judges
    the interval by the steps it saw (P(long | steps) from the delay distribution) and
    weighs an error by its confidence in that judgement; the blind policy always goes to
    the same side (right half the time). Both are estimated on ``LEVEL_SESSIONS`` seeded
    sessions.
    """

    default_timing: ClassVar = {
        "fixation": ("truncated_exponential", (600, 400, 800)),
        "rule_target": 1000,
        "fixation2": ("truncated_exponential", (600, 400, 900)),
        "flash1": 100,
        "delay": (530, 610, 690, 770, 850, 930, 1010, 1090, 1170),
        "flash2": 100,
        "decision": 700,
    }

    session_trials: int = 500

    def validate(self) -> None:
        check_int("session_trials", self.session_trials, minimum=1)
        for period in ("flash1", "delay", "flash2"):
            shortest = _timing(self)[period].bounds[0]
            if shortest < self.dt:
                raise InvalidParameterError(
                    f"timing of {self.name}: {period} can last {shortest:g} ms, less than one step of dt = "
                    f"{self.dt:g} ms, so the two flashes could not be told apart; use dt <= {shortest:g}"
                )

    def _resolve_timing(self, given: Mapping[str, Any] | None) -> dict[str, Duration]:
        resolved = super()._resolve_timing(given)
        for period, void in zip(_AFTER_RULE, VOID, strict=True):
            resolved[void] = Derived((period,)).resolved([resolved[period]])
        return resolved

    def params(self) -> dict[str, Any]:
        out = super().params()
        out["timing"] = {k: v for k, v in out["timing"].items() if k not in VOID}
        return out

    @property
    def sequential(self) -> bool:
        return True  # the rule's blocks run across trials within a session

    @property
    def hold_periods(self) -> tuple[str, ...]:
        return ("fixation", "fixation2", "flash1", "delay", "flash2", *VOID[:-1])

    @property
    def response_periods(self) -> tuple[str, ...]:
        return ("rule_target", "decision")

    @property
    def obs_channels(self) -> Channels:
        return Channels(fixation=1, rule=2, stimulus=2)

    @property
    def action_channels(self) -> Channels:
        return Channels(fixation=1, rule=2, choice=2)

    @cached_property
    def rule(self) -> ResponseRule:
        return RuleThenChoice(self.hold_periods, self.rewards, self.abort)  # type: ignore[arg-type]

    @cached_property
    def mean_steps(self) -> float:
        timing = _timing(self)
        return sum(timing[p].mean for p in self.default_timing) / self.dt

    def payoff_range(self) -> tuple[float, float]:
        r = self.rewards
        return min(0.0, r["fail"], r["correct"]), max(0.0, r["fail"], r["correct"])  # type: ignore[index]

    @cached_property
    def threshold(self) -> float:
        """The boundary between short and long intervals: the median delay (850 ms)."""
        return float(np.median(_timing(self)["delay"].representative()))

    @cached_property
    def long_given_steps(self) -> np.ndarray:
        """P(long | the delay lasted ``s`` steps), indexed by ``s`` (a tie counts one half)."""
        delays = _timing(self)["delay"].representative()
        steps = to_steps(delays, self.dt)
        long = (delays > self.threshold) + 0.5 * (delays == self.threshold)
        total = np.bincount(steps, minlength=steps.max() + 1)
        return np.bincount(steps, long, minlength=steps.max() + 1) / np.maximum(total, 1)

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        return self.sample_sessions(rng, 1, n, None)[0]

    def sample_sessions(self, rng: np.random.Generator, sessions: int, m: int, carry: Any) -> tuple[TrialBatch, Any]:
        rules, position, carry = _blocks(rng, sessions, m, carry)
        n = sessions * m
        rules, position = rules.ravel(), position.ravel()
        flashes = rng.integers(2, size=n)
        interval = _timing(self)["delay"].sample(rng, n)
        long = (interval > self.threshold) | ((interval == self.threshold) & (rng.random(n) < 0.5))
        toward = long == (rules == 1)
        choice = np.where(toward, flashes, 1 - flashes)
        trials = self.trials(rng, n, {"delay": to_steps(interval, self.dt)})
        trials.set("fixation", 1.0, "fixation", "rule_target", *_AFTER_RULE[:-1], *VOID[:-1])
        trials.set("rule", 1.0, "rule_target")
        trials.set("stimulus", np.eye(2)[flashes], "flash1", "flash2", "void_flash1", "void_flash2")
        trials.answer(1 + rules, "rule_target")
        trials.answer(3 + choice, "decision", "void_decision")
        _pay_decisions(self, trials, choice)
        batch = trials.build(
            ground_truth=choice,
            answer=3 + choice,
            rule=rules,
            stimulus=flashes,
            interval=interval,
            long_interval=long,
            pro_choice=toward,
            trial_in_block=position,
        )
        return batch, carry

    def blind_policy(self) -> Agent:
        return RuleTracker(self, use_stimulus=False)

    def ideal_observer(self) -> Agent:
        return RuleTracker(self, use_stimulus=True)

    def _chance(self) -> Level:
        return self._played(use_stimulus=False)

    def _ceiling(self) -> Level:
        return self._played(use_stimulus=True)

    def _played(self, use_stimulus: bool) -> Level:
        """The reference policy on seeded sessions of the task's generative process (the
        interval's steps and the choice's correctness drawn directly)."""
        rng = np.random.default_rng(0)
        sessions, m = LEVEL_SESSIONS, self.session_trials
        rules, _, _ = _blocks(rng, sessions, m, None)
        if use_stimulus:
            interval = _timing(self)["delay"].sample(rng, sessions * m).reshape(sessions, m)
            long = (interval > self.threshold) | ((interval == self.threshold) & (rng.random((sessions, m)) < 0.5))
            p_long = self.long_given_steps[to_steps(interval, self.dt)]
            judged_right, confidence = (p_long > 0.5) == long, np.maximum(p_long, 1 - p_long)
        else:
            judged_right, confidence = rng.random((sessions, m)) < 0.5, np.full((sessions, m), 0.5)
        belief = RuleBelief(sessions)
        correct = np.zeros((sessions, m))
        for j in range(m):  # trials of a session in order, all sessions at once
            reported = belief.likelier()
            right = (reported == rules[:, j]) & judged_right[:, j]
            correct[:, j] = right
            belief.learn(np.arange(sessions), reported, right, confidence[:, j])
        per_session = correct.mean(axis=1)
        who = "the interval judged from its steps" if use_stimulus else "a fixed side (blind to the flashes)"
        return session_estimate(
            per_session,
            f"estimate: the Bayes tracker of the rule and its block from its trials' outcomes, with {who}, on "
            f"{sessions} seeded sessions of {m} trials",
        )


def _blocks(rng: np.random.Generator, sessions: int, m: int, carry: Any) -> tuple[np.ndarray, np.ndarray, Any]:
    """Rules ``[sessions, m]`` of the next ``m`` trials of each session, in blocks of
    ``BLOCK`` trials that alternate the rule, each trial's position in its block, and the
    carry (rule of the current block, trials left in it, trials done in it). A session
    starts a block of a random rule."""
    low, high = BLOCK
    if carry is None:
        rule, left, done = (
            rng.integers(2, size=sessions),
            rng.integers(low, high + 1, size=sessions),
            np.zeros(sessions),
        )
    else:
        rule, left, done = carry
    sizes = rng.integers(low, high + 1, size=(sessions, m // low + 2))
    ends = left[:, None] + np.concatenate([np.zeros((sessions, 1)), np.cumsum(sizes, axis=1)], axis=1)
    starts = np.concatenate([-np.asarray(done, dtype=float)[:, None], ends[:, :-1]], axis=1)
    trial = np.arange(m)
    block = (trial[None, :, None] >= ends[:, None, :]).sum(axis=2)  # 0: the block under way
    rows = np.arange(sessions)[:, None]
    rules = rule[:, None] ^ (block % 2)
    position = (trial[None, :] - starts[rows, block]).astype(np.int64)
    last = block[:, -1]
    every = np.arange(sessions)
    after = (rules[:, -1], (ends[every, last] - m).astype(np.int64), (m - starts[every, last]).astype(np.int64))
    return rules, position, after


def _pay_decisions(task: HierarchicalReasoning, trials: TrialBuilder, choice: np.ndarray) -> None:
    """Payoffs: a rule report pays nothing; the decision pays ``correct`` for the right
    choice and ``fail`` for any other answer; after a wrong report every answer fails."""
    r = task.rewards
    payoff = trials.payoffs()
    for action in range(1, task.n_actions):
        right = choice + 3 == action
        trials.paint(payoff[..., action], np.where(right, r["correct"], r["fail"]), "decision")  # type: ignore[index]
        trials.paint(payoff[..., action], r["fail"], "void_decision")  # type: ignore[index]


class RuleThenChoice(FixateThenChoose):
    """HierarchicalReasoning's rule: fixate-then-choose with two windows, the rule report
    (``rule_target``) and the choice (``decision``). The report jumps to the rest of the
    trial if it names the rule and to its void copy otherwise (no report at all: the copy
    too), whose decision fails every answer (phase ``GO_NONE``)."""

    def __init__(self, hold: tuple[str, ...], rewards: Mapping[str, float], abort: bool = False) -> None:
        super().__init__(hold, ("rule_target", "decision"), rewards, abort)

    def phases(self, trials: TrialBuilder) -> tuple[np.ndarray, np.ndarray | None]:
        phase, _ = super().phases(trials)
        rows = np.arange(trials.n)
        trials.paint(phase, np.int8(Kind.GO_NONE), "void_decision")
        start, end = trials.periods["void_decision"]
        nonempty = end > start
        phase[rows[nonempty], end[nonempty] - 1] |= LAST
        reported = trials.target[rows, trials.periods["rule_target"][0]]
        rest, void = trials.periods["fixation2"][0], trials.periods["void_fixation2"][0]
        resume = np.empty((trials.n, trials.max_length, trials.task.n_actions), dtype=np.int32)
        for action in range(trials.task.n_actions):
            resume[:, :, action] = np.where(reported == action, rest, void)[:, None]
        return phase, resume


class RuleBelief:
    """The posterior over (rule, position of the coming trial in its block) of ``n``
    sessions, for the rule's blocks of ``BLOCK`` trials; it learns from whether a trial
    answered under a reported rule was right: right proves the rule, an error has
    likelihood ``1 - confidence`` under the reported rule and 1 under the other."""

    def __init__(self, n: int) -> None:
        low, high = BLOCK
        k = np.arange(1, high + 1)
        survive = np.where(k < low, 1.0, (high - k + 1) / (high - low + 1))  # P(block >= k)
        self.hazard = np.where(k < low, 0.0, 1 / (high - low + 1)) / survive  # P(block = k | >= k)
        self.p = np.zeros((n, 2, high))
        self.p[:, :, 0] = 0.5  # a session starts a block of either rule

    def likelier(self) -> np.ndarray:
        rule1 = self.p[:, 1].sum(axis=1)
        return (rule1 > 0.5).astype(np.int64)

    def learn(self, rows: np.ndarray, reported: np.ndarray, right: np.ndarray, confidence: np.ndarray) -> None:
        p = self.p[rows]
        is_reported = np.arange(2)[None, :] == reported[:, None]
        likelihood = np.where(
            is_reported, np.where(right, confidence, 1 - confidence)[:, None], np.where(right, 0.0, 1.0)[:, None]
        )
        prior, p = p, p * likelihood[:, :, None]
        total = p.sum(axis=(1, 2), keepdims=True)
        p = np.where(total > 0, p / np.maximum(total, 1e-300), prior)  # evidence the model rules out: ignored
        following = np.zeros_like(p)
        following[:, :, 1:] = p[:, :, :-1] * (1 - self.hazard[:-1])
        following[:, :, 0] = (p * self.hazard).sum(axis=2)[:, ::-1]  # a block ends: the other rule begins
        self.p[rows] = following


class RuleTracker(Agent):
    """HierarchicalReasoning's reference policies (see the task's docstring): report the
    likelier rule as the first window closes, then, as the decision closes, go toward or
    away from the flashes by that rule and the interval (its steps counted between the
    flashes), or always to the first side when blind; learn from whether the trial was
    right (both answers equal to their targets: the feedback)."""

    name: ClassVar[str] = "rule_tracker"

    def __init__(self, task: HierarchicalReasoning, use_stimulus: bool) -> None:
        self.use_stimulus = use_stimulus
        self.long = task.long_given_steps
        self.stimulus = task.obs_channels["stimulus"]

    def initial_state(self, num_envs: int, *, seed: int) -> dict[str, Any]:
        zeros = np.zeros(num_envs, dtype=np.int64)
        return {
            "belief": RuleBelief(num_envs),
            "reported": np.full(num_envs, -1),
            "right": np.ones(num_envs, dtype=bool),
            "confidence": np.full(num_envs, 0.5),
            "windows": zeros.copy(),
            "in_window": np.zeros(num_envs, dtype=bool),
            "flashes": zeros.copy(),
            "lit": np.zeros(num_envs, dtype=bool),
            "gap": zeros.copy(),
            "where": zeros.copy(),
        }

    def act(self, obs: np.ndarray, state: dict[str, Any], info: Mapping[str, np.ndarray]) -> tuple[np.ndarray, Any]:
        s = state
        new = np.asarray(info["new_trial"])
        learned = np.flatnonzero(new & (s["reported"] >= 0))
        if len(learned):
            s["belief"].learn(learned, s["reported"][learned], s["right"][learned], s["confidence"][learned])
        for key, fresh in (("reported", -1), ("right", True), ("windows", 0), ("flashes", 0), ("gap", 0)):
            s[key] = np.where(new, fresh, s[key])
        s["in_window"] &= ~new
        s["lit"] &= ~new
        shown = obs[:, self.stimulus]
        lit = shown.max(axis=1) > 0.5
        onset = lit & ~s["lit"]
        s["flashes"] = s["flashes"] + onset
        s["where"] = np.where(onset & (s["flashes"] == 1), shown.argmax(axis=1), s["where"])
        s["gap"] = s["gap"] + (~lit & (s["flashes"] == 1))
        s["lit"] = lit
        window = np.asarray(info["window"])
        s["windows"] = s["windows"] + ((window > 0) & ~s["in_window"])
        s["in_window"] = window > 0
        closing = window == 2
        reporting, deciding = closing & (s["windows"] == 1), closing & (s["windows"] == 2)
        rule = np.where(s["reported"] >= 0, s["reported"], s["belief"].likelier())
        if self.use_stimulus:
            p_long = self.long[np.minimum(s["gap"], len(self.long) - 1)]
            toward = (p_long > 0.5) == (rule == 1)
            side, confidence = np.where(toward, s["where"], 1 - s["where"]), np.maximum(p_long, 1 - p_long)
        else:
            side, confidence = np.zeros(len(obs), dtype=np.int64), np.full(len(obs), 0.5)
        action = np.where(reporting, 1 + rule, np.where(deciding, 3 + side, 0))
        hit = action == np.asarray(info["target"])  # the outcome of this answer, learned after the trial
        s["right"] = np.where(closing, s["right"] & hit, s["right"])
        s["reported"] = np.where(reporting, rule, s["reported"])
        s["confidence"] = np.where(deciding, confidence, s["confidence"])
        return action, s


_HIERARCHY = Paper(
    "Sarafyazd & Jazayeri (2019)",
    "Hierarchical reasoning by neural circuits in the frontal cortex",
    "https://www.science.org/doi/10.1126/science.aav8911",
)

SPECS = [
    TaskSpec(
        "ProbabilisticReasoning",
        0,
        ProbabilisticReasoning,
        {},
        FAMILY,
        ("perceptual", "two-alternative", "supervised"),
        Paper(
            "Yang & Shadlen (2007)", "Probabilistic reasoning by neurons", "https://www.nature.com/articles/nature05852"
        ),
    ),
    TaskSpec(
        "HierarchicalReasoning",
        0,
        HierarchicalReasoning,
        {},
        FAMILY,
        ("perceptual", "two-alternative", "supervised", "context dependent"),
        _HIERARCHY,
        deviations=(
            "Short and long are split at the median delay (850 ms, the paper's boundary; a delay at it is a coin "
            "flip); NeuroGym takes the median of the second delay value alone (610 ms), so 6 of its 9 delays count "
            "as long.",
            "The interval judged is the delay shown; NeuroGym draws the judged interval apart from the delay "
            "period's duration, so its answer does not follow from what the agent sees.",
            "Each session starts with a block of a random rule (NeuroGym's first block always has rule 1, which a "
            "blind policy would exploit).",
            "The rule is reported by the first non-fixation action in rule_target (a saccade to a rule target); "
            "NeuroGym reads the action at every step of it, the last one counting.",
        ),
    ),
]
