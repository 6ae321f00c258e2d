"""Tasks: pure, validated descriptions of cognitive tasks, and what every task provides.

A task holds parameters only and knows how to produce an :class:`~neurobench.core.engine.Engine`
that runs it for ``n`` environments at once. It has no clock, no current trial and no
random state of its own, which is what lets the single env, the vector env, the Dataset
and the PettingZoo views all run identical trials from the same seed.

Two kinds implement the contract:

* :class:`TrialTask` (most tasks): trials are pre-sampled as arrays, many at once, by a
  pure ``sample(rng, n)``, and scored by a response rule. Observations that depend on an
  action are branches laid out in the trial (the rule jumps to the chosen one).
* :class:`~neurobench.core.step.StepTask`: a closed loop stepped by a pure, batched
  ``step(state, action, rng)`` over explicit per-environment state (games and opponents).

Consumers only use :class:`Task`'s interface; none asks which kind it holds.
"""

from __future__ import annotations

import dataclasses
import json
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, cast

import gymnasium as gym
import numpy as np

from neurobench.core import level_cache
from neurobench.core.channels import Channels
from neurobench.core.errors import InvalidParameterError, UnknownNameError
from neurobench.core.rules import FixateThenChoose, LookupTable, ResponseRule
from neurobench.core.timing import Derived, Duration, DurationSpec, parse_duration, to_steps
from neurobench.core.trials import NOISE_CLIP, TrialBatch, TrialBuilder

if TYPE_CHECKING:
    from neurobench.agents.base import Agent
    from neurobench.core.engine import Engine, Session
    from neurobench.core.registry import TaskSpec

#: Rewards of NeuroGym's two-alternative tasks; tasks override what their paper changes.
STANDARD_REWARDS: Mapping[str, float] = {"abort": -0.1, "correct": 1.0, "fail": 0.0, "miss": 0.0}

NAMESPACE = "neurobench"  # of every Gymnasium id
STREAMS = ("keyed", "sequential")  # how a seed's trials are drawn (see core/stream.py)
MAX_TRIAL_STEPS = 1_000_000  # a trial longer than this is a timing mistake, not an experiment
_CHUNK_STEPS = 16384  # about how many time steps one sampling call produces
_CHUNK_TRIALS = (16, 2048)
_MAX_COMBOS = 10_000
_LEVELS: dict[tuple[str, str, str], Level] = {}


def env_id(name: str, version: int) -> str:
    """The Gymnasium id of a task: ``neurobench/<Name>-v<version>``."""
    return f"{NAMESPACE}/{name}-v{version}"


@dataclass(frozen=True)
class Paper:
    """The publication a task reproduces."""

    citation: str  # "Britten et al. (1992)"
    title: str
    url: str


@dataclass(frozen=True)
class Level:
    """A reference success rate (a task's chance or ceiling) and how it was obtained.

    ``kind`` is ``exact`` (computed), ``bound`` (a proven upper bound: nothing scores more
    in expectation) or ``estimate`` (measured by simulation, with standard error ``se``).
    """

    value: float
    method: str
    kind: str = "exact"
    se: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "method": self.method, "kind": self.kind, "se": self.se}


