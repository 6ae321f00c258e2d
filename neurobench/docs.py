"""The task catalog's documentation, generated from the registry.

Every page is built from what the code already states: a task's docstring, its paper,
parameters, periods, units, chance and ceiling (with how each was obtained) and its
departures from NeuroGym (the spec's ``deviations``). Generated text cannot drift from the
code: ``python -m neurobench docs --write`` rewrites ``docs/tasks/`` and the README's task
table and deviation list, and ``python -m neurobench docs --check`` (run by the tests)
fails when a committed page is stale.
"""

from __future__ import annotations

import inspect
import re
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neurobench.core.registry import TaskInfo, make_task, spec, tasks
from neurobench.core.task import Level, Task

ROOT = Path(__file__).resolve().parent.parent
PAGES = Path("docs") / "tasks"
FIGURES = PAGES / "img"
SECTIONS = ("task-table", "deviations", "baseline-results")  # README sections between begin/end markers
RESULTS = Path("results")
BASELINES = ("ppo_lstm", "ppo_mlp", "rnn_supervised", "ppo_multiagent")


@dataclass(frozen=True)
class Scores:
    chance: Level
    ceiling: Level
    scored_as: str  # the task the levels belong to (a game is scored against its opponent)


def scores(name: str) -> Scores:
    """Chance and ceiling of a registered task, as the harness scores it: a game as
    player 0 against its default reference opponent."""
    task = make_task(name)
    if task.players > 1:
        task = make_task({"id": "Versus", "task": name})
    return Scores(task.chance(), task.ceiling(), task.name if task.players == 1 and task.name == name else "Versus")


def _level(level: Level) -> str:
    value = f"{level.value:.3f}"
    if level.kind == "estimate":
        value += f" ± {level.se:.3f}"
    elif level.kind == "bound":
        value = f"≤ {value}"
    return value


COLLAPSED = ("yang19", "modcog")  # families of many variants: one README row each (all in docs/tasks/)


def task_table(rows: Iterable[TaskInfo] | None = None, collapse: bool = True) -> str:
    """The task table: one row per registered task (latest version); with ``collapse``,
    one row per family of variants (the README's)."""
    rows = list(tasks() if rows is None else rows)
    lines = ["| family | task | paper | chance | ceiling |", "|---|---|---|---|---|"]
    done: set[str] = set()
    for row in rows:
        paper = f"[{row.paper}]({row.url})" if row.url else (row.paper or "–")
        if collapse and row.family in COLLAPSED:
            if row.family not in done:
                done.add(row.family)
                members = [r for r in rows if r.family == row.family]
                chances = sorted({round(scores(r.name).chance.value, 3) for r in members})
                ceilings = sorted({_level(scores(r.name).ceiling) for r in members})
                names = ", ".join(r.name.split(".", 1)[-1] for r in members)
                span = f"{chances[0]:.3f}" if len(chances) == 1 else f"{chances[0]:.3f}–{chances[-1]:.3f}"
                lines.append(
                    f"| {row.family} | {len(members)} tasks ([catalog]({PAGES.as_posix()}/README.md)): {names} | "
                    f"{paper} | {span} | {' / '.join(ceilings)} |"
                )
            continue
        level = scores(row.name)
        lines.append(
            f"| {row.family} | [{row.name}]({PAGES.as_posix()}/{row.name}.md) | {paper} | "
            f"{_level(level.chance)} | {_level(level.ceiling)} |"
        )
    return "\n".join(lines)


def deviation_list(rows: Iterable[TaskInfo] | None = None) -> str:
    """Every departure from NeuroGym 2.3.1, task by task (from the specs); tasks that share
    their departures (the variants of a family) are listed together."""
    groups: dict[tuple[str, ...], list[TaskInfo]] = {}
    for row in tasks() if rows is None else rows:
        if row.deviations:
            groups.setdefault(row.deviations, []).append(row)
    lines: list[str] = []
    for deviations, members in groups.items():
        many = len(members) > 3
        who = f"{members[0].family} ({len(members)} tasks)" if many else ", ".join(m.name for m in members)
        lines.extend(f"- **{who}**: {deviation}" for deviation in deviations)
    return "\n".join(lines) or "- none"


