"""The emulated Forge platform: signing keys (JWKS), FIT minting, installations, system tokens, and the invoker.

Attached to a ``Cloud`` as ``cloud.forge``; its routes live on the platform app under ``/forge/``. System tokens are
accepted by the same ``/ex/jira/{cloudId}`` gateway as OAuth tokens, with the token's scopes enforced per operation
from the spec and refused at any other site's cloudId. The invoker calls the app as Forge does: lifecycle events,
the scheduled trigger and pre-uninstall (POST, 5 s timeout, up to 4 retries), and ``invokeRemote`` (25 s, request
at most 500 KB, response at most 5 MB of JSON).
"""

from __future__ import annotations

import base64
import json
import random
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from werkzeug.wrappers import Request, Response

from . import auth

if TYPE_CHECKING:  # pragma: no cover
    from .cloud import Cloud
    from .site import Site

FIT_ISSUER = "forge/invocation-token"
JWKS_PATH = "/forge/.well-known/jwks.json"
SYSTEM_TOKEN_LIFETIME = (2 * 3600, 4 * 3600)  # Forge's app system tokens live a few hours
EVENT_TIMEOUT = 5.0
EVENT_RETRIES = 4
REMOTE_TIMEOUT = 25.0
MAX_REMOTE_REQUEST = 500 * 1024
MAX_REMOTE_RESPONSE = 5 * 1024 * 1024
DELETE = object()  # a claim override that removes the claim
ENVIRONMENT_TYPES = {"production": "PRODUCTION", "staging": "STAGING", "development": "DEVELOPMENT"}


@lru_cache(maxsize=2)
def _rsa_key(slot: int) -> rsa.RSAPrivateKey:
    # Generated once per process per slot (0: Forge's signing key, 1: a stranger's): key generation is slow.
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(eq=False)
class ForgeInstall:
    """One installation of the Forge app on a site; a reinstall is a new one with a new id."""

    installation_id: str
    site: Site
    cloud_id: str
    api_base_url: str
    environment_id: str
    environment_type: str
    scopes: tuple[str, ...]
    active: bool = True


@dataclass
class _Token:
    install: ForgeInstall
    expires_at: float
    scopes: frozenset[str]
    account_id: str | None  # None: the app acting as itself (system token); else a user token
    revoked: bool = False


@dataclass
class Attempt:
    """One delivery attempt of an event: the status (None: timed out or no connection) and the answer."""

    status: int | None
    body: Any
    elapsed: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class InvokeRemoteError(Exception):
    """What the Forge bridge would reject: a request or response over the limits, a non-JSON answer, a timeout."""


