"""The twenty tasks of Yang et al. (2019) on rings of direction-tuned units.

Three families cover them: reaching to a remembered or current direction (go, anti; with
fixation offset, reaction-time or delay timing), comparing the strengths of two stimuli
(the DM tasks, with or without a delay, in one modality, attending one of two, or
integrating both) and matching a test to a sample (DMS, DNMS, DMC, DNMC). Everything
follows the authors' code (gyyang/multitask, ``task.py``): ``dt`` = 20 ms, 32 units per
ring, the Gaussian bump of width pi/8, the epochs and their distributions, the stimulus
strengths, input noise on every input at every step (``sigma_x sqrt(2 tau / dt)``) and a
one-hot rule input for the whole trial (85 inputs, 33 actions).

A trial is correct as in the paper: fixation held until the go cue (breaking it ends the
trial), then an answer within 36 degrees (0.2 pi) of the target direction, or holding
fixation through a no-go trial. The discrete action is a ring unit, and the accept matrix
of the response rule admits every unit within the tolerance, so chance is ring-aware: a
constant answer is right on ``k / dim_ring`` of the trials (7/32).

Mod-Cog (Khona et al. 2023) composes these families with two more parameters, built here
rather than copied: ``integrate`` rotates the answer by a fixed angular velocity times the
memory delay, and ``sequence`` makes the answer a sequence that moves one step of the same
velocity per 100 ms segment of the response (see :mod:`neurobench.tasks.modcog`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any, ClassVar

import numpy as np
from scipy.stats import norm

from neurobench.agents.base import Agent
from neurobench.core.channels import Channels
from neurobench.core.checks import check_int, check_number
from neurobench.core.errors import InvalidParameterError, UnknownNameError
from neurobench.core.registry import TaskSpec
from neurobench.core.rules import FixateThenChoose, ResponseRule
from neurobench.core.task import Level, Paper, TimedTask, resolved_rewards, resolved_timing
from neurobench.core.trials import TrialBatch, TrialBuilder
from neurobench.wrappers.schedule import MultiTask, _mean_level

RULES = (
    "go",
    "rtgo",
    "dlygo",
    "anti",
    "rtanti",
    "dlyanti",
    "dm1",
    "dm2",
    "ctxdm1",
    "ctxdm2",
    "multidm",
    "dlydm1",
    "dlydm2",
    "ctxdlydm1",
    "ctxdlydm2",
    "multidlydm",
    "dms",
    "dnms",
    "dmc",
    "dnmc",
)  # fmt: skip  (the paper's order of the rule inputs)
TOLERANCE = 0.2 * np.pi  # the paper's criterion: decoded direction within 36 degrees
TAU_MS = 100.0
PAPER_SIGMA = 0.01 * np.sqrt(2 * TAU_MS)  # sigma_x sqrt(2 tau / dt), written as sigma / sqrt(dt)
BUMP_WIDTH = np.pi / 8
MAX_STRENGTH = 2.0  # the largest summed stimulus input any family produces, with margin
OMEGA_DEG_PER_MS = 0.225  # Mod-Cog's angular velocity: one 16-unit ring position per 100 ms
SEGMENT_MS = 100  # a sequence answer moves once per segment
MODCOG_DELAYS = tuple(range(0, 1200, 100))  # Mod-Cog's delays for integration tasks
PAPER = Paper(
    "Yang et al. (2019)",
    "Task representations in neural networks trained to perform many cognitive tasks",
    "https://www.nature.com/articles/s41593-018-0310-2",
)


def ring_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Periodic distance between angles (radians)."""
    diff = np.mod(np.asarray(a) - np.asarray(b), 2 * np.pi)
    return np.minimum(diff, 2 * np.pi - diff)


def preferred(dim_ring: int) -> np.ndarray:
    return np.arange(dim_ring) * 2 * np.pi / dim_ring


def bumps(units: np.ndarray, dim_ring: int, strength: Any = 1.0) -> np.ndarray:
    """``[n, dim_ring]`` ring activity for stimuli at ring units ``units``: the paper's
    Gaussian bump (peak 0.8, width pi/8) times ``strength``. Read from a per-ring table:
    stimuli sit on ring units, so there are only ``dim_ring`` bumps."""
    return _bump_table(dim_ring)[np.asarray(units)] * np.asarray(strength, dtype=float).reshape(-1, 1)


@lru_cache(maxsize=16)
def _bump_table(dim_ring: int) -> np.ndarray:
    theta = preferred(dim_ring)
    distance = ring_distance(theta[:, None], theta[None, :]) / BUMP_WIDTH
    table = 0.8 * np.exp(-(distance**2) / 2)
    table.flags.writeable = False
    return table


def ring_accepts(dim_ring: int, tolerance: float = TOLERANCE) -> np.ndarray:
    """``[1 + d, 1 + d]``: answer ``a`` is accepted for target ``t`` (actions: 0 fixation,
    ``1 + k`` ring unit ``k``) when the units are less than ``tolerance`` apart."""
    theta = preferred(dim_ring)
    accepts = np.zeros((dim_ring + 1, dim_ring + 1), dtype=bool)
    accepts[0, 0] = True
    accepts[1:, 1:] = ring_distance(theta[:, None], theta[None, :]) < tolerance - 1e-12
    return accepts