def baseline_table(results_dir: Path | None = None) -> str:
    """The README's baseline results: the interquartile mean of normalized scores (over
    tasks x seeds, with its 95% CI) of each agent on each suite's latest version, and on
    every older version a baseline was run on (results of older versions stay valid),
    beside the guess (0) and ideal references."""
    from neurobench.scoring.leaderboard import load_submissions

    results_dir = ROOT / RESULTS if results_dir is None else results_dir
    cells: dict[tuple[str, int, str], str] = {}
    for data in load_submissions(results_dir):
        estimate = data["aggregates"]["overall"]["iqm"]
        key = (data["suite"]["name"], data["suite"]["version"], data["agent"]["name"])
        cells[key] = f"{estimate['point']:.2f} [{estimate['low']:.2f}, {estimate['high']:.2f}]"
    columns = [a for a in (*BASELINES, "guess", "ideal") if any(k[2] == a for k in cells)]
    if not columns:
        return "No results committed yet."
    latest = {suite: max(v for s, v, _ in cells if s == suite) for suite, _, _ in cells}
    rows = sorted(
        {(s, v) for s, v, agent in cells if v == latest[s] or agent in BASELINES}, key=lambda sv: (sv[0], -sv[1])
    )
    lines = [
        "Committed results (interquartile mean of normalized scores over tasks x seeds, 95% CI; "
        "full tables in [results/LEADERBOARD.md](results/LEADERBOARD.md)):",
        "",
        "| suite | " + " | ".join(columns) + " |",
        "|---" * (len(columns) + 1) + "|",
    ]
    for suite, version in rows:
        row = " | ".join(cells.get((suite, version, a), "–") for a in columns)
        lines.append(f"| {suite} v{version} | {row} |")
    return "\n".join(lines)


def task_page(name: str, figure: bool = True) -> str:
    """A task's page: what it is, its paper, parameters, trial layout and scores."""
    info = next(row for row in tasks() if row.name == name)
    task = make_task(name)
    level = scores(name)
    doc = textwrap.dedent(inspect.getdoc(type(task)) or "").strip()
    parts = [
        f"# {name}",
        "",
        f"`{info.id}` · family **{info.family}** · tags: {', '.join(info.tags) or '–'}",
        "",
        doc,
        "",
    ]
    if info.paper:
        parts += [f"**Paper**: {info.paper}, [{info.title}]({info.url}).", ""]
    if figure:
        parts += [f"![Two trials of {name}](img/{name}.png)", ""]
    parts += _layout(task)
    parts += _parameters(task)
    parts += [
        "## Scores",
        "",
        f"Scored as {'player 0 against the default opponent (`Versus`)' if level.scored_as == 'Versus' else 'itself'}.",
        "",
        "| level | value | how |",
        "|---|---|---|",
        f"| chance | {_level(level.chance)} | {_escape(level.chance.method)} |",
        f"| ceiling | {_level(level.ceiling)} | {_escape(level.ceiling.method)} |",
        "",
        "## Departures from NeuroGym 2.3.1",
        "",
        "\n".join(f"- {d}" for d in info.deviations) or "None.",
        "",
        "## Use",
        "",
        "```python",
        "import neurobench",
        "",
        f'env = neurobench.make("{name}")',
        "obs, info = env.reset(seed=0)",
        "```",
        "",
    ]
    return "\n".join(parts)


def _layout(task: Task) -> list[str]:
    out = ["## Trial", ""]
    timing = getattr(task, "timing", None)
    if timing:
        specs = {period: d.spec() if hasattr(d, "spec") else d for period, d in timing.items()}
        rows = [f"| {period} | {_escape(_duration(spec_))} |" for period, spec_ in specs.items()]
        out += [f"Time step `dt` = {task.dt:g} ms.", "", "| period | duration (ms) |", "|---|---|", *rows, ""]
    out += [
        f"Observation: {task.observation_space} — units {_units(task.obs_channels.widths())}.",
        "",
        f"Action: {task.action_space} — {_units(task.action_channels.widths())}.",
        "",
    ]
    return out


