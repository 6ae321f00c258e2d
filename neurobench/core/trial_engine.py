"""The engine of pre-sampled trial tasks: trials dealt from one stream, scored by lookup.

Trials come from the stream the seed names and are dealt to environments as they need
them: at reset trial ``i`` goes to environment ``i``; afterwards the environments whose
trials ended in a step get the next trials of the stream, in increasing environment
order. With one environment the engine runs the stream in order, so the single env, the
vector env with ``num_envs=1`` and the Dataset with ``batch_size=1`` agree step for step;
with many, it runs exactly the trials a single env with the same seed would, spread over
columns. Dealing from one stream is what makes this fast: trials are drawn in large
batches instead of one environment at a time.

Discrete rules step by a few gathers from the task's lookup table (no Python loop over
environments); the single-environment :class:`TrialSession` tabulates each chunk of
trials once and steps by list lookup, several times faster than numpy on one element.
"""

from __future__ import annotations

import operator
from typing import Any, cast

import numpy as np

from neurobench.core.engine import Engine, Session, StepResult, StepView, check_actions
from neurobench.core.errors import InvalidActionError
from neurobench.core.pool import TrialPool
from neurobench.core.rules import OUTCOME_NAMES, Move, Outcome
from neurobench.core.seeding import Seed
from neurobench.core.stream import lane_reader
from neurobench.core.task import TrialTask
from neurobench.core.trials import TrialBatch

_NONE, _CORRECT, _MISS = int(Outcome.NONE), int(Outcome.CORRECT), int(Outcome.MISS)
_END, _SKIP = int(Move.END), int(Move.SKIP)
_CODES = np.arange(len(Outcome))
_FINAL = np.where(_CODES == _NONE, _MISS, _CODES).astype(np.int8)  # per outcome code: a trial left unset is a miss
_SUCCESS = (_FINAL == _CORRECT).astype(np.float64)  # per outcome code: the score of a trial without partial credit
_LISTED_PER_PLAYED = 16  # table entries listed per step played past which reading them in place is cheaper


