"""Does a refusal reach people as a page and programs as JSON, without leaking what was sent?"""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(("method", "path"), [("GET", "/admin/recovery"), ("POST", "/admin/recovery/source/generate")])
def test_browser_navigation_and_form_posts_get_an_html_page(client, method, path) -> None:
    resp = client.open(path, method=method, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
                       data={"jwt": "forged.token.value"})
    assert resp.status_code == 401
    assert resp.mimetype == "text/html"
    assert b'data-testid="error"' in resp.data and b"forged.token.value" not in resp.data


@pytest.mark.parametrize("accept", ["*/*", "application/json"])
def test_fetch_and_api_clients_get_json(client, accept) -> None:
    resp = client.get("/admin/api/session", headers={"Accept": accept})
    assert resp.status_code == 401 and resp.is_json and resp.get_json()["status"] == 401


def test_oversized_body_is_413_with_the_limit(client, app) -> None:
    app.config["MAX_CONTENT_LENGTH"] = 1024
    resp = client.post("/admin/recovery/source/generate", data={"jwt": "x", "pad": "x" * 4096})
    assert resp.status_code == 413 and "1024 bytes" in resp.get_json()["error"]
