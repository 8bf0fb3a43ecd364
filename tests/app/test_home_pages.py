"""Do ``/`` and the descriptor's documentation link (``/docs``) answer with a small page instead of 404?"""

from __future__ import annotations

import json


def test_home_and_docs_are_served(client) -> None:
    home = client.get("/")
    assert home.status_code == 200 and b'data-testid="home-heading"' in home.data
    assert b"/atlassian-connect.json" in home.data
    descriptor = json.loads(client.get("/atlassian-connect.json").data)
    docs = client.get(descriptor["links"]["documentation"])
    assert docs.status_code == 200 and b'data-testid="docs-heading"' in docs.data
