"""Run the differential corpus and print the table (for humans; the tests use the same code).

    python tests/realworld/run_corpus.py                 # the fast cases
    python tests/realworld/run_corpus.py --all --json corpus.json
    python tests/realworld/run_corpus.py --project click --project pluggy --keep

Run it from the dev venv with CPython 3.10-3.13 under pyenv. Exit 0 when every cell agrees,
1 when one disagrees, 3 when a case could not be compared (a side could not run at all).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: realworld, pipeline_testkit

from realworld.compare import Results
from realworld.corpus import CorpusError, load_manifest, select
from realworld.harness import CorpusRun


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--all", action="store_true", help="every case of the manifest")
    which.add_argument("--project", action="append", metavar="NAME", help="this project's cases (repeatable)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the results as JSON")
    parser.add_argument(
        "--workdir", type=Path, help="where the copies, reports and logs go (default: a temporary folder)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (its path is printed)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        cases = select(load_manifest(), "all" if args.all else ",".join(args.project or []) or "fast")
    except CorpusError as problem:
        print(f"run_corpus: {problem}", file=sys.stderr)
        return 4
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="pipeline-corpus-"))
    workdir.mkdir(parents=True, exist_ok=True)
    run = CorpusRun(workdir)
    results = Results()
    for case in cases:
        print(f"... {case.id}", file=sys.stderr, flush=True)
        try:
            results.comparisons.append(run.compare(case))
        except CorpusError as problem:
            results.errors.append(str(problem))
            print(f"NOT COMPARED: {problem}", file=sys.stderr, flush=True)
    print(results.text())
    if args.json:
        args.json.write_text(json.dumps(results.to_dict(), indent=2) + "\n", encoding="utf-8")
    if args.workdir is None and not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"work folder: {workdir}")
    if results.errors:
        return 3
    return 0 if results.all_agree else 1


if __name__ == "__main__":
    sys.exit(main())
