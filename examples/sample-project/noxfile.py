"""The same matrix for nox users: interpreters x attrs versions."""

import nox


@nox.session(python=["3.10", "3.12"], tags=["tests"])
@nox.parametrize("attrs", ["23.2", "24.2"])
def tests(session: nox.Session, attrs: str) -> None:
    session.install("pytest>=8", f"attrs=={attrs}.*", ".")
    session.run("pytest", *session.posargs)


@nox.session(python=False)
def lint(session: nox.Session) -> None:
    session.run("python", "-c", "print('lint ok')")
