"""Does the app run from a built wheel, away from the checkout (templates, static files, migrations, descriptor)?"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
# What a source distribution holds: the package and the files pyproject.toml names (never the tests or a build/).
SOURCE_FILES = ("pyproject.toml", "README.md")
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc")


def _run(args: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(args, cwd=cwd, env=_clean_env(), capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args[:4]} exited {done.returncode}: {done.stderr[-2000:]}"
    return done


def _clean_env() -> dict[str, str]:
    """The environment of a fresh shell: nothing pointing at the checkout, no app settings (embedded defaults)."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SSL_CERT_FILE", "PIP_CONFIG_FILE")
    return {k: os.environ[k] for k in keep if k in os.environ}


def _build_wheel(tmp: Path) -> Path:
    """Build the wheel from a copy of the sources, so no build/ or egg-info lands in the shared checkout."""
    src = tmp / "src"
    shutil.copytree(ROOT / "app", src / "app", ignore=IGNORED)
    for name in SOURCE_FILES:
        shutil.copy2(ROOT / name, src / name)
    # Build isolation, as `pip install .` does: the backend pyproject.toml asks for, from the configured index.
    _run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "-q", "-w", str(tmp / "dist")], cwd=tmp)
    (wheel,) = (tmp / "dist").glob("jira_dr-*.whl")
    return wheel


def _venv_with(wheel: Path, tmp: Path) -> Path:
    """A fresh venv (dependencies from the system's site-packages) where the app itself comes from the wheel."""
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], cwd=tmp)
    _run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", "--no-index", "--ignore-installed",
          str(wheel)], cwd=tmp)
    return venv


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_serving(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(url + "/healthz", timeout=2)
            return
        except requests.RequestException:
            pass
        assert proc.poll() is None, f"flask run exited {proc.returncode}: {log.read_text()[-2000:]}"
        assert time.monotonic() < deadline, f"flask run didn't serve within 30 s: {log.read_text()[-2000:]}"
        time.sleep(0.2)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The venv the wheel was installed into."""
    tmp = tmp_path_factory.mktemp("wheel")
    return _venv_with(_build_wheel(tmp), tmp)


@pytest.fixture(scope="module")
def served(installed: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``flask --app app run`` from the venv, in an empty directory, with every setting at its embedded default."""
    cwd, port = tmp_path_factory.mktemp("elsewhere"), _free_port()
    log = cwd / "flask.log"
    # `python -m flask` is the `flask` command (the venv borrows Flask, and its script, from the system).
    command = [str(installed / "bin" / "python"), "-m", "flask", "--app", "app", "run", "--port", str(port)]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, cwd=cwd, env=_clean_env(), stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(url, proc, log)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_the_app_imported_is_the_installed_one(installed: Path, tmp_path: Path) -> None:
    """From outside the checkout, does ``import app`` find the wheel's copy, with its data files beside it?"""
    probe = ("import app, pathlib; p = pathlib.Path(app.__file__).parent; print(p); "
             "print(all((p / f).is_file() for f in ('templates/home.html', 'static/app.css', 'migrations/env.py', "
             "'connect/atlassian-connect.json', 'jira/operation_scopes.json'))); "
             "print(any((p / 'migrations' / 'versions').glob('*_initial_schema.py')))")
    lines = _run([str(installed / "bin" / "python"), "-c", probe], cwd=tmp_path).stdout.split()
    assert Path(lines[0]).is_relative_to(installed), f"app imported from {lines[0]}, not from the venv"
    assert lines[1:] == ["True", "True"]


def test_flask_run_serves_the_descriptor_and_pages(served: str, installed: Path) -> None:
    """Does the installed app serve the descriptor, the home and docs pages and a stylesheet, migrating its DB?"""
    descriptor = requests.get(served + "/atlassian-connect.json", timeout=10)
    assert descriptor.status_code == 200
    body = descriptor.json()
    assert body["key"] and body["baseUrl"] == "http://localhost:5000" and body["links"]["documentation"] == "/docs"
    home = requests.get(served + "/", timeout=10)
    assert home.status_code == 200 and 'data-testid="home-heading"' in home.text
    assert requests.get(served + "/docs", timeout=10).status_code == 200
    css = requests.get(served + "/static/app.css", timeout=10)
    assert css.status_code == 200 and "--ds-" in css.text
    (database,) = installed.rglob("jira-dr.sqlite3")  # the embedded default: SQLite in the instance folder
    with sqlite3.connect(database) as conn:
        (revision,) = conn.execute("select version_num from alembic_version").fetchone()
    assert revision  # the migrations shipped in the wheel ran on the first request
