"""Period durations: fixed or random, sampled for many trials at once.

Durations are given in milliseconds, as in the papers, and turned into whole time
steps by flooring to a multiple of ``dt`` (NeuroGym's convention, kept so that trial
lengths match published NeuroGym setups).

A duration can be written the way NeuroGym users already write it::

    300                                  constant
    (300, 500, 700)                      choice among values
    ("uniform", (300, 600))              uniform between two bounds
    ("truncated_exponential", (600, 300, 3000))   mean, min, max
    ("constant", 300) / ("choice", [...])
    ("derived", {"of": "measure", "factor": 2})    2 x the drawn duration of "measure"

or as one of the classes below. Lists work wherever tuples do, so the same forms can
be written in YAML (Hydra configs).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias, TypeGuard

import numpy as np

from neurobench.core.errors import InvalidParameterError

if TYPE_CHECKING:
    import numpy.typing as npt

DurationSpec: TypeAlias = "Duration | float | int | Sequence[Any]"

_FLOOR_TOLERANCE = 1e-9


class Duration(ABC):
    """A distribution of period durations in milliseconds."""

    @abstractmethod
    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw ``n`` durations (ms) as a float array."""

    @property
    @abstractmethod
    def mean(self) -> float:
        """Expected duration (ms)."""

    @property
    @abstractmethod
    def bounds(self) -> tuple[float, float]:
        """Smallest and largest possible duration (ms)."""

    @abstractmethod
    def spec(self) -> list[Any]:
        """The ``[name, args]`` form, JSON- and YAML-serialisable."""

    @abstractmethod
    def representative(self, m: int = 1000) -> np.ndarray:
        """Equally likely durations (ms) spanning the distribution, without randomness:
        the support of discrete ones, ``m`` quantile midpoints of continuous ones. Used
        to average exact per-duration formulas, e.g. a task's ceiling."""

    def steps(self, rng: np.random.Generator, n: int, dt: float) -> np.ndarray:
        """Draw ``n`` durations and convert them to whole time steps."""
        return to_steps(self.sample(rng, n), dt)


def to_steps(ms: np.ndarray | float, dt: float) -> np.ndarray:
    """Floor durations (ms) to whole steps of ``dt`` ms."""
    return np.floor(np.asarray(ms, dtype=np.float64) / dt + _FLOOR_TOLERANCE).astype(np.int32)


@dataclass(frozen=True)
class Constant(Duration):
    value: float

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.full(n, float(self.value))

    def steps(self, rng: np.random.Generator, n: int, dt: float) -> np.ndarray:
        return np.full(n, to_steps(float(self.value), dt), dtype=np.int32)

    @property
    def mean(self) -> float:
        return float(self.value)

    @property
    def bounds(self) -> tuple[float, float]:
        return float(self.value), float(self.value)

    def spec(self) -> list[Any]:
        return ["constant", self.value]

    def representative(self, m: int = 1000) -> np.ndarray:
        return np.array([float(self.value)])


@dataclass(frozen=True)
class Choice(Duration):
    values: tuple[float, ...]

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.asarray(self.values, dtype=np.float64)[rng.integers(len(self.values), size=n)]

    @property
    def mean(self) -> float:
        return float(np.mean(self.values))

    @property
    def bounds(self) -> tuple[float, float]:
        return float(min(self.values)), float(max(self.values))

    def spec(self) -> list[Any]:
        return ["choice", list(self.values)]

    def representative(self, m: int = 1000) -> np.ndarray:
        return np.asarray(self.values, dtype=np.float64)


@dataclass(frozen=True)
class Uniform(Duration):
    low: float
    high: float

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, size=n)

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    @property
    def bounds(self) -> tuple[float, float]:
        return float(self.low), float(self.high)

    def spec(self) -> list[Any]:
        return ["uniform", [self.low, self.high]]

    def representative(self, m: int = 1000) -> np.ndarray:
        return self.low + (self.high - self.low) * _midpoints(m)


@dataclass(frozen=True)
class TruncatedExponential(Duration):
    """An exponential of mean ``scale`` conditioned to lie in ``[low, high)``.

    Sampled by inverting the truncated CDF, so one uniform draw per trial replaces
    NeuroGym's rejection loop while giving the same distribution.
    """

    scale: float
    low: float = 0.0
    high: float = math.inf

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return self._quantile(rng.random(n))

    def _quantile(self, u: np.ndarray) -> np.ndarray:
        mass = -math.expm1(-(self.high - self.low) / self.scale)  # P(x < high | x >= low)
        return self.low - self.scale * np.log1p(-u * mass)

    @property
    def mean(self) -> float:
        width = self.high - self.low
        if width == 0:
            return self.low
        if math.isinf(width):
            return self.low + self.scale
        ratio = width / self.scale
        tail = width * math.exp(-ratio) / -math.expm1(-ratio)  # width / (e^ratio - 1), stably
        return self.low + self.scale - tail

    @property
    def bounds(self) -> tuple[float, float]:
        return float(self.low), float(self.high)

    def spec(self) -> list[Any]:
        return ["truncated_exponential", [self.scale, self.low, self.high]]

    def representative(self, m: int = 1000) -> np.ndarray:
        return self._quantile(_midpoints(m))


