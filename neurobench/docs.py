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
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neurobench.core.registry import TaskInfo, make_task, spec, tasks
from neurobench.core.task import Level, Task

ROOT = Path(__file__).resolve().parent.parent
PAGES = Path("docs") / "tasks"
FIGURES = PAGES / "img"
SECTIONS = ("task-table", "deviations")  # README sections between begin/end markers


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


def task_table(rows: Iterable[TaskInfo] | None = None) -> str:
    """The README's table: one row per registered task (latest version)."""
    rows = list(tasks() if rows is None else rows)
    lines = ["| family | task | paper | chance | ceiling |", "|---|---|---|---|---|"]
    for row in rows:
        level = scores(row.name)
        paper = f"[{row.paper}]({row.url})" if row.url else (row.paper or "–")
        lines.append(
            f"| {row.family} | [{row.name}]({PAGES.as_posix()}/{row.name}.md) | {paper} | "
            f"{_level(level.chance)} | {_level(level.ceiling)} |"
        )
    return "\n".join(lines)


def deviation_list(rows: Iterable[TaskInfo] | None = None) -> str:
    """Every departure from NeuroGym 2.3.1, task by task (from the specs)."""
    lines = []
    for row in tasks() if rows is None else rows:
        for deviation in row.deviations:
            lines.append(f"- **{row.name}**: {deviation}")
    return "\n".join(lines) or "- none"


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
        rows = [f"| {period} | {_escape(_duration(d.spec()))} |" for period, d in timing.items()]
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
    index.write_text("# Task catalog\n\nGenerated by `python -m neurobench docs --write`.\n\n" + task_table() + "\n")
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
    readme = (root / "README.md").read_text()
    if readme != _with_sections(readme):
        stale.append("README.md")
    return stale


def _with_sections(readme: str) -> str:
    content = {"task-table": task_table, "deviations": deviation_list}
    for section in SECTIONS:
        pattern = re.compile(rf"(<!-- begin: {section} -->\n).*?(\n<!-- end: {section} -->)", re.S)
        if not pattern.search(readme):
            raise ValueError(f"README.md lacks the markers of the generated section {section!r}")
        readme = pattern.sub(lambda m, s=section: m.group(1) + content[s]() + m.group(2), readme)
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
