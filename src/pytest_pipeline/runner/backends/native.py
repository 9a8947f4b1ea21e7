"""``native`` and ``tox-env`` cells: the environment made as tox makes it (by us, or by
``tox run --notest``: :mod:`pytest_pipeline.runner.tox_setup`), then its commands run as
tox runs them, without tox (:mod:`pytest_pipeline.runner.tox_commands`)."""

from __future__ import annotations

from pathlib import Path

from pytest_pipeline.runner import bytecode, reuse, tox_commands, tox_setup
from pytest_pipeline.runner.backends.base import Attempt, CellJob
from pytest_pipeline.runner.process import write_log_line
from pytest_pipeline.runner.toxenv import ToxEnv

_PHASES = {"commands": "tests"}
"""The live view's name for a phase (``commands_pre`` and ``commands_post`` as they are)."""


class NativeBackend:
    def run(self, job: CellJob) -> Attempt:
        prepared = tox_setup.prepare_cell(job)
        if isinstance(prepared, Attempt):
            return prepared
        env, notes = prepared
        ctx = job.ctx
        package = ctx.wheel.path.resolve() if ctx.wheel is not None and env.installs_package else None
        inputs = _reuse_inputs(job, env, package)
        if inputs is not None and ctx.reuse is not None and not ctx.reuse.fresh:
            stored, note = reuse.find(ctx.project, inputs.key())
            if note is not None:
                write_log_line(job.log, f"pytest-pipeline: {note}")
            if stored is not None:
                return Attempt(notes=notes, reuse_inputs=inputs, reused=stored)
            if (why := reuse.why_not_reused(ctx.project, job.cell.name, inputs)) is not None:
                write_log_line(job.log, f"pytest-pipeline: runs: {why}")

        new_env = job.route.kind == "native" and notes[0] == tox_setup.CREATED

        def commands() -> Attempt:
            tox_setup.reset_folders(env)
            if new_env:
                _share_bytecode(job, env)
            environ = job.inject(tox_commands.environment(env, ctx.environ, seed=ctx.seed, package=package))
            outcome = tox_commands.run_all(
                env,
                environ=environ,
                log=job.log,
                cancel=job.cancel.event,
                on_phase=lambda key: job.notify(phase=_PHASES.get(key, key)),
            )
            attempt = Attempt(
                exit_code=outcome.exit_code, cancelled=outcome.cancelled, notes=[*notes, *outcome.notes]
            )
            if outcome.not_allowed:
                attempt.env_error = (
                    f"{outcome.not_allowed} is not allowed: add it to allowlist_externals (as tox says)"
                )
            elif outcome.not_found:
                attempt.env_error = f"{outcome.not_found}: command not found"
            attempt.reuse_inputs = inputs
            return attempt

        return job.in_test_slot(notes, commands, new_env=new_env)


def _share_bytecode(job: CellJob, env: ToxEnv) -> None:
    """A new environment takes what its siblings compiled for the same files (in the test
    slot: the siblings that ran before it have compiled by then)."""
    linked = bytecode.share(env.env_dir)
    if linked:
        where = "environments of this interpreter"
        write_log_line(job.log, f"pytest-pipeline: {linked} compiled modules linked from {where}")


def _reuse_inputs(job: CellJob, env: ToxEnv, package: Path | None) -> reuse.Inputs | None:
    """Everything that feeds the cell (see :mod:`pytest_pipeline.runner.reuse`)."""
    ctx = job.ctx
    if ctx.reuse is None:
        return None
    variables = tox_commands.environment(env, ctx.environ, seed="", package=package)
    if "PYTHONHASHSEED" not in env.set_env and "PYTHONHASHSEED" not in ctx.environ:
        variables.pop("PYTHONHASHSEED", None)  # tox draws one per run: not an input
    return reuse.Inputs(
        tool=ctx.injection.path.name,
        wheel=ctx.wheel.artifact.sha256 if package is not None and ctx.wheel is not None else None,
        project=ctx.reuse.project_digest,
        environment=reuse.installed(env.env_dir),
        config=dict(job.cell.config),
        variables=variables,
        stages=job.cell.stages,
        pytest_args=ctx.pytest_args,
    )


BACKEND = NativeBackend()
