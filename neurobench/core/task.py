"""The task base class: a pure, validated description of a cognitive task.

A task holds parameters only (``dt``, timing, rewards and its own variables) and knows
how to sample trials from a ``numpy.random.Generator``. It has no clock, no current
trial and no random state of its own, which is what lets the single env, the vector
env and the dataset all draw identical trials from the same seed.
"""

from __future__ import annotations

import dataclasses
import json
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from neurobench.core.channels import Channels
from neurobench.core.errors import InvalidParameterError, UnknownNameError
from neurobench.core.rules import FixateThenChoose, LookupTable, ResponseRule
from neurobench.core.timing import Duration, DurationSpec, parse_duration, to_steps
from neurobench.core.trials import NOISE_CLIP, TrialBatch, TrialBuilder

#: Rewards of NeuroGym's two-alternative tasks; tasks override what their paper changes.
STANDARD_REWARDS: Mapping[str, float] = {"abort": -0.1, "correct": 1.0, "fail": 0.0, "miss": 0.0}

_CHUNK_STEPS = 16384  # about how many time steps one sampling call produces
_CHUNK_TRIALS = (16, 2048)
_MAX_COMBOS = 10_000
NAMESPACE = "neurobench"  # of every Gymnasium id


def env_id(name: str, version: int) -> str:
    """The Gymnasium id of a task or game: ``neurobench/<Name>-v<version>``."""
    return f"{NAMESPACE}/{name}-v{version}"


_CEILINGS: dict[tuple[str, str], Ceiling] = {}


@dataclass(frozen=True)
class Paper:
    """The publication a task reproduces."""

    citation: str  # "Britten et al. (1992)"
    title: str
    url: str


@dataclass(frozen=True)
class Ceiling:
    """Best achievable success rate, and how it was obtained."""

    value: float
    method: str


