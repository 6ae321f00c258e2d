"""Compare agents on the same suite: per-family and per-task scores, probabilities of
improvement, and figures (scores with intervals, performance profiles with confidence
bands in the style of Agarwal et al. 2021, per-task scores), as PNG and SVG.

Any number of result files of one suite (released or custom: the hash must match) can be
compared; the first is the reference the probabilities of improvement are computed against.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neurobench.scoring.aggregate import Estimate, aggregate, probability_of_improvement
from neurobench.scoring.results import SubmissionError, family_scores, read_json_file, validate

_RESAMPLES = 2000
_THRESHOLDS = np.linspace(-0.5, 1.5, 201)


def load(paths: Sequence[Path]) -> list[dict[str, Any]]:
    """Result files of one suite (each validated: its numbers follow from its trials)."""
    results = []
    for path in paths:
        data = read_json_file(Path(path))
        validate(data, released=False)
        results.append(data)
    hashes = {r["suite"]["hash"] for r in results}
    if len(hashes) > 1:
        listing = ", ".join(
            f"{r['agent']['name']}: {r['suite']['name']} v{r['suite']['version']} ({r['suite']['hash']})"
            for r in results
        )
        raise SubmissionError(f"cannot compare results of different suites: {listing}")
    return results


def compare(paths: Sequence[Path], out_dir: Path | None = None) -> tuple[str, list[Path]]:
    """A text report and, if ``out_dir`` is given, the figures written there."""
    if len(paths) < 2:
        raise SubmissionError("compare needs at least two result files")
    results = load(paths)
    names = _names(results)
    suite = results[0]["suite"]
    scores = [family_scores(r["runs"]) for r in results]
    groups = sorted(set().union(*scores))
    title = f"suite {suite['name']} v{suite['version']} ({suite['hash']}), budget {suite['budget']:,} steps"
    lines = [title, "", f"{'group':18s} " + " ".join(f"{n:>26s}" for n in names)]
    rows = []
    for group in groups:
        estimates = [aggregate(s[group])["iqm"] if group in s else None for s in scores]
        rows.append((group, estimates))
        lines.append(f"{group:18s} " + " ".join(f"{_fmt(e):>26s}" for e in estimates))
    lines += ["", f"P({names[0]} > other), per group:"]
    for other, name in zip(scores[1:], names[1:], strict=True):
        cells = [
            f"{group}: {_fmt(probability_of_improvement(scores[0][group], other[group]))}"
            for group in groups
            if group in scores[0] and group in other
        ]
        lines.append(f"  vs {name}: " + "; ".join(cells))
    per_task = _per_task(results)
    lines += ["", f"{'task':40s} " + " ".join(f"{n:>14s}" for n in names)]
    for task, values in per_task.items():
        lines.append(f"{task:40s} " + " ".join(f"{v:14.3f}" for v in values))
    plots = _plots(rows, results, names, per_task, title, Path(out_dir)) if out_dir is not None else []
    return "\n".join(lines), plots


def _names(results: list[dict[str, Any]]) -> list[str]:
    names = [r["agent"]["name"] for r in results]
    return [
        n if names.count(n) == 1 else f"{n} ({r['agent']['hash'][:6]})" for n, r in zip(names, results, strict=True)
    ]


def _fmt(estimate: Estimate | None) -> str:
    return "-" if estimate is None else f"{estimate.point:.3f} [{estimate.low:.3f}, {estimate.high:.3f}]"


def _per_task(results: list[dict[str, Any]]) -> dict[str, list[float]]:
    tasks = list(dict.fromkeys(run["task"] for run in results[0]["runs"]))
    table = {}
    for task in tasks:
        table[task] = [
            float(np.mean([r["metrics"]["normalized"] for r in res["runs"] if r["task"] == task])) for res in results
        ]
    return table


def profile(
    runs: list[dict[str, Any]], thresholds: np.ndarray = _THRESHOLDS, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The fraction of runs scoring above each threshold, and its 95% band from a bootstrap
    that resamples seeds within each task."""
    by_task: dict[str, list[float]] = {}
    for run in runs:
        by_task.setdefault(run["task"], []).append(run["metrics"]["normalized"])
    samples = [np.asarray(v) for v in by_task.values()]
    pooled = np.concatenate(samples)
    curve = (pooled[:, None] > thresholds[None, :]).mean(axis=0)
    rng = np.random.default_rng(seed)
    boots = np.empty((_RESAMPLES, len(thresholds)))
    for b in range(_RESAMPLES):
        drawn = np.concatenate([s[rng.integers(len(s), size=len(s))] for s in samples])
        boots[b] = (drawn[:, None] > thresholds[None, :]).mean(axis=0)
    return curve, np.percentile(boots, [2.5, 97.5], axis=0)


