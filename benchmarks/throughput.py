"""Throughput of NeuroBench against NeuroGym 2.3.1, measured side by side in one run.

    python benchmarks/throughput.py            # full run, a few minutes
    python benchmarks/throughput.py --quick    # under a minute

NeuroGym pins gymnasium 0.29 and imports torch without declaring it, so it cannot share
our environment: on first use this script creates ``benchmarks/.neurogym-venv`` with
``neurogym==2.3.1`` and ``torch==2.13.0``. Each round runs one fresh process per library,
back to back (NeuroGym first in odd rounds, NeuroBench first in even ones), on the tasks
both have; the table shows per-task medians over rounds and the ratio NeuroBench /
NeuroGym, the median over rounds of the two figures' ratio in the same round. Machines are
shared and noisy: compare the ratios, not the absolute rates.

Measures: ``single`` (one env, random actions, steps/s), ``single_target`` (one env
playing each step's target action, so trials run through as a trained agent's do),
``vecN`` (N envs, env-steps/s; NeuroGym's is gymnasium's SyncVectorEnv, run up to 16
envs), ``dsB`` (supervised dataset, batch B x seq_len 100, timesteps/s). Results go to
``benchmarks/out/`` as CSV and JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
WORKER = HERE / "_worker.py"
NEUROGYM_VENV = HERE / ".neurogym-venv"
NEUROGYM_PACKAGES = (["torch==2.13.0"], ["neurogym==2.3.1"])  # torch first: the CPU build on disk


def neurogym_python() -> Path:
    """The NeuroGym virtual environment's interpreter, created on first use."""
    python = NEUROGYM_VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {NEUROGYM_VENV} (neurogym 2.3.1 + torch 2.13.0), once...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(NEUROGYM_VENV)], check=True)
        for packages in NEUROGYM_PACKAGES:
            subprocess.run([str(python), "-m", "pip", "install", "-q", *packages], check=True)
    return python


COLLECTION_NAMES = {  # NeuroGym's collection ids, in our spelling
    "perceptualdecisionmaking.ibl20": "PerceptualDecisionMaking.ibl20",
    "perceptualdecisionmaking.roitman02": "PerceptualDecisionMaking.roitman02",
}


def neurogym_tasks(python: Path) -> dict[str, str]:
    """Our name -> NeuroGym's name of every env NeuroGym registers, collections included."""
    code = "import json; from neurogym.envs.registration import all_envs; print(json.dumps(all_envs(collections=True)))"
    output = subprocess.run([str(python), "-c", code], check=True, capture_output=True, text=True)
    names = [env_id.removesuffix("-v0") for env_id in json.loads(output.stdout.strip().splitlines()[-1])]
    return {COLLECTION_NAMES.get(name, name): name for name in names}


def run_worker(python: Path | str, config: dict) -> list[dict]:
    done = subprocess.run([str(python), str(WORKER), json.dumps(config)], check=True, capture_output=True, text=True)
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


NEUROGYM_LIKE = {"dt": 100, "dim_ring": 16, "rule_input": False, "noise_everywhere": False, "abort": False}
GAMES = ("MatchingPennies", "PrisonersDilemma", "JointPerceptualDecision")