class Task(ABC):
    """What every task provides, whatever its kind: identity, spaces, an engine, scores."""

    spec: TaskSpec | None

    # -- identity -------------------------------------------------------------------
    @property
    def identity(self) -> TaskSpec | None:
        """The spec this task was built from (or the canonical spec of its class)."""
        if self.spec is not None:
            return self.spec
        from neurobench.core.registry import canonical_spec

        return canonical_spec(type(self))

    @property
    def name(self) -> str:
        spec = self.identity
        return spec.name if spec is not None else type(self).__name__

    @property
    def version(self) -> int:
        spec = self.identity
        return spec.version if spec is not None else 0

    @property
    def id(self) -> str:
        """The Gymnasium id, ``neurobench/<Name>-v<version>``."""
        return env_id(self.name, self.version)

    @property
    def family(self) -> str:
        spec = self.identity
        return spec.family if spec is not None else "custom"

    @property
    def tags(self) -> tuple[str, ...]:
        spec = self.identity
        return spec.tags if spec is not None else ()

    @property
    def paper(self) -> Paper | None:
        spec = self.identity
        return spec.paper if spec is not None else None

    # -- interface --------------------------------------------------------------------
    dt: float

    @property
    @abstractmethod
    def obs_channels(self) -> Channels:
        """Named observation inputs."""

    @property
    @abstractmethod
    def action_channels(self) -> Channels:
        """Named actions (discrete: action 0 is ``fixation`` where the task has one)."""

    @property
    @abstractmethod
    def observation_space(self) -> gym.spaces.Box: ...

    @property
    @abstractmethod
    def action_space(self) -> gym.spaces.Space: ...

    @property
    def players(self) -> int:
        """How many agents play it at once (games: 2)."""
        return 1

    @property
    def continuous(self) -> bool:
        """Whether actions are continuous (``Box``)."""
        return isinstance(self.action_space, gym.spaces.Box)

    @property
    def n_actions(self) -> int:
        """Number of discrete actions (the width of a continuous action)."""
        space = self.action_space
        return int(space.shape[0]) if isinstance(space, gym.spaces.Box) else int(space.n)  # type: ignore[attr-defined]

    @property
    def target_shape(self) -> tuple[int, ...]:
        return (self.n_actions,) if self.continuous else ()

    @property
    def target_dtype(self) -> type:
        return np.float32 if self.continuous else np.int32

    @property
    @abstractmethod
    def period_names(self) -> tuple[str, ...]:
        """Every period a trial of this task can be in (for per-step records)."""

    @abstractmethod
    def engine(self, num_envs: int) -> Engine:
        """An engine running ``num_envs`` sessions of this task in lockstep."""

    def session(self) -> Session:
        """One session, stepped with plain Python values (the single env's engine)."""
        from neurobench.core.engine import EngineSession

        return EngineSession(self.engine(1))

    @property
    def supervised(self) -> bool:
        """Whether trials have targets to train on without acting (the Dataset)."""
        return False

    @property
    def input_range(self) -> tuple[float, float]:
        """Range of the noise-free inputs."""
        return (0.0, 1.0)

    @property
    def noise_std(self) -> float:
        """Std of the input noise per step: NeuroGym's ``sigma / sqrt(dt)`` convention."""
        return float(getattr(self, "sigma", 0.0)) / float(np.sqrt(self.dt))

    # -- scores -------------------------------------------------------------------------
    def chance(self) -> Level:
        """Success of the best policy that ignores the stimulus (cached per parameters)."""
        return self._cached("chance", self._chance)

    def ceiling(self) -> Level:
        """Best achievable success (a proven bound or a labelled estimate; cached)."""
        return self._cached("ceiling", self._ceiling)

    def score_scale(self, success: float) -> float:
        """Where a success rate sits on the scale normalized scores are taken on.

        Most tasks normalize success itself. A task whose papers compare performance on
        another monotone scale (a dyad's psychometric sensitivity) maps success onto it, so
        that chance, ceiling and an agent are spaced as the papers space them.
        """
        return success

    @abstractmethod
    def _chance(self) -> Level: ...

    @abstractmethod
    def _ceiling(self) -> Level: ...

    def blind_policy(self) -> Agent:
        """The best stimulus-blind policy, whose success is :meth:`chance` (the guess agent
        plays it)."""
        from neurobench.agents.reference import ConstantAnswers

        return ConstantAnswers()

    def _cached(self, what: str, compute: Any) -> Level:
        # the whole nested task: a modifier's own parameters leave out the task it wraps
        key = (what, self.name, json.dumps(self.node(), sort_keys=True, default=str))
        if key not in _LEVELS:
            level = level_cache.load(key)
            if level is None:
                level = compute()
                level_cache.store(key, level)
            _LEVELS[key] = level
        return _LEVELS[key]

    # -- parameters ---------------------------------------------------------------------
    @abstractmethod
    def params(self) -> dict[str, Any]:
        """This task's own parameters as plain JSON-able values (nested tasks excluded)."""

    def node(self) -> dict[str, Any]:
        """The task as nested data (``{"id", "params", "task"/"tasks"}``): what suites,
        result files and hashes hold; :func:`neurobench.core.registry.build` rebuilds it."""
        return {"id": f"{self.name}-v{self.version}", "params": self.params()}


