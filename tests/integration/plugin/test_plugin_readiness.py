"""Readiness of a stage against real local servers and a closed port."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

SMOKE = """
import pathlib
import pytest

def test_unit(): pass

@pytest.mark.smoke
def test_smoke_one():
    pathlib.Path("smoke-ran").touch()

@pytest.mark.smoke
def test_smoke_two(): pass
"""


class Server:
    def __init__(self, status: int) -> None:
        self.hits = 0
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.hits += 1
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep the test output clean

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/health"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


@pytest.fixture
def up_server() -> Iterator[Server]:
    with Server(200) as server:
        yield server


@pytest.fixture
def failing_server() -> Iterator[Server]:
    with Server(503) as server:
        yield server


@pytest.fixture
def closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    sock.close()
    return port


def project(pytester: pytest.Pytester, ready: str, timeout: str = "10s") -> None:
    pytester.makepyprojecttoml(
        f'[tool.pytest-pipeline.stage.smoke]\nready = "{ready}"\nready-timeout = "{timeout}"\n'
    )
    pytester.makepyfile(test_smoke=SMOKE)


def test_ready_http_service_lets_the_stage_run_and_is_asked_once(
    pytester: pytest.Pytester, up_server: Server
) -> None:
    project(pytester, up_server.url)
    result = pytester.runpytest()
    assert result.parseoutcomes() == {"passed": 3}
    result.stdout.fnmatch_lines([f"pipeline: smoke waits for {up_server.url} (up to 10s)"])
    assert up_server.hits == 1


def test_5xx_fails_the_stage_with_one_message(pytester: pytest.Pytester, failing_server: Server) -> None:
    project(pytester, failing_server.url, "0.3s")
    result = pytester.runpytest()
    assert result.parseoutcomes() == {"passed": 1, "errors": 2}
    message = (
        f"stage smoke not ready: {failing_server.url} did not answer 2xx/3xx within 0.3s "
        "(last error: HTTP 503)"
    )
    result.stdout.fnmatch_lines(
        ["*ERROR at setup of test_smoke_one*", message, "*ERROR at setup of test_smoke_two*"]
    )
    result.stdout.fnmatch_lines(["total *", message])  # once more under the stage table
    assert not (pytester.path / "smoke-ran").exists()
    assert failing_server.hits >= 1
    result.stdout.fnmatch_lines(
        [f"pipeline: stage smoke waits up to 0.3s for {failing_server.url} (HTTP 503)"]
    )


def test_closed_tcp_port_times_out(
    pytester: pytest.Pytester, closed_port: int, dist: tuple[str, ...]
) -> None:
    project(pytester, f"tcp://127.0.0.1:{closed_port}", "0.2")
    result = pytester.runpytest(*dist)
    assert result.parseoutcomes() == {"passed": 1, "errors": 2}
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_smoke_one*",
            f"stage smoke not ready: tcp://127.0.0.1:{closed_port} "
            "did not accept a connection within 0.2s (last error: *refused*)",
        ]
    )
    assert not (pytester.path / "smoke-ran").exists()


def test_tcp_target_that_listens_is_ready(pytester: pytest.Pytester) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        project(pytester, f"127.0.0.1:{listener.getsockname()[1]}")
        assert pytester.runpytest().parseoutcomes() == {"passed": 3}


def test_unselected_stage_is_not_waited_for(pytester: pytest.Pytester, up_server: Server) -> None:
    project(pytester, up_server.url)
    assert pytester.runpytest("--stage=unit").parseoutcomes() == {"passed": 1, "deselected": 2}
    assert up_server.hits == 0


def test_not_ready_stage_blocks_later_stages(
    pytester: pytest.Pytester, closed_port: int, dist: tuple[str, ...]
) -> None:
    pytester.makepyprojecttoml(
        '[tool.pytest-pipeline]\nstages = ["smoke", "e2e"]\n'
        f'[tool.pytest-pipeline.stage.smoke]\nready = "127.0.0.1:{closed_port}"\nready-timeout = 0.1\n'
    )
    pytester.makepyfile(
        test_s="import pytest\n\ndef test_s(): pass\n\n@pytest.mark.e2e\ndef test_e(): pass\n"
    )
    assert pytester.runpytest(*dist).parseoutcomes() == {"errors": 1, "blocked": 1}