def measure(args: argparse.Namespace) -> list[dict]:
    import neurobench

    ours = {info.name for info in neurobench.tasks()}
    python = neurogym_python()
    theirs = neurogym_tasks(python)
    tasks = sorted(ours & set(theirs))
    if args.tasks:
        tasks = [t for t in tasks if t in args.tasks]
    # Yang et al.'s tasks follow the paper here (dt 20, 32-unit rings, noise on every input):
    # also measured configured like NeuroGym's port, for like-for-like ratios
    variants: dict[str, list] = {}
    if args.yang19 in ("both", "neurogym"):
        variants = {f"{t}@neurogym": [t, NEUROGYM_LIKE] for t in tasks if t.startswith("yang19.")}
    ours_measured = tasks if args.yang19 != "neurogym" else [t for t in tasks if not t.startswith("yang19.")]
    variants.update({g: [g, {}] for g in GAMES if not args.tasks or g in args.tasks})
    base = {
        "tasks": tasks,
        "measures": args.measures,
        "steps": args.steps,
        "repeats": args.repeats,
        "vector_sizes": args.vector_sizes,
        "vector_env_steps": args.vector_env_steps,
        "dataset_batches": args.dataset_batches,
        "dataset_timesteps": args.dataset_timesteps,
        "seq_len": 100,
    }
    rows: list[dict] = []
    sides = (("neurogym", python), ("neurobench", sys.executable))
    for round_index in range(args.rounds):
        for side, interpreter in sides if round_index % 2 == 0 else sides[::-1]:  # neither side always first
            started = time.perf_counter()
            if side == "neurogym":
                names: dict = {"names": {t: theirs[t] for t in tasks}}
            else:
                names = {"variants": variants, "tasks": ours_measured}
            config = {**base, "side": side, **names}
            for row in run_worker(interpreter, config):
                if "error" in row:
                    if round_index == 0:
                        print(f"  {side} {row['task']} {row['measure']}: {row['error']}", file=sys.stderr)
                    continue
                rows.append({**row, "side": side, "round": round_index})
            print(
                f"round {round_index + 1}/{args.rounds} {side}: {time.perf_counter() - started:.1f} s",
                file=sys.stderr,
            )
    return rows


def summarize(rows: list[dict]) -> list[dict]:
    """Per (task, measure): each side's median over rounds, and its figure in each round
    (``rounds``: side -> values by round, NaN where missing) for paired ratios."""
    n_rounds = max((row["round"] for row in rows), default=-1) + 1
    values: dict[tuple[str, str], dict[str, list[float]]] = defaultdict(
        lambda: {side: [float("nan")] * n_rounds for side in ("neurobench", "neurogym")}
    )
    for row in rows:
        values[(row["task"], row["measure"])][row["side"]][row["round"]] = row["value"]
    table = []
    for (task, measure), rounds in sorted(values.items()):
        medians = {side: _median(figures) for side, figures in rounds.items()}
        table.append({"task": task, "measure": measure, **medians, "rounds": rounds})
    return table


def _median(values: list[float]) -> float:
    present = [v for v in values if not np.isnan(v)]
    return statistics.median(present) if present else float("nan")


def paired_ratio(ours: list[float], theirs: list[float]) -> float:
    """Median over rounds of NeuroBench's figure over the baseline's in the same round: the
    two run back to back, so the machine's drift over a run (here up to 1.5x) cancels."""
    return _median([o / t for o, t in zip(ours, theirs, strict=True)])


def baseline(row: dict, measure: str, figures: dict[tuple[str, str, str], list[float]]) -> tuple[list[float], str]:
    """What a NeuroBench figure is compared with, round by round: NeuroGym's figure for the
    same task (a like-for-like variant: its base task) and ``measure``; for the games,
    which NeuroGym lacks, our own single envs in gymnasium's SyncVectorEnv."""
    task = row["task"].split("@")[0]
    missing = [float("nan")] * len(row["rounds"]["neurobench"])
    if task in GAMES:
        return figures.get((task, "sync16", "neurobench"), missing), "own SyncVectorEnv x16"
    return figures.get((task, measure, "neurogym"), missing), f"NeuroGym {measure}"


