"""Value-based decisions: choose by what the options are worth.

* ``Bandit`` and ``DawTwoStep``: rewards are stochastic and come from hidden state that
  changes across a session (arm probabilities, which second-stage state pays well).
* ``EconomicDecisionMaking``: two offers of juice, each shown as a kind and an amount; the
  reward is the value of the juice chosen.
* ``PostDecisionWager``: a motion discrimination with, on half of the trials, a sure
  target that pays less but for certain: the wager reads the agent's confidence.
* ``ChangingEnvironment``: a motion discrimination answered in one of two contexts (pairs
  of targets); which context pays switches covertly across trials.

Tasks with hidden state that persists across trials run sessions (every environment and
Dataset row its own), and their observations hold no reward feedback, as in NeuroGym:
give it to an agent with ``PassReward`` / ``PassAction``. Their reference agents (the blind
policy and the ideal observer) learn only from whether each of their own answers was
right: the feedback the animals got.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
from scipy import special, stats

from neurobench.agents.base import Agent
from neurobench.core.channels import Channels
from neurobench.core.checks import check_int, check_number, check_values
from neurobench.core.errors import InvalidParameterError
from neurobench.core.levels import session_estimate
from neurobench.core.registry import TaskSpec
from neurobench.core.rules import AnyChoice, Branching, FixateThenChoose, ResponseRule
from neurobench.core.task import Level, Paper, TimedTask
from neurobench.core.timing import Duration
from neurobench.core.trials import TrialBatch

_BOUND = "bound: always choosing the better option (what the oracle, who knows it, does)"


def resolved_timing(task: TimedTask) -> Mapping[str, Duration]:
    """A task's timing as resolved durations (the field's type is what may be given)."""
    return task.timing  # type: ignore[return-value]


LEVEL_SESSIONS = 1000  # seeded sessions the reference policies play to estimate chance and ceiling


@dataclass(frozen=True, kw_only=True, eq=False)
class Bandit(TimedTask):
    """A multi-armed bandit (Wang et al. 2018): each trial is one choice among ``n`` arms;
    arm ``i`` pays ``magnitudes[i]`` with probability ``p[i]``.

    With ``p`` given the probabilities are fixed, as in NeuroGym (whose default, 50/50,
    leaves nothing to learn). By default they are drawn for every block of
    ``block_length`` trials of a session, as in the paper's episodes: uniformly, and for
    two ``correlated`` arms ``p2 = 1 - p1``. A trial is correct when the chosen arm is the
    more probable one; the reward is drawn with the trial.

    The observation shows no outcome, so only a policy that sees the rewards can find the
    better arm: train and score ``Feedback(Bandit)`` (the previous reward and action as
    inputs, as Wang et al. feed their networks), whose ideal observer and exact ceiling are
    :class:`ArmTracker` and :meth:`feedback_ceiling`. Bare, its ideal observer is blind.
    """

    default_timing: ClassVar = {"choice": 100}
    default_rewards: ClassVar = {"correct": 1.0, "fail": 0.0}

    n: int = 2
    p: tuple[float, ...] | None = None
    magnitudes: tuple[float, ...] | None = None
    block_length: int = 100
    correlated: bool = True

    def validate(self) -> None:
        check_int("n", self.n, minimum=2)
        check_int("block_length", self.block_length, minimum=1)
        for name, values in (("p", self.p), ("magnitudes", self.magnitudes)):
            if values is not None and (len(values) != self.n or not all(isinstance(v, int | float) for v in values)):
                raise InvalidParameterError(f"{name} must be {self.n} numbers (one per arm) or null, got {values!r}")
        if self.p is not None and not all(0 <= v <= 1 for v in self.p):
            raise InvalidParameterError(f"p must be probabilities, got {self.p!r}")

    @property
    def sequential(self) -> bool:
        return self.p is None  # blocks of drawn probabilities belong to a session

    @property
    def hold_periods(self) -> tuple[str, ...]:
        return ()

    @property
    def response_periods(self) -> tuple[str, ...]:
        return ("choice",)

    @property
    def obs_channels(self) -> Channels:
        return Channels(cue=1)

    @property
    def action_channels(self) -> Channels:
        return Channels(**{f"arm{i}": 1 for i in range(self.n)})

    @cached_property
    def observation_space(self) -> gym.spaces.Box:
        return gym.spaces.Box(0.0, 1.0, shape=(1,), dtype=np.float32)

    @cached_property
    def rule(self) -> ResponseRule:
        return AnyChoice(self.rewards)  # type: ignore[arg-type]

    @property
    def answers(self) -> tuple[int, ...]:
        return tuple(range(self.n))

    def payoff_range(self) -> tuple[float, float]:
        return 0.0, float(max(self._magnitudes))

    @property
    def _magnitudes(self) -> np.ndarray:
        return np.ones(self.n) if self.magnitudes is None else np.asarray(self.magnitudes, dtype=float)

    def _draw_p(self, rng: np.random.Generator, size: tuple[int, ...]) -> np.ndarray:
        if self.correlated and self.n == 2:
            first = rng.random(size)
            return np.stack([first, 1 - first], axis=-1)
        return rng.random((*size, self.n))

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        if self.p is None:
            return self.sample_sessions(rng, 1, n, None)[0]
        return self._trials(rng, np.broadcast_to(np.asarray(self.p, dtype=float), (n, self.n)))

    def sample_sessions(self, rng: np.random.Generator, sessions: int, m: int, carry: Any) -> tuple[TrialBatch, Any]:
        position, current, current_block = carry if carry is not None else (0, None, -1)
        block = (position + np.arange(m)) // self.block_length
        fresh = [b for b in np.unique(block).tolist() if b != current_block]
        drawn = self._draw_p(rng, (sessions, len(fresh)))  # [sessions, new blocks, n]
        ids = np.asarray(([current_block] if current is not None else []) + fresh)
        table = drawn if current is None else np.concatenate([current[:, None], drawn], axis=1)
        p = table[:, np.searchsorted(ids, block)].reshape(sessions * m, self.n)
        return self._trials(rng, p), (position + m, table[:, -1], int(ids[-1]))

    def _trials(self, rng: np.random.Generator, p: np.ndarray) -> TrialBatch:
        n = len(p)
        best = np.argmax(p, axis=1)
        trials = self.trials(rng, n)
        trials.set("cue", 0.0)
        trials.answer(best, "choice")
        paid = rng.random((n, self.n)) < p
        trials.payoffs()[:, 0, :] = paid * self._magnitudes
        return trials.build(answer=best, p=p, paid=paid.astype(np.int8))

    def ideal_observer(self) -> Agent:
        """Blind: nothing in the observations tells the better arm, only the outcomes do
        (``Feedback(Bandit)``, whose observer is :meth:`feedback_observer`)."""
        return self.blind_policy()

    def feedback_observer(self, channels: Channels) -> Agent:
        return ArmTracker(self, channels) if "reward" in channels else self.blind_policy()

    def feedback_ceiling(self, session_trials: int) -> Level:
        """Ceiling with the outcomes shown, in sessions of ``session_trials`` trials. With
        two correlated arms and drawn probabilities it is exact: no choice buys information,
        so the best policy answers the likelier better arm, and after ``t`` outcomes of a
        block ``k`` of which favour arm 1 (each ``k`` equally likely under the uniform
        prior) it is right with probability ``max(q, 1 - q)``, ``q = P(p1 < 1/2 | k, t)``."""
        if not (self.correlated and self.n == 2 and self.p is None):
            return self.ceiling()
        seen = np.arange(session_trials) % self.block_length  # outcomes of the block before each trial
        by_count = {}
        for t in np.unique(seen).tolist():
            k = np.arange(t + 1)
            q = special.betainc(1 + k, 1 + t - k, 0.5)  # P(p1 < 1/2): the answer is right with max(q, 1 - q)
            by_count[t] = float(np.maximum(q, 1 - q).mean())
        return Level(
            float(np.mean([by_count[t] for t in seen.tolist()])),
            f"exact: the likelier better arm from the Beta posterior of each block's outcomes (Bayes-optimal: "
            f"with correlated arms no choice buys information), in sessions of {session_trials} trials",
        )

    def _chance(self) -> Level:
        if self.p is not None:
            return Level(1.0, "exact: with fixed probabilities, always picking the best arm needs no feedback")
        return Level(1 / self.n, "exact: the arms' probabilities are drawn alike, so no arm is more often the best")

    def _ceiling(self) -> Level:
        return Level(1.0, _BOUND, "bound")


@dataclass(frozen=True, kw_only=True, eq=False)
class DawTwoStep(TimedTask):
    """The two-step task (Daw et al. 2011) as NeuroGym has it: a first-stage choice
    (action 1 or 2) leads to second-stage state 1 or 2, commonly (``p_common``) the state
    of the same number; the state is shown on the next step, and the reward it brings is
    paid with the choice. One state pays with probability ``high_reward_p``, the other
    with ``low_reward_p``, and which is which switches with probability ``p_switch`` per
    trial. A first-stage choice is correct when its common transition leads to the
    better state. Fixating at the choice costs 0.1 (a miss); not fixating at the second
    stage costs 0.1.

    The trial lays out both second stages (``outcome1`` after action 1, ``outcome2`` after
    action 2) and visits the one chosen. Each session starts with a random better state
    (NeuroGym always starts with state 1, which a blind "always 1" would exploit).

    The rewards are not observed, so only ``Feedback(DawTwoStep)`` (the previous reward and
    action as inputs) can be learned; its ideal observer is the Bayes filter
    :class:`StateTracker`. Bare, the ideal observer is blind.
    """

    default_timing: ClassVar = {"choice": 100, "outcome1": 100, "outcome2": 100}
    default_rewards: ClassVar = {"abort": -0.1, "correct": 1.0, "fail": 0.0, "miss": -0.1}

    p_common: float = 0.8
    p_switch: float = 0.025
    high_reward_p: float = 0.9
    low_reward_p: float = 0.1

    def validate(self) -> None:
        for name in ("p_common", "p_switch", "high_reward_p", "low_reward_p"):
            check_number(name, getattr(self, name), minimum=0)
            if getattr(self, name) > 1:
                raise InvalidParameterError(f"{name} must be a probability, got {getattr(self, name)!r}")
        if self.p_common < 0.5:
            raise InvalidParameterError(
                f"p_common must be >= 0.5 (common transitions are the likelier), got {self.p_common}"
            )

    @property
    def sequential(self) -> bool:
        return True

    @property
    def obs_channels(self) -> Channels:
        return Channels(start=1, state1=1, state2=1)

    @property
    def action_channels(self) -> Channels:
        return Channels(fixation=1, action1=1, action2=1)

    @property
    def hold_periods(self) -> tuple[str, ...]:
        return ("outcome1", "outcome2")

    @property
    def response_periods(self) -> tuple[str, ...]:
        return ("choice",)

    @cached_property
    def rule(self) -> ResponseRule:
        return Branching("choice", {1: "outcome1", 2: "outcome2"}, self.rewards, self.abort)  # type: ignore[arg-type]

    @cached_property
    def mean_steps(self) -> float:
        return (resolved_timing(self)["choice"].mean + resolved_timing(self)["outcome1"].mean) / self.dt

    def payoff_range(self) -> tuple[float, float]:
        return min(0.0, self.rewards["correct"]), max(0.0, self.rewards["correct"])  # type: ignore[index]

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        return self.sample_sessions(rng, 1, n, None)[0]

    def sample_sessions(self, rng: np.random.Generator, sessions: int, m: int, carry: Any) -> tuple[TrialBatch, Any]:
        first = rng.integers(2, size=sessions).astype(bool) if carry is None else carry
        switched = np.cumsum(rng.random((sessions, m)) < self.p_switch, axis=1) % 2 == 1
        state1_high = (first[:, None] ^ switched).ravel()
        n = sessions * m
        common = rng.random((n, 2)) < self.p_common
        reached = np.stack(
            [np.where(common[:, 0], 1, 2), np.where(common[:, 1], 2, 1)], axis=1
        )  # state after actions 1, 2
        high = np.where(state1_high, 1, 2)
        p_paid = np.where(reached == high[:, None], self.high_reward_p, self.low_reward_p)
        paid = rng.random((n, 2)) < p_paid
        trials = self.trials(rng, n)
        trials.set("start", 1.0, "choice")
        for k, period in enumerate(("outcome1", "outcome2")):
            trials.set("state1", reached[:, k] == 1, period)
            trials.set("state2", reached[:, k] == 2, period)
        trials.answer(high, "choice")
        trials.payoffs()[:, 0, 1:] = paid * self.rewards["correct"]  # type: ignore[index]
        batch = trials.build(
            ground_truth=high,
            answer=high,
            state_after1=reached[:, 0],
            state_after2=reached[:, 1],
            paid1=paid[:, 0],
            paid2=paid[:, 1],
        )
        return batch, (state1_high.reshape(sessions, m)[:, -1])

    def ideal_observer(self) -> Agent:
        """Blind: the states shown do not tell which pays more, only the rewards do
        (``Feedback(DawTwoStep)``, whose observer is :meth:`feedback_observer`)."""
        return self.blind_policy()

    def feedback_observer(self, channels: Channels) -> Agent:
        return StateTracker(self, channels) if "reward" in channels else self.blind_policy()

    def feedback_ceiling(self, session_trials: int) -> Level:
        """Ceiling with the rewards shown, in sessions of ``session_trials`` trials: the
        :class:`StateTracker` (the Bayes filter of the better state, choosing the likelier)
        played on ``LEVEL_SESSIONS`` sessions drawn from the task's generative process.
        When ``high_reward_p = 1 - low_reward_p`` a reward tells as much in either state,
        so no choice buys information and the filter's choice is the best there is."""
        rng = np.random.default_rng(0)
        sessions, m = LEVEL_SESSIONS, session_trials
        state1_high = (
            rng.integers(2, size=(sessions, 1)) + np.cumsum(rng.random((sessions, m)) < self.p_switch, 1)
        ) % 2 == 0
        belief = np.full(sessions, 0.5)
        correct = np.zeros((sessions, m))
        for j in range(m):  # trials of a session in order, all sessions at once
            belief = belief * (1 - self.p_switch) + (1 - belief) * self.p_switch
            choice1 = belief >= 0.5
            correct[:, j] = choice1 == state1_high[:, j]
            reached1 = np.where(rng.random(sessions) < self.p_common, choice1, ~choice1)
            better = reached1 == state1_high[:, j]
            paid = rng.random(sessions) < np.where(better, self.high_reward_p, self.low_reward_p)
            belief = state_belief(belief, reached1, paid, self.high_reward_p, self.low_reward_p)
        per_session = correct.mean(axis=1)
        return session_estimate(
            per_session,
            f"estimate: the Bayes filter of the better state from the second stages' rewards, on {sessions} "
            f"seeded sessions of {m} trials",
        )

    def _chance(self) -> Level:
        return Level(0.5, "exact: each session starts with a random better state and switches symmetrically")

    def _ceiling(self) -> Level:
        return Level(1.0, _BOUND, "bound")