@dataclass(eq=False)
class ForgePlatform:
    """Forge for one emulated cloud: the app id, keys, installations, tokens. ``scopes`` is the manifest's."""

    cloud: Cloud
    scopes: tuple[str, ...] = ()
    token_lifetime: tuple[int, int] = SYSTEM_TOKEN_LIFETIME
    seed: int = 10
    installs: dict[str, ForgeInstall] = field(default_factory=dict)
    jwks_failing: bool = False  # the JWKS endpoint answers 503 (Forge's CDN down)
    jwks_fetches: int = 0

    def __post_init__(self) -> None:
        self.app_uuid = str(uuid.uuid4())
        self.app_id = f"ari:cloud:ecosystem::app/{self.app_uuid}"
        self.kid = f"forge-{uuid.uuid4().hex[:16]}"
        self.keys: dict[str, rsa.RSAPrivateKey] = {self.kid: _rsa_key(0)}
        self.rng = random.Random(self.seed)
        self._tokens: dict[str, _Token] = {}
        self._lock = threading.Lock()
        self.minted: list[str] = []  # every FIT signed with Forge's key, in order

    @property
    def clock(self) -> Any:
        return self.cloud.clock

    @property
    def jwks_url(self) -> str:
        """What the app's ``FORGE_JWKS_URL`` must be."""
        return self.cloud.platform_url + JWKS_PATH

    # -- installations ---------------------------------------------------------------------------------------
    def environment_id(self, environment: str) -> str:
        return f"ari:cloud:ecosystem::environment/{self.app_uuid}/{uuid.uuid5(uuid.UUID(self.app_uuid), environment)}"

    def install(self, site: Site, environment: str = "production") -> ForgeInstall:
        """Install the app on ``site`` (a reinstall gets a new installation id; the previous one ends)."""
        env_id = self.environment_id(environment)
        for existing in self.installs.values():
            if existing.active and existing.site is site and existing.environment_id == env_id:
                existing.active = False
        inst = ForgeInstall(installation_id=f"ari:cloud:ecosystem::installation/{uuid.uuid4()}", site=site,
                            cloud_id=site.cloud_id, api_base_url=self.cloud.gateway_url(site),
                            environment_id=env_id,
                            environment_type=ENVIRONMENT_TYPES.get(environment, environment.upper()),
                            scopes=tuple(self.scopes))
        self.installs[inst.installation_id] = inst
        return inst

    def uninstall(self, inst: ForgeInstall) -> None:
        """The installation ends: its tokens stop working at the gateway."""
        inst.active = False

    # -- keys ------------------------------------------------------------------------------------------------
    def rotate_key(self) -> str:
        """Sign with a new key (new kid); the old key stays published. Returns the new kid."""
        self.kid = f"forge-{uuid.uuid4().hex[:16]}"
        self.keys[self.kid] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return self.kid

    def jwks(self) -> dict[str, Any]:
        keys = []
        for kid, key in self.keys.items():
            jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
            keys.append({**jwk, "kid": kid, "alg": "RS256", "use": "sig"})
        return {"keys": keys}

    # -- Forge Invocation Tokens -----------------------------------------------------------------------------
    def fit_claims(self, inst: ForgeInstall, *, principal: str | None = None, module_key: str = "dr-remote-api",
                   lifetime: int = 300, site_url: bool = True) -> dict[str, Any]:
        now = int(self.clock())
        context: dict[str, Any] = {"cloudId": inst.cloud_id, "moduleKey": module_key}
        if site_url:
            context["siteUrl"] = inst.site.base_url
        claims: dict[str, Any] = {
            "iss": FIT_ISSUER, "aud": self.app_id, "iat": now, "nbf": now, "exp": now + lifetime,
            "jti": str(uuid.uuid4()),
            "app": {"id": self.app_id, "version": "1.0.0", "installationId": inst.installation_id,
                    "apiBaseUrl": inst.api_base_url,
                    "environment": {"type": inst.environment_type, "id": inst.environment_id},
                    "module": {"type": "core:endpoint", "key": module_key}, "license": {"isActive": True}},
            "context": context,
        }
        if principal:
            claims["principal"] = principal
        return claims

    def mint_fit(self, inst: ForgeInstall, *, principal: str | None = None, module_key: str = "dr-remote-api",
                 lifetime: int = 300, site_url: bool = True, kid: str | None = None,
                 signing_key: rsa.RSAPrivateKey | None = None, algorithm: str = "RS256",
                 **claim_overrides: Any) -> str:
        """A FIT as Forge signs it. Overrides: ``aud="x"``, dotted ``**{"app.apiBaseUrl": ...}``, ``DELETE``."""
        claims = self.fit_claims(inst, principal=principal, module_key=module_key, lifetime=lifetime,
                                 site_url=site_url)
        for path, value in claim_overrides.items():
            _override(claims, path, value)
        kid = self.kid if kid is None else kid
        if algorithm == "none":
            header = {"alg": "none", "typ": "JWT", "kid": kid}
            return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}."
        key = signing_key or self.keys.get(kid) or self.keys[self.kid]
        fit = jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid})
        self.minted.append(fit)
        return fit

    def bad_fit(self, inst: ForgeInstall, kind: str, **kwargs: Any) -> str:
        """A FIT that is wrong in one way: wrong-aud, wrong-iss, expired, not-yet-valid, unknown-kid, other-key,
        alg-none, hs256."""
        now = int(self.clock())
        if kind == "wrong-aud":
            return self.mint_fit(inst, aud=f"ari:cloud:ecosystem::app/{uuid.uuid4()}", **kwargs)
        if kind == "wrong-iss":
            return self.mint_fit(inst, iss="forge/someone-else", **kwargs)
        if kind == "expired":
            return self.mint_fit(inst, iat=now - 900, nbf=now - 900, exp=now - 600, **kwargs)
        if kind == "not-yet-valid":
            return self.mint_fit(inst, nbf=now + 600, exp=now + 900, **kwargs)
        if kind == "unknown-kid":
            return self.mint_fit(inst, kid=f"forge-{uuid.uuid4().hex[:16]}", signing_key=_rsa_key(1), **kwargs)
        if kind == "other-key":
            return self.mint_fit(inst, signing_key=_rsa_key(1), **kwargs)
        if kind == "alg-none":
            return self.mint_fit(inst, algorithm="none", **kwargs)
        if kind == "hs256":
            claims = self.fit_claims(inst)
            return jwt.encode(claims, "a-shared-secret-long-enough-for-hs256!", algorithm="HS256",
                              headers={"kid": self.kid})
        raise ValueError(f"unknown bad FIT kind {kind!r}")

    # -- app system tokens at the gateway --------------------------------------------------------------------
    def system_token(self, inst: ForgeInstall, lifetime: float | None = None, *,
                     scopes: tuple[str, ...] | None = None, account_id: str | None = None) -> str:
        """An app system token (``x-forge-oauth-system``; with ``account_id``: a user token) for the gateway."""
        if lifetime is None:
            lifetime = self.rng.randint(*self.token_lifetime)
        now = self.clock()
        claims = {"iss": "forge/app-token", "aud": "api.atlassian.com", "sub": account_id or self.app_id,
                  "iat": int(now), "exp": int(now + lifetime), "jti": secrets.token_hex(12),
                  "installationId": inst.installation_id, "cloudId": inst.cloud_id}
        token = jwt.encode(claims, self.keys[self.kid], algorithm="RS256", headers={"kid": self.kid})
        with self._lock:
            self._tokens[token] = _Token(inst, now + lifetime, frozenset(inst.scopes if scopes is None else scopes),
                                         account_id)
        return token

    def expire_tokens(self, inst: ForgeInstall) -> None:
        """Every token of ``inst`` reaches its end now (as if its hours had passed): the gateway refuses it."""
        with self._lock:
            for tok in self._tokens.values():
                if tok.install is inst:
                    tok.expires_at = min(tok.expires_at, self.clock() - 1)

    def issued_tokens(self) -> list[str]:
        """Every system/user token handed out so far (tests check none of them leaks into logs)."""
        with self._lock:
            return list(self._tokens)

    def revoke_tokens(self, inst: ForgeInstall) -> None:
        with self._lock:
            for tok in self._tokens.values():
                if tok.install is inst:
                    tok.revoked = True

    def authenticate(self, site: Site, authorization: str | None) -> auth.Principal | None:
        """The gateway's check of a Forge token; None when the bearer token isn't one of Forge's (try OAuth)."""
        if not authorization or not authorization.startswith("Bearer "):
            return None
        with self._lock:
            tok = self._tokens.get(authorization.removeprefix("Bearer ").strip())
        if tok is None:
            return None
        if tok.revoked or not tok.install.active or tok.expires_at <= self.clock():
            raise auth.AuthError(401, "Unauthorized", gateway=True)
        if tok.install.cloud_id != site.cloud_id:
            raise auth.AuthError(401, "Unauthorized", gateway=True)  # another site's token: tenant isolation
        return auth.Principal(kind="forge", name=self.app_id, account_id=tok.account_id, scopes=tok.scopes)

    # -- the platform's HTTP routes --------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        if request.path == JWKS_PATH and request.method == "GET":
            self.jwks_fetches += 1
            if self.jwks_failing:
                return Response("Service Unavailable", status=503, content_type="text/plain")
            return Response(json.dumps(self.jwks()), content_type="application/json")
        return Response(json.dumps({"code": 404, "message": "Not Found"}), status=404,
                        content_type="application/json")

    def invoker(self, app_base_url: str, **kwargs: Any) -> Invoker:
        return Invoker(self, app_base_url.rstrip("/"), **kwargs)


