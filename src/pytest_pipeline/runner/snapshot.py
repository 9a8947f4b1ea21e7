"""The sources a build reads: a private snapshot of the project, and what its content is.

A build that reads the project folder reads whatever is there while it runs: an edit that
lands during the build, and is then undone with ``cp -p`` (mtime kept), ended up in a
wheel holding code from no commit, and a cache keyed on sizes and mtimes handed that wheel
to later runs. So the build never reads the project folder, and the cache key is content:

* **In a git work tree** the snapshot is a temporary ``git worktree add --detach`` of the
  commit HEAD named when the snapshot was taken: its files come from git's object store,
  which no edit reaches. Uncommitted changes (what makes the tree dirty for the gate:
  tracked files, and untracked files that are neither ignored nor tool output) are copied
  on top, each hashed as it is copied. The content is the commit, the tags (version
  plugins read them) and those hashes.
  A worktree rather than ``git archive``, though both take ~10 ms on a small project: it
  keeps git's metadata, so setuptools-scm, hatch-vcs and versioningit compute the version
  an in-place build computes (from an archive without ``.git`` setuptools-scm fails unless
  the project ships ``.git_archival.txt``), setuptools-scm's file finder (``git ls-files``)
  still lists the package data, and ``export-ignore`` does not drop files.
* **Outside git** (or where git cannot add a worktree: a read-only ``.git``) the project's
  files, tool output aside (:mod:`pytest_pipeline.tool_output`), are copied, each hashed
  as it is copied.

Whatever the build writes (setuptools' ``build/`` and ``*.egg-info``) lands in the
snapshot, which :meth:`Snapshot.close` removes, with its worktree's registration.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from pytest_pipeline import tool_output
from pytest_pipeline.errors import PipelineError
from pytest_pipeline.exitcodes import ExitCode
from pytest_pipeline.git import dirty_paths, git_output

WORKDIR_PREFIX = "pytest-pipeline-build-"
"""The prefix of the temporary folders builds stage in (their snapshots and wheels)."""

_SOURCES = "sources"
_CHANGES = "changes"

_REPOSITORY_ENV = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_PREFIX",
    "GIT_IMPLICIT_WORK_TREE",
)
"""Variables that point git at a repository, an index or a work tree (a git hook sets some):
inside the snapshot they would make git, and a version plugin, read the user's tree."""


