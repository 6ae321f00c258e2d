"""Learning benchmark: how fast each baseline learns PerceptualDecisionMaking and
DelayMatchSample, and how well.

    python benchmarks/learning.py                  # every baseline, both tasks
    python benchmarks/learning.py --agents ppo_lstm --tasks PerceptualDecisionMaking
    python benchmarks/learning.py --agents rnn_supervised --set batch_size=64 --seeds 0 1 2
    python benchmarks/learning.py --sb3            # also Stable-Baselines3 RecurrentPPO, if installed

Each baseline trains in increments of env steps (resuming from its checkpoint) and is
evaluated after each increment on 500 trials of an evaluation seed through the harness's
evaluation path. Printed: training time (evaluation excluded) until the normalized score
first reaches the criterion, and the last score. Needs ``pip install 'neurobench[rllib]'``.
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
from neurobench.run import build_agent
from neurobench.scoring import run_metrics

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
    agent: Agent, task: neurobench.Task, criterion: float, limit: float, increment: int, seed: int = 0
) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="neurobench-learning-"))
    trained, budget, curve, reached = 0.0, 0, [], None
    try:
        while trained < limit:
            budget += increment
            start = time.perf_counter()
            agent.fit(task, seed=seed, budget=budget, workdir=workdir)
            trained += time.perf_counter() - start
            records = evaluate(agent, task, seed=1_000_000, n_trials=500)
            score = run_metrics(records, task)["normalized"]
            curve.append((budget, round(trained, 1), round(score, 3)))
            print(f"    {budget:>10,d} steps  {trained:6.1f} s  normalized {score:6.3f}", flush=True)
            if reached is None and score >= criterion:
                reached = (budget, trained)
            if reached is not None and score >= criterion and len(curve) >= 3:
                break
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return {
        "criterion": criterion,
        "steps_to_criterion": None if reached is None else reached[0],
        "seconds_to_criterion": None if reached is None else round(reached[1], 1),
        "final_normalized": curve[-1][2],
        "curve": curve,
    }


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
    parser.add_argument("--out", type=Path, default=HERE / "out")
    args = parser.parse_args()
    results = []
    for name in args.agents:
        criterion, limit, increment = PLAN[name]
        config = OmegaConf.merge(OmegaConf.load(CONF / f"{name}.yaml"), OmegaConf.from_dotlist(args.set))
        label = " ".join([name, *args.set])
        for task_name in args.tasks:
            for seed in args.seeds:
                print(f"{label} on {task_name}, seed {seed} (criterion {criterion}, limit {limit} s)", flush=True)
                agent = build_agent(OmegaConf.to_container(config))
                row = learn(agent, neurobench.make_task(task_name), criterion, limit, increment, seed)
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
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"learning-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=1))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
