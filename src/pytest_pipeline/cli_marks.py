"""A mark for the built-in commands' hook implementations that needs no pluggy.

A built-in command whose handler asks no hook is built alone when no installed plugin may
add commands (:data:`pytest_pipeline.commands.WITHOUT_HOOKS`): then nothing else needs
pluggy, and importing it (with ``inspect``) for ``cli_hooks.hookimpl`` alone was about a
tenth of a short command's start-up. The command line's plugin manager
(``cli_hooks.PluginManager``) takes a function marked here as one marked ``@hookimpl``.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: this module exists to keep imports out
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeVar

    HookFunction = TypeVar("HookFunction", bound=Callable[..., object])

BUILT_IN_MARK = "pytest_pipeline_built_in_hook"
"""The attribute :func:`built_in_hook` sets."""


def built_in_hook(function: HookFunction) -> HookFunction:
    """Mark ``function`` as a hook implementation with pluggy's default options."""
    setattr(function, BUILT_IN_MARK, True)
    return function
