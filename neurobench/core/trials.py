"""Trials as arrays: a batch of ``n`` trials, and the helper tasks use to build one.

Every consumer (single env, vector env, dataset, plots) reads the same
:class:`TrialBatch`, so a trial looks identical wherever it is used. Trials in a batch
have different lengths; arrays are padded to the longest and ``length`` says where each
trial really ends (padding is zero observation, fixation target, free phase).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from neurobench.core.errors import UnknownNameError
from neurobench.core.timing import Constant, Derived, to_steps

NOISE_CLIP = 10.0  # input noise is clipped at this many standard deviations

if TYPE_CHECKING:
    from neurobench.core.task import TrialTask


@dataclass(frozen=True)
class TrialBatch:
    """``n`` trials laid out on a common time axis of ``max_length`` steps.

    Attributes:
        obs: float32 ``[n, T, obs_dim]`` observation at every step.
        target: what the oracle (and a supervised network) outputs at each step: int32
            ``[n, T]`` for discrete actions, float32 ``[n, T, k]`` for ``Box`` actions.
        length: int32 ``[n]``, number of real steps of each trial.
        phase: int8 ``[n, T]``, what the task's response rule does at each step.
        periods: period name -> (start, end) step arrays ``[n]``; end is exclusive.
        conditions: per-trial variables (ground truth, coherence, sample...).
        resume: int32 ``[n, T]`` (or ``[n, T, n_actions]`` for branches chosen by the
            action): the step a ``SKIP`` move leads to; ``None`` if the rule never skips.
        payoff: float32 ``[n, T, n_actions]``: the reward of each answer at each step,
            replacing the rule's ``correct``/``fail`` rewards (graded and stochastic
            rewards); ``None`` for the rule's rewards.
        credit: float32 ``[n, T, n_actions]``: each answer's contribution to the trial's
            score in [0, 1] (an opt-out's partial credit); ``None``: 1 for a correct answer.
        index: int64 ``[n]``, position of each trial in its seed's trial stream.
    """

    obs: np.ndarray
    target: np.ndarray
    length: np.ndarray
    phase: np.ndarray
    periods: Mapping[str, tuple[np.ndarray, np.ndarray]]
    conditions: Mapping[str, np.ndarray]
    resume: np.ndarray | None = None
    payoff: np.ndarray | None = None
    credit: np.ndarray | None = None
    index: np.ndarray = field(default=None)  # type: ignore[arg-type]

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
        """The trials at ``idx``, trimmed to their own longest length: views of this
        batch's arrays for a slice, copies for an index array."""
        length = self.length[idx]
        horizon = int(length.max()) if len(length) else 0

        def cut(array: np.ndarray | None) -> np.ndarray | None:
            return None if array is None else array[idx, :horizon]

        return TrialBatch(
            obs=self.obs[idx, :horizon],
            target=self.target[idx, :horizon],
            length=length,
            phase=self.phase[idx, :horizon],
            periods={k: (s[idx], e[idx]) for k, (s, e) in self.periods.items()},
            conditions={k: v[idx] for k, v in self.conditions.items()},
            resume=cut(self.resume),
            payoff=cut(self.payoff),
            credit=cut(self.credit),
            index=self.index[idx],
        )

    def trial_conditions(self, i: int) -> dict[str, Any]:
        """The conditions of trial ``i`` as plain Python values."""
        return {k: _plain(v[i]) for k, v in self.conditions.items()}

    def period_at(self, rows: np.ndarray, t: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
        """Index into ``names`` of the period each (row, step) falls in (-1: none)."""
        code = np.full(np.shape(rows), -1, dtype=np.int16)
        for k, name in enumerate(names):
            if name in self.periods:
                start, end = self.periods[name]
                code[(start[rows] <= t) & (t < end[rows])] = k
        return code

    @staticmethod
    def concat(batches: Iterable[TrialBatch]) -> TrialBatch:
        """Stack batches of the same task along the trial axis, padding time (each array is
        written once into its place: no padded intermediate copies)."""
        batches = list(batches)
        horizon = max(b.max_length for b in batches)

        def stacked(arrays: list[np.ndarray]) -> np.ndarray:
            arrays = _same_ndim(arrays)
            out = np.zeros((sum(len(a) for a in arrays), horizon, *arrays[0].shape[2:]), dtype=arrays[0].dtype)
            row = 0
            for a in arrays:
                out[row : row + len(a), : a.shape[1]] = a
                row += len(a)
            return out

        if len(batches) == 1:
            return batches[0]
        return TrialBatch(
            obs=stacked([b.obs for b in batches]),
            target=stacked([b.target for b in batches]),
            length=np.concatenate([b.length for b in batches]),
            phase=stacked([b.phase for b in batches]),
            periods={
                k: (
                    np.concatenate([b.periods[k][0] for b in batches]),
                    np.concatenate([b.periods[k][1] for b in batches]),
                )
                for k in batches[0].periods
            },
            conditions={k: np.concatenate([b.conditions[k] for b in batches]) for k in batches[0].conditions},
            resume=_optional("resume", batches, stacked),
            payoff=_optional("payoff", batches, stacked),
            credit=_optional("credit", batches, stacked),
            index=np.concatenate([b.index for b in batches]),
        )

    @staticmethod
    def interleave(parts: Mapping[int, TrialBatch], ids: np.ndarray) -> TrialBatch:
        """The trials of ``parts[k]`` at the positions where ``ids == k``, in order: what
        ``concat`` then ``take`` give, with each array written once into its place (a
        collection's chunks are hundreds of MB: the second copy cost a fifth of a draw)."""
        batches = list(parts.values())
        rows = [np.flatnonzero(ids == k) for k in parts]
        n = len(ids)

        def per_trial(arrays: list[np.ndarray]) -> np.ndarray:
            out = np.empty((n, *arrays[0].shape[1:]), dtype=np.result_type(*arrays))
            for a, r in zip(arrays, rows, strict=True):
                out[r] = a
            return out

        length = per_trial([b.length for b in batches])
        horizon = int(length.max()) if n else 0

        def placed(arrays: list[np.ndarray]) -> np.ndarray:
            arrays = _same_ndim(arrays)
            out = np.zeros((n, horizon, *arrays[0].shape[2:]), dtype=arrays[0].dtype)
            for a, r in zip(arrays, rows, strict=True):
                out[r, : a.shape[1]] = a[:, :horizon]
            return out

        return TrialBatch(
            obs=placed([b.obs for b in batches]),
            target=placed([b.target for b in batches]),
            length=length,
            phase=placed([b.phase for b in batches]),
            periods={
                k: (per_trial([b.periods[k][0] for b in batches]), per_trial([b.periods[k][1] for b in batches]))
                for k in batches[0].periods
            },
            conditions={k: per_trial([b.conditions[k] for b in batches]) for k in batches[0].conditions},
            resume=_optional("resume", batches, placed),
            payoff=_optional("payoff", batches, placed),
            credit=_optional("credit", batches, placed),
            index=per_trial([b.index for b in batches]),
        )


def _optional(
    name: str, batches: list[TrialBatch], write: Callable[[list[np.ndarray]], np.ndarray]
) -> np.ndarray | None:
    """The optional table ``name`` of ``batches`` written together by ``write``: ``None``
    if no batch has it, else each batch's own or its neutral stand-in."""
    arrays = [getattr(b, name) for b in batches]
    if all(a is None for a in arrays):
        return None
    template = next(a for a in arrays if a is not None)
    return write([a if a is not None else _neutral(name, b, template) for a, b in zip(arrays, batches, strict=True)])


def _neutral(name: str, batch: TrialBatch, template: np.ndarray) -> np.ndarray:
    """What a batch without ``name`` means, shaped like ``template``'s trailing axes: a
    resume step is the next step, payoffs and credits are zero."""
    shape = (batch.n, batch.max_length, *template.shape[2:])
    if name != "resume":
        return np.zeros(shape, dtype=template.dtype)
    following = np.arange(1, batch.max_length + 1, dtype=np.int32)
    following = following.reshape(1, -1, *([1] * (template.ndim - 2)))
    return np.broadcast_to(following, shape).copy()


def _same_ndim(arrays: list[np.ndarray]) -> list[np.ndarray]:
    """Per-step resume arrays ``[n, T]`` next to per-action ones ``[n, T, A]``: broadcast."""
    ndim = max(a.ndim for a in arrays)
    if all(a.ndim == ndim for a in arrays):
        return arrays
    width = next(a.shape[2] for a in arrays if a.ndim == ndim)
    return [a if a.ndim == ndim else np.repeat(a[..., None], width, axis=2) for a in arrays]


def _plain(value: Any) -> Any:
    return value.tolist() if isinstance(value, np.ndarray | np.generic) else value


class TrialBuilder:
    """Lays out ``n`` trials of a task and fills them period by period.

    Periods follow one another in the order of the task's ``periods``; their durations
    are drawn for all trials at once (derived durations computed from the periods they
    follow). Every method works on whole arrays: a task's ``sample`` is a handful of
    calls, never a loop over time steps. A period that starts and ends at the same step in
    every trial (fixed durations so far, the common case) is written as a slice, several
    times faster than a per-trial mask.
    """

    def __init__(
        self,
        task: TrialTask,
        rng: np.random.Generator,
        n: int,
        steps: Mapping[str, np.ndarray] | None = None,
    ) -> None:
        self.task = task
        self.n = n
        given = dict(steps or {})
        timing = task.timing
        self.steps: dict[str, np.ndarray] = {}
        self.ms: dict[str, np.ndarray] = {}  # drawn durations in ms, floored to dt
        self.periods: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._fixed: dict[str, slice] = {}  # periods at the same steps in every trial
        end = np.zeros(n, dtype=np.int32)
        fixed_end: int | None = 0
        for name in task.periods:
            duration = timing[name]
            if name in given:
                drawn = np.asarray(given.pop(name), dtype=np.int32)
                ms = drawn * task.dt
            elif isinstance(duration, Derived):
                ms = duration.derive(sum(self.ms[p] for p in duration.of))
                drawn = to_steps(ms, task.dt)
            else:
                drawn = duration.steps(rng, n, task.dt)
                ms = drawn * task.dt
            self.steps[name] = np.asarray(drawn, dtype=np.int32)
            self.ms[name] = np.asarray(ms, dtype=np.float64)
            start, end = end, end + self.steps[name]
            self.periods[name] = (start, end)
            if fixed_end is not None and name not in (steps or {}) and isinstance(duration, Constant):
                width = int(self.steps[name][0]) if n else 0
                self._fixed[name] = slice(fixed_end, fixed_end + width)
                fixed_end += width
            else:
                fixed_end = None
        if given:
            raise UnknownNameError("period", next(iter(given)), task.periods)
        self.length = end
        horizon = int(end.max()) if n else 0
        self._time = np.arange(horizon, dtype=np.int32)
        self._masks: dict[tuple[str, str], np.ndarray] = {}
        self._selectors: dict[tuple[str, ...], list[slice | np.ndarray]] = {}
        self._rows: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._channels = task.obs_channels
        self.obs = np.zeros((n, horizon, self._channels.size), dtype=np.float32)
        self.target: np.ndarray = np.zeros((n, horizon, *task.target_shape), dtype=task.target_dtype)
        self.resume: np.ndarray | None = None  # set to override the rule's (branches)
        self.payoff: np.ndarray | None = None
        self.credit: np.ndarray | None = None

    @classmethod
    def around(cls, task: TrialTask, batch: TrialBatch) -> TrialBuilder:
        """A builder over trials already built (their arrays are shared, not copied): for
        modifiers that change a batch and annotate it again with their rule."""
        self = cls.__new__(cls)
        self.task, self.n = task, batch.n
        self.periods = dict(batch.periods)
        self.steps = {name: end - start for name, (start, end) in self.periods.items()}
        self.ms = {name: steps * task.dt for name, steps in self.steps.items()}
        self._fixed = {}
        self.length = batch.length
        self._time = np.arange(batch.max_length, dtype=np.int32)
        self._masks, self._selectors, self._rows = {}, {}, {}
        self._channels = task.obs_channels
        self.obs, self.target = batch.obs, batch.target
        self.resume, self.payoff, self.credit = None, batch.payoff, batch.credit
        return self

    @property
    def max_length(self) -> int:
        return len(self._time)

    def mask(self, *periods: str) -> np.ndarray:
        """Boolean ``[n, T]``: the steps of ``periods``."""
        out = np.zeros((self.n, self.max_length), dtype=bool)
        for where in self._where(periods):
            if isinstance(where, slice):
                out[:, where] = True
            else:
                out |= where
        return out

    def paint(self, array: np.ndarray, value: Any, *periods: str) -> None:
        """Write ``value`` (broadcast per trial: shape ``[n, ...]`` or scalar) into
        ``array[n, T, ...]`` at the steps of ``periods``."""
        per_step = np.asarray(value, dtype=array.dtype)
        if per_step.ndim:
            per_step = per_step.reshape(per_step.shape[0], 1, *per_step.shape[1:])
        for where in self._where(periods):
            if isinstance(where, slice):
                for unit_array, unit_value in _by_unit(array, per_step):
                    unit_array[:, where] = unit_value
            else:
                self._paint_steps(array, per_step, where)

    def _paint_steps(self, array: np.ndarray, value: np.ndarray, mask: np.ndarray) -> None:
        """``paint`` at the steps of a per-trial ``mask``. A wide channel gets one write of
        each trial's value repeated over its steps, into the flat (trial, step) rows: about
        twice as fast as a masked copy into its strided view. Narrow arrays take the masked
        copy, which streams and there beats scattering rows."""
        flat = _flat_rows_view(array)
        if flat is None or (value.ndim and value.shape[0] != self.n):
            for unit_array, unit_value in _by_unit(array, value):
                np.copyto(unit_array, unit_value, where=mask if unit_array.ndim == 2 else mask[..., None])
            return
        rows, counts = self._rows_of(mask)
        flat[rows] = np.repeat(value[:, 0], counts, axis=0) if value.ndim else value

    def _rows_of(self, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The flat (trial, step) indices of a mask's steps, row-major (the order of
        ``array[mask]``), and how many fall in each trial; kept with the mask."""
        key = id(mask)
        if key not in self._rows:
            self._rows[key] = (mask, np.flatnonzero(mask), np.count_nonzero(mask, axis=1))
        _, rows, counts = self._rows[key]
        return rows, counts

    def any_nonzero(self, array: np.ndarray, *periods: str) -> np.ndarray:
        """Per trial: is ``array[n, T, ...]`` non-zero anywhere in ``periods``?"""
        out = np.zeros(self.n, dtype=bool)
        flat = cast(np.ndarray, array.reshape(self.n, self.max_length, -1).any(axis=2))
        for where in self._where(periods):
            out |= flat[:, where].any(axis=1) if isinstance(where, slice) else (flat & where).any(axis=1)
        return out

    def set(self, channel: str, value: Any, *periods: str) -> None:
        """Set ``channel`` to ``value`` during ``periods`` (every period if none given).

        ``value`` is a scalar, a per-unit vector ``[width]``, a per-trial scalar ``[n]``
        (one-unit channels) or per-trial vectors ``[n, width]``.
        """
        view = self.obs[..., self._channels[channel]]
        self.paint(view, self._per_trial(value, view.shape[-1]), *(periods or tuple(self.periods)))

    def set_span(self, channel: str, value: Any, start: np.ndarray, stop: np.ndarray) -> None:
        """Set ``channel`` to ``value`` from step ``start`` to ``stop`` (per trial,
        exclusive): cues that do not coincide with a period."""
        view = self.obs[..., self._channels[channel]]
        where = (self._time >= np.asarray(start)[:, None]) & (self._time < np.asarray(stop)[:, None])
        values = self._per_trial(value, view.shape[-1])
        for unit in range(view.shape[-1]):
            np.copyto(view[..., unit], values[:, unit : unit + 1] if values.ndim else values, where=where)

    def add_noise(
        self, rng: np.random.Generator, channel: str, *periods: str, std: float | None = None, sparse: bool = True
    ) -> None:
        """Add Gaussian input noise (``task.noise_std`` unless ``std`` is given) to
        ``channel`` during ``periods``, clipped at ``NOISE_CLIP`` standard deviations.

        Where periods fall at different steps in different trials, noise is drawn only for
        the steps it lands on (several times faster with variable timing). The first
        release's tasks pass ``sparse=False``: they draw it for the whole trial and mask it,
        and keep doing so, because the draws are part of their seeds' trials."""
        sigma = np.float32(self.task.noise_std if std is None else std)
        if sigma == 0:
            return
        view = self.obs[..., self._channels[channel]]
        for where in self._where(periods):
            if isinstance(where, slice):
                window = view[:, where]
                noise = _standard_noise(rng, window.shape)
                noise *= sigma
                _add_by_unit(window, noise)
            elif sparse:
                rows, _ = self._rows_of(where)
                noise = _standard_noise(rng, (len(rows), view.shape[-1]))
                noise *= sigma
                _add_at_steps(view, where, rows, noise)
            else:
                noise = _standard_noise(rng, view.shape)
                noise *= where[..., None] * sigma
                _add_by_unit(view, noise)

    def add_noise_everywhere(self, rng: np.random.Generator, std: float) -> None:
        """Gaussian noise of ``std`` on every input at every step of every trial (Yang et
        al.'s input noise), drawn for the trials' own steps only: padding stays zero and
        costs no draws."""
        sigma = np.float32(std)
        if sigma == 0 or not self.n:
            return
        if np.all(self.length == self.max_length):
            noise = _standard_noise(rng, self.obs.shape)
            noise *= sigma
            self.obs += noise
            return
        valid = self._time[None, :] < self.length[:, None]
        noise = _standard_noise(rng, (int(self.length.sum()), self.obs.shape[2]))
        noise *= sigma
        _add_at_steps(self.obs, valid, np.flatnonzero(valid), noise)

    def answer(self, action: Any, *periods: str) -> None:
        """Make ``action`` (scalar or per-trial ``[n]``; ``[n, k]`` values for continuous
        actions) the target in ``periods``."""
        value = np.asarray(action, dtype=self.target.dtype)
        shape = (self.n, *self.task.target_shape)
        if value.ndim and value.shape != shape:
            value = np.broadcast_to(value, shape)
        self.paint(self.target, value, *periods)

    def payoffs(self) -> np.ndarray:
        """The per-step, per-action reward array (created zero on first use)."""
        if self.payoff is None:
            self.payoff = np.zeros((self.n, self.max_length, self.task.n_actions), dtype=np.float32)
        return self.payoff

    def credits(self) -> np.ndarray:
        """The per-step, per-action credit array (created on first use: 1 for the target)."""
        if self.credit is None:
            self.credit = np.zeros((self.n, self.max_length, self.task.n_actions), dtype=np.float32)
        return self.credit

    def build(self, **conditions: Any) -> TrialBatch:
        phase, resume = self.task.rule.phases(self)
        return TrialBatch(
            obs=self.obs,
            target=self.target,
            length=self.length,
            phase=phase,
            periods=self.periods,
            conditions={k: np.asarray(v) for k, v in conditions.items()},
            resume=self.resume if self.resume is not None else resume,
            payoff=self.payoff,
            credit=self.credit,
        )

    def _where(self, periods: tuple[str, ...]) -> list[slice | np.ndarray]:
        """Selectors of ``periods``: consecutive periods are merged into one run, written
        as a slice if it sits at the same steps in every trial, else as a mask ``[n, T]``.
        Kept per builder: a task paints the same periods into several arrays."""
        if periods not in self._selectors:
            self._selectors[periods] = self._runs(periods)
        return self._selectors[periods]

    def _runs(self, periods: tuple[str, ...]) -> list[slice | np.ndarray]:
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
        if values.ndim == 0:  # the same everywhere: painted as a scalar
            return values
        if values.ndim == 1 and width == 1:
            return values.reshape(self.n, 1)
        if values.ndim == 1:
            return np.broadcast_to(values, (self.n, width))
        return values


NARROW_CHANNEL = 4  # units up to which a channel is written unit by unit (see _by_unit)


def _by_unit(array: np.ndarray, value: Any) -> list[tuple[np.ndarray, Any]]:
    """Split ``array[n, T, width]`` and its ``value`` into per-unit ``[n, T]`` pieces
    (``[n, T]`` arrays pass whole). Writing a channel's strided view whole, numpy loops
    innermost over its narrow last axis (1-4 units) and the per-loop overhead dominates:
    unit by unit, painting and adding noise ran 4-7x faster. Wide channels (rings of
    Yang et al.'s tasks) stay whole: there the inner loop is long and one call beats many."""
    if array.ndim == 2 or array.shape[-1] > NARROW_CHANNEL:
        return [(array, value)]
    value = np.asarray(value)
    width = array.shape[-1]
    if value.ndim == 0:
        return [(array[..., unit], value) for unit in range(width)]
    if value.shape[-1] == 1:  # one value for every unit
        shared = value[..., 0]
        return [(array[..., unit], shared) for unit in range(width)]
    value = np.broadcast_to(value, (*value.shape[:-1], width))  # raises on a wrong width
    return [(array[..., unit], value[..., unit]) for unit in range(width)]


def _flat_rows_view(array: np.ndarray) -> np.ndarray | None:
    """A wide ``array[n, T, width]`` as ``[n * T, width]`` without a copy (a channel's
    view of the observations qualifies); ``None`` for narrow arrays (see ``_by_unit``)
    and where that needs a copy."""
    if array.ndim != 3 or array.shape[-1] <= NARROW_CHANNEL:
        return None
    try:
        return array.reshape(-1, *array.shape[2:], copy=False)
    except ValueError:
        return None


def _add_at_steps(array: np.ndarray, mask: np.ndarray, rows: np.ndarray, values: np.ndarray) -> None:
    """``array[mask] += values``, through the flat rows ``rows`` of ``mask`` where the
    array is wide (about 1.5x faster on a ring channel's strided view)."""
    flat = _flat_rows_view(array)
    if flat is None:
        array[mask] += values
    else:
        flat[rows] += values


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
