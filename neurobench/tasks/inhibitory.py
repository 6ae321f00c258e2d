"""Inhibitory control and detection: withhold when that is the answer, or act against the cue.

GoNogo and AntiReach test inhibition of a prepotent response (going, or reaching
towards the stimulus). Detection, ToneDetection and AnnubesEnv test detection: a go (or
the position of a tone) when a signal was there, withholding on no-go and catch trials,
which are correct only if no answer is given through the response window.

Noise follows NeuroGym, Gaussian of std ``sigma / sqrt(dt)`` per step (AnnubesEnv: its
leaky-integration scaling), on the stimulus inputs. Detection tasks with noise have a
Bayes observer of their own (a likelihood ratio against the no-signal hypothesis), whose
success is their ceiling.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

import numpy as np

from neurobench.agents.base import Agent
from neurobench.core.ceilings import DRAWS, bayes_success, monte_carlo
from neurobench.core.channels import Channels
from neurobench.core.checks import check_int, check_number, check_values
from neurobench.core.errors import InvalidParameterError
from neurobench.core.levels import uniform
from neurobench.core.registry import TaskSpec
from neurobench.core.rules import FIXATE, SKIP, FixateThenChoose, ResponseRule
from neurobench.core.task import STANDARD_REWARDS, Level, Paper, TimedTask
from neurobench.core.timing import to_steps
from neurobench.core.trials import TrialBatch, TrialBuilder

GO = 1
PULSE = 0.5  # Detection's signal, added to the noisy stimulus input
CATCH = "catch"  # Annubes' reserved name of catch trials
_MAX_STATES = 1024  # trial-type states Annubes' max_sequential may create
_HISTORY_SESSIONS, _HISTORY_TRIALS = 512, 100  # sessions simulated for Annubes' history-dependent levels


def _logmeanexp(values: np.ndarray, valid: np.ndarray, axis: int = -1) -> np.ndarray:
    """log of the mean of exp(values) over the ``valid`` entries along ``axis``."""
    masked = np.where(valid, values, -np.inf)
    top = masked.max(axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    total = np.exp(masked - top).sum(axis=axis)
    return np.squeeze(top, axis=axis) + np.log(total) - np.log(valid.sum(axis=axis))


@dataclass(frozen=True, kw_only=True, eq=False)
class GoNogo(TimedTask):
    """Go/no-go: a go or a no-go cue is shown; after a delay, go on go trials and keep
    withholding on no-go trials.

    The cue lights its own input during the stimulus (NeuroGym's ``nogo`` and ``go``
    units); the fixation input is on until the decision, when every input goes dark. A
    go answer on a no-go trial, and a missed go, cost 0.5; withholding through a no-go
    decision period is correct (and unrewarded, as in NeuroGym).
    """

    default_timing: ClassVar = {"fixation": 0, "stimulus": 500, "delay": 500, "decision": 500}
    default_rewards: ClassVar = {**STANDARD_REWARDS, "fail": -0.5, "miss": -0.5}

    @property
    def obs_channels(self) -> Channels:
        return Channels(fixation=1, nogo=1, go=1)

    @property
    def action_channels(self) -> Channels:
        return Channels(fixation=1, go=1)

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        go = rng.integers(2, size=n)
        trials = self.trials(rng, n)
        trials.set("fixation", 1.0, "fixation", "stimulus", "delay")
        trials.set("nogo", go == 0, "stimulus")
        trials.set("go", go == 1, "stimulus")
        trials.answer(go, "decision")
        return trials.build(ground_truth=go, answer=go)

    def _chance(self) -> Level:
        return Level(
            0.5, "exact: go and no-go trials are equally likely; always going or always withholding scores 0.5"
        )


@dataclass(frozen=True, kw_only=True, eq=False)
class AntiReach(TimedTask):
    """Anti-reach (the anti-saccade task of Munoz & Everling 2004): a stimulus appears on a
    ring and the answer is the opposite direction (``anti=False``: towards it, the
    pro-response).

    ``dim_ring`` stimulus units tile the ring and respond ``cos(theta - theta_stimulus)``
    during the stimulus; the answer is one of ``dim_ring`` directions, given when the
    fixation input turns off in the decision period. Fixation is held in the fixation
    period. Noise-free: the ceiling is 1, and chance 1 / ``dim_ring``.
    """

    default_timing: ClassVar = {"fixation": 500, "stimulus": 500, "delay": 0, "decision": 500}

    anti: bool = True
    dim_ring: int = 32

    def validate(self) -> None:
        if not isinstance(self.anti, bool | np.bool_):
            raise InvalidParameterError(f"anti must be true or false, got {self.anti!r}")
        check_int("dim_ring", self.dim_ring, minimum=2)

    @property
    def obs_channels(self) -> Channels:
        return Channels(fixation=1, stimulus=self.dim_ring)

    @property
    def action_channels(self) -> Channels:
        return Channels(fixation=1, choice=self.dim_ring)

    @property
    def input_range(self) -> tuple[float, float]:
        return (-1.0, 1.0)

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        theta = np.arange(self.dim_ring) * 2 * np.pi / self.dim_ring
        truth = rng.integers(self.dim_ring, size=n)
        shown = theta[truth] + (np.pi if self.anti else 0.0)
        trials = self.trials(rng, n)
        trials.set("fixation", 1.0, "fixation", "stimulus", "delay")
        trials.set("stimulus", np.cos(theta[None, :] - shown[:, None]), "stimulus")
        trials.answer(truth + 1, "decision")
        return trials.build(ground_truth=truth, anti=np.full(n, self.anti), answer=truth + 1)

    def _chance(self) -> Level:
        return uniform(self.dim_ring)


@dataclass(frozen=True, kw_only=True, eq=False)
class Detection(TimedTask):
    """Detect a brief pulse in noise and go as soon as it is seen; on no-go trials (half
    of them) there is no pulse and withholding is correct.

    The stimulus input is noise throughout the stimulus period; on go trials a pulse of
    +0.5 lasting ``stim_dur`` ms starts ``delay`` ms into it (by default at a uniformly
    drawn step, leaving at least one step after a one-step pulse, as in NeuroGym). The
    fixation input is on only in the fixation period, the only one where fixation is
    held. A go at or after the pulse's onset is correct; a go before it, or on a no-go
    trial, fails (-1); a missed pulse costs 1; withholding through a no-go trial is
    correct and unrewarded.

    Ceiling: a go is correct whenever it comes at or after the onset, so deferring any go
    to the stimulus's last step never loses, and the best policy is the Bayes decision on
    the whole stimulus: go when the likelihood ratio (the mean over possible onsets of
    exp((0.5 S_d - D 0.125) / sigma_step^2), with S_d the input summed over the D pulse
    steps from onset d) exceeds 1. Its success is Monte Carlo (200k seeded draws).

    NeuroGym names no paper; the paradigm is that of Carnevale et al. (2015), detection of
    a brief stimulus at an uncertain time with stimulus-absent trials, reported here by a go.
    """

    default_timing: ClassVar = {"fixation": 500, "stimulus": ("truncated_exponential", (1000, 500, 1500))}
    default_rewards: ClassVar = {"abort": -0.1, "correct": 1.0, "fail": -1.0, "miss": -1.0}

    sigma: float = 1.0
    delay: float | None = None  # ms from the stimulus onset to the pulse; None: drawn
    stim_dur: float = 100.0  # ms

    def validate(self) -> None:
        check_number("sigma", self.sigma, minimum=0)
        check_number("stim_dur", self.stim_dur, minimum=0)
        if self.pulse_steps < 1:
            raise InvalidParameterError(
                f"stim_dur of {self.stim_dur:g} ms is shorter than dt = {self.dt:g} ms, so no pulse would be shown"
            )
        shortest = int(to_steps(self.timing["stimulus"].bounds[0], self.dt))  # type: ignore[index, union-attr]
        if self.delay is None:
            needed = self.pulse_steps + self.extra_step
            if shortest < needed:
                raise InvalidParameterError(
                    f"Detection: the stimulus can last {shortest} steps, fewer than the {needed} a pulse of "
                    f"{self.stim_dur:g} ms and a step to answer need; lengthen the stimulus or shorten stim_dur"
                )
        else:
            check_number("delay", self.delay, minimum=0)
            if int(to_steps(self.delay, self.dt)) + self.pulse_steps > shortest:
                raise InvalidParameterError(
                    f"Detection: a pulse at delay = {self.delay:g} ms lasting {self.stim_dur:g} ms does not fit in "
                    f"the shortest stimulus ({shortest} steps of {self.dt:g} ms)"
                )

    @property
    def pulse_steps(self) -> int:
        return int(to_steps(self.stim_dur, self.dt))

    @property
    def extra_step(self) -> int:
        """A one-step pulse never falls on the stimulus's last step (NeuroGym's rule)."""
        return 1 if self.pulse_steps == 1 else 0

    @property
    def response_periods(self) -> tuple[str, ...]:
        return ("stimulus",)

    @property
    def obs_channels(self) -> Channels:
        return Channels(fixation=1, stimulus=1)

    @property
    def action_channels(self) -> Channels:
        return Channels(fixation=1, go=1)

    @property
    def answers(self) -> tuple[int, ...]:
        return (0, GO)

    def onsets(self, rng: np.random.Generator, stimulus_steps: np.ndarray) -> np.ndarray:
        """The pulse's onset (steps into the stimulus) for stimuli of the given lengths."""
        n = len(stimulus_steps)
        if self.delay is not None:
            return np.full(n, int(to_steps(self.delay, self.dt)), dtype=np.int64)
        room = np.asarray(stimulus_steps) - self.pulse_steps - self.extra_step
        return np.where(room > 0, np.floor(rng.random(n) * np.maximum(room, 1)), 0).astype(np.int64)

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        go = rng.integers(2, size=n)
        trials = self.trials(rng, n)
        start, end = trials.periods["stimulus"]
        onset = np.where(go == GO, self.onsets(rng, trials.steps["stimulus"]), 0)
        trials.set("fixation", 1.0, "fixation")
        pulse_start = start + onset
        trials.set_span("stimulus", PULSE * go, pulse_start, pulse_start + self.pulse_steps)
        trials.add_noise(rng, "stimulus", "stimulus")
        t = np.arange(trials.max_length)[None, :]
        due = (go[:, None] == GO) & (t >= pulse_start[:, None]) & (t < end[:, None])
        trials.target[due] = GO
        return trials.build(ground_truth=go, delay=onset * self.dt, answer=go)

    def _chance(self) -> Level:
        return Level(0.5, "exact: go and no-go trials are equally likely; going at the end or withholding scores 0.5")

    def log_likelihood_ratio(self, inputs: np.ndarray, length: np.ndarray) -> np.ndarray:
        """``[E]`` log P(inputs | pulse) / P(inputs | none) of stimulus inputs ``[E, K]``
        over windows of ``length`` steps (entries beyond a window's length are unused)."""
        inputs = np.asarray(inputs, dtype=float)
        width = inputs.shape[1]
        d = np.arange(width)[None, :]
        cumulative = np.concatenate([np.zeros((len(inputs), 1)), np.cumsum(inputs, axis=1)], axis=1)
        sums = cumulative[:, np.minimum(d + self.pulse_steps, width)[0]] - cumulative[:, d[0]]
        length = np.asarray(length)[:, None]
        if self.delay is not None:
            valid = d == int(to_steps(self.delay, self.dt))
        else:
            valid = d < np.maximum(length - self.pulse_steps - self.extra_step, 1)
        if self.noise_std == 0:
            return np.where(np.any(valid & (sums > 0), axis=1), np.inf, -np.inf)
        terms = (PULSE * sums - self.pulse_steps * PULSE**2 / 2) / self.noise_std**2
        return _logmeanexp(terms, valid)

    def _ceiling(self) -> Level:
        if self.noise_std == 0:
            return Level(1.0, "exact: a noise-free pulse is always seen")
        rng = np.random.default_rng(0)
        steps = self.period_steps("stimulus")
        length = steps[rng.integers(len(steps), size=DRAWS)]
        go = rng.integers(2, size=DRAWS) == GO
        onset = self.onsets(rng, length)
        t = np.arange(int(length.max()))[None, :]
        pulse = go[:, None] & (t >= onset[:, None]) & (t < onset[:, None] + self.pulse_steps)
        inputs = PULSE * pulse + self.noise_std * rng.standard_normal(pulse.shape)
        decided = self.log_likelihood_ratio(inputs, length) > 0
        return monte_carlo(
            float(np.mean(decided == go)), DRAWS, "Monte Carlo (200k seeded draws) of the Bayes observer"
        )

    def ideal_observer(self) -> Agent:
        return PulseObserver()


