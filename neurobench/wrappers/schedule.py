"""Schedules across trials: several tasks for one agent, or one parameter across blocks.

``MultiTask`` interleaves tasks trial by trial (NeuroGym's ScheduleEnvs; the setting of
Yang et al. 2019): observations and actions are padded to the largest task's, a one-hot
rule input can say which task is on, and each trial is scored by its own task's rule.
Schedules nest (a MultiTask of MultiTasks): padding, rule inputs and phase codes are
composed level by level, so every trial keeps its own sizes and scoring.

``ScheduleAttr`` switches one parameter of a task across blocks of trials.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from neurobench.core.channels import Channels
from neurobench.core.checks import check_int
from neurobench.core.errors import InvalidParameterError, UnknownNameError
from neurobench.core.registry import make_task, register
from neurobench.core.rules import Response, ResponseRule
from neurobench.core.task import Ceiling, Paper, Task
from neurobench.core.trials import TrialBatch
from neurobench.wrappers.base import TaskWrapper

SCHEDULES = ("random", "sequential", "blocks")


def schedule_ids(
    kind: str, k: int, n: int, block_length: int, rng: np.random.Generator, carry: Any
) -> tuple[np.ndarray, Any]:
    """Which of ``k`` options each of ``n`` trials uses; ``carry`` continues the order."""
    if kind == "random":
        return rng.integers(k, size=n), carry
    start = 0 if carry is None else carry
    position = start + np.arange(n)
    ids = position % k if kind == "sequential" else (position // block_length) % k
    return ids, start + n


def assemble(parts: Mapping[int, TrialBatch], ids: np.ndarray) -> TrialBatch:
    """One batch with the trials of ``parts[k]`` at the positions where ``ids == k``."""
    keys = sorted(parts)
    batch = TrialBatch.concat([parts[k] for k in keys])
    offsets = np.cumsum([0] + [parts[k].n for k in keys])
    order = np.empty(len(ids), dtype=np.int64)
    for k, offset in zip(keys, offsets, strict=False):
        order[ids == k] = offset + np.arange(parts[k].n)
    return batch.take(order)


class CompositeRule(ResponseRule):
    """Scores each trial with the rule of its own task: task ``k``'s phase codes are
    shifted by the number of phase codes of the tasks before it."""

    def __init__(self, rules: Sequence[ResponseRule]) -> None:
        self.rules = tuple(rules)
        self.offsets = np.cumsum([0] + [r.n_phases for r in self.rules])
        self.n_phases = int(self.offsets[-1])

    def phases(self, trials: Any) -> tuple[np.ndarray, np.ndarray | None]:
        raise TypeError("a composite rule takes its phase codes from its tasks' own trials, it makes none")

    def _split(self, phase: np.ndarray) -> list[tuple[np.ndarray, ResponseRule, np.ndarray]]:
        return [
            ((phase >= start) & (phase < stop), rule, phase - start)
            for rule, start, stop in zip(self.rules, self.offsets[:-1], self.offsets[1:], strict=True)
        ]

    def respond(self, phase: np.ndarray, target: np.ndarray, action: np.ndarray) -> Response:
        shape = np.broadcast_shapes(np.shape(phase), np.shape(target), np.shape(action))
        reward, event, move = np.zeros(shape), np.zeros(shape, np.int8), np.zeros(shape, np.int8)
        for mask, rule, local in self._split(phase):
            inside = np.broadcast_to(mask, shape)
            part = rule.respond(np.where(mask, local, 0), target, action)
            for out, values in zip((reward, event, move), part, strict=True):
                np.copyto(out, np.broadcast_to(values, shape), where=inside)
        return Response(reward, event, move)

    def window_code(self, phase: np.ndarray) -> np.ndarray:
        code = np.zeros(np.shape(phase), dtype=np.int8)
        for mask, rule, local in self._split(phase):
            np.copyto(code, rule.window_code(np.where(mask, local, 0)), where=mask)
        return code


@register
@dataclass(frozen=True, kw_only=True, eq=False)
class MultiTask(Task):
    """Several tasks interleaved across trials for one agent, with a rule input.

    ``tasks`` are Task objects or ``{"name": ..., "params": {...}}`` specs (for configs).
    ``schedule``: ``random`` (each trial's task drawn uniformly), ``sequential`` (round
    robin) or ``blocks`` (``block_length`` trials of each task in turn). With
    ``rule_input`` a one-hot ``rule`` input names the current task throughout the trial.
    """

    family: ClassVar[str] = "multitask"
    paper: ClassVar[Paper] = Paper(
        "Yang et al. (2019)",
        "Task representations in neural networks trained to perform many cognitive tasks",
        "https://www.nature.com/articles/s41593-018-0310-2",
    )
    default_timing: ClassVar = {}

    tasks: tuple[Any, ...] = ("PerceptualDecisionMaking", "DelayMatchSample")
    schedule: str = "random"
    block_length: int = 50
    rule_input: bool = True

    def __post_init__(self) -> None:
        built = tuple(_build(spec) for spec in self.tasks)
        if not built:
            raise InvalidParameterError("MultiTask needs at least one task, got none")
        dts = {t.dt for t in built}
        if len(dts) > 1:
            raise InvalidParameterError(
                f"MultiTask tasks must share dt; got {sorted(dts)} for {[t.name for t in built]}"
            )
        if self.schedule not in SCHEDULES:
            raise UnknownNameError("schedule", self.schedule, SCHEDULES)
        check_int("block_length", self.block_length, minimum=1)
        object.__setattr__(self, "tasks", built)
        object.__setattr__(self, "dt", built[0].dt)
        object.__setattr__(self, "timing", {})
        object.__setattr__(self, "rewards", {})

    @property
    def name(self) -> str:
        return f"MultiTask({', '.join(t.name for t in self.tasks)})"

    @property
    def obs_channels(self) -> Channels:
        width = max(t.obs_channels.size for t in self.tasks)
        widths = {"fixation": 1, **({"inputs": width - 1} if width > 1 else {})}
        return Channels(**widths, **({"rule": len(self.tasks)} if self.rule_input else {}))

    @property
    def action_channels(self) -> Channels:
        return Channels(fixation=1, choice=max(int(t.action_space.n) for t in self.tasks) - 1)

    @cached_property
    def observation_space(self) -> gym.spaces.Box:
        size = self.obs_channels.size
        low, high = np.zeros(size, np.float32), np.zeros(size, np.float32)
        for t in self.tasks:
            d = t.obs_channels.size
            low[:d] = np.minimum(low[:d], t.observation_space.low)
            high[:d] = np.maximum(high[:d], t.observation_space.high)
        if self.rule_input:
            high[self.obs_channels["rule"]] = 1.0
        return gym.spaces.Box(low, high, dtype=np.float32)

    @cached_property
    def rule(self) -> ResponseRule:
        return CompositeRule([t.rule for t in self.tasks])

    @cached_property
    def mean_steps(self) -> float:
        return float(np.mean([t.mean_steps for t in self.tasks]))

    @property
    def chance(self) -> float:
        return float(np.mean([t.chance for t in self.tasks]))

    @property
    def noise_std(self) -> float:
        return max(t.noise_std for t in self.tasks)

    def _ceiling(self) -> Ceiling:
        values = [t.ceiling().value for t in self.tasks]
        return Ceiling(float(np.mean(values)), "mean of the tasks' ceilings (each task is on equally often)")

    def params(self) -> dict[str, Any]:
        return {
            "tasks": [{"name": t.name, "params": t.params()} for t in self.tasks],
            "schedule": self.schedule,
            "block_length": self.block_length,
            "rule_input": self.rule_input,
        }

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        return self.sample_sequence(rng, n, None)[0]

    def sample_sequence(self, rng: np.random.Generator, n: int, carry: Any) -> tuple[TrialBatch, Any]:
        own, inner = carry if carry is not None else (None, [None] * len(self.tasks))
        ids, own = schedule_ids(self.schedule, len(self.tasks), n, self.block_length, rng, own)
        parts, inner = {}, list(inner)
        for k, task in enumerate(self.tasks):
            count = int(np.sum(ids == k))
            if count:  # a task not scheduled in this chunk draws nothing, keeping its stream
                part, inner[k] = task.sample_sequence(rng, count, inner[k])
                parts[k] = self._lift(k, part)
        return assemble(parts, ids), (own, inner)

    @cached_property
    def _condition_keys(self) -> list[list[str]]:
        """Each task's scalar numeric conditions (kept, as floats, NaN for other tasks)."""
        keys = []
        for task in self.tasks:
            probe = task.sample(np.random.default_rng(0), 2).conditions
            keys.append([k for k, v in probe.items() if v.ndim == 1 and np.issubdtype(v.dtype, np.number)])
        return keys

    def _lift(self, k: int, part: TrialBatch) -> TrialBatch:
        """Task ``k``'s trials in the union layout: padded inputs, rule input, shifted
        phases, every period name, prefixed conditions."""
        task = self.tasks[k]
        obs = np.zeros((part.n, part.max_length, self.obs_channels.size), dtype=np.float32)
        obs[..., : task.obs_channels.size] = part.obs
        valid = np.arange(part.max_length)[None, :] < part.length[:, None]
        if self.rule_input:
            obs[..., self.obs_channels["rule"].start + k] = valid
        phase = (part.phase.astype(np.int16) + int(self.rule.offsets[k])) * valid  # type: ignore[attr-defined]
        periods = {name: (part.length, part.length) for t in self.tasks for name in t_periods(t)}
        periods.update(part.periods)
        conditions: dict[str, np.ndarray] = {"task": np.full(part.n, k)}
        for j, other in enumerate(self.tasks):
            for key in self._condition_keys[j]:
                values = part.conditions[key].astype(float) if j == k else np.full(part.n, np.nan)
                conditions[f"{other.name}.{key}"] = values
        return dataclasses.replace(part, obs=obs, phase=phase.astype(np.int16), periods=periods, conditions=conditions)


