"""``python -m neurobench``: a short demo of the tasks (the suite harness replaces it)."""

from __future__ import annotations

import numpy as np

import neurobench
from neurobench.agents import IdealObserver, OracleAgent, RandomAgent
from neurobench.core.rollout import rollout


def main() -> None:
    print(f"NeuroBench {neurobench.__version__}: success rate over 200 trials, seed 0\n")
    print(f"{'task':40s} {'family':15s} {'random':>7s} {'oracle':>7s} {'ideal':>7s} {'ceiling':>8s}")
    for info in neurobench.tasks():
        task = neurobench.make_task(info.name)
        agents = [RandomAgent(), OracleAgent()]
        if hasattr(task, "evidence_weights"):
            agents.append(IdealObserver())
        rates = []
        for agent in agents:
            record = rollout(neurobench.make(task), agent, n_trials=200, seed=0)
            rates.append(np.mean([o == "correct" for o in record.outcomes()]))
        cells = " ".join(f"{r:7.2f}" for r in rates) + ("" if len(rates) == 3 else f" {'-':>7s}")
        print(f"{info.name:40s} {info.family:15s} {cells} {task.ceiling().value:8.3f}")


if __name__ == "__main__":
    main()
