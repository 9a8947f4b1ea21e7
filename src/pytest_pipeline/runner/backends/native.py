"""``native`` and ``tox-env`` cells: the environment made as tox makes it (by us, or by
``tox run --notest``: :mod:`pytest_pipeline.runner.tox_setup`), then its commands run as
tox runs them, without tox (:mod:`pytest_pipeline.runner.tox_commands`)."""

from __future__ import annotations

from pytest_pipeline.runner import tox_commands, tox_setup
from pytest_pipeline.runner.backends import Attempt, CellJob

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

        def commands() -> Attempt:
            tox_setup.reset_folders(env)
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
            return attempt

        return job.in_test_slot(notes, commands)


BACKEND = NativeBackend()