def t_periods(task: Task) -> list[str]:
    """Period names a task's trials carry."""
    if isinstance(task, MultiTask):
        return [name for sub in task.tasks for name in t_periods(sub)]
    return list(task.timing)  # type: ignore[arg-type]


def _build(spec: Any) -> Task:
    if isinstance(spec, Task):
        return spec
    if isinstance(spec, str):
        return make_task(spec)
    if isinstance(spec, Mapping) and "name" in spec and set(spec) <= {"name", "params"}:
        return make_task(spec["name"], **dict(spec.get("params") or {}))
    raise InvalidParameterError(f"a MultiTask task must be a Task, a name or {{name, params}}, got {spec!r}")


@dataclass(frozen=True, eq=False)
class ScheduleAttr(TaskWrapper):
    """One parameter of a task switched across trials (e.g. coherence sets, noise
    levels, reward sizes): with ``order="blocks"`` each value holds for ``block_length``
    trials in turn; ``sequential`` alternates values trial by trial, ``random`` draws each
    trial's value. The condition ``block_value`` is each trial's value index."""

    attribute: str = "sigma"
    values: tuple[Any, ...] = (0.5, 1.0)
    block_length: int = 100
    order: str = "blocks"

    def validate(self) -> None:
        fields = {f.name for f in dataclasses.fields(self.task)}
        if self.attribute not in fields:
            raise UnknownNameError(f"parameter of {self.task.name}", self.attribute, fields)
        if not self.values:
            raise InvalidParameterError("ScheduleAttr needs at least one value")
        if self.order not in SCHEDULES:
            raise UnknownNameError("order", self.order, SCHEDULES)
        check_int("block_length", self.block_length, minimum=1)
        spaces = {(v.observation_space.shape, int(v.action_space.n)) for v in self.variants}
        if len(spaces) > 1:
            raise InvalidParameterError(f"values of {self.attribute!r} change the spaces of {self.task.name}")

    @cached_property
    def variants(self) -> tuple[Task, ...]:
        return tuple(make_task(self.task, **{self.attribute: value}) for value in self.values)

    @cached_property
    def observation_space(self) -> gym.spaces.Box:
        low = np.min([v.observation_space.low for v in self.variants], axis=0)
        high = np.max([v.observation_space.high for v in self.variants], axis=0)
        return gym.spaces.Box(low, high, dtype=np.float32)

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        return self.sample_sequence(rng, n, None)[0]

    def sample_sequence(self, rng: np.random.Generator, n: int, carry: Any) -> tuple[TrialBatch, Any]:
        ids, carry = schedule_ids(self.order, len(self.variants), n, self.block_length, rng, carry)
        parts = {}
        for k, variant in enumerate(self.variants):
            count = int(np.sum(ids == k))
            if count:
                part = variant.sample(rng, count)
                parts[k] = dataclasses.replace(part, conditions={**part.conditions, "block_value": np.full(count, k)})
        return assemble(parts, ids), carry

    def _ceiling(self) -> Ceiling:
        values = [v.ceiling().value for v in self.variants]
        return Ceiling(float(np.mean(values)), f"mean of the ceilings at each value of {self.attribute}")
