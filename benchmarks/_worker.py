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


def single_env(make: Callable[[], object], steps: int, repeats: int) -> float:
    """Steps/s of one env driven by uniformly random actions."""
    env = make()
    env.reset(seed=0)
    actions = np.random.default_rng(0).integers(env.action_space.n, size=steps)

    def run() -> int:
        for action in actions:
            env.step(action)
        return steps

    return best_rate(run, repeats)


def vector_env(env: object, steps: int, repeats: int) -> float:
    """Env-steps/s of a vector env with random actions for all its envs."""
    env.reset(seed=0)
    n = env.num_envs
    actions = np.random.default_rng(0).integers(env.single_action_space.n, size=(steps, n))

    def run() -> int:
        for action in actions:
            env.step(action)
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


def neurogym_side(config: dict) -> list[dict]:
    import gymnasium as gym
    import neurogym as ngym

    out = []
    for task in config["tasks"]:
        env_id = f"{task}-v0"
        if "single" in config["measures"]:
            rate = single_env(lambda env_id=env_id: gym.make(env_id), config["steps"], config["repeats"])
            out.append({"task": task, "measure": "single", "value": rate})
        for n in config.get("vector_sizes", []):
            if n > config.get("neurogym_max_envs", 16):
                continue
            vec = gym.vector.SyncVectorEnv([lambda env_id=env_id: gym.make(env_id) for _ in range(n)])
            rate = vector_env(vec, max(config["vector_env_steps"] // 4 // n, 10), config["repeats"])
            out.append({"task": task, "measure": f"vec{n}", "value": rate})
        for batch in config.get("dataset_batches", []):
            draws = max(config["dataset_timesteps"] // (batch * config["seq_len"]), 4)
            rate = dataset(
                lambda env_id=env_id, batch=batch: ngym.Dataset(env_id, batch_size=batch, seq_len=config["seq_len"]),
                batch * config["seq_len"],
                draws,
                config["repeats"],
            )
            out.append({"task": task, "measure": f"ds{batch}", "value": rate})
    return out


def neurobench_side(config: dict) -> list[dict]:
    import gymnasium as gym

    import neurobench

    out = []
    for task in config["tasks"]:
        if "single" in config["measures"]:
            rate = single_env(lambda task=task: gym.make(f"neurobench/{task}-v0"), config["steps"], config["repeats"])
            out.append({"task": task, "measure": "single", "value": rate})
        for n in config.get("vector_sizes", []):
            vec = neurobench.make_vec(task, num_envs=n)
            rate = vector_env(vec, max(config["vector_env_steps"] // n, 10), config["repeats"])
            out.append({"task": task, "measure": f"vec{n}", "value": rate})
        for batch in config.get("dataset_batches", []):
            draws = max(config["dataset_timesteps"] * 8 // (batch * config["seq_len"]), 4)
            rate = dataset(
                lambda task=task, batch=batch: (
                    neurobench.Dataset(task, batch_size=batch, seq_len=config["seq_len"], seed=0).draw
                ),
                batch * config["seq_len"],
                draws,
                config["repeats"],
            )
            out.append({"task": task, "measure": f"ds{batch}", "value": rate})
    return out


def main() -> None:
    config = json.loads(sys.argv[1])
    side = neurogym_side if config["side"] == "neurogym" else neurobench_side
    for row in side(config):
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