def _parameters(task: Task) -> list[str]:
    params = {k: v for k, v in task.params().items() if k not in ("timing", "stream")}
    if not params:
        return []
    rows = [f"| `{k}` | `{_escape(_short(v))}` |" for k, v in params.items()]
    return ["## Parameters (defaults)", "", "| parameter | default |", "|---|---|", *rows, ""]


def _units(widths: dict[str, int]) -> str:
    return ", ".join(f"{name} ({width})" if width > 1 else name for name, width in widths.items())


def _duration(spec_: Any) -> str:
    if isinstance(spec_, int | float):
        return f"{spec_:g}"
    kind, args = spec_
    if kind == "constant":
        return _number(args)
    if kind == "derived":
        offset = f" + {args['offset']:g}" if args.get("offset") else ""
        return f"{args['factor']:g} × ({' + '.join(args['of'])}){offset}"
    if isinstance(args, list | tuple):
        return f"{kind} ({', '.join(_number(a) for a in args)})"
    return f"{kind} {_short(args)}"


def _number(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_number(v) for v in value) + "]"
    return f"{value:g}" if isinstance(value, int | float) else str(value)


def _short(value: Any, limit: int = 100) -> str:
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def write(root: Path = ROOT, figures: bool = True) -> list[Path]:
    """Regenerate the catalog pages (and, with ``figures``, their trial plots) and the
    README's generated sections; returns the files written."""
    written = []
    pages = root / PAGES
    pages.mkdir(parents=True, exist_ok=True)
    names = [row.name for row in tasks()]
    for stale in pages.glob("*.md"):
        if stale.stem not in names and stale.name != "README.md":
            stale.unlink()
    for name in names:
        path = pages / f"{name}.md"
        path.write_text(task_page(name))
        written.append(path)
        if figures:
            written.append(_figure(root, name))
    index = pages / "README.md"
    index.write_text(_index())
    written.append(index)
    readme = root / "README.md"
    readme.write_text(_with_sections(readme.read_text()))
    written.append(readme)
    return written


def check(root: Path = ROOT) -> list[str]:
    """What is stale: committed pages or README sections that differ from the code's."""
    stale = []
    for row in tasks():
        path = root / PAGES / f"{row.name}.md"
        if not path.exists() or path.read_text() != task_page(row.name):
            stale.append(str(path.relative_to(root)))
        if not (root / FIGURES / f"{row.name}.png").exists():
            stale.append(str(FIGURES / f"{row.name}.png"))
    index = root / PAGES / "README.md"
    if not index.exists() or index.read_text() != _index():
        stale.append(str(index.relative_to(root)))
    readme = (root / "README.md").read_text()
    if readme != _with_sections(readme):
        stale.append("README.md")
    return stale


def _index() -> str:
    return "# Task catalog\n\nGenerated by `python -m neurobench docs --write`.\n\n" + task_table(collapse=False) + "\n"


def _with_sections(readme: str) -> str:
    content: dict[str, Callable[[], str]] = {
        "task-table": task_table,
        "deviations": deviation_list,
        "baseline-results": baseline_table,
    }
    for section in SECTIONS:
        pattern = re.compile(rf"(<!-- begin: {section} -->\n).*?(<!-- end: {section} -->)", re.S)
        match = pattern.search(readme)
        if match is None:
            raise ValueError(f"README.md lacks the markers of the generated section {section!r}")
        generated = match.group(1) + content[section]() + "\n" + match.group(2)
        readme = readme[: match.start()] + generated + readme[match.end() :]
    return readme


def _figure(root: Path, name: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from neurobench import plot

    path = root / FIGURES / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    figure = plot.trial(spec(name).name, n_trials=2, seed=0)
    figure.savefig(path, dpi=72)
    plt.close(figure)
    return path
