"""Context: two stimulus modalities at once, and the context says what to do with them.

ContextDecisionMaking (Mante et al. 2013) shows two noisy modalities (the motion and the
colour of the same dots), each pointing to a choice; only the modality the context names
counts. MultiSensoryIntegration (Raposo et al. 2012) shows two modalities that point to
the same choice with a coherence split between them, so the best observer combines both.

Both use NeuroGym's ring code: ``dim_ring`` units per modality, tuned to the choices'
directions, at ``0.5 + cos(theta - theta_choice) * coh / 200`` plus Gaussian noise of std
``sigma / sqrt(dt)`` per step on the stimulus units. Their ceilings are the Bayes
observer's success; its statistics are the matched-filter sums of each modality.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from neurobench.agents.base import Agent
from neurobench.core.ceilings import DRAWS, monte_carlo
from neurobench.core.channels import Channels
from neurobench.core.checks import check_int, check_number, check_values
from neurobench.core.errors import InvalidParameterError
from neurobench.core.levels import uniform
from neurobench.core.registry import TaskSpec, variants
from neurobench.core.rules import FIXATE
from neurobench.core.task import Level, Paper, TimedTask
from neurobench.core.trials import TrialBatch
from neurobench.tasks.perceptual import PerceptualDecisionMaking

_P_GRID = 32  # quadrature points of the coherence split in MultiSensoryIntegration's observer
_BLOCK = 10_000


def _ring(dim_ring: int) -> np.ndarray:
    return np.linspace(0, 2 * np.pi, dim_ring, endpoint=False)


def _tuning(dim_ring: int) -> np.ndarray:
    """``[unit, choice]``: each choice's tuning curve over the ring units."""
    theta = _ring(dim_ring)
    return np.cos(theta[:, None] - theta[None, :])


def _ring_input(dim_ring: int, choice: np.ndarray, coh: np.ndarray) -> np.ndarray:
    """Noise-free ring input ``[n, dim_ring]`` of choices (0-based) at coherences (%)."""
    return 0.5 + _tuning(dim_ring)[:, choice].T * np.asarray(coh, dtype=float)[:, None] / 200


def _two_choice_success(signal: np.ndarray, noise_std: np.ndarray) -> float:
    """Mean P(correct) of a sign decision on ``signal + N(0, noise_std^2)``."""
    from scipy import stats

    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(noise_std > 0, signal / noise_std, np.where(signal > 0, np.inf, 0.0))
    return float(np.mean(stats.norm.cdf(z)))


def _check_flag(name: str, value: Any) -> None:
    if not isinstance(value, bool | np.bool_):
        raise InvalidParameterError(f"{name} must be true or false, got {value!r}")


