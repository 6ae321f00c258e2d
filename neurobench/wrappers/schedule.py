"""Schedules across trials: several tasks for one agent, or one parameter across blocks.

``MultiTask`` interleaves tasks trial by trial (NeuroGym's ScheduleEnvs; the setting of
Yang et al. 2019): observations and actions are padded to the largest task's, a one-hot
rule input can say which task is on, and each trial is scored by its own task's rule.
Schedules nest (a MultiTask of MultiTasks): padding, rule inputs and phase codes are
composed level by level, so every trial keeps its own sizes and scoring, and the
observation has the same size on every step.

``ScheduleAttr`` switches one parameter of a task across blocks of trials.

Both place trials by their position in the stream (``start``), so a chunk of trials is
found without drawing the chunks before it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import gymnasium as gym
import numpy as np

from neurobench.core.channels import Channels
from neurobench.core.checks import check_int
from neurobench.core.errors import InvalidParameterError, UnknownNameError
from neurobench.core.rules import Response, ResponseRule
from neurobench.core.task import STREAMS, Level, TrialTask, plain
from neurobench.core.timing import Duration
from neurobench.core.trials import TrialBatch
from neurobench.wrappers.base import TaskWrapper

if TYPE_CHECKING:
    from neurobench.agents.base import Agent
    from neurobench.core.registry import TaskSpec

SCHEDULES = ("random", "sequential", "blocks")


def schedule_ids(
    kind: str,
    k: int,
    n: int,
    block_length: int,
    rng: np.random.Generator,
    start: int,
    weights: np.ndarray | None = None,
) -> np.ndarray:
    """Which of ``k`` options each of trials ``start .. start + n - 1`` uses (``random``:
    uniformly, or in proportion to ``weights``)."""
    if kind == "random":
        return rng.integers(k, size=n) if weights is None else rng.choice(k, size=n, p=weights / weights.sum())
    position = start + np.arange(n)
    return position % k if kind == "sequential" else (position // block_length) % k


def assemble(parts: Mapping[int, TrialBatch], ids: np.ndarray) -> TrialBatch:
    """One batch with the trials of ``parts[k]`` at the positions where ``ids == k``."""
    return TrialBatch.interleave({k: parts[k] for k in sorted(parts)}, ids)


class CompositeRule(ResponseRule):
    """Scores each trial with the rule of its own task: task ``k``'s phase codes are
    shifted by ``k * N_PHASES`` (the low bits, which hold a code's kind and flags, stay)."""

    def __init__(self, rules: Sequence[ResponseRule]) -> None:
        self.rules = tuple(rules)
        self.offsets = np.cumsum([0] + [r.n_phases for r in self.rules])
        self.n_phases = int(self.offsets[-1])
        self.continuous = any(r.continuous for r in self.rules)

    def phases(self, trials: Any) -> tuple[np.ndarray, np.ndarray | None]:
        raise TypeError("a composite rule takes its phase codes from its tasks' own trials, it makes none")

    def respond(self, phase: np.ndarray, target: np.ndarray, action: np.ndarray) -> Response:
        """Each rule sees only its own task's steps, so the cost stays one pass over the
        steps however many tasks there are (Mod-Cog has 93)."""
        phase, target, action = np.broadcast_arrays(np.asarray(phase), np.asarray(target), np.asarray(action))
        shape = phase.shape
        phase, target, action = phase.ravel(), target.ravel(), action.ravel()
        owner = np.searchsorted(self.offsets, phase, side="right") - 1
        order = np.argsort(owner, kind="stable")  # steps grouped by task; a sorted input costs one pass
        bounds = np.searchsorted(owner[order], np.arange(len(self.rules) + 1))
        reward, event, move = np.zeros(phase.size), np.zeros(phase.size, np.int8), np.zeros(phase.size, np.int8)
        for rule, start, lo, hi in zip(self.rules, self.offsets[:-1], bounds[:-1], bounds[1:], strict=True):
            if hi == lo:
                continue
            steps = order[lo:hi]
            part = rule.respond(phase[steps] - start, target[steps], action[steps])
            reward[steps], event[steps], move[steps] = (np.broadcast_to(v, (hi - lo,)) for v in part)
        return Response(reward.reshape(shape), event.reshape(shape), move.reshape(shape))


@dataclass(frozen=True, kw_only=True, eq=False)
class MultiTask(TrialTask):
    """Several tasks interleaved across trials for one agent, with a rule input.

    ``tasks`` are tasks, names or nested task data. ``schedule``: ``random`` (each trial's
    task drawn uniformly, or in proportion to ``weights``), ``sequential`` (round robin)
    or ``blocks`` (``block_length`` trials of each task in turn). With ``rule_input`` a
    one-hot ``rule`` input names the current task throughout the trial. The condition
    ``task`` is each trial's task index.
    """

    tasks: tuple[Any, ...] = ("PerceptualDecisionMaking", "DelayMatchSample")
    schedule: str = "random"
    block_length: int = 50
    rule_input: bool = True
    weights: tuple[float, ...] | None = None
    stream: str = "keyed"
    spec: TaskSpec | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        from neurobench.core.registry import build

        if isinstance(self.tasks, str | Mapping) or not isinstance(self.tasks, Sequence):
            raise InvalidParameterError(f"MultiTask tasks must be a list of tasks, got {self.tasks!r:.80}")
        built = tuple(build(t) for t in self.tasks)
        if not built:
            raise InvalidParameterError("MultiTask needs at least one task, got none")
        for task in built:
            if not isinstance(task, TrialTask) or task.sequential or task.continuous or not task.supervised:
                raise InvalidParameterError(
                    f"MultiTask interleaves independent trials with discrete actions; {task.name} is not such a task"
                )
        dts = {t.dt for t in built}
        if len(dts) > 1:
            raise InvalidParameterError(
                f"MultiTask tasks must share dt; got {sorted(dts)} for {[t.name for t in built]}"
            )
        if self.schedule not in SCHEDULES:
            raise UnknownNameError("schedule", self.schedule, SCHEDULES)
        if self.stream not in STREAMS:
            raise UnknownNameError("stream of MultiTask", self.stream, STREAMS)
        check_int("block_length", self.block_length, minimum=1)
        if self.weights is not None:
            weights = np.asarray(self.weights, dtype=float)
            if weights.shape != (len(built),) or not np.all(np.isfinite(weights)) or np.any(weights <= 0):
                raise InvalidParameterError(
                    f"weights of MultiTask must be {len(built)} positive numbers (one per task), got {self.weights!r}"
                )
            if self.schedule != "random":
                raise InvalidParameterError(f"weights apply to the random schedule, not to {self.schedule!r}")
            object.__setattr__(self, "weights", tuple(float(w) for w in weights))
        object.__setattr__(self, "tasks", built)

    @property
    def name(self) -> str:
        base = self.spec.name if self.spec is not None else "MultiTask"
        return f"{base}({', '.join(t.name for t in self.tasks)})"

    @property
    def dt(self) -> float:  # type: ignore[override]
        return self.tasks[0].dt

    @property
    def timing(self) -> Mapping[str, Duration]:
        return {}

    @property
    def periods(self) -> tuple[str, ...]:
        return ()

    @cached_property
    def period_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(name for t in self.tasks for name in t.period_names))

    @property
    def obs_channels(self) -> Channels:
        width = max(t.obs_channels.size for t in self.tasks)
        widths = {"fixation": 1, **({"inputs": width - 1} if width > 1 else {})}
        return Channels(**widths, **({"rule": len(self.tasks)} if self.rule_input else {}))

    @property
    def action_channels(self) -> Channels:
        return Channels(fixation=1, choice=max(t.n_actions for t in self.tasks) - 1)

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
    def action_space(self) -> gym.spaces.Space:
        return gym.spaces.Discrete(self.action_channels.size)

    @cached_property
    def rule(self) -> ResponseRule:
        return CompositeRule([t.rule for t in self.tasks])

    @cached_property
    def mean_steps(self) -> float:
        return float(np.mean([t.mean_steps for t in self.tasks]))

    @property
    def noise_std(self) -> float:
        return max(t.noise_std for t in self.tasks)

    def params(self) -> dict[str, Any]:
        out = {
            "schedule": self.schedule,
            "block_length": self.block_length,
            "rule_input": self.rule_input,
            "stream": self.stream,
        }
        if self.weights is not None:  # absent when unused: older definitions keep their hashes
            out["weights"] = list(self.weights)
        return out

    @property
    def shares(self) -> np.ndarray:
        """How often each task is on (the weights, normalized; equal by default)."""
        weights = np.ones(len(self.tasks)) if self.weights is None else np.asarray(self.weights)
        return weights / weights.sum()

    def node(self) -> dict[str, Any]:
        version = self.spec.version if self.spec is not None else 0
        base = self.spec.name if self.spec is not None else "MultiTask"
        return {"id": f"{base}-v{version}", "params": self.params(), "tasks": [t.node() for t in self.tasks]}

    # -- scores ------------------------------------------------------------------------
    def _chance(self) -> Level:
        """With the rule input, a blind policy knows which task is on and plays each task's
        own best blind policy: chance is the mean of the tasks' chances (each task is on
        equally often). Without it, the best constant answers over the mixture."""
        if not self.rule_input:
            return super()._chance()
        return _mean_level([t.chance() for t in self.tasks], "the mean of the tasks' chances", self.shares)

    def _ceiling(self) -> Level:
        return _mean_level([t.ceiling() for t in self.tasks], "the mean of the tasks' ceilings", self.shares)

    def blind_policy(self) -> Agent:
        if not self.rule_input:
            return super().blind_policy()
        from neurobench.agents.reference import ByRule

        return ByRule([t.blind_policy() for t in self.tasks], self.tasks, self.obs_channels["rule"])

    def ideal_observer(self) -> Agent:
        """Each trial is answered by the ideal observer of its task (the rule input names it,
        or, without one, the trial's inputs do not: then this is an upper bound)."""
        from neurobench.agents.reference import ByRule, IdealObserver

        if not self.rule_input:
            raise InvalidParameterError(
                f"{self.name} has no rule input: its ideal observer would have to infer the task"
            )
        return ByRule([IdealObserver() for _ in self.tasks], self.tasks, self.obs_channels["rule"])

    # -- trials ------------------------------------------------------------------------
    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        return self.sample_chunk(rng, n, 0, None)[0]

    def sample_chunk(self, rng: np.random.Generator, n: int, start: int, carry: Any) -> tuple[TrialBatch, Any]:
        weights = None if self.weights is None else np.asarray(self.weights)
        ids = schedule_ids(self.schedule, len(self.tasks), n, self.block_length, rng, start, weights)
        parts, own_conditions = {}, {}
        for k, task in enumerate(self.tasks):
            count = int(np.sum(ids == k))
            if count:  # a task not scheduled in this chunk draws nothing
                parts[k], own_conditions[k] = self._lift(k, task.sample_chunk(rng, count, start, None)[0])
        batch = assemble(parts, ids)
        conditions = dict(batch.conditions)
        for j, other in enumerate(self.tasks):  # every task's conditions, NaN in other tasks' trials
            for key in self._condition_keys[j]:
                values = np.full(n, np.nan)
                if j in own_conditions:
                    values[ids == j] = own_conditions[j][key]
                conditions[f"{other.name}.{key}"] = values
        return dataclasses.replace(batch, conditions=conditions), carry

    @cached_property
    def _condition_keys(self) -> list[list[str]]:
        """Each task's scalar numeric conditions (kept, as floats, NaN for other tasks)."""
        keys = []
        for task in self.tasks:
            probe = task.sample(np.random.default_rng(0), 2).conditions
            keys.append([k for k, v in probe.items() if v.ndim == 1 and np.issubdtype(v.dtype, np.number)])
        return keys

    def _lift(self, k: int, part: TrialBatch) -> tuple[TrialBatch, dict[str, np.ndarray]]:
        """Task ``k``'s trials in the union layout (padded inputs, rule input, shifted
        phases, every period name), and its own conditions to prefix, as floats."""
        task = self.tasks[k]
        obs = np.zeros((part.n, part.max_length, self.obs_channels.size), dtype=np.float32)
        obs[..., : task.obs_channels.size] = part.obs
        valid = np.arange(part.max_length)[None, :] < part.length[:, None]
        if self.rule_input:
            obs[..., self.obs_channels["rule"].start + k] = valid
        offset = int(self.rule.offsets[k])  # type: ignore[attr-defined]
        phase = ((part.phase.astype(np.int32) + offset) * valid).astype(np.int32)
        periods = dict.fromkeys(self.period_names, (part.length, part.length))
        periods.update(part.periods)
        conditions: dict[str, np.ndarray] = {"task": np.full(part.n, k)}
        if "answer" in part.conditions:
            conditions["answer"] = part.conditions["answer"]
        own = {key: part.conditions[key].astype(float) for key in self._condition_keys[k]}
        width = self.n_actions
        payoff = _widen(part.payoff, width)
        credit = _widen(part.credit, width)
        resume = part.resume if part.resume is None or part.resume.ndim == 2 else _widen(part.resume, width)
        lifted = dataclasses.replace(
            part,
            obs=obs,
            phase=phase,
            periods=periods,
            conditions=conditions,
            payoff=payoff,
            credit=credit,
            resume=resume,
        )
        return lifted, own