#: Offers of Padoa-Schioppa & Assad (2006), as (drops of juice B, drops of juice A).
PADOA_SCHIOPPA_OFFERS = ((0, 1), (1, 3), (1, 2), (1, 1), (2, 1), (3, 1), (4, 1), (6, 1), (2, 0))


@dataclass(frozen=True, kw_only=True, eq=False)
class EconomicDecisionMaking(TimedTask):
    """Choose between two offers of juice (Padoa-Schioppa & Assad 2006).

    Each trial offers ``n_b`` drops of juice B against ``n_a`` drops of juice A (one of
    the paper's ``offers``), on two sides in random order. During ``offer_on`` each side
    shows its juice kind (``a1``/``b1``, ``a2``/``b2``, one-hot) and its amount (``n1``,
    ``n2``: drops / 5); fixation is held until the decision period, where ``choice1`` or
    ``choice2`` takes that offer. A drop of A is worth ``rewards["correct"]`` (0.22, as in
    NeuroGym) and a drop of B ``b_to_a`` of that (1 / 2.2: the monkeys' indifference point
    of 1A = 2.2B), and the reward is the value of the offer chosen.

    Success is choosing the offer of higher value, which is also what maximizes the reward,
    so score and reward agree; when both offers are worth the same either counts. The side
    of the better offer is a fair coin (the juices' order is), so a blind policy succeeds
    (1 + P(tie)) / 2 of the time: exactly 1/2 with the paper's offers, which have no ties.
    The offers are shown without noise, so the ceiling is 1 (the oracle).
    """

    default_timing: ClassVar = {"fixation": 1500, "offer_on": ("uniform", (1000, 2000)), "decision": 750}
    default_rewards: ClassVar = {"abort": -0.1, "correct": 0.22}

    b_to_a: float = 1 / 2.2
    offers: tuple[tuple[float, float], ...] = PADOA_SCHIOPPA_OFFERS

    def validate(self) -> None:
        check_number("b_to_a", self.b_to_a, minimum=0)
        if not self.rewards["correct"] > 0:  # type: ignore[index]
            raise InvalidParameterError(
                f"rewards['correct'] of {self.name} is the value of a drop of juice A and must be > 0, "
                f"got {self.rewards['correct']}"  # type: ignore[index]
            )
        try:
            table = np.asarray(self.offers, dtype=float)
        except (TypeError, ValueError):
            table = np.zeros((0, 0))
        if table.ndim != 2 or table.shape[1:] != (2,) or len(table) == 0 or not np.all(np.isfinite(table)):
            raise InvalidParameterError(
                f"offers of {self.name} must be a non-empty list of [drops of B, drops of A] pairs, got {self.offers!r}"
            )
        if np.any(table < 0):
            raise InvalidParameterError(f"offers of {self.name} must be amounts >= 0, got {self.offers!r}")

    @property
    def hold_periods(self) -> tuple[str, ...]:
        return ("fixation", "offer_on")

    @property
    def obs_channels(self) -> Channels:
        return Channels(fixation=1, a1=1, b1=1, a2=1, b2=1, n1=1, n2=1)

    @property
    def action_channels(self) -> Channels:
        return Channels(fixation=1, choice1=1, choice2=1)

    @property
    def input_range(self) -> tuple[float, float]:
        return 0.0, max(1.0, float(np.max(self.offers)) / 5)

    @cached_property
    def rule(self) -> ResponseRule:
        # every answer is paid through the payoffs: "fail" is never used
        return FixateThenChoose(self.hold_periods, self.response_periods, {**self.rewards, "fail": 0.0}, self.abort)  # type: ignore[dict-item]

    def payoff_range(self) -> tuple[float, float]:
        return 0.0, float(np.max(self._values(np.asarray(self.offers, dtype=float))))

    def _values(self, offers: np.ndarray) -> np.ndarray:
        """``[k, 2]`` values (B, A) of offers ``[k, 2]`` of (drops of B, drops of A)."""
        drop_a = self.rewards["correct"]  # type: ignore[index]
        return offers * np.array([self.b_to_a * drop_a, drop_a])

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        offers = np.asarray(self.offers, dtype=float)
        pick = rng.integers(len(offers), size=n)
        a_first = rng.random(n) < 0.5  # NeuroGym's juice order: (a, b) or (b, a)
        n_b, n_a = offers[pick, 0], offers[pick, 1]
        value_b, value_a = self._values(offers[pick]).T
        n1, n2 = np.where(a_first, n_a, n_b), np.where(a_first, n_b, n_a)
        value1, value2 = np.where(a_first, value_a, value_b), np.where(a_first, value_b, value_a)
        trials = self.trials(rng, n)
        trials.set("fixation", 1.0, "fixation", "offer_on")
        trials.set("a1", a_first, "offer_on")
        trials.set("b1", ~a_first, "offer_on")
        trials.set("a2", ~a_first, "offer_on")
        trials.set("b2", a_first, "offer_on")
        trials.set("n1", n1 / 5, "offer_on")
        trials.set("n2", n2 / 5, "offer_on")
        best = np.where(value2 > value1, 2, 1)
        trials.answer(best, "decision")
        payoff, credit = trials.payoffs(), trials.credits()
        tie = np.isclose(value1, value2)
        for action, mine, other in ((1, value1, value2), (2, value2, value1)):
            trials.paint(payoff[..., action], mine, "decision")
            trials.paint(credit[..., action], ((mine > other) | tie).astype(np.float32), "decision")
        return trials.build(
            ground_truth=best - 1,
            answer=best,
            offer=pick,
            n_a=n_a,
            n_b=n_b,
            a_first=a_first,
            value1=value1,
            value2=value2,
        )

    def _chance(self) -> Level:
        offers = np.asarray(self.offers, dtype=float)
        value_b, value_a = self._values(offers).T
        tie = float(np.mean(np.isclose(value_a, value_b)))
        return Level(
            (1 + tie) / 2,
            "exact: the better offer's side is a fair coin (random juice order); ties count for either answer",
        )


