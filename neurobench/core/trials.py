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
from neurobench.core.timing import Constant

NOISE_CLIP = 10.0  # input noise is clipped at this many standard deviations

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
            resume=np.concatenate([_pad(_resume_or_zeros(b), horizon) for b in batches]) if has_resume else None,
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
    ``sample`` is a handful of calls, never a loop over time steps. A period that starts
    and ends at the same step in every trial (fixed durations so far, the common case)
    is written as a slice, which is several times faster than a per-trial mask.
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
        self.periods: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._fixed: dict[str, slice] = {}  # periods at the same steps in every trial
        end = np.zeros(n, dtype=np.int32)
        fixed_end: int | None = 0
        for name, duration in task.timing.items():
            drawn = given.pop(name) if name in given else duration.steps(rng, n, task.dt)
            self.steps[name] = np.asarray(drawn, dtype=np.int32)
            start, end = end, end + self.steps[name]
            self.periods[name] = (start, end)
            constant = name not in steps if steps else True
            if fixed_end is not None and constant and isinstance(duration, Constant):
                width = int(self.steps[name][0]) if n else 0
                self._fixed[name] = slice(fixed_end, fixed_end + width)
                fixed_end += width
            else:
                fixed_end = None
        if given:
            raise UnknownNameError("period", next(iter(given)), task.timing)
        self.length = end
        horizon = int(end.max()) if n else 0
        self._time = np.arange(horizon, dtype=np.int32)
        self._masks: dict[tuple[str, str], np.ndarray] = {}
        self.obs = np.zeros((n, horizon, task.obs_channels.size), dtype=np.float32)
        self.target = np.zeros((n, horizon), dtype=np.int32)

    @classmethod
    def around(cls, task: Task, batch: TrialBatch) -> TrialBuilder:
        """A builder over trials already built (their arrays are shared, not copied): for
        modifiers that change a batch and annotate it again with their rule."""
        self = cls.__new__(cls)
        self.task, self.n = task, batch.n
        self.periods = dict(batch.periods)
        self.steps = {name: end - start for name, (start, end) in self.periods.items()}
        self._fixed = {}
        self.length = batch.length
        self._time = np.arange(batch.max_length, dtype=np.int32)
        self._masks = {}
        self.obs, self.target = batch.obs, batch.target
        return self

    @property
    def max_length(self) -> int:
        return len(self._time)

    def paint(self, array: np.ndarray, value: Any, *periods: str) -> None:
        """Write ``value`` (broadcast per trial: shape ``[n, ...]`` or scalar) into
        ``array[n, T, ...]`` at the steps of ``periods``."""
        per_step = np.expand_dims(np.asarray(value, dtype=array.dtype), 1) if np.ndim(value) else value
        selectors = self._where(periods)
        for unit_array, unit_value in _by_unit(array, per_step):
            for where in selectors:
                if isinstance(where, slice):
                    unit_array[:, where] = unit_value
                else:
                    np.copyto(unit_array, unit_value, where=where)

    def any_nonzero(self, array: np.ndarray, *periods: str) -> np.ndarray:
        """Per trial: is ``array[n, T]`` non-zero anywhere in ``periods``?"""
        out = np.zeros(self.n, dtype=bool)
        for where in self._where(periods):
            out |= array[:, where].any(axis=1) if isinstance(where, slice) else (array * where).any(axis=1)
        return out

    def set(self, channel: str, value: Any, *periods: str) -> None:
        """Set ``channel`` to ``value`` during ``periods`` (every period if none given).

        ``value`` is a scalar, a per-unit vector ``[width]``, a per-trial scalar ``[n]``
        (one-unit channels) or per-trial vectors ``[n, width]``.
        """
        view = self.obs[..., self.task.obs_channels[channel]]
        self.paint(view, self._per_trial(value, view.shape[-1]), *(periods or tuple(self.periods)))

    def add_noise(self, rng: np.random.Generator, channel: str, *periods: str) -> None:
        """Add the task's Gaussian input noise (``task.noise_std``) to ``channel``
        during ``periods``, clipped at ``NOISE_CLIP`` standard deviations."""
        sigma = np.float32(self.task.noise_std)
        if sigma == 0:
            return
        view = self.obs[..., self.task.obs_channels[channel]]
        for where in self._where(periods):
            if isinstance(where, slice):
                window = view[:, where]
                noise = _standard_noise(rng, window.shape)
                noise *= sigma
                _add_by_unit(window, noise)
            else:
                noise = _standard_noise(rng, view.shape)
                noise *= where[..., None] * sigma
                _add_by_unit(view, noise)

    def answer(self, action: Any, *periods: str) -> None:
        """Make ``action`` (scalar or per-trial ``[n]``) the ground truth in ``periods``."""
        self.paint(self.target, np.broadcast_to(np.asarray(action, dtype=np.int32), (self.n,)), *periods)

    def build(self, **conditions: Any) -> TrialBatch:
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

    def _where(self, periods: tuple[str, ...]) -> list[slice | np.ndarray]:
        """Selectors of ``periods``: consecutive periods are merged into one run, written
        as a slice if it sits at the same steps in every trial, else as a mask ``[n, T]``."""
        order = list(self.periods)
        try:
            positions = sorted({order.index(p) for p in periods})
        except ValueError:
            unknown = next(p for p in periods if p not in self.periods)
            raise UnknownNameError("period", unknown, self.periods) from None
        runs: list[list[int]] = []
        for position in positions:
            if runs and position == runs[-1][1] + 1:
                runs[-1][1] = position
            else:
                runs.append([position, position])
        return [self._selector(order[first], order[last]) for first, last in runs]

    def _selector(self, first: str, last: str) -> slice | np.ndarray:
        if first in self._fixed and last in self._fixed:
            return slice(self._fixed[first].start, self._fixed[last].stop)
        if (first, last) not in self._masks:
            start, end = self.periods[first][0], self.periods[last][1]
            self._masks[first, last] = (self._time >= start[:, None]) & (self._time < end[:, None])
        return self._masks[first, last]

    def _per_trial(self, value: Any, width: int) -> np.ndarray:
        values = np.asarray(value, dtype=np.float32)
        if values.ndim == 0:
            return np.broadcast_to(values, (self.n, width))
        if values.ndim == 1 and width == 1:
            return values.reshape(self.n, 1)
        if values.ndim == 1:
            return np.broadcast_to(values, (self.n, width))
        return values