def _override(claims: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    target = claims
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    if value is DELETE:
        target.pop(parts[-1], None)
    else:
        target[parts[-1]] = value


@dataclass
class Invoker:
    """Calls the app's remote as Forge does. ``drop_responses=n``: the first n answers are lost (Forge retries)."""

    platform: ForgePlatform
    app_base_url: str
    event_timeout: float = EVENT_TIMEOUT
    retries: int = EVENT_RETRIES
    remote_timeout: float = REMOTE_TIMEOUT
    drop_responses: int = 0
    session: requests.Session = field(default_factory=requests.Session)

    # -- events and triggers ---------------------------------------------------------------------------------
    def lifecycle(self, inst: ForgeInstall, event: str = "avi:forge:installed:app", wrapped: bool = True,
                  app_id: str | None = None) -> list[Attempt]:
        """Deliver a lifecycle event; its ``app.id`` is the bare app UUID, as Atlassian's event reference shows
        (unlike the FIT, whose ``app.id`` is the ARI). ``app_id`` sends another value."""
        payload = {"id": inst.installation_id, "eventType": event,
                   "installerAccountId": _admin(inst.site),
                   "app": {"id": self.platform.app_uuid if app_id is None else app_id, "version": "1.0.0"},
                   "environment": {"id": inst.environment_id}, "context": {"cloudId": inst.cloud_id}}
        body = {"payload": payload, "context": {"cloudId": inst.cloud_id, "moduleKey": "lifecycle-trigger"}} \
            if wrapped else payload
        return self._deliver(inst, "/forge/events/lifecycle", body, "lifecycle-trigger")

    def scheduled(self, inst: ForgeInstall) -> list[Attempt]:
        body = {"context": {"cloudId": inst.cloud_id, "moduleKey": "hourly-trigger"}, "userAccess": {"enabled": False}}
        return self._deliver(inst, "/forge/events/hourly", body, "hourly-trigger")

    def pre_uninstall(self, inst: ForgeInstall) -> list[Attempt]:
        body = {"context": {"cloudId": inst.cloud_id, "moduleKey": "pre-uninstall"}}
        return self._deliver(inst, "/forge/events/pre-uninstall", body, "pre-uninstall")

    def _deliver(self, inst: ForgeInstall, path: str, body: Any, module_key: str) -> list[Attempt]:
        """POST with a fresh FIT and system token per attempt; retry timeouts, 429 and 5xx up to ``retries``."""
        attempts: list[Attempt] = []
        for _ in range(1 + self.retries):
            headers = {"Authorization": f"Bearer {self.platform.mint_fit(inst, module_key=module_key, site_url=False)}",
                       "x-forge-oauth-system": self.platform.system_token(inst),
                       "Content-Type": "application/json", "x-b3-traceid": secrets.token_hex(8),
                       "x-b3-spanid": secrets.token_hex(8)}
            started = time.monotonic()
            try:
                resp = self.session.post(self.app_base_url + path, data=json.dumps(body), headers=headers,
                                         timeout=self.event_timeout)
            except requests.RequestException as exc:
                attempts.append(Attempt(None, None, time.monotonic() - started, type(exc).__name__))
                continue
            attempt = Attempt(resp.status_code, _json_or_text(resp), time.monotonic() - started)
            if self.drop_responses > 0:
                self.drop_responses -= 1
                attempts.append(Attempt(None, None, attempt.elapsed, "response lost"))
                continue
            attempts.append(attempt)
            if attempt.ok or (resp.status_code < 500 and resp.status_code != 429):
                break
        return attempts

    # -- invokeRemote from the UI ----------------------------------------------------------------------------
    def invoke_remote(self, inst: ForgeInstall, path: str, method: str = "GET", body: Any = None,
                      principal: str | None = None, *, fit: str | None = None) -> tuple[int, Any]:
        """One ``invokeRemote`` call: ``(status, json_body)``. :raises InvokeRemoteError: outside the contract."""
        data = None if body is None else json.dumps(body).encode()
        if data is not None and len(data) > MAX_REMOTE_REQUEST:
            raise InvokeRemoteError(f"request body of {len(data)} bytes exceeds {MAX_REMOTE_REQUEST}")
        headers = {"Authorization": f"Bearer {fit or self.platform.mint_fit(inst, principal=principal)}",
                   "x-forge-oauth-system": self.platform.system_token(inst),
                   "x-b3-traceid": secrets.token_hex(8), "x-b3-spanid": secrets.token_hex(8)}
        if principal:
            headers["x-forge-oauth-user"] = self.platform.system_token(inst, account_id=principal)
        if data is not None:
            headers["Content-Type"] = "application/json"
        try:
            resp = self.session.request(method, self.app_base_url + path, data=data, headers=headers,
                                        timeout=self.remote_timeout, stream=True)
        except requests.Timeout:
            raise InvokeRemoteError(f"the remote did not answer within {self.remote_timeout} s") from None
        content = resp.raw.read(MAX_REMOTE_RESPONSE + 1, decode_content=True)
        resp.close()
        if len(content) > MAX_REMOTE_RESPONSE:
            raise InvokeRemoteError(f"response larger than {MAX_REMOTE_RESPONSE} bytes")
        if not content:
            return resp.status_code, None
        if resp.headers.get("Content-Type", "").split(";")[0].strip() != "application/json":
            raise InvokeRemoteError(f"the remote answered {resp.status_code} with "
                                    f"{resp.headers.get('Content-Type')!r}, not JSON")
        try:
            return resp.status_code, json.loads(content)
        except ValueError:
            raise InvokeRemoteError("the remote's answer is not valid JSON") from None


def _json_or_text(resp: requests.Response) -> Any:
    try:
        return resp.json()
    except ValueError:
        return resp.text


def _admin(site: Site) -> str:
    from .resources.basics import admin_account_id

    return admin_account_id(site)
