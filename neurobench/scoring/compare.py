"""Compare two agents on the same suite: per-family differences, P(improvement), plots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from neurobench.scoring.aggregate import Estimate, aggregate, probability_of_improvement
from neurobench.scoring.results import SubmissionError, family_scores, read_result


def compare(path_a: Path, path_b: Path, out_dir: Path | None = None) -> tuple[str, list[Path]]:
    """A text report of A vs B and, if ``out_dir`` is given, the PNG plots written there."""
    a, b = read_result(Path(path_a)), read_result(Path(path_b))
    if a["suite"]["hash"] != b["suite"]["hash"]:
        raise SubmissionError(
            f"cannot compare results of different suites: {a['suite']['name']} ({a['suite']['hash']}) "
            f"vs {b['suite']['name']} ({b['suite']['hash']})"
        )
    name_a, name_b = a["agent"]["name"], b["agent"]["name"]
    scores_a, scores_b = family_scores(a["runs"]), family_scores(b["runs"])
    lines = [
        f"{name_a} (A) vs {name_b} (B) on suite {a['suite']['name']} ({a['suite']['hash']})",
        f"{'family':18s} {'IQM A':>24s} {'IQM B':>24s} {'A - B':>8s} {'P(A > B)':>24s}",
    ]
    rows = []
    for group in sorted(scores_a):
        iqm_a, iqm_b = aggregate(scores_a[group])["iqm"], aggregate(scores_b[group])["iqm"]
        improvement = probability_of_improvement(scores_a[group], scores_b[group])
        rows.append((group, iqm_a, iqm_b, improvement))
        difference = iqm_a.point - iqm_b.point
        lines.append(f"{group:18s} {_fmt(iqm_a):>24s} {_fmt(iqm_b):>24s} {difference:8.3f} {_fmt(improvement):>24s}")
    plots = _plots(rows, a, b, Path(out_dir)) if out_dir is not None else []
    return "\n".join(lines), plots


def _fmt(estimate: Estimate) -> str:
    return f"{estimate.point:.3f} [{estimate.low:.3f}, {estimate.high:.3f}]"


def _plots(
    rows: list[tuple[str, Estimate, Estimate, Estimate]], a: dict[str, Any], b: dict[str, Any], out: Path
) -> list[Path]:
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    names = (a["agent"]["name"], b["agent"]["name"])
    fig, ax = plt.subplots(figsize=(7, 0.6 * len(rows) + 1.5))
    for k, (name, pick) in enumerate(zip(names, (1, 2), strict=True)):
        y = np.arange(len(rows)) + (0.15 if k == 0 else -0.15)
        points = np.array([row[pick].point for row in rows])
        errors = np.array([[row[pick].point - row[pick].low, row[pick].high - row[pick].point] for row in rows]).T
        ax.errorbar(points, y, xerr=errors, fmt="o", capsize=3, label=name)
    ax.set_yticks(np.arange(len(rows)), [row[0] for row in rows])
    ax.axvline(0, color="grey", lw=0.8)
    ax.axvline(1, color="grey", lw=0.8, ls="--")
    ax.set_xlabel("IQM of normalized score (95% CI)")
    ax.legend()
    scores_path = _save(fig, out / "scores.png")

    fig, ax = plt.subplots(figsize=(6, 4))
    thresholds = np.linspace(-0.2, 1.2, 141)
    for data in (a, b):
        values = np.array([run["metrics"]["normalized"] for run in data["runs"]])
        ax.plot(thresholds, [(values > t).mean() for t in thresholds], label=data["agent"]["name"])
    ax.set_xlabel("normalized score threshold")
    ax.set_ylabel("fraction of runs above")
    ax.set_title("performance profiles")
    ax.legend()
    return [scores_path, _save(fig, out / "profiles.png")]


def _save(fig: Any, path: Path) -> Path:
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
