"""Working memory: hold a stimulus (or its category, duration, identity) across a delay.

Noise follows NeuroGym: Gaussian, std ``sigma / sqrt(dt)`` per step. NeuroGym adds it
to every input channel in some of these tasks (fixation and cue inputs included);
here it goes on stimulus inputs only, as in the experiments, where the fixation point
and cues are not noisy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar, cast

import gymnasium as gym
import numpy as np

from neurobench.agents.base import Agent
from neurobench.core.ceilings import DRAWS, bayes_success, monte_carlo
from neurobench.core.channels import Channels
from neurobench.core.checks import check_int, check_number
from neurobench.core.errors import InvalidParameterError, UnknownNameError
from neurobench.core.levels import uniform
from neurobench.core.registry import TaskSpec
from neurobench.core.rules import ResponseRule, TimingWindow
from neurobench.core.task import STANDARD_REWARDS, Level, Paper, TimedTask
from neurobench.core.timing import Choice, Duration, to_steps
from neurobench.core.trials import TrialBatch
from neurobench.tasks.versions import frozen_versions

MATCH, NON_MATCH = 1, 2
_BAYES = "Monte Carlo (200k seeded draws) of the Bayes-optimal observer"


def durations_of(task: TimedTask) -> Mapping[str, Duration]:
    """A timed task's timing, as it stores it: resolved to durations."""
    return cast("Mapping[str, Duration]", task.timing)


def _ring(dim_ring: int) -> np.ndarray:
    return np.linspace(0, 2 * np.pi, dim_ring, endpoint=False)


