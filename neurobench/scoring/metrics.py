"""Per-run metrics: from one evaluation's trial records to numbers.

Success is the mean of the trials' scores: 1 for a correct trial, 0 for a failed, missed
or aborted one (as in Yang et al. 2019), and partial credit where a task gives it (an
opt-out). Accuracy counts answered trials only. The normalized score puts the task's
chance (the best stimulus-blind policy) at 0 and its ceiling at 1, on the task's score
scale (success itself, unless its papers measure on another: ``Task.score_scale``); it is
not clipped, so a score below 0 says an agent does worse than ignoring the stimulus.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from neurobench.core.errors import InvalidParameterError
from neurobench.core.task import Level, Task

METRICS = ("success", "accuracy", "abort_rate", "miss_rate", "reward_per_trial", "normalized")
MIN_RANGE = 1e-3  # a ceiling must exceed chance by this much, or scores are meaningless


def run_metrics(records: pd.DataFrame, task: Task) -> dict[str, Any]:
    """Metrics of one (task, seed) evaluation; ``accuracy`` is None if nothing was answered."""
    n = len(records)
    counts = records["outcome"].value_counts()
    correct, fail = int(counts.get("correct", 0)), int(counts.get("fail", 0))
    success = float(records["score"].mean())
    chance, ceiling = task.chance(), task.ceiling()
    return {
        "n_trials": n,
        "success": success,
        "accuracy": correct / (correct + fail) if correct + fail else None,
        "abort_rate": int(counts.get("abort", 0)) / n,
        "miss_rate": int(counts.get("miss", 0)) / n,
        "reward_per_trial": float(records["reward"].mean()),
        "normalized": normalized(success, chance.value, ceiling.value, task.name, task.score_scale),
    }


def check_scorable(task: Task) -> tuple[Level, Level]:
    """Chance and ceiling of a task whose ceiling is above its chance, or a clear error."""
    chance, ceiling = task.chance(), task.ceiling()
    if not ceiling.value - chance.value >= MIN_RANGE:
        raise InvalidParameterError(
            f"{task.name} cannot be scored: its ceiling {ceiling.value:.4f} ({ceiling.method}) is not above its "
            f"chance {chance.value:.4f} ({chance.method}); no policy that reads the stimulus beats one that ignores it"
        )
    return chance, ceiling


def normalized(
    success: float,
    chance: float,
    ceiling: float,
    task: str = "the task",
    scale: Callable[[float], float] = float,
) -> float:
    """(s(success) - s(chance)) / (s(ceiling) - s(chance)) on the task's score scale ``s``:
    0 at chance, 1 at the ceiling."""
    if not ceiling - chance >= MIN_RANGE:
        raise InvalidParameterError(
            f"{task} cannot be scored: its ceiling {ceiling:.4f} is not above its chance {chance:.4f}"
        )
    low, high = scale(chance), scale(ceiling)
    return (scale(success) - low) / (high - low)