@dataclass(frozen=True, eq=False)
class TrialTask(Task):
    """A task whose trials are pre-sampled as arrays and scored by a response rule.

    Subclasses implement :meth:`sample` (``n`` independent trials) or, for trials that
    depend on earlier ones, :meth:`sample_chunk` with ``sequential = True``.
    """

    spec: TaskSpec | None = field(default=None, kw_only=True, compare=False, repr=False)

    @property
    @abstractmethod
    def rule(self) -> ResponseRule: ...

    @property
    @abstractmethod
    def periods(self) -> tuple[str, ...]:
        """The periods a trial is laid out in, in time order."""

    @property
    @abstractmethod
    def timing(self) -> Mapping[str, Duration]: ...

    @property
    @abstractmethod
    def mean_steps(self) -> float:
        """Expected trial length in steps."""

    @property
    def stream(self) -> str:
        """How a seed's trials are drawn: ``keyed`` (trial i of seed s is a pure function of
        (task, s, i)) or ``sequential`` (version-0 tasks: one generator, in order)."""
        return "keyed"

    @property
    def period_names(self) -> tuple[str, ...]:
        return tuple(self.periods)

    @property
    def supervised(self) -> bool:
        return True

    @property
    def sequential(self) -> bool:
        """Whether a chunk of trials depends on the chunks before it (trial history,
        blocks of random length): then the stream carries state from chunk to chunk."""
        return False

    @abstractmethod
    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        """Draw ``n`` independent trials with ``rng``."""

    def sample_chunk(self, rng: np.random.Generator, n: int, start: int, carry: Any) -> tuple[TrialBatch, Any]:
        """Draw trials ``start .. start + n - 1`` of a stream. Tasks whose trials depend on
        their position (blocks) read ``start``; sequential tasks keep what they need in
        ``carry``, handed back with the next chunk (``None`` at the stream's start)."""
        return self.sample(rng, n), carry

    @cached_property
    def table(self) -> LookupTable:
        """The rule's responses precomputed for every (phase, target, action)."""
        return LookupTable(self.rule, self.n_actions)

    @cached_property
    def chunk_size(self) -> int:
        """Trials drawn per sampling call.

        Part of the definition of a seed's trial stream, so it depends on the task's
        parameters only, never on who consumes the trials.
        """
        low, high = _CHUNK_TRIALS
        return int(np.clip(round(_CHUNK_STEPS / max(self.mean_steps, 1.0)), low, high))

    def engine(self, num_envs: int) -> Engine:
        from neurobench.core.trial_engine import TrialEngine

        return TrialEngine(self, num_envs)

    def session(self) -> Session:
        from neurobench.core.trial_engine import TrialSession

        return TrialSession(self)

    @property
    def answers(self) -> tuple[int, ...]:
        """The possible answers in a response window: every action but fixation."""
        return tuple(range(1, self.n_actions))

    def _chance(self) -> Level:
        from neurobench.core.levels import blind_chance

        return blind_chance(self)

    def _ceiling(self) -> Level:
        """Noise-free tasks: the oracle's, 1. Noisy tasks override this."""
        return Level(1.0, "noise-free: the oracle answers every trial correctly")


