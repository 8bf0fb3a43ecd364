"""Do the access logs (werkzeug's dev server, gunicorn) print the tokens our URLs carry? They must not."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from cryptography.fernet import Fernet

from fakejira.loopback import serve

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJzZWNyZXQtdG9rZW4ifQ.c2lnbmF0dXJlLXNob3VsZC1uZXZlci1iZS1sb2dnZWQ"


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def test_werkzeug_access_log_redacts_jwt(app) -> None:
    """The dev server (flask run) logs each request line: is the jwt query value in it?"""
    lines = _Lines()
    access = logging.getLogger("werkzeug")
    with serve(app) as url:
        access.setLevel(logging.INFO)
        access.addHandler(lines)
        try:
            assert requests.get(f"{url}/healthz?a=1&jwt={TOKEN}&b=2", timeout=10).status_code == 200
            requests.get(f"{url}/admin/recovery?jwt={TOKEN}", timeout=10)
        finally:
            access.removeHandler(lines)
            access.setLevel(logging.WARNING)
    logged = "\n".join(lines.lines)
    assert "/healthz?a=1&jwt=[redacted]&b=2" in logged
    assert "/admin/recovery?jwt=[redacted]" in logged
    assert TOKEN not in logged and TOKEN.split(".")[2] not in logged


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_gunicorn_access_log_redacts_jwt(tmp_path: Path) -> None:
    """Gunicorn as the Procfile runs it, with its access log on: is the jwt query value in the file?"""
    port, log = _free_port(), tmp_path / "access.log"
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "JOBS_MODE")}
    env.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'app.sqlite3'}", "JOBS_SWEEPER": "false",
                "ENCRYPTION_KEYS": Fernet.generate_key().decode(), "LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)})
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
                             "--access-logfile", str(log), "app:create_app()"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/healthz?jwt={TOKEN}", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "gunicorn didn't start"
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    logged = log.read_text()
    assert "/healthz?jwt=[redacted]" in logged
    assert TOKEN not in logged and TOKEN.split(".")[2] not in logged
