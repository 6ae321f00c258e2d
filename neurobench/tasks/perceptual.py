"""Perceptual decisions: integrate noisy or discrete evidence, then report a choice.

Each task here exposes ``evidence_weights()``: the linear readout of its observations
whose sum over the trial is a sufficient statistic for the choice. The ideal observer
(``neurobench.agents.IdealObserver``) accumulates it, and the tasks' ceilings are that
observer's exact success rates.

The IBL tasks and NeuroGym's perceptual collections (``ibl20``, ``roitman02``) close the
module. The block-prior tasks have history: their chance is the best history-only policy
(an exact Bayes filter over the blocks), their ceiling a bound, and their ideal observer
that filter's prior times the stimulus likelihood.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import numpy as np

from neurobench.agents.base import Agent
from neurobench.core.channels import Channels
from neurobench.core.checks import check_int, check_number, check_values
from neurobench.core.errors import InvalidParameterError
from neurobench.core.levels import uniform
from neurobench.core.registry import variants
from neurobench.core.task import Level, Paper, TimedTask, TrialTask, resolved_timing
from neurobench.core.timing import Derived, Duration, parse_duration
from neurobench.core.trials import TrialBatch
from neurobench.tasks.versions import frozen_versions
from neurobench.wrappers.ground_truth import draw_index
from neurobench.wrappers.history import AnswerSchedule, BlockFilter
from neurobench.wrappers.reaction_time import ReactionTime

_EXACT = "exact: ideal observer's Gaussian evidence sum, averaged over conditions"


@dataclass(frozen=True, kw_only=True, eq=False)
class PerceptualDecisionMaking(TimedTask):
    """Random-dot motion discrimination: report the direction of a noisy stimulus.

    ``dim_ring`` stimulus units tile a ring of directions and respond to the true one
    with cosine tuning scaled by the coherence, plus Gaussian noise of std
    ``sigma / sqrt(dt)`` per step. The answer is given in the decision period.
    """

    default_timing: ClassVar = {"fixation": 100, "stimulus": 2000, "delay": 0, "decision": 100}

    dim_ring: int = 2
    cohs: tuple[float, ...] = (0.0, 6.4, 12.8, 25.6, 51.2)
    sigma: float = 1.0

    def validate(self) -> None:
        check_int("dim_ring", self.dim_ring, minimum=2)
        check_values("cohs", self.cohs, minimum=0)
        check_number("sigma", self.sigma, minimum=0)

    @property
    def obs_channels(self) -> Channels:
        return Channels(fixation=1, stimulus=self.dim_ring)

    @property
    def action_channels(self) -> Channels:
        return Channels(fixation=1, choice=self.dim_ring)

    @property
    def theta(self) -> np.ndarray:
        return np.linspace(0, 2 * np.pi, self.dim_ring, endpoint=False)

    @property
    def input_range(self) -> tuple[float, float]:
        swing = max(self.cohs) / 200
        return min(0.0, 0.5 - swing), max(1.0, 0.5 + swing)

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        choice = rng.integers(self.dim_ring, size=n)
        coh = np.asarray(self.cohs)[rng.integers(len(self.cohs), size=n)]
        trials = self.trials(rng, n)
        tuning = np.cos(self.theta[None, :] - self.theta[choice][:, None])
        trials.set("fixation", 1.0, "fixation")
        trials.set("stimulus", 0.5 + tuning * coh[:, None] / 200, "stimulus")
        trials.add_noise(rng, "stimulus", "stimulus", sparse=False)
        trials.answer(choice + 1, "decision")
        return trials.build(ground_truth=choice, answer=choice + 1, coh=coh)

    def _chance(self) -> Level:
        return uniform(self.dim_ring)

    def evidence_weights(self) -> np.ndarray:
        """Matched filter. With cosine tuning and equal noise on every unit, the choice
        whose tuning curve best correlates with the summed input is the most likely one
        at any coherence, so argmax of this readout is the Bayes-optimal decision."""
        weights = np.zeros((self.obs_channels.size, self.dim_ring))
        weights[self.obs_channels["stimulus"]] = self._tuning()
        return weights

    def evidence_model(self, batch: TrialBatch) -> tuple[np.ndarray, np.ndarray] | None:
        """Two choices: per trial, the mean and std of the summed input difference between
        the true choice's unit and the other (the ideal observer's statistic)."""
        if self.dim_ring != 2:
            return None
        return _difference_model(batch, self.noise_std)

    def _ceiling(self) -> Level:
        """Ideal observer's success, averaged over coherences and stimulus durations.

        Two choices: the summed input difference over N steps has mean ``N*coh/100``
        and std ``sigma_step*sqrt(2N)``, so P(correct) = Phi(coh/100 sqrt(N/2) /
        sigma_step), exactly. A ring of more choices: the matched-filter scores are
        jointly Gaussian and P(argmax = truth) is integrated by Monte Carlo (seeded,
        200 000 draws, standard error < 0.002).
        """
        sigma_step = self.noise_std
        steps = self.period_steps("stimulus")[None, :]
        coh = np.asarray(self.cohs)[:, None] / 100
        if self.dim_ring == 2:
            return Level(_two_choice_success(coh * steps, sigma_step * np.sqrt(2 * steps)), _EXACT)
        if sigma_step == 0:
            p = np.where(coh * steps > 0, 1.0, 1 / self.dim_ring)
            return Level(float(p.mean()), "exact: noise-free stimulus")
        value = self._ring_ceiling(sigma_step, steps[0], coh[:, 0])
        return Level(
            value,
            "Monte Carlo of the ideal observer's matched-filter scores, 200k seeded draws",
            "estimate",
            float(np.sqrt(value * (1 - value) / 200_000)),
        )

    def _tuning(self) -> np.ndarray:
        return np.cos(self.theta[:, None] - self.theta[None, :])

    def _ring_ceiling(self, sigma_step: float, steps: np.ndarray, coh: np.ndarray) -> float:
        # Truth is choice 0. Score j = sum_t sum_k x_tk C[k, j] with C the tuning matrix:
        # mean N*coh/200 * (C.T @ C)[0, j], noise sigma_step*sqrt(N) * (z @ C)_j.
        rng = np.random.default_rng(0)
        draws = 200_000
        tuning = self._tuning()
        n = steps[rng.integers(len(steps), size=draws)][:, None]
        c = coh[rng.integers(len(coh), size=draws)][:, None]
        signal = n * c / 2 * (tuning.T @ tuning)[0][None, :]
        noise = sigma_step * np.sqrt(n) * (rng.standard_normal((draws, self.dim_ring)) @ tuning)
        return float(np.mean((signal + noise).argmax(axis=1) == 0))


@dataclass(frozen=True, kw_only=True, eq=False)
class PerceptualDecisionMakingDelayResponse(TimedTask):
    """Report which of two noisy inputs was larger, after a variable delay.

    The stimulus is shown with the fixation input on; the delay that follows is drawn
    from a set of durations, so the choice must be held in memory until the decision.
    """

    default_timing: ClassVar = {
        "fixation": 0,
        "stimulus": 1150,
        "delay": (300, 500, 700, 900, 1200, 2000, 3200, 4000),
        "decision": 1500,
    }

    cohs: tuple[float, ...] = (0.0, 6.4, 12.8, 25.6, 51.2)
    stim_scale: float = 1.0
    sigma: float = 1.0

    def validate(self) -> None:
        check_values("cohs", self.cohs, minimum=0)
        check_number("sigma", self.sigma, minimum=0)
        check_number("stim_scale", self.stim_scale)

    @property
    def obs_channels(self) -> Channels:
        return Channels(fixation=1, stimulus=2)

    @property
    def action_channels(self) -> Channels:
        return Channels(fixation=1, choice=2)

    @property
    def input_range(self) -> tuple[float, float]:
        swing = max(self.cohs) * abs(self.stim_scale) / 200
        return min(0.0, 0.5 - swing), max(1.0, 0.5 + swing)

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        choice = rng.integers(2, size=n)
        coh = np.asarray(self.cohs)[rng.integers(len(self.cohs), size=n)] * self.stim_scale
        trials = self.trials(rng, n)
        sign = np.where(np.arange(2)[None, :] == choice[:, None], 1.0, -1.0)
        trials.set("fixation", 1.0, "fixation", "stimulus", "delay")
        trials.set("stimulus", (1 + sign * coh[:, None] / 100) / 2, "stimulus")
        trials.add_noise(rng, "stimulus", "stimulus", sparse=False)
        trials.answer(choice + 1, "decision")
        return trials.build(ground_truth=choice, answer=choice + 1, coh=coh)

    def _chance(self) -> Level:
        return uniform(2)

    def evidence_weights(self) -> np.ndarray:
        weights = np.zeros((3, 2))
        weights[1:] = np.eye(2)
        return weights

    def evidence_model(self, batch: TrialBatch) -> tuple[np.ndarray, np.ndarray] | None:
        return _difference_model(batch, self.noise_std)

    def _ceiling(self) -> Level:
        """Exact: the two inputs differ by ``coh/100`` per step with independent noise,
        so P(correct) = Phi(coh/100 sqrt(N/2) / sigma_step) over N stimulus steps."""
        steps = self.period_steps("stimulus")[None, :]
        coh = np.asarray(self.cohs)[:, None] * abs(self.stim_scale) / 100
        return Level(_two_choice_success(coh * steps, self.noise_std * np.sqrt(2 * steps)), _EXACT)


@dataclass(frozen=True, kw_only=True, eq=False)
class PulseDecisionMaking(TimedTask):
    """Count brief pulses on two channels and report the side with more of them.

    In each of ``n_bin`` bins a pulse appears on each side with probability
    ``p_pulse`` (the richer side is random per trial). Equal counts are resolved by a
    coin flip, as in the task's source; the pulses themselves are noise-free.
    """

    dt: float = 10.0
    p_pulse: tuple[float, float] = (0.3, 0.7)
    n_bin: int = 6

    @property
    def default_timing(self) -> dict[str, Any]:  # type: ignore[override]
        bins = {}
        for i in range(self.n_bin):
            bins[f"cue{i}"], bins[f"bin{i}"] = 10, 240
        return {"fixation": 500, **bins, "decision": 500}

    def validate(self) -> None:
        check_int("n_bin", self.n_bin, minimum=1)
        if len(self.p_pulse) != 2 or not all(0 <= p <= 1 for p in self.p_pulse):
            raise InvalidParameterError(f"p_pulse must be two probabilities, got {self.p_pulse!r}")
        for i in range(self.n_bin):
            shortest = resolved_timing(self)[f"cue{i}"].bounds[0]
            if shortest < self.dt:
                raise InvalidParameterError(
                    f"PulseDecisionMaking: cue{i} can last {shortest:g} ms, less than dt = "
                    f"{self.dt:g} ms, so its pulse would never be shown; use dt <= {shortest:g} "
                    f"or longer cues"
                )

    @property
    def hold_periods(self) -> tuple[str, ...]:
        return tuple(p for p in self.timing if p != "decision")  # type: ignore[union-attr]

    @property
    def obs_channels(self) -> Channels:
        return Channels(fixation=1, stimulus=2)

    @property
    def action_channels(self) -> Channels:
        return Channels(fixation=1, choice=2)

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        richer_first = rng.random(n) < 0.5
        p = np.where(richer_first[:, None], self.p_pulse[::-1], self.p_pulse)  # [n, side]
        pulses = rng.random((n, 2, self.n_bin)) < p[:, :, None]
        counts = pulses.sum(axis=2) + np.stack([np.zeros(n), rng.uniform(-0.1, 0.1, n)], axis=1)
        choice = (counts[:, 0] < counts[:, 1]).astype(np.int64)
        trials = self.trials(rng, n)
        trials.set("fixation", 1.0, *self.hold_periods)
        for i in range(self.n_bin):
            trials.set("stimulus", pulses[:, :, i], f"cue{i}")
        trials.answer(choice + 1, "decision")
        return trials.build(ground_truth=choice, answer=choice + 1, pulse1=pulses[:, 0], pulse2=pulses[:, 1])

    evidence_name: ClassVar[str] = "pulses1 - pulses2"

    def signed_evidence(self, records: Any) -> np.ndarray:
        """For the psychometric curve: how many more pulses the first side had (answer 1)."""
        import json

        def count(column: str) -> np.ndarray:
            return np.array([np.sum(json.loads(v)) if isinstance(v, str) else np.sum(v) for v in records[column]])

        return count("pulse1") - count("pulse2")

    def _chance(self) -> Level:
        return uniform(2)  # the richer side is drawn 50/50 and ties are a fair coin

    def evidence_weights(self) -> np.ndarray:
        weights = np.zeros((3, 2))
        weights[1:] = np.eye(2)
        return weights

    def _ceiling(self) -> Level:
        """Exact: the observer counting pulses is right unless counts tie, and then the
        truth is a coin flip: 1 - P(tie)/2, with counts Binomial(n_bin, p) per side."""
        from scipy import stats

        k = np.arange(self.n_bin + 1)
        low, high = (stats.binom.pmf(k, self.n_bin, q) for q in self.p_pulse)
        return Level(float(1 - (low * high).sum() / 2), "exact: 1 - P(equal counts)/2")


def _difference_model(batch: TrialBatch, sigma_step: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std of the true-minus-other input summed over the stimulus: ``coh / 100``
    per step, and independent noise of ``sigma_step`` on each of the two inputs."""
    start, end = batch.periods["stimulus"]
    steps = (end - start).astype(float)
    return steps * np.abs(batch.conditions["coh"]) / 100, sigma_step * np.sqrt(2 * steps)