def _plots(
    rows: list[tuple[str, list[Estimate | None]]],
    results: list[dict[str, Any]],
    names: list[str],
    per_task: dict[str, list[float]],
    title: str,
    out: Path,
) -> list[Path]:
    import matplotlib.pyplot as plt

    from neurobench.plot import save

    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    k = len(names)
    fig, ax = plt.subplots(figsize=(7.5, 0.55 * len(rows) * max(1, k / 2) + 1.8))
    for j, name in enumerate(names):
        y = np.arange(len(rows)) + (j - (k - 1) / 2) * 0.8 / k
        estimates = [row[1][j] for row in rows]
        points = np.array([e.point if e else np.nan for e in estimates])
        errors = np.array([[e.point - e.low, e.high - e.point] if e else [0, 0] for e in estimates]).T
        ax.errorbar(points, y, xerr=errors, fmt="o", capsize=3, label=name, color=f"C{j}")
    ax.set_yticks(np.arange(len(rows)), [row[0] for row in rows])
    ax.invert_yaxis()
    ax.axvline(0, color="grey", lw=0.8)
    ax.axvline(1, color="grey", lw=0.8, ls="--")
    ax.set_xlabel("IQM of normalized score (95% CI): 0 chance, 1 ceiling")
    ax.set_title(title, fontsize="small")
    ax.legend(fontsize="small", frameon=False, loc="best")
    written += save(fig, out / "scores")
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for j, (name, data) in enumerate(zip(names, results, strict=True)):
        curve, band = profile(data["runs"])
        ax.plot(_THRESHOLDS, curve, color=f"C{j}", label=name)
        ax.fill_between(_THRESHOLDS, band[0], band[1], color=f"C{j}", alpha=0.2, lw=0)
    ax.axvline(0, color="grey", lw=0.6)
    ax.axvline(1, color="grey", lw=0.6, ls="--")
    ax.set_xlabel("normalized score τ")
    ax.set_ylabel("fraction of runs with score > τ")
    ax.set_title(f"performance profiles (95% bands)\n{title}", fontsize="small")
    ax.legend(fontsize="small", frameon=False)
    written += save(fig, out / "profiles")
    plt.close(fig)

    tasks = list(per_task)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.5 * len(tasks) * max(1, k / 2) + 2), 4.2))
    width = 0.8 / k
    for j, name in enumerate(names):
        ax.bar(
            np.arange(len(tasks)) + (j - (k - 1) / 2) * width,
            [per_task[t][j] for t in tasks],
            width,
            label=name,
            color=f"C{j}",
        )
    ax.axhline(0, color="grey", lw=0.6)
    ax.axhline(1, color="grey", lw=0.6, ls="--")
    ax.set_xticks(np.arange(len(tasks)), tasks, rotation=40, ha="right", fontsize="small")
    ax.set_ylabel("normalized score (mean over seeds)")
    ax.set_title(title, fontsize="small")
    ax.legend(fontsize="small", frameon=False)
    written += save(fig, out / "tasks")
    plt.close(fig)
    return written
