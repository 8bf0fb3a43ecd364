"""Does ``python scripts/demo.py`` start both emulated sites with the app installed and framed, and stop on Ctrl-C?"""

from __future__ import annotations

import html
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def _read_until_ready(proc: subprocess.Popen[str], seconds: float) -> str:
    lines: list[str] = []
    deadline = time.monotonic() + seconds
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if line.strip() == "READY":
            return "".join(lines)
    raise AssertionError("the demo never printed READY:\n" + "".join(lines))


def test_the_demo_serves_a_seeded_source_and_an_empty_destination_with_the_app_framed(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "scripts/demo.py", "--data-dir", str(tmp_path)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        out = _read_until_ready(proc, 60)
        pages = {name: re.search(rf"{name} site \([^)]*\):\s+(\S+)", out).group(1)
                 for name in ("Source", "Destination")}
        for name, url in pages.items():
            shell_page = requests.get(url, timeout=10)
            assert shell_page.status_code == 200, name
            src = html.unescape(re.search(r'<iframe[^>]*src="([^"]+)"', shell_page.text).group(1))
            assert "jwt=" in src and src.startswith(re.search(r"The app:\s+(\S+)", out).group(1) + "/admin/recovery?")
            framed = requests.get(src, timeout=10)
            assert framed.status_code == 200 and 'data-testid="source-status"' in framed.text, name
        apps = requests.get(re.search(r"Settings -> Apps:\s+(\S+)", out).group(1), timeout=10)
        assert "io.jira-dr.disaster-recovery" in apps.text
        assert (tmp_path / "jira-dr-demo.sqlite3").exists()
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
