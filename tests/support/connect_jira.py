"""Test-side Jira: mints the tokens Jira would send to the app, with keys made in fixtures.

Independent of the app's own JWT code: pyjwt for signatures and Atlassian's ``atlassian_jwt`` for the qsh.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import jwt
from atlassian_jwt.url_utils import hash_url
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.wrappers import Request, Response

from fakejira.loopback import serve


def qsh_of(method: str, url: str, base_url: str) -> str:
    """The qsh Jira would compute for ``url`` sent to a receiver based at ``base_url``."""
    parts = urlsplit(url)
    prefix = urlsplit(base_url).path.rstrip("/")
    path = parts.path[len(prefix):] if prefix and parts.path.startswith(prefix) else parts.path
    return hash_url(method, path + (f"?{parts.query}" if parts.query else ""))


@dataclass
class InstallKey:
    kid: str = field(default_factory=lambda: f"test-{uuid.uuid4().hex[:12]}")
    private: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))

    def public_pem(self) -> bytes:
        return self.private.public_key().public_bytes(serialization.Encoding.PEM,
                                                      serialization.PublicFormat.SubjectPublicKeyInfo)


class KeyServer:
    """Serves public keys by kid, like connect-install-keys.atlassian.com; can be told to misbehave."""

    def __init__(self) -> None:
        self.keys: dict[str, bytes] = {}
        self.mode = "ok"  # ok | down | garbage | error
        self.requests: list[str] = []

    def __call__(self, environ: dict, start_response: Any) -> Any:
        request = Request(environ)
        self.requests.append(request.path)
        kid = request.path.rsplit("/", 1)[-1]
        if self.mode == "garbage":
            resp = Response("<html>not a key</html>", 200)
        elif self.mode == "error":
            resp = Response("oops", 500)
        elif kid in self.keys:
            resp = Response(self.keys[kid], 200, mimetype="application/x-pem-file")
        else:
            resp = Response("not found", 404)
        return resp(environ, start_response)


@contextmanager
def key_server() -> Iterator[tuple[KeyServer, str]]:
    ks = KeyServer()
    with serve(ks) as url:
        yield ks, url


def install_body(app_key: str, client_key: str | None = None, base_url: str = "https://acme.atlassian.net",
                 event: str = "installed", **extra: Any) -> dict[str, Any]:
    body = {
        "key": app_key,
        "clientKey": client_key or str(uuid.uuid4()),
        "sharedSecret": secrets.token_urlsafe(32),
        "baseUrl": base_url,
        "displayUrl": base_url,
        "productType": "jira",
        "description": "Atlassian JIRA at " + base_url,
        "eventType": event,
        "serverVersion": "100265",
        "pluginsVersion": "1001.0.0-SNAPSHOT",
        "cloudId": str(uuid.uuid4()),
    }
    body.update(extra)
    return body


def signed_install_token(key: InstallKey, *, client_key: str, app_base_url: str, path: str = "/installed",
                         method: str = "POST", now: int | None = None, **overrides: Any) -> str:
    """An RS256 install JWT as Jira signs it; ``overrides`` replace or (with None) remove claims."""
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "iss": client_key, "aud": app_base_url, "iat": issued, "exp": issued + 180,
        "qsh": qsh_of(method, app_base_url.rstrip("/") + path, app_base_url), "sub": "connect:" + client_key,
    }
    headers = {"kid": key.kid}
    if "kid" in overrides:
        headers["kid"] = overrides.pop("kid")
    for name, value in overrides.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return jwt.encode(claims, key.private, algorithm="RS256", headers=headers)


def hs256_token(secret: str, *, iss: str, method: str, url: str, base_url: str, sub: str | None = None,
                lifetime: int = 180, now: int | None = None, qsh: str | None = None, **extra: Any) -> str:
    """An HS256 token as Jira signs iframe loads and enabled/disabled callbacks."""
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {"iss": iss, "iat": issued, "exp": issued + lifetime,
                              "qsh": qsh if qsh is not None else qsh_of(method, url, base_url)}
    if sub:
        claims["sub"] = sub
    claims.update(extra)
    return jwt.encode(claims, secret, algorithm="HS256")
