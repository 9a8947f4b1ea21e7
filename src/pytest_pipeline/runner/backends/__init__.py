"""How one cell runs, behind one Protocol: :class:`Backend`.

``plan`` decides the way (:mod:`pytest_pipeline.runner.tox_route`); each way is a backend:

* :mod:`.native` (``native`` and ``tox-env``): the environment made as tox makes it (by us,
  or by ``tox run --notest``), the commands run as tox runs them, by us;
* :mod:`.tox` (``tox``): tox runs the commands too;
* :mod:`.nox` (``nox``): ``nox -s SESSION``, as nox runs it.

A backend gets a :class:`CellJob` and answers an :class:`Attempt`: what the commands
did; :func:`pytest_pipeline.runner.execute.run_cell` turns it into the cell's record.
"""

from __future__ import annotations

from collections.abc import Mapping

from pytest_pipeline.runner.backends.base import Backend
from pytest_pipeline.runner.tox_route import Kind


def for_route(kind: Kind) -> Backend:
    from pytest_pipeline.runner.backends import native, nox, tox

    backends: Mapping[Kind, Backend] = {
        "native": native.BACKEND,
        "tox-env": native.BACKEND,
        "tox": tox.BACKEND,
        "nox": nox.BACKEND,
    }
    return backends[kind]
