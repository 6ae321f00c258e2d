"""Per-run metrics: from one evaluation's trial records to numbers.

Success counts every trial (aborted and missed ones are failures, as in Yang et al.
2019); accuracy counts answered trials only. The normalized score puts chance (guessing
among the answers with fixation held) at 0 and the task's ceiling (ideal observer, or
oracle on noise-free tasks) at 1.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from neurobench.core.task import Task

METRICS = ("success", "accuracy", "abort_rate", "miss_rate", "reward_per_trial", "normalized")


def run_metrics(records: pd.DataFrame, task: Task) -> dict[str, Any]:
    """Metrics of one (task, seed) evaluation; ``accuracy`` is None if nothing was answered."""
    n = len(records)
    counts = records["outcome"].value_counts()
    correct, fail = int(counts.get("correct", 0)), int(counts.get("fail", 0))
    success = correct / n
    chance, ceiling = task.chance, task.ceiling().value
    return {
        "n_trials": n,
        "success": success,
        "accuracy": correct / (correct + fail) if correct + fail else None,
        "abort_rate": int(counts.get("abort", 0)) / n,
        "miss_rate": int(counts.get("miss", 0)) / n,
        "reward_per_trial": float(records["reward"].mean()),
        "normalized": normalized(success, chance, ceiling),
    }


def normalized(success: float, chance: float, ceiling: float) -> float:
    """(success - chance) / (ceiling - chance): 0 at chance, 1 at the ceiling."""
    return (success - chance) / (ceiling - chance)
