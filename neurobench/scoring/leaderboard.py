"""Leaderboard: Markdown, CSV and a static sortable HTML page from all submissions.

Generated only from the files in ``results/<suite>/*.json``, in a fixed order and format,
so the same submissions always give byte-identical tables. Tables say what each number is:
per task the raw success beside its chance and ceiling, not only the normalized score;
privileged references (the oracle reads the answer) are listed apart, outside the ranking;
a success above the ceiling beyond its sampling error is flagged (the ceiling is then an
estimate that was beaten, or the agent reads what it should not); results of older suite
versions stay listed, marked as such.
"""

from __future__ import annotations

import html
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from neurobench.scoring.results import (
    SubmissionError,
    aggregates,
    existing_results,
    trial_scores,
    validate,
    write_text,
)
from neurobench.suites import latest_versions

STAT_COLUMNS = ("iqm", "mean", "median", "optimality_gap")
OUTPUTS = ("LEADERBOARD.md", "leaderboard.csv", "leaderboard.html")
PRIVILEGED = {"neurobench.agents.OracleAgent", "neurobench.agents.reference.OracleAgent"}
FLAG_SIGMAS = 3.0
FLAG_BLOCKS = 10  # consecutive blocks of trials whose means give an error robust to sessions
FLAG = "⚑"


def load_submissions(results_dir: Path) -> list[dict[str, Any]]:
    """Valid submissions, sorted; invalid files are skipped with a warning."""
    out = []
    for path, data, problem in existing_results(results_dir):
        try:
            if problem is not None:
                raise SubmissionError(problem)
            validate(data)
        except SubmissionError as error:
            print(f"skipping {path}: {error}", file=sys.stderr)
            continue
        assert data is not None
        data["aggregates"] = aggregates(data["runs"])
        data["_file"] = path.relative_to(results_dir).as_posix()
        data["_privileged"] = data["agent"]["config"].get("_target_") in PRIVILEGED
        out.append(data)
    return out


def flags(run: dict[str, Any]) -> bool:
    """Whether a run's success exceeds its ceiling beyond the sampling error of both."""
    ceiling = run["ceiling"]
    error = FLAG_SIGMAS * np.hypot(success_se(run), ceiling.get("se", 0.0))
    return bool(run["metrics"]["success"] > ceiling["value"] + error)


def success_se(run: dict[str, Any]) -> float:
    """Standard error of a run's success: the larger of the binomial one and that of the
    means of ``FLAG_BLOCKS`` consecutive blocks of its trials (stream order). The binomial
    error is taken at the success or at the ceiling, whichever is nearer 1/2: a success of
    1 is no evidence against a ceiling of 0.9999. Trials of one session are not
    independent where a block fixes the answer (a bandit's better arm for 100 trials), and
    then the binomial error is several times too small."""
    success, n, ceiling = run["metrics"]["success"], run["metrics"]["n_trials"], run["ceiling"]["value"]
    binomial = float(np.sqrt(max(success * (1 - success), ceiling * (1 - ceiling), 1e-12) / n))
    scores = trial_scores(run["trials"])
    if len(scores) < 2 * FLAG_BLOCKS:
        return binomial
    means = [block.mean() for block in np.array_split(scores, FLAG_BLOCKS)]
    return max(binomial, float(np.std(means, ddof=1) / np.sqrt(FLAG_BLOCKS)))


def build(results_dir: Path) -> dict[str, str]:
    """Render the three outputs (file name -> text) without writing them."""
    by_suite: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for data in load_submissions(results_dir):
        by_suite[(data["suite"]["name"], data["suite"]["version"])].append(data)
    for rows in by_suite.values():
        rows.sort(
            key=lambda d: (
                d["_privileged"],
                -d["aggregates"]["overall"]["iqm"]["point"],
                d["agent"]["name"],
                d["_file"],
            )
        )
    order = sorted(by_suite, key=lambda key: (key[0], -key[1]))
    ordered = {key: by_suite[key] for key in order}
    return {"LEADERBOARD.md": _markdown(ordered), "leaderboard.csv": _csv(ordered), "leaderboard.html": _html(ordered)}


def write(results_dir: Path) -> list[Path]:
    results_dir = Path(results_dir)
    paths = []
    for name, text in build(results_dir).items():
        path = results_dir / name
        write_text(path, text)
        paths.append(path)
    return paths


def _fmt(estimate: dict[str, float]) -> str:
    return f"{estimate['point']:.3f} [{estimate['low']:.3f}, {estimate['high']:.3f}]"


def _families(rows: list[dict[str, Any]]) -> list[str]:
    return sorted({g for d in rows for g in d["aggregates"] if g != "overall"})


