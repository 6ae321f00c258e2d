"""Soak: step a vector env and draw from a Dataset for a long time, sampling memory.

    python benchmarks/soak.py                    # 1e8 vector-env steps and 1e8 Dataset timesteps
    python benchmarks/soak.py --steps 2e7        # shorter

Memory must stay flat: the script fits a line to the resident set size (RSS) over the
second half of each phase, when caches are warm, and prints its slope in MB per 10 million
steps. A leak of one trial per step would show as hundreds of MB.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import neurobench


def rss_mb() -> float:
    """Resident set size of this process, from /proc (Linux)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * 4096 / 2**20


def slope(samples: list[tuple[float, float]]) -> float:
    """MB per 1e7 steps over the second half of the samples (steps, rss)."""
    half = samples[len(samples) // 2 :]
    steps, rss = np.array(half).T
    return float(np.polyfit(steps / 1e7, rss, 1)[0])


def soak_vector(task: str, num_envs: int, total: int, every: int) -> list[tuple[float, float]]:
    envs = neurobench.make_vec(task, num_envs=num_envs)
    envs.reset(seed=0)
    rng = np.random.default_rng(0)
    actions = rng.integers(envs.single_action_space.n, size=(64, num_envs))  # type: ignore[attr-defined]
    samples, done, step = [], 0, 0
    while done < total:
        envs.step(actions[step % 64])
        step += 1
        done += num_envs
        if step % every == 0:
            samples.append((done, rss_mb()))
    return samples


def soak_dataset(task: str, batch: int, total: int, every: int) -> list[tuple[float, float]]:
    data = neurobench.Dataset(task, batch_size=batch, seq_len=100, seed=0)
    samples, done, draws = [], 0, 0
    while done < total:
        data.draw()
        draws += 1
        done += batch * 100
        if draws % every == 0:
            samples.append((done, rss_mb()))
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=float, default=1e8)
    parser.add_argument("--tasks", nargs="*", default=["PerceptualDecisionMaking", "DelayMatchSample"])
    args = parser.parse_args()
    total = int(args.steps)
    for task in args.tasks:
        for phase, run in (
            ("vector env x1024", lambda task=task: soak_vector(task, 1024, total, 500)),
            ("Dataset 256 x 100", lambda task=task: soak_dataset(task, 256, total, 50)),
        ):
            started, before = time.perf_counter(), rss_mb()
            samples = run()
            elapsed = time.perf_counter() - started
            print(
                f"{task:28s} {phase:18s} {total:.1e} steps in {elapsed:6.1f} s: RSS {before:7.1f} -> "
                f"{samples[-1][1]:7.1f} MB (peak {max(s[1] for s in samples):7.1f}); "
                f"slope over the second half {slope(samples):+.3f} MB per 1e7 steps",
                flush=True,
            )


if __name__ == "__main__":
    main()