@dataclass(frozen=True)
class Derived(Duration):
    """A duration that follows other periods': ``factor`` times the sum of the durations
    drawn for the periods ``of`` (as floored to ``dt``), plus ``offset`` ms. Ready-set-go's
    production window lasts twice the measured interval; trial builders fill it in after
    the periods it derives from (which must come first in the timing)."""

    of: tuple[str, ...]
    factor: float = 1.0
    offset: float = 0.0
    source_bounds: tuple[float, float] = (0.0, 0.0)
    source_mean: float = 0.0

    def derive(self, source_ms: npt.ArrayLike) -> np.ndarray:
        return self.factor * np.asarray(source_ms, dtype=np.float64) + self.offset

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        raise TypeError("a derived duration is computed from the periods it follows, not sampled")

    def resolved(self, sources: Sequence[Duration]) -> Derived:
        """This duration with its bounds and mean taken from the source durations."""
        low = sum(d.bounds[0] for d in sources)
        high = sum(d.bounds[1] for d in sources)
        mean = sum(d.mean for d in sources)
        return Derived(self.of, self.factor, self.offset, (low, high), mean)

    @property
    def mean(self) -> float:
        return self.factor * self.source_mean + self.offset

    @property
    def bounds(self) -> tuple[float, float]:
        ends = sorted((self.factor * self.source_bounds[0], self.factor * self.source_bounds[1]))
        return ends[0] + self.offset, ends[1] + self.offset

    def spec(self) -> list[Any]:
        return ["derived", {"of": list(self.of), "factor": self.factor, "offset": self.offset}]

    def representative(self, m: int = 1000) -> np.ndarray:
        low, high = self.bounds
        return np.array([low]) if low == high else low + (high - low) * _midpoints(m)


DISTRIBUTIONS = ("constant", "choice", "uniform", "truncated_exponential", "derived")


def parse_duration(spec: DurationSpec, period: str) -> Duration:
    """Turn any accepted duration form into a validated :class:`Duration`.

    Errors name the period and say what was expected, because timing usually comes
    from a user's config file far from the code that reads it.
    """
    duration = _build(spec, period)
    if isinstance(duration, Derived):
        if period in duration.of or not duration.of:
            raise InvalidParameterError(
                f"timing[{period!r}]: a derived duration must follow other periods, got {spec!r}"
            )
        return duration
    low, high = duration.bounds
    if not (math.isfinite(low) and low >= 0):
        raise InvalidParameterError(f"timing[{period!r}]: durations must be >= 0 ms, got {spec!r}")
    if high < low:
        raise InvalidParameterError(f"timing[{period!r}]: upper bound {high} is below lower bound {low} in {spec!r}")
    return duration


def _build(spec: DurationSpec, period: str) -> Duration:
    if isinstance(spec, Duration):
        return spec
    if _is_number(spec):
        return Constant(float(spec))
    if isinstance(spec, Mapping) or not isinstance(spec, Sequence) or isinstance(spec, str):
        raise InvalidParameterError(
            f"timing[{period!r}]: cannot read duration {spec!r}; use a number of ms, a list "
            f"of values to choose from, or [distribution, args] with distribution one of "
            f"{', '.join(DISTRIBUTIONS)}"
        )
    if len(spec) == 0:
        raise InvalidParameterError(f"timing[{period!r}]: empty list of durations")
    if all(_is_number(v) for v in spec):
        return Choice(tuple(float(v) for v in spec))
    name, *rest = spec
    if name not in DISTRIBUTIONS or len(rest) != 1:
        raise InvalidParameterError(
            f"timing[{period!r}]: unknown distribution {name!r} in {spec!r}; valid "
            f"distributions: {', '.join(DISTRIBUTIONS)}, written as [distribution, args]"
        )
    args = rest[0]
    try:
        if name == "constant":
            return Constant(float(args))
        if name == "choice":
            values = tuple(float(v) for v in args)
            if not values:
                raise ValueError("no values")
            return Choice(values)
        if name == "uniform":
            low, high = (float(v) for v in args)
            return Uniform(low, high)
        if name == "derived":
            return _derived(args)
        return TruncatedExponential(*(float(v) for v in _as_sequence(args)))
    except (TypeError, ValueError) as error:
        raise InvalidParameterError(f"timing[{period!r}]: bad arguments {args!r} for {name!r} ({error})") from None


def _derived(args: Any) -> Derived:
    if not isinstance(args, Mapping) or "of" not in args or set(args) - {"of", "factor", "offset"}:
        raise ValueError("expected {of: period or [periods], factor: number, offset: ms}")
    of = (args["of"],) if isinstance(args["of"], str) else tuple(str(p) for p in args["of"])
    return Derived(of, float(args.get("factor", 1.0)), float(args.get("offset", 0.0)))


def _midpoints(m: int) -> np.ndarray:
    return (np.arange(m) + 0.5) / m


def _as_sequence(args: Any) -> Sequence[Any]:
    return [args] if _is_number(args) else args


def _is_number(value: Any) -> TypeGuard[int | float | np.integer | np.floating]:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)
