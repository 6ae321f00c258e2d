"""``python -m neurobench``: run a suite, or submit / leaderboard / compare results.

python -m neurobench suite=working_memory agent=ppo_lstm [hydra overrides]
python -m neurobench submit RESULT [--results DIR]
python -m neurobench leaderboard [--results DIR]
python -m neurobench compare A B [C ...] [--out DIR]
python -m neurobench tasks | suites
python -m neurobench evaluate run_dir=DIR [n_trials=N] [seed=S] [out=FILE.csv]
python -m neurobench docs --write | --check
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

COMMANDS = ("submit", "leaderboard", "compare", "tasks", "suites", "digests", "docs", "evaluate")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in COMMANDS:
        return command(argv)
    from neurobench.run import app

    app()
    return 0


def command(argv: list[str]) -> int:
    from neurobench.core.errors import NeuroBenchError

    parser = argparse.ArgumentParser(
        prog="python -m neurobench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    submit = commands.add_parser("submit", help="validate a result file and add it to the results folder")
    submit.add_argument("result", type=Path)
    submit.add_argument("--results", type=Path, default=Path("results"))
    board = commands.add_parser("leaderboard", help="regenerate LEADERBOARD.md, .csv and .html")
    board.add_argument("--results", type=Path, default=Path("results"))
    compare = commands.add_parser("compare", help="compare result files of the same suite")
    compare.add_argument("results", type=Path, nargs="+")
    compare.add_argument("--out", type=Path, default=None, help="folder for the figures (default: compare-A-vs-B...)")
    commands.add_parser("tasks", help="list the tasks")
    digests = commands.add_parser("digests", help="pin every task version's seed-0 trials (for the tests)")
    digests.add_argument("--write", type=Path, default=None, help="write them to this JSON file")
    commands.add_parser("suites", help="list the suites and their hashes")
    again = commands.add_parser("evaluate", help="evaluate a run's trained agents again, without retraining")
    again.add_argument("settings", nargs="+", metavar="key=value", help="run_dir=DIR, n_trials=N, seed=S, out=FILE.csv")
    docs = commands.add_parser("docs", help="regenerate (--write) or check (--check) the task catalog's pages")
    mode = docs.add_mutually_exclusive_group(required=True)
    mode.add_argument("--write", action="store_true")
    mode.add_argument("--check", action="store_true")
    docs.add_argument("--no-figures", action="store_true", help="with --write: keep the existing figures")
    args = parser.parse_args(argv)
    try:
        return _dispatch(args)
    except NeuroBenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "submit":
        from neurobench.scoring.results import submit

        print(f"accepted: {submit(args.result, args.results, warn=lambda m: print(m, file=sys.stderr))}")
    elif args.command == "leaderboard":
        from neurobench.scoring import leaderboard

        for path in leaderboard.write(args.results):
            print(f"wrote {path}")
    elif args.command == "compare":
        from neurobench.scoring.compare import compare

        out = args.out or Path("compare-" + "-vs-".join(p.stem for p in args.results))
        report, plots = compare(args.results, out)
        print(report)
        for path in plots:
            print(f"wrote {path}")
    elif args.command == "evaluate":
        _evaluate(args.settings)
    elif args.command == "docs":
        from neurobench import docs

        if args.write:
            for path in docs.write(figures=not args.no_figures):
                print(f"wrote {path}")
        else:
            stale = docs.check()
            for entry in stale:
                print(f"stale: {entry}", file=sys.stderr)
            if stale:
                print("run: python -m neurobench docs --write", file=sys.stderr)
                return 1
    elif args.command == "digests":
        import json

        from neurobench.testing import pinned_ids, trial_digest

        digest = {task_id: trial_digest(task_id) for task_id in pinned_ids()}
        text = json.dumps(digest, indent=1, sort_keys=True) + "\n"
        if args.write is None:
            print(text, end="")
        else:
            args.write.write_text(text)
            print(f"wrote {len(digest)} digests to {args.write}")
    elif args.command == "tasks":
        import neurobench

        for info in neurobench.tasks():
            print(f"{info.id:55s} {info.family:15s} {info.paper}")
    else:
        from neurobench.suites import load_suite, suite_names, suite_versions

        for name in suite_names():
            for version in suite_versions(name):
                suite = load_suite(name, version)
                latest = " (latest)" if version == suite_versions(name)[-1] else ""
                size = f"{len(suite.tasks)} tasks x {len(suite.seeds)} seeds"
                print(f"{name:16s} v{version}  hash {suite.hash}  {size}{latest}")
    return 0


EVALUATE_KEYS = {"run_dir": str, "n_trials": int, "seed": int, "out": str}


def _evaluate(settings: list[str]) -> None:
    import pandas as pd

    from neurobench.core.errors import InvalidParameterError, UnknownNameError
    from neurobench.trained import evaluate_run

    given: dict[str, object] = {}
    for setting in settings:
        key, sep, value = setting.partition("=")
        if not sep or key not in EVALUATE_KEYS:
            raise UnknownNameError("evaluate setting", key if sep else setting, EVALUATE_KEYS)
        try:
            given[key] = EVALUATE_KEYS[key](value)
        except ValueError:
            raise InvalidParameterError(f"{key} must be {EVALUATE_KEYS[key].__name__}, got {value!r}") from None
    if "run_dir" not in given:
        raise InvalidParameterError("evaluate needs run_dir=<folder of a run>")
    rows = evaluate_run(given["run_dir"], n_trials=given.get("n_trials"), seed=given.get("seed"))  # type: ignore[arg-type]
    table = pd.DataFrame(rows)
    print(table[["task", "seed", "eval_seed", "n_trials", "success", "normalized"]].to_string(index=False))
    if "out" in given:
        table.to_csv(str(given["out"]), index=False)
        print(f"wrote {given['out']}")


if __name__ == "__main__":
    sys.exit(main())
