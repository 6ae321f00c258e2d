"""One round of throughput measurements for one library, run in a fresh process.

Usage: ``python _worker.py '{"side": "neurogym"|"neurobench", "tasks": [...], ...}'``;
prints one JSON object per line ``{"task", "measure", "value"}``. It imports only the
side it measures, so the NeuroGym side runs in NeuroGym's own virtual environment
(gymnasium 0.29, torch) and the NeuroBench side in ours.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

warnings.filterwarnings("ignore")


def best_rate(run: Callable[[], int], repeats: int) -> float:
    """Best of ``repeats`` timed calls of ``run`` (which returns the work it did)."""
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        work = run()
        rates.append(work / (time.perf_counter() - start))
    return max(rates)


TIME_BUDGET = 3.0  # seconds a vector-env measurement may take (its rate is the work done in it)


def random_actions(space: object, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Uniformly random actions of a Discrete or Box space, ``shape`` of them."""
    if hasattr(space, "n"):
        return rng.integers(space.n, size=shape)
    low, high = np.asarray(space.low), np.asarray(space.high)
    return rng.uniform(low, high, size=(*shape, *low.shape)).astype(np.float32)


def single_env(
    make: Callable[[], object], steps: int, repeats: int, target: Callable[[Any, dict], Any] | None = None
) -> float:
    """Steps/s of one env, reset when an episode ends. Actions are uniformly random, or,
    with ``target``, the current step's target action (``target(env, info)``): random play
    ends most trials at their first step, while an agent that follows the task plays them
    through, which is what a trained agent costs."""
    env = make()
    _obs, info = env.reset(seed=0)
    actions = random_actions(env.action_space, np.random.default_rng(0), (steps,))

    def run() -> int:
        nonlocal info
        for action in actions:
            if target is not None:
                action = target(env, info)
            _obs, _reward, terminated, truncated, info = env.step(action)
            if terminated or truncated:  # NeuroBench's episodes end (a trial or step limit)
                _obs, info = env.reset()
        return steps

    return best_rate(run, repeats)


def vector_env(env: object, steps: int, repeats: int) -> float:
    """Env-steps/s of a vector env with random actions for all its envs."""
    env.reset(seed=0)
    n = env.num_envs
    actions = random_actions(env.single_action_space, np.random.default_rng(0), (steps, n))

    def run() -> int:
        started = time.perf_counter()
        for done, action in enumerate(actions, 1):
            env.step(action)
            if time.perf_counter() - started > TIME_BUDGET:  # slow tasks: a bounded run, not a fixed count
                return done * n
        return steps * n

    return best_rate(run, repeats)


def dataset(build: Callable[[], Callable[[], object]], timesteps_per_batch: int, batches: int, repeats: int) -> float:
    """Timesteps/s of a supervised dataset, construction included: NeuroGym's fills its
    first cache when built, so timing only draws would count that work as free."""

    def run() -> int:
        draw = build()
        for _ in range(batches):
            draw()
        return batches * timesteps_per_batch

    return best_rate(run, repeats)


def guarded(out: list[dict], task: str, measure: str, compute: Callable[[], float]) -> None:
    """Measure, or record why the measure failed (NeuroGym's broken envs, for instance)."""
    try:
        out.append({"task": task, "measure": measure, "value": compute()})
    except Exception as error:  # a failing env is a finding, not a crash of the whole run
        out.append({"task": task, "measure": measure, "error": f"{type(error).__name__}: {error}"[:200]})


def neurogym_side(config: dict) -> list[dict]:
    import gymnasium as gym
    import neurogym as ngym

    out: list[dict] = []
    for task in config["tasks"]:
        out += neurogym_task(gym, ngym, task, config["names"].get(task, task), config)
    return out


# NeuroGym registers these without the arguments their constructors require: made with the
# values our ports default to, so they can be measured at all
NEUROGYM_REQUIRED = {"AnnubesEnv": {"session": {"a": 0.5, "v": 0.5}, "catch_prob": 0.5}}


