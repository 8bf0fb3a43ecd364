"""Fixtures for the browser end-to-end recovery: in-process jobs, the source seed, a Jira-sized Chromium, axe-core."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.browser.conftest import ARGS, CHROMIUM, SCREENSHOTS

HERE = Path(__file__).resolve().parent
DEMO_SEED = HERE.parents[1] / "fakejira" / "seeds" / "demo.json"
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
SIDEBAR = 240  # the shell's sidebar (fakejira/shell.py); the rest of the window is the app's iframe
HEADER = 48
FRAME = (1024, 768)  # the iframe size the pages must fit


@pytest.fixture
def app_config(app_config: dict) -> dict:
    """Jobs run in-process threads, as in the embedded deployment, so the pages' progress moves by itself."""
    return {**app_config, "JOBS_MODE": "thread", "JOB_THREADS": 2}


@pytest.fixture
def source_seed() -> dict[str, Any]:
    """The source site's configuration: the seed file ``FAKEJIRA_SEED`` names, else the demo company."""
    path = Path(os.environ.get("FAKEJIRA_SEED") or DEMO_SEED)
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def axe_script() -> Path:
    """axe-core from ``npm ci --prefix tests/e2e`` (``.ci/run`` installs it); missing, the accessibility check fails."""
    if not AXE.exists():
        pytest.fail("axe-core is not installed: run `npm ci --prefix tests/e2e`")
    return AXE


@pytest.fixture
def shell_page() -> Iterator[Any]:
    """A page in a fresh headless Chromium sized so the shell's app iframe is 1024x768; only loopback is reached."""
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed (apt-get install -y chromium; .ci/run does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = browser.new_context(viewport={"width": FRAME[0] + SIDEBAR, "height": FRAME[1] + HEADER},
                                      accept_downloads=True)

        def only_loopback(route: Any) -> None:
            # Atlassian's CDN (all.js) is out of reach offline; the pages must work without it.
            if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
                route.continue_()
            else:
                route.abort()

        context.route("**/*", only_loopback)
        context.set_default_timeout(15_000)
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


@pytest.fixture
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