def _two_choice_success(signal: np.ndarray, noise_std: np.ndarray) -> float:
    """Mean P(correct) of a sign decision on ``signal + N(0, noise_std^2)``."""
    from scipy import stats

    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(noise_std > 0, signal / noise_std, np.where(signal > 0, np.inf, 0.0))
    return float(np.mean(stats.norm.cdf(z)))


SPECS = [
    *frozen_versions(
        PerceptualDecisionMaking,
        family="perceptual",
        tags=("perceptual", "two-alternative", "supervised"),
        paper=Paper(
            "Britten et al. (1992)",
            "The analysis of visual motion: a comparison of neuronal and psychophysical performance",
            "https://www.jneurosci.org/content/12/12/4745",
        ),
    ),
    *frozen_versions(
        PerceptualDecisionMakingDelayResponse,
        family="perceptual",
        tags=("perceptual", "delayed response", "two-alternative", "supervised"),
        paper=Paper(
            "Inagaki et al. (2019)",
            "Discrete attractor dynamics underlies persistent activity in the frontal cortex",
            "https://www.nature.com/articles/s41586-019-0919-7",
        ),
        deviations=(
            "Performance counts each trial's first answer in the decision period (NeuroGym rewards only the "
            "ground-truth action and leaves the others unscored).",
        ),
    ),
    *frozen_versions(
        PulseDecisionMaking,
        family="perceptual",
        tags=("perceptual", "two-alternative", "supervised"),
        paper=Paper(
            "Scott et al. (2015)",
            "Sources of noise during accumulation of evidence in unrestrained and voluntarily head-restrained rats",
            "https://elifesciences.org/articles/11308",
        ),
        deviations=(
            "A dt longer than the 10 ms pulses is refused: the pulses would fall between steps and be invisible.",
        ),
    ),
]


