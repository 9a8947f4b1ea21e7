"""The pre-push hook in real git repositories: real pushes to a local bare remote."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline_testkit import clean_environ, git, git_run, pipeline_cli, pyenv_path
from pytest_pipeline.ci import githook

FAILING = "def test_broken():\n    assert 1 == 2\n"
PASSING = "def test_fine():\n    assert 1 == 1\n"


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with staged tests, committed, with a bare ``origin``; git config is hermetic
    (the hook is found through git's own config: a global core.hooksPath must not interfere)."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    remote = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    work = tmp_path / "work"
    (work / "tests" / "unit").mkdir(parents=True)
    (work / "tests" / "integration").mkdir()
    (work / "pyproject.toml").write_text(
        '[tool.pytest-pipeline]\nstages = ["unit", "integration"]\n', encoding="utf-8"
    )
    (work / "tests" / "unit" / "test_unit.py").write_text(PASSING, encoding="utf-8")
    # A slow stage the hook must not run: it fails, and the push still goes through.
    (work / "tests" / "integration" / "test_slow.py").write_text(FAILING, encoding="utf-8")
    git(work, "init", "-q", "-b", "main")
    git(work, "add", ".")
    git(work, "commit", "-q", "-m", "start")
    git(work, "remote", "add", "origin", str(remote))
    return work


def remote_head(repo: Path, branch: str = "main") -> str:
    out = git(repo, "ls-remote", "origin", f"refs/heads/{branch}").split()
    return out[0] if out else ""


def commit(repo: Path, path: str, text: str) -> str:
    (repo / path).write_text(text, encoding="utf-8")
    git(repo, "add", path)
    git(repo, "commit", "-q", "-m", f"change {path}")
    return git(repo, "rev-parse", "HEAD")


def test_a_failing_unit_test_blocks_the_push_and_a_fixed_one_goes_through(repo: Path) -> None:
    installed = pipeline_cli("install-hook", cwd=repo)
    assert installed.returncode == 0, installed.stderr
    hook = repo / ".git" / "hooks" / "pre-push"
    assert hook.is_file()
    assert os.access(hook, os.X_OK)
    assert githook.MARKER in hook.read_text(encoding="utf-8")
    assert "pytest --stage=unit -x -q" in installed.stdout

    broken = commit(repo, "tests/unit/test_unit.py", FAILING)
    pushed = git_run(repo, "push", "-q", "origin", "main", check=False)
    assert pushed.returncode != 0
    assert "push blocked" in pushed.stderr
    assert "1 failed" in pushed.stdout + pushed.stderr
    assert remote_head(repo) == "", "nothing reached the remote"

    fixed = commit(repo, "tests/unit/test_unit.py", PASSING)
    pushed = git_run(repo, "push", "-q", "origin", "main", check=False)
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    assert remote_head(repo) == fixed != broken


def test_no_verify_is_the_escape(repo: Path) -> None:
    assert pipeline_cli("install-hook", cwd=repo).returncode == 0
    head = commit(repo, "tests/unit/test_unit.py", FAILING)
    assert git_run(repo, "push", "-q", "origin", "main", check=False).returncode != 0
    pushed = git_run(repo, "push", "-q", "--no-verify", "origin", "main", check=False)
    assert pushed.returncode == 0, pushed.stderr
    assert remote_head(repo) == head


def test_works_without_the_virtual_environment_on_path(repo: Path) -> None:
    """The hook uses the interpreter that installed it, not whatever PATH finds."""
    assert pipeline_cli("install-hook", cwd=repo).returncode == 0
    commit(repo, "tests/unit/test_unit.py", FAILING)
    bare_path = os.pathsep.join(p for p in ("/usr/bin", "/bin") if Path(p).is_dir())
    env = {**os.environ, "PATH": bare_path}
    env.pop("VIRTUAL_ENV", None)
    pushed = git_run(repo, "push", "-q", "origin", "main", check=False, env=env)
    assert pushed.returncode != 0
    assert "1 failed" in pushed.stdout + pushed.stderr, (
        "pytest ran (with the recorded interpreter) and failed"
    )
    assert "is gone" not in pushed.stderr


def test_falls_back_to_python3_on_path_when_the_interpreter_is_gone(repo: Path, tmp_path: Path) -> None:
    githook.install(
        githook.DEFAULT_COMMAND, python=str(tmp_path / "deleted-venv" / "bin" / "python"), cwd=repo
    )
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    marker = tmp_path / "ran.txt"
    fake = fake_bin / "python3"
    fake.write_text(f'#!/bin/sh\necho "$@" > {marker}\nexit 0\n', encoding="utf-8")
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}"}
    head = commit(repo, "tests/unit/test_unit.py", FAILING)
    pushed = git_run(repo, "push", "-q", "origin", "main", check=False, env=env)
    assert pushed.returncode == 0, pushed.stderr
    assert "is gone; using python3 on PATH" in pushed.stderr
    assert marker.read_text(encoding="utf-8").split() == ["-m", "pytest", "--stage=unit", "-x", "-q"]
    assert remote_head(repo) == head


def test_the_command_comes_from_the_config_or_the_option(repo: Path) -> None:
    (repo / "pyproject.toml").write_text(
        '[tool.pytest-pipeline]\nstages = ["unit", "integration"]\n\n'
        '[tool.pytest-pipeline.hook]\ncommand = "pytest --stage=integration -q"\n',
        encoding="utf-8",
    )
    git(repo, "commit", "-q", "-am", "hook config")
    assert pipeline_cli("install-hook", cwd=repo).returncode == 0
    pushed = git_run(repo, "push", "-q", "origin", "main", check=False)
    assert pushed.returncode != 0, "the configured (failing) integration stage ran"
    assert "pytest --stage=integration -q" in pushed.stderr

    assert pipeline_cli("install-hook", "--command", "pytest --stage=unit -q", cwd=repo).returncode == 0
    pushed = git_run(repo, "push", "-q", "origin", "main", check=False)
    assert pushed.returncode == 0, pushed.stderr


def test_a_bad_hook_table_is_a_one_line_error(repo: Path) -> None:
    (repo / "pyproject.toml").write_text('[tool.pytest-pipeline.hook]\ncomand = "pytest"\n', encoding="utf-8")
    result = pipeline_cli("install-hook", cwd=repo)
    assert result.returncode == 4
    assert "[tool.pytest-pipeline.hook] has unknown key 'comand'; known keys: command" in result.stderr
    assert not (repo / ".git" / "hooks" / "pre-push").exists()


def test_refuses_someone_elses_hook_without_force(repo: Path) -> None:
    hook = repo / ".git" / "hooks" / "pre-push"
    hook.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    refused = pipeline_cli("install-hook", cwd=repo)
    assert refused.returncode == 4
    assert "was not written by pytest-pipeline; pass --force" in refused.stderr
    assert hook.read_text(encoding="utf-8") == "#!/bin/sh\nexit 0\n"

    forced = pipeline_cli("install-hook", "--force", cwd=repo)
    assert forced.returncode == 0, forced.stderr
    assert githook.is_ours(hook)
    backup = hook.with_name("pre-push" + githook.BACKUP_SUFFIX)
    assert backup.read_text(encoding="utf-8") == "#!/bin/sh\nexit 0\n"
    assert str(backup) in forced.stdout

    again = pipeline_cli("install-hook", "--command", "pytest -q", cwd=repo)
    assert again.returncode == 0, "our own hook is replaced without --force"


def test_uninstall_removes_only_ours(repo: Path) -> None:
    hook = repo / ".git" / "hooks" / "pre-push"
    assert pipeline_cli("uninstall-hook", cwd=repo).stdout.startswith("no pre-push hook installed")
    assert pipeline_cli("install-hook", cwd=repo).returncode == 0
    removed = pipeline_cli("uninstall-hook", cwd=repo)
    assert removed.returncode == 0
    assert not hook.exists()

    hook.write_text("#!/bin/sh\necho theirs\n", encoding="utf-8")
    refused = pipeline_cli("uninstall-hook", cwd=repo)
    assert refused.returncode == 4
    assert "was not written by pytest-pipeline; left as it is" in refused.stderr
    assert hook.read_text(encoding="utf-8") == "#!/bin/sh\necho theirs\n"


THEIRS = "#!/bin/sh\necho 'their own pre-push check' >&2\nexit 0\n"


def their_hook(repo: Path, text: str = THEIRS) -> Path:
    hook = repo / ".git" / "hooks" / "pre-push"
    hook.write_text(text, encoding="utf-8")
    hook.chmod(0o755)
    return hook


def test_uninstall_after_force_puts_their_hook_back(repo: Path) -> None:
    hook = their_hook(repo)
    assert pipeline_cli("install-hook", "--force", cwd=repo).returncode == 0
    backup = hook.with_name("pre-push" + githook.BACKUP_SUFFIX)
    assert backup.is_file()

    removed = pipeline_cli("uninstall-hook", cwd=repo)
    assert removed.returncode == 0, removed.stderr
    assert removed.stdout.splitlines() == [
        f"removed {hook}",
        f"restored the hook install-hook --force had replaced, from {backup}",
    ]
    assert hook.read_text(encoding="utf-8") == THEIRS
    assert os.access(hook, os.X_OK)
    assert not backup.exists()
    commit(repo, "tests/unit/test_unit.py", FAILING)  # our hook would block this push
    pushed = git_run(repo, "push", "-q", "origin", "main", check=False)
    assert pushed.returncode == 0, pushed.stderr
    assert "their own pre-push check" in pushed.stderr, "git runs their hook again"
    assert pipeline_cli("uninstall-hook", cwd=repo).returncode == 4, "theirs is still not ours to remove"


def test_a_second_force_does_not_overwrite_the_kept_hook(repo: Path) -> None:
    hook = their_hook(repo)
    assert pipeline_cli("install-hook", "--force", cwd=repo).returncode == 0
    backup = hook.with_name("pre-push" + githook.BACKUP_SUFFIX)
    other = "#!/bin/sh\necho another tool wrote this\n"
    their_hook(repo, other)  # say another tool replaced ours since

    again = pipeline_cli("install-hook", "--force", cwd=repo)
    assert again.returncode == 4
    assert f"{backup} already keeps the hook an earlier --force replaced" in again.stderr
    assert backup.read_text(encoding="utf-8") == THEIRS, "the original is still there"
    assert hook.read_text(encoding="utf-8") == other

    refused = pipeline_cli("uninstall-hook", cwd=repo)
    assert refused.returncode == 4
    assert f"{backup} (kept by install-hook --force) is left too" in refused.stderr
    assert backup.read_text(encoding="utf-8") == THEIRS


def test_our_own_hook_reinstalled_with_force_keeps_the_backup(repo: Path) -> None:
    hook = their_hook(repo)
    assert pipeline_cli("install-hook", "--force", cwd=repo).returncode == 0
    assert pipeline_cli("install-hook", "--force", "--command", "pytest -q", cwd=repo).returncode == 0
    assert pipeline_cli("uninstall-hook", cwd=repo).returncode == 0
    assert hook.read_text(encoding="utf-8") == THEIRS


def test_core_hooks_path_is_respected(repo: Path) -> None:
    git(repo, "config", "core.hooksPath", ".githooks")
    assert pipeline_cli("install-hook", cwd=repo).returncode == 0
    assert (repo / ".githooks" / "pre-push").is_file()
    assert not (repo / ".git" / "hooks" / "pre-push").exists()
    commit(repo, "tests/unit/test_unit.py", FAILING)
    pushed = git_run(repo, "push", "-q", "origin", "main", check=False)
    assert pushed.returncode != 0
    assert "push blocked" in pushed.stderr


def test_a_push_that_only_deletes_runs_nothing(repo: Path) -> None:
    git(repo, "push", "-q", "origin", "main")
    git(repo, "push", "-q", "origin", "main:doomed")
    assert pipeline_cli("install-hook", cwd=repo).returncode == 0
    (repo / "tests" / "unit" / "test_unit.py").write_text(FAILING, encoding="utf-8")  # would fail if run
    deleted = git_run(repo, "push", "origin", "--delete", "doomed", check=False)
    assert deleted.returncode == 0, deleted.stderr
    assert "pytest-pipeline pre-push:" not in deleted.stderr
    assert remote_head(repo, "doomed") == ""


def test_outside_a_repository(tmp_path: Path) -> None:
    result = pipeline_cli("install-hook", cwd=tmp_path)
    assert result.returncode == 4
    assert "is not inside a git repository" in result.stderr


TOX_INI = """
[tox]
env_list = py312
[testenv]
skip_install = true
deps = pytest>=8
commands = pytest {posargs} -p no:cacheprovider
"""


def test_a_run_hook_reuses_what_already_passed_and_blocks_what_fails(repo: Path) -> None:
    """``install-hook --command "pytest-pipeline run"``: pushing a commit whose cells already
    ran costs only the lookup of their stored results; a failing change still blocks."""
    try:
        environ = clean_environ(PATH=pyenv_path("3.12"), NO_COLOR="1")
    except LookupError as missing:
        pytest.skip(str(missing))
    environ.update({key: os.environ[key] for key in ("GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM")})
    (repo / "tests" / "integration" / "test_slow.py").write_text(PASSING, encoding="utf-8")
    (repo / "tox.ini").write_text(TOX_INI, encoding="utf-8")
    (repo / ".gitignore").write_text(".tox/\n__pycache__/\n", encoding="utf-8")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "tox")
    first = pipeline_cli("run", "-e", "py312", cwd=repo, env=environ)
    assert first.returncode == 0, first.stdout + first.stderr
    installed = pipeline_cli(
        "install-hook", "--command", "pytest-pipeline run -e py312", cwd=repo, env=environ
    )
    assert installed.returncode == 0, installed.stderr

    pushed = git_run(repo, "push", "origin", "main", check=False, env=environ)
    output = pushed.stdout + pushed.stderr
    assert pushed.returncode == 0, output
    assert "passed (reused)" in output  # nothing ran: the stored result of the same inputs
    assert remote_head(repo) == git(repo, "rev-parse", "HEAD")

    broken = commit(repo, "tests/unit/test_unit.py", FAILING)
    pushed = git_run(repo, "push", "origin", "main", check=False, env=environ)
    assert pushed.returncode != 0
    assert "push blocked" in pushed.stderr
    assert remote_head(repo) != broken