def neurogym_task(gym: Any, ngym: Any, task: str, name: str, config: dict) -> list[dict]:
    env_id = f"{name}-v0"
    required = NEUROGYM_REQUIRED.get(task, {})
    if required:
        gym.register(id=f"{name}-required-v0", entry_point=gym.spec(env_id).entry_point, kwargs=required)
        env_id = f"{name}-required-v0"
    out: list[dict] = []
    if "single" in config["measures"]:
        guarded(out, task, "single", lambda: single_env(lambda: gym.make(env_id), config["steps"], config["repeats"]))
    if "target" in config["measures"]:  # NeuroGym's target of the step about to be taken
        guarded(
            out,
            task,
            "single_target",
            lambda: single_env(
                lambda: gym.make(env_id), config["steps"], config["repeats"], lambda env, _info: env.unwrapped.gt_now
            ),
        )
    for n in config.get("vector_sizes", []):
        if n > config.get("neurogym_max_envs", 16):
            continue
        steps = max(config["vector_env_steps"] // 4 // n, 10)
        guarded(
            out,
            task,
            f"vec{n}",
            lambda n=n, steps=steps: vector_env(
                gym.vector.SyncVectorEnv([lambda: gym.make(env_id) for _ in range(n)]), steps, config["repeats"]
            ),
        )
    for batch in config.get("dataset_batches", []):
        draws = max(config["dataset_timesteps"] // (batch * config["seq_len"]), 4)
        guarded(
            out,
            task,
            f"ds{batch}",
            lambda batch=batch, draws=draws: dataset(
                lambda: ngym.Dataset(env_id, batch_size=batch, seq_len=config["seq_len"]),
                batch * config["seq_len"],
                draws,
                config["repeats"],
            ),
        )
    return out


def neurobench_side(config: dict) -> list[dict]:
    """Our latest version of each task; ``variants`` (label -> [task, params]) are measured
    too, e.g. Yang et al.'s tasks configured like NeuroGym's port, for like-for-like ratios."""
    import gymnasium as gym

    import neurobench

    jobs = [(task, task, {}) for task in config["tasks"]]
    jobs += [(label, task, params) for label, (task, params) in config.get("variants", {}).items()]
    out: list[dict] = []
    for label, task, params in jobs:
        out += neurobench_task(gym, neurobench, label, neurobench.make_task(task, **params), config)
    return out


def neurobench_task(gym: Any, neurobench: Any, label: str, built: Any, config: dict) -> list[dict]:
    out: list[dict] = []
    if "single" in config["measures"]:
        guarded(
            out,
            label,
            "single",
            lambda: single_env(lambda: neurobench.make(built), config["steps"], config["repeats"]),
        )
    if "target" in config["measures"] and built.players == 1:  # the target of the step about to be taken
        guarded(
            out,
            label,
            "single_target",
            lambda: single_env(
                lambda: neurobench.make(built), config["steps"], config["repeats"], lambda _env, info: info["target"]
            ),
        )
    for n in config.get("vector_sizes", []):
        steps = max(config["vector_env_steps"] // n, 10)
        guarded(
            out,
            label,
            f"vec{n}",
            lambda n=n, steps=steps: vector_env(neurobench.make_vec(built, n), steps, config["repeats"]),
        )
    if built.players > 1 or not built.supervised:
        steps = max(config["vector_env_steps"] // 4 // 16, 10)  # closed loops: native lockstep vs SyncVectorEnv
        guarded(
            out,
            label,
            "sync16",
            lambda steps=steps: vector_env(
                gym.vector.SyncVectorEnv([lambda: neurobench.make(built) for _ in range(16)]),
                steps,
                config["repeats"],
            ),
        )
        return out
    for batch in config.get("dataset_batches", []):
        draws = max(config["dataset_timesteps"] * 8 // (batch * config["seq_len"]), 4)
        guarded(
            out,
            label,
            f"ds{batch}",
            lambda batch=batch, draws=draws: dataset(
                lambda: neurobench.Dataset(built, batch_size=batch, seq_len=config["seq_len"], seed=0).draw,
                batch * config["seq_len"],
                draws,
                config["repeats"],
            ),
        )
    return out


def main() -> None:
    config = json.loads(sys.argv[1])
    side = neurogym_side if config["side"] == "neurogym" else neurobench_side
    for row in side(config):
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