class TrialEngine(Engine):
    """``num_envs`` sessions of a trial task (see the module docstring)."""

    task: TrialTask

    def __init__(self, task: TrialTask, num_envs: int) -> None:
        self.task = task
        self.num_envs = int(num_envs)
        self._continuous = task.rule.continuous
        self._table = None if self._continuous else task.table
        self._batch: TrialBatch | None = None
        self._n_actions = task.n_actions
        self._step_credit: np.ndarray | None = None

    # -- contract -------------------------------------------------------------------
    def reset(
        self, seed: Seed = None, *, start: int = 0, offset: int = 0, stride: int = 1
    ) -> tuple[np.ndarray, StepView]:
        """``offset``/``stride``: deal only trials ``offset + stride * j`` of the stream."""
        n = self.num_envs
        self._pool = TrialPool(self.task, seed, n, start=start, offset=offset, stride=stride)
        self._key = self._pool.key
        self._batch = None
        self._rows = np.zeros(n, dtype=np.int64)
        self._t = np.zeros(n, dtype=np.intp)
        self._outcome = np.zeros(n, dtype=np.int8)
        self._trial_reward = np.zeros(n)
        self._response = np.full(n, -1, dtype=np.int64)
        self._answered_at = np.full(n, -1, dtype=np.int64)
        self._score = np.ones(n)
        self._deal(np.arange(n))
        self._new = np.ones(n, dtype=bool)
        return self.observe()

    def step(self, actions: np.ndarray, active: np.ndarray | None = None) -> StepResult:
        if self._batch is None:
            raise InvalidActionError("call reset() before step()")
        action = self.check(actions)
        rows, t = self._rows, self._t
        flat = rows * self._horizon + t
        target = self._target.take(flat, axis=0)
        if self._continuous:
            reward, event, ends, next_t, answered = self._respond_continuous(flat, target, action)
        else:
            reward, event, ends, next_t, answered = self._respond_discrete(flat, t, action)
        ended = ends | (next_t >= self._length.take(rows))
        if active is not None:
            reward, event = np.where(active, reward, 0.0), np.where(active, event, _NONE)
            answered, ended, next_t = answered & active, ended & active, np.where(active, next_t, t)
        np.maximum(self._outcome, event, out=self._outcome)
        self._trial_reward += reward
        if not self._continuous:  # a continuous report is no discrete answer: its response stays -1
            self._response = np.where(answered, action, self._response)
        self._answered_at = np.where(answered, t, self._answered_at)
        if not self._continuous and self._step_credit is not None:
            self._score *= np.where(answered, self._step_credit, 1.0)
        self._t = next_t
        finished = np.flatnonzero(ended)
        trials = None
        if len(finished):
            trials = self._records(rows, ended)
            self._deal(finished)
        self._new = ended.copy()
        obs, view = self.observe()
        return StepResult(obs, reward, ended, target, trials, view)

    def restart(self, envs: np.ndarray) -> None:
        interrupted = envs[self._t[envs] > 0]
        if len(interrupted):
            self._deal(interrupted)
        self._new[envs] = True

    def observe(self) -> tuple[np.ndarray, StepView]:
        flat = self._rows * self._horizon + self._t
        target = self._target.take(flat, axis=0)
        batch = cast(TrialBatch, self._batch)  # dealt by reset()
        view = StepView(batch.index.take(self._rows), self._t.copy(), target, self._window.take(flat), self._new.copy())
        return self._obs.take(flat, axis=0), view

    def periods(self) -> np.ndarray:
        return cast(TrialBatch, self._batch).period_at(self._rows, self._t, self.task.period_names)

    def check(self, actions: Any) -> np.ndarray:
        return check_actions(self.task, actions, self.num_envs)

    # -- responses ------------------------------------------------------------------
    def _respond_discrete(
        self, flat: np.ndarray, t: np.ndarray, action: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        table = self._table
        assert table is not None
        key = self._first_key.take(flat) + action  # a table's keys of one state are consecutive, by action
        reward, event = table.reward.take(key), table.event.take(key)
        answered = table.answered.take(key)
        per_action = flat * self._n_actions + action
        if self._payoff is not None:
            reward = np.where(answered, self._payoff.take(per_action), reward)
        self._step_credit = None if self._credit is None else self._credit.take(per_action)
        if self._step_credit is not None:  # partial credit: an answer that earns some is a success
            event = np.where(answered, np.where(self._step_credit > 0, Outcome.CORRECT, Outcome.FAIL), event)
        next_t = t + 1
        if self._resume is not None:
            where = per_action if self._resume_per_action else flat
            next_t = np.where(table.skips.take(key), self._resume.take(where), next_t)
        return reward, event, table.ends.take(key), next_t, answered

    def _respond_continuous(
        self, flat: np.ndarray, target: np.ndarray, action: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        reward, event, move = self.task.rule.respond(self._phase.take(flat), target, action)
        answered = (event == Outcome.CORRECT) | (event == Outcome.FAIL)
        return reward, event, move == _END, self._t + 1, answered

    # -- trial dealing -------------------------------------------------------------
    def _deal(self, columns: np.ndarray) -> None:
        """Give the next trials to ``columns``."""
        rows, self._rows = self._pool.deal(columns, self._rows)
        self._rows[columns] = rows
        if self._pool.batch is not self._batch:
            self._use_batch(self._pool.batch)
        self._t[columns] = 0
        self._outcome[columns] = _NONE
        self._trial_reward[columns] = 0.0
        self._response[columns] = -1
        self._answered_at[columns] = -1
        self._score[columns] = 1.0

    def _use_batch(self, batch: TrialBatch) -> None:
        """Trials in play and in reserve, with flat views for one-call gathers."""
        self._batch = batch
        self._horizon = batch.max_length
        self._obs = batch.obs.reshape(-1, batch.obs.shape[-1])
        self._target = batch.target.reshape(batch.n * batch.max_length, *batch.target.shape[2:])
        self._phase = batch.phase.reshape(-1)
        if self._table is not None:
            self._first_key = self._table.keys(self._table.states(batch.phase, batch.target), 0).reshape(-1)
        self._resume = None if batch.resume is None else batch.resume.reshape(-1)
        self._resume_per_action = batch.resume is not None and batch.resume.ndim == 3
        self._payoff = None if batch.payoff is None else batch.payoff.reshape(-1)
        self._credit = None if batch.credit is None else batch.credit.reshape(-1)
        self._length = batch.length
        window = window_codes(self.task, batch.phase)
        self._window = window.reshape(-1)
        self._opened = np.argmax(window > 0, axis=1)  # each trial's first response-window step

    def _records(self, rows: np.ndarray, ended: np.ndarray) -> dict[str, np.ndarray]:
        """Per-environment records of the trials that ended (meaningful where ``ended``).
        Every trial passes the last step of a response window or answers, so its
        outcome is set; one that somehow is not counts as a miss."""
        outcome = _FINAL.take(self._outcome)
        score = _SUCCESS.take(self._outcome) if self._credit is None else np.where(outcome >= _MISS, 0.0, self._score)
        batch = cast(TrialBatch, self._batch)  # trials end only after reset() dealt them
        records = {
            "index": batch.index.take(rows),
            "outcome": outcome,
            "reward": self._trial_reward.copy(),
            "score": score,
            "response": self._response.copy(),
            "rt": self._reaction_times(rows, ended),
        }
        records.update({name: values.take(rows, axis=0) for name, values in batch.conditions.items()})
        return records

    def _reaction_times(self, rows: np.ndarray, ended: np.ndarray) -> np.ndarray:
        """ms from the first step of the trial's first response window to the answer (the
        step that gave it included); -1 without an answer, and where no trial ended."""
        answered = ended & (self._answered_at >= 0)
        return np.where(answered, (self._answered_at - self._opened.take(rows) + 1) * self.task.dt, -1.0)


def window_codes(task: TrialTask, phase: np.ndarray) -> np.ndarray:
    """Response-window codes (0 outside, 1 inside, 2 on a window's last step) of ``phase``
    codes: read from the lookup table for discrete rules, from the rule for continuous ones."""
    return task.rule.window_code(phase) if task.rule.continuous else task.table.window.take(phase)


def tabulate(task: TrialTask, chunk: TrialBatch) -> dict[str, np.ndarray]:
    """Reward, event, next-step and answered tables ``[n, T, n_actions]`` for every trial,
    step and action of a chunk (and credits where the task gives them): stepping is then
    a lookup."""
    table = task.table
    n_actions = table.n_actions
    keys = table.keys(table.states(chunk.phase, chunk.target)[..., None], np.arange(n_actions))
    reward, event, move = table.reward.take(keys), table.event.take(keys), table.move.take(keys)
    answered = table.answered.take(keys)
    if chunk.payoff is not None:
        reward = np.where(answered, chunk.payoff, reward)
    t = np.arange(chunk.max_length)[None, :, None]
    next_t = np.where(move == _END, chunk.length[:, None, None], t + 1)
    if chunk.resume is not None:
        resume = chunk.resume if chunk.resume.ndim == 3 else chunk.resume[..., None]
        next_t = np.where(move == _SKIP, resume, next_t)
    out = {"reward": reward, "event": event, "next": next_t, "answered": answered}
    if chunk.credit is not None:  # partial credit: an answer that earns some is a success (the sure bet)
        out["credit"] = np.where(answered, chunk.credit, 1.0)
        out["event"] = np.where(answered, np.where(chunk.credit > 0, Outcome.CORRECT, Outcome.FAIL), event)
    return out


def oracle_steps(task: TrialTask, batch: TrialBatch) -> np.ndarray:
    """Boolean ``[n, T]``: the steps of each trial that an agent always taking the target
    action goes through (an answer that ends the trial, skips the rest of its window or
    picks a branch leaves the steps it jumps over unvisited).

    The path is followed jump by jump, for all trials at once: between jumps it runs
    through consecutive steps, so the loop turns once per response of the longest path."""
    if task.rule.continuous:
        return np.arange(batch.max_length)[None, :] < _continuous_end(task, batch)[:, None]
    horizon = batch.max_length
    next_t = np.take_along_axis(tabulate(task, batch)["next"], batch.target[..., None], axis=2)[..., 0]
    t = np.arange(horizon)
    jumps = next_t != t[None, :] + 1
    first_jump = np.minimum.accumulate(np.where(jumps, t[None, :], horizon)[:, ::-1], axis=1)[:, ::-1]
    rows = np.arange(batch.n)
    visited = np.zeros((batch.n, horizon), dtype=bool)
    current = np.zeros(batch.n, dtype=np.int64)
    alive = current < batch.length
    while alive.any():
        here = np.minimum(current, horizon - 1)
        stop = np.minimum(first_jump[rows, here], batch.length - 1)
        visited |= alive[:, None] & (t[None, :] >= current[:, None]) & (t[None, :] <= stop[:, None])
        current = np.where(alive, next_t[rows, stop], current)
        alive = current < batch.length
    return visited


def _continuous_end(task: TrialTask, batch: TrialBatch) -> np.ndarray:
    """Where a continuous-report trial ends for an agent that always reports the target:
    the rule's first ending response along the trial (any continuous rule), else its end."""
    response = task.rule.respond(batch.phase, batch.target, batch.target)
    valid = np.arange(batch.max_length)[None, :] < batch.length[:, None]
    ends = (response.move == _END) & valid
    return np.where(ends.any(axis=1), np.argmax(ends, axis=1) + 1, batch.length)


class TrialSession(Session):
    """One environment of a trial task, stepped by list lookup (see the module docstring)."""

    task: TrialTask
    # the current trial's tables: flat lists, or [steps, actions] arrays read in place
    _reward: Any
    _event: Any
    _next: Any
    _answered: Any
    _credit: Any
    # the current trial's running totals (set by _begin_trial)
    _outcome: int
    _trial_reward: float
    _score: float
    _base: int  # where the current trial's entries start in the chunk's flat tables

    def __init__(self, task: TrialTask) -> None:
        self.task = task
        self._n_actions = task.n_actions
        self._continuous = task.rule.continuous
        self._lazy = False  # see _begin_trial
        self._next_batch: Any = None
        self._chunk: TrialBatch | None = None
        self._chunk_n = 0  # trials in the chunk (0 before the first: _begin_trial draws one)
        self._dt = task.dt
        self._t = 0
        self._listed = self._played = 0  # the last chunk's table entries and the steps played in it
        if self._continuous:
            space = task.action_space
            self._low, self._high = space.low.tolist(), space.high.tolist()  # type: ignore[attr-defined]
            self._shape = (self._n_actions,)

    def reset(self, seed: Seed = None) -> tuple[np.ndarray, dict[str, Any]]:
        self.key, self._next_batch = lane_reader(self.task, seed)
        self._chunk, self._chunk_n = None, 0
        self._row = -1
        self._begin_trial()
        return self._obs[0], self._info(0, True)

    def restart(self) -> dict[str, Any]:
        if self._next_batch is None:
            raise InvalidActionError("call reset() before restart()")
        if self._t > 0:  # abandon the interrupted trial; a trial not yet begun is kept
            self._begin_trial()
        return {**self._info(0, True), "obs": self._obs[0]}

    def period(self) -> int:
        assert self._chunk is not None
        rows = np.array([self._row])
        return int(self._chunk.period_at(rows, np.array([self._t]), self.task.period_names)[0])

    def step(self, action: Any) -> tuple[np.ndarray, float, dict[str, Any]]:
        if self._next_batch is None:
            raise InvalidActionError("call reset() before step()")
        t = self._t
        if self._continuous:
            values = self._checked_continuous(action)
            reward, event, move = self.task.rule.respond_one(self._phase[t], self._target[t], values)  # type: ignore[attr-defined]
            next_t = self._length if move == _END else t + 1
            answered = event in (1, 2)
            response = -1
        else:
            try:
                a = operator.index(action)
            except TypeError:
                a = -1
            if not 0 <= a < self._n_actions:
                raise check_error(self.task, action)
            if self._lazy:  # wide tables: read the one entry in place
                reward = self._reward.item(t, a)
                event = self._event.item(t, a)
                next_t = self._next.item(t, a)
                answered = self._answered.item(t, a)
            else:  # the chunk's flat lists, from this trial's first entry
                k = self._base + t * self._n_actions + a
                reward = self._reward[k]
                event = self._event[k]
                next_t = self._next[k]
                answered = self._answered[k]
            response = a
            if answered and self._credit is not None:
                self._score *= self._credit.item(t, a) if self._lazy else self._credit[k]
        if event > self._outcome:
            self._outcome = event
        if answered:
            self._response = response
            self._answered_at = t
        self._trial_reward += reward
        gt = self._target[t]
        if next_t >= self._length:
            self._played += t + 1
            record = self._trial_record()
            self._begin_trial()
            info = {  # _info(0, True) and the record, inlined: one-step trials (bandits) come here every step
                "target": self._target[0],
                "window": self._window[0],
                "step": 0,
                "trial_index": self._index,
                "new_trial": True,
                "trial": record,
                "gt": gt,
            }
            return self._obs[0], reward, info
        self._t = next_t
        info = {  # _info(next_t, False), inlined: this is the single env's hot path
            "target": self._target[next_t],
            "window": self._window[next_t],
            "step": next_t,
            "trial_index": self._index,
            "new_trial": False,
            "gt": gt,
        }
        return self._obs[next_t], reward, info

    # -- internals -----------------------------------------------------------------
    def _info(self, t: int, new_trial: bool) -> dict[str, Any]:
        return {
            "target": self._target[t],
            "window": self._window[t],
            "step": t,
            "trial_index": self._index,
            "new_trial": new_trial,
        }

    def _begin_trial(self) -> None:
        """Move to the next trial of the stream, drawing a new chunk when needed."""
        self._row = row = self._row + 1
        if row >= self._chunk_n:
            self._use_chunk(self._next_batch())
            row = 0
        chunk: TrialBatch = self._chunk  # type: ignore[assignment]  # set by _use_chunk
        self._length = length = self._lengths[row]
        self._obs = chunk.obs[row]
        self._index = self._indices[row]
        first = row * self._horizon  # the trial's first step in the chunk's flat lists
        self._window = self._windows[first : first + length]
        if self._continuous:  # continuous rules respond by phase
            self._target = chunk.target[row, :length].tolist()
            self._phase = chunk.phase[row, :length].tolist()
        else:
            self._target = self._targets[first : first + length]
            if self._lazy:  # wide tables are read in place (see _use_chunk)
                tables = self._tables
                self._reward, self._event = tables["reward"][row], tables["event"][row]
                self._next, self._answered = tables["next"][row], tables["answered"][row]
                self._credit = tables["credit"][row] if "credit" in tables else None
            else:  # the trial's [steps x actions] entries start here in the chunk's flat lists
                self._base = first * self._n_actions
        self._t = 0
        self._outcome = 0  # worst event so far (an Outcome code, as a plain int for speed)
        self._trial_reward = 0.0
        self._response = -1
        self._answered_at = -1
        self._score = 1.0

    def _use_chunk(self, chunk: TrialBatch) -> None:
        """Convert a new chunk's per-trial values to flat lists once: indexing lists is
        several times faster than numpy scalars, and a slice per trial costs far less than
        a conversion per trial, which is what keeps one-step trials (bandits) cheap. Flat,
        not nested: millions of small lists would wake the garbage collector.

        Listing pays for every table entry (steps x actions) of every trial, about 15 ns
        each; reading in place only for the entries played, about 60 ns each (a list
        index: 12). So tables stay arrays, read entry by entry, where more than
        ``_LISTED_PER_PLAYED`` entries would be listed per step played: wide action spaces
        (the 33 ring outputs of Yang et al.'s tasks), and the chunk after one whose trials
        mostly ended early (a random player of ToneDetection leaves 3 trials in 4 at their
        first step). Long trials on few actions (PulseDecisionMaking: 250 steps x 3) are
        listed. Either way the values are the same; only the speed differs."""
        self._chunk = chunk
        self._chunk_n = chunk.n
        self._row = 0
        self._horizon = chunk.max_length
        self._lengths, self._indices = chunk.length.tolist(), chunk.index.tolist()
        self._conditions = [(name, *_per_trial(values)) for name, values in chunk.conditions.items()]
        windows = window_codes(self.task, chunk.phase)
        self._windows = windows.reshape(-1).tolist()
        self._opened = np.argmax(windows > 0, axis=1).tolist()  # each trial's first response-window step
        if self._continuous:
            return
        self._targets = chunk.target.reshape(-1).tolist()
        self._tables = tabulate(self.task, chunk)
        listed = chunk.n * chunk.max_length * self._n_actions
        # Measured on the last chunk's play (trials that ended early count); before any play,
        # estimated as if every trial ran to its end.
        per_played = self._listed / self._played if self._played else listed / max(int(chunk.length.sum()), 1)
        self._listed, self._played = listed, 0
        self._lazy = per_played > _LISTED_PER_PLAYED
        if not self._lazy:
            flat = {name: table.reshape(-1).tolist() for name, table in self._tables.items()}
            self._reward, self._event, self._next, self._answered = (
                flat["reward"],
                flat["event"],
                flat["next"],
                flat["answered"],
            )
            self._credit = flat.get("credit")

    def _trial_record(self) -> dict[str, Any]:
        outcome = self._outcome or _MISS
        if self._continuous or self._credit is None:
            score = 1.0 if outcome == _CORRECT else 0.0
        else:
            score = 0.0 if outcome >= _MISS else self._score
        row, answered_at = self._row, self._answered_at
        record = {
            "index": self._index,
            "outcome": OUTCOME_NAMES[outcome],
            "reward": self._trial_reward,
            "score": score,
            "response": self._response,
            "rt": -1.0 if answered_at < 0 else float((answered_at - self._opened[row] + 1) * self._dt),
        }
        for name, values, width in self._conditions:
            record[name] = values[row * width : (row + 1) * width] if width else values[row]
        return record

    def _checked_continuous(self, action: Any) -> list[float]:
        if isinstance(action, np.ndarray) and action.dtype.kind == "f" and action.shape == self._shape:
            floats = action.tolist()  # the common case, converted in one call
        else:
            values = action.tolist() if isinstance(action, np.ndarray) else action
            try:
                floats = [float(v) for v in values]
            except (TypeError, ValueError):  # not a sequence of numbers
                floats = []
            if len(floats) != self._n_actions:
                raise self._continuous_error(action)
        for v, lo, hi in zip(floats, self._low, self._high):  # noqa: B905 (lengths checked above)
            if not lo <= v <= hi:  # NaN fails every comparison
                raise self._continuous_error(action)
        return floats

    def _continuous_error(self, action: Any) -> InvalidActionError:
        return InvalidActionError(
            f"action {action!r} is not in {self.task.action_space} of {self.task.name}: give {self._n_actions} "
            f"finite numbers within [{self._low}, {self._high}]"
        )


def _per_trial(values: np.ndarray) -> tuple[list[Any], int]:
    """A chunk's condition values as the single env reads them per trial: a list and the
    width of a trial's values in it. Rows of a two-dimensional condition are slices of one
    flat list (width > 0), not a nested list: that would leave one small list per trial
    alive for the chunk's lifetime, and the garbage collector's full passes over them cost
    one-step trials (bandits) a third of their speed. Other conditions are read by index
    (width 0)."""
    if values.ndim == 2:
        return values.reshape(-1).tolist(), values.shape[1]
    return values.tolist(), 0


def check_error(task: TrialTask, action: Any) -> InvalidActionError:
    names = ", ".join(f"{i}={label}" for i, label in enumerate(task.action_channels.labels()))
    return InvalidActionError(
        f"action {action!r} is not in the action space Discrete({task.n_actions}) of {task.name}; "
        f"valid actions: {names}"
    )