def _widen(array: np.ndarray | None, width: int) -> np.ndarray | None:
    """A per-action array padded to ``width`` actions (the padding actions pay nothing)."""
    if array is None or array.shape[2] == width:
        return array
    return np.pad(array, [(0, 0), (0, 0), (0, width - array.shape[2])])


def _mean_level(levels: list[Level], what: str, shares: np.ndarray) -> Level:
    kinds = {level.kind for level in levels}
    kind = "bound" if "bound" in kinds else "estimate" if "estimate" in kinds else "exact"
    se = float(np.sqrt(sum((w * level.se) ** 2 for w, level in zip(shares, levels, strict=True))))
    equal = np.allclose(shares, shares[0])
    how = "each task equally often" if equal else "weighted by how often each task is on"
    value = float(np.dot(shares, [level.value for level in levels]))
    return Level(value, f"{kind}: {what} ({how})", kind, se)


@dataclass(frozen=True, eq=False)
class ScheduleAttr(TaskWrapper):
    """One parameter of a task switched across trials (e.g. coherence sets, noise levels,
    reward sizes): with ``order="blocks"`` each value holds for ``block_length`` trials in
    turn; ``sequential`` alternates values trial by trial, ``random`` draws each trial's
    value. The condition ``block_value`` is each trial's value index."""

    attribute: str = "sigma"
    values: tuple[Any, ...] = (0.5, 1.0)
    block_length: int = 100
    order: str = "blocks"

    def validate(self) -> None:
        fields = {f.name for f in dataclasses.fields(self.task) if f.init} - {"spec"}
        if self.attribute not in fields:
            raise UnknownNameError(f"parameter of {self.task.name}", self.attribute, fields)
        if not self.values:
            raise InvalidParameterError("ScheduleAttr needs at least one value")
        if self.order not in SCHEDULES:
            raise UnknownNameError("order", self.order, SCHEDULES)
        if self.task.sequential:
            raise InvalidParameterError(f"ScheduleAttr needs independent trials; {self.task.name} has its own history")
        check_int("block_length", self.block_length, minimum=1)
        spaces = {(v.observation_space.shape, v.n_actions) for v in self.variants}
        if len(spaces) > 1:
            raise InvalidParameterError(f"values of {self.attribute!r} change the spaces of {self.task.name}")

    @cached_property
    def variants(self) -> tuple[TrialTask, ...]:
        from neurobench.core.registry import rebuilt

        return tuple(rebuilt(self.task, {self.attribute: value}) for value in self.values)  # type: ignore[misc]

    @cached_property
    def observation_space(self) -> gym.spaces.Box:
        low = np.min([v.observation_space.low for v in self.variants], axis=0)
        high = np.max([v.observation_space.high for v in self.variants], axis=0)
        return gym.spaces.Box(low, high, dtype=np.float32)

    @property
    def noise_std(self) -> float:
        return max(v.noise_std for v in self.variants)

    def params(self) -> dict[str, Any]:
        return {**super().params(), "values": plain(list(self.values))}

    def sample(self, rng: np.random.Generator, n: int) -> TrialBatch:
        return self.sample_chunk(rng, n, 0, None)[0]

    def sample_chunk(self, rng: np.random.Generator, n: int, start: int, carry: Any) -> tuple[TrialBatch, Any]:
        ids = schedule_ids(self.order, len(self.variants), n, self.block_length, rng, start)
        parts = {}
        for k, variant in enumerate(self.variants):
            count = int(np.sum(ids == k))
            if count:
                part = variant.sample(rng, count)
                parts[k] = dataclasses.replace(part, conditions={**part.conditions, "block_value": np.full(count, k)})
        return assemble(parts, ids), carry

    def _ceiling(self) -> Level:
        return _mean_level(
            [v.ceiling() for v in self.variants],
            f"the mean of the ceilings at each value of {self.attribute}",
            np.full(len(self.variants), 1 / len(self.variants)),
        )