def snapshot_environ(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` for processes that work in a snapshot: git finds the snapshot's own
    repository metadata, never the user's index or work tree."""
    return {key: value for key, value in environ.items() if key not in _REPOSITORY_ENV}


class Snapshot:
    """A copy of the project's sources that no later edit reaches, in ``workdir``.

    :attr:`identity` says what the sources are (the cache key is made from it);
    :meth:`tree` makes the files a build reads, on first use only: a cache hit needs
    none. Use as a context manager, or call :meth:`close`.
    """

    def __init__(self, project: Path, workdir: Path) -> None:
        self.project = project
        self.workdir = workdir
        self.identity: dict[str, Any] = {}
        self.description = ""
        """What was snapshot, for the build log: ``commit 1a2b3c4d5e6f (clean)``, ..."""
        self._tree: Path | None = None

    def tree(self) -> Path:
        """The project folder inside the snapshot."""
        if self._tree is None:
            try:
                self._tree = self._make_tree()
            except OSError as exc:
                raise cannot_copy(self.project, exc) from None
        return self._tree

    def _make_tree(self) -> Path:
        raise NotImplementedError

    def close(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def take(project: Path, workdir: Path, *, skip: tuple[Path, ...] = ()) -> Snapshot:
    """A snapshot of ``project`` (its files copied now, or a commit named now) in the empty
    folder ``workdir``; ``skip``: folders in the project that are output (a reports folder)."""
    try:
        return GitSnapshot.take(project, workdir, skip) or CopySnapshot.take(project, workdir, skip)
    except OSError as exc:
        shutil.rmtree(workdir, ignore_errors=True)
        raise cannot_copy(project, exc) from None
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise


def cannot_copy(project: Path, exc: OSError) -> PipelineError:
    """An unreadable file in the project, or a full temporary folder: named, exit 3."""
    return PipelineError(
        f"cannot copy {exc.filename or project} for the build ({exc.strerror or exc}); "
        "fix that, or pass a prebuilt wheel with --installpkg",
        ExitCode.INCOMPLETE,
    )


# --------------------------------------------------------------------------- copies


def copy_hashed(source: Path, target: Path) -> str | None:
    """Copy one file (a symlink as a symlink) and say what its content is: a sha256 and
    whether it is executable, a link's target, or ``deleted``; None for what is not a
    file (a folder, a submodule, a FIFO: never opened, it could block)."""
    try:
        status = os.lstat(source)
    except (FileNotFoundError, NotADirectoryError):
        return "deleted"
    if stat.S_ISLNK(status.st_mode):
        link = os.readlink(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(link, target)
        return f"link:{link}"
    if not stat.S_ISREG(status.st_mode):
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd = os.open(source, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as reader:
        status = os.fstat(reader.fileno())  # of what is read, should the path change meanwhile
        if not stat.S_ISREG(status.st_mode):
            return None
        with target.open("wb") as writer:
            for block in iter(lambda: reader.read(1 << 20), b""):
                digest.update(block)
                writer.write(block)
    os.chmod(target, stat.S_IMODE(status.st_mode))
    executable = "x" if status.st_mode & stat.S_IXUSR else "-"
    return f"{digest.hexdigest()}:{executable}"


def project_files(project: Path, skip: tuple[Path, ...] = ()) -> Iterator[str]:
    """Every file below ``project`` that could end up in (or decide) the built package,
    as a ``/`` path relative to it, sorted: all but tool output, ``skip`` and bytecode."""
    skipped = {path.resolve() for path in skip}
    for folder, dirs, files in os.walk(project):
        here = Path(folder)
        top = here == project
        dirs[:] = sorted(
            d
            for d in dirs
            if not tool_output.is_output_dir(d, top=top) and (here / d).resolve() not in skipped
        )
        links = [d for d in dirs if (here / d).is_symlink()]  # copied as links, not entered
        dirs[:] = [d for d in dirs if d not in links]
        for name in sorted([*files, *links]):
            if name.endswith((".pyc", ".pyo")) or tool_output.is_output_file(name):
                continue
            yield (here / name).relative_to(project).as_posix()


def _digest(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


class CopySnapshot(Snapshot):
    """The project's files copied now: outside git, or where git cannot make a worktree."""

    @classmethod
    def take(cls, project: Path, workdir: Path, skip: tuple[Path, ...], why: str = "") -> CopySnapshot:
        snapshot = cls(project, workdir)
        tree = workdir / _SOURCES / project.name
        tree.mkdir(parents=True)
        files = [(path, copy_hashed(project / path, tree / path)) for path in project_files(project, skip)]
        copied = [(path, content) for path, content in files if content not in (None, "deleted")]
        snapshot.identity = {"copy": _digest(copied)}
        snapshot.description = f"a copy of {len(copied)} files{why}"
        snapshot._tree = tree
        return snapshot


# --------------------------------------------------------------------------- git


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """A git command that writes (adds or removes our worktree): output captured, and no
    variable of the caller's can point it at another index or work tree."""
    return subprocess.run(
        ["git", *args],
        cwd=cwd,
        env=snapshot_environ(os.environ),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
    )


class GitSnapshot(Snapshot):
    """HEAD's commit, checked out in a temporary worktree when a build needs the files,
    plus the uncommitted changes copied now."""

    root: Path
    commit: str
    prefix: str
    changes: list[tuple[str, str]]
    skip: tuple[Path, ...]

    @classmethod
    def take(cls, project: Path, workdir: Path, skip: tuple[Path, ...]) -> GitSnapshot | None:
        """None outside a git work tree, before its first commit, or for a project folder
        git ignores."""
        # A warm run pays three git commands here: root and HEAD, status, HEAD and tags.
        found = git_output(["rev-parse", "--show-toplevel", "--verify", "-q", "HEAD^{commit}"], project)
        if not found:
            return None  # outside a work tree, or before the first commit
        toplevel, _, head = found.rstrip("\n").rpartition("\n")
        root = Path(toplevel)
        read = _head_status_and_tags(root, head.strip())
        if read is None:
            return None
        snapshot = cls(project, workdir)
        snapshot.root = root
        snapshot.commit, status, tags = read
        snapshot.prefix = _relative(root, project) or ""
        snapshot.skip = skip
        extra = [path for path in (_relative(snapshot.root, item) for item in skip) if path]
        paths = sorted(set(dirty_paths(status, extra)) | set(snapshot._submodule_files()))
        inside = any(path.startswith(snapshot.prefix + "/") for path in paths)
        if snapshot.prefix and not inside and not snapshot._in_commit(snapshot.prefix):
            return None  # the project folder is ignored: nothing of it is in git
        changes_dir = workdir / _CHANGES
        snapshot.changes = []
        for path in paths:
            content = copy_hashed(snapshot.root / path, changes_dir / path)
            if content is not None:
                snapshot.changes.append((path, content))
        snapshot.identity = {
            "commit": snapshot.commit,
            "tags": _digest(tags),
            "prefix": snapshot.prefix,
            "changes": snapshot.changes,
        }
        state = f"and {len(snapshot.changes)} uncommitted paths" if snapshot.changes else "(clean)"
        snapshot.description = f"commit {snapshot.commit[:12]} {state}"
        return snapshot

    def _in_commit(self, path: str) -> bool:
        return git_output(["rev-parse", "--verify", "-q", f"{self.commit}:{path}"], self.root) is not None

    def _submodule_files(self) -> list[str]:
        """Files of checked-out submodules, as they are: a worktree leaves submodules empty."""
        if not (self.root / ".gitmodules").is_file():
            return []
        stage = git_output(["ls-files", "-z", "--stage"], self.root) or ""
        gitlinks = [entry.split("\t", 1)[1] for entry in stage.split("\0") if entry.startswith("160000 ")]
        if not gitlinks:
            return []
        listed = git_output(["ls-files", "-z", "--recurse-submodules"], self.root) or ""
        return [path for path in listed.split("\0") if any(path.startswith(link + "/") for link in gitlinks)]

    def _make_tree(self) -> Path:
        checkout = self.workdir / _SOURCES / self.root.name
        forget_stale_worktrees(self.root)
        # No hooks: a post-checkout hook is the user's business, not a snapshot's.
        no_hooks = f"core.hooksPath={self.workdir / 'no-hooks'}"
        add = ["-c", no_hooks, "worktree", "add", "--detach", "--quiet", str(checkout), self.commit]
        added = _git(add, self.root)
        if added.returncode != 0:
            return self._copy_instead(f"git worktree add failed: {added.stderr.strip() or added.returncode}")
        for path, content in self.changes:
            target = checkout / path
            if target.is_symlink() or target.is_file():
                target.unlink()
            if content != "deleted":
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(self.workdir / _CHANGES / path, target)
        return checkout / self.prefix if self.prefix else checkout

    def _copy_instead(self, why: str) -> Path:
        copy = CopySnapshot.take(self.project, self.workdir / "copy", self.skip, why=f" ({why})")
        self.identity, self.description = copy.identity, copy.description
        return copy.tree()

    def close(self) -> None:
        checkout = self.workdir / _SOURCES / self.root.name
        registered = checkout.exists()  # also when applying the changes failed
        super().close()
        if registered:
            _git(["worktree", "remove", "--force", str(checkout)], self.root)


def _head_status_and_tags(root: Path, commit: str) -> tuple[str, str, str] | None:
    """HEAD's commit (``commit``, just read), ``git status`` against that same commit
    (read again should a commit land in between) and the tags (``<object> <ref>`` lines,
    as ``for-each-ref`` prints them); None before the first commit."""
    for _ in range(3):
        status = git_output(["status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames"], root)
        if status is None:
            return None
        # HEAD again, and the tags, in one command: its first line is HEAD's.
        refs = git_output(["show-ref", "--head", "--tags"], root) or ""
        head_line, _, tags = refs.partition("\n")
        if head_line == f"{commit} HEAD":
            return commit, status, tags
        again = git_output(["rev-parse", "--verify", "-q", "HEAD^{commit}"], root)
        if not again:
            return None
        commit = again.strip()
    return None


def forget_stale_worktrees(root: Path) -> None:
    """Unregister the worktrees of snapshots whose folder is gone (a killed run's, removed
    later with its staging folder), and only those: the user's own are not ours to prune."""
    listed = git_output(["worktree", "list", "--porcelain", "-z"], root) or ""
    for field in listed.split("\0"):
        if not field.startswith("worktree "):
            continue
        path = Path(field[len("worktree ") :])
        ours = path.parent.name == _SOURCES and path.parent.parent.name.startswith(WORKDIR_PREFIX)
        if ours and not path.exists():
            _git(["worktree", "remove", "--force", str(path)], root)


def _relative(root: Path, path: Path) -> str | None:
    """``path`` relative to ``root`` with ``/`` (``""`` for the root), or None outside it."""
    with contextlib.suppress(ValueError, OSError):
        relative = path.resolve().relative_to(root.resolve()).as_posix()
        return "" if relative == "." else relative
    return None