@dataclass(frozen=True, kw_only=True, eq=False)
class PostDecisionWager(TimedTask):
    """Motion discrimination with a sure bet (Kiani & Shadlen 2009).

    A motion stimulus (two inputs, ``0.5 +- coh/200`` plus noise of std ``sigma/sqrt(dt)``
    per step, for a truncated-exponential 100-900 ms) is followed by a 1.2-1.8 s delay.
    On a random half of the trials (``wager``) the sure target appears ``pre_sure`` ms
    into the delay (the ``sure`` input, on until the end); ``pre_sure`` is a timing entry
    but not a period (NeuroGym's overlaps the delay), so the periods tile the trial as
    fixation, stimulus, delay, decision. In the decision period the agent picks a
    direction (``correct``: 1, ``fail``: 0) or, if it was offered, the sure target, which
    always pays ``sure * correct``; choosing a sure target that was not offered costs the
    abort penalty. The trial's success is the reward normalized to [0, 1]: 1 for a correct
    direction, ``kappa = (sure * correct - fail) / (correct - fail)`` (0.7) for the sure bet.
    As in NeuroGym, breaking fixation costs the abort penalty in the fixation period only.

    Chance (exact): a policy blind to the motion but not to the sure target takes the sure
    bet when offered and a fixed direction otherwise: ``(max(kappa, 1/2) + 1/2) / 2``.
    Ceiling (exact, by quadrature): the ideal observer sums the difference of the two
    inputs, ``d``, Gaussian with mean ``+- N coh/100`` and variance ``2 N sigma_step^2`` over
    the ``N`` stimulus steps; with coherences equally likely its confidence is ``q =
    max(P(right | d), P(left | d))``, and the optimal wager takes the sure bet exactly when
    ``q < kappa``: success ``(E[max(q, kappa)] + E[q]) / 2``.
    """

    default_timing: ClassVar = {
        "fixation": 100,
        "stimulus": ("truncated_exponential", (180, 100, 900)),
        "delay": ("truncated_exponential", (1350, 1200, 1800)),
        "pre_sure": ("uniform", (500, 750)),
        "decision": 100,
    }

    cohs: tuple[float, ...] = (0.0, 3.2, 6.4, 12.8, 25.6, 51.2)
    sigma: float = 1.0
    sure: float = 0.7

    SURE: ClassVar[int] = 3  # the sure target's action

    def validate(self) -> None:
        check_values("cohs", self.cohs, minimum=0)
        check_number("sigma", self.sigma, minimum=0)
        check_number("sure", self.sure)
        correct, fail = self.rewards["correct"], self.rewards["fail"]  # type: ignore[index]
        if not correct > fail:
            raise InvalidParameterError(
                f"rewards of {self.name}: 'correct' ({correct}) must pay more than 'fail' ({fail})"
            )
        if not fail <= self.sure * correct <= correct:
            raise InvalidParameterError(
                f"sure of {self.name} is the sure target's reward as a fraction of 'correct'; it must pay between "
                f"'fail' ({fail}) and 'correct' ({correct}), got sure={self.sure} (a reward of {self.sure * correct})"
            )
        latest, delay = resolved_timing(self)["pre_sure"].bounds[1], resolved_timing(self)["delay"].bounds[0]
        if latest > delay:
            raise InvalidParameterError(
                f"timing of {self.name}: the sure target appears pre_sure ms into the delay, so pre_sure "
                f"(up to {latest:g} ms) must not outlast the shortest delay ({delay:g} ms)"
            )

    @property
    def periods(self) -> tuple[str, ...]:
        return ("fixation", "stimulus", "delay", "decision")

    @property
    def obs_channels(self) -> Channels:
        return Channels(fixation=1, stimulus=2, sure=1)

    @property
    def action_channels(self) -> Channels:
        return Channels(fixation=1, choice=2, sure=1)

    @property
    def input_range(self) -> tuple[float, float]:
        swing = max(self.cohs) / 200
        return min(0.0, 0.5 - swing), max(1.0, 0.5 + swing)

    @property
    def sure_credit(self) -> float:
        """The sure bet's success: its reward normalized between fail (0) and correct (1)."""
        correct, fail = self.rewards["correct"], self.rewards["fail"]  # type: ignore[index]
        return float((self.sure * correct - fail) / (correct - fail))

    def payoff_range(self) -> tuple[float, float]:
        r = self.rewards
        values = (r["correct"], r["fail"], r["abort"], self.sure * r["correct"])  # type: ignore[index]
        return float(min(values)), float(max(values))

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        truth = rng.integers(2, size=n)
        coh = np.asarray(self.cohs, dtype=float)[rng.integers(len(self.cohs), size=n)]
        wager = rng.random(n) < 0.5
        trials = self.trials(rng, n)
        pre_sure = resolved_timing(self)["pre_sure"].steps(rng, n, self.dt)
        sign = np.where(np.arange(2)[None, :] == truth[:, None], 1.0, -1.0)
        trials.set("fixation", 1.0, "fixation", "stimulus", "delay")
        trials.set("stimulus", 0.5 + sign * coh[:, None] / 200, "stimulus")
        trials.add_noise(rng, "stimulus", "stimulus")
        trials.set_span("sure", wager, trials.periods["delay"][0] + pre_sure, trials.length)
        trials.answer(truth + 1, "decision")
        r = self.rewards
        payoff, credit = trials.payoffs(), trials.credits()
        for k in range(2):
            right = truth == k
            trials.paint(payoff[..., 1 + k], np.where(right, r["correct"], r["fail"]), "decision")  # type: ignore[index]
            trials.paint(credit[..., 1 + k], right.astype(np.float32), "decision")
        trials.paint(payoff[..., self.SURE], np.where(wager, self.sure * r["correct"], r["abort"]), "decision")  # type: ignore[index]
        trials.paint(credit[..., self.SURE], np.where(wager, self.sure_credit, 0.0), "decision")
        return trials.build(ground_truth=truth, answer=truth + 1, coh=coh, wager=wager, sure_onset=pre_sure * self.dt)

    def _chance(self) -> Level:
        kappa = self.sure_credit
        return Level(
            (max(kappa, 0.5) + 0.5) / 2,
            "exact: blind to the motion, take the sure bet when it is offered (half the trials) and a fixed "
            "direction otherwise",
        )

    def blind_policy(self) -> Agent:
        return SureWhenOffered(self)

    def ideal_observer(self) -> Agent:
        return WagerObserver(self)

    def posterior_right(self, d: np.ndarray, n: np.ndarray) -> np.ndarray:
        """P(the second direction | summed input difference ``d`` over ``n`` steps)."""
        return side_posterior(d, n, np.asarray(self.cohs) / 100, self.noise_std)

    def _ceiling(self) -> Level:
        kappa = self.sure_credit
        steps, counts = np.unique(self.period_steps("stimulus"), return_counts=True)
        weights = counts / counts.sum()
        coh = np.asarray(self.cohs, dtype=float) / 100
        z = np.linspace(-9.0, 9.0, 3601)
        dz = stats.norm.pdf(z) * (z[1] - z[0])
        dz /= dz.sum()
        wagered = plain = 0.0
        for n_steps, weight in zip(steps, weights, strict=True):
            spread = self.noise_std * np.sqrt(2 * n_steps)
            d = n_steps * coh[:, None] + spread * z[None, :]  # [cohs, z]: the truth is the second direction
            p = self.posterior_right(d, np.full(d.shape, float(n_steps)))
            q = np.maximum(p, 1 - p)
            wagered += weight * float(np.mean(np.maximum(q, kappa) @ dz))
            plain += weight * float(np.mean(q @ dz))
        return Level(
            float((wagered + plain) / 2),
            "exact (quadrature): the ideal observer's confidence q from the summed input difference; it takes the "
            "sure bet when q < kappa",
        )


