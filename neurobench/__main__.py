"""``python -m neurobench``: run a suite, or submit / leaderboard / compare results.

python -m neurobench suite=working_memory agent=ppo_lstm [hydra overrides]
python -m neurobench submit RESULT [--results DIR]
python -m neurobench leaderboard [--results DIR]
python -m neurobench compare A B [C ...] [--out DIR]
python -m neurobench tasks | suites
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

COMMANDS = ("submit", "leaderboard", "compare", "tasks", "suites", "digests")


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


if __name__ == "__main__":
    sys.exit(main())
