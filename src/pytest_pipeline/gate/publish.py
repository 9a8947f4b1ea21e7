"""The publish guard: CMD runs only for an open gate, on its commit, with its artifacts.

:func:`check` is pure: the gate record, the facts about the checkout and the CI run,
and the rules go in; every refusal comes out as one line naming what is wrong and
how to fix it. :func:`gather` collects the facts; :func:`run` hands over to CMD.
"""

from __future__ import annotations

import glob
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from pytest_pipeline import globs
from pytest_pipeline.errors import PipelineError
from pytest_pipeline.exitcodes import ExitCode
from pytest_pipeline.fileio import sha256_file
from pytest_pipeline.gate import inline_code, releases
from pytest_pipeline.gate.provenance import (
    Provenance,
    full_branch_ref,
    local_branch_exists,
    short_ref,
)
from pytest_pipeline.gate.provenance import (
    gather as gather_provenance,
)
from pytest_pipeline.gate.record import GateRecord

# Files on CMD's command line that are packages it is about to publish. Signatures
# and attestations (.asc, .sigstore, .intoto.jsonl) ride along with the package they
# sign and need no digest of their own; configuration files are not published.
PACKAGE_SUFFIXES = (".whl", ".tar.gz", ".tgz", ".zip", ".tar.bz2", ".tar.xz", ".egg", ".conda")
FALLBACK_DEFAULT_BRANCHES = ("main", "master")


@dataclass(frozen=True)
class PublishFacts:
    head: str | None
    """The current HEAD commit (None outside a git repository)."""
    dirty_paths: tuple[str, ...]
    ref: str | None
    """The ref being built, ``refs/heads/main`` (CI's word first); None when unknown."""
    default_branches: tuple[str, ...]
    """The repository's default branch as :func:`default_branches` tells it (none in CI
    unless the provider says, and then the rules must name the branch)."""
    is_pull_request: bool
    pull_request_detail: str
    files: tuple[tuple[str, str], ...]
    """(path, sha256) of every file CMD is about to publish."""
    hidden: tuple[str, ...] = ()
    """Why CMD publishes files that cannot be seen (:attr:`Publishable.hidden`)."""
    mislabelled: tuple[str, ...] = ()
    """Why a package's name is not the release its own metadata says, per file."""


@dataclass(frozen=True)
class PublishRules:
    branches: tuple[str, ...] = ()
    """Allowed branch globs (``refs/tags/v*`` for tags); empty means the default branch."""
    allow_pull_request: bool = False


def check(gate: GateRecord, facts: PublishFacts, rules: PublishRules) -> list[str]:
    refusals: list[str] = []
    if not gate.open:
        reasons = gate.reason_lines
        first = f": {reasons[0]}" if reasons else ""
        more = f" (and {len(reasons) - 1} more)" if len(reasons) > 1 else ""
        refusals.append(f"the gate is closed (code {gate.code}){first}{more}; fix it and run the gate again")
    refusals += _commit(gate, facts)
    refusals += _artifacts(gate, facts)
    refusals += _branch(gate, facts, rules)
    return refusals


def _commit(gate: GateRecord, facts: PublishFacts) -> list[str]:
    refusals = []
    if facts.head is None:
        refusals.append(
            "not inside a git repository (or it has no commit): publish from the checkout the gate tested"
        )
    elif gate.commit is None:
        refusals.append(f"{gate.path} records no git commit; run the gate inside the repository")
    elif gate.commit != facts.head:
        refusals.append(
            f"stale gate: it tested commit {gate.commit[:12]} but HEAD is {facts.head[:12]}; "
            "run the gate on this commit"
        )
    if gate.dirty:
        refusals.append(f"{gate.path} says the tree was dirty when the gate ran; commit and test again")
    if facts.dirty_paths:
        shown = ", ".join(facts.dirty_paths[:5])
        more = f" and {len(facts.dirty_paths) - 5} more" if len(facts.dirty_paths) > 5 else ""
        refusals.append(f"the working tree is dirty ({shown}{more}); commit or remove the changes")
    return refusals


def _artifacts(gate: GateRecord, facts: PublishFacts) -> list[str]:
    refusals = [*facts.hidden, *facts.mislabelled]
    if not facts.files:
        return refusals or [
            "cannot tell what the command publishes: name the package files on its command line "
            "(e.g. dist/*) or pass --artifact FILE"
        ]
    if not gate.artifacts:
        return [
            *refusals,
            f"{gate.path} records no tested artifact; run the gate with --artifact FILE for each package",
        ]
    by_name = {a.name: a for a in gate.artifacts}
    for path, digest in facts.files:
        name = Path(path).name
        same_bytes = [a for a in gate.artifacts if a.sha256 == digest]
        if any(releases.same_release(name, a.name) for a in same_bytes):
            continue
        tested = by_name.get(name)
        if same_bytes:
            # The tested bytes under another release's name would go out as that release.
            says = releases.release_of(name)
            what = f"{says[0]} {says[1]}" if says else "no release"
            refusals.append(
                f"{path} has the bytes of the tested {same_bytes[0].name} but its name says {what}; "
                "publish the file under its tested name"
            )
        elif tested is not None:
            refusals.append(
                f"{path} is not the tested artifact: sha256 {digest[:12]}… but the gate tested "
                f"{tested.sha256[:12]}…; rebuild nothing after testing, or test this build"
            )
        else:
            names = ", ".join(sorted(by_name)) or "(none)"
            refusals.append(f"{path} was not tested (the gate tested {names}); publish only tested files")
    return refusals


