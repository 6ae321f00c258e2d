"""The conformance kit: ``check_task(task)`` is to NeuroBench tasks what Gymnasium's
``env_checker`` is to environments and ``pettingzoo.test`` to PettingZoo ones.

A task author runs it on a new task (``neurobench.testing.check_task("MyTask")``); the
test suite runs it over every registered spec and a parameter grid per family. It raises
:class:`ConformanceError` naming the first check that fails and why. The checks:

* spaces are finite and Gymnasium's ``check_env`` passes with warnings as errors;
* trials (pre-sampled tasks) keep their invariants: shapes and dtypes, observations finite
  and inside the observation space, targets inside the action space, periods tiling each
  trial in order, padding empty, every trial reaching a response window or its end;
* determinism: the same seed gives the same trials and steps, another seed others; the
  single env, the vector env with one environment and the Dataset with one row agree
  step for step, and the two envs' trial records field for field; any trial can be drawn
  without the ones before it;
* the task as nested data survives JSON and rebuilds the same trials;
* scores: the guess agent (the best stimulus-blind policy) scores at chance and the
  oracle or ideal observer at the ceiling, within sampling error (a ceiling labelled as a
  bound may not be exceeded).
"""

from __future__ import annotations

import json
import warnings
from typing import Any, cast

import numpy as np

from neurobench.core.engine import trial_record
from neurobench.core.errors import NeuroBenchError
from neurobench.core.registry import build, make_task
from neurobench.core.rules import LAST, RESPONSE_KINDS
from neurobench.core.stream import TrialStream
from neurobench.core.task import Task, TrialTask

SIGMAS = 4.0  # how many standard errors a measured score may stray from its reference
LEVEL_ENVS = 256  # envs the score checks play on (see check_levels)


class ConformanceError(NeuroBenchError, AssertionError):
    """A task that breaks the contract; the message names the check."""


def check_task(task: Any, *, seed: int = 0, steps: int = 300, level_trials: int | None = 2000) -> Task:
    """Run every check on ``task`` (a name, nested data or a task); return the task.
    ``level_trials=None`` skips the score checks (the slowest)."""
    from neurobench.core.make import single_agent

    built = make_task(task)
    playable = single_agent(built) if built.players > 1 else built
    _check_spaces(playable)
    _check_env(playable)
    if isinstance(playable, TrialTask) and playable.supervised:  # its pre-sampled trials are what it shows
        _check_trials(playable, seed)
        _check_random_access(playable, seed)
    _check_determinism(playable, seed, steps)
    _check_grammar(built, seed)
    if level_trials:
        check_levels(playable, trials=level_trials)
    return built


def _fail(task: Task, what: str, why: str) -> None:
    raise ConformanceError(f"{task.name}: {what}: {why}")


def _check_spaces(task: Task) -> None:
    import gymnasium as gym

    space = task.observation_space
    if not isinstance(space, gym.spaces.Box) or not (np.isfinite(space.low).all() and np.isfinite(space.high).all()):
        _fail(task, "observation space", f"must be a Box with finite bounds, got {space}")
    if task.obs_channels.size != space.shape[0]:
        _fail(task, "observation channels", f"{task.obs_channels} do not cover the {space.shape[0]} inputs")
    if not isinstance(task.action_space, gym.spaces.Discrete | gym.spaces.Box):
        _fail(task, "action space", f"must be Discrete or Box, got {task.action_space}")


def _check_env(task: Task) -> None:
    from gymnasium.utils.env_checker import check_env

    from neurobench.core.make import make

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            check_env(make(task).unwrapped, skip_render_check=True)
        except Exception as error:
            _fail(task, "gymnasium's check_env", f"{type(error).__name__}: {error}")


def _check_trials(task: TrialTask, seed: int) -> None:
    batch = TrialStream(task, seed).take(min(256, 4 * task.chunk_size))
    n, horizon = batch.n, batch.max_length
    space = task.observation_space
    if batch.obs.shape != (n, horizon, task.obs_channels.size) or batch.obs.dtype != np.float32:
        _fail(
            task,
            "observations",
            f"shape {batch.obs.shape} dtype {batch.obs.dtype}, expected ({n}, {horizon}, ...) float32",
        )
    if not np.isfinite(batch.obs).all():
        _fail(task, "observations", "not all finite")
    inside = (batch.obs >= space.low) & (batch.obs <= space.high)
    if not inside.all():
        unit = int(np.argwhere(~inside)[0, 2])
        _fail(task, "observations", f"input {task.obs_channels.labels()[unit]} leaves the observation space")
    if task.continuous:
        action = task.action_space
        if not ((batch.target >= action.low) & (batch.target <= action.high)).all():  # type: ignore[attr-defined]
            _fail(task, "targets", "leave the action space")
    elif batch.target.min() < 0 or batch.target.max() >= task.n_actions:
        _fail(task, "targets", f"outside Discrete({task.n_actions})")
    if batch.length.min() < 1 or horizon != batch.length.max():
        _fail(task, "lengths", "trials must last at least one step and the batch be trimmed to the longest")
    padding = np.arange(horizon)[None, :] >= batch.length[:, None]
    if batch.obs[padding].any() or np.asarray(batch.target)[padding].any():
        _fail(task, "padding", "steps past a trial's end must hold zero observations and targets")
    if task.periods:
        end = np.zeros(n, dtype=np.int64)
        for name in task.periods:
            start, stop = batch.periods[name]
            if not np.array_equal(start, end) or (stop < start).any():
                _fail(task, "periods", f"{name!r} does not follow the period before it")
            end = stop
        if not np.array_equal(end, batch.length):
            _fail(task, "periods", "do not tile each trial")
    kind = batch.phase & 7
    closes = np.isin(kind, RESPONSE_KINDS) & ((batch.phase & LAST) > 0)
    if not closes.any():
        _fail(task, "response windows", "no trial has a response window")