def _task_cells(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Task -> mean over seeds of normalized score, success, chance, ceiling, and a flag."""
    runs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for run in data["runs"]:
        runs[run["task"]].append(run)
    cells = {}
    for task, group in runs.items():
        cells[task] = {
            "normalized": float(np.mean([r["metrics"]["normalized"] for r in group])),
            "success": float(np.mean([r["metrics"]["success"] for r in group])),
            "chance": group[0]["chance"]["value"],
            "ceiling": group[0]["ceiling"]["value"],
            "ceiling_kind": group[0]["ceiling"].get("kind", "exact"),
            "flag": not data["_privileged"] and any(flags(r) for r in group),
        }
    return cells


def _version_note(name: str, version: int) -> str:
    latest = latest_versions().get(name)
    return "" if latest is None or version >= latest else f" — older version (latest: v{latest})"


def _markdown(by_suite: dict[tuple[str, int], list[dict[str, Any]]]) -> str:
    lines = [
        "# NeuroBench leaderboard",
        "",
        "Normalized scores: 0 is the task's chance (the best policy that ignores the stimulus), 1 its ceiling",
        "(a proven bound, or a labelled estimate). They are not clipped: below 0 is worse than ignoring the",
        "stimulus; above 1 only a privileged reference should be (the oracle reads the answer, so it is listed",
        f"apart and not ranked). {FLAG} marks a success above its ceiling beyond the sampling error.",
        "Aggregates over every (task, seed) run: interquartile mean (IQM), mean, median and optimality gap, with",
        "stratified bootstrap 95% intervals. Per task: normalized score, then success (chance → ceiling).",
        "Generated by `python -m neurobench leaderboard` from the files in `results/<suite>/`.",
    ]
    for (suite, version), rows in by_suite.items():
        info = rows[0]["suite"]
        lines += ["", f"## Suite `{suite}` v{version} (hash `{info['hash']}`){_version_note(suite, version)}", ""]
        lines += ["| agent | overall IQM | mean | median | optimality gap | file |", "|---|---|---|---|---|---|"]
        for d in rows:
            overall = d["aggregates"]["overall"]
            cells = " | ".join(_fmt(overall[s]) for s in STAT_COLUMNS)
            name = f"{d['agent']['name']} (privileged)" if d["_privileged"] else d["agent"]["name"]
            lines.append(f"| {name} | {cells} | `{d['_file']}` |")
        for family in _families(rows):
            tasks = sorted({r["task"] for d in rows for r in d["runs"] if r["family"] == family})
            lines += ["", f"### {suite} v{version} / {family}", ""]
            lines += ["| agent | IQM | " + " | ".join(tasks) + " |", "|---" * (len(tasks) + 2) + "|"]
            for d in rows:
                cells_of = _task_cells(d)
                cells = " | ".join(_md_cell(cells_of[t]) for t in tasks)
                lines.append(f"| {d['agent']['name']} | {_fmt(d['aggregates'][family]['iqm'])} | {cells} |")
        lines += _breakdowns(suite, version, rows)
    return "\n".join(lines) + "\n"


def _breakdowns(suite: str, version: int, rows: list[dict[str, Any]]) -> list[str]:
    """Inside each multitask task: every agent's normalized score per task (mean over seeds)."""
    lines: list[str] = []
    for label in sorted({r["task"] for d in rows for r in d["runs"] if "by_task" in r}):
        per_agent = []
        for d in rows:
            scores: dict[str, list[float]] = defaultdict(list)
            for run in d["runs"]:
                if run["task"] == label:
                    for part in run.get("by_task", []):
                        scores[part["task"]].append(part["normalized"])
            per_agent.append((d["agent"]["name"], {t: float(np.mean(v)) for t, v in scores.items()}))
        tasks = sorted({t for _, scores in per_agent for t in scores})
        lines += ["", f"### {suite} v{version} / {label}: normalized score per task", ""]
        lines += ["| task | " + " | ".join(name for name, _ in per_agent) + " |", "|---" * (len(per_agent) + 1) + "|"]
        for task in tasks:
            cells = " | ".join(f"{scores[task]:.3f}" if task in scores else "–" for _, scores in per_agent)
            lines.append(f"| {task} | {cells} |")
    return lines


def _md_cell(cell: dict[str, Any]) -> str:
    bound = "≤" if cell["ceiling_kind"] == "bound" else ""
    flag = f" {FLAG}" if cell["flag"] else ""
    return (
        f"{cell['normalized']:.3f} ({cell['success']:.3f}; {cell['chance']:.3f} → {bound}{cell['ceiling']:.3f}){flag}"
    )


def _csv(by_suite: dict[tuple[str, int], list[dict[str, Any]]]) -> str:
    lines = ["suite,version,suite_hash,agent,privileged,file,group,statistic,point,low,high"]
    for (suite, version), rows in by_suite.items():
        for d in rows:
            prefix = f"{suite},{version},{d['suite']['hash']},{d['agent']['name']},{int(d['_privileged'])},{d['_file']}"
            for group, statistics in sorted(d["aggregates"].items()):
                for name in STAT_COLUMNS:
                    e = statistics[name]
                    lines.append(f"{prefix},{group},{name},{e['point']:.6f},{e['low']:.6f},{e['high']:.6f}")
            for task, cell in sorted(_task_cells(d).items()):
                for name in ("normalized", "success", "chance", "ceiling"):
                    value = cell[name]
                    lines.append(f"{prefix},task:{_csv_safe(task)},{name},{value:.6f},{value:.6f},{value:.6f}")
    return "\n".join(lines) + "\n"


def _csv_safe(text: str) -> str:
    return f'"{text}"' if "," in text else text


_SORT_SCRIPT = """
document.querySelectorAll("table.sortable th").forEach((th, column) => {
  th.addEventListener("click", () => {
    const body = th.closest("table").tBodies[0];
    const rows = Array.from(body.rows);
    const ascending = th.dataset.order !== "asc";
    th.dataset.order = ascending ? "asc" : "desc";
    const key = (row) => { const v = parseFloat(row.cells[column].dataset.value ?? row.cells[column].textContent);
                           return isNaN(v) ? row.cells[column].textContent : v; };
    rows.sort((a, b) => (key(a) > key(b) ? 1 : key(a) < key(b) ? -1 : 0) * (ascending ? 1 : -1));
    rows.forEach((row) => body.appendChild(row));
  });
});
"""


def _html(by_suite: dict[tuple[str, int], list[dict[str, Any]]]) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>NeuroBench leaderboard</title>',
        "<style>body{font-family:sans-serif;margin:2em;max-width:80em}table{border-collapse:collapse;margin:1em 0}"
        "th,td{border:1px solid #ccc;padding:4px 8px;text-align:right;white-space:nowrap}"
        "th{cursor:pointer;background:#f4f4f4}"
        "td:first-child{text-align:left}tr.privileged{color:#777;font-style:italic}.flag{color:#c00}"
        ".note{color:#555}small{color:#666}</style></head><body>",
        "<h1>NeuroBench leaderboard</h1>",
        "<p>Normalized scores: 0 is chance (the best policy that ignores the stimulus), 1 the ceiling (a proven "
        "bound or a labelled estimate); not clipped. Under each task score: success (chance → ceiling). "
        f"Privileged references (the oracle reads the answer) are in grey and not ranked; <span class=flag>{FLAG}"
        "</span> marks a success above its ceiling beyond the sampling error. Click a column to sort.</p>",
    ]
    for (suite, version), rows in by_suite.items():
        info = rows[0]["suite"]
        note = _version_note(suite, version)
        parts.append(
            f"<h2>Suite {html.escape(suite)} v{version} <small>hash {html.escape(info['hash'])}</small>"
            f"<span class=note>{html.escape(note)}</span></h2>"
        )
        head = ["agent", *(f"overall {s}" for s in STAT_COLUMNS)]
        body = [
            ([d["agent"]["name"], *(d["aggregates"]["overall"][s] for s in STAT_COLUMNS)], d["_privileged"])
            for d in rows
        ]
        parts.append(_table(head, body))
        for family in _families(rows):
            tasks = sorted({r["task"] for d in rows for r in d["runs"] if r["family"] == family})
            parts.append(f"<h3>{html.escape(suite)} v{version} / {html.escape(family)}</h3>")
            family_rows = []
            for d in rows:
                cells = _task_cells(d)
                family_rows.append(
                    ([d["agent"]["name"], d["aggregates"][family]["iqm"], *(cells[t] for t in tasks)], d["_privileged"])
                )
            parts.append(_table(["agent", "IQM", *tasks], family_rows))
    parts.append(f"<script>{_SORT_SCRIPT}</script></body></html>")
    return "\n".join(parts) + "\n"


def _table(head: list[str], rows: list[tuple[list[Any], bool]]) -> str:
    out = ['<table class="sortable"><thead><tr>']
    out += [f"<th>{html.escape(h)}</th>" for h in head]
    out.append("</tr></thead><tbody>")
    for row, privileged in rows:
        out.append('<tr class="privileged">' if privileged else "<tr>")
        for cell in row:
            if isinstance(cell, dict) and "point" in cell:
                out.append(f'<td data-value="{cell["point"]:.6f}">{html.escape(_fmt(cell))}</td>')
            elif isinstance(cell, dict):
                flag = f' <span class="flag">{FLAG}</span>' if cell["flag"] else ""
                bound = "≤" if cell["ceiling_kind"] == "bound" else ""
                out.append(
                    f'<td data-value="{cell["normalized"]:.6f}">{cell["normalized"]:.3f}{flag}<br><small>'
                    f"{cell['success']:.3f} ({cell['chance']:.3f} → {bound}{cell['ceiling']:.3f})</small></td>"
                )
            else:
                out.append(f"<td>{html.escape(str(cell))}</td>")
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)