@dataclass(frozen=True, kw_only=True, eq=False)
class ContextDecisionMaking(TimedTask):
    """Context-dependent decision (Mante et al. 2013): two modalities, one relevant.

    Modality 1 and modality 2 each show a noisy ring stimulus with its own direction and
    coherence (drawn from ``cohs``). In the relevant modality the direction is the answer;
    the other points to an independently drawn choice, so it carries no information
    about the answer and must be ignored. After a variable delay the choice is given in
    the decision period.

    * Implicit context (``use_expl_context=False``, NeuroGym's default): the relevant
      modality is always ``impl_context_modality``; nothing signals it.
    * Explicit context (``use_expl_context=True``, registered as
      ``ContextDecisionMakingExplicit``): the context is drawn per trial, as in NeuroGym,
      and shown on two noise-free context inputs (one-hot).

    As in NeuroGym the fixation input is on only in the fixation period, and fixation is
    held only there: nothing in the input says when the decision period starts (the delay
    is random), so an agent holds its choice through the delay; answers before the
    decision are not counted. ``go_cue=True`` reproduces the experiment (NeuroGym issue
    #279): the fixation point stays on, and must be fixated, through stimulus and delay,
    and its offset is the go cue; the context inputs, which in the experiment are the
    fixation point's shape and colour, go off with it.

    Ceiling: given the context (known, or read off its noise-free inputs) the relevant
    modality is a PerceptualDecisionMaking stimulus and the other modality is independent
    of the answer, so the Bayes observer is that task's: exact for two choices, Monte
    Carlo on a ring of more.
    """

    default_timing: ClassVar = {
        "fixation": 300,
        "stimulus": 750,
        "delay": ("truncated_exponential", (600, 300, 3000)),
        "decision": 100,
    }

    use_expl_context: bool = False
    impl_context_modality: int = 0
    dim_ring: int = 2
    cohs: tuple[float, ...] = (5.0, 15.0, 50.0)
    sigma: float = 1.0
    go_cue: bool = False

    def validate(self) -> None:
        _check_flag("use_expl_context", self.use_expl_context)
        _check_flag("go_cue", self.go_cue)
        if self.impl_context_modality not in (0, 1) or isinstance(self.impl_context_modality, bool):
            raise InvalidParameterError(
                f"impl_context_modality must be 0 or 1 (the relevant modality), got {self.impl_context_modality!r}"
            )
        if self.use_expl_context and self.impl_context_modality != 0:
            raise InvalidParameterError(
                "impl_context_modality sets the relevant modality of the implicit form; with use_expl_context=True "
                "the context is drawn per trial, so leave it at 0"
            )
        check_int("dim_ring", self.dim_ring, minimum=2)
        check_values("cohs", self.cohs, minimum=0)
        check_number("sigma", self.sigma, minimum=0)

    @property
    def hold_periods(self) -> tuple[str, ...]:
        return ("fixation", "stimulus", "delay") if self.go_cue else ("fixation",)

    @property
    def obs_channels(self) -> Channels:
        extra = {"context": 2} if self.use_expl_context else {}
        return Channels(fixation=1, stimulus_mod1=self.dim_ring, stimulus_mod2=self.dim_ring, **extra)

    @property
    def action_channels(self) -> Channels:
        return Channels(fixation=1, choice=self.dim_ring)

    @property
    def input_range(self) -> tuple[float, float]:
        swing = max(self.cohs) / 200
        return min(0.0, 0.5 - swing), max(1.0, 0.5 + swing)

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        truth = rng.integers(self.dim_ring, size=n)
        other = rng.integers(self.dim_ring, size=n)
        context = rng.integers(2, size=n) if self.use_expl_context else np.full(n, self.impl_context_modality)
        coh = np.asarray(self.cohs, dtype=float)[rng.integers(len(self.cohs), size=(n, 2))]
        first_relevant = context == 0
        direction1 = np.where(first_relevant, truth, other)
        direction2 = np.where(first_relevant, other, truth)
        trials = self.trials(rng, n)
        trials.set("fixation", 1.0, *self.hold_periods)
        trials.set("stimulus_mod1", _ring_input(self.dim_ring, direction1, coh[:, 0]), "stimulus")
        trials.set("stimulus_mod2", _ring_input(self.dim_ring, direction2, coh[:, 1]), "stimulus")
        trials.add_noise(rng, "stimulus_mod1", "stimulus")
        trials.add_noise(rng, "stimulus_mod2", "stimulus")
        if self.use_expl_context:
            cue = np.eye(2)[context]
            trials.set("context", cue, *(self.hold_periods if self.go_cue else self.periods))
        trials.answer(truth + 1, "decision")
        return trials.build(
            ground_truth=truth + 1,
            other_choice=other + 1,
            context=context,
            coh_1=coh[:, 0],
            coh_2=coh[:, 1],
            coh=np.where(first_relevant, coh[:, 0], coh[:, 1]),
            answer=truth + 1,
        )

    def _chance(self) -> Level:
        return uniform(self.dim_ring)

    def _relevant_stimulus(self) -> PerceptualDecisionMaking:
        """The relevant modality alone: a PerceptualDecisionMaking stimulus."""
        timing = {"stimulus": self.timing["stimulus"], "decision": self.timing["decision"]}  # type: ignore[index]
        return PerceptualDecisionMaking(
            dt=self.dt, dim_ring=self.dim_ring, cohs=tuple(self.cohs), sigma=self.sigma, timing=timing
        )

    def _ceiling(self) -> Level:
        inner = self._relevant_stimulus().ceiling()
        return Level(inner.value, f"{inner.method}, on the relevant modality given the context", inner.kind, inner.se)

    @property
    def evidence_weights(self) -> Callable[[], np.ndarray]:
        """Implicit context only: the matched filter on the relevant modality (argmax is
        the Bayes decision). With an explicit context no linear readout is sufficient, so
        the attribute is absent and consumers fall back to :meth:`ideal_observer`."""
        if self.use_expl_context:
            raise AttributeError("an explicit context has no linear evidence readout")

        def weights() -> np.ndarray:
            out = np.zeros((self.obs_channels.size, self.dim_ring))
            out[self.obs_channels[f"stimulus_mod{self.impl_context_modality + 1}"]] = _tuning(self.dim_ring)
            return out

        return weights

    def evidence_model(self, batch: TrialBatch) -> tuple[np.ndarray, np.ndarray] | None:
        """Two choices: mean and std of the relevant modality's summed input difference."""
        if self.dim_ring != 2:
            return None
        start, end = batch.periods["stimulus"]
        steps = (end - start).astype(float)
        coh = np.asarray(batch.conditions["coh"], dtype=float)
        return steps * coh / 100, self.noise_std * np.sqrt(2 * steps)

    def ideal_observer(self) -> Agent:
        return ContextObserver()