def _check_random_access(task: TrialTask, seed: int) -> None:
    if task.stream != "keyed" or task.sequential:
        return
    stream = TrialStream(task, seed)
    whole = stream.take(3 * task.chunk_size)
    picked = np.array([1, task.chunk_size + 3, 3 * task.chunk_size - 1])
    alone = TrialStream(task, seed).trials(picked)
    for field in ("obs", "target", "phase", "length"):
        expected = getattr(whole.take(picked), field)
        if not np.array_equal(getattr(alone, field), expected):
            _fail(task, "random access", f"trials drawn by index differ from the stream's ({field})")


def _check_determinism(task: Task, seed: int, steps: int) -> None:
    from neurobench.core.make import make, make_vec

    def run_single(s: int) -> tuple[np.ndarray, np.ndarray, list[dict[str, Any]]]:
        env = make(task, trials_per_episode=None)
        obs, info = env.reset(seed=s)
        seen, rewards, records = [obs], [], []
        for _ in range(steps):
            obs, reward, _, _, info = env.step(_oracle_action(task, info["target"]))
            seen.append(obs)
            rewards.append(reward)
            if "trial" in info:
                records.append(info["trial"])
        return np.array(seen), np.array(rewards), records

    first, again, other = run_single(seed), run_single(seed), run_single(seed + 1)
    if not (np.array_equal(first[0], again[0]) and np.array_equal(first[1], again[1])):
        _fail(task, "determinism", "the same seed gave different steps")
    if np.array_equal(first[0], other[0]) and task.noise_std > 0:
        _fail(task, "determinism", "another seed gave the same observations")
    vec = make_vec(task, num_envs=1, trials_per_episode=None)
    obs, info = vec.reset(seed=seed)
    seen, rewards, records = [obs[0]], [], []
    for _ in range(steps):
        obs, reward, _, _, info = vec.step(np.asarray([_oracle_action(task, info["target"][0])]))
        seen.append(obs[0])
        rewards.append(reward[0])
        if "trial" in info:
            records.append(trial_record(info["trial"], 0))
    if not (np.array_equal(first[0], np.array(seen)) and np.allclose(first[1], rewards)):
        _fail(task, "determinism", "the vector env with one environment differs from the single env")
    if repr(first[2]) != repr(records):  # as text, so that NaN conditions (a multitask trial's other tasks) match
        _fail(task, "determinism", "the vector env with one environment records other trials than the single env")
    if task.supervised:
        from neurobench.core.dataset import Dataset

        data = Dataset(task, batch_size=1, seq_len=steps, seed=seed)
        inputs, _ = data.draw()
        stream = TrialStream(cast(TrialTask, task), seed) if not getattr(task, "sequential", False) else None
        if stream is not None:
            whole = stream.take(steps)
            sequence = np.concatenate([whole.obs[i, : whole.length[i]] for i in range(whole.n)])[:steps]
            if not np.array_equal(inputs[0], sequence):
                _fail(task, "determinism", "the Dataset with one row differs from the stream")


def _oracle_action(task: Task, target: Any) -> Any:
    return np.asarray(target, dtype=np.float32) if task.continuous else int(target)


def _check_grammar(task: Task, seed: int) -> None:
    """Registered tasks rebuild from their nested data; a task not registered yet from its
    parameters (through its class)."""
    from neurobench.core.make import _registered

    node = task.node()
    text = json.dumps(node)
    if _registered(task):
        again = build(json.loads(text))
        if again.node() != node:
            _fail(task, "nested data", "rebuilding from JSON gave another task")
    else:
        again = type(task)(**json.loads(json.dumps(task.params())))
        if again.params() != task.params():
            _fail(task, "parameters", "rebuilding from JSON parameters gave another task")
    if isinstance(task, TrialTask) and task.players == 1:
        a, b = TrialStream(task, seed).take(8), TrialStream(again, seed).take(8)  # type: ignore[arg-type]
        if not np.array_equal(a.obs, b.obs):
            _fail(task, "nested data", "the rebuilt task draws other trials")