def side_posterior(d: np.ndarray, n: np.ndarray, coh: np.ndarray, sigma_step: float) -> np.ndarray:
    """P(the second input carries the signal | ``d``), where ``d`` is the second input minus
    the first summed over ``n`` steps: Gaussian with mean ``+- n * c`` (``c`` one of ``coh``,
    equally likely, per step) and variance ``2 n sigma_step^2``."""
    d, n = np.asarray(d, dtype=float), np.asarray(n, dtype=float)
    if sigma_step == 0:
        return np.where(d > 0, 1.0, np.where(d < 0, 0.0, 0.5))
    var = 2 * sigma_step**2 * np.maximum(n, 1e-12)
    mean = n[..., None] * np.asarray(coh, dtype=float)
    second = np.logaddexp.reduce(-((d[..., None] - mean) ** 2) / (2 * var[..., None]), axis=-1)
    first = np.logaddexp.reduce(-((d[..., None] + mean) ** 2) / (2 * var[..., None]), axis=-1)
    return np.where(n > 0, special.expit(second - first), 0.5)


def _stimulus_steps(obs: np.ndarray, stimulus: slice) -> tuple[np.ndarray, np.ndarray]:
    """Per environment: the second stimulus input minus the first, and whether a stimulus
    is shown (outside the stimulus both inputs are exactly zero)."""
    shown = obs[:, stimulus]
    return shown[:, 1] - shown[:, 0], (shown != 0).any(axis=1)


