"""A real Chroma server for tests: `chroma run` on 127.0.0.1 (free port, temporary directory, stopped at the
end of the module that uses the `chroma_server` fixture; registered as a plugin in tests/conftest.py)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

HOST = "127.0.0.1"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _chroma_command() -> list[str]:
    beside = Path(sys.executable).with_name("chroma")
    found = str(beside) if beside.exists() else shutil.which("chroma")
    if not found:
        pytest.fail("the `chroma` command (package chromadb) is not installed")
    return [found]


@pytest.fixture(scope="module", name="chroma_server")
def chroma_server_fixture(tmp_path_factory):
    """A `chroma run` server for this module: (host, port)."""
    port = _free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    log = (path / "server.log").open("wb")
    process = subprocess.Popen(
        [*_chroma_command(), "run", "--path", str(path / "db"), "--host", HOST, "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"chroma run exited with {process.returncode}: {(path / 'server.log').read_text()[-2000:]}"
                )
            try:
                if httpx.get(f"http://{HOST}:{port}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("chroma run did not answer within 60 s")
            time.sleep(0.1)
        yield HOST, port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