@dataclass(frozen=True, kw_only=True, eq=False)
class TimedTask(TrialTask):
    """Base of concrete tasks: a frozen dataclass of parameters with ``dt``, timing,
    rewards and ``abort``.

    ``timing`` and ``rewards`` are given as partial overrides of the class defaults
    (``timing={"stimulus": 500}`` changes one period) and are stored fully resolved.
    ``abort=True`` ends a trial when fixation is broken (NeuroGym's default: only a
    penalty). ``stream`` selects how a seed's trials are drawn (see :attr:`stream`).
    """

    dt: float = 100.0
    timing: Mapping[str, DurationSpec] | None = None  # type: ignore[assignment]
    rewards: Mapping[str, float] | None = None
    abort: bool = False
    stream: str = "keyed"

    default_timing: ClassVar[Mapping[str, DurationSpec]]
    default_rewards: ClassVar[Mapping[str, float]] = STANDARD_REWARDS

    def __post_init__(self) -> None:
        if not _is_positive_number(self.dt):
            raise InvalidParameterError(f"dt of {self.name} must be a positive number of ms, got {self.dt!r}")
        object.__setattr__(self, "dt", float(self.dt))
        if self.stream not in STREAMS:
            raise UnknownNameError(f"stream of {self.name}", self.stream, STREAMS)
        if not isinstance(self.abort, bool):
            raise InvalidParameterError(f"abort of {self.name} must be true or false, got {self.abort!r}")
        object.__setattr__(self, "timing", self._resolve_timing(self.timing))
        object.__setattr__(self, "rewards", self._resolve_rewards(self.rewards))
        self.validate()
        self._check_windows()

    # -- what subclasses provide -------------------------------------------------
    @property
    def hold_periods(self) -> tuple[str, ...]:
        """Periods in which fixation must be held (NeuroGym: the fixation period)."""
        return ("fixation",)

    @property
    def response_periods(self) -> tuple[str | tuple[str, ...], ...]:
        """Response windows in time order (a period, or consecutive periods); the answer
        in the last one ends the trial."""
        return ("decision",)

    @property
    def periods(self) -> tuple[str, ...]:
        return tuple(resolved_timing(self))

    @cached_property
    def rule(self) -> ResponseRule:
        """How actions are scored; fixate-then-choose unless a task says otherwise."""
        return FixateThenChoose(self.hold_periods, self.response_periods, self.rewards, self.abort)  # type: ignore[arg-type]

    def validate(self) -> None:
        """Check task-specific parameters; raise InvalidParameterError naming the bad one."""

    # -- derived -------------------------------------------------------------------
    @cached_property
    def observation_space(self) -> gym.spaces.Box:
        """Finite bounds (Gymnasium's checker rejects infinite ones): the input range
        widened by ``NOISE_CLIP`` noise stds; noise beyond that is clipped."""
        low, high = self.input_range
        margin = NOISE_CLIP * self.noise_std
        shape = (self.obs_channels.size,)
        return gym.spaces.Box(low - margin, high + margin, shape=shape, dtype=np.float32)

    @cached_property
    def action_space(self) -> gym.spaces.Space:
        return gym.spaces.Discrete(self.action_channels.size)

    def trials(self, rng: np.random.Generator, n: int, steps: Mapping[str, np.ndarray] | None = None) -> TrialBuilder:
        """Start building ``n`` trials: durations drawn (or given in ``steps``)."""
        return TrialBuilder(self, rng, n, steps)

    def period_steps(self, period: str) -> np.ndarray:
        """Equally likely durations of ``period`` in steps (see Duration.representative)."""
        return to_steps(resolved_timing(self)[period].representative(), self.dt)

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
        timing = resolved_timing(self)
        return sum(timing[p].mean for p in self.periods) / self.dt

    def params(self) -> dict[str, Any]:
        """Every parameter as plain JSON-able values (timing as [distribution, args])."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            if f.name == "spec":
                continue
            value = getattr(self, f.name)
            if f.name == "timing":
                value = {k: d.spec() for k, d in value.items()}
            out[f.name] = plain(value)
        return out

    def _check_windows(self) -> None:
        """Every response window must last at least one step, or no answer is possible;
        no trial may be absurdly long (the step counts would overflow)."""
        timing = resolved_timing(self)
        longest = sum(timing[p].bounds[1] for p in self.periods) / self.dt
        if not longest <= MAX_TRIAL_STEPS:
            raise InvalidParameterError(
                f"timing of {self.name}: a trial can last {longest:.3g} steps of dt = {self.dt:g} ms, more than "
                f"the {MAX_TRIAL_STEPS:,} allowed; durations are in ms"
            )
        for window in self.response_periods:
            periods = (window,) if isinstance(window, str) else window
            steps = sum(int(to_steps(timing[p].bounds[0], self.dt)) for p in periods)
            if steps < 1:
                shortest = sum(timing[p].bounds[0] for p in periods)
                raise InvalidParameterError(
                    f"timing of {self.name}: response period {window!r} can last {shortest:g} ms, "
                    f"less than one step of dt = {self.dt:g} ms, so no answer could be given"
                )

    # -- resolution ----------------------------------------------------------------
    def _resolve_timing(self, given: Mapping[str, Any] | None) -> dict[str, Duration]:
        if given is not None and not isinstance(given, Mapping):
            raise InvalidParameterError(f"timing of {self.name} must map periods to durations, got {given!r}")
        given = dict(given or {})
        for period in given:
            if period not in self.default_timing:
                raise UnknownNameError(f"period in timing of {self.name}", period, self.default_timing)
        resolved: dict[str, Duration] = {}
        for period, default in self.default_timing.items():
            spec = given.get(period, default)
            if spec is None:
                raise InvalidParameterError(f"timing of {self.name}: period {period!r} is missing a duration")
            duration = parse_duration(spec, period)
            if isinstance(duration, Derived):
                missing = [p for p in duration.of if p not in resolved]
                if missing:
                    raise InvalidParameterError(
                        f"timing of {self.name}: {period!r} derives from {missing}, which must come before it"
                    )
                duration = duration.resolved([resolved[p] for p in duration.of])
            resolved[period] = duration
        return resolved

    def _resolve_rewards(self, given: Mapping[str, Any] | None) -> dict[str, float]:
        if given is not None and not isinstance(given, Mapping):
            raise InvalidParameterError(f"rewards of {self.name} must map outcomes to numbers, got {given!r}")
        resolved = dict(self.default_rewards)
        for key, value in dict(given or {}).items():
            if key not in resolved:
                raise UnknownNameError(f"reward of {self.name}", key, resolved)
            if not _is_finite_number(value):
                raise InvalidParameterError(f"rewards[{key!r}] of {self.name} must be a finite number, got {value!r}")
            resolved[key] = float(value)
        return resolved


def resolved_timing(task: TimedTask) -> Mapping[str, Duration]:
    """A timed task's timing as it stores it: resolved to durations (the field's type is what may be given)."""
    return cast("Mapping[str, Duration]", task.timing)


def resolved_rewards(task: TimedTask) -> Mapping[str, float]:
    """A timed task's rewards as it stores them: the class defaults with the overrides applied."""
    return cast("Mapping[str, float]", task.rewards)


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
