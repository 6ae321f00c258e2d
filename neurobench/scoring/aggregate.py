"""Aggregates across runs, with stratified bootstrap confidence intervals.

Following Agarwal et al. (2021, "Deep RL at the edge of the statistical precipice"):
mean, median, interquartile mean (IQM) and optimality gap of normalized scores over all
(task, seed) runs of a family, with 95% intervals from a bootstrap that resamples seeds
within each task (scipy.stats.bootstrap with one sample per task), and the probability
that one agent improves on another.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

RESAMPLES = 2000
CONFIDENCE = 0.95
_SEED = 0  # bootstrap resampling is seeded: the same runs give the same intervals


def _iqm(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return stats.trim_mean(x, 0.25, axis=axis)


def _optimality_gap(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(np.maximum(1.0 - x, 0.0), axis=axis)


STATISTICS: dict[str, Callable[..., np.ndarray]] = {
    "mean": np.mean,
    "median": np.median,
    "iqm": _iqm,
    "optimality_gap": _optimality_gap,
}


@dataclass(frozen=True)
class Estimate:
    """A point estimate and its 95% bootstrap interval."""

    point: float
    low: float
    high: float

    def as_dict(self) -> dict[str, float]:
        return {"point": self.point, "low": self.low, "high": self.high}


def aggregate(scores_by_task: Mapping[str, Sequence[float]]) -> dict[str, Estimate]:
    """Every statistic of the pooled runs, with stratified bootstrap intervals.

    ``scores_by_task`` maps each task to its per-seed normalized scores.
    """
    samples = [np.asarray(v, dtype=float) for v in scores_by_task.values()]
    return {name: _estimate(samples, fn) for name, fn in STATISTICS.items()}


def probability_of_improvement(
    x_by_task: Mapping[str, Sequence[float]], y_by_task: Mapping[str, Sequence[float]]
) -> Estimate:
    """P(X > Y): for each task, the chance a run of X scores above a run of Y (ties count
    half, the Mann-Whitney statistic), averaged over the tasks both agents ran."""
    tasks = sorted(set(x_by_task) & set(y_by_task))
    samples = []
    for task in tasks:
        samples += [np.asarray(x_by_task[task], dtype=float), np.asarray(y_by_task[task], dtype=float)]

    def statistic(*arrays: np.ndarray, axis: int = -1) -> np.ndarray:  # noqa: ARG001 (scipy passes axis)
        values = []
        for x, y in zip(arrays[::2], arrays[1::2], strict=True):
            diff = np.expand_dims(x, -1) - np.expand_dims(y, -2)
            values.append(np.mean((diff > 0) + 0.5 * (diff == 0), axis=(-2, -1)))
        return np.mean(values, axis=0)

    return _bootstrap(samples, statistic)


def _estimate(samples: list[np.ndarray], fn: Callable[..., np.ndarray]) -> Estimate:
    def statistic(*arrays: np.ndarray, axis: int = -1) -> np.ndarray:  # noqa: ARG001 (scipy passes axis)
        return fn(np.concatenate(arrays, axis=-1), axis=-1)

    return _bootstrap(samples, statistic)


def _bootstrap(samples: list[np.ndarray], statistic: Callable[..., np.ndarray]) -> Estimate:
    point = float(statistic(*samples))
    if all(len(s) < 2 for s in samples):  # one run per task: nothing to resample
        return Estimate(point, point, point)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", stats.DegenerateDataWarning)
        result = stats.bootstrap(
            samples,
            statistic,
            n_resamples=RESAMPLES,
            confidence_level=CONFIDENCE,
            method="percentile",
            vectorized=True,
            random_state=np.random.default_rng(_SEED),
        )
    low, high = result.confidence_interval
    low = point if np.isnan(low) else float(low)
    high = point if np.isnan(high) else float(high)
    return Estimate(point, min(low, point), max(high, point))