class ContextObserver(Agent):
    """The Bayes observer of ContextDecisionMaking: sums each modality's matched filter,
    reads the context (fixed, or the lit context input), and answers the relevant
    modality's best choice as the decision window closes."""

    name: ClassVar[str] = "context_observer"

    def prepare(self, task: Any) -> None:
        channels = task.obs_channels
        self.mods = (channels["stimulus_mod1"], channels["stimulus_mod2"])
        self.context = channels["context"] if task.use_expl_context else None
        self.fixed = int(task.impl_context_modality)
        self.tuning = _tuning(task.dim_ring)

    def initial_state(self, num_envs: int, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros((num_envs, 2, self.tuning.shape[1])), np.full(num_envs, self.fixed)

    def act(
        self, obs: np.ndarray, state: tuple[np.ndarray, np.ndarray], info: Mapping[str, np.ndarray]
    ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        scores, context = state
        new = np.asarray(info["new_trial"])
        scores = np.where(new[:, None, None], 0.0, scores)
        scores = scores + np.stack([obs[:, mod] @ self.tuning for mod in self.mods], axis=1)
        if self.context is not None:
            cue = obs[:, self.context]
            context = np.where(cue.sum(axis=1) > 0, cue.argmax(axis=1), np.where(new, self.fixed, context))
        relevant = scores[np.arange(len(obs)), context]
        closing = np.asarray(info["window"]) == 2
        return np.where(closing, relevant.argmax(axis=1) + 1, FIXATE), (scores, context)


@dataclass(frozen=True, kw_only=True, eq=False)
class MultiSensoryIntegration(TimedTask):
    """Multisensory integration (Raposo et al. 2012): two modalities point to the same
    choice, and the answer is that choice.

    A trial's coherence (from ``cohs``) is split between the modalities at a uniformly
    drawn proportion ``coh_prop``: modality 1 shows ``coh * coh_prop``, modality 2 the
    rest, both on a ring pointing to the answer. Neither modality alone is as reliable as
    both together, which is what rewards integration (in the paper the two streams had
    the same rate; the split is NeuroGym's design). The fixation input is on through the
    stimulus; fixation is held in the fixation period; the choice is given in the decision.

    Ceiling: the Bayes observer compares, for each choice, the likelihood of both
    modalities' matched-filter sums ``S1, S2`` averaged over the coherences and the split.
    For two choices the split's symmetry makes it the sign of ``S1 + S2``, with mean
    ``N coh / 100`` and std ``2 sigma_step sqrt(N)`` over ``N`` stimulus steps, so
    P(correct) = Phi(coh sqrt(N) / (200 sigma_step)) exactly. On a ring of more choices the
    split is integrated on a midpoint grid and the success is Monte Carlo.
    """

    default_timing: ClassVar = {"fixation": 300, "stimulus": 750, "decision": 100}

    dim_ring: int = 2
    cohs: tuple[float, ...] = (5.0, 15.0, 50.0)
    sigma: float = 1.0

    def validate(self) -> None:
        check_int("dim_ring", self.dim_ring, minimum=2)
        check_values("cohs", self.cohs, minimum=0)
        check_number("sigma", self.sigma, minimum=0)

    @property
    def obs_channels(self) -> Channels:
        return Channels(fixation=1, stimulus_mod1=self.dim_ring, stimulus_mod2=self.dim_ring)

    @property
    def action_channels(self) -> Channels:
        return Channels(fixation=1, choice=self.dim_ring)

    @property
    def input_range(self) -> tuple[float, float]:
        swing = max(self.cohs) / 200
        return min(0.0, 0.5 - swing), max(1.0, 0.5 + swing)

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        truth = rng.integers(self.dim_ring, size=n)
        coh = np.asarray(self.cohs, dtype=float)[rng.integers(len(self.cohs), size=n)]
        split = rng.random(n)
        trials = self.trials(rng, n)
        trials.set("fixation", 1.0, "fixation", "stimulus")
        trials.set("stimulus_mod1", _ring_input(self.dim_ring, truth, coh * split), "stimulus")
        trials.set("stimulus_mod2", _ring_input(self.dim_ring, truth, coh * (1 - split)), "stimulus")
        trials.add_noise(rng, "stimulus_mod1", "stimulus")
        trials.add_noise(rng, "stimulus_mod2", "stimulus")
        trials.answer(truth + 1, "decision")
        return trials.build(ground_truth=truth, coh=coh, coh_prop=split, answer=truth + 1)

    def _chance(self) -> Level:
        return uniform(self.dim_ring)

    def evidence_weights(self) -> np.ndarray:
        """Both modalities' matched filters, summed: the Bayes decision for two choices
        (on a ring of more, :meth:`ideal_observer` also weighs the split)."""
        weights = np.zeros((self.obs_channels.size, self.dim_ring))
        weights[self.obs_channels["stimulus_mod1"]] = _tuning(self.dim_ring)
        weights[self.obs_channels["stimulus_mod2"]] = _tuning(self.dim_ring)
        return weights

    def evidence_model(self, batch: TrialBatch) -> tuple[np.ndarray, np.ndarray] | None:
        """Two choices: the summed difference over both modalities has mean ``N coh/100``
        and std ``2 sigma_step sqrt(N)``."""
        if self.dim_ring != 2:
            return None
        start, end = batch.periods["stimulus"]
        steps = (end - start).astype(float)
        return steps * np.asarray(batch.conditions["coh"], dtype=float) / 100, 2 * self.noise_std * np.sqrt(steps)

    def ideal_observer(self) -> Agent:
        return MixtureObserver()

    def _ceiling(self) -> Level:
        steps = self.period_steps("stimulus")[None, :].astype(float)
        coh = np.asarray(self.cohs, dtype=float)[:, None]
        sigma_step = self.noise_std
        if self.dim_ring == 2:
            value = _two_choice_success(coh * steps / 100, 2 * sigma_step * np.sqrt(steps))
            return Level(value, "exact: the ideal observer's summed two-modality evidence, averaged over conditions")
        if sigma_step == 0:
            p = np.where(coh * steps > 0, 1.0, 1 / self.dim_ring)
            return Level(float(p.mean()), "exact: noise-free stimulus")
        return monte_carlo(
            self._ring_success(sigma_step, steps[0], coh[:, 0]),
            DRAWS,
            "Monte Carlo (200k seeded draws) of the Bayes observer over choices, coherences and splits",
        )

    def _ring_success(self, sigma_step: float, steps: np.ndarray, coh: np.ndarray) -> float:
        # Truth is choice 0. Modality m's score of choice j is N c_m / 200 * G[0, j] plus
        # sigma_step sqrt(N) (z @ T)_j, with T the tuning matrix and G = T'T.
        rng = np.random.default_rng(0)
        tuning = _tuning(self.dim_ring)
        gram = tuning.T @ tuning
        correct = 0
        for start in range(0, DRAWS, _BLOCK):
            size = min(_BLOCK, DRAWS - start)
            n = steps[rng.integers(len(steps), size=size)]
            c = coh[rng.integers(len(coh), size=size)]
            split = rng.random(size)
            scores = [
                (n * c * share / 200)[:, None] * gram[0][None, :]
                + sigma_step * np.sqrt(n)[:, None] * (rng.standard_normal((size, self.dim_ring)) @ tuning)
                for share in (split, 1 - split)
            ]
            posterior = _mixture_log_posterior(scores[0], scores[1], n, self.cohs, self.dim_ring, sigma_step)
            correct += int((posterior.argmax(axis=1) == 0).sum())
        return correct / DRAWS


def _mixture_log_posterior(
    s1: np.ndarray, s2: np.ndarray, n: np.ndarray, cohs: tuple[float, ...], dim_ring: int, sigma_step: float
) -> np.ndarray:
    """``[E, choices]`` log posterior (up to a constant) of each choice given the two
    modalities' matched-filter sums over ``n`` stimulus steps, the coherences equally
    likely and the split uniform (midpoint grid). The tuning curves sum to zero and have
    equal norms, so the 0.5 baseline and the choice-independent terms drop out."""
    if sigma_step == 0:
        return s1 + s2
    c = np.asarray(cohs, dtype=float)[:, None] / 200
    p = ((np.arange(_P_GRID) + 0.5) / _P_GRID)[None, :]
    w1, w2 = (c * p).ravel(), (c * (1 - p)).ravel()  # [G] per-step signal of each modality
    norm = float((_tuning(dim_ring)[:, 0] ** 2).sum())
    linear = (s1[..., None] * w1 + s2[..., None] * w2) / sigma_step**2
    quadratic = np.asarray(n, dtype=float)[:, None, None] * norm * (w1**2 + w2**2) / (2 * sigma_step**2)
    ll = linear - quadratic
    top = ll.max(axis=-1, keepdims=True)
    return top[..., 0] + np.log(np.exp(ll - top).sum(axis=-1))


class MixtureObserver(Agent):
    """The Bayes observer of MultiSensoryIntegration: sums both modalities' matched
    filters and counts the stimulus steps; as the decision window closes it answers the
    choice of largest posterior, the coherence and its split integrated out."""

    name: ClassVar[str] = "mixture_observer"

    def prepare(self, task: Any) -> None:
        channels = task.obs_channels
        self.mods = (channels["stimulus_mod1"], channels["stimulus_mod2"])
        self.tuning = _tuning(task.dim_ring)
        self.cohs, self.dim_ring, self.sigma_step = tuple(task.cohs), task.dim_ring, task.noise_std

    def initial_state(self, num_envs: int, *, seed: int) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros((num_envs, 2, self.dim_ring)), np.zeros(num_envs)

    def act(
        self, obs: np.ndarray, state: tuple[np.ndarray, np.ndarray], info: Mapping[str, np.ndarray]
    ) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
        scores, steps = state
        new = np.asarray(info["new_trial"])
        scores = np.where(new[:, None, None], 0.0, scores)
        shown = np.any(obs[:, self.mods[0]] != 0, axis=1) | np.any(obs[:, self.mods[1]] != 0, axis=1)
        steps = np.where(new, 0.0, steps) + shown
        scores = scores + np.stack([obs[:, mod] @ self.tuning for mod in self.mods], axis=1)
        closing = np.asarray(info["window"]) == 2
        answer = np.zeros(len(obs), dtype=np.int64)
        if closing.any():
            rows = np.flatnonzero(closing)
            posterior = _mixture_log_posterior(
                scores[rows, 0], scores[rows, 1], steps[rows], self.cohs, self.dim_ring, self.sigma_step
            )
            answer[rows] = posterior.argmax(axis=1) + 1
        return answer, (scores, steps)


_MANTE = Paper(
    "Mante et al. (2013)",
    "Context-dependent computation by recurrent dynamics in prefrontal cortex",
    "https://www.nature.com/articles/nature12742",
)

SPECS = [
    *variants(
        ContextDecisionMaking,
        {"ContextDecisionMaking": {}, "ContextDecisionMakingExplicit": {"use_expl_context": True}},
        family="context",
        paper=_MANTE,
        tags=("perceptual", "context dependent", "two-alternative", "supervised"),
    ),
    TaskSpec(
        "MultiSensoryIntegration",
        0,
        MultiSensoryIntegration,
        {},
        "context",
        ("perceptual", "multisensory", "two-alternative", "supervised"),
        Paper(
            "Raposo et al. (2012)",
            "Multisensory decision-making in rats and humans",
            "https://www.jneurosci.org/content/32/11/3726",
        ),
        deviations=(
            "Input noise is added to the stimulus units only; NeuroGym also perturbs the fixation input during the "
            "stimulus, which the experiment's fixation point never was.",
        ),
    ),
]
