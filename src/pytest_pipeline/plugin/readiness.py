"""Wait, with exponential backoff, until a stage's services answer.

Imported only when a selected stage declares ``ready`` targets. An HTTP(S) target is
up when it answers 2xx or 3xx (redirects are not followed: a 3xx means the server is
there); a TCP target is up when it accepts a connection.

PYTEST_DONT_REWRITE: the pytest plugin imports this module in every test run; see plugin.py.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence

from pytest_pipeline.config import ReadyTarget

ATTEMPT_TIMEOUT = 2.0
"""Longest a single attempt may take, so that a hanging server cannot eat the whole timeout."""
MIN_ATTEMPT_TIMEOUT = 1.0
"""Shortest: a busy machine must not turn a clear answer (HTTP 503) into "timed out"."""
FIRST_DELAY = 0.05
MAX_DELAY = 2.0

Probe = Callable[[ReadyTarget, float], "str | None"]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # a 3xx is an answer; urllib then raises HTTPError carrying its code


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def probe(target: ReadyTarget, timeout: float) -> str | None:
    """None when ``target`` is up, otherwise what went wrong (for the final message)."""
    if target.kind == "tcp":
        try:
            socket.create_connection((target.host, target.port), timeout=timeout).close()
        except OSError as exc:
            return str(exc) or type(exc).__name__
        return None
    handlers: list[urllib.request.BaseHandler] = [_NoRedirect()]
    if _is_loopback(target.host):
        handlers.append(urllib.request.ProxyHandler({}))  # a proxy cannot reach our loopback
    opener = urllib.request.build_opener(*handlers)
    try:
        with opener.open(target.target, timeout=timeout) as response:
            code = response.status
    except urllib.error.HTTPError as exc:
        code = exc.code
        exc.close()
    except urllib.error.URLError as exc:
        return str(exc.reason)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return str(exc) or type(exc).__name__
    if 200 <= code < 400:
        return None
    return f"HTTP {code}"


def wait_ready(
    stage: str,
    targets: Sequence[ReadyTarget],
    timeout: float,
    *,
    check: Probe = probe,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    waiting: Callable[[ReadyTarget, str], None] | None = None,
) -> str | None:
    """Wait for every target within ``timeout`` seconds in all (a last attempt may
    overrun it by up to ``MIN_ATTEMPT_TIMEOUT``).

    Returns None when all answered, otherwise the one-line message every test of the
    stage fails with. ``waiting(target, error)`` is called once, at the first failed
    attempt, so that a long wait does not look like a hang.
    """
    deadline = clock() + timeout
    for target in targets:
        delay = FIRST_DELAY
        while True:
            remaining = deadline - clock()
            error = check(target, min(ATTEMPT_TIMEOUT, max(MIN_ATTEMPT_TIMEOUT, remaining)))
            if error is None:
                break
            if waiting is not None:
                waiting(target, error)
                waiting = None
            remaining = deadline - clock()
            if remaining <= 0:
                return not_ready_message(stage, target, timeout, error)
            sleep(min(delay, remaining))
            delay = min(delay * 2, MAX_DELAY)
    return None


def not_ready_message(stage: str, target: ReadyTarget, timeout: float, error: str) -> str:
    answer = "answer 2xx/3xx" if target.kind == "http" else "accept a connection"
    return f"stage {stage} not ready: {target} did not {answer} within {timeout:g}s (last error: {error})"
