"""Small HTTP clients for tests: a Connect app calling a served site (HS256 JWT), an OAuth app via the gateway."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import requests

from . import installer
from .site import Site

TIMEOUT = 10


class ConnectClient:
    """Calls ``site`` as the installed app ``app_key`` would: a fresh JWT with the right qsh on every request."""

    def __init__(self, site: Site, app_key: str, *, timeout: float = TIMEOUT) -> None:
        self.site, self.app_key, self.timeout = site, app_key, timeout
        self.session = requests.Session()

    def request(self, method: str, path: str, *, query: dict[str, Any] | list[tuple[str, Any]] | None = None,
                json: Any = None, data: bytes | str | None = None, headers: dict[str, str] | None = None,
                token: str | None = None, claims: dict[str, Any] | None = None,
                secret: str | None = None, algorithm: str = "HS256") -> requests.Response:
        """Send one request; ``token``/``claims``/``secret``/``algorithm`` let a test forge a bad JWT."""
        path_and_query = f"{path}?{urlencode(query, doseq=True)}" if query else path
        if token is None:
            token = installer.app_token(self.site, self.app_key, method, path_and_query, claims=claims,
                                        secret=secret, algorithm=algorithm)
        sent = {"Authorization": f"JWT {token}", "Accept": "application/json", **(headers or {})}
        return self.session.request(method, self.site.base_url + path_and_query, json=json, data=data,
                                    headers=sent, timeout=self.timeout)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> requests.Response:
        return self.request("PUT", path, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.request("DELETE", path, **kw)


class GatewayClient:
    """Calls a site through ``<platform>/ex/jira/<cloudId>`` with an OAuth 2.0 bearer token."""

    def __init__(self, cloud: Any, site: Site, access_token: str, *, timeout: float = TIMEOUT) -> None:
        self.base = cloud.gateway_url(site)
        self.access_token, self.timeout = access_token, timeout

    def request(self, method: str, path: str, **kw: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.access_token}", "Accept": "application/json",
                   **kw.pop("headers", {})}
        return requests.request(method, self.base + path, headers=headers, timeout=self.timeout, **kw)

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        return self.request("POST", path, **kw)