def check_levels(task: Task, *, trials: int = 2000, seed: int = 12345) -> dict[str, float]:
    """The guess agent at chance and the oracle (or ideal observer) at the ceiling, within
    sampling error; returns what they scored. Independent trials are played on
    ``LEVEL_ENVS`` envs at once: they are the stream's first ``trials`` whatever the count,
    and wide lockstep makes this check, the kit's slowest, 2-4x faster than evaluation's
    default. Tasks that run sessions keep evaluation's split into sessions, which their
    chance and ceiling assume."""
    from neurobench.agents.reference import GuessAgent, IdealObserver, OracleAgent
    from neurobench.evaluate import EVALUATION_ENVS, evaluate

    chance, ceiling = task.chance(), task.ceiling()
    envs = EVALUATION_ENVS if getattr(task, "sequential", False) else LEVEL_ENVS
    scored = {}
    records = evaluate(GuessAgent(), task, seed=seed, n_trials=trials, num_envs=envs)
    guess = records["score"]
    scored["guess"] = float(guess.mean())
    error = SIGMAS * np.hypot(standard_error(task, records), chance.se) + 1e-9
    if abs(scored["guess"] - chance.value) > error:
        _fail(
            task,
            "chance",
            f"the guess agent scored {scored['guess']:.4f}, chance is {chance.value:.4f} ± {error:.4f} "
            f"({chance.method})",
        )
    noise_free = ceiling.value >= 1.0 and ceiling.kind == "exact"
    reference = OracleAgent() if noise_free else IdealObserver()
    records = evaluate(reference, task, seed=seed, n_trials=trials, num_envs=envs)
    best = records["score"]
    scored["ceiling_agent"] = float(best.mean())
    error = SIGMAS * np.hypot(standard_error(task, records), ceiling.se) + 1e-9
    if ceiling.kind == "bound":  # a one-sided test of "success <= bound": the spread it would have at the bound
        spread = max(float(best.var(ddof=1)), ceiling.value * (1 - ceiling.value))
        error = SIGMAS * np.hypot(max(np.sqrt(spread / len(best)), standard_error(task, records)), ceiling.se) + 1e-9
        if scored["ceiling_agent"] > ceiling.value + error:
            _fail(
                task,
                "ceiling",
                f"{reference.name} scored {scored['ceiling_agent']:.4f}, above the bound {ceiling.value:.4f}",
            )
    elif abs(scored["ceiling_agent"] - ceiling.value) > error:
        _fail(
            task,
            "ceiling",
            f"{reference.name} scored {scored['ceiling_agent']:.4f}, the ceiling is {ceiling.value:.4f} ± "
            f"{error:.4f} ({ceiling.method})",
        )
    return scored


def standard_error(task: Task, records: Any) -> float:
    """Standard error of a run's success. Trials of one session are not independent where
    the task runs sessions (a block's better arm is right for every trial of the block),
    so there it is the spread of the sessions' means over the number of sessions."""
    from neurobench.core.stream import SessionStream

    score = records["score"]
    if not getattr(task, "sequential", False):
        return float(score.std(ddof=1) / np.sqrt(len(score)))
    by_session = score.groupby(records["trial"] // SessionStream.SESSION_STRIDE).mean()
    if len(by_session) < 2:
        return float("inf")  # one session: its trials say nothing about another session
    return float(by_session.std(ddof=1) / np.sqrt(len(by_session)))


DIGEST_TRIALS = 32


def trial_digest(task: Any, seed: int = 0, trials: int = DIGEST_TRIALS) -> dict[str, Any]:
    """What pins a task version's trials: a hash of the first trials' targets, lengths and
    phase codes, and per observation unit the sum and the step-weighted sum (observations
    are compared to rounding, not hashed: libm's last bits may differ between machines)."""
    import hashlib

    from neurobench.core.stream import lane_reader

    built = make_task(task)
    if not isinstance(built, TrialTask):
        raise ConformanceError(f"{built.name}: only pre-sampled trial tasks have trials to pin")
    _, next_batch = lane_reader(built, seed)
    batch = next_batch().take(np.arange(trials))
    hashed = hashlib.sha256()
    for array in (batch.target, batch.length, batch.phase):
        hashed.update(np.ascontiguousarray(array).tobytes())
    obs = batch.obs.astype(np.float64)
    step = np.arange(obs.shape[1])[None, :, None]
    return {
        "hash": hashed.hexdigest()[:16],
        "obs_sum": np.round(obs.sum(axis=(0, 1)), 4).tolist(),
        "obs_weighted": np.round((obs * step).sum(axis=(0, 1)), 3).tolist(),
    }


def pinned_ids() -> list[str]:
    """Every registered trial-task version: the ids whose trials are pinned."""
    from neurobench.core.registry import specs

    return [s.id for s in specs("task", latest=False) if make_task(s.id).supervised]