class PulseObserver(Agent):
    """Detection's Bayes observer: keeps the stimulus inputs of the response window and,
    as it closes, goes if the pulse is likelier than its absence."""

    name: ClassVar[str] = "pulse_observer"

    def prepare(self, task: Any) -> None:
        self.task = task
        self.channel = task.obs_channels["stimulus"].start

    def initial_state(self, num_envs: int, *, seed: int) -> dict[str, np.ndarray]:
        return {"inputs": np.zeros((num_envs, 16)), "seen": np.zeros(num_envs, dtype=np.int64)}

    def act(
        self, obs: np.ndarray, state: dict[str, np.ndarray], info: Mapping[str, np.ndarray]
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        seen = np.where(np.asarray(info["new_trial"]), 0, state["seen"])
        inputs = state["inputs"]
        if seen.max(initial=0) >= inputs.shape[1]:
            inputs = np.pad(inputs, ((0, 0), (0, inputs.shape[1])))
        window = np.asarray(info["window"]) > 0
        rows = np.flatnonzero(window)
        inputs[rows, seen[rows]] = obs[rows, self.channel]
        seen = seen + window
        closing = np.flatnonzero(np.asarray(info["window"]) == 2)
        action = np.zeros(len(obs), dtype=np.int64)
        if len(closing):
            ratio = self.task.log_likelihood_ratio(inputs[closing], seen[closing])
            action[closing] = np.where(ratio > 0, GO, FIXATE)
        return action, {"inputs": inputs, "seen": seen}


@dataclass(frozen=True, kw_only=True, eq=False)
class ToneDetection(TimedTask):
    """Tone in noise (human auditory detection): report at which of three times a brief
    tone sounded, or that there was none.

    One input carries background noise through the stimulus; on three trials in four a
    tone of amplitude 1 lasting ``tone_duration`` ms is added at one of ``tone_onsets``
    (each position and the no-tone condition equally likely). The answer is the tone's
    position (actions 1-3) or, for no tone, keeping the fixation action through the
    stimulus. There is no fixation period, as in NeuroGym (a human-like report). The first
    non-zero action is the answer and ends the trial; naming a tone before it sounded is
    wrong.

    Ceiling: the sums of the input over the three tone windows are sufficient; the Bayes
    observer over the four equally likely hypotheses, integrated by Monte Carlo.
    """

    default_timing: ClassVar = {"stimulus": 2000}
    default_rewards: ClassVar = {"abort": -0.1, "correct": 1.0, "fail": 0.0, "miss": -0.1}

    dt: float = 50.0
    sigma: float = 0.2
    tone_onsets: tuple[float, ...] = (500.0, 1000.0, 1500.0)
    tone_duration: float = 50.0

    def validate(self) -> None:
        check_number("sigma", self.sigma, minimum=0)
        check_number("tone_duration", self.tone_duration, minimum=0)
        onsets = check_values("tone_onsets", self.tone_onsets, minimum=0)
        if self.tone_steps < 1:
            raise InvalidParameterError(
                f"dt = {self.dt:g} ms must not exceed the tone duration ({self.tone_duration:g} ms), or no tone "
                "is heard"
            )
        starts = to_steps(onsets, self.dt)
        if np.any(np.diff(starts) < self.tone_steps):
            raise InvalidParameterError(
                f"tone_onsets {list(self.tone_onsets)} must increase by at least the tone duration "
                f"({self.tone_duration:g} ms), so each position has a tone window of its own"
            )
        shortest = int(to_steps(self.timing["stimulus"].bounds[0], self.dt))  # type: ignore[index, union-attr]
        if int(starts[-1]) + self.tone_steps > shortest:
            raise InvalidParameterError(
                f"the last tone ({onsets[-1]:g} ms + {self.tone_duration:g} ms) ends after the shortest stimulus "
                f"({shortest * self.dt:g} ms)"
            )

    @property
    def tone_steps(self) -> int:
        return int(to_steps(self.tone_duration, self.dt))

    @property
    def hold_periods(self) -> tuple[str, ...]:
        return ()

    @property
    def response_periods(self) -> tuple[str, ...]:
        return ("stimulus",)

    @property
    def obs_channels(self) -> Channels:
        return Channels(stimulus=1)

    @property
    def action_channels(self) -> Channels:
        return Channels(fixation=1, choice=len(self.tone_onsets))

    @property
    def answers(self) -> tuple[int, ...]:
        return tuple(range(len(self.tone_onsets) + 1))

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        positions = len(self.tone_onsets)
        condition = rng.integers(positions + 1, size=n)
        trials = self.trials(rng, n)
        start, end = trials.periods["stimulus"]
        onsets = start[:, None] + to_steps(np.asarray(self.tone_onsets, dtype=float), self.dt)[None, :]
        for k in range(positions):
            trials.set_span("stimulus", condition == k + 1, onsets[:, k], onsets[:, k] + self.tone_steps)
        trials.add_noise(rng, "stimulus", "stimulus")
        heard = np.where(condition > 0, onsets[np.arange(n), np.maximum(condition - 1, 0)], end)
        t = np.arange(trials.max_length)[None, :]
        due = (t >= heard[:, None]) & (t < end[:, None])
        trials.target[...] = np.where(due, condition[:, None], 0)
        return trials.build(ground_truth=condition, answer=condition)

    def _chance(self) -> Level:
        return uniform(len(self.tone_onsets) + 1)

    def _ceiling(self) -> Level:
        if self.noise_std == 0:
            return Level(1.0, "exact: a noise-free tone is always heard")
        positions = len(self.tone_onsets)
        means = np.eye(positions + 1, positions, k=-1)[:, :, None]  # hypothesis h: the tone in window h - 1
        steps = np.full((1, positions), self.tone_steps)
        value = bayes_success(means, np.arange(positions + 1), steps, self.noise_std)
        return monte_carlo(value, DRAWS, "Monte Carlo (200k seeded draws) of the Bayes observer of the tone windows")


def _stimuli(given: Any) -> dict[str, float]:
    """Annubes' stimuli as ``{"a": p, "a+v": p}``: keys are a modality, a list of them or
    ``"a+v"`` (JSON has no tuple keys), stored sorted; relative weights as given."""
    if not isinstance(given, Mapping) or not given:
        raise InvalidParameterError(f"stimuli must map stimuli (modalities) to probabilities, got {given!r}")
    out: dict[str, float] = {}
    for key, weight in given.items():
        names = key.split("+") if isinstance(key, str) else list(key) if isinstance(key, Sequence) else None
        if not names or not all(isinstance(m, str) and m.strip() and "+" not in m for m in names):
            raise InvalidParameterError(f"stimuli key {key!r} must be a modality name, a list of them, or 'a+v'")
        modalities = sorted({m.strip() for m in names})
        for m in modalities:
            if m.lower() == CATCH:
                raise InvalidParameterError(f"{m!r} is reserved for catch trials (set catch_prob); it is no modality")
            if m in ("fixation", "start"):
                raise InvalidParameterError(f"{m!r} names an input of AnnubesEnv already; call the modality otherwise")
        check_number(f"stimuli[{key!r}]", weight, minimum=0)
        name = "+".join(modalities)
        if name in out:
            raise InvalidParameterError(f"stimuli names the stimulus {name!r} twice")
        out[name] = float(weight)
    return out


def _intensities(given: Any, modalities: list[str]) -> dict[str, list[float]]:
    """Intensities per modality: ``None`` (0.8, 0.9, 1.0), one list for all, or per modality."""

    def levels(name: str, value: Any) -> list[float]:
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = [value]
        return [float(v) for v in check_values(name, value)]

    if given is None:
        return {m: [0.8, 0.9, 1.0] for m in modalities}
    if isinstance(given, Mapping):
        if set(given) != set(modalities):
            raise InvalidParameterError(
                f"intensities must give every modality of the stimuli ({modalities}) and no other, got {sorted(given)}"
            )
        return {m: levels(f"intensities[{m!r}]", given[m]) for m in modalities}
    return {m: levels("intensities", given) for m in modalities}


def _limits(given: Any, modalities: list[str]) -> dict[str, int | None]:
    """max_sequential per modality and for catch trials (``None``: no limit)."""
    if given is None or (isinstance(given, int | np.integer) and not isinstance(given, bool)):
        out: dict[str, int | None] = dict.fromkeys(modalities, None if given is None else int(given))
        out[CATCH] = None
    elif isinstance(given, Mapping):
        unknown = sorted(set(given) - {*modalities, CATCH})
        if unknown:
            raise InvalidParameterError(
                f"max_sequential names {unknown}, which are not modalities of the stimuli ({modalities}) or {CATCH!r}"
            )
        out = {m: given.get(m) for m in [*modalities, CATCH]}
    else:
        raise InvalidParameterError(f"max_sequential must be null, an integer or a mapping, got {given!r}")
    for name, value in out.items():
        if value is not None:
            check_int(f"max_sequential[{name!r}]", value, minimum=1)
            out[name] = int(value)
    return out


class TrialTypes:
    """The trial types of an Annubes session and the Markov chain ``max_sequential`` makes
    of them.

    Options are the session's stimuli in order, then the catch trial. A state counts, for
    each limited modality (and catch trials, if limited), how many trials in a row have
    shown it; an option is available while none of its modalities has reached its limit,
    and the available options keep their relative probabilities. Without limits there is
    one state and trials are independent.
    """

    def __init__(self, task: AnnubesEnv) -> None:
        self.stimuli = [tuple(key.split("+")) for key in task.stimuli]
        self.modalities = task.modalities
        weights = np.asarray(list(task.stimuli.values()), dtype=float)
        stim = weights / weights.sum() * (1 - task.catch_prob) if weights.sum() > 0 else np.zeros(len(weights))
        base = np.append(stim, task.catch_prob)
        self.catch = len(self.stimuli)  # the catch option's index
        self.present = np.array(
            [[m in s for m in self.modalities] for s in self.stimuli] + [[False] * len(self.modalities)]
        )
        limits = task.max_sequential
        tracked = [m for m in [*self.modalities, CATCH] if limits[m] is not None]
        states: list[tuple[int, ...]] = [(0,) * len(tracked)]
        index = {states[0]: 0}
        q: list[np.ndarray] = []
        following: list[list[int]] = []
        while len(q) < len(states):
            counts = dict(zip(tracked, states[len(q)], strict=True))
            allowed = [
                all(counts.get(m, 0) < (limits[m] or 0) for m in s if limits[m] is not None) for s in self.stimuli
            ]
            allowed.append(limits[CATCH] is None or counts[CATCH] < limits[CATCH])
            p = base * np.asarray(allowed)
            if not p.sum() > 0:
                raise InvalidParameterError(
                    f"max_sequential {dict(limits)} cannot be met: after the counts {counts} no stimulus with a "
                    f"positive probability is left (stimuli {dict(task.stimuli)}, catch_prob {task.catch_prob})"
                )
            row = []
            for k, members in enumerate([*self.stimuli, (CATCH,)]):
                nxt = tuple((counts[t] + 1) if t in members else 0 for t in tracked)
                if p[k] > 0 and nxt not in index:
                    if len(states) == _MAX_STATES:
                        raise InvalidParameterError(
                            f"max_sequential {dict(limits)} makes more than {_MAX_STATES} trial-type states; use "
                            f"smaller limits"
                        )
                    index[nxt] = len(states)
                    states.append(nxt)
                row.append(index.get(nxt, 0))
            q.append(p / p.sum())
            following.append(row)
        self.q = np.asarray(q)  # [S, K] option probabilities per state
        self.next = np.asarray(following, dtype=np.int64)  # [S, K] state after each option
        self.cumulative = np.cumsum(self.q, axis=1)
        self.last = np.asarray([np.flatnonzero(row > 0)[-1] for row in self.q])
        self.p_catch = self.q[:, self.catch]

    @property
    def n_states(self) -> int:
        return len(self.q)

    def draw(
        self, rng: np.random.Generator, sessions: int, m: int, start: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Options ``[sessions, m]`` of the next ``m`` trials of sessions in states
        ``start``, the states before each trial, and the states after the last.

        The chain is run for every possible state at once and composed by doubling (a
        parallel prefix scan), so no loop runs over trials."""
        u = rng.random((sessions, m))
        states = np.arange(self.n_states)
        options = np.empty((sessions, m), dtype=np.int64)
        before = np.empty((sessions, m), dtype=np.int64)
        end = np.empty(sessions, dtype=np.int64)
        block = max(1, 2**22 // max(1, m * self.n_states * self.q.shape[1]))
        for first in range(0, sessions, block):
            rows = slice(first, min(first + block, sessions))
            s0 = np.asarray(start[rows], dtype=np.int64)
            chosen = (u[rows, :, None, None] >= self.cumulative[None, None]).sum(axis=3)
            chosen = np.minimum(chosen, self.last[None, None, :])  # [B, m, S]: option from each state
            reach = self.next[states[None, None, :], chosen]  # state after trial t, from each state before it
            shift = 1
            while shift < m:
                reach[:, shift:] = np.take_along_axis(reach[:, shift:], reach[:, :-shift], axis=2)
                shift *= 2
            prior = np.concatenate(
                [s0[:, None], np.take_along_axis(reach[:, :-1], s0[:, None, None], axis=2)[..., 0]], axis=1
            )
            before[rows] = prior
            options[rows] = np.take_along_axis(chosen, prior[..., None], axis=2)[..., 0]
            end[rows] = reach[np.arange(len(s0)), m - 1, s0] if m else s0
        return options, before, end

    @cached_property
    def _moves(self) -> tuple[Any, Any]:
        """Sparse ``[S, S]`` transitions after a catch trial and after a stimulus trial."""
        from scipy import sparse

        s, k = np.nonzero(self.q > 0)
        out = []
        for mask in (k == self.catch, k != self.catch):
            out.append(
                sparse.csr_matrix(
                    (self.q[s[mask], k[mask]], (s[mask], self.next[s[mask], k[mask]])), shape=(self.n_states,) * 2
                )
            )
        return out[0], out[1]

    def update(self, belief: np.ndarray, was_catch: np.ndarray) -> np.ndarray:
        """Beliefs over states ``[E, S]`` after seeing whether the trial was a catch trial."""
        after_catch, after_stimulus = (np.asarray((move.T @ belief.T).T) for move in self._moves)
        out = np.where(np.asarray(was_catch)[:, None], after_catch, after_stimulus)
        return out / np.maximum(out.sum(axis=1, keepdims=True), 1e-300)


@dataclass(frozen=True, kw_only=True, eq=False)
class AnnubesEnv(TimedTask):
    """Annubes: detect a stimulus in one or more sensory modalities; withhold on catch trials.

    ``stimuli`` (NeuroGym's ``session``) lists what a trial may show, each a modality or a
    combination (``{"v": 1, "a+v": 1}``), with relative probabilities; a trial is a catch
    trial with probability ``catch_prob`` and otherwise shows one of them. Each modality has
    its own input, which during the stimulus shows its intensity (drawn from
    ``intensities``) if the modality is present; the ``start`` input marks the stimulus;
    the fixation input holds ``fix_intensity`` in the fixation period. The answer: go
    during the stimulus when something is shown, keep fixating through a catch trial's
    stimulus. Fixation is held in the fixation period and in the inter-trial interval
    ``iti`` (breaks cost the abort reward).

    ``max_sequential`` limits how many trials in a row may show a modality (an integer for
    every modality, or a mapping that may also limit catch trials): a limited modality is
    left out of the options until another trial type breaks the run. Trials then depend
    on the ones before, so sessions are sequential, and the best stimulus-blind policy
    predicts catch trials from the answers so far (a Bayes filter over the run counts).

    Noise is NeuroGym's leaky-integrator input noise: std ``sigma sqrt(2 alpha) / alpha``
    per step with ``alpha = dt / tau``, on every modality input during the stimulus.

    Ceiling: without limits, the Bayes observer of catch against stimulus trials (the
    stimulus sums of each modality are sufficient; intensities and stimuli integrated out
    with their probabilities), Monte Carlo. With limits, a bound: the same observer also
    told the run counts (the prior no real observer has more of).

    NeuroGym names no paper; the paradigm is audiovisual detection with catch trials and
    graded intensities, as in Meijer et al. (2018).
    """

    default_timing: ClassVar = {"fixation": 500, "stimulus": 1000, "iti": 0}

    stimuli: Mapping[str, float] = field(default_factory=lambda: {"a": 0.5, "v": 0.5})
    catch_prob: float = 0.5
    intensities: Any = None
    max_sequential: Any = None
    fix_intensity: float = 0.0
    tau: float = 100.0
    sigma: float = 0.01

    def __post_init__(self) -> None:
        object.__setattr__(self, "stimuli", _stimuli(self.stimuli))
        modalities = sorted({m for key in self.stimuli for m in key.split("+")})
        object.__setattr__(self, "intensities", _intensities(self.intensities, modalities))
        object.__setattr__(self, "max_sequential", _limits(self.max_sequential, modalities))
        super().__post_init__()

    def validate(self) -> None:
        check_number("catch_prob", self.catch_prob, minimum=0)
        if self.catch_prob > 1:
            raise InvalidParameterError(f"catch_prob must be a probability, got {self.catch_prob!r}")
        positive = any(p > 0 for p in self.stimuli.values())
        if self.catch_prob == 1 and positive:
            raise InvalidParameterError("catch_prob is 1, so the stimuli with positive probability never show")
        if self.catch_prob < 1 and not positive:
            raise InvalidParameterError(
                f"stimuli {dict(self.stimuli)}: at least one stimulus needs a positive probability"
            )
        check_number("fix_intensity", self.fix_intensity)
        check_number("tau", self.tau, minimum=1e-9)
        check_number("sigma", self.sigma, minimum=0)
        _ = self.types  # refuses limits that cannot be met

    @property
    def modalities(self) -> list[str]:
        return list(self.intensities)

    @cached_property
    def types(self) -> TrialTypes:
        return TrialTypes(self)

    @property
    def sequential(self) -> bool:
        return any(limit is not None for limit in self.max_sequential.values())

    @property
    def noise_std(self) -> float:
        alpha = self.dt / self.tau
        return float(self.sigma * np.sqrt(2 * alpha) / alpha)

    @property
    def hold_periods(self) -> tuple[str, ...]:
        return ("fixation", "iti")

    @property
    def response_periods(self) -> tuple[str, ...]:
        return ("stimulus",)

    @cached_property
    def rule(self) -> ResponseRule:
        if self.timing["iti"].bounds[1] > 0:  # type: ignore[index, union-attr]
            return ThenHold(self.hold_periods, self.response_periods, self.rewards, self.abort)  # type: ignore[arg-type]
        return FixateThenChoose(self.hold_periods, self.response_periods, self.rewards, self.abort)  # type: ignore[arg-type]

    @property
    def obs_channels(self) -> Channels:
        return Channels(fixation=1, start=1, **dict.fromkeys(self.modalities, 1))

    @property
    def action_channels(self) -> Channels:
        return Channels(fixation=1, choice=1)

    @property
    def answers(self) -> tuple[int, ...]:
        return (0, GO)

    @property
    def input_range(self) -> tuple[float, float]:
        values = [v for levels in self.intensities.values() for v in levels] + [self.fix_intensity]
        return min(0.0, *values), max(1.0, *values)

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        return self.sample_sessions(rng, 1, n, None)[0]

    def sample_sessions(self, rng: np.random.Generator, sessions: int, m: int, carry: Any) -> tuple[TrialBatch, Any]:
        start = np.zeros(sessions, dtype=np.int64) if carry is None else carry
        options, _, end = self.types.draw(rng, sessions, m, start)
        return self._trials(rng, options.ravel()), end

    def _trials(self, rng: np.random.Generator, option: np.ndarray) -> TrialBatch:
        n = len(option)
        catch = option == self.types.catch
        present = self.types.present[option]
        trials = self.trials(rng, n)
        trials.set("fixation", self.fix_intensity, "fixation")
        trials.set("start", 1.0, "stimulus")
        shown = {}
        for j, modality in enumerate(self.modalities):
            levels = np.asarray(self.intensities[modality])
            shown[f"intensity_{modality}"] = present[:, j] * levels[rng.integers(len(levels), size=n)]
            trials.set(modality, shown[f"intensity_{modality}"], "stimulus")
            trials.add_noise(rng, modality, "stimulus")
        go = (~catch).astype(np.int64)
        trials.answer(go, "stimulus")
        return trials.build(
            ground_truth=go, catch=catch.astype(np.int8), stimulus=np.where(catch, -1, option), answer=go, **shown
        )

    # -- scores ------------------------------------------------------------------------
    def _chance(self) -> Level:
        if not self.sequential:
            p = float(self.types.p_catch[0])
            return Level(max(p, 1 - p), f"exact: catch trials have probability {p:g}; the likelier answer, always")
        return self._history_levels[0]

    def blind_policy(self) -> Agent:
        return CatchPredictor() if self.sequential else super().blind_policy()

    def _ceiling(self) -> Level:
        if not self.sequential:
            value, exact = self._detection_success(self.types.q[0], DRAWS, 0)
            method = "Monte Carlo (200k seeded draws) of the Bayes observer of catch against stimulus trials"
            return Level(value, "exact: noise-free inputs") if exact else monte_carlo(value, DRAWS, method)
        return self._history_levels[1]

    @cached_property
    def _history_levels(self) -> tuple[Level, Level]:
        """Chance and ceiling bound with max_sequential, on seeded simulated sessions: the
        filter's expected success max(p, 1 - p) per trial, and the observer told the state."""
        types = self.types
        rng = np.random.default_rng(2**31 - 1)
        options, states, _ = types.draw(rng, _HISTORY_SESSIONS, _HISTORY_TRIALS, np.zeros(_HISTORY_SESSIONS, int))
        belief = np.zeros((_HISTORY_SESSIONS, types.n_states))
        belief[:, 0] = 1.0
        blind = np.zeros(options.shape)
        for t in range(_HISTORY_TRIALS):  # the filter, over the trials of all sessions at once
            p = belief @ types.p_catch
            blind[:, t] = np.maximum(p, 1 - p)
            belief = types.update(belief, options[:, t] == types.catch)
        rows, inverse = np.unique(np.round(types.q, 12), axis=0, return_inverse=True)
        success = np.array([self._detection_success(row, DRAWS // 4, k)[0] for k, row in enumerate(rows)])
        informed = success[inverse.ravel()[states]]
        per_session = blind.mean(axis=1), informed.mean(axis=1)
        chance, bound = ((float(v.mean()), float(v.std(ddof=1) / np.sqrt(_HISTORY_SESSIONS))) for v in per_session)
        where = f"{_HISTORY_SESSIONS} seeded sessions of {_HISTORY_TRIALS} trials"
        return (
            Level(
                chance[0],
                f"estimate: a Bayes filter predicting catch trials from the answers so far, {where}",
                "estimate",
                chance[1],
            ),
            Level(bound[0], f"bound: the Bayes observer told the run counts, {where}", "bound", max(bound[1], 1e-4)),
        )

    def _detection_success(self, probs: np.ndarray, draws: int, seed: int) -> tuple[float, bool]:
        """Success of the Bayes observer of catch against stimulus trials when the options
        have probabilities ``probs`` (stimuli, then catch), and whether it is exact."""
        q_stim, q_catch = np.asarray(probs[:-1], dtype=float), float(probs[-1])
        if q_catch == 0 or q_stim.sum() == 0:
            return 1.0, True
        present = self.types.present[:-1].astype(float)  # [K, M]
        levels = [np.asarray(self.intensities[m]) for m in self.modalities]
        sigma_step = self.noise_std
        if sigma_step == 0:  # only stimuli at intensity 0 everywhere look like catch trials
            zero = np.array([np.mean(lv == 0) for lv in levels])
            silent = float((q_stim * np.prod(np.where(present > 0, zero[None, :], 1.0), axis=1)).sum())
            return 1 - min(q_catch, silent), True
        rng = np.random.default_rng(seed)
        width = max(len(lv) for lv in levels)
        table = np.zeros((len(levels), width))
        valid = np.zeros((len(levels), width), dtype=bool)
        for j, lv in enumerate(levels):
            table[j, : len(lv)], valid[j, : len(lv)] = lv, True
        counts = valid.sum(axis=1)
        kind = rng.choice(len(probs), size=draws, p=np.asarray(probs) / np.sum(probs))
        shown = self.types.present[kind]  # [D, M]
        value = table[np.arange(len(levels))[None, :], np.floor(rng.random((draws, len(levels))) * counts).astype(int)]
        steps = self.period_steps("stimulus").astype(float)
        n = steps[rng.integers(len(steps), size=draws)][:, None]
        total = n * value * shown + sigma_step * np.sqrt(n) * rng.standard_normal(shown.shape)
        terms = (table[None] * total[..., None] - n[..., None] * table[None] ** 2 / 2) / sigma_step**2
        evidence = _logmeanexp(terms, np.broadcast_to(valid[None], terms.shape))  # [D, M] log LR of presence
        with np.errstate(divide="ignore"):
            log_go = np.log(q_stim)[None, :] + evidence @ present.T  # [D, K]
        top = log_go.max(axis=1)
        log_go = top + np.log(np.exp(log_go - top[:, None]).sum(axis=1))
        decided_go = log_go > np.log(q_catch)
        success = float(np.mean(decided_go == (kind != self.types.catch)))
        return max(success, q_catch, 1 - q_catch), False  # it never does worse than the prior alone


class ThenHold(FixateThenChoose):
    """Fixate-then-choose whose answer does not end the trial: time skips to the end of the
    response window, and the periods after it (Annubes' inter-trial interval) are held
    before the trial ends."""

    def phases(self, trials: TrialBuilder) -> tuple[np.ndarray, np.ndarray | None]:
        phase, _ = super().phases(trials)
        window = self.windows[-1]
        inside = trials.mask(*window)
        phase = np.where(inside, phase | SKIP, phase).astype(np.int8)
        resume = np.zeros(phase.shape, dtype=np.int32)
        trials.paint(resume, trials.periods[window[-1]][1], *window)
        return phase, resume


class CatchPredictor(Agent):
    """Annubes' best stimulus-blind policy under max_sequential: a Bayes filter over the
    run counts, fed whether each trial was a catch trial (the feedback after it); it
    withholds when a catch trial is the likelier, else goes as the window closes."""

    name: ClassVar[str] = "catch_predictor"

    def prepare(self, task: Any) -> None:
        self.types = task.types

    def initial_state(self, num_envs: int, *, seed: int) -> dict[str, np.ndarray]:
        belief = np.zeros((num_envs, self.types.n_states))
        belief[:, 0] = 1.0
        return {"belief": belief, "seen": np.full(num_envs, -1, dtype=np.int64)}

    def act(
        self, obs: np.ndarray, state: dict[str, np.ndarray], info: Mapping[str, np.ndarray]
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        belief, seen = state["belief"], state["seen"]
        ended = np.flatnonzero(np.asarray(info["new_trial"]) & (seen >= 0))
        if len(ended):
            belief[ended] = self.types.update(belief[ended], seen[ended] == 0)
            seen[ended] = -1
        closing = np.asarray(info["window"]) == 2
        guess = np.where(belief @ self.types.p_catch > 0.5, FIXATE, GO)
        seen = np.where(closing, np.asarray(info["target"]), seen)
        return np.where(closing, guess, FIXATE), {"belief": belief, "seen": seen}


SPECS = [
    TaskSpec(
        "GoNogo",
        0,
        GoNogo,
        {},
        "inhibitory",
        ("delayed response", "go-no-go", "inhibitory control", "supervised"),
        Paper(
            "Yu et al. (2019)",
            "Active information maintenance in working memory by a sensory cortex",
            "https://elifesciences.org/articles/43191",
        ),
        deviations=(
            "Withholding through a no-go trial is correct (NeuroGym's performance is 0 on every no-go trial, "
            "its issue #22).",
        ),
    ),
    TaskSpec(
        "AntiReach",
        0,
        AntiReach,
        {},
        "inhibitory",
        ("perceptual", "inhibitory control", "steps action space", "supervised"),
        Paper(
            "Munoz & Everling (2004)",
            "Look away: the anti-saccade task and the voluntary control of eye movement",
            "https://www.nature.com/articles/nrn1345",
        ),
    ),
    TaskSpec(
        "Detection",
        0,
        Detection,
        {},
        "inhibitory",
        ("perceptual", "reaction time", "go-no-go", "supervised"),
        Paper(
            "Carnevale et al. (2015)",
            "Dynamic control of response criterion in premotor cortex during perceptual detection under temporal "
            "uncertainty",
            "https://doi.org/10.1016/j.neuron.2015.04.014",
        ),
        deviations=(
            "No-go trials have their own ground truth (withhold through the stimulus); NeuroGym keeps the previous "
            "trial's, which is why it leaves the task out of its registry.",
            "No-go trials get the same input noise as go trials; NeuroGym adds it twice, so the noise level alone "
            "told the trial type.",
            "delay is in ms from the stimulus onset, as NeuroGym documents; NeuroGym's code uses it as a step count.",
            "A stim_dur shorter than dt is refused; NeuroGym only warns, and then shows no pulse at all.",
        ),
    ),
    TaskSpec(
        "ToneDetection",
        0,
        ToneDetection,
        {},
        "inhibitory",
        ("auditory", "perceptual", "supervised", "decision"),
        Paper(
            "Costalupes (1985)",
            "Representation of tones in noise in the responses of auditory nerve fibers in cats. I. Comparison with "
            "detection thresholds",
            "https://www.jneurosci.org/content/5/12/3261",
        ),
        deviations=(
            "The tones' onsets and duration are the parameters tone_onsets and tone_duration; NeuroGym keeps them in "
            "timing, which here holds periods only.",
            "Answers are scored and paid (correct 1, a missed tone -0.1, NeuroGym's declared 'noresp'); NeuroGym's "
            "step function pays nothing.",
            "The first non-fixation action is the answer and ends the trial, and the target names the tone only from "
            "its onset; NeuroGym labels every step with the answer, training networks to name a tone before it sounds.",
        ),
    ),
    TaskSpec(
        "AnnubesEnv",
        0,
        AnnubesEnv,
        {},
        "inhibitory",
        ("perceptual", "multisensory", "go-no-go", "supervised"),
        Paper(
            "Meijer et al. (2018)",
            "Audiovisual integration enhances stimulus detection performance in mice",
            "https://www.frontiersin.org/articles/10.3389/fnbeh.2018.00231/full",
        ),
        deviations=(
            "NeuroGym's session parameter is called stimuli (in NeuroBench a session is an environment's run of "
            "trials); it and catch_prob default to {'a': 0.5, 'v': 0.5} and 0.5 (NeuroGym's test fixture and earlier "
            "defaults), where NeuroGym 2.3.1 requires them.",
            "A multimodal stimulus may be written 'a+v' in stimuli (JSON has no tuple keys); tuples and lists work "
            "too.",
            "fix_time, stim_time and iti are the timing of the periods fixation, stimulus and iti ('until' durations "
            "are not supported).",
            "The noise parameter is sigma, since noise_std is the per-step std everywhere in NeuroBench; the per-step "
            "std is NeuroGym's sigma sqrt(2 alpha) / alpha.",
            "Noise is on every modality input during the stimulus; NeuroGym adds it only to the modalities shown, so "
            "an exactly zero input told a modality's absence with no noise to see through.",
            "A trial is scored as a detection: the first go in the stimulus is the answer (correct unless a catch "
            "trial) and skips to the inter-trial interval, withholding through a catch trial is correct; NeuroGym "
            "pays correct or fail at every stimulus step.",
            "max_sequential given as a mapping is applied (NeuroGym ignores its values), and limits that cannot be "
            "met are refused whenever they arise (NeuroGym checks only catch probabilities of 0 or 1).",
            "output_behavior, random_seed and frozen_seed are dropped: the actions are fixation and go (NeuroGym's "
            "ground truth uses no others), and trials are seeded by the environment's seed.",
        ),
    ),
]