@dataclass(frozen=True, kw_only=True, eq=False)
class Task(ABC):
    """Base of every task. Subclasses are frozen dataclasses of their parameters.

    ``timing`` and ``rewards`` are given as partial overrides of the class defaults
    (``timing={"stimulus": 500}`` changes one period) and are stored fully resolved.
    ``abort=True`` ends a trial when fixation is broken (NeuroGym's default: only a
    penalty).
    """

    dt: float = 100.0
    timing: Mapping[str, DurationSpec] | None = None
    rewards: Mapping[str, float] | None = None
    abort: bool = False

    family: ClassVar[str]
    paper: ClassVar[Paper]
    version: ClassVar[int] = 0
    default_timing: ClassVar[Mapping[str, DurationSpec]]
    default_rewards: ClassVar[Mapping[str, float]] = STANDARD_REWARDS

    def __post_init__(self) -> None:
        if not _is_positive_number(self.dt):
            raise InvalidParameterError(f"dt must be a positive number of ms, got {self.dt!r}")
        object.__setattr__(self, "timing", self._resolve_timing(self.timing))
        object.__setattr__(self, "rewards", self._resolve_rewards(self.rewards))
        self.validate()
        self._check_windows()

    # -- what subclasses provide -------------------------------------------------
    @property
    @abstractmethod
    def obs_channels(self) -> Channels:
        """Named observation inputs."""

    @property
    @abstractmethod
    def action_channels(self) -> Channels:
        """Named actions; action 0 is always ``fixation``."""

    @property
    def hold_periods(self) -> tuple[str, ...]:
        """Periods in which fixation must be held (NeuroGym: the fixation period)."""
        return ("fixation",)

    @property
    def response_periods(self) -> tuple[str | tuple[str, ...], ...]:
        """Response windows in time order (a period, or consecutive periods); the answer
        in the last one ends the trial."""
        return ("decision",)

    @cached_property
    def rule(self) -> ResponseRule:
        """How actions are scored; fixate-then-choose unless a task says otherwise."""
        return FixateThenChoose(self.hold_periods, self.response_periods, self.rewards, self.abort)

    @cached_property
    def table(self) -> LookupTable:
        """The rule's responses precomputed for every (phase, target, action)."""
        return LookupTable(self.rule, int(self.action_space.n))

    @abstractmethod
    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        """Draw ``n`` independent trials with ``rng``."""

    def sample_sequence(self, rng: np.random.Generator, n: int, carry: Any) -> tuple[TrialBatch, Any]:
        """Draw the next ``n`` trials of a stream. Tasks whose trials depend on earlier ones
        (trial history, blocks, schedules) keep what they need in ``carry``, which the
        stream hands back with the next call (``None`` the first time)."""
        return self.sample(rng, n), carry

    @property
    def answers(self) -> tuple[int, ...]:
        """The possible answers in a response window: every action but fixation
        (go/no-go tasks: withholding, i.e. fixation, and go)."""
        return tuple(range(1, int(self.action_space.n)))

    @property
    def chance(self) -> float:
        """Success of guessing uniformly among ``answers`` in every response window,
        fixation held."""
        return (1 / len(self.answers)) ** len(self.response_periods)

    def ceiling(self) -> Ceiling:
        """Best achievable success rate, and how it was obtained (cached per parameters:
        some are Monte Carlo integrals taking seconds)."""
        key = (self.name, json.dumps(self.params(), sort_keys=True))
        if key not in _CEILINGS:
            _CEILINGS[key] = self._ceiling()
        return _CEILINGS[key]

    def _ceiling(self) -> Ceiling:
        """Noise-free tasks: the oracle's, 1. Noisy tasks override this."""
        return Ceiling(1.0, "noise-free: the oracle answers every trial correctly")

    def validate(self) -> None:  # noqa: B027 (optional hook)
        """Check task-specific parameters; raise InvalidParameterError naming the bad one."""

    # -- derived -------------------------------------------------------------------
    @classmethod
    def task_name(cls) -> str:
        return cls.__name__

    @property
    def name(self) -> str:
        return self.task_name()

    @property
    def id(self) -> str:
        """The Gymnasium id, ``neurobench/<Name>-v<version>``."""
        return env_id(self.task_name(), self.version)

    @property
    def input_range(self) -> tuple[float, float]:
        """Range of the noise-free inputs."""
        return (0.0, 1.0)

    @property
    def noise_std(self) -> float:
        """Std of the input noise per step: NeuroGym's ``sigma / sqrt(dt)`` convention."""
        return float(getattr(self, "sigma", 0.0)) / float(np.sqrt(self.dt))

    @cached_property
    def observation_space(self) -> gym.spaces.Box:
        """Finite bounds (Gymnasium's checker rejects infinite ones): the input range
        widened by ``NOISE_CLIP`` noise stds; noise beyond that is clipped."""
        low, high = self.input_range
        margin = NOISE_CLIP * self.noise_std
        shape = (self.obs_channels.size,)
        return gym.spaces.Box(low - margin, high + margin, shape=shape, dtype=np.float32)

    @cached_property
    def action_space(self) -> gym.spaces.Discrete:
        return gym.spaces.Discrete(self.action_channels.size)

    def trials(self, rng: np.random.Generator, n: int, steps: Mapping[str, np.ndarray] | None = None) -> TrialBuilder:
        """Start building ``n`` trials: durations drawn (or given in ``steps``)."""
        return TrialBuilder(self, rng, n, steps)

    def period_steps(self, period: str) -> np.ndarray:
        """Equally likely durations of ``period`` in steps (see Duration.representative)."""
        return to_steps(self.timing[period].representative(), self.dt)  # type: ignore[index]

    def joint_steps(self, *periods: str) -> np.ndarray:
        """Equally likely step counts of several periods together, ``[m, len(periods)]``
        (all combinations, or 10 000 of them picked with a fixed seed)."""
        grids = np.meshgrid(*(self.period_steps(p) for p in periods), indexing="ij")
        combos = np.stack(grids, axis=-1).reshape(-1, len(periods))
        if len(combos) > _MAX_COMBOS:
            combos = combos[np.random.default_rng(0).choice(len(combos), _MAX_COMBOS, replace=False)]
        return combos

    @cached_property
    def mean_steps(self) -> float:
        """Expected trial length in steps (before the floor to ``dt``)."""
        return sum(d.mean for d in self.timing.values()) / self.dt  # type: ignore[union-attr]

    @cached_property
    def chunk_size(self) -> int:
        """Trials drawn per sampling call.

        Part of the definition of a seed's trial stream, so it depends on the task's
        parameters only, never on who consumes the trials.
        """
        low, high = _CHUNK_TRIALS
        return int(np.clip(round(_CHUNK_STEPS / max(self.mean_steps, 1.0)), low, high))

    def params(self) -> dict[str, Any]:
        """Every parameter as plain JSON-able values (timing as [distribution, args])."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "timing":
                value = {k: d.spec() for k, d in value.items()}
            out[f.name] = plain(value)
        return out

    def _check_windows(self) -> None:
        """Every response window must last at least one step, or no answer is possible."""
        for window in self.response_periods:
            periods = (window,) if isinstance(window, str) else window
            steps = sum(int(to_steps(self.timing[p].bounds[0], self.dt)) for p in periods)  # type: ignore[index]
            if steps < 1:
                shortest = sum(self.timing[p].bounds[0] for p in periods)  # type: ignore[index]
                raise InvalidParameterError(
                    f"timing of {self.name}: response period {window!r} can last {shortest:g} ms, "
                    f"less than one step of dt = {self.dt:g} ms, so no answer could be given"
                )

    # -- resolution ----------------------------------------------------------------
    def _resolve_timing(self, given: Mapping[str, Any] | None) -> dict[str, Duration]:
        given = dict(given or {})
        for period in given:
            if period not in self.default_timing:
                raise UnknownNameError(f"period in timing of {self.name}", period, self.default_timing)
        resolved = {}
        for period, default in self.default_timing.items():
            spec = given.get(period, default)
            if spec is None:
                raise InvalidParameterError(f"timing of {self.name}: period {period!r} is missing a duration")
            resolved[period] = parse_duration(spec, period)
        return resolved

    def _resolve_rewards(self, given: Mapping[str, Any] | None) -> dict[str, float]:
        resolved = dict(self.default_rewards)
        for key, value in dict(given or {}).items():
            if key not in resolved:
                raise UnknownNameError(f"reward of {self.name}", key, resolved)
            if not _is_finite_number(value):
                raise InvalidParameterError(f"rewards[{key!r}] of {self.name} must be a finite number, got {value!r}")
            resolved[key] = float(value)
        return resolved


def _is_finite_number(value: Any) -> bool:
    return (
        isinstance(value, int | float | np.integer | np.floating)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def _is_positive_number(value: Any) -> bool:
    return _is_finite_number(value) and value > 0


def plain(value: Any) -> Any:
    """Containers and numpy scalars as built-in Python values, for JSON and hashing."""
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
