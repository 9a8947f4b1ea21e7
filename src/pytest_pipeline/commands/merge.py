"""``pytest-pipeline merge FILES/GLOBS/DIRS... -o merged.xml``: one JUnit file for all cells.

Exit codes: 0 every input was read (failed tests do not change it: merging is not the
gate), 3 some input was left out: unreadable, or repeating results another input gave for
the same (cell, stage) (the output still holds everything else), 4 a usage error (no
inputs, a pattern matching nothing, an output that cannot be written).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pytest_pipeline.cli_marks import built_in_hook
from pytest_pipeline.errors import PipelineError
from pytest_pipeline.exitcodes import ExitCode


@built_in_hook
def pytest_pipeline_add_commands(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "merge",
        help="merge JUnit XML files of many cells into one file",
        description="Merge JUnit XML files (pytest xunit1/xunit2, Surefire, other tools) into one file "
        "with one <testsuite> per (cell, stage), rerun attempts collapsed. "
        "Exit 0 when every input was read, 3 when some input was left out: unreadable, or "
        "repeating results another input gave for the same cell and stage, such as a merged "
        "file next to the per-cell files it came from (everything else is still merged), "
        "4 on usage errors.",
    )
    parser.add_argument("inputs", nargs="+", metavar="FILE/GLOB/DIR", help="JUnit files, globs or folders")
    parser.add_argument("-o", "--output", required=True, type=Path, help="the merged file to write")
    parser.add_argument(
        "--max-text",
        type=int,
        default=None,
        metavar="N",
        help="keep at most N characters of text per test: its messages, tracebacks and captured "
        "output, earlier attempts included, share them (head and tail; default 64000, minimum 1024)",
    )
    parser.add_argument("--cell", default=None, help="cell of tests whose file does not name one")
    parser.add_argument("--default-stage", default="unit", metavar="STAGE", help="stage of tests without one")
    parser.add_argument("--name", default="pytest-pipeline", help="name of the <testsuites> element")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from pytest_pipeline.junit import DEFAULT_MAX_TEXT, expand_inputs, merge
    from pytest_pipeline.junit.inputs import resolves_to, stat_or_none
    from pytest_pipeline.junit.reader import MIN_MAX_TEXT

    max_text = DEFAULT_MAX_TEXT if args.max_text is None else args.max_text
    if max_text < MIN_MAX_TEXT:
        raise PipelineError(f"--max-text {max_text} is too small; use at least {MIN_MAX_TEXT}")
    output: Path = args.output
    if output.is_dir():
        raise PipelineError(f"-o {output} is a directory; give a file name such as {output / 'junit.xml'}")
    target, target_stat = output.resolve(), stat_or_none(output)
    if any(resolves_to(Path(str(arg)), target, target_stat) for arg in args.inputs):
        # A folder or glob may hold the previous output (it is skipped); a file named as
        # both would be read as nothing and then overwritten.
        raise PipelineError(f"-o {output} is also an input; write the merged file elsewhere")
    inputs = expand_inputs(args.inputs)
    try:
        summary = merge(
            inputs,
            output,
            default_stage=args.default_stage,
            default_cell=args.cell,
            max_text=max_text,
            suite_name=args.name,
            list_tests=False,  # only the counts are printed
        )
    except OSError as exc:
        raise PipelineError(
            f"cannot write -o {output}: {exc.strerror or exc}; choose a writable path"
        ) from None
    total = summary.total()
    # Not every problem is an input of ours: a merged input names the files its merge left out.
    left_out = {problem.path for problem in summary.problems}
    read = sum(file not in left_out for file in summary.files)
    parts = [f"{total.passed} passed", f"{total.failed} failed", f"{total.errors} errors"]
    parts += [f"{total.skipped} skipped"]
    if total.blocked:
        parts.append(f"{total.blocked} blocked")
    if total.flaky:
        parts.append(f"{total.flaky} flaky")
    print(
        f"merged {read} of {len(summary.files)} files into {output}: {total.tests} tests in "
        f"{len(summary.cells)} cells, {len(summary.groups)} suites ({', '.join(parts)})"
    )
    for problem in summary.problems:
        print(f"pytest-pipeline: not merged: {problem}", file=sys.stderr)
    if summary.problems:
        return int(ExitCode.INCOMPLETE)
    return int(ExitCode.OK)