@dataclass(frozen=True, kw_only=True, eq=False)
class RingTask(TimedTask):
    """What Yang et al.'s families share: rings, rule input, noise, the ring criterion and
    Mod-Cog's ``integrate`` / ``sequence`` compositions (-1, 0 or +1 each)."""

    dt: float = 20.0
    dim_ring: int = 32
    sigma: float = PAPER_SIGMA
    noise_everywhere: bool = True
    rule_input: bool = True
    abort: bool = True
    integrate: int = 0
    sequence: int = 0

    memory_period: ClassVar[str | None] = None  # whose length an integrating answer rotates by
    reaction: ClassVar[bool] = False  # a reaction-time form (shorter sequence)

    # -- what a family states --------------------------------------------------------
    @property
    def rule_name(self) -> str:
        """This task's name in the paper's rule list (``go``, ``dlydm1``, ...)."""
        raise NotImplementedError

    def base_timing(self) -> dict[str, Any]:
        """The paper's epochs up to the go cue (the response follows)."""
        raise NotImplementedError

    response_ms: ClassVar[Any] = 500

    # -- layout ------------------------------------------------------------------------
    @property
    def default_timing(self) -> dict[str, Any]:  # type: ignore[override]
        timing = self.base_timing()
        if self.integrate and self.memory_period is not None:
            timing[self.memory_period] = MODCOG_DELAYS
        if self.sequence:
            timing.update(dict.fromkeys(self.segments, SEGMENT_MS))
        else:
            timing["decision"] = self.response_ms
        return timing

    @cached_property  # segments and hold periods are read per painted channel
    def segments(self) -> tuple[str, ...]:
        """The response windows: ``decision``, or one per 100 ms of a sequence answer
        (Mod-Cog's 1000 ms response; 500 ms in reaction-time forms)."""
        if not self.sequence:
            return ("decision",)
        return tuple(f"seq{k + 1}" for k in range(5 if self.reaction else 10))

    @property
    def response_periods(self) -> tuple[str, ...]:
        return self.segments

    @cached_property
    def hold_periods(self) -> tuple[str, ...]:
        return tuple(p for p in resolved_timing(self) if p not in self.segments)

    @cached_property  # read per painted channel: Mod-Cog's chunk asked for it 18,000 times
    def obs_channels(self) -> Channels:
        rule = {"rule": len(RULES)} if self.rule_input else {}
        return Channels(fixation=1, stimulus_mod1=self.dim_ring, stimulus_mod2=self.dim_ring, **rule)

    @property
    def action_channels(self) -> Channels:
        return Channels(fixation=1, choice=self.dim_ring)

    @property
    def input_range(self) -> tuple[float, float]:
        return 0.0, MAX_STRENGTH

    @cached_property
    def rule(self) -> ResponseRule:
        return FixateThenChoose(
            self.hold_periods,
            self.response_periods,
            resolved_rewards(self),
            self.abort,
            ring_accepts(self.dim_ring),
        )

    def validate(self) -> None:
        check_int("dim_ring", self.dim_ring, minimum=4)
        if self.dim_ring % 2:
            raise InvalidParameterError(f"dim_ring of {self.name} must be even (anti answers need the opposite unit)")
        check_number("sigma", self.sigma, minimum=0)
        for name in ("integrate", "sequence"):
            value = getattr(self, name)
            if isinstance(value, bool) or value not in (-1, 0, 1):
                raise InvalidParameterError(f"{name} of {self.name} must be -1, 0 or 1, got {value!r}")
        if self.integrate and self.memory_period is None:
            raise InvalidParameterError(f"{self.name} has no memory delay to integrate over (integrate must be 0)")
        if self.rule_input and (self.integrate or self.sequence):
            raise InvalidParameterError(
                "rule_input names one of Yang et al.'s 20 rules; a Mod-Cog composition has none of its own "
                "(set rule_input=False; the ModCog multitask gives each task its own rule input)"
            )
        for name in ("noise_everywhere", "rule_input"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidParameterError(f"{name} of {self.name} must be true or false, got {getattr(self, name)!r}")

    # -- trials ------------------------------------------------------------------------
    def begin(self, rng: np.random.Generator, n: int) -> TrialBuilder:
        trials = self.trials(rng, n)
        if self.rule_input:
            trials.set("rule", np.eye(len(RULES), dtype=np.float32)[RULES.index(self.rule_name)])
        return trials

    def finish(
        self, rng: np.random.Generator, trials: TrialBuilder, answer: np.ndarray, **conditions: Any
    ) -> TrialBatch:
        """Targets (``answer``: a ring unit, or -1 to withhold), rotated and sequenced as the
        composition says, then the input noise; returns the built batch."""
        d = self.dim_ring
        go = answer >= 0
        base = np.where(go, answer + self.rotation(trials), 0) % d
        for k, segment in enumerate(self.segments):
            unit = (base + self.sequence * k * self.step_units) % d
            trials.answer(np.where(go, unit + 1, 0), segment)
        if self.sigma > 0:
            if self.noise_everywhere:
                trials.add_noise_everywhere(rng, self.noise_std)
            else:
                stimulus = tuple(p for p in self.stimulus_periods if p in resolved_timing(self))
                for channel in ("stimulus_mod1", "stimulus_mod2"):
                    trials.add_noise(rng, channel, *stimulus)
        return trials.build(ground_truth=np.where(go, base, -1), answer=np.where(go, base + 1, 0), **conditions)

    stimulus_periods: ClassVar[tuple[str, ...]] = ("stimulus", "stim1", "stim2", "sample")

    @property
    def step_units(self) -> int:
        """Ring units the answer moves per 100 ms (Mod-Cog's angular velocity)."""
        return round(OMEGA_DEG_PER_MS * SEGMENT_MS / (360 / self.dim_ring))

    def rotation(self, trials: TrialBuilder) -> np.ndarray:
        """Units an integrating answer is rotated by: velocity x memory delay."""
        if not self.integrate or self.memory_period is None:
            return np.zeros(trials.n, dtype=np.int64)
        delay = trials.ms[self.memory_period]
        return self.integrate * np.rint(OMEGA_DEG_PER_MS * delay / (360 / self.dim_ring)).astype(np.int64)

    def fixation(self, trials: TrialBuilder, *periods: str) -> None:
        trials.set("fixation", 1.0, *periods)

    # -- scores ------------------------------------------------------------------------
    @property
    def accepted_units(self) -> int:
        return int(ring_accepts(self.dim_ring)[1].sum())

    def _chance(self) -> Level:
        """Every family's answers are rotation invariant, so a fixed answer (rotated along a
        sequence) is accepted on ``k / dim_ring`` of the trials; withholding wins where half
        the trials are no-go."""
        if self.has_nogo:
            return Level(0.5, "exact: half the trials are no-go; withholding on every trial")
        k = self.accepted_units
        return Level(
            k / self.dim_ring,
            f"exact: a fixed direction is within 36 degrees of the target on {k} of {self.dim_ring} units",
        )

    has_nogo: ClassVar[bool] = False

    def blind_policy(self) -> Agent:
        from neurobench.agents.reference import ConstantAnswers

        if self.has_nogo:
            return ConstantAnswers([0])
        return ConstantAnswers(
            [1 + (self.sequence * k * self.step_units) % self.dim_ring for k in range(len(self.segments))]
        )

    def _ceiling(self) -> Level:
        return Level(
            1.0,
            "bound: no policy exceeds 1; the stimuli are strong against the input noise and the ideal observer "
            "answers nearly every trial",
            "bound",
        )

    def ideal_observer(self) -> Agent:
        return RingObserver(self)


# -- reaching --------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True, eq=False)
class Reach(RingTask):
    """Saccade to a stimulus direction, or opposite it (``anti``).

    ``timing_form``: ``fixation`` (go / anti: the stimulus comes on and stays on; the
    fixation input turns off as the go cue), ``reaction`` (rtgo / rtanti: the fixation
    input stays on; the stimulus onset is the go cue) or ``delay`` (dlygo / dlyanti: a brief
    stimulus, a delay, then the fixation input turns off). The stimulus appears in one of
    the two modalities, drawn per trial.
    """

    anti: bool = False
    timing_form: str = "fixation"

    FORMS: ClassVar = ("fixation", "reaction", "delay")

    @property
    def memory_period(self) -> str | None:  # type: ignore[override]
        return "delay" if self.timing_form == "delay" else None

    @property
    def reaction(self) -> bool:  # type: ignore[override]
        return self.timing_form == "reaction"

    @property
    def rule_name(self) -> str:
        prefix = {"fixation": "", "reaction": "rt", "delay": "dly"}[self.timing_form]
        return prefix + ("anti" if self.anti else "go")

    def validate(self) -> None:
        if self.timing_form not in self.FORMS:
            raise UnknownNameError("timing_form", self.timing_form, self.FORMS)
        super().validate()

    def base_timing(self) -> dict[str, Any]:
        if self.timing_form == "fixation":
            return {"fixation": ("uniform", (300, 700)), "stimulus": ("uniform", (500, 1500))}
        if self.timing_form == "reaction":
            return {"fixation": ("uniform", (500, 2500))}
        return {"fixation": (300, 500, 700), "stimulus": (200, 400, 600), "delay": (200, 400, 800, 1600)}

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        d = self.dim_ring
        stimulus = rng.integers(d, size=n)
        modality = rng.integers(2, size=n)
        trials = self.begin(rng, n)
        shown = {"fixation": ("stimulus", *self.segments), "reaction": self.segments, "delay": ("stimulus",)}
        activity = bumps(stimulus, d)
        for m, channel in enumerate(("stimulus_mod1", "stimulus_mod2")):
            trials.set(channel, activity * (modality == m)[:, None], *shown[self.timing_form])
        held = self.hold_periods if self.timing_form != "reaction" else tuple(resolved_timing(self))
        self.fixation(trials, *held)
        answer = (stimulus + (d // 2 if self.anti else 0)) % d
        return self.finish(rng, trials, answer, stimulus=stimulus, modality=modality + 1)


# -- decisions between two stimuli --------------------------------------------------------------
@dataclass(frozen=True, kw_only=True, eq=False)
class TwoStimulusDecision(RingTask):
    """Go to the stronger of two stimuli at different directions (90-180 degrees apart).

    ``modalities``: ``1`` or ``2`` (dm1 / dm2: both stimuli in one ring), ``attend1`` /
    ``attend2`` (ctxdm: both rings carry stimuli with independent strengths; the rule says
    which counts) or ``both`` (multidm: each stimulus's strength is split unevenly between
    the rings, and the sum decides). ``delayed``: the stimuli come one after the other,
    separated by a delay (the dlydm tasks). Strengths are a mean drawn from U(0.8, 1.2)
    plus and minus a coherence (0.01-0.08; 0.08-0.32 when delayed).
    """

    modalities: str = "1"
    delayed: bool = False
    cohs: tuple[float, ...] | None = None

    MODALITIES: ClassVar = ("1", "2", "attend1", "attend2", "both")

    @property
    def memory_period(self) -> str | None:  # type: ignore[override]
        return "delay" if self.delayed else None

    @property
    def coherences(self) -> np.ndarray:
        default = (0.08, 0.16, 0.32) if self.delayed else (0.01, 0.02, 0.04, 0.08)
        return np.asarray(self.cohs if self.cohs is not None else default, dtype=float)

    @property
    def rule_name(self) -> str:
        stem = {"1": "{}dm1", "2": "{}dm2", "attend1": "ctx{}dm1", "attend2": "ctx{}dm2", "both": "multi{}dm"}
        return stem[self.modalities].format("dly" if self.delayed else "")

    def validate(self) -> None:
        if self.modalities not in self.MODALITIES:
            raise UnknownNameError("modalities", self.modalities, self.MODALITIES)
        if self.cohs is not None:
            values = np.asarray(self.cohs, dtype=float)
            if values.ndim != 1 or not len(values) or np.any(values <= 0) or np.any(values >= 0.8):
                raise InvalidParameterError(f"cohs of {self.name} must be numbers in (0, 0.8), got {self.cohs!r}")
        super().validate()

    def base_timing(self) -> dict[str, Any]:
        if not self.delayed:
            return {"fixation": ("uniform", (100, 400)), "stimulus": (400, 800, 1600)}
        return {
            "fixation": (200, 400, 600),
            "stim1": (200, 400, 600),
            "delay": (200, 400, 800, 1600),
            "stim2": (200, 400, 600),
            "delay2": ("uniform", (100, 300)),
        }

    def strengths(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``s1, s2`` of the two stimuli and the coherence: a mean +- coherence."""
        mean = rng.uniform(0.8, 1.2, size=n)
        coh = self.coherences[rng.integers(len(self.coherences), size=n)]
        sign = rng.choice((-1.0, 1.0), size=n)
        return mean + coh * sign, mean - coh * sign, coh

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        d = self.dim_ring
        first = rng.integers(d, size=n)
        separation = rng.integers(d // 4, d // 2 + 1, size=n) * rng.choice((-1, 1), size=n)
        second = (first + separation) % d
        rings = np.zeros((2, 2, n))  # [ring, stimulus, trial] strengths
        s1, s2, coh = self.strengths(rng, n)
        if self.modalities in ("1", "2"):
            rings[int(self.modalities) - 1] = s1, s2
            decisive = s1 > s2
        elif self.modalities in ("attend1", "attend2"):
            other1, other2, _ = self.strengths(rng, n)
            attended = int(self.modalities[-1]) - 1
            rings[attended] = s1, s2
            rings[1 - attended] = other1, other2
            decisive = s1 > s2
        else:
            splits = rng.uniform(0.2, 0.8, size=(2, n)) * rng.choice((-1.0, 1.0), size=(2, n))
            for k, s in enumerate((s1, s2)):
                rings[0, k], rings[1, k] = s * (1 + splits[k] / 2), s * (1 - splits[k] / 2)
            decisive = s1 > s2
        trials = self.begin(rng, n)
        b1, b2 = bumps(first, d), bumps(second, d)
        for m, channel in enumerate(("stimulus_mod1", "stimulus_mod2")):
            one, two = b1 * rings[m, 0][:, None], b2 * rings[m, 1][:, None]
            if self.delayed:
                trials.set(channel, one, "stim1")
                trials.set(channel, two, "stim2")
            else:
                trials.set(channel, one + two, "stimulus")
        self.fixation(trials, *self.hold_periods)
        answer = np.where(decisive, first, second)
        return self.finish(
            rng, trials, answer, first=first, second=second, coh=coh, strength1=rings[:, 0].T, strength2=rings[:, 1].T
        )

    def _ceiling(self) -> Level:
        return _decision_bound(self)


def _decision_bound(task: TwoStimulusDecision, draws: int = 200_000) -> Level:
    """An observer told everything but the sign of the decisive coherence (locations,
    mean strength, the other modality, the split across modalities) does at least as
    well as any policy; it faces two known Gaussian signals and is right with
    probability Phi(|mu_+ - mu_-| / (2 sigma)) on each trial (|.| summed over every input
    and step). Averaged over the task's conditions by seeded Monte Carlo."""
    rng = np.random.default_rng(0)
    d = task.dim_ring
    sigma = task.noise_std
    first = np.zeros(draws, dtype=np.int64)
    second = rng.integers(d // 4, d // 2 + 1, size=draws)
    b1, b2 = bumps(first, d), bumps(second, d)
    s1, s2, _ = task.strengths(rng, draws)
    diff = np.abs(s1 - s2)  # flipping the sign swaps the two strengths
    timing = resolved_timing(task)
    if task.delayed:
        n1 = timing["stim1"].steps(rng, draws, task.dt)
        n2 = timing["stim2"].steps(rng, draws, task.dt)
    else:
        n1 = n2 = timing["stimulus"].steps(rng, draws, task.dt)
    if task.modalities == "both":
        splits = rng.uniform(0.2, 0.8, size=(2, draws)) * rng.choice((-1.0, 1.0), size=(2, draws))
        gains = [(1 + splits[0] / 2, 1 + splits[1] / 2), (1 - splits[0] / 2, 1 - splits[1] / 2)]
    else:
        gains = [(np.ones(draws), np.ones(draws))]
    energy = np.zeros(draws)
    for g1, g2 in gains:
        one, two = b1 * g1[:, None], b2 * g2[:, None]
        if task.delayed:  # the two stimuli at their own times: their differences add in quadrature
            energy += n1 * np.sum(one**2, axis=1) + n2 * np.sum(two**2, axis=1)
        else:
            energy += n1 * np.sum((one - two) ** 2, axis=1)
    values = np.ones(draws) if sigma == 0 else norm.cdf(diff * np.sqrt(energy) / (2 * sigma))
    from neurobench.core.ceilings import monte_carlo

    level = monte_carlo(float(values.mean()), draws, "")
    return Level(
        level.value,
        "bound: an observer told every condition but the decisive sign (two known Gaussian signals), "
        f"averaged over {draws:,} seeded draws",
        "bound",
        float(values.std() / np.sqrt(draws)),
    )


# -- matching --------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True, eq=False)
class Matching(RingTask):
    """Compare a test with a sample held over a delay; go to the test on ``go_on`` trials
    (``match``: DMS, DMC; ``nonmatch``: DNMS, DNMC), keep fixating on the others.

    ``match_to="sample"``: the test is at the sample's direction or 20-180 degrees away;
    ``"category"``: sample and test directions avoid the category boundary (0 and pi) and
    match when on the same half of the ring. Sample and test appear in independently drawn
    modalities. The fixation input stays on for the whole trial: the test's onset is the go
    cue, and the test stays on through the response.
    """

    match_to: str = "sample"
    go_on: str = "match"

    memory_period: ClassVar[str | None] = "delay"
    has_nogo: ClassVar[bool] = True

    @property
    def rule_name(self) -> str:
        stem = "ms" if self.match_to == "sample" else "mc"
        return ("d" if self.go_on == "match" else "dn") + stem

    @property
    def response_ms(self) -> Any:
        return 500 if self.match_to == "sample" else (200, 400, 600)

    def validate(self) -> None:
        if self.match_to not in ("sample", "category"):
            raise UnknownNameError("match_to", self.match_to, ("sample", "category"))
        if self.go_on not in ("match", "nonmatch"):
            raise UnknownNameError("go_on", self.go_on, ("match", "nonmatch"))
        super().validate()

    def base_timing(self) -> dict[str, Any]:
        return {"fixation": (200, 400, 600), "sample": (200, 400, 600), "delay": (200, 400, 800, 1600)}

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        d, half = self.dim_ring, self.dim_ring // 2
        if self.match_to == "sample":
            sample_unit = rng.integers(d, size=n)
            match = rng.integers(2, size=n).astype(bool)
            low = int(np.ceil((np.pi / 9) / (2 * np.pi / d)))
            offset = rng.integers(low, half + 1, size=n) * rng.choice((-1, 1), size=n)
            test_unit = np.where(match, sample_unit, (sample_unit + offset) % d)
        else:  # units off the boundary: 1 .. half-1 (category 0) and half+1 .. d-1 (category 1)
            sample_unit = _off_boundary(rng, n, d)
            test_unit = _off_boundary(rng, n, d)
            match = (sample_unit < half) == (test_unit < half)
        modality = rng.integers(2, size=(2, n))
        trials = self.begin(rng, n)
        for m, channel in enumerate(("stimulus_mod1", "stimulus_mod2")):
            trials.set(channel, bumps(sample_unit, d) * (modality[0] == m)[:, None], "sample")
            trials.set(channel, bumps(test_unit, d) * (modality[1] == m)[:, None], *self.segments)
        self.fixation(trials, *resolved_timing(self))
        go = match if self.go_on == "match" else ~match
        return self.finish(rng, trials, np.where(go, test_unit, -1), sample=sample_unit, test=test_unit, match=match)


def _off_boundary(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    half = d // 2
    pick = rng.integers(d - 2, size=n)  # d - 2 units avoid 0 and half
    return pick + 1 + (pick >= half - 1)


# -- the ideal observer --------------------------------------------------------------------------
_REACH, _MATCHING, _TWO_STIMULI = 0, 1, 2


class RingObserver(Agent):
    """A near-ideal observer of the ring families, from the observations alone.

    Stimuli are far above the noise, so it segments each trial into stimulus episodes
    (steps whose ring input peaks above half a bump), sums each episode's input per ring
    and reads locations and strengths by least squares on the task's own bump templates.
    It decides at the first response window's last step (with all the evidence the window
    brings) and answers every window as the task's composition says: rotated by the memory
    delay it measured (the gap before the second episode, or before the window), moved
    along a sequence window by window. The ceilings are checked against it from below.

    Given several tasks and where their rule input is (a collection: ``rule``), it plays
    each env as the task the rule names, all tasks in one pass: what differs between them
    are per-task parameters, looked up per env. (One observer per task would run Mod-Cog's
    93 over every step.) The task is the rule input's argmax summed over the trial so far,
    the likeliest task under Gaussian noise on a one-hot rule.
    """

    name: ClassVar[str] = "ring_observer"
    THRESHOLD = 0.2  # half the weakest bump any family shows; the noise reaches it once in ~1e8 steps

    def __init__(self, task: RingTask | Sequence[RingTask], rule: slice | None = None) -> None:
        tasks = [task] if isinstance(task, RingTask) else list(task)
        rings = {t.dim_ring for t in tasks}
        if len(rings) != 1 or (rule is None and len(tasks) > 1):
            raise InvalidParameterError(
                f"one ring observer plays tasks of one ring size, named by a rule input; got dim_ring {sorted(rings)} "
                f"and rule {rule!r}"
            )
        self.task, self.tasks, self.rule = tasks[0], tasks, rule
        self.d = tasks[0].dim_ring
        self.templates = bumps(np.arange(self.d), self.d)  # [unit, ring unit]

        def per_task(value: Any) -> np.ndarray:
            return np.array([value(t) for t in tasks])

        self._family = per_task(_family)
        self._delayed = per_task(lambda t: isinstance(t, TwoStimulusDecision) and t.delayed)
        self._anti = per_task(lambda t: self.d // 2 if isinstance(t, Reach) and t.anti else 0)
        self._to_sample = per_task(lambda t: isinstance(t, Matching) and t.match_to == "sample")
        self._on_match = per_task(lambda t: isinstance(t, Matching) and t.go_on == "match")
        self._weights = per_task(lambda t: _MODALITY_WEIGHTS.get(getattr(t, "modalities", "1"), (1, 0)))
        self._integrate = per_task(lambda t: t.integrate if t.memory_period is not None else 0)
        self._dt = per_task(lambda t: t.dt)
        self._sequence = per_task(lambda t: t.sequence)
        self._step_units = per_task(lambda t: t.step_units)

    @property
    def row_independent(self) -> bool:
        return True

    def initial_state(self, num_envs: int, *, seed: int) -> dict[str, np.ndarray]:
        return {
            "sums": np.zeros((num_envs, 2, 2, self.d)),  # [env, episode, ring, unit]
            "steps": np.zeros((num_envs, 2)),
            "episode": np.full(num_envs, -1),
            "inside": np.zeros(num_envs, dtype=bool),
            "since": np.zeros(num_envs),  # steps since a stimulus was last present
            "gap": np.zeros(num_envs),  # the memory delay, in steps
            "opened": np.zeros(num_envs, dtype=bool),
            "closed": np.zeros(num_envs, dtype=np.int64),  # response windows passed
            "answer": np.zeros(num_envs, dtype=np.int64),
            "rule": np.zeros((num_envs, len(self.tasks))),  # the rule input summed over the trial
        }

    def act(
        self, obs: np.ndarray, state: dict[str, np.ndarray], info: Mapping[str, np.ndarray]
    ) -> tuple[np.ndarray, Any]:
        s = {k: v.copy() for k, v in state.items()}
        new = np.asarray(info["new_trial"])
        if new.any():
            for key, value in self.initial_state(len(obs), seed=0).items():
                s[key][new] = value[new]
        which = np.zeros(len(obs), dtype=np.int64)
        if self.rule is not None:  # the task is fixed within a trial: read its rule input so far, not one step's
            s["rule"] += obs[:, self.rule]
            which = s["rule"].argmax(axis=1)
        family = self._family[which]
        window = np.asarray(info["window"])
        d = self.d
        rings = np.stack([obs[:, 1 : 1 + d], obs[:, 1 + d : 1 + 2 * d]], axis=1)  # [env, ring, unit]
        present = rings.max(axis=(1, 2)) > self.THRESHOLD
        in_window = window > 0
        starts = present & ~s["inside"] & ~in_window
        # delayed decisions have no delay between their stimuli where the location jumps
        jumping = np.flatnonzero(self._delayed[which] & present & s["inside"] & (s["episode"] == 0))
        if jumping.size:
            here = self._locate(rings[jumping].sum(axis=1))
            so_far = self._locate(s["sums"][jumping, 0].sum(axis=1))
            starts[jumping] |= ring_distance(preferred(d)[here], preferred(d)[so_far]) > np.pi / 4
        opens = in_window & ~s["opened"]
        two_stimuli = family == _TWO_STIMULI
        gap_ends = np.where(two_stimuli, starts & (s["episode"] == 0), opens)
        s["gap"] = np.where(gap_ends, s["since"], s["gap"])
        s["episode"] = np.where(starts, np.minimum(s["episode"] + 1, 1), s["episode"])
        s["inside"] = present & ~in_window
        s["opened"] |= in_window
        episode = s["episode"]
        # a matching test comes on with the window (the second episode); a reach stimulus
        # may stay on, or come on, in the window
        counted = s["inside"] | (present & in_window & ~two_stimuli)
        episode = np.where(family == _MATCHING, np.where(in_window, 1, episode), episode)
        episode = np.where(family == _REACH, np.maximum(episode, 0), episode)
        rows = np.flatnonzero(counted)
        s["sums"][rows, episode[rows]] += rings[rows]
        s["steps"][rows, episode[rows]] += 1
        s["since"] = np.where(present, 0, s["since"] + 1)
        closing = window == 2
        deciding = np.flatnonzero(closing & (s["closed"] == 0))
        if deciding.size:  # every step would cost a decision; only a window's last step needs one
            s["answer"][deciding] = self._decide({key: value[deciding] for key, value in s.items()}, which[deciding])
        unit = s["answer"] - 1 + self._sequence[which] * s["closed"] * self._step_units[which]
        action = np.where(closing & (s["answer"] > 0), unit % d + 1, 0)
        s["closed"] = s["closed"] + closing
        return action, s

    def _locate(self, summed: np.ndarray) -> np.ndarray:
        return np.argmax(summed @ self.templates.T, axis=-1)

    def _decide(self, s: dict[str, np.ndarray], which: np.ndarray) -> np.ndarray:
        """Per env (of task ``which``): the answer action before the sequence moves it
        (0: withhold)."""
        d, sums = self.d, s["sums"]
        family = self._family[which]
        unit = np.zeros(len(which), dtype=np.int64)
        reach = np.flatnonzero(family == _REACH)
        if reach.size:
            unit[reach] = (self._locate(sums[reach, 0].sum(axis=1)) + self._anti[which[reach]]) % d
        matching = np.flatnonzero(family == _MATCHING)
        if matching.size:
            sample = self._locate(sums[matching, 0].sum(axis=1))
            test = self._locate(sums[matching, 1].sum(axis=1))
            half = d // 2
            own = which[matching]
            match = np.where(self._to_sample[own], sample == test, (sample < half) == (test < half))
            unit[matching] = np.where(match == self._on_match[own], test, -1)
        for delayed in (False, True):
            rows = np.flatnonzero((family == _TWO_STIMULI) & (self._delayed[which] == delayed))
            if rows.size:
                stronger = self._stronger_delayed if delayed else self._stronger_together
                unit[rows] = stronger(sums[rows], s["steps"][rows], self._weights[which[rows]])
        integrate = self._integrate[which]
        delay_ms = s["gap"] * self._dt[which]
        rotation = integrate * np.rint(OMEGA_DEG_PER_MS * delay_ms / (360 / d)).astype(np.int64)
        return np.where(unit >= 0, (unit + rotation) % d + 1, 0)

    def _stronger_delayed(self, sums: np.ndarray, steps: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """One stimulus per episode: compare their amplitudes per step."""
        total = sums[:, :, 0] * weights[:, None, 0:1] + sums[:, :, 1] * weights[:, None, 1:2]  # [env, episode, unit]
        where = self._locate(sums.sum(axis=2))  # [env, episode]
        peak = self.templates[where]
        amplitude = np.sum(total * peak, axis=2) / np.maximum(np.sum(peak**2, axis=2) * steps, 1e-9)
        return np.where(amplitude[:, 0] > amplitude[:, 1], where[:, 0], where[:, 1])

    def _stronger_together(self, sums: np.ndarray, steps: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Both stimuli at once: locate them, then fit both bumps' strengths by least squares."""
        both = sums[:, 0].sum(axis=1)  # the two locations, from every ring
        first = self._locate(both)
        theta = preferred(self.d)
        far = ring_distance(theta[None, :], theta[first][:, None]) >= np.pi / 2 - 1e-9
        second = np.argmax(np.where(far, both @ self.templates.T, -np.inf), axis=1)
        basis = np.stack([self.templates[first], self.templates[second]], axis=2)  # [env, unit, 2]
        total = sums[:, 0, 0] * weights[:, 0:1] + sums[:, 0, 1] * weights[:, 1:2]
        gram = np.einsum("eui,euj->eij", basis, basis)
        fit = np.linalg.solve(gram, np.einsum("eui,eu->ei", basis, total)[..., None])[..., 0]
        return np.where(fit[:, 0] > fit[:, 1], first, second)


_MODALITY_WEIGHTS = {"1": (1, 0), "2": (0, 1), "attend1": (1, 0), "attend2": (0, 1), "both": (1, 1)}


def _family(task: RingTask) -> int:
    if isinstance(task, Matching):
        return _MATCHING
    return _TWO_STIMULI if isinstance(task, TwoStimulusDecision) else _REACH


# -- the collection --------------------------------------------------------------------------------
@dataclass(frozen=True, kw_only=True, eq=False)
class Collection(MultiTask):
    """A published set of tasks interleaved for one network, trial by trial.

    The tasks are fixed by the collection (``names``); ``task_params`` go to every one of
    them (``{"dt": 100, "dim_ring": 16}``), so the observation has the same size on every
    step. Each trial is scored by its own task's rule, and the harness reports the
    per-task breakdown.
    """

    tasks: tuple[Any, ...] = field(default=(), init=False)
    task_params: Mapping[str, Any] = field(default_factory=dict)

    names: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.task_params, Mapping):
            raise InvalidParameterError(f"task_params must map parameters to values, got {self.task_params!r:.80}")
        object.__setattr__(self, "task_params", dict(self.task_params))
        object.__setattr__(self, "tasks", tuple({"id": name, "params": dict(self.task_params)} for name in self.names))
        super().__post_init__()

    @property
    def name(self) -> str:
        return self.spec.name if self.spec is not None else type(self).__name__

    @property
    def rule_slice(self) -> slice:
        """Where the input naming the current task is (the collection's or the tasks' own)."""
        return self.obs_channels["rule"] if self.rule_input else self.tasks[0].obs_channels["rule"]

    @cached_property
    def chunk_size(self) -> int:
        """Enough trials per draw that each task gets several (part of the stream's definition)."""
        return int(min(max(super().chunk_size, 16 * len(self.names)), 4096))

    def params(self) -> dict[str, Any]:
        out = {k: v for k, v in super().params().items() if k != "rule_input"}
        return {"task_params": dict(self.task_params), **out}

    def node(self) -> dict[str, Any]:
        version = self.spec.version if self.spec is not None else 0
        return {"id": f"{self.name}-v{version}", "params": self.params()}

    def _chance(self) -> Level:
        """The current task is named on every step, so the best blind policy plays each
        task's own: the weighted mean of the tasks' chances."""
        return _mean_level([t.chance() for t in self.tasks], "the mean of the tasks' chances", self.shares)

    def blind_policy(self) -> Agent:
        from neurobench.agents.reference import ByRule, ConstantAnswers, ConstantAnswersByRule

        policies = [t.blind_policy() for t in self.tasks]
        if all(isinstance(p, ConstantAnswers) and p.given is not None for p in policies):
            return ConstantAnswersByRule([p.given.tolist() for p in policies], self.rule_slice)
        return ByRule(policies, self.tasks, self.rule_slice)

    def ideal_observer(self) -> Agent:
        """The tasks' ring observer, all tasks in one pass (each env as its rule says)."""
        return RingObserver(self.tasks, self.rule_slice)


@dataclass(frozen=True, kw_only=True, eq=False)
class Yang19(Collection):
    """Yang et al.'s twenty tasks interleaved, as the paper trains one network on them:
    each task's own rule input names it, and the two context-dependent DM tasks are drawn
    five times as often as the others (``weights``, the paper's ``rule_prob_map``)."""

    rule_input: bool = field(default=False, init=False)
    weights: tuple[float, ...] | None = tuple(5.0 if rule in ("ctxdm1", "ctxdm2") else 1.0 for rule in RULES)

    names: ClassVar[tuple[str, ...]] = tuple(f"yang19.{rule}" for rule in RULES)

    @property
    def obs_channels(self) -> Channels:
        return self.tasks[0].obs_channels

    @property
    def action_channels(self) -> Channels:
        return self.tasks[0].action_channels


YANG19: dict[str, tuple[type, dict[str, Any]]] = {
    "go": (Reach, {}),
    "rtgo": (Reach, {"timing_form": "reaction"}),
    "dlygo": (Reach, {"timing_form": "delay"}),
    "anti": (Reach, {"anti": True}),
    "rtanti": (Reach, {"anti": True, "timing_form": "reaction"}),
    "dlyanti": (Reach, {"anti": True, "timing_form": "delay"}),
    "dm1": (TwoStimulusDecision, {"modalities": "1"}),
    "dm2": (TwoStimulusDecision, {"modalities": "2"}),
    "ctxdm1": (TwoStimulusDecision, {"modalities": "attend1"}),
    "ctxdm2": (TwoStimulusDecision, {"modalities": "attend2"}),
    "multidm": (TwoStimulusDecision, {"modalities": "both"}),
    "dlydm1": (TwoStimulusDecision, {"modalities": "1", "delayed": True}),
    "dlydm2": (TwoStimulusDecision, {"modalities": "2", "delayed": True}),
    "ctxdlydm1": (TwoStimulusDecision, {"modalities": "attend1", "delayed": True}),
    "ctxdlydm2": (TwoStimulusDecision, {"modalities": "attend2", "delayed": True}),
    "multidlydm": (TwoStimulusDecision, {"modalities": "both", "delayed": True}),
    "dms": (Matching, {}),
    "dnms": (Matching, {"go_on": "nonmatch"}),
    "dmc": (Matching, {"match_to": "category"}),
    "dnmc": (Matching, {"match_to": "category", "go_on": "nonmatch"}),
}
TAGS = ("multitask", "ring", "supervised", "yang19")
DEVIATIONS = (
    "Follows Yang et al.'s code rather than NeuroGym's port: dt 20 ms, 32 units per ring, a 20-unit rule input, "
    "the paper's epochs, strengths and coherences, noise on every input at every step.",
    "Directions are drawn from the ring's 32 preferred directions (the paper: uniform on the circle), so the "
    "ring criterion is exact for a discrete answer; DMC's directions are the units off the category boundary.",
    "Timing and modality are drawn per trial (the paper: once per batch of 64): the same distribution per trial.",
    "Breaking fixation before the go cue ends the trial as an abort (the paper's criterion: fixation held).",
    "multidm's split between modalities is drawn from the seeded generator (the paper used the global one).",
)
SPECS = [
    *(
        TaskSpec(f"yang19.{name}", 0, factory, params, "yang19", TAGS, PAPER, deviations=DEVIATIONS)
        for name, (factory, params) in YANG19.items()
    ),
    TaskSpec(
        "Yang19",
        0,
        Yang19,
        {},
        "multitask",
        ("multitask", "ring", "supervised", "yang19"),
        PAPER,
        description="Yang et al.'s 20 tasks interleaved for one network, with their rule inputs",
        deviations=(
            "NeuroGym's nested schedule returns observations of the wrong size on a third of the steps; "
            "here every task has the same 85 inputs.",
        ),
    ),
]
assert tuple(YANG19) == RULES