# -- the International Brain Laboratory task ------------------------------------------------------
_IBL_PAPER = Paper(
    "International Brain Laboratory et al. (2021)",
    "Standardized and reproducible measurement of decision-making in mice",
    "https://elifesciences.org/articles/63711",
)
_ROITMAN = Paper(
    "Roitman & Shadlen (2002)",
    "Response of neurons in the lateral intraparietal area during a combined visual discrimination reaction time task",
    "https://www.jneurosci.org/content/22/21/9475",
)


@dataclass(frozen=True, kw_only=True, eq=False)
class IBL(TimedTask):
    """The IBL visual decision (the basic task of trained mice): a grating of contrast
    ``c`` appears left or right, and turning the wheel reports its side.

    As in NeuroGym a trial is one 100 ms step; ``stimulus[0]`` (left) and ``stimulus[1]``
    (right) read ``0.5 ± c/200`` for the stimulus side and the other, plus Gaussian noise
    of std ``sigma / sqrt(dt)`` (0.1 per step by default: NeuroGym's). Action 1 answers
    left, 2 right; 0 keeps the wheel still, and a trial passed without an answer is a
    miss. Contrasts are the protocol's (%): 100, 25, 12.5, 6.25 and 0, each side equally
    likely; in the trained basic task the signed contrasts are drawn uniformly, so 0 %
    comes half as often as each other contrast (``zero_weight=0.5``); 0 % trials still
    have a rewarded side. NeuroGym's two-unit encoding is kept (the left-minus-right input
    is ``c/100`` per step, as for the family's motion coherence), and at this noise the
    observer's psychometric curve spans the mice's: about 0.67 correct at 6.25 %, all at
    100 %.

    Ceiling, exact: with equal priors the likelihood ratio of the sides is increasing in
    the summed left-minus-right input whatever the unknown contrast, so its sign is the
    Bayes decision, right with probability ``Phi(c/100 sqrt(N/2) / sigma_step)`` over
    ``N`` steps; averaged over the contrasts' frequencies.
    """

    default_timing: ClassVar = {"stimulus": 100}

    cohs: tuple[float, ...] = (100.0, 25.0, 12.5, 6.25, 0.0)
    zero_weight: float = 0.5
    sigma: float = 1.0

    def validate(self) -> None:
        contrasts = check_values("cohs", self.cohs, minimum=0)
        if contrasts.max() > 100:
            raise InvalidParameterError(f"cohs are contrasts in %, at most 100, got {self.cohs!r}")
        check_number("zero_weight", self.zero_weight, minimum=0)
        check_number("sigma", self.sigma, minimum=0)
        if not self.contrast_p.sum() > 0:
            raise InvalidParameterError(
                f"zero_weight = 0 with only 0 % contrast in cohs {self.cohs!r} leaves no contrast to draw"
            )

    @property
    def hold_periods(self) -> tuple[str, ...]:
        return ()

    @property
    def response_periods(self) -> tuple[str, ...]:
        return ("stimulus",)

    @property
    def obs_channels(self) -> Channels:
        return Channels(stimulus=2)

    @property
    def action_channels(self) -> Channels:
        return Channels(fixation=1, choice=2)

    @property
    def input_range(self) -> tuple[float, float]:
        swing = max(self.cohs) / 200
        return min(0.0, 0.5 - swing), max(1.0, 0.5 + swing)

    @property
    def contrast_p(self) -> np.ndarray:
        """How often each of ``cohs`` is drawn."""
        weights = np.where(np.asarray(self.cohs, dtype=float) == 0, float(self.zero_weight), 1.0)
        total = weights.sum()
        return weights / total if total > 0 else weights

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        side = rng.integers(2, size=n)
        coh = np.asarray(self.cohs, dtype=float)[rng.choice(len(self.cohs), size=n, p=self.contrast_p)]
        sign = np.where(np.arange(2)[None, :] == side[:, None], 1.0, -1.0)
        trials = self.trials(rng, n)
        trials.set("stimulus", 0.5 + sign * coh[:, None] / 200, "stimulus")
        trials.add_noise(rng, "stimulus", "stimulus")
        trials.answer(side + 1, "stimulus")
        return trials.build(ground_truth=side, answer=side + 1, coh=coh)

    def _chance(self) -> Level:
        return uniform(2)

    def evidence_weights(self) -> np.ndarray:
        return np.eye(2)

    def evidence_model(self, batch: TrialBatch) -> tuple[np.ndarray, np.ndarray]:
        return _difference_model(batch, self.noise_std)

    def log_likelihoods(self, sums: np.ndarray, steps: np.ndarray) -> np.ndarray:
        """``[n, 2]`` log-likelihood (up to a shared constant) of each side given the
        summed inputs ``sums [n, 2]`` over ``steps`` stimulus steps, the contrast unknown."""
        return side_log_likelihoods(sums, steps, np.asarray(self.cohs, dtype=float), self.contrast_p, self.noise_std)

    def _ceiling(self) -> Level:
        steps = self.period_steps("stimulus").astype(float)[None, :]
        signal = np.asarray(self.cohs, dtype=float)[:, None] / 100 * steps
        noise = self.noise_std * np.sqrt(2 * steps)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.where(noise > 0, signal / noise, np.where(signal > 0, np.inf, 0.0))
        from scipy import stats

        per_contrast = stats.norm.cdf(z).mean(axis=1)
        return Level(float(per_contrast @ self.contrast_p), "exact: sign of the summed difference, per contrast")