def _bump(theta: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Ring input ``[n, dim_ring]`` peaking at ``angle`` (NeuroGym's 0.5 + 0.5 cos)."""
    return 0.5 + 0.5 * np.cos(theta[None, :] - np.asarray(angle, dtype=float)[:, None])


@dataclass(frozen=True, kw_only=True, eq=False)
class DelayMatchSample(TimedTask):
    """Delayed match-to-sample: after a delay, say whether the test matches the sample.

    Sample and test are directions on a ring; a non-matching test is the opposite
    direction. The answer (match / non-match) is given in the decision period.
    """

    default_timing: ClassVar = {"fixation": 300, "sample": 500, "delay": 1000, "test": 500, "decision": 900}

    dim_ring: int = 2
    sigma: float = 1.0

    def validate(self) -> None:
        check_int("dim_ring", self.dim_ring, minimum=2)
        check_number("sigma", self.sigma, minimum=0)

    @property
    def obs_channels(self) -> Channels:
        return Channels(fixation=1, stimulus=self.dim_ring)

    @property
    def action_channels(self) -> Channels:
        return Channels(fixation=1, match=1, non_match=1)

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        answer = rng.integers(MATCH, NON_MATCH + 1, size=n)
        sample = _ring(self.dim_ring)[rng.integers(self.dim_ring, size=n)]
        test = np.where(answer == MATCH, sample, np.mod(sample + np.pi, 2 * np.pi))
        trials = self.trials(rng, n)
        trials.set("fixation", 1.0, "fixation", "sample", "delay", "test")
        trials.set("stimulus", _bump(_ring(self.dim_ring), sample), "sample")
        trials.set("stimulus", _bump(_ring(self.dim_ring), test), "test")
        trials.add_noise(rng, "stimulus", "sample", "test", sparse=False)
        trials.answer(answer, "decision")
        return trials.build(ground_truth=answer, answer=answer, sample_theta=sample, test_theta=test)

    def _chance(self) -> Level:
        return uniform(2)

    def _ceiling(self) -> Level:
        """Bayes-optimal observer over (sample direction x match) hypotheses."""
        theta = _ring(self.dim_ring)
        sample = np.repeat(theta, 2)
        answer = np.tile([MATCH, NON_MATCH], self.dim_ring)
        test = np.where(answer == MATCH, sample, sample + np.pi)
        means = np.stack([_bump(theta, sample), _bump(theta, test)], axis=1)
        value = bayes_success(means, answer, self.joint_steps("sample", "test"), self.noise_std)
        return monte_carlo(value, DRAWS, _BAYES)


@dataclass(frozen=True, kw_only=True, eq=False)
class DelayMatchCategory(TimedTask):
    """Delayed match-to-category: are sample and test in the same category?

    Directions in [0, pi) form one category and [pi, 2 pi) the other; sample and test
    are drawn uniformly inside their category. The answer is given during the test.

    ``dim_ring`` defaults to 4, not NeuroGym's 2: two units at 0 and pi encode only
    cos(theta), which has the same distribution in both categories, so with 2 units
    the task cannot be solved above chance.
    """

    default_timing: ClassVar = {"fixation": 500, "sample": 650, "first_delay": 1000, "test": 650}

    dim_ring: int = 4
    sigma: float = 1.0

    def validate(self) -> None:
        check_int("dim_ring", self.dim_ring, minimum=2)
        check_number("sigma", self.sigma, minimum=0)

    @property
    def response_periods(self) -> tuple[str, ...]:
        return ("test",)

    @property
    def obs_channels(self) -> Channels:
        return Channels(fixation=1, stimulus=self.dim_ring)

    @property
    def action_channels(self) -> Channels:
        return Channels(fixation=1, match=1, non_match=1)

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        answer = rng.integers(MATCH, NON_MATCH + 1, size=n)
        sample_category = rng.integers(2, size=n)
        test_category = np.where(answer == MATCH, sample_category, 1 - sample_category)
        sample = (sample_category + rng.random(n)) * np.pi
        test = (test_category + rng.random(n)) * np.pi
        trials = self.trials(rng, n)
        trials.set("fixation", 1.0, "fixation", "sample", "first_delay")
        trials.set("stimulus", _bump(_ring(self.dim_ring), sample), "sample")
        trials.set("stimulus", _bump(_ring(self.dim_ring), test), "test")
        trials.add_noise(rng, "stimulus", "sample", "test", sparse=False)
        trials.answer(answer, "test")
        return trials.build(
            ground_truth=answer, answer=answer, sample_category=sample_category, sample_theta=sample, test_theta=test
        )

    def _chance(self) -> Level:
        return uniform(2)

    def _ceiling(self) -> Level:
        """Categories of sample and test are judged independently (each by the
        Bayes-optimal observer over a 360-direction grid, accuracy a); the match answer
        is right when both or neither judgment is: a_s a_t + (1 - a_s)(1 - a_t)."""
        theta = _ring(self.dim_ring)
        grid = (np.arange(360) + 0.5) / 360 * 2 * np.pi
        means = _bump(theta, grid)[:, None, :]
        category = (grid >= np.pi).astype(int)
        a_s, a_t = (
            bayes_success(means, category, self.joint_steps(p), self.noise_std, draws=50_000)
            for p in ("sample", "test")
        )
        return monte_carlo(a_s * a_t + (1 - a_s) * (1 - a_t), 50_000, _BAYES + " (50k draws per stimulus)")


@dataclass(frozen=True, kw_only=True, eq=False)
class DelayComparison(TimedTask):
    """Parametric working memory: was the first stimulus stronger than the second?

    Two scalar stimuli (vibration frequencies in the paper) are separated by a delay;
    the answer (first larger / second larger) comes in the decision period.
    """

    default_timing: ClassVar = {
        "fixation": 500,
        "stimulus1": 500,
        "delay": 1000,
        "stimulus2": 500,
        "decision": 100,
    }

    vpairs: tuple[tuple[float, float], ...] = ((18, 10), (22, 14), (26, 18), (30, 22), (34, 26))
    sigma: float = 1.0

    def validate(self) -> None:
        pairs = np.asarray(self.vpairs, dtype=float) if len(self.vpairs) else np.zeros((0, 2))
        if pairs.ndim != 2 or pairs.shape[1] != 2 or np.any(pairs[:, 0] == pairs[:, 1]):
            raise InvalidParameterError(
                f"vpairs must be a non-empty list of (f1, f2) pairs with f1 != f2, got {self.vpairs!r}"
            )
        check_number("sigma", self.sigma, minimum=0)

    @property
    def obs_channels(self) -> Channels:
        return Channels(fixation=1, stimulus=1)

    @property
    def action_channels(self) -> Channels:
        return Channels(fixation=1, choice=2)

    def represent(self, value: np.ndarray) -> np.ndarray:
        """Input of a stimulus value: scaled from [min, max] of all pairs to [0.5, 1]."""
        low, high = np.min(self.vpairs), np.max(self.vpairs)
        return (1 + (np.asarray(value, dtype=float) - low) / (high - low)) / 2

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        answer = rng.integers(1, 3, size=n)  # 1: first larger, 2: second larger
        pair = np.asarray(self.vpairs, dtype=float)[rng.integers(len(self.vpairs), size=n)]
        pair.sort(axis=1)
        first_larger = answer == 1
        v1 = np.where(first_larger, pair[:, 1], pair[:, 0])
        v2 = np.where(first_larger, pair[:, 0], pair[:, 1])
        trials = self.trials(rng, n)
        trials.set("fixation", 1.0, "fixation", "stimulus1", "delay", "stimulus2")
        trials.set("stimulus", self.represent(v1), "stimulus1")
        trials.set("stimulus", self.represent(v2), "stimulus2")
        trials.add_noise(rng, "stimulus", "stimulus1", "stimulus2", sparse=False)
        trials.answer(answer, "decision")
        return trials.build(ground_truth=answer, answer=answer, v1=v1, v2=v2)

    evidence_name: ClassVar[str] = "f1 - f2"

    def signed_evidence(self, records: Any) -> np.ndarray:
        """For the psychometric curve: how much larger the first stimulus was (answer 1)."""
        return np.asarray(records["v1"], dtype=float) - np.asarray(records["v2"], dtype=float)

    def _chance(self) -> Level:
        return uniform(2)

    def _ceiling(self) -> Level:
        """Bayes-optimal observer over the (pair x order) hypotheses: it uses that only
        the listed pairs occur, which beats comparing the two noisy inputs."""
        pairs = np.asarray(self.vpairs, dtype=float)
        ordered = np.concatenate([pairs, pairs[:, ::-1]])
        answers = np.where(ordered[:, 0] > ordered[:, 1], 1, 2)
        means = self.represent(ordered)[:, :, None]
        steps = self.joint_steps("stimulus1", "stimulus2")
        return monte_carlo(bayes_success(means, answers, steps, self.noise_std), DRAWS, _BAYES)


@dataclass(frozen=True, kw_only=True, eq=False)
class DualDelayMatchSample(TimedTask):
    """Two samples are held at once; each is tested in turn after a cue says which.

    Both samples are shown together. A cue then names the sample to be tested first,
    and the agent answers match / non-match during ``test1``; the second cue and test
    follow. The trial is correct only if both answers are. An answer in ``test1``
    moves the trial straight to ``delay2`` (NeuroGym lets it be repeated for reward).
    """

    default_timing: ClassVar = {
        "fixation": 500,
        "sample": 500,
        "delay1": 500,
        "cue1": 500,
        "test1": 500,
        "delay2": 500,
        "cue2": 500,
        "test2": 500,
    }

    sigma: float = 1.0

    def validate(self) -> None:
        check_number("sigma", self.sigma, minimum=0)

    @property
    def hold_periods(self) -> tuple[str, ...]:
        return ("fixation", "sample", "delay1", "cue1", "delay2", "cue2")

    @property
    def response_periods(self) -> tuple[str, ...]:
        return ("test1", "test2")

    @property
    def input_range(self) -> tuple[float, float]:
        return (-1.0, 1.0)

    @property
    def obs_channels(self) -> Channels:
        return Channels(fixation=1, stimulus1=2, stimulus2=2, cue1=1, cue2=1)

    @property
    def action_channels(self) -> Channels:
        return Channels(fixation=1, match=1, non_match=1)

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        answers = rng.integers(MATCH, NON_MATCH + 1, size=(n, 2))
        samples = rng.choice([0.0, 0.5], size=(n, 2))
        tests = np.where(answers == MATCH, samples, 0.5 - samples)
        second_first = rng.integers(2, size=n).astype(bool)  # test sample 2 first?
        trials = self.trials(rng, n)
        trials.set("fixation", 1.0)
        for k, name in enumerate(("stimulus1", "stimulus2")):
            tested_first = second_first if k else ~second_first
            trials.set(name, _unit_circle(samples[:, k]), "sample")
            test = _unit_circle(tests[:, k])
            trials.set(name, test * tested_first[:, None], "test1")
            trials.set(name, test * ~tested_first[:, None], "test2")
            trials.set(f"cue{k + 1}", tested_first, "cue1")
            trials.set(f"cue{k + 1}", ~tested_first, "cue2")
            trials.add_noise(rng, name, "sample", "test1", "test2", sparse=False)
        trials.answer(np.where(second_first, answers[:, 1], answers[:, 0]), "test1")
        trials.answer(np.where(second_first, answers[:, 0], answers[:, 1]), "test2")
        return trials.build(
            ground_truth1=answers[:, 0],
            ground_truth2=answers[:, 1],
            sample1=samples[:, 0],
            sample2=samples[:, 1],
            test_order=second_first.astype(np.int64),
            answer=np.where(second_first, answers[:, 1], answers[:, 0]),
        )

    def _chance(self) -> Level:
        return uniform(2, windows=2)

    def _ceiling(self) -> Level:
        """Both answers must be right: the product of two Bayes-optimal match/non-match
        judgments (hypotheses: sample in {0, pi/2} x match), one per test period."""
        samples = np.array([0.0, 0.0, 0.5, 0.5])
        answers = np.array([MATCH, NON_MATCH, MATCH, NON_MATCH])
        tests = np.where(answers == MATCH, samples, 0.5 - samples)
        means = np.stack([_unit_circle(samples), _unit_circle(tests)], axis=1)
        first, second = (
            bayes_success(means, answers, self.joint_steps("sample", p), self.noise_std) for p in ("test1", "test2")
        )
        return monte_carlo(first * second, DRAWS, _BAYES + ", both answers")


def _unit_circle(turns_of_pi: np.ndarray) -> np.ndarray:
    angle = np.asarray(turns_of_pi, dtype=float) * np.pi
    return np.stack([np.cos(angle), np.sin(angle)], axis=-1)


@dataclass(frozen=True, kw_only=True, eq=False)
class DelayPairedAssociation(TimedTask):
    """Paired association: go if the two stimuli, shown a delay apart, form a rewarded pair.

    One of four stimulus pairs is shown; two of them are associated (go), two are not
    (no-go: keep fixating through the decision period). Wrong go responses are
    punished. The task is noise-free by default, as in NeuroGym.
    """

    default_timing: ClassVar = {
        "fixation": 0,
        "stim1": 1000,
        "delay_btw_stim": 1000,
        "stim2": 1000,
        "delay_aft_stim": 1000,
        "decision": 500,
    }
    default_rewards: ClassVar = {**STANDARD_REWARDS, "fail": -1.0}
    pairs: ClassVar = ((0, 2), (0, 3), (1, 2), (1, 3))  # stimulus units; go iff units differ by 2

    sigma: float = 0.0

    def validate(self) -> None:
        check_number("sigma", self.sigma, minimum=0)

    @property
    def obs_channels(self) -> Channels:
        return Channels(fixation=1, stimulus=4)

    @property
    def action_channels(self) -> Channels:
        return Channels(fixation=1, go=1)

    @property
    def answers(self) -> tuple[int, ...]:
        return (0, 1)  # withhold (no-go) or go

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        pair = np.asarray(self.pairs)[rng.integers(len(self.pairs), size=n)]
        go = (np.diff(pair, axis=1)[:, 0] % 2 == 0).astype(np.int64)
        units = np.eye(4)
        trials = self.trials(rng, n)
        trials.set("fixation", 1.0, "fixation", "stim1", "delay_btw_stim", "stim2", "delay_aft_stim")
        trials.set("stimulus", units[pair[:, 0]], "stim1")
        trials.set("stimulus", units[pair[:, 1]], "stim2")
        trials.add_noise(rng, "stimulus", "stim1", "stim2", sparse=False)
        trials.answer(go, "decision")
        return trials.build(ground_truth=go, answer=go, stim1=pair[:, 0], stim2=pair[:, 1])

    def _chance(self) -> Level:
        return Level(0.5, "exact: half the pairs are go trials; always go and always withhold both score 0.5")

    def _ceiling(self) -> Level:
        if self.sigma == 0:
            return super()._ceiling()
        units = np.eye(4)
        pairs = np.asarray(self.pairs)
        means = np.stack([units[pairs[:, 0]], units[pairs[:, 1]]], axis=1)
        answers = (np.diff(pairs, axis=1)[:, 0] % 2 == 0).astype(int)
        steps = self.joint_steps("stim1", "stim2")
        return monte_carlo(bayes_success(means, answers, steps, self.noise_std), DRAWS, _BAYES)


@dataclass(frozen=True, kw_only=True, eq=False)
class IntervalDiscrimination(TimedTask):
    """Which of two stimuli lasted longer? Durations are drawn on every trial.

    Equal (floored) durations count as "second longer", as in NeuroGym, so the task
    stays noise-free and the oracle's ceiling of 1 is reachable.
    """

    default_timing: ClassVar = {
        "fixation": 300,
        "stim1": ("uniform", (300, 600)),
        "delay1": ("uniform", (800, 1500)),
        "stim2": ("uniform", (300, 600)),
        "delay2": 500,
        "decision": 300,
    }

    dt: float = 80.0

    @property
    def obs_channels(self) -> Channels:
        return Channels(fixation=1, stim1=1, stim2=1)

    @property
    def action_channels(self) -> Channels:
        return Channels(fixation=1, choice=2)

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        trials = self.trials(rng, n)
        first, second = trials.steps["stim1"], trials.steps["stim2"]
        answer = np.where(first > second, 1, 2)
        trials.set("fixation", 1.0, "fixation", "stim1", "delay1", "stim2", "delay2")
        trials.set("stim1", 1.0, "stim1")
        trials.set("stim2", 1.0, "stim2")
        trials.answer(answer, "decision")
        return trials.build(ground_truth=answer, answer=answer, duration1=first * self.dt, duration2=second * self.dt)

    evidence_name: ClassVar[str] = "duration1 - duration2 (ms)"

    def signed_evidence(self, records: Any) -> np.ndarray:
        """For the psychometric curve: how much longer the first stimulus was (answer 1)."""
        return np.asarray(records["duration1"], dtype=float) - np.asarray(records["duration2"], dtype=float)

    def _chance(self) -> Level:
        """Exact: equal (floored) durations count as "second longer", so that answer is
        more likely than 1/2 and always giving it is the best blind policy."""
        first = _floor_distribution(durations_of(self)["stim1"], self.dt)
        second = _floor_distribution(durations_of(self)["stim2"], self.dt)
        p_first = sum(p * q for i, p in first.items() for j, q in second.items() if i > j)
        return Level(max(p_first, 1 - p_first), "exact: the more frequent answer, from the floored duration laws")


def _floor_distribution(duration: Any, dt: float) -> dict[int, float]:
    """P(steps = k) of a duration floored to ``dt``: exact for constant, choice and
    uniform laws (the quantile grid of others approximates it to 1e-3)."""
    from neurobench.core.timing import Choice, Constant, Uniform, to_steps

    if isinstance(duration, Constant | Choice):
        values = to_steps(duration.representative(), dt)
        keys, counts = np.unique(values, return_counts=True)
        return {int(k): float(c / counts.sum()) for k, c in zip(keys, counts, strict=True)}
    if isinstance(duration, Uniform) and duration.high > duration.low:
        low, high = duration.low, duration.high
        out = {}
        for k in range(int(to_steps(low, dt)), int(to_steps(high, dt)) + 1):
            overlap = min(high, (k + 1) * dt) - max(low, k * dt)
            if overlap > 0:
                out[k] = overlap / (high - low)
        return out
    values = to_steps(duration.representative(), dt)
    keys, counts = np.unique(values, return_counts=True)
    return {int(k): float(c / counts.sum()) for k, c in zip(keys, counts, strict=True)}


@dataclass(frozen=True, kw_only=True, eq=False)
class DelayMatchSampleDistractor1D(TimedTask):
    """Delayed match-to-sample through distractors: answer at the test that matches.

    A sample direction, then three tests, each after a delay (Miller et al. 1996's ABBA
    design, one-dimensional): exactly one test, uniformly the first, second or third,
    repeats the sample; the others are directions drawn anew. The agent fixates through
    the fixation and sample periods and answers ``match`` during the matching test;
    answering at any other time (a delay, a distractor) fails and ends the trial, and
    letting the match pass is a miss. Inputs are a 32-unit ring ``cos(theta_i -
    direction)`` with noise of std ``sigma / sqrt(dt)`` during the sample and tests.

    Chance is exact: a blind answer time lands in the matching test for a third of the
    trials. The ceiling is a bound: the Bayes observer that sees all three tests before
    answering (the posterior of each test being the match has a closed form, von Mises
    integrals over the unknown directions), which no agent answering as tests come can
    beat; the ideal observer answers at a test's last step when that test is at least as
    likely the match as the ones still to come (about 0.983 against the bound's 0.992 by
    default: a distractor close to the sample must be answered or let pass before the
    real match is seen).
    """

    default_timing: ClassVar = {
        "fixation": 300,
        "sample": 500,
        "delay1": 1000,
        "test1": 500,
        "delay2": 1000,
        "test2": 500,
        "delay3": 1000,
        "test3": 500,
    }
    default_rewards: ClassVar = {**STANDARD_REWARDS, "fail": -1.0}
    tests: ClassVar[tuple[str, ...]] = ("test1", "test2", "test3")
    dim_ring: ClassVar[int] = 32

    sigma: float = 1.0

    def validate(self) -> None:
        check_number("sigma", self.sigma, minimum=0)

    @property
    def hold_periods(self) -> tuple[str, ...]:
        return ("fixation", "sample")

    @property
    def response_periods(self) -> tuple[tuple[str, ...], ...]:
        return (self.periods[2:],)

    @property
    def input_range(self) -> tuple[float, float]:
        return (-1.0, 1.0)

    @property
    def obs_channels(self) -> Channels:
        return Channels(fixation=1, stimulus=self.dim_ring)

    @property
    def action_channels(self) -> Channels:
        return Channels(fixation=1, match=1)

    @cached_property
    def rule(self) -> ResponseRule:
        return TimingWindow(self.hold_periods, self.response_periods, self.rewards, self.abort)  # type: ignore[arg-type]

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        match = rng.integers(1, len(self.tests) + 1, size=n)
        sample = rng.uniform(0, 2 * np.pi, size=n)
        tests = rng.uniform(0, 2 * np.pi, size=(n, len(self.tests)))
        tests[np.arange(n), match - 1] = sample
        theta = _ring(self.dim_ring)
        trials = self.trials(rng, n)
        trials.set("fixation", 1.0, "fixation")
        trials.set("stimulus", np.cos(theta[None, :] - sample[:, None]), "sample")
        for k, period in enumerate(self.tests):
            trials.set("stimulus", np.cos(theta[None, :] - tests[:, k : k + 1]), period)
        trials.add_noise(rng, "stimulus", "sample", *self.tests)
        on_time = np.zeros((n, trials.max_length), dtype=bool)
        for k, period in enumerate(self.tests):
            on_time |= trials.mask(period) & (match == k + 1)[:, None]
        trials.target[on_time] = 1
        trials.on_time = on_time  # type: ignore[attr-defined]
        named = {period: tests[:, k] for k, period in enumerate(self.tests)}
        return trials.build(ground_truth=match, answer=np.ones(n, int), sample=sample, **named)

    def _chance(self) -> Level:
        return Level(1 / len(self.tests), "exact: a blind answer falls in the matching test on a third of the trials")

    def _ceiling(self) -> Level:
        if self.noise_std == 0:
            return super()._ceiling()
        draws, rng = DRAWS, np.random.default_rng(0)
        combos = self.joint_steps("sample", *self.tests)
        steps = combos[rng.integers(len(combos), size=draws)].astype(float)  # [draws, 4]
        match = rng.integers(len(self.tests), size=draws)
        angle = rng.uniform(0, 2 * np.pi, size=(draws, 1 + len(self.tests)))
        angle[np.arange(draws), 1 + match] = angle[:, 0]
        summed = self._summed_evidence(angle, steps, rng)
        chosen = np.argmax(match_evidence(summed, self.noise_std), axis=1)
        value = float(np.mean(chosen == match))
        return Level(
            value,
            f"bound: the Bayes observer that sees every test before answering ({DRAWS // 1000}k seeded draws)",
            "bound",
            float(np.sqrt(value * (1 - value) / draws)),
        )

    def _summed_evidence(self, angle: np.ndarray, steps: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Per period, ``sum_t sum_i x_it e^{i theta_i}`` of the noisy ring input, drawn from its
        exact law: ``(N/2) n e^{i angle}`` plus complex Gaussian noise of variance ``(N/2) n
        s^2`` per part (s: the noise std per step)."""
        half = self.dim_ring / 2
        spread = np.sqrt(half * steps) * self.noise_std
        noise = rng.standard_normal((*angle.shape, 2))
        return half * steps * np.exp(1j * angle) + spread * (noise[..., 0] + 1j * noise[..., 1])

    def ideal_observer(self) -> Agent:
        return DistractorObserver()


def match_evidence(summed: np.ndarray, noise_std: float) -> np.ndarray:
    """Log-likelihood ratio that each test (columns 1..) repeats the sample (column 0),
    from the summed ring evidence ``z``: ``log I0(|z_s + z_k| / s^2) - log I0(|z_s| / s^2)
    - log I0(|z_k| / s^2)`` (the unknown directions integrated out; s: the noise std per
    step)."""
    from scipy.special import i0e

    def log_i0(x: np.ndarray) -> np.ndarray:
        return np.log(i0e(x)) + x

    scale = 1 / noise_std**2
    sample, tests = summed[:, :1], summed[:, 1:]
    return log_i0(np.abs(sample + tests) * scale) - log_i0(np.abs(sample) * scale) - log_i0(np.abs(tests) * scale)


class DistractorObserver(Agent):
    """The ideal observer of DelayMatchSampleDistractor1D (see the task): sums the ring
    evidence of the sample and of each test (inputs are exactly zero between stimuli, so
    stimulus onsets are seen) and, at a test's last step, answers when that test is at
    least as likely the match as all the tests still to come together."""

    name: ClassVar[str] = "ideal"

    def prepare(self, task: Any) -> None:
        self.task = task
        self.units = np.exp(1j * _ring(task.dim_ring))
        self.lengths = [max(int(to_steps(durations_of(task)[p].bounds[0], task.dt)), 1) for p in task.tests]

    def initial_state(self, num_envs: int, *, seed: int) -> dict[str, np.ndarray]:
        k = len(self.lengths)
        return {
            "summed": np.zeros((num_envs, 1 + k), dtype=complex),
            "seen": np.zeros(num_envs, dtype=np.int64),
            "run": np.zeros(num_envs, dtype=np.int64),
        }

    def act(self, obs: np.ndarray, state: dict[str, np.ndarray], info: Mapping[str, np.ndarray]) -> tuple[Any, Any]:
        summed, seen, run = state["summed"].copy(), state["seen"].copy(), state["run"].copy()
        new = np.asarray(info["new_trial"])
        summed[new], seen[new], run[new] = 0, 0, 0
        stimulus = obs[:, self.task.obs_channels["stimulus"]].astype(np.float64)
        on = np.any(stimulus != 0, axis=1)
        z = stimulus @ self.units
        testing = np.asarray(info["window"]) > 0
        rows = np.arange(len(obs))
        summed[rows[on & ~testing], 0] += z[on & ~testing]
        onset = on & testing & (run == 0)
        seen = seen + onset
        run = np.where(on & testing, run + 1, 0)
        current = np.clip(seen, 1, len(self.lengths))
        live = on & testing
        summed[rows[live], current[live]] += z[live]
        due = live & (run == np.asarray(self.lengths)[current - 1])
        run = np.where(due, 0, run)  # a stimulus right after counts as the next test
        action = np.zeros(len(obs), dtype=np.int64)
        if due.any():
            evidence = match_evidence(summed[due], self.task.noise_std)
            k = current[due]
            mine = evidence[np.arange(len(k)), k - 1]
            later = len(self.lengths) - k  # tests still to come: each as likely as before (ratio 1)
            action[due] = (np.exp(np.minimum(mine, 700.0)) >= later).astype(np.int64)
        return action, {"summed": summed, "seen": seen, "run": run}


@dataclass(frozen=True, kw_only=True, eq=False)
class MemoryRecall(TimedTask):
    """Store marked patterns in a stream and recall each from a degraded cue.

    NeuroGym's generic associative-memory task (it cites no paper; the problem is Hopfield
    1982's pattern completion from a partial cue). A trial lasts ``T`` steps
    (uniform integer in ``[t_min, t_max]``): in the ``store`` period each step shows a
    random binary pattern of ``stim_dim`` elements (+-1, or 0/1 if not ``balanced``), and
    ``int(p_recall * T)`` of them, at random, carry the ``store`` signal; in the
    ``recall`` period those patterns come back, in random order, degraded: each element
    hidden (0) with probability ``2 (1 - memoryless_accuracy)`` (balanced) or flipped with
    probability ``1 - memoryless_accuracy`` (not balanced), and the agent outputs the
    whole pattern (a ``Box`` action in [-1, 1]). A recall step is correct when every
    element is on the right side (within half the gap between the two pattern values of
    its target), and a trial when every recall step is; each recall step pays minus the
    mean absolute error. ``memoryless_accuracy`` is what NeuroGym calls ``chance``: the
    per-element accuracy of an agent that reads the cue without memory.

    Chance is exact: a stimulus-blind output is a given pattern, right with probability
    2^-stim_dim per recall. The ceiling is the observer that keeps every marked pattern
    and, at each recall, outputs one of the remaining ones consistent with the cue
    (balanced: agreeing on every shown element; exact, a finite sum) or the most
    likely one given the flips (not balanced: seeded Monte Carlo); its errors are cues too
    degraded to tell two marked patterns apart.
    """

    dt: float = 1.0
    stim_dim: int = 10
    t_min: int = 15
    t_max: int = 25
    t_distribution: str = "uniform"
    p_recall: float = 0.1
    memoryless_accuracy: float = 0.7
    balanced: bool = True

    default_timing: ClassVar = {"store": 0, "recall": 0}  # set from t_min, t_max and p_recall
    default_rewards: ClassVar = {}
    distributions: ClassVar[tuple[str, ...]] = ("uniform",)

    def _resolve_timing(self, given: Mapping[str, Any] | None) -> dict[str, Duration]:
        """Period durations follow from ``t_min``, ``t_max`` and ``p_recall`` (in steps)."""
        if given is not None:
            raise InvalidParameterError(
                f"timing of {self.name} follows from t_min, t_max and p_recall (in steps); it cannot be set"
            )
        check_int("stim_dim", self.stim_dim, minimum=1)
        check_int("t_min", self.t_min, minimum=2)
        check_int("t_max", self.t_max, minimum=self.t_min)
        if self.t_distribution not in self.distributions:
            raise UnknownNameError(f"t_distribution of {self.name}", self.t_distribution, self.distributions)
        check_number("p_recall", self.p_recall, minimum=0)
        if not 0 < self.p_recall <= 0.5 or int(self.p_recall * self.t_min) < 1:
            raise InvalidParameterError(
                f"p_recall of {self.name} must be in (0, 0.5] (no more patterns recalled than stored) and leave at "
                f"least one recall at t_min={self.t_min}, got {self.p_recall!r}"
            )
        check_number("memoryless_accuracy", self.memoryless_accuracy, minimum=0.5)
        if self.memoryless_accuracy > 1:
            raise InvalidParameterError(
                f"memoryless_accuracy of {self.name} must be in [0.5, 1], got {self.memoryless_accuracy!r}"
            )
        if not isinstance(self.balanced, bool):
            raise InvalidParameterError(f"balanced of {self.name} must be true or false, got {self.balanced!r}")
        recall = self._recalls(self._lengths)
        return {
            "store": Choice(tuple(float(v) for v in (self._lengths - recall) * self.dt)),
            "recall": Choice(tuple(float(v) for v in recall * self.dt)),
        }

    def params(self) -> dict[str, Any]:
        out = super().params()
        out.pop("timing")
        return out

    @property
    def _lengths(self) -> np.ndarray:
        return np.arange(self.t_min, self.t_max + 1)

    def _recalls(self, lengths: np.ndarray) -> np.ndarray:
        return np.floor(self.p_recall * lengths + 1e-9).astype(np.int64)

    @property
    def hold_periods(self) -> tuple[str, ...]:
        return ()

    @property
    def response_periods(self) -> tuple[str, ...]:
        return ("recall",)

    @property
    def obs_channels(self) -> Channels:
        return Channels(stimulus=self.stim_dim, store=1)

    @property
    def action_channels(self) -> Channels:
        return Channels(pattern=self.stim_dim)

    @cached_property
    def observation_space(self) -> gym.spaces.Box:
        return gym.spaces.Box(-1.0, 1.0, shape=(self.stim_dim + 1,), dtype=np.float32)

    @cached_property
    def action_space(self) -> gym.spaces.Box:
        return gym.spaces.Box(-1.0, 1.0, shape=(self.stim_dim,), dtype=np.float32)

    @property
    def _low(self) -> float:
        return -1.0 if self.balanced else 0.0

    @cached_property
    def rule(self) -> ResponseRule:
        from neurobench.tasks.motor import ReportEveryStep

        return ReportEveryStep("recall", self._measure, (1.0 - self._low) / 2)

    @staticmethod
    def _measure(target: np.ndarray, action: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        error = np.abs(action - target)
        return error.max(axis=-1), -error.mean(axis=-1)

    def payoff_range(self) -> tuple[float, float]:
        return -2.0, 0.0

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        length = rng.integers(self.t_min, self.t_max + 1, size=n)
        recall = self._recalls(length)
        store = length - recall
        trials = self.trials(rng, n, {"store": store, "recall": recall})
        d, horizon = self.stim_dim, trials.max_length
        patterns = (rng.random((n, horizon, d)) > 0.5).astype(np.float32)
        if self.balanced:
            patterns = patterns * 2 - 1
        t = np.arange(horizon)[None, :]
        stored = t < store[:, None]
        # the marked steps: a random subset of the store steps, in a random (recall) order
        keys = np.where(stored, rng.random((n, horizon)), 2.0)
        order = np.argsort(keys, axis=1, kind="stable")
        slot = t - store[:, None]  # recall step j brings back the j-th marked pattern
        recalling = (slot >= 0) & (t < length[:, None])
        rows = np.arange(n)[:, None]
        marked = order[rows, np.clip(slot, 0, horizon - 1)]  # [n, T] the pattern each recall step shows
        target = np.where(recalling[..., None], patterns[rows, marked], 0.0).astype(np.float32)
        noise = rng.random((n, horizon, d))
        if self.balanced:
            cue = np.where(noise > 2 * (1 - self.memoryless_accuracy), target, 0.0)
        else:
            flip = noise < 1 - self.memoryless_accuracy
            cue = np.where(flip, 1 - target, target) * recalling[..., None]
        c = self.obs_channels
        trials.obs[..., c["stimulus"]] = np.where(stored[..., None], patterns, cue)
        signal = np.zeros((n, horizon), dtype=np.float32)
        first_marked = order[:, : int(recall.max())] if recall.max() else np.zeros((n, 0), dtype=np.int64)
        chosen = np.arange(first_marked.shape[1])[None, :] < recall[:, None]
        signal[np.broadcast_to(np.arange(n)[:, None], first_marked.shape)[chosen], first_marked[chosen]] = 1.0
        trials.obs[..., c["store"].start] = signal
        trials.target[...] = target
        return trials.build(length=length, n_recall=recall)

    def _chance(self) -> Level:
        recall = self._recalls(self._lengths)
        value = float(np.mean(0.5 ** (self.stim_dim * recall)))
        return Level(value, "exact: a stimulus-blind pattern is right with probability 2^-stim_dim per recall")

    def blind_policy(self) -> Agent:
        from neurobench.tasks.motor import ConstantVector

        return ConstantVector(np.ones(self.stim_dim))

    def _ceiling(self) -> Level:
        recall = self._recalls(self._lengths)
        if self.balanced:
            per = {
                r: _consistent_recall(self.stim_dim, 1 - 2 * (1 - self.memoryless_accuracy), r)
                for r in set(recall.tolist())
            }
            return Level(
                float(np.mean([per[r] for r in recall.tolist()])),
                "exact: remembering every marked pattern and outputting one consistent with the cue's shown elements",
            )
        per_mc = {r: _flipped_recall(self.stim_dim, 1 - self.memoryless_accuracy, r) for r in set(recall.tolist())}
        value = float(np.mean([per_mc[r] for r in recall.tolist()]))
        draws = DRAWS // 4
        return Level(
            value,
            f"estimate: remembering every marked pattern and outputting the most likely one given the flipped cue "
            f"({draws // 1000}k seeded draws per recall count)",
            "estimate",
            float(np.sqrt(max(value * (1 - value), 0.0) / (draws * len(set(recall.tolist()))))),
        )

    def ideal_observer(self) -> Agent:
        return RecallObserver()


def _consistent_recall(dim: int, p_shown: float, recalls: int) -> float:
    """P(every recall right) for the observer that outputs a remaining marked pattern
    consistent with the cue: at recall j, each of the ``recalls - j`` other remaining
    patterns agrees with the ``k`` shown elements with probability ``2^-k`` and is then
    the same pattern with probability ``2^-(dim - k)``; the observer picks one of the
    consistent ones."""
    from scipy.stats import binom

    shown = np.arange(dim + 1)
    p_k = binom.pmf(shown, dim, p_shown)
    success = 1.0
    for others in range(recalls - 1, 0, -1):  # the last recall has no other candidate left
        c = np.arange(others + 1)
        p_c = binom.pmf(c[None, :], others, 0.5 ** shown[:, None])  # [k, c]
        right = (1 + c[None, :] * 0.5 ** (dim - shown[:, None])) / (1 + c[None, :])
        success *= float(p_k @ (p_c * right).sum(axis=1))
    return success


def _flipped_recall(dim: int, p_flip: float, recalls: int, draws: int = DRAWS // 4) -> float:
    """Monte Carlo of P(every recall right) for the observer that outputs the remaining
    marked pattern closest (in Hamming distance) to a cue with flipped elements, ties
    split evenly."""
    rng = np.random.default_rng(0)
    success = np.ones(draws)
    for others in range(recalls - 1, -1, -1):
        truth = rng.random((draws, dim)) < 0.5
        rest = rng.random((draws, others, dim)) < 0.5
        cue = truth ^ (rng.random((draws, dim)) < p_flip)
        own = (truth != cue).sum(axis=1)
        theirs = (rest != cue[:, None]).sum(axis=2)
        same = (rest == truth[:, None]).all(axis=2)
        closer = (theirs < own[:, None]).any(axis=1)
        tied = (theirs == own[:, None]) & ~same
        twins = ((theirs == own[:, None]) & same).sum(axis=1)
        success *= np.where(closer, 0.0, (1 + twins) / (1 + twins + tied.sum(axis=1)))
    return float(success.mean())


class RecallObserver(Agent):
    """The ideal observer of MemoryRecall: keeps each pattern shown with the store signal;
    at each recall outputs the first remaining one that agrees with the cue's shown
    elements (balanced) or is closest to the cue (not balanced), and sets it aside."""

    name: ClassVar[str] = "ideal"

    def prepare(self, task: Any) -> None:
        self.task = task
        self.capacity = max(int(task._recalls(task._lengths).max()), 1)

    def initial_state(self, num_envs: int, *, seed: int) -> dict[str, np.ndarray]:
        return {
            "memory": np.zeros((num_envs, self.capacity, self.task.stim_dim), dtype=np.float32),
            "count": np.zeros(num_envs, dtype=np.int64),
            "used": np.zeros((num_envs, self.capacity), dtype=bool),
        }

    def act(self, obs: np.ndarray, state: dict[str, np.ndarray], info: Mapping[str, np.ndarray]) -> tuple[Any, Any]:
        memory, count, used = state["memory"].copy(), state["count"].copy(), state["used"].copy()
        new = np.asarray(info["new_trial"])
        count[new], used[new] = 0, False
        c = self.task.obs_channels
        stimulus = obs[:, c["stimulus"]]
        recalling = np.asarray(info["window"]) > 0
        storing = ~recalling & (obs[:, c["store"].start] > 0.5) & (count < self.capacity)
        rows = np.flatnonzero(storing)
        memory[rows, count[rows]] = stimulus[rows]
        count = count + storing
        action = np.zeros((len(obs), self.task.stim_dim), dtype=np.float32)
        rows = np.flatnonzero(recalling)
        if len(rows):
            cue = stimulus[rows][:, None, :]
            kept = memory[rows]
            available = (np.arange(self.capacity)[None, :] < count[rows, None]) & ~used[rows]
            if self.task.balanced:
                fit = np.where(((kept == cue) | (cue == 0)).all(axis=2), 0, 1)
            else:
                fit = (kept != cue).sum(axis=2)
            pick = np.where(available, fit, np.iinfo(np.int64).max).argmin(axis=1)
            action[rows] = kept[np.arange(len(rows)), pick]
            used[rows, pick] = True
        return action, {"memory": memory, "count": count, "used": used}


SPECS = [
    *frozen_versions(
        DelayMatchSample,
        family="working_memory",
        tags=("perceptual", "working memory", "two-alternative", "supervised"),
        paper=Paper(
            "Miller et al. (1996)",
            "Neural mechanisms of visual working memory in prefrontal cortex of the macaque",
            "https://www.jneurosci.org/content/jneuro/16/16/5154.full.pdf",
        ),
    ),
    *frozen_versions(
        DelayMatchCategory,
        family="working_memory",
        tags=("perceptual", "working memory", "two-alternative", "supervised"),
        paper=Paper(
            "Freedman & Assad (2006)",
            "Experience-dependent representation of visual categories in parietal cortex",
            "https://www.nature.com/articles/nature05078",
        ),
        deviations=(
            "4 ring units by default: with NeuroGym's 2, both categories give the same inputs and the task "
            "cannot be solved above chance.",
            "A withheld answer is a miss and counts as a failure (NeuroGym's performance measure ignores it, "
            "its issue #22).",
        ),
    ),
    *frozen_versions(
        DelayComparison,
        family="working_memory",
        tags=("perceptual", "working memory", "two-alternative", "supervised"),
        paper=Paper(
            "Barak et al. (2010)",
            "Neuronal population coding of parametric working memory",
            "https://www.jneurosci.org/content/30/28/9424",
        ),
        deviations=("Input noise goes on the stimulus unit only (NeuroGym also perturbs the fixation input).",),
    ),
    *frozen_versions(
        DualDelayMatchSample,
        family="working_memory",
        tags=("perceptual", "working memory", "two-alternative", "supervised"),
        paper=Paper(
            "Rose et al. (2016)",
            "Reactivation of latent working memories with transcranial magnetic stimulation",
            "https://science.sciencemag.org/content/354/6316/1136",
        ),
        deviations=(
            "Each test is scored once, and a trial is correct only if both answers are (NeuroGym rewards "
            "repeated answers during the first test).",
            "Input noise goes on the stimulus units only (NeuroGym also perturbs the fixation and cue inputs).",
        ),
    ),
    *frozen_versions(
        DelayPairedAssociation,
        family="working_memory",
        tags=("perceptual", "working memory", "go-no-go", "supervised"),
        paper=Paper(
            "Yu et al. (2019)",
            "Active information maintenance in working memory by a sensory cortex",
            "https://elifesciences.org/articles/43191",
        ),
        deviations=(
            "Withholding through a no-go trial is correct (NeuroGym's performance is 0 on every no-go trial, "
            "its issue #22).",
        ),
    ),
    *frozen_versions(
        IntervalDiscrimination,
        family="working_memory",
        tags=("timing", "working memory", "delayed response", "two-alternative", "supervised"),
        paper=Paper(
            "Genovesio et al. (2009)",
            "Feature- and order-based timing representations in the frontal cortex",
            "https://www.sciencedirect.com/science/article/pii/S0896627309004887",
        ),
    ),
    TaskSpec(
        "DelayMatchSampleDistractor1D",
        0,
        DelayMatchSampleDistractor1D,
        {},
        "working_memory",
        ("perceptual", "working memory", "two-alternative", "supervised"),
        Paper(
            "Miller et al. (1996)",
            "Neural mechanisms of visual working memory in prefrontal cortex of the macaque",
            "https://www.jneurosci.org/content/jneuro/16/16/5154.full.pdf",
        ),
        deviations=(
            "The sample and tests carry input noise of std sigma / sqrt(dt) on the stimulus units; NeuroGym accepts "
            "sigma but never uses it, so its trials are noise-free (sigma=0 gives them).",
        ),
    ),
    TaskSpec(
        "MemoryRecall",
        0,
        MemoryRecall,
        {},
        "working_memory",
        (
            "working memory",
            "associative memory",
            "continuous action space",
            "multidimensional action space",
            "supervised",
        ),
        Paper(  # NeuroGym cites none; the pattern completion from partial cues it poses
            "Hopfield (1982)",
            "Neural networks and physical systems with emergent collective computational abilities",
            "https://www.pnas.org/doi/10.1073/pnas.79.8.2554",
        ),
        deviations=(
            "NeuroGym 2.3.1 cannot build it (TrialEnv refuses its empty timing), so this is the task its code "
            "describes, with periods named store and recall.",
            "Each recall step pays minus the mean absolute error, and a trial is correct when every recalled element "
            "is on the right side; NeuroGym's reward is the error itself, with a plus sign, and no success is defined.",
            "NeuroGym's chance parameter is called memoryless_accuracy (chance is every task's chance level), "
            "store_signal_dim is dropped (the store signal is one unit whatever it says) and actions are bounded to "
            "[-1, 1].",
        ),
    ),
]
