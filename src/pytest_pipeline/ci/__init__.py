"""CI providers: GitHub Actions, Azure Pipelines and GitLab CI, as plugins.

Each provider is a :class:`~pytest_pipeline.ci.provider.Provider` subclass returned by a
``pytest_pipeline_ci_providers`` hook implementation; the built-ins live in this
package and another package adds its own through the ``pytest_pipeline`` entry-point
group. Use :func:`providers`, :func:`get` and :func:`detect` rather than importing a
provider module: they see the installed plugins too.

Everything here is standard library only: the command line imports it on every call.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, TextIO

from pytest_pipeline.cli_hooks import hookimpl
from pytest_pipeline.errors import PipelineError

if TYPE_CHECKING:
    import pluggy

    from pytest_pipeline.ci.provider import Provider

BUILTIN_PROVIDER_MODULES = (
    "pytest_pipeline.ci.github",
    "pytest_pipeline.ci.azure",
    "pytest_pipeline.ci.gitlab",
)

__all__ = ["BUILTIN_PROVIDER_MODULES", "BuiltinProvider", "detect", "get", "providers"]


class BuiltinProvider:
    """A built-in provider module, registered without importing it.

    Every command registers the CI providers, but only a few ask for them (``plan
    --format github``, ``ci-report``, ``init-ci``): the module, and the templates and
    results model it imports, load on the first call of the hook, which then answers
    exactly as the module's own ``pytest_pipeline_ci_providers`` does.
    """

    def __init__(self, module: str) -> None:
        self.module = module

    def __repr__(self) -> str:
        return f"<BuiltinProvider {self.module}>"

    @hookimpl
    def pytest_pipeline_ci_providers(self) -> type[Provider] | list[type[Provider]] | None:
        hook = importlib.import_module(self.module).pytest_pipeline_ci_providers
        result: type[Provider] | list[type[Provider]] | None = hook()
        return result


def providers(pm: pluggy.PluginManager) -> dict[str, type[Provider]]:
    """Every registered provider class by name, in detection order (installed ones first)."""
    from pytest_pipeline.ci.provider import Provider

    found: dict[str, type[Provider]] = {}
    for result in pm.hook.pytest_pipeline_ci_providers():
        for cls in result if isinstance(result, (list, tuple)) else [result]:
            if cls is None:
                continue
            if not (isinstance(cls, type) and issubclass(cls, Provider)) or not cls.name:
                raise PipelineError(
                    f"CI provider plugin returned {cls!r}: return a Provider subclass with a name; "
                    "fix or uninstall the plugin"
                )
            other = found.get(cls.name)
            if other is not None and other is not cls:
                raise PipelineError(
                    f"two CI providers are named {cls.name!r} ({_qualname(other)} and {_qualname(cls)}); "
                    "uninstall one of the plugins"
                )
            found[cls.name] = cls
    return found


def get(
    pm: pluggy.PluginManager,
    name: str,
    *,
    environ: Mapping[str, str] | None = None,
    stream: TextIO | None = None,
) -> Provider:
    """The provider called ``name``, bound to ``environ`` and ``stream``."""
    known = providers(pm)
    if name not in known:
        raise PipelineError(f"unknown CI provider {name!r}; choose one of {', '.join(sorted(known))}")
    return known[name](environ, stream)


def detect(
    pm: pluggy.PluginManager,
    environ: Mapping[str, str],
    stream: TextIO | None = None,
) -> Provider | None:
    """The provider whose CI this process runs in, or None (a developer's machine)."""
    for cls in providers(pm).values():
        if cls.detect(environ):
            return cls(environ, sys.stdout if stream is None else stream)
    return None


def _qualname(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"