def _branch(gate: GateRecord, facts: PublishFacts, rules: PublishRules) -> list[str]:
    refusals = []
    if facts.is_pull_request:
        # A pull request's ref (refs/pull/7/merge) is no branch: the event decides alone.
        if not rules.allow_pull_request:
            refusals.append(
                f"this is a pull-request build ({facts.pull_request_detail}); "
                "publishing from one is refused (set allow-pull-request-publish = true "
                "or pass --allow-pull-request to allow it)"
            )
        return refusals
    if gate.is_pull_request and not rules.allow_pull_request:
        refusals.append(f"{gate.path} was written by a pull-request build; run the gate in the release build")
    allowed = rules.branches or facts.default_branches
    if not allowed:
        refusals.append(
            "cannot tell the repository's default branch in this CI (only the CI's own word counts, "
            "never a local branch); set publish-branches in [tool.pytest-pipeline.gate] or pass "
            "--allow-branch BRANCH"
        )
    elif facts.ref is None:
        refusals.append(
            "cannot tell which branch this is (HEAD is detached and no CI branch variable is set); "
            "check out the branch"
        )
    elif not any(globs.matches_name(full_branch_ref(pattern), facts.ref) for pattern in allowed):
        refusals.append(
            f"{short_ref(facts.ref)!s} may not publish (allowed: {', '.join(allowed)}); "
            "set publish-branches in [tool.pytest-pipeline.gate] or pass --allow-branch"
        )
    return refusals


# --------------------------------------------------------------------------- facts


DEFAULT_UPLOAD_DIR = "dist"
"""Where uploaders look when their command line names no file (``uv publish``,
``hatch publish``, ``pdm publish`` all default to ``dist/``)."""


@dataclass(frozen=True)
class Publishable:
    """What CMD's command line shows it publishes."""

    files: list[Path]
    hidden: list[str]
    """One refusal per argument through which CMD publishes files publish cannot see:
    code given to a shell or interpreter, a package path inside a larger string."""


# Where a package path can hide inside one argument: `file=@pkg.whl` (curl -F),
# `--file=pkg.whl`, `-Ffile=@pkg.whl`, `a.whl,b.whl`, `host:/srv/pkg.whl`.
_INSIDE_AN_ARGUMENT = re.compile(r"[=@,;:<>|&()'\"\s]+")


def publishable_files(
    command: Sequence[str], extra: Iterable[str], known_names: Iterable[str]
) -> Publishable:
    """The files CMD will publish, over-approximated on purpose (any of them untested
    refuses): package files named on its command line, globs expanded as a shell or
    the tool would (``**`` included, and a file literally named like the glob too),
    every package file below a folder it names, files named like a tested artifact,
    and ``extra``. An argument after a bare ``--`` is a path even when it starts with
    ``-``. When the command line names no file, the packages in ``dist/`` count too
    (``--artifact`` or not), where uploaders look by default.

    What cannot be counted is refused rather than guessed (:attr:`Publishable.hidden`):
    a shell or interpreter given code (:mod:`~pytest_pipeline.gate.inline_code`), and a
    package path inside a larger argument (``file=@pkg.whl``, ``--file=pkg.whl``) unless
    ``extra`` names that very file."""
    known = set(known_names)
    given = list(extra)
    found: dict[str, Path] = {}

    def is_package(path: Path) -> bool:
        return path.name.endswith(PACKAGE_SUFFIXES) or path.name in known

    def packages_in(value: str) -> list[Path]:
        """Package files ``value`` names: itself, its glob's matches, all below a folder."""
        paths = []
        for candidate in _expand(value):
            path = Path(candidate)
            paths += sorted(path.rglob("*")) if path.is_dir() else [path]
        return [path for path in paths if path.is_file() and is_package(path)]

    given_paths = {os.path.realpath(item) for item in given}

    def package_inside(arg: str) -> str | None:
        """A package path that ``arg`` holds inside a larger string, unless ``extra`` names it."""
        for piece in _INSIDE_AN_ARGUMENT.split(arg):
            if not piece or piece == arg or piece.startswith("//") or piece == Path(piece).anchor:
                continue  # not a part; a URL's remainder; the file system's root
            if os.path.realpath(piece) in given_paths:
                continue
            if is_package(Path(piece)) or packages_in(piece):
                return piece
        return None

    code = inline_code.find(command)
    hidden = [code] if code is not None else []
    after_dashes = False
    for arg in command[1:]:
        if arg == "--" and not after_dashes:
            after_dashes = True
            continue
        # An option is a path only when it exists (`-x.egg-info`) or follows a bare `--`.
        if (after_dashes or not arg.startswith("-") or os.path.exists(arg)) and _expand(arg):
            for path in packages_in(arg):
                found.setdefault(str(path), path)
            continue
        piece = package_inside(arg) if code is None else None
        if piece is not None:
            hidden.append(
                f"argument {arg!r} names a package file inside a larger string ({piece}), which publish "
                "does not count; name the package files as plain arguments "
                "(or pass each with --artifact FILE)"
            )
    if not found and os.path.isdir(DEFAULT_UPLOAD_DIR):
        found.update((str(path), path) for path in packages_in(DEFAULT_UPLOAD_DIR))
    for item in given:
        path = Path(item)
        if not path.is_file():
            raise PipelineError(
                f"--artifact {item}: no such file; build it first or fix the path", ExitCode.PUBLISH_REFUSED
            )
        found.setdefault(str(path), path)
    return Publishable(files=list(found.values()), hidden=hidden)


