"""An emulated Atlassian cloud: several independent Jira sites plus the platform (install keys, OAuth, gateway).

In-process, ``cloud.site_app(name)`` and ``cloud.platform_app`` are plain WSGI apps. ``cloud.serve()`` runs each
site and the platform as threaded servers on 127.0.0.1 (ephemeral ports); a site's ``base_url`` becomes its
server's URL. Every spec violation any site notices is recorded here, for the pytest plugin to fail the test.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.wrappers import Request, Response

from . import seeding
from .app import SiteApp
from .forge import ForgePlatform
from .impersonation import TOKEN_PATH, ImpersonationServer
from .oauth import AuthorizationServer, OAuthError
from .server import ServerThread
from .site import Site

ALL_CLOUDS: weakref.WeakSet[Cloud] = weakref.WeakSet()
GATEWAY_PREFIX = "/ex/jira/"


@dataclass
class Violation:
    """A request or response that breaks the Jira spec (or an emulator crash), seen by one site."""

    site: str
    kind: str  # "request", "response", "crash", "route"
    method: str
    path: str
    template: str | None
    messages: list[str]
    expected: bool = False

    def __str__(self) -> str:
        return f"[{self.site}] {self.kind} {self.method} {self.path}: " + "; ".join(self.messages)


@lru_cache(maxsize=1)
def _shared_rsa_key() -> rsa.RSAPrivateKey:
    # One key per process keeps test start-up fast; each cloud still has its own kid.
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class InstallKey:
    kid: str
    private_key: rsa.RSAPrivateKey

    @property
    def private_pem(self) -> bytes:
        return self.private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption())

    @property
    def public_pem(self) -> str:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@dataclass(eq=False)
class Cloud:
    """Sites by name, the platform app, the OAuth server, the install keys and the recorded violations."""

    clock: Callable[[], float] = time.time
    sites: dict[str, Site] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)
    platform_url: str = "http://platform.fakejira.invalid"

    def __post_init__(self) -> None:
        self.oauth = AuthorizationServer(site_lookup=self.find_site, clock=self.clock)
        self.forge = ForgePlatform(self)  # the Forge platform: JWKS, FITs, installations, system tokens
        self.impersonation = ImpersonationServer(self)  # Connect user impersonation (JWT-bearer grant)
        self.install_keys: dict[str, InstallKey] = {}
        self.install_key = self.rotate_install_key()
        self._apps: dict[str, SiteApp] = {}
        self._servers: dict[str, ServerThread] = {}
        self._platform_server: ServerThread | None = None
        self._expecting = 0
        self._lock = threading.Lock()
        ALL_CLOUDS.add(self)

    # -- sites -----------------------------------------------------------------------------------------------
    def add_site(self, name: str, seed: dict[str, Any] | None = None, *, defaults: bool = True) -> Site:
        """A new site with Jira's defaults and ``seed``; served at once if the cloud is serving."""
        if name in self.sites:
            raise ValueError(f"site {name!r} already exists")
        site = seeding.new_site(name, f"https://{name}.atlassian.net", seed, defaults=defaults)
        site.cloud = self
        self.sites[name] = site
        self._apps[name] = SiteApp(self, site)
        if self._platform_server is not None:
            self._serve_site(name)
        return site

    def site(self, name: str) -> Site:
        return self.sites[name]

    def find_site(self, key: str) -> Site | None:
        """A site by name or cloud id."""
        if key in self.sites:
            return self.sites[key]
        return next((s for s in self.sites.values() if s.cloud_id == key), None)

    def site_app(self, name: str) -> SiteApp:
        """The site's WSGI app (its own URL: Connect JWT auth, plus the control API)."""
        return self._apps[name]

    # -- install keys ----------------------------------------------------------------------------------------
    def rotate_install_key(self) -> InstallKey:
        """A new install-signing key with a new kid (rotation always makes a new kid); old kids stay served."""
        key = InstallKey(str(uuid.uuid4()),
                         _shared_rsa_key() if not self.install_keys else rsa.generate_private_key(65537, 2048))
        self.install_keys[key.kid] = key
        self.install_key = key
        return key

    @property
    def install_keys_url(self) -> str:
        """What the app's ``CONNECT_INSTALL_KEYS_URL`` should be."""
        return f"{self.platform_url}/install-keys"

    # -- violations ------------------------------------------------------------------------------------------
    def record_violation(self, site: Site, kind: str, method: str, path: str, template: str | None,
                         messages: list[str]) -> None:
        with self._lock:
            self.violations.append(Violation(site.name, kind, method, path, template, list(messages),
                                             expected=self._expecting > 0))

    @contextmanager
    def expect_violations(self) -> Iterator[list[Violation]]:
        """Violations recorded inside this block are expected (a test provoking them on purpose)."""
        with self._lock:
            self._expecting += 1
            start = len(self.violations)
        try:
            yield self.violations_since(start)
        finally:
            with self._lock:
                self._expecting -= 1

    def violations_since(self, start: int) -> list[Violation]:
        return _LiveSlice(self.violations, start)

    def unexpected_violations(self) -> list[Violation]:
        with self._lock:
            return [v for v in self.violations if not v.expected]

    # -- serving ---------------------------------------------------------------------------------------------
    def start(self) -> Cloud:
        """Serve the platform and every site on 127.0.0.1 ephemeral ports."""
        if self._platform_server is None:
            self._platform_server = ServerThread(self.platform_app).start()
            self.platform_url = self._platform_server.url
            for name in self.sites:
                self._serve_site(name)
        return self

    def stop(self) -> None:
        for site in self.sites.values():
            site.webhooks.close()
        for server in self._servers.values():
            server.stop()
        self._servers.clear()
        if self._platform_server is not None:
            self._platform_server.stop()
            self._platform_server = None

    @contextmanager
    def serve(self) -> Iterator[Cloud]:
        self.start()
        try:
            yield self
        finally:
            self.stop()

    def _serve_site(self, name: str, port: int = 0) -> None:
        server = ServerThread(self._apps[name], port=port).start()
        self._servers[name] = server
        self.sites[name].base_url = server.url

    # -- the platform app ------------------------------------------------------------------------------------
    def platform_app(self, environ: dict[str, Any], start_response: Any) -> Any:
        """WSGI app for install keys, the OAuth server, accessible-resources, /me and the API gateway."""
        request = Request(environ)
        return self._platform(request)(environ, start_response)

    def _platform(self, request: Request) -> Response:
        path = request.path
        if path.startswith(GATEWAY_PREFIX):
            return self._gateway(request)
        if path.startswith("/forge/"):
            return self.forge.handle(request)
        if path.startswith("/install-keys/") and request.method == "GET":
            key = self.install_keys.get(path.removeprefix("/install-keys/"))
            if key is None:
                return Response("Not Found", status=404, content_type="text/plain")
            return Response(key.public_pem, content_type="application/x-pem-file")
        if path == "/authorize" and request.method == "GET":
            status, text = self.oauth.authorize(request.args)
            if status == 302:
                return Response(status=302, headers={"Location": text})
            return Response(text, status=status, content_type="text/plain")
        if path == "/oauth/token" and request.method == "POST":
            return self._token(request)
        if path == TOKEN_PATH and request.method == "POST":
            return self._impersonation_token(request)
        if path == "/oauth/token/accessible-resources" and request.method == "GET":
            return self._accessible_resources(request)
        if path == "/me" and request.method == "GET":
            grant = self._bearer_grant(request)
            if grant is None:
                return _json({"code": 401, "message": "Unauthorized"}, 401)
            return _json({"account_id": grant.account_id, "account_type": "atlassian",
                          "name": grant.account_id, "account_status": "active"})
        return _json({"code": 404, "message": "Not Found"}, 404)

    def _token(self, request: Request) -> Response:
        form: Any = request.form
        if request.mimetype == "application/json":
            form = request.get_json(silent=True) or {}
        try:
            return _json(self.oauth.token(form))
        except OAuthError as err:
            return _json(err.body(), err.status)

    def _impersonation_token(self, request: Request) -> Response:
        """The JWT-bearer grant of Connect user impersonation (form-encoded, as Atlassian documents it)."""
        form: Any = request.form
        if request.mimetype == "application/json":
            form = request.get_json(silent=True) or {}
        try:
            return _json(self.impersonation.token(form))
        except OAuthError as err:
            return _json(err.body(), err.status)

    def _bearer_grant(self, request: Request) -> Any:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None
        return self.oauth.lookup_access_token(header.removeprefix("Bearer ").strip())

    def _accessible_resources(self, request: Request) -> Response:
        grant = self._bearer_grant(request)
        if grant is None:
            return _json({"code": 401, "message": "Unauthorized"}, 401)
        out = [{"id": site.cloud_id, "url": site.base_url, "name": site.name, "scopes": list(grant.scopes),
                "avatarUrl": "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/site.png"}
               for site in self.sites.values() if site.cloud_id in grant.cloud_ids]
        return _json(out)

    def _gateway(self, request: Request) -> Response:
        cloud_id, _, rest = request.path.removeprefix(GATEWAY_PREFIX).partition("/")
        site = self.find_site(cloud_id) if cloud_id else None
        if site is None or site.cloud_id != cloud_id:
            return _json({"code": 404, "message": "Not Found"}, 404)
        return self._apps[site.name].handle(request, "/" + rest, mode="oauth")

    def gateway_url(self, site: Site | str) -> str:
        """The gateway base URL an OAuth client uses for ``site``: ``<platform>/ex/jira/<cloudId>``."""
        found = self.find_site(site) if isinstance(site, str) else site
        assert found is not None
        return f"{self.platform_url}{GATEWAY_PREFIX}{found.cloud_id}"


class _LiveSlice(list):  # type: ignore[type-arg]
    """A view of the violations list from ``start`` on that stays current while the ``with`` block runs."""

    def __init__(self, source: list[Violation], start: int) -> None:
        super().__init__()
        self._source, self._start = source, start

    def _now(self) -> list[Violation]:
        return self._source[self._start:]

    def __iter__(self) -> Iterator[Violation]:
        return iter(self._now())

    def __len__(self) -> int:
        return len(self._now())

    def __getitem__(self, index: Any) -> Any:
        return self._now()[index]

    def __bool__(self) -> bool:
        return bool(self._now())

    def __repr__(self) -> str:
        return repr(self._now())


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")
