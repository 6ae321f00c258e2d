"""Learning benchmark: how fast each baseline learns PerceptualDecisionMaking and
DelayMatchSample, and how well.

    python benchmarks/learning.py                  # every baseline, both tasks
    python benchmarks/learning.py --agents ppo_lstm --tasks PerceptualDecisionMaking
    python benchmarks/learning.py --agents rnn_supervised --set batch_size=64 --seeds 0 1 2
    python benchmarks/learning.py --sb3            # also Stable-Baselines3 RecurrentPPO, if installed

    python benchmarks/learning.py --agents rnn_supervised --tasks Yang19 --increment 2000000 \
        --limit 1200 --eval-trials 2000 --set hidden_size=256 lr=0.003 batch_size=32

Each baseline trains in increments of env steps (resuming from its checkpoint) and is
evaluated after each increment on 500 trials of an evaluation seed through the harness's
evaluation path. Printed: training time (evaluation excluded) until the normalized score
first reaches the criterion, and the last score. A multitask task (Yang19, ModCog) is
scored per task inside it as the harness does, and each of its tasks gets its own time to
the criterion (the median and the worst task are printed). Needs
``pip install 'neurobench[rllib]'``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from omegaconf import OmegaConf

import neurobench
from neurobench.agents.base import Agent
from neurobench.evaluate import evaluate
from neurobench.run import build_agent, score_run

# RLlib registers its env under one name each time an algorithm is built; this script
# builds one per increment, so the notice would repeat on every line.
warnings.filterwarnings("ignore", message=".*Overriding environment rllib-single-agent-env")
HERE = Path(__file__).resolve().parent
CONF = HERE.parent / "conf" / "agent"
# (criterion, training time limit s, steps per increment) per baseline: the targets
PLAN = {
    "ppo_lstm": (0.8, 300, 20_000),
    "ppo_mlp": (0.8, 300, 20_000),
    "rnn_supervised": (0.9, 120, 1_000_000),
}


def learn(
    agent: Agent,
    task: neurobench.Task,
    criterion: float,
    limit: float,
    increment: int,
    seed: int = 0,
    eval_trials: int = 500,
) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="neurobench-learning-"))
    trained, budget, curve, reached = 0.0, 0, [], None
    parts_reached: dict[str, tuple[int, float] | None] = {}
    try:
        while trained < limit:
            budget += increment
            start = time.perf_counter()
            agent.fit(task, seed=seed, budget=budget, workdir=workdir)
            trained += time.perf_counter() - start
            scored = score_run(task, evaluate(agent, task, seed=1_000_000, n_trials=eval_trials))
            score = scored["metrics"]["normalized"]
            parts = {part["task"]: part["normalized"] for part in scored.get("by_task", [])}
            for name, value in parts.items():
                if parts_reached.get(name) is None:
                    parts_reached[name] = (budget, trained) if value >= criterion else None
            curve.append((budget, round(trained, 1), round(score, 3), {k: round(v, 3) for k, v in parts.items()}))
            lagging = sorted(parts, key=parts.__getitem__)[:3]
            worst = "  worst: " + ", ".join(f"{k} {parts[k]:.2f}" for k in lagging) if parts else ""
            print(f"    {budget:>10,d} steps  {trained:6.1f} s  normalized {score:6.3f}{worst}", flush=True)
            if reached is None and score >= criterion:
                reached = (budget, trained)
            every_part = min(parts.values(), default=criterion) >= criterion
            if reached is not None and score >= criterion and len(curve) >= 3 and every_part:
                break
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return {
        "criterion": criterion,
        "steps_to_criterion": None if reached is None else reached[0],
        "seconds_to_criterion": None if reached is None else round(reached[1], 1),
        "final_normalized": curve[-1][2],
        "curve": curve,
        "tasks_to_criterion": {
            name: None if hit is None else {"steps": hit[0], "seconds": round(hit[1], 1)}
            for name, hit in parts_reached.items()
        },
    }


def print_tasks_to_criterion(row: dict[str, Any]) -> None:
    """Per task of a multitask run: training time to the criterion, the median and the worst
    (a task that never reached it is worst, and the median counts it as not reached)."""
    hits = row["tasks_to_criterion"]
    if not hits:
        return
    final = row["curve"][-1][3]
    print(f"\n  {row['agent']} on {row['task']}, seed {row['seed']}: time to normalized {row['criterion']}")
    for name, hit in sorted(hits.items(), key=lambda item: (item[1] is None, item[1] and item[1]["seconds"])):
        when = "not reached" if hit is None else f"{hit['steps']:>11,d} steps {hit['seconds']:7.0f} s"
        print(f"    {name:28s} {when:>28s}   final {final[name]:6.3f}")
    seconds = sorted(float("inf") if hit is None else hit["seconds"] for hit in hits.values())
    median = float(np.median(seconds))
    reached = sum(np.isfinite(seconds))
    print(
        f"    median task {'not reached' if not np.isfinite(median) else f'{median:.0f} s'}, "
        f"worst task {'not reached' if not np.isfinite(seconds[-1]) else f'{seconds[-1]:.0f} s'}; "
        f"{reached} of {len(seconds)} tasks reached it"
    )


def sb3_agent() -> Agent | None:
    """Stable-Baselines3 RecurrentPPO (what NeuroGym's docs use), wrapped as an Agent."""
    try:
        from sb3_contrib import RecurrentPPO
    except ImportError:
        return None

    class RecurrentPPOAgent(Agent):
        name = "sb3_recurrent_ppo"
        learns = True

        def fit(self, task: neurobench.Task, *, seed: int, budget: int, workdir: Path | None = None) -> None:
            path = None if workdir is None else Path(workdir) / "sb3.zip"
            env = neurobench.make(task, trials_per_episode=20)
            if path is not None and path.exists():
                self.model = RecurrentPPO.load(path, env=env)
            else:
                self.model = RecurrentPPO("MlpLstmPolicy", env, seed=seed, ent_coef=0.01, verbose=0, device="cpu")
            remaining = budget - self.model.num_timesteps
            if remaining > 0:
                self.model.learn(remaining, reset_num_timesteps=False)
            if path is not None:
                self.model.save(path)

        def initial_state(self, num_envs: int, *, seed: int) -> Any:
            return None

        def act(self, obs: np.ndarray, state: Any, info: Any) -> tuple[np.ndarray, Any]:
            starts = np.asarray(info["new_trial"]) & (state is None)
            actions, state = self.model.predict(obs, state=state, episode_start=starts, deterministic=True)
            return actions, state

    return RecurrentPPOAgent()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--agents", nargs="*", default=list(PLAN))
    parser.add_argument("--tasks", nargs="*", default=["PerceptualDecisionMaking", "DelayMatchSample"])
    parser.add_argument("--seeds", nargs="*", type=int, default=[0], help="training seeds, one run each")
    parser.add_argument(
        "--set", nargs="*", default=[], metavar="KEY=VALUE", help="agent config overrides, e.g. batch_size=64"
    )
    parser.add_argument("--sb3", action="store_true", help="also Stable-Baselines3 RecurrentPPO")
    parser.add_argument("--criterion", type=float, help="normalized score to reach (default: per agent)")
    parser.add_argument("--limit", type=float, help="training seconds per run (default: per agent)")
    parser.add_argument("--increment", type=int, help="steps (timesteps of data) per increment")
    parser.add_argument("--eval-trials", type=int, default=500, help="evaluation trials after each increment")
    parser.add_argument("--out", type=Path, default=HERE / "out")
    args = parser.parse_args()
    results = []
    for name in args.agents:
        criterion, limit, increment = PLAN[name]
        criterion = args.criterion if args.criterion is not None else criterion
        limit = args.limit if args.limit is not None else limit
        increment = args.increment if args.increment is not None else increment
        config = OmegaConf.merge(OmegaConf.load(CONF / f"{name}.yaml"), OmegaConf.from_dotlist(args.set))
        label = " ".join([name, *args.set])
        for task_name in args.tasks:
            for seed in args.seeds:
                print(f"{label} on {task_name}, seed {seed} (criterion {criterion}, limit {limit} s)", flush=True)
                agent = build_agent(OmegaConf.to_container(config))
                task = neurobench.make_task(task_name)
                row = learn(agent, task, criterion, limit, increment, seed, args.eval_trials)
                results.append({"agent": label, "task": task_name, "seed": seed, **row})
    if args.sb3:
        for task_name in args.tasks:
            agent = sb3_agent()
            if agent is None:
                print("sb3-contrib is not installed: pip install sb3-contrib", file=sys.stderr)
                break
            print(f"sb3_recurrent_ppo on {task_name}", flush=True)
            row = learn(agent, neurobench.make_task(task_name), 0.8, 300, 20_000)
            results.append({"agent": "sb3_recurrent_ppo", "task": task_name, "seed": 0, **row})
    columns = f"{'criterion':>9s} {'steps to it':>12s} {'seconds':>8s} {'final':>7s}"
    print(f"\n{'agent':30s} {'task':28s} {'seed':>4s} {columns}")
    for r in results:
        steps = "-" if r["steps_to_criterion"] is None else f"{r['steps_to_criterion']:,d}"
        seconds = "-" if r["seconds_to_criterion"] is None else f"{r['seconds_to_criterion']:.0f}"
        final = r["final_normalized"]
        print(
            f"{r['agent']:30s} {r['task']:28s} {r['seed']:4d} {r['criterion']:9.2f} {steps:>12s} {seconds:>8s} "
            f"{final:7.3f}"
        )
    for r in results:
        print_tasks_to_criterion(r)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"learning-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=1))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
