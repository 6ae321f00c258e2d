"""Trials as arrays: a batch of ``n`` trials, and the helper tasks use to build one.

Every consumer (single env, vector env, dataset, plots) reads the same
:class:`TrialBatch`, so a trial looks identical wherever it is used. Trials in a batch
have different lengths; arrays are padded to the longest and ``length`` says where
each trial really ends (padding is zero observation, fixation target, free phase).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from neurobench.core.errors import UnknownNameError

if TYPE_CHECKING:
    from neurobench.core.task import Task


@dataclass(frozen=True)
class TrialBatch:
    """``n`` trials laid out on a common time axis of ``max_length`` steps.

    Attributes:
        obs: float32 ``[n, T, obs_dim]`` observation at every step.
        target: ground-truth action per step, int32 ``[n, T]`` (discrete tasks).
        length: int32 ``[n]``, number of real steps of each trial.
        phase: int8 ``[n, T]``, what the task's response rule does at each step.
        periods: period name -> (start, end) step arrays ``[n]``; end is exclusive.
        conditions: per-trial variables (ground truth, coherence, sample...).
        resume: int32 ``[n, T]`` step to jump to after an answer that does not end
            the trial (multi-response tasks), else ``None``.
        index: int64 ``[n]``, position of each trial in its seed's trial stream.
    """

    obs: np.ndarray
    target: np.ndarray
    length: np.ndarray
    phase: np.ndarray
    periods: Mapping[str, tuple[np.ndarray, np.ndarray]]
    conditions: Mapping[str, np.ndarray]
    resume: np.ndarray | None = None
    index: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.index is None:
            object.__setattr__(self, "index", np.arange(len(self.length), dtype=np.int64))

    @property
    def n(self) -> int:
        return len(self.length)

    @property
    def max_length(self) -> int:
        return self.obs.shape[1]

    def with_index(self, first: int) -> TrialBatch:
        return replace(self, index=np.arange(first, first + self.n, dtype=np.int64))

    def take(self, idx: np.ndarray | slice) -> TrialBatch:
        """The trials at ``idx``, trimmed to their own longest length."""
        length = self.length[idx]
        horizon = int(length.max()) if len(length) else 0
        return TrialBatch(
            obs=self.obs[idx, :horizon],
            target=self.target[idx, :horizon],
            length=length,
            phase=self.phase[idx, :horizon],
            periods={k: (s[idx], e[idx]) for k, (s, e) in self.periods.items()},
            conditions={k: v[idx] for k, v in self.conditions.items()},
            resume=None if self.resume is None else self.resume[idx, :horizon],
            index=self.index[idx],
        )

    def trial_conditions(self, i: int) -> dict[str, Any]:
        """The conditions of trial ``i`` as plain Python values."""
        return {k: _plain(v[i]) for k, v in self.conditions.items()}

    @staticmethod
    def concat(batches: Iterable[TrialBatch]) -> TrialBatch:
        """Stack batches of the same task along the trial axis, padding time."""
        batches = list(batches)
        horizon = max(b.max_length for b in batches)
        has_resume = any(b.resume is not None for b in batches)
        return TrialBatch(
            obs=np.concatenate([_pad(b.obs, horizon) for b in batches]),
            target=np.concatenate([_pad(b.target, horizon) for b in batches]),
            length=np.concatenate([b.length for b in batches]),
            phase=np.concatenate([_pad(b.phase, horizon) for b in batches]),
            periods={
                k: (
                    np.concatenate([b.periods[k][0] for b in batches]),
                    np.concatenate([b.periods[k][1] for b in batches]),
                )
                for k in batches[0].periods
            },
            conditions={k: np.concatenate([b.conditions[k] for b in batches]) for k in batches[0].conditions},
            resume=np.concatenate([_pad(_resume_or_zeros(b), horizon) for b in batches])
            if has_resume
            else None,
            index=np.concatenate([b.index for b in batches]),
        )


def _resume_or_zeros(batch: TrialBatch) -> np.ndarray:
    return batch.resume if batch.resume is not None else np.zeros_like(batch.phase, np.int32)


def _pad(array: np.ndarray, horizon: int) -> np.ndarray:
    missing = horizon - array.shape[1]
    if missing == 0:
        return array
    widths = [(0, 0), (0, missing)] + [(0, 0)] * (array.ndim - 2)
    return np.pad(array, widths)


def _plain(value: Any) -> Any:
    return value.tolist() if isinstance(value, np.ndarray | np.generic) else value


class TrialBuilder:
    """Lays out ``n`` trials of a task and fills them period by period.

    Periods follow one another in the order of the task's timing; their durations are
    drawn for all trials at once. Every method works on whole arrays: a task's
    ``sample`` is a handful of calls, never a loop over time steps.
    """

    def __init__(
        self,
        task: Task,
        rng: np.random.Generator,
        n: int,
        steps: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        self.task = task
        self.n = n
        given = dict(steps or {})
        self.steps: dict[str, np.ndarray] = {}
        for name, duration in task.timing.items():
            drawn = given.pop(name) if name in given else duration.steps(rng, n, task.dt)
            self.steps[name] = np.asarray(drawn, dtype=np.int32)
        if given:
            raise UnknownNameError("period", next(iter(given)), task.timing)
        self.periods: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        end = np.zeros(n, dtype=np.int32)
        for name, duration_steps in self.steps.items():
            start, end = end, end + duration_steps
            self.periods[name] = (start, end)
        self.length = end
        horizon = int(end.max()) if n else 0
        self._time = np.arange(horizon, dtype=np.int32)
        self.obs = np.zeros((n, horizon, task.obs_channels.size), dtype=np.float32)
        self.target = np.zeros((n, horizon), dtype=np.int32)

    @property
    def max_length(self) -> int:
        return len(self._time)

    def mask(self, *periods: str) -> np.ndarray:
        """Boolean ``[n, T]``: which steps of each trial fall in any of ``periods``."""
        out = np.zeros((self.n, self.max_length), dtype=bool)
        for period in periods:
            start, end = self._bounds(period)
            out |= (self._time >= start[:, None]) & (self._time < end[:, None])
        return out

    def set(self, channel: str, value: Any, *periods: str) -> None:
        """Set ``channel`` to ``value`` during ``periods`` (all steps if none).

        ``value`` is a scalar, a per-unit vector ``[width]``, a per-trial scalar ``[n]``
        (one-unit channels) or per-trial vectors ``[n, width]``.
        """
        view = self.obs[..., self.task.obs_channels[channel]]
        values = self._per_trial(value, view.shape[-1])
        where = self.mask(*periods) if periods else self._valid()
        np.copyto(view, values[:, None, :], where=where[..., None])

    def add_noise(self, rng: np.random.Generator, channel: str, *periods: str) -> None:
        """Add the task's Gaussian input noise (``task.noise_std``) to ``channel``
        during ``periods``."""
        sigma = self.task.noise_std
        if sigma == 0:
            return
        view = self.obs[..., self.task.obs_channels[channel]]
        where = self.mask(*periods)
        noise = rng.standard_normal((int(where.sum()), view.shape[-1]), dtype=np.float32)
        view[where] += sigma * noise

    def answer(self, action: Any, *periods: str) -> None:
        """Make ``action`` (scalar or per-trial ``[n]``) the ground truth in ``periods``."""
        values = np.broadcast_to(np.asarray(action, dtype=np.int32), (self.n,))
        np.copyto(self.target, values[:, None], where=self.mask(*periods))

    def build(self, **conditions: Any) -> TrialBatch:
        space = self.task.observation_space
        np.clip(self.obs, space.low, space.high, out=self.obs)
        phase, resume = self.task.rule.phases(self)
        return TrialBatch(
            obs=self.obs,
            target=self.target,
            length=self.length,
            phase=phase,
            periods=self.periods,
            conditions={k: np.asarray(v) for k, v in conditions.items()},
            resume=resume,
        )

    def _valid(self) -> np.ndarray:
        return self._time < self.length[:, None]

    def _bounds(self, period: str) -> tuple[np.ndarray, np.ndarray]:
        try:
            return self.periods[period]
        except KeyError:
            raise UnknownNameError("period", period, self.periods) from None

    def _per_trial(self, value: Any, width: int) -> np.ndarray:
        values = np.asarray(value, dtype=np.float32)
        if values.ndim == 0:
            return np.broadcast_to(values, (self.n, width))
        if values.ndim == 1 and width == 1:
            return values.reshape(self.n, 1)
        if values.ndim == 1:
            return np.broadcast_to(values, (self.n, width))
        return values