def side_log_likelihoods(
    sums: np.ndarray, steps: np.ndarray, contrasts: np.ndarray, weights: np.ndarray, sigma_step: float
) -> np.ndarray:
    """``[n, 2]``: log P(inputs | side), up to a constant shared by the sides, for two units
    reading ``0.5 ± c/200`` (+ for the side's unit) with independent noise ``sigma_step``,
    from their sums over ``steps`` steps; ``c`` is unknown, drawn with ``weights``.

    Per contrast, ``log p = (k (S_side - S_other) - k^2) / (N sigma^2)`` with ``k = N c/200``.
    """
    from scipy.special import logsumexp

    n = np.asarray(steps, dtype=float)[:, None]
    k = n * np.asarray(contrasts, dtype=float)[None, :] / 200
    variance = np.maximum(n * sigma_step**2, 1e-12)
    difference = (sums[:, 0] - sums[:, 1])[:, None]
    with np.errstate(divide="ignore"):
        log_w = np.log(np.asarray(weights, dtype=float))[None, :]
    left = logsumexp(log_w + (k * difference - k**2) / variance, axis=1)
    right = logsumexp(log_w + (-k * difference - k**2) / variance, axis=1)
    return np.where(n > 0, np.stack([left, right], axis=1), 0.0)


# -- modifiers registered as tasks: a collection's recipe with its default task ------------------
class _DefaultTask:
    """Mixin for a modifier registered as a task of its own (NeuroGym's collections, the
    IBL block task): it wraps the task ``base`` describes (nested data, like MultiTask's
    ``tasks``) unless it is given one, and it carries the identity of its spec.

    The registry strips ``task`` from a spec's parameters and refuses an inner task under
    a task id, so the inner task lives in a parameter of its own: ``base``, always stored
    as the inner task's nested data. The node ``{"id": <variant>, "params": {..., "base":
    ...}}`` rebuilds the same task; ``make_task(make_task("IBL_Block"), sigma=2.0)`` passes
    a parameter the modifier does not own to the inner task, as for every modifier (by
    name, ``make_task("IBL_Block", base={"id": "IBL", "params": {"sigma": 2.0}})``).
    Registered variants pin ``base`` to a version (``PerceptualDecisionMaking-v1``), so
    their trials do not move when the inner task gets a new one.
    """

    task: Any
    base: Any
    spec: Any

    def __post_init__(self) -> None:
        from neurobench.core.registry import build

        if self.task is None or isinstance(self.task, str | Mapping):
            object.__setattr__(self, "task", build(self.base if self.task is None else self.task))
        object.__setattr__(self, "base", self.task.node())
        super().__post_init__()  # type: ignore[misc]

    @property
    def name(self) -> str:
        return self.spec.name if self.spec is not None else f"{type(self).__name__}({self.task.name})"

    @property
    def family(self) -> str:
        return self.spec.family if self.spec is not None else self.task.family

    @property
    def tags(self) -> tuple[str, ...]:
        return self.spec.tags if self.spec is not None else self.task.tags

    @property
    def paper(self) -> Paper | None:
        return self.spec.paper if self.spec is not None else self.task.paper

    def node(self) -> dict[str, Any]:
        name = self.spec.name if self.spec is not None else type(self).__name__
        version = self.spec.version if self.spec is not None else 0
        return {"id": f"{name}-v{version}", "params": self.params()}  # type: ignore[attr-defined]