def print_table(table: list[dict], reference: dict[str, str]) -> list[dict]:
    """Print per-measure tables, each ratio taken against the NeuroGym figure named in
    ``reference`` (its own measure by default), and return the per-measure medians, over
    all shared tasks and over the groups (Yang et al.'s tasks, like-for-like, games)."""
    figures = {(r["task"], r["measure"], side): r["rounds"][side] for r in table for side in ("neurobench", "neurogym")}
    by_measure: dict[str, list[dict]] = defaultdict(list)
    for row in table:
        if not np.isnan(row["neurobench"]):
            by_measure[row["measure"]].append(row)
    medians = []
    for measure, rows in sorted(by_measure.items()):
        against = reference.get(measure, measure)
        print(f"\n{measure} (ratio against NeuroGym {against}; games: against our SyncVectorEnv x16)")
        print(f"  {'task':44s} {'baseline':>12s} {'NeuroBench':>14s} {'ratio':>8s}")
        groups: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for row in rows:
            base, row["against"] = baseline(row, against, figures)
            ratio = row["ratio"] = paired_ratio(row["rounds"]["neurobench"], base)
            print(f"  {row['task']:44s} {_median(base):12,.0f} {row['neurobench']:14,.0f} {ratio:7.1f}x")
            groups[group_of(row["task"])].append((ratio, row["neurobench"]))
        for group, pairs in sorted(groups.items()):
            ratios = [r for r, _ in pairs if not np.isnan(r)]
            if not ratios:
                continue
            median = {
                "measure": measure,
                "group": group,
                "against": against,
                "tasks": len(ratios),
                "neurobench_median": statistics.median(v for _, v in pairs),
                "ratio_median": statistics.median(ratios),
                "ratio_min": min(ratios),
            }
            medians.append(median)
            print(
                f"  median {group:37s} {'':12s} {median['neurobench_median']:14,.0f} "
                f"{median['ratio_median']:7.1f}x  (min {median['ratio_min']:.1f}x, {len(ratios)} tasks)"
            )
    return medians


def group_of(task: str) -> str:
    if task in GAMES:
        return "games"
    if task.endswith("@neurogym"):
        return "yang19, like-for-like"
    if task.startswith("yang19."):
        return "yang19 (paper's setting)"
    return "other NeuroGym tasks"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer steps and rounds: under a minute")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--tasks", nargs="*", help="only these tasks")
    parser.add_argument(
        "--measures",
        nargs="*",
        choices=["single", "target", "vec", "dataset"],
        default=["single", "target", "vec", "dataset"],
        help="target: the single env playing each step's target action (trials played through)",
    )
    parser.add_argument(
        "--yang19",
        choices=["both", "neurogym", "paper"],
        default="both",
        help="which of our settings of Yang et al.'s tasks to measure: the paper's, NeuroGym's port's, or both",
    )
    parser.add_argument("--vector-sizes", type=int, nargs="*", default=[16, 256, 1024])
    parser.add_argument("--dataset-batches", type=int, nargs="*", default=[32, 256])
    parser.add_argument("--out", type=Path, default=HERE / "out")
    args = parser.parse_args()
    args.steps, args.repeats, args.vector_env_steps, args.dataset_timesteps = 20_000, 3, 400_000, 300_000
    if args.quick:
        args.rounds, args.steps, args.repeats = 2, 4_000, 1
        args.vector_env_steps, args.dataset_timesteps = 60_000, 60_000
    if "vec" not in args.measures:
        args.vector_sizes = []
    if "dataset" not in args.measures:
        args.dataset_batches = []

    rows = measure(args)
    table = summarize(rows)
    reference = {f"vec{n}": "single" for n in args.vector_sizes if n > 16}
    reference["sync16"] = "vec16"
    medians = print_table(table, reference)
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    csv_path = args.out / f"throughput-{stamp}.csv"
    with csv_path.open("w") as handle:
        handle.write("task,measure,neurogym,neurobench,ratio,against\n")
        for row in table:
            handle.write(
                f"{row['task']},{row['measure']},{row['neurogym']:.1f},{row['neurobench']:.1f},"
                f"{row.get('ratio', float('nan')):.3f},{row.get('against', '')}\n"
            )
    json_path = args.out / f"throughput-{stamp}.json"
    json_path.write_text(
        json.dumps(
            _without_nan(
                {
                    "config": {k: str(v) for k, v in vars(args).items()},
                    "table": table,
                    "medians": medians,
                    "raw": rows,
                }
            ),
            indent=1,
            allow_nan=False,
        )
    )
    print(f"\nwrote {csv_path} and {json_path}")


def _without_nan(value: Any) -> Any:
    """``value`` with NaN (a figure one side lacks) as ``null``: strict JSON, which other
    tools read."""
    if isinstance(value, float) and np.isnan(value):
        return None
    if isinstance(value, dict):
        return {k: _without_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nan(v) for v in value]
    return value


if __name__ == "__main__":
    main()
