"""Working memory: hold a stimulus (or its category, duration, identity) across a delay.

Noise follows NeuroGym: Gaussian, std ``sigma / sqrt(dt)`` per step. NeuroGym adds it
to every input channel in some of these tasks (fixation and cue inputs included);
here it goes on stimulus inputs only, as in the experiments, where the fixation point
and cues are not noisy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from neurobench.core.ceilings import DRAWS, bayes_success, monte_carlo
from neurobench.core.channels import Channels
from neurobench.core.checks import check_int, check_number
from neurobench.core.errors import InvalidParameterError
from neurobench.core.levels import uniform
from neurobench.core.task import STANDARD_REWARDS, Level, Paper, TimedTask
from neurobench.core.trials import TrialBatch
from neurobench.tasks.versions import frozen_versions

MATCH, NON_MATCH = 1, 2
_BAYES = "Monte Carlo (200k seeded draws) of the Bayes-optimal observer"


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
        trials.add_noise(rng, "stimulus", "sample", "test")
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
        trials.add_noise(rng, "stimulus", "sample", "test")
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
        trials.add_noise(rng, "stimulus", "stimulus1", "stimulus2")
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
            trials.add_noise(rng, name, "sample", "test1", "test2")
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
        trials.add_noise(rng, "stimulus", "stim1", "stim2")
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
        first = _floor_distribution(self.timing["stim1"], self.dt)
        second = _floor_distribution(self.timing["stim2"], self.dt)
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
]
