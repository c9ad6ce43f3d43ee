"""Slow clients (slowloris) against the server as `make run` starts it: the Procfile's web
command, on a free port of 127.0.0.1. Three clients trickle their headers a line at a
time and never finish; the site still answers. The control runs the same attack against
sync workers (what the issue found) and shows it does take the site down, so the test
can tell the two apart. The full stack's defence is nginx (deploy/nginx.conf), checked
in tests/security/test_stack.py."""

import http.client
import os
import shlex
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The count: three slow connections took two sync workers down.
SLOW_CLIENTS = 3
# A probe that gets no answer in this long counts as the site being down; the slow
# clients keep trickling for longer than every probe together.
PROBE_TIMEOUT = 5
PROBES = 4


def _procfile_web_command() -> list[str]:
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == "web":
            return shlex.split(command)
    raise AssertionError("The Procfile has no web process.")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _with_bind(command: list[str], port: int) -> list[str]:
    bind = command.index("--bind")
    return [*command[: bind + 1], f"127.0.0.1:{port}", *command[bind + 2 :]]


def _get(port: int, path: str = "/healthz") -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=PROBE_TIMEOUT)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


class _Server:
    """gunicorn started from a command line, waited for, and stopped with its workers."""

    def __init__(self, command: list[str], tmp_path: Path):
        self.port = _free_port()
        env = {
            **os.environ,
            # /healthz runs SELECT 1; an empty SQLite file is enough for it.
            "DATABASE_URL": f"sqlite:///{tmp_path / 'slow.sqlite3'}",
            "DJANGO_SETTINGS_MODULE": "portal.settings",
        }
        self.process = subprocess.Popen(
            _with_bind(command, self.port),
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def wait_ready(self):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "gunicorn exited on start"
            try:
                if _get(self.port) == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("gunicorn did not start")

    def stop(self):
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


class _Slowloris:
    """SLOW_CLIENTS connections that send a request line and then one header line a
    second, never the blank line that ends the headers, until stopped."""

    def __init__(self, port: int):
        self.stop = threading.Event()
        self.sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(SLOW_CLIENTS)]
        for sock in self.sockets:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        self.thread = threading.Thread(target=self._trickle, daemon=True)
        self.thread.start()

    def _trickle(self):
        n = 0
        while not self.stop.wait(1):
            n += 1
            for sock in self.sockets:
                try:
                    sock.sendall(f"X-Slow-{n}: 1\r\n".encode())
                except OSError:
                    continue

    def close(self):
        self.stop.set()
        self.thread.join()
        for sock in self.sockets:
            sock.close()


def _probe_under_attack(command, tmp_path) -> list:
    server = _Server(command, tmp_path)
    try:
        server.wait_ready()
        attack = _Slowloris(server.port)
        try:
            # Let every slow connection reach a worker before probing.
            time.sleep(2)
            results = []
            for _ in range(PROBES):
                try:
                    results.append(_get(server.port))
                except TimeoutError:
                    results.append("no answer")
                    break
            return results
        finally:
            attack.close()
    finally:
        server.stop()


@pytest.mark.skipif(not (ROOT / ".venv/bin/gunicorn").exists(), reason="needs make install")
def test_the_site_answers_while_slow_clients_trickle_their_headers(tmp_path):
    command = _procfile_web_command()
    assert command[command.index("--worker-class") + 1] == "gthread"

    results = _probe_under_attack(command, tmp_path)

    assert results == [200] * PROBES


@pytest.mark.skipif(not (ROOT / ".venv/bin/gunicorn").exists(), reason="needs make install")
def test_control_sync_workers_are_taken_down_by_the_same_clients(tmp_path):
    command = [".venv/bin/gunicorn", "portal.wsgi", "--bind", "127.0.0.1:8000", "--workers", "2"]

    results = _probe_under_attack(command, tmp_path)

    assert "no answer" in results
