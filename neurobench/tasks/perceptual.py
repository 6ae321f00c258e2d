"""Perceptual decisions: integrate noisy or discrete evidence, then report a choice.

Each task here exposes ``evidence_weights()``: the linear readout of its observations
whose sum over the trial is a sufficient statistic for the choice. The ideal observer
(``neurobench.agents.IdealObserver``) accumulates it, and the tasks' ceilings are that
observer's exact success rates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from neurobench.core.channels import Channels
from neurobench.core.checks import check_int, check_number, check_values
from neurobench.core.errors import InvalidParameterError
from neurobench.core.levels import uniform
from neurobench.core.task import Level, Paper, TimedTask
from neurobench.core.trials import TrialBatch
from neurobench.tasks.versions import frozen_versions

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
        trials.add_noise(rng, "stimulus", "stimulus")
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
        trials.add_noise(rng, "stimulus", "stimulus")
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
            shortest = self.timing[f"cue{i}"].bounds[0]  # type: ignore[index]
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
    ),
]
