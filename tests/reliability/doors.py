"""Both front doors, signed in, for sweeping every route of ``app.url_map`` with hostile input: a Connect tenant's
context token (the scripted Jira of ``installed``) and a Forge installation's invocation headers (the emulator).

Import the fixtures into a test module with ``from .doors import *  # noqa: F403``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule
from werkzeug.test import TestResponse

from app.recovery.actions import LADDERS
from tests.forge.api_fixtures import forge_site_factory
from tests.forge.conftest import forge_app, forge_install, invoker

from .conftest import ADMIN, Installed

__all__ = [
    "DEEP_BODIES",
    "HOSTILE_IDS",
    "ID_FIELDS",
    "Doors",
    "Route",
    "doors",
    "forge_app",
    "forge_install",
    "forge_site_factory",
    "invoker",
    "routes",
]

# The reported ones, and the first past PostgreSQL's INTEGER (our id columns): the largest valid id, MAX_ID, is
# swept too, since it does reach the database.
HOSTILE_IDS: tuple[int, ...] = (0, -1, 2**31, 2**63, 2**64 + 1, 10**30)
# 5,000 levels of [ and of {, closed and unclosed, and the two mixed: json.loads recurses once per level.
DEEP_BODIES: dict[str, bytes] = {
    "lists": b"[" * 5000 + b"]" * 5000,
    "objects": b'{"a":' * 5000 + b"1" + b"}" * 5000,
    "unclosed": b"[" * 5000,
    "mixed": b'[{"a":' * 2500 + b"1" + b"}]" * 2500,
}
# Every name under which a route reads an id or a number from a form, a query string or a JSON body.
ID_FIELDS = ("connection", "snapshot_id", "snapshotId", "run_id", "runId", "job", "jobId", "id", "offset", "limit",
             "minutes", "started", "cancelling")
# Values for a route's non-integer path arguments: each action of the connection forms, both report formats.
ARG_SAMPLES: dict[str, tuple[str, ...]] = {
    "action": tuple(dict.fromkeys(a.value for ladder in LADDERS.values() for a in ladder)),
    "fmt": ("json", "csv"),
    "type_key": ("statuses",),
    "filename": ("app.css",),
}
_ARG = re.compile(r"<(?:(?P<conv>[a-z]+)(?:\([^)]*\))?:)?(?P<name>[a-z_]+)>")


@dataclass(frozen=True)
class Route:
    """One method of one rule of the app's URL map."""

    method: str
    rule: str
    int_args: tuple[str, ...]
    other_args: tuple[str, ...]

    @property
    def forge(self) -> bool:
        return self.rule.startswith("/forge/")

    def paths(self, ident: object = 1, *, every_sample: bool = False) -> list[str]:
        """The rule with ``ident`` for each integer argument and sample values for the others."""
        out = [self.rule]
        for name in self.other_args:
            samples = ARG_SAMPLES.get(name, ("x",))
            out = [_fill(p, name, s) for p in out for s in (samples if every_sample else samples[:1])]
        for name in self.int_args:
            out = [_fill(p, name, str(ident)) for p in out]
        return out


def _fill(path: str, name: str, value: str) -> str:
    return _ARG.sub(lambda m: value if m["name"] == name else m[0], path)


def routes(app: Flask) -> list[Route]:
    """Every (method, rule) of both doors, from the URL map itself: a new route is swept without anyone adding it."""
    found = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static":
            continue
        converters = _converters(rule)
        ints = tuple(n for n, c in converters.items() if c == "int")
        others = tuple(n for n, c in converters.items() if c != "int")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append(Route(method, rule.rule, ints, others))
    return found


def _converters(rule: Rule) -> dict[str, str]:
    return {m["name"]: m["conv"] or "default" for m in _ARG.finditer(rule.rule)}


def context_token(t: Installed) -> str:
    now = int(time.time())
    return jwt.encode({"iss": t.client_key, "sub": ADMIN, "iat": now, "exp": now + 600, "qsh": "context-qsh"},
                      t.shared_secret, algorithm="HS256")


@dataclass
class Doors:
    """Sends a request through the door its path belongs to, signed in as that door's admin (or with junk auth)."""

    app: Flask
    client: FlaskClient
    connect_token: str
    forge_platform: Any
    forge_inst: Any
    forge_admin: str
    sent: int = field(default=0)

    def _auth(self, path: str, signed: bool) -> tuple[dict[str, str], dict[str, str]]:
        if path.startswith("/forge/"):
            if not signed:
                return {}, {"Authorization": "Bearer a.b.c"}
            p, inst = self.forge_platform, self.forge_inst
            return {}, {"Authorization": f"Bearer {p.mint_fit(inst, principal=self.forge_admin)}",
                        "x-forge-oauth-system": p.system_token(inst),
                        "x-forge-oauth-user": p.system_token(inst, account_id=self.forge_admin)}
        # Connect: pages take the context token from the query; lifecycle events need *some* JWT header before
        # they read the body, which is where the unauthenticated attacks land.
        return ({"jwt": self.connect_token}, {}) if signed else ({}, {"Authorization": "JWT a.b.c"})

    def send(self, method: str, path: str, *, signed: bool = True, query: dict[str, Any] | None = None,
             data: Any = None, content_type: str | None = None) -> TestResponse:
        auth_query, headers = self._auth(path, signed)
        self.sent += 1
        return self.client.open(path, method=method, query_string={**(query or {}), **auth_query}, data=data,
                                content_type=content_type, headers={"Accept": "application/json", **headers})


@pytest.fixture
def doors(app: Flask, installed: Installed, forge_site_factory, fake_cloud) -> Iterator[Doors]:
    """A Connect tenant and a Forge-installed site on the same app, each with an admin."""
    site = forge_site_factory("swept")
    yield Doors(app, app.test_client(), context_token(installed), fake_cloud.forge, site.inst, site.admin)


def no_crash(resp: TestResponse) -> str | None:
    """What is wrong with an answer to hostile input, if anything: a 5xx, or a traceback in the body."""
    if resp.status_code >= 500:
        return f"{resp.status_code} {resp.get_data()[:200]!r}"
    if b"Traceback" in resp.get_data():
        return "traceback text in the body"
    return None