def _by_unit(array: np.ndarray, value: Any) -> list[tuple[np.ndarray, Any]]:
    """Split ``array[n, T, width]`` and its ``value`` into per-unit ``[n, T]`` pieces
    (``[n, T]`` arrays pass whole). Writing a channel's strided view whole, numpy loops
    innermost over its narrow last axis (1-4 units) and the per-loop overhead dominates:
    unit by unit, painting and adding noise ran 4-7x faster."""
    if array.ndim == 2:
        return [(array, value)]
    value = np.asarray(value)
    if value.ndim == 0:
        return [(array[..., unit], value) for unit in range(array.shape[-1])]
    value = np.broadcast_to(value, (*value.shape[:-1], array.shape[-1]))
    return [(array[..., unit], value[..., unit]) for unit in range(array.shape[-1])]


def _add_by_unit(view: np.ndarray, values: np.ndarray) -> None:
    """``view += values`` for a channel's view ``[n, T, width]`` (see ``_by_unit``)."""
    for unit_view, unit_values in _by_unit(view, values):
        unit_view += unit_values


def _standard_noise(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Standard normal draws, clipped at NOISE_CLIP so observations stay in their space
    (a draw beyond 10 std has probability 1.5e-23: the clip is a guarantee, not a change)."""
    noise = rng.standard_normal(shape, dtype=np.float32)
    if noise.size and (noise.min() < -NOISE_CLIP or noise.max() > NOISE_CLIP):
        np.clip(noise, -NOISE_CLIP, NOISE_CLIP, out=noise)
    return noise