def _expand(value: str) -> list[str]:
    """``value`` as a file or folder, and what it matches as a glob (``**`` recursing)."""
    matches = [value] if os.path.exists(value) else []
    if glob.has_magic(value):
        matches += sorted(glob.glob(value, recursive=True))
    return matches


def pull_request_detail(provenance: Provenance) -> str:
    ci = provenance.ci
    if ci is None:
        return ""
    number = f" #{ci.pull_request}" if ci.pull_request else ""
    return f"{ci.provider} {ci.event or 'pull request'}{number}"


def default_branches(provenance: Provenance, cwd: Path) -> tuple[str, ...]:
    """The branches that count as the repository's default when no rule names one.

    In CI only the provider's own word counts (GitHub's event payload, GitLab's
    ``CI_DEFAULT_BRANCH``): a local ``main``/``master``, or an ``origin/HEAD`` left on a
    reused agent, may be left over from a rename, so with no word from the provider
    there is none, and the rules must name the branch (publish-branches, --allow-branch).
    Outside CI: ``origin/HEAD``, else the local ``main``/``master``, else either name."""
    if provenance.ci is not None:
        return (provenance.ci.default_branch,) if provenance.ci.default_branch else ()
    if provenance.git.default_branch:
        return (provenance.git.default_branch,)
    root = Path(provenance.git.toplevel) if provenance.git.toplevel else cwd
    existing = tuple(b for b in FALLBACK_DEFAULT_BRANCHES if local_branch_exists(root, b))
    return existing or FALLBACK_DEFAULT_BRANCHES


def gather(
    cwd: Path,
    env: Mapping[str, str],
    files: Sequence[Path],
    extra_output: Sequence[str] = (),
    *,
    hidden: Sequence[str] = (),
) -> PublishFacts:
    provenance = gather_provenance(cwd, env, [*extra_output, *(str(f.parent) for f in files)])
    return PublishFacts(
        head=provenance.git.commit,
        dirty_paths=provenance.git.dirty_paths,
        ref=provenance.ref,
        default_branches=default_branches(provenance, cwd),
        is_pull_request=bool(provenance.ci and provenance.ci.is_pull_request),
        pull_request_detail=pull_request_detail(provenance),
        files=tuple((str(f), sha256_file(f)) for f in files),
        hidden=tuple(hidden),
        mislabelled=tuple(line for line in map(releases.mislabelled, files) if line is not None),
    )


# --------------------------------------------------------------------------- run


def run(command: Sequence[str]) -> int:
    """Hand over to CMD; its exit code becomes ours.

    On POSIX the process *becomes* CMD (``exec``): signals reach it directly, its
    stdio is ours, and its exit status is the one the CI step sees. Elsewhere CMD runs
    as a child with inherited stdio, Ctrl-C reaches both, and we wait for it.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        if os.name == "posix":
            os.execvp(command[0], list(command))
        with subprocess.Popen(list(command)) as child:  # pragma: no cover - Windows
            while True:
                try:
                    return child.wait()
                except KeyboardInterrupt:
                    continue  # the console delivered Ctrl-C to CMD too: let it decide
    except FileNotFoundError:
        raise PipelineError(
            f"command {command[0]!r} not found; check the command after --", ExitCode.USAGE_ERROR
        ) from None
    except PermissionError:
        raise PipelineError(f"command {command[0]!r} is not executable", ExitCode.USAGE_ERROR) from None
    raise AssertionError("unreachable")  # pragma: no cover