class ArmTracker(Agent):
    """Bandit's observer of outcomes (``Feedback(Bandit)``): a Beta posterior over each
    arm's probability, fresh at every block (the block length is known), and the arm of
    the highest posterior mean. With two correlated arms (``p2 = 1 - p1``) every pull tells
    as much about both, so no choice buys information and this greedy choice is the
    Bayes-optimal policy; with independent arms it is a good one, not the optimum."""

    name: ClassVar[str] = "arm_tracker"

    def __init__(self, task: Bandit, channels: Channels) -> None:
        self.task, self.reward = task, channels["reward"].start

    def initial_state(self, num_envs: int, *, seed: int) -> dict[str, np.ndarray]:
        arms = self.task.n
        return {
            "paid": np.zeros((num_envs, arms)),
            "unpaid": np.zeros((num_envs, arms)),
            "trials": np.zeros(num_envs, int),
            "chosen": np.full(num_envs, -1),
        }

    def act(
        self, obs: np.ndarray, state: dict[str, np.ndarray], info: Mapping[str, np.ndarray]
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        s = {k: v.copy() for k, v in state.items()}
        new = np.asarray(info["new_trial"])
        rows = np.flatnonzero(new & (s["chosen"] >= 0))
        paid = obs[rows, self.reward] > 0
        s["paid"][rows, s["chosen"][rows]] += paid
        s["unpaid"][rows, s["chosen"][rows]] += ~paid
        fresh_block = new & (s["trials"] % self.task.block_length == 0)
        s["paid"][fresh_block], s["unpaid"][fresh_block] = 0.0, 0.0
        s["trials"] += new
        paid_for, unpaid_for = s["paid"], s["unpaid"]
        if self.task.correlated and self.task.n == 2:  # arm 2 paying is arm 1 not paying
            paid_for = paid_for + unpaid_for[:, ::-1]
            unpaid_for = unpaid_for + s["paid"][:, ::-1]
        mean = (1 + paid_for) / (2 + paid_for + unpaid_for)
        choice = mean.argmax(axis=1)
        s["chosen"] = np.where(new, choice, s["chosen"])
        return choice, s


def state_belief(belief: np.ndarray, reached1: np.ndarray, paid: np.ndarray, high: float, low: float) -> np.ndarray:
    """P(state 1 is the better) after a second stage (state 1 if ``reached1``) paid or not."""
    if_state1_high = np.where(reached1, np.where(paid, high, 1 - high), np.where(paid, low, 1 - low))
    if_state2_high = np.where(reached1, np.where(paid, low, 1 - low), np.where(paid, high, 1 - high))
    return belief * if_state1_high / (belief * if_state1_high + (1 - belief) * if_state2_high)


class StateTracker(Agent):
    """DawTwoStep's observer of outcomes (``Feedback(DawTwoStep)``): the posterior that
    state 1 is the better one, updated by each second stage's reward (paid with
    probability ``high_reward_p`` in the better state, ``low_reward_p`` in the other) and
    by the switch probability before each trial; the first-stage choice whose common
    transition leads to the likelier better state. The better state is hidden, so this
    Bayes filter is the ideal observer of the choice the task scores."""

    name: ClassVar[str] = "state_tracker"

    def __init__(self, task: DawTwoStep, channels: Channels) -> None:
        self.task, self.reward = task, channels["reward"].start
        self.state1, self.state2 = channels["state1"].start, channels["state2"].start

    def initial_state(self, num_envs: int, *, seed: int) -> dict[str, np.ndarray]:
        return {"belief": np.full(num_envs, 0.5), "pending": np.zeros(num_envs, dtype=bool)}

    def act(
        self, obs: np.ndarray, state: dict[str, np.ndarray], info: Mapping[str, np.ndarray]
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        task, belief, pending = self.task, state["belief"], state["pending"]
        reached1, reached2 = obs[:, self.state1] > 0.5, obs[:, self.state2] > 0.5
        seen = pending & (reached1 | reached2)  # the second stage reached, and the reward of the choice
        paid = obs[:, self.reward] > 0
        updated = state_belief(belief, reached1, paid, task.high_reward_p, task.low_reward_p)
        belief = np.where(seen, updated, belief)
        new = np.asarray(info["new_trial"])
        switch = task.p_switch
        belief = np.where(new, belief * (1 - switch) + (1 - belief) * switch, belief)
        choosing = np.asarray(info["window"]) == 2
        action = np.where(choosing, np.where(belief >= 0.5, 1, 2), 0)
        return action, {"belief": belief, "pending": np.where(choosing, True, pending & ~seen)}


class SureWhenOffered(Agent):
    """PostDecisionWager's blind policy: takes the sure bet when it is offered (if it is worth
    more than a coin flip), else the first direction, as the decision closes."""

    name: ClassVar[str] = "sure_when_offered"

    def __init__(self, task: PostDecisionWager) -> None:
        self.sure, self.take = task.obs_channels["sure"].start, task.sure_credit > 0.5

    def act(self, obs: np.ndarray, state: Any, info: Mapping[str, np.ndarray]) -> tuple[np.ndarray, Any]:
        offered = (obs[:, self.sure] > 0.5) & self.take
        action = np.where(offered, PostDecisionWager.SURE, 1)
        return np.where(np.asarray(info["window"]) == 2, action, 0), state


class WagerObserver(Agent):
    """PostDecisionWager's ideal observer: sums the input difference over the stimulus and,
    as the decision closes, answers the likelier direction, or takes the sure bet when it
    is offered and its confidence is below the bet's worth (see the task's ceiling)."""

    name: ClassVar[str] = "wager_observer"

    def __init__(self, task: PostDecisionWager) -> None:
        self.task, self.kappa = task, task.sure_credit
        self.stimulus, self.sure = task.obs_channels["stimulus"], task.obs_channels["sure"].start

    def initial_state(self, num_envs: int, *, seed: int) -> dict[str, np.ndarray]:
        return {"d": np.zeros(num_envs), "n": np.zeros(num_envs)}

    def act(
        self, obs: np.ndarray, state: dict[str, np.ndarray], info: Mapping[str, np.ndarray]
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        new = np.asarray(info["new_trial"])
        difference, shown = _stimulus_steps(obs, self.stimulus)
        d = np.where(new, 0.0, state["d"]) + np.where(shown, difference, 0.0)
        n = np.where(new, 0.0, state["n"]) + shown
        p = self.task.posterior_right(d, n)
        offered = obs[:, self.sure] > 0.5
        unsure = offered & (np.maximum(p, 1 - p) < self.kappa)
        action = np.where(unsure, PostDecisionWager.SURE, np.where(p > 0.5, 2, 1))
        return np.where(np.asarray(info["window"]) == 2, action, 0), {"d": d, "n": n}


@dataclass(frozen=True, kw_only=True, eq=False)
class ChangingEnvironment(TimedTask):
    """Motion discrimination whose answer targets switch covertly (Purcell & Kiani 2016).

    Two stimulus inputs show a motion stimulus: the side of motion at ``(1 + coh/100)/2``,
    the other at ``(1 - coh/100)/2`` (``coh`` from ``cohs * stim_scale``), each with noise of
    std ``sigma/sqrt(dt)`` per step, for a truncated-exponential 500-1500 ms. The answer is
    the side, given in one of two contexts (the paper's upper and lower pairs of targets):
    actions ``1 + side + 2 * context``. Before each trial the rewarded context switches with
    probability ``cxt_ch_prob`` (NeuroGym's 0.001; the paper switched every 2-15 trials).
    Without ``cxt_cue`` nothing shows the context: it is inferred from feedback, which is
    ambiguous because an error may come from the motion or from the context. With
    ``cxt_cue`` a ``context`` input (first, as in NeuroGym) shows it outside the fixation
    period.

    Levels (sessions of ``session_trials`` trials, as evaluation runs them): the reference
    policies keep the Bayes posterior of the context given the outcome of each of their
    answers, weighing an error by the confidence they had in the side (P(error | right
    context) = 1 - q), and answer in the likelier context. Chance is that policy blind to
    the motion (a fixed side: q = 1/2); the ceiling the same with the ideal observer's side
    and confidence from the summed input difference. Both are estimated on
    ``LEVEL_SESSIONS`` seeded sessions. With the cue, chance is exactly 1/2 and the ceiling
    the exact two-choice ideal observer.
    """

    default_timing: ClassVar = {
        "fixation": 500,
        "stimulus": ("truncated_exponential", (1000, 500, 1500)),
        "decision": 500,
    }

    cohs: tuple[float, ...] = (0.0, 6.4, 12.8, 25.6, 51.2)
    stim_scale: float = 1.0
    sigma: float = 1.0
    cxt_ch_prob: float = 0.001
    cxt_cue: bool = False
    session_trials: int = 500

    def validate(self) -> None:
        check_values("cohs", self.cohs, minimum=0)
        check_number("stim_scale", self.stim_scale, minimum=0)
        check_number("sigma", self.sigma, minimum=0)
        check_number("cxt_ch_prob", self.cxt_ch_prob, minimum=0)
        if self.cxt_ch_prob > 1:
            raise InvalidParameterError(f"cxt_ch_prob must be a probability, got {self.cxt_ch_prob!r}")
        if not isinstance(self.cxt_cue, bool):
            raise InvalidParameterError(f"cxt_cue must be true or false, got {self.cxt_cue!r}")
        check_int("session_trials", self.session_trials, minimum=1)

    @property
    def sequential(self) -> bool:
        return True  # the context carries from trial to trial within a session

    @property
    def obs_channels(self) -> Channels:
        if self.cxt_cue:
            return Channels(context=1, fixation=1, stimulus=2)
        return Channels(fixation=1, stimulus=2)

    @property
    def action_channels(self) -> Channels:
        return Channels(fixation=1, context0=2, context1=2)

    @property
    def coherences(self) -> np.ndarray:
        return np.asarray(self.cohs, dtype=float) * self.stim_scale

    @property
    def input_range(self) -> tuple[float, float]:
        swing = float(self.coherences.max()) / 200
        return min(0.0, 0.5 - swing), max(1.0, 0.5 + swing)

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        return self.sample_sessions(rng, 1, n, None)[0]

    def sample_sessions(self, rng: np.random.Generator, sessions: int, m: int, carry: Any) -> tuple[TrialBatch, Any]:
        before = rng.integers(2, size=sessions) if carry is None else carry
        switches = rng.random((sessions, m)) < self.cxt_ch_prob
        context = (before[:, None] + np.cumsum(switches, axis=1)) % 2
        n = sessions * m
        side = rng.integers(2, size=n)
        coh = self.coherences[rng.integers(len(self.cohs), size=n)]
        flat = context.ravel()
        trials = self.trials(rng, n)
        trials.set("fixation", 1.0, "fixation")
        if self.cxt_cue:
            trials.set("context", flat, "stimulus", "decision")
        stimulus = np.where(np.arange(2)[None, :] == side[:, None], 1 + coh[:, None] / 100, 1 - coh[:, None] / 100)
        trials.set("stimulus", stimulus / 2, "stimulus")
        trials.add_noise(rng, "stimulus", "stimulus")
        answer = 1 + side + 2 * flat
        trials.answer(answer, "decision")
        batch = trials.build(ground_truth=answer, answer=answer, side=side, context=flat, coh=coh)
        return batch, context[:, -1]

    def posterior_right(self, d: np.ndarray, n: np.ndarray) -> np.ndarray:
        """P(the second side | summed input difference ``d`` over ``n`` steps)."""
        return side_posterior(d, n, self.coherences / 100, self.noise_std)

    def blind_policy(self) -> Agent:
        return ContextTracker(self, use_stimulus=False)

    def ideal_observer(self) -> Agent:
        return ContextTracker(self, use_stimulus=True)

    def _chance(self) -> Level:
        if self.cxt_cue:
            return Level(0.5, "exact: the context is cued and the side is a fair coin")
        return self._played(use_stimulus=False)

    def _ceiling(self) -> Level:
        if self.cxt_cue:
            steps = self.period_steps("stimulus")[None, :]
            signal = self.coherences[:, None] / 100 * steps
            spread = self.noise_std * np.sqrt(2 * steps)
            with np.errstate(divide="ignore", invalid="ignore"):
                z = np.where(spread > 0, signal / spread, np.where(signal > 0, np.inf, 0.0))
            return Level(float(np.mean(stats.norm.cdf(z))), "exact: the ideal observer of the side, the context cued")
        return self._played(use_stimulus=True)

    def _played(self, use_stimulus: bool) -> Level:
        """The reference policy (see the class docstring) on seeded sessions, simulated
        from the task's generative process: each trial's summed input difference is drawn
        directly (it is what the observer's decision and confidence depend on)."""
        rng = np.random.default_rng(0)
        sessions, m = LEVEL_SESSIONS, self.session_trials
        context = (rng.integers(2, size=(sessions, 1)) + np.cumsum(rng.random((sessions, m)) < self.cxt_ch_prob, 1)) % 2
        side = rng.integers(2, size=(sessions, m))
        if use_stimulus:
            coh = self.coherences[rng.integers(len(self.cohs), size=(sessions, m))] / 100
            steps = resolved_timing(self)["stimulus"].steps(rng, sessions * m, self.dt).reshape(sessions, m)
            signal = np.where(side == 1, 1.0, -1.0) * steps * coh
            d = signal + self.noise_std * np.sqrt(2 * steps) * rng.standard_normal((sessions, m))
            p = self.posterior_right(d, steps)
            guess, confidence = (p > 0.5).astype(int), np.maximum(p, 1 - p)
        else:
            guess, confidence = np.zeros((sessions, m), dtype=int), np.full((sessions, m), 0.5)
        belief = np.full(sessions, 0.5)
        correct = np.zeros((sessions, m))
        for j in range(m):  # trials of a session in order, all sessions at once
            chosen = (belief > 0.5).astype(int)
            right = (chosen == context[:, j]) & (guess[:, j] == side[:, j])
            correct[:, j] = right
            belief = context_belief(belief, chosen, right, confidence[:, j], self.cxt_ch_prob)
        per_session = correct.mean(axis=1)
        who = "the ideal observer of the motion" if use_stimulus else "a fixed side (blind to the motion)"
        return session_estimate(
            per_session,
            f"estimate: the Bayes tracker of the context from its answers' outcomes, with {who}, on "
            f"{sessions} seeded sessions of {m} trials",
        )


def context_belief(
    belief: np.ndarray, chosen: np.ndarray, right: np.ndarray, confidence: np.ndarray, p_switch: float
) -> np.ndarray:
    """P(context 1) before the next trial, from P(context 1) before this one, the context
    answered in, whether the answer was right, and the confidence in its side: a right
    answer proves the context; an error has likelihood ``1 - confidence`` in the context
    answered and 1 in the other. Then the context switches with ``p_switch``."""
    in_chosen = np.where(chosen == 1, belief, 1 - belief)
    after_error = in_chosen * (1 - confidence) / np.maximum(in_chosen * (1 - confidence) + (1 - in_chosen), 1e-300)
    in_chosen = np.where(right, 1.0, after_error)
    one = np.where(chosen == 1, in_chosen, 1 - in_chosen)
    return np.clip(one * (1 - p_switch) + (1 - one) * p_switch, 0.0, 1.0)


class ContextTracker(Agent):
    """ChangingEnvironment's reference policies (see the task's docstring): as the decision
    closes, the side (the ideal observer's, or always the first when blind) in the likelier
    context (the cued one when cued); after each trial, the context belief learns whether
    that answer was right."""

    name: ClassVar[str] = "context_tracker"

    def __init__(self, task: ChangingEnvironment, use_stimulus: bool) -> None:
        self.task, self.use_stimulus = task, use_stimulus
        self.stimulus = task.obs_channels["stimulus"]
        self.cue = task.obs_channels["context"].start if task.cxt_cue else None

    def initial_state(self, num_envs: int, *, seed: int) -> dict[str, np.ndarray]:
        return {
            "belief": np.full(num_envs, 0.5),
            "d": np.zeros(num_envs),
            "n": np.zeros(num_envs),
            "chosen": np.full(num_envs, -1),
            "right": np.zeros(num_envs, dtype=bool),
            "confidence": np.full(num_envs, 0.5),
        }

    def act(
        self, obs: np.ndarray, state: dict[str, np.ndarray], info: Mapping[str, np.ndarray]
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        new = np.asarray(info["new_trial"])
        s = dict(state)
        learned = new & (s["chosen"] >= 0)
        updated = context_belief(s["belief"], s["chosen"], s["right"], s["confidence"], self.task.cxt_ch_prob)
        s["belief"] = np.where(learned, updated, s["belief"])
        s["chosen"] = np.where(new, -1, s["chosen"])
        difference, shown = _stimulus_steps(obs, self.stimulus)
        s["d"] = np.where(new, 0.0, s["d"]) + np.where(shown, difference, 0.0)
        s["n"] = np.where(new, 0.0, s["n"]) + shown
        if self.use_stimulus:
            p = self.task.posterior_right(s["d"], s["n"])
            side, confidence = (p > 0.5).astype(int), np.maximum(p, 1 - p)
        else:
            side, confidence = np.zeros(len(obs), dtype=int), np.full(len(obs), 0.5)
        context = (obs[:, self.cue] > 0.5) if self.cue is not None else (s["belief"] > 0.5)
        action = 1 + side + 2 * context.astype(int)
        closing = np.asarray(info["window"]) == 2
        s["chosen"] = np.where(closing, context, s["chosen"])
        s["confidence"] = np.where(closing, confidence, s["confidence"])
        s["right"] = np.where(closing, action == np.asarray(info["target"]), s["right"])  # the outcome, as feedback
        return np.where(closing, action, 0), s


SPECS = [
    TaskSpec(
        "Bandit",
        0,
        Bandit,
        {},
        "value",
        ("n-alternative", "value-based", "reward learning"),
        Paper(
            "Wang et al. (2018)",
            "Prefrontal cortex as a meta-reinforcement learning system",
            "https://www.nature.com/articles/s41593-018-0147-8",
        ),
        deviations=(
            "By default the arms' probabilities are drawn for every block of 100 trials of a session (Wang et "
            "al.'s episodes; NeuroGym's fixed 50/50 leaves nothing to learn); p=... fixes them as NeuroGym "
            "does.",
        ),
    ),
    TaskSpec(
        "DawTwoStep",
        0,
        DawTwoStep,
        {},
        "value",
        ("two-alternative", "value-based", "model-based", "closed loop"),
        Paper(
            "Daw et al. (2011)",
            "Model-based influences on humans' choices and striatal prediction errors",
            "https://www.sciencedirect.com/science/article/pii/S0896627311001255",
        ),
        deviations=(
            "Each session starts with a random reward contingency (NeuroGym always starts with state 1 "
            "rewarded, which a blind policy exploits).",
            "A trial is correct when the first-stage choice leads most likely to the better second stage "
            "(NeuroGym's performance compares with a random draw, its issue #22).",
        ),
    ),
    TaskSpec(
        "EconomicDecisionMaking",
        0,
        EconomicDecisionMaking,
        {},
        "value",
        ("perceptual", "value-based"),
        Paper(
            "Padoa-Schioppa & Assad (2006)",
            "Neurons in the orbitofrontal cortex encode economic value",
            "https://www.nature.com/articles/nature04676",
        ),
        deviations=(
            "NeuroGym gives no ground truth (its gt is always 0); here the target is the offer of higher value, "
            "so the oracle, the Dataset and the score have an answer (on a tie, either offer counts as correct).",
        ),
    ),
    TaskSpec(
        "PostDecisionWager",
        0,
        PostDecisionWager,
        {},
        "value",
        ("perceptual", "delayed response", "confidence"),
        Paper(
            "Kiani & Shadlen (2009)",
            "Representation of confidence associated with a decision by neurons in the parietal cortex",
            "https://www.science.org/doi/10.1126/science.1169405",
        ),
        deviations=(
            "A direction is correct when it is the target choice (action 1 + ground truth); NeuroGym compares the "
            "action with the ground-truth index itself, so it never pays a direction when the ground truth is 0 and "
            "pays the wrong one when it is 1.",
            "Input noise is added to the two stimulus inputs only; NeuroGym adds it to the fixation and sure-target "
            "inputs as well.",
            "dim_ring is not a parameter: NeuroGym's spaces are fixed at two directions, so any other value fails "
            "there, and the paper has two.",
            "The sure target's reward is the parameter sure (a fraction of the correct reward, NeuroGym's fixed 0.7).",
        ),
    ),
    TaskSpec(
        "ChangingEnvironment",
        0,
        ChangingEnvironment,
        {},
        "value",
        ("perceptual", "two-alternative", "supervised", "context dependent"),
        Paper(
            "Purcell & Kiani (2016)",
            "Hierarchical decision processes that operate over distinct timescales underlie choice and changes in "
            "strategy",
            "https://www.pnas.org/doi/10.1073/pnas.1524685113",
        ),
        deviations=(
            "With cxt_cue the stimulus goes to the two stimulus inputs; NeuroGym's column offset ignores the context "
            "input, so it writes the left stimulus into the fixation input (noise-free: it gives the answer away) and "
            "the right one into the left input.",
        ),
    ),
]