@dataclass(frozen=True, eq=False)
class ReactionTimeCollection(_DefaultTask, ReactionTime):
    """The reaction-time version of a task, registered as a task of its own (NeuroGym's
    ``roitman02`` collection: ReactionTime around PerceptualDecisionMaking)."""

    task: TrialTask = None  # type: ignore[assignment]
    base: Any = "PerceptualDecisionMaking"


@dataclass(frozen=True, eq=False)
class BlockPrior(_DefaultTask, AnswerSchedule):
    """Blocks of trials with a prior over the answer, as in the IBL protocol's biased task.

    A session starts with ``unbiased_trials`` trials whose answers are equally likely, then
    runs blocks whose type (a row of ``probs``: the probability of each answer) alternates
    (with more than two types, the next is drawn among the others), the first drawn at
    random. A block lasts ``block_dur`` trials, written like a duration and floored to
    whole trials: by default the protocol's exponential of mean 60 truncated to [20, 100).
    The condition ``bias_block`` is each trial's block type (-1 before the first block).
    The inner task (``base``, by default the IBL task) supplies the trials.

    Chance: the Bayes filter over (block type, trials into the block) that reads the past
    answers (as feedback gives them) and predicts the likeliest next answer, exactly the
    best history-only policy; estimated by playing it on sessions of ``session_trials``.
    Ceiling: a bound, the inner ideal observer told the block and the trial's contrast.
    The ideal observer (for IBL and two-unit PerceptualDecisionMaking inner tasks) is the
    same filter's prior times the exact likelihood of the stimulus, the contrast unknown.
    """

    task: TrialTask = None  # type: ignore[assignment]
    base: Any = "IBL"
    probs: tuple[tuple[float, ...], ...] = ((0.8, 0.2), (0.2, 0.8))
    unbiased_trials: int = 90
    block_dur: Any = ("truncated_exponential", (60.0, 20.0, 100.0))

    def validate(self) -> None:
        self.block_table  # noqa: B018
        check_int("unbiased_trials", self.unbiased_trials, minimum=0)
        self.length_pmf  # noqa: B018

    @cached_property
    def block_table(self) -> np.ndarray:
        table = np.asarray(self.probs, dtype=float) if isinstance(self.probs, list | tuple) else np.zeros(0)
        k = len(self.choices)
        if table.ndim != 2 or table.shape[1] != k or len(table) < 1 or not np.all(np.isfinite(table)):
            raise InvalidParameterError(
                f"probs must be rows of {k} probabilities (one per answer {self.choices.tolist()} of "
                f"{self.task.name}), one row per block type, got {self.probs!r}"
            )
        if np.any(table < 0) or not np.allclose(table.sum(axis=1), 1):
            raise InvalidParameterError(f"each row of probs must be probabilities summing to 1, got {self.probs!r}")
        return table

    @cached_property
    def duration(self) -> Duration:
        try:
            duration = parse_duration(self.block_dur, "block_dur")
        except InvalidParameterError as error:
            raise InvalidParameterError(f"block_dur is a number of trials written like a duration: {error}") from None
        low, high = duration.bounds
        if isinstance(duration, Derived) or low < 1 or not np.isfinite(high):
            raise InvalidParameterError(
                f"block_dur must draw between 1 and a finite number of trials, got {self.block_dur!r}"
            )
        return duration

    @cached_property
    def length_pmf(self) -> np.ndarray:
        """``pmf[L - 1]``: the probability that a block lasts ``L`` trials."""
        lengths = np.maximum(np.floor(self.duration.representative(100_000)).astype(np.int64), 1)
        counts = np.bincount(lengths)[1:]
        return counts / counts.sum()

    def _lengths(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.maximum(np.floor(self.duration.sample(rng, n)).astype(np.int64), 1)

    def _next(self, current: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        blocks = len(self.block_table)
        if blocks == 1:
            return current
        if blocks == 2:
            return 1 - current
        return (current + rng.integers(1, blocks, size=len(current))) % blocks

    def schedule(
        self, rng: np.random.Generator, sessions: int, m: int, carry: Any
    ) -> tuple[np.ndarray, dict[str, np.ndarray], Any]:
        if carry is None:
            carry = (0, rng.integers(len(self.block_table), size=sessions), self._lengths(rng, sessions))
        position, current, remaining = carry[0], np.array(carry[1]), np.array(carry[2])
        block = np.full((sessions, m), -1, dtype=np.int64)
        filled = np.full(sessions, min(m, max(0, self.unbiased_trials - position)), dtype=np.int64)
        index = np.arange(m)
        while (filled < m).any():  # one pass per block boundary, all sessions at once
            todo = filled < m
            count = np.where(todo, np.minimum(remaining, m - filled), 0)
            span = (index >= filled[:, None]) & (index < (filled + count)[:, None])
            block[span] = np.broadcast_to(current[:, None], (sessions, m))[span]
            filled += count
            remaining -= count
            switch = todo & (remaining == 0)
            current = np.where(switch, self._next(current, rng), current)
            remaining = np.where(switch, self._lengths(rng, sessions), remaining)
        k = self.block_table.shape[1]
        rows = np.concatenate([self.block_table, np.full((1, k), 1 / k)])
        wanted = draw_index(rng, rows[block], (sessions, m))  # block -1: the last row, uniform
        return wanted, {"bias_block": block}, (position + m, current, remaining)

    def predictor(self) -> BlockFilter:
        return BlockFilter(self.block_table, self.unbiased_trials, self.length_pmf)

    def prior(self, batch: TrialBatch, sessions: int) -> np.ndarray:
        answer = np.searchsorted(self.choices, batch.conditions[self.condition])
        block = batch.conditions["bias_block"]
        known = self.block_table[np.maximum(block, 0), answer]
        return np.where(block >= 0, known, 1 / self.block_table.shape[1])

    def _ceiling(self) -> Level:
        """Bound: the Bayes observer told the trial's block and contrast (the inner task's
        two-choice Gaussian evidence model), on seeded sessions of ``session_trials``."""
        model = getattr(self.task, "evidence_model", None)
        inner = self.task.ceiling()
        if inner.value >= 1.0 or model is None or len(self.choices) != 2:
            return Level(1.0, f"bound: trivial (inner task: {inner.method})", "bound")
        sessions = max(16, -(-32_000 // self.session_trials))
        batch = self.sample_sessions(np.random.default_rng(0), sessions, self.session_trials, None)[0]
        signal, noise = model(batch)
        success = _known_prior_success(self.prior(batch, sessions), signal, noise)
        return Level(
            float(success.mean()),
            f"bound: the Bayes observer told the block and the contrast ({batch.n} seeded trials)",
            "bound",
            float(success.std(ddof=1) / np.sqrt(batch.n)),
        )

    def ideal_observer(self) -> Agent:
        likelihood = _side_likelihood(self.task)
        if likelihood is None or len(self.choices) != 2:
            return InnerIdealObserver()
        return BlockObserver(self, likelihood)


def _known_prior_success(prior: np.ndarray, signal: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """Per trial, P(correct) of the observer who knows the prior of the true answer and the
    trial's signal: the evidence ``N(signal, noise^2)`` against the prior's log odds."""
    from scipy import stats

    prior = np.clip(prior, 1e-12, 1 - 1e-12)
    log_odds = np.log(prior / (1 - prior))
    informative = (signal > 0) & (noise > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (signal + log_odds * noise**2 / (2 * signal)) / noise
    blind = np.where(signal > 0, 1.0, np.where(log_odds > 0, 1.0, np.where(log_odds < 0, 0.0, 0.5)))
    return np.where(informative, stats.norm.cdf(np.where(informative, z, 0.0)), blind)


def _side_likelihood(task: TrialTask) -> Any:
    """The exact side log-likelihood of inner tasks whose two stimulus units read
    ``0.5 ± c/200`` (IBL, two-unit PerceptualDecisionMaking); ``None`` for others."""
    if isinstance(task, IBL):
        return task.log_likelihoods
    if isinstance(task, PerceptualDecisionMaking) and task.dim_ring == 2:
        contrasts = np.asarray(task.cohs, dtype=float)
        weights = np.full(len(contrasts), 1 / len(contrasts))
        return lambda sums, steps: side_log_likelihoods(sums, steps, contrasts, weights, task.noise_std)
    return None


class BlockObserver(Agent):
    """The ideal observer of a block-prior task: at each window's close, the answer with
    the largest posterior, the block filter's prior (from the answers fed back so far)
    times the exact likelihood of the trial's summed stimulus."""

    name: ClassVar[str] = "block_observer"

    def __init__(self, task: BlockPrior, likelihood: Any) -> None:
        self.schedule_task, self.likelihood = task, likelihood

    def prepare(self, task: Any) -> None:
        self.filter = self.schedule_task.predictor()
        self.actions = self.schedule_task.answer_actions
        self.units = self.schedule_task.obs_channels["stimulus"]

    def initial_state(self, num_envs: int, *, seed: int) -> dict[str, Any]:
        return {
            "filter": self.filter.init(num_envs),
            "seen": np.full(num_envs, -1, dtype=np.int64),
            "sums": np.zeros((num_envs, 2)),
            "steps": np.zeros(num_envs),
        }

    def act(self, obs: np.ndarray, state: dict[str, Any], info: Mapping[str, np.ndarray]) -> tuple[np.ndarray, Any]:
        new_trial = np.asarray(info["new_trial"])
        fed_back = np.flatnonzero(new_trial & (state["seen"] >= 0))
        if len(fed_back):
            self.filter.observe(state["filter"], fed_back, np.searchsorted(self.actions, state["seen"][fed_back]))
            state["seen"][fed_back] = -1
        stimulus = np.asarray(obs, dtype=np.float64)[:, self.units]
        state["sums"] = np.where(new_trial[:, None], 0.0, state["sums"]) + stimulus
        state["steps"] = np.where(new_trial, 0.0, state["steps"]) + np.any(stimulus != 0, axis=1)
        rows = np.arange(len(obs))
        with np.errstate(divide="ignore"):
            log_prior = np.log(self.filter.predictive(state["filter"], rows))
        choice = np.argmax(log_prior + self.likelihood(state["sums"], state["steps"]), axis=1)
        closing = np.asarray(info["window"]) == 2
        state["seen"] = np.where(closing, np.asarray(info["target"]), state["seen"])
        return np.where(closing, self.actions[choice], 0), state


class InnerIdealObserver(Agent):
    """The inner task's ideal observer, blind to the block prior (for inner tasks whose
    stimulus likelihood the block observer does not know): a valid agent below the bound."""

    name: ClassVar[str] = "inner_ideal"

    def prepare(self, task: Any) -> None:
        from neurobench.agents.reference import IdealObserver

        self.inner = IdealObserver()
        self.inner.prepare(task.task)

    def initial_state(self, num_envs: int, *, seed: int) -> Any:
        return self.inner.initial_state(num_envs, seed=seed)

    def act(self, obs: np.ndarray, state: Any, info: Mapping[str, np.ndarray]) -> tuple[np.ndarray, Any]:
        return self.inner.act(obs, state, info)


_IBL_DEVIATIONS = (
    "NeuroGym 2.3.1's IBL cannot be built (its timing is empty) or stepped (_step takes no action) and would "
    "reward every step +1: this is the task it describes, correct +1, fail 0.",
    "Contrasts are the IBL protocol's 100, 25, 12.5, 6.25 and 0 % instead of NeuroGym's motion coherences 1.6 to 51.2.",
    "Action 0 (the wheel kept still) added so the answers are actions 1 (left) and 2 (right) as in every "
    "NeuroBench two-choice task; a trial without an answer is a miss.",
    "Each trial shows its own stimulus (NeuroGym's step returned the stimulus of the trial just answered).",
    "Noise follows the family's sigma / sqrt(dt): sigma = 1.0 is NeuroGym's 0.1 per step at dt = 100 ms.",
)

SPECS.extend(
    [
        *variants(
            IBL,
            {"IBL": {}},
            family="perceptual",
            paper=_IBL_PAPER,
            tags=("perceptual", "two-alternative", "supervised"),
            description="IBL visual decision: the side of a grating of varying contrast",
            deviations=(
                *_IBL_DEVIATIONS,
                "The trained basic task's contrast frequencies: signed contrasts uniform, so 0 % comes half as "
                "often as each other contrast.",
            ),
        ),
        *variants(
            BlockPrior,
            {"IBL_Block": {"base": {"id": "IBL-v0", "params": {"zero_weight": 1.0}}}},
            family="perceptual",
            paper=_IBL_PAPER,
            tags=("perceptual", "two-alternative", "priors", "supervised"),
            description="IBL biased task: blocks in which one side is likelier",
            deviations=(
                *_IBL_DEVIATIONS,
                "Blocks follow the IBL protocol (iblrig biasedChoiceWorld): 90 unbiased trials, then blocks "
                "alternating P(left) = 0.8 and 0.2 (the first drawn at random) lasting an exponential of mean 60 "
                "truncated to [20, 100) trials; NeuroGym drew 200-trial blocks among (0.2, 0.8), (0.8, 0.2) and "
                "(0.5, 0.5) with repeats, and advanced its trial counter twice per trial.",
                "All contrasts, 0 % included, equally likely (the biased task's uniform contrast set).",
                "Sessions of session_trials trials (500): the history a blind policy can use is a session's.",
            ),
        ),
        *variants(
            BlockPrior,
            {
                "PerceptualDecisionMaking.ibl20": {
                    "base": "PerceptualDecisionMaking-v1",
                    "unbiased_trials": 0,
                    "block_dur": 90,
                }
            },
            family="perceptual",
            paper=_IBL_PAPER,
            tags=("perceptual", "two-alternative", "priors", "supervised"),
            description="NeuroGym's ibl20 collection: motion discrimination in 90-trial prior blocks",
            deviations=(
                "Built as a block prior on PerceptualDecisionMaking (NeuroGym: ScheduleAttr switching "
                "RandomGroundTruth's p every 90 trials), so chance is the best history-aware blind policy.",
                "The first block's favoured answer is random (NeuroGym always starts with P(answer 1) = 0.8, which "
                "a blind policy could exploit).",
                "Sessions of session_trials trials (500): the history a blind policy can use is a session's.",
            ),
        ),
        *variants(
            ReactionTimeCollection,
            {"PerceptualDecisionMaking.roitman02": {"base": "PerceptualDecisionMaking-v1"}},
            family="perceptual",
            paper=_ROITMAN,
            tags=("perceptual", "reaction time", "two-alternative", "supervised"),
            description="NeuroGym's roitman02 collection: reaction-time motion discrimination",
        ),
    ]
)
