"""``tox`` cells: tox makes the environment and runs the commands (``tox run``), for what
we do not reproduce: a tox plugin we do not know, ``extra_setup_commands``, or
``backend = "tox"``."""

from __future__ import annotations

from pytest_pipeline.runner import tox_setup
from pytest_pipeline.runner.backends.base import Attempt, CellJob


class ToxBackend:
    def run(self, job: CellJob) -> Attempt:
        prepared = tox_setup.prepare_cell(job)
        if isinstance(prepared, Attempt):
            return prepared
        env, notes = prepared

        def commands() -> Attempt:
            tox_setup.reset_folders(env)
            job.notify(phase="tox")
            code, cancelled = tox_setup.run_tox_commands(
                tox_setup.tox_cell(job.ctx),
                job.cell,
                env,
                job.inject(job.ctx.environ),
                log=job.log,
                cancel=job.cancel.event,
            )
            return Attempt(exit_code=code, cancelled=cancelled, notes=notes)

        return job.in_test_slot(notes, commands)


BACKEND = ToxBackend()
