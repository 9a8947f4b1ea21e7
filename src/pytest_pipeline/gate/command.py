"""The ``gate`` and ``publish`` commands as a pipeline of small steps (read -> decide -> write -> show)."""

from __future__ import annotations

import argparse
import glob
import os
import sys
from pathlib import Path
from typing import Any

from pytest_pipeline import config as config_mod
from pytest_pipeline.errors import PipelineError
from pytest_pipeline.exitcodes import ExitCode
from pytest_pipeline.fileio import relative_to_cwd
from pytest_pipeline.results import Artifact


def reports_dir(config: config_mod.PipelineConfig) -> Path:
    base = config.source.parent if config.source else Path.cwd()
    return relative_to_cwd(base / config.reports_dir)


def tested_artifacts(files: list[str]) -> list[Artifact]:
    """Each ``--artifact`` by name and sha256; the name must be the release the package's
    own metadata says, or the gate would vouch for the tested bytes as another version."""
    from pytest_pipeline.fileio import sha256_file
    from pytest_pipeline.gate.releases import mislabelled

    artifacts = []
    for item in files:
        path = Path(item)
        if not path.is_file():
            raise PipelineError(f"--artifact {item}: no such file; build the package first or fix the path")
        problem = mislabelled(path)
        if problem is not None:
            raise PipelineError(f"--artifact {problem}")
        artifacts.append(Artifact(name=path.name, sha256=sha256_file(path)))
    return artifacts


def _expand(paths: list[str]) -> list[str]:
    found: list[str] = []
    for text in paths:
        found.extend(glob.glob(text) if glob.has_magic(text) and not Path(text).exists() else [text])
    return found


def gate_command(args: argparse.Namespace, overrides: dict[str, Any], expect: list[str]) -> int:
    from pytest_pipeline.gate import evaluate, gatefile, inputs, policy

    inputs.check_named(args.inputs)
    config = config_mod.load_option(args.config)
    gate_policy = policy.from_config(config, overrides)
    expected = list(expect)
    if args.expect_cells_from:
        expected += inputs.expected_cells_from(Path(args.expect_cells_from))
    reports = reports_dir(config)
    paths = args.inputs or [str(reports)]
    output = Path(args.output) if args.output else reports / gatefile.GATE_FILE_NAME
    artifacts = tested_artifacts(args.artifact)
    # What the gate reads and writes is not source: a fan-in job downloads the cells'
    # reports, the plan and the packages into its checkout, and that tree is still clean.
    read = [*_expand(paths), *[p for p in (args.expect_cells_from, gate_policy.baseline_path) if p]]
    request = evaluate.Request(
        inputs=tuple(paths),
        output=output,
        policy=gate_policy,
        default_stage=config.default_stage,
        cwd=Path.cwd(),
        environ=os.environ,
        expected_cells=tuple(expected),
        given_artifacts=tuple(artifacts),
        not_source=(str(reports), *(str(Path(a).parent) for a in args.artifact), *read),
        input_paths=tuple(read),
        attestation=Path(args.attestation) if args.attestation else None,
        config_file=config.source,
    )
    evaluation = evaluate.evaluate(request)
    evaluate.show(evaluation, sys.stdout, quiet=args.quiet)
    return int(evaluation.code)


def publish_command(args: argparse.Namespace, command: list[str]) -> int:
    from pytest_pipeline.gate import gatefile, policy, provenance, publish

    if not command:
        raise PipelineError("publish: give the command to run after --, e.g. -- twine upload dist/*")
    config = config_mod.load_option(args.config)
    gate_policy = policy.from_config(config, load_files=False)
    reports = reports_dir(config)
    gate_path = Path(args.gate) if args.gate else reports / gatefile.GATE_FILE_NAME
    try:
        record = gatefile.read(gate_path)
    except gatefile.GateFileError as exc:
        return _refuse([f"{exc}; run `pytest-pipeline gate` first (or pass --gate FILE)"])
    seen = publish.publishable_files(command, args.artifact, (a.name for a in record.artifacts))
    # Not source: what the gate read and wrote, by name. Not the gate file's whole folder:
    # at the repository root that would be every untracked file.
    not_source = [str(reports), str(gate_path), *record.output_paths, *record.input_paths]
    # gate.json names what it read and wrote, and it is only a file: never let it exempt
    # a folder of source (a forged `inputs.paths = ["src"]`), only untracked things.
    not_source = [path for path in not_source if not provenance.holds_tracked_files(Path.cwd(), path)]
    facts = publish.gather(Path.cwd(), os.environ, seen.files, not_source, hidden=seen.hidden)
    rules = publish.PublishRules(
        branches=(*(gate_policy.publish_branches or facts.default_branches), *args.allow_branch),
        allow_pull_request=gate_policy.allow_pull_request_publish or args.allow_pull_request,
    )
    refusals = publish.check(record, facts, rules)
    if refusals:
        return _refuse(refusals)
    names = ", ".join(Path(path).name for path, _ in facts.files)
    print(
        f"pytest-pipeline publish: gate open for {record.commit and record.commit[:12]}, verified {names}; "
        f"running: {' '.join(command)}",
        file=sys.stderr,
    )
    return publish.run(command)


def _refuse(refusals: list[str]) -> int:
    for refusal in refusals:
        print(f"pytest-pipeline publish: refused: {refusal}", file=sys.stderr)
    return int(ExitCode.PUBLISH_REFUSED)
