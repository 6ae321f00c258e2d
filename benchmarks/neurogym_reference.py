"""Trial statistics of NeuroGym 2.3.1's tasks, for the comparison test (run once, committed).

    python benchmarks/neurogym_reference.py            # writes tests/data/neurogym_reference.json

It runs itself in NeuroGym's own virtual environment (``benchmarks/.neurogym-venv``, made on
first use by ``throughput.py``), so NeuroGym is never a dependency of NeuroBench or its tests.
For every registered NeuroGym task (collections included) that builds trials, it draws
``TRIALS`` trials with default parameters from a fixed seed and records what NeuroBench's
``tests/test_neurogym_reference.py`` compares: the trial length, each period's mean
duration, the answer's distribution (the last non-fixation target of a trial; 0 if none)
and the mean input per period and observation unit.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "tests" / "data" / "neurogym_reference.json"
TRIALS = 2000
KWARGS = {"AnnubesEnv": {"session": {"v": 0.5, "a": 0.5}, "catch_prob": 0.5}}  # it has no defaults (its tests')


def collect() -> dict:
    import warnings

    import gymnasium as gym
    import numpy as np
    from neurogym.envs.registration import all_envs

    warnings.filterwarnings("ignore")
    out: dict = {"neurogym": "2.3.1", "trials": TRIALS, "tasks": {}}
    for env_id in sorted(all_envs(collections=True)):
        name = env_id.removesuffix("-v0")
        try:
            env = gym.make(env_id, **KWARGS.get(name, {})).unwrapped
            env.seed(0) if hasattr(env, "seed") else None
            lengths, answers = [], []
            durations: dict[str, list[float]] = {}
            sums: dict[str, np.ndarray] = {}
            counts: dict[str, int] = {}
            for _ in range(TRIALS):
                env.new_trial()
                ob, gt = np.asarray(env.ob, dtype=float), np.asarray(env.gt)
                lengths.append(len(ob))
                flat = gt.reshape(len(gt), -1)[:, 0] if gt.ndim > 1 else gt
                answered = np.flatnonzero(flat != 0)
                answers.append(int(flat[answered[-1]]) if len(answered) else 0)
                for period, start in env.start_t.items():
                    durations.setdefault(period, []).append(float(env.end_t[period] - start))
                    rows = ob[env.start_ind[period] : env.end_ind[period]]
                    if len(rows):
                        sums[period] = sums.get(period, 0) + rows.sum(axis=0)
                        counts[period] = counts.get(period, 0) + len(rows)
            values, freq = np.unique(answers, return_counts=True)
            out["tasks"][name] = {
                "dt": float(env.dt),
                "obs_size": int(np.prod(env.observation_space.shape)),
                "mean_length": float(np.mean(lengths)),
                "periods": {p: float(np.mean(d)) for p, d in durations.items()},
                "answers": {str(int(v)): float(f / TRIALS) for v, f in zip(values, freq, strict=True)},
                "mean_input": {p: (sums[p] / counts[p]).round(5).tolist() for p in sums},
            }
        except Exception as error:  # a task NeuroGym cannot run is recorded as such
            out["tasks"][name] = {"error": f"{type(error).__name__}: {error}"[:200]}
    return out


def main() -> None:
    if "--inside" in sys.argv:
        print(json.dumps(collect()))
        return
    sys.path.insert(0, str(HERE))
    from throughput import neurogym_python

    done = subprocess.run([str(neurogym_python()), __file__, "--inside"], check=True, capture_output=True, text=True)
    data = json.loads(done.stdout.strip().splitlines()[-1])
    OUT.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    broken = sorted(name for name, row in data["tasks"].items() if "error" in row)
    print(f"wrote {OUT}: {len(data['tasks'])} tasks ({len(broken)} cannot be run: {', '.join(broken)})")


if __name__ == "__main__":
    main()
