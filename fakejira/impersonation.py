"""User impersonation for Connect apps: the emulated ``oauth-2-authorization-server`` (JWT-bearer grant) and its tokens.

Atlassian's "User impersonation for Connect apps": the ``installed`` payload carries ``oauthClientId`` and the shared
secret; an app holding ``ACT_AS_USER`` signs an HS256 assertion with the shared secret (``iss`` =
``urn:atlassian:connect:clientid:{oauthClientId}``, ``sub`` = ``urn:atlassian:connect:useraccountid:{accountId}``,
``tnt`` = the site's base URL, ``aud`` = the authorization server, ``iat``, ``exp`` no later than 60 s ahead) and
POSTs it, form-encoded, to ``{server}/oauth2/token`` with ``grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer``
and an optional ``scope`` (the descriptor's scopes, upper case, space separated). The answer is ``{"access_token",
"expires_in": 900, "token_type": "Bearer"}`` (atlassian-connect-express's fixture); the app then calls the site's own
URL with ``Authorization: Bearer``, as that user. Atlassian publishes no error texts for this server: refusals use
the OAuth 2.0 shapes (RFC 6749 section 5.2, RFC 7523 section 3.1: an assertion that isn't valid is ``invalid_grant``);
``unauthorized_client`` words what a developer saw for an app without the grant (Atlassian developer community,
"Unauthorized_client on Bearer token request").
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import jwt

from .auth import AuthError, Principal
from .oauth import OAuthError

if TYPE_CHECKING:  # pragma: no cover
    from .cloud import Cloud
    from .site import Installation, Site

SERVER_PATH = "/oauth-2-authorization-server"  # on the platform; the real one is its own host
TOKEN_PATH = SERVER_PATH + "/oauth2/token"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CLIENT_PREFIX = "urn:atlassian:connect:clientid:"
USER_PREFIX = "urn:atlassian:connect:useraccountid:"
USERKEY_PREFIX = "urn:atlassian:connect:userkey:"  # deprecated (GDPR): refused
ACT_AS_USER = "ACT_AS_USER"
TOKEN_TTL = 900
MAX_ASSERTION_AHEAD = 60  # "exp": no later than 60 seconds after now
LEEWAY = 30  # clock skew tolerated on an expired assertion, as on Connect JWTs
REQUIRED_CLAIMS = ("iss", "sub", "tnt", "aud", "iat", "exp")
UNAUTHORIZED_CLIENT = "The authenticated client is not authorized to use this authorization grant type"


def _refuse(error: str, description: str, status: int = 400) -> OAuthError:
    return OAuthError(status, error, description)


@dataclass
class ImpersonationToken:
    """A bearer token that acts as ``account_id`` on one site, for one installation, until ``expires_at``."""

    cloud_id: str
    app_key: str
    installation: Installation
    account_id: str
    scopes: frozenset[str]
    expires_at: float
    revoked: bool = False


class ImpersonationServer:
    """The cloud's JWT-bearer authorization server and the tokens it issued (``cloud.impersonation``)."""

    def __init__(self, cloud: Cloud, token_ttl: int = TOKEN_TTL) -> None:
        self.cloud = cloud
        self.token_ttl = token_ttl
        self._tokens: dict[str, ImpersonationToken] = {}
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        """The server's base URL: the assertion's ``aud``; the token endpoint is ``url + "/oauth2/token"``."""
        return self.cloud.platform_url + SERVER_PATH

    @property
    def token_url(self) -> str:
        return self.url + "/oauth2/token"

    # -- the token endpoint ----------------------------------------------------------------------------------
    def token(self, form: Any) -> dict[str, Any]:
        """Answer ``POST /oauth2/token``: check the assertion, issue a token for its user on its site.

        :raises OAuthError: ``unsupported_grant_type``, ``invalid_request``, ``invalid_grant``,
            ``unauthorized_client`` or ``invalid_scope``, with a description that never echoes the assertion.
        """
        if form.get("grant_type") != GRANT_TYPE:
            raise _refuse("unsupported_grant_type",
                          f"Expected grant_type '{GRANT_TYPE}' but received '{form.get('grant_type')}'.")
        assertion = form.get("assertion")
        if not assertion:
            raise _refuse("invalid_request", "The 'assertion' parameter is required.")
        site, inst, claims = self._verify(assertion)
        account_id = self._user(site, claims["sub"])
        if ACT_AS_USER not in inst.scopes:
            raise _refuse("unauthorized_client", UNAUTHORIZED_CLIENT)
        scopes = self._scopes(inst, form.get("scope"))
        return self._issue(site, inst, account_id, scopes)

    def _verify(self, assertion: str) -> tuple[Site, Installation, dict[str, Any]]:
        try:
            header = jwt.get_unverified_header(assertion)
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise _refuse("invalid_grant", "The assertion is not a well-formed JWT.") from None
        if header.get("alg") != "HS256":
            raise _refuse("invalid_grant", f"Expected an HS256 assertion but received alg '{header.get('alg')}'.")
        issuer = unverified.get("iss")
        if not isinstance(issuer, str) or not issuer.startswith(CLIENT_PREFIX):
            raise _refuse("invalid_grant", f"Expected claim 'iss' to be '{CLIENT_PREFIX}<oauthClientId>' "
                                           f"but received {issuer!r}.")
        found = self._installation(issuer.removeprefix(CLIENT_PREFIX))
        if found is None:
            raise _refuse("invalid_grant", "No installed app has the OAuth client id named in claim 'iss'.")
        site, inst = found
        try:
            claims = jwt.decode(assertion, inst.shared_secret, algorithms=["HS256"], audience=self.url,
                                leeway=LEEWAY, options={"require": list(REQUIRED_CLAIMS)})
        except jwt.InvalidSignatureError:
            raise _refuse("invalid_grant", "The assertion's signature does not match the installation's "
                                           "shared secret.") from None
        except jwt.ExpiredSignatureError:
            raise _refuse("invalid_grant", f"The assertion has expired (exp {unverified.get('exp')}, "
                                           f"{LEEWAY} seconds leeway is allowed).") from None
        except jwt.InvalidAudienceError:
            raise _refuse("invalid_grant", f"Expected claim 'aud' to be '{self.url}' but received "
                                           f"{unverified.get('aud')!r}.") from None
        except jwt.PyJWTError as exc:
            raise _refuse("invalid_grant", f"The assertion is invalid: {exc}.") from None
        now = self.cloud.clock()
        if claims["exp"] > now + MAX_ASSERTION_AHEAD:
            raise _refuse("invalid_grant", f"The assertion's exp ({claims['exp']}) must be no later than "
                                           f"{MAX_ASSERTION_AHEAD} seconds from now ({int(now)}).")
        if str(claims["tnt"]).rstrip("/") != site.base_url.rstrip("/"):
            raise _refuse("invalid_grant", f"Expected claim 'tnt' to be the site this OAuth client is installed on "
                                           f"({site.base_url}) but received {claims['tnt']!r}.")
        if not inst.enabled:
            raise _refuse("invalid_grant", f"The app '{inst.app_key}' is disabled on {site.base_url}.")
        return site, inst, claims

    def _installation(self, oauth_client_id: str) -> tuple[Site, Installation] | None:
        for site in list(self.cloud.sites.values()):
            for inst in list(site.installations.values()):
                if inst.oauth_client_id == oauth_client_id:
                    return site, inst
        return None

    @staticmethod
    def _user(site: Site, subject: Any) -> str:
        if isinstance(subject, str) and subject.startswith(USERKEY_PREFIX):
            raise _refuse("invalid_grant", "User keys in claim 'sub' are no longer supported; expected "
                                           f"'{USER_PREFIX}<accountId>'.")
        if not isinstance(subject, str) or not subject.startswith(USER_PREFIX):
            raise _refuse("invalid_grant", f"Expected claim 'sub' to be '{USER_PREFIX}<accountId>' but received "
                                           f"{subject!r}.")
        account_id = subject.removeprefix(USER_PREFIX)
        user = site.store.get("users", account_id)
        if user is None:
            raise _refuse("invalid_grant", f"No user with accountId '{account_id}' on {site.base_url}.")
        if user.get("active") is False:
            raise _refuse("invalid_grant", f"The user '{account_id}' is inactive on {site.base_url}.")
        return account_id

    @staticmethod
    def _scopes(inst: Installation, raw: Any) -> frozenset[str]:
        """The token's scopes: those asked for (all of the descriptor's when none are), each one the app holds."""
        if raw is None or not str(raw).strip():
            return inst.scopes
        asked = frozenset(str(raw).upper().split())
        extra = sorted(asked - inst.scopes)
        if extra:
            raise _refuse("invalid_scope", f"The app '{inst.app_key}' does not have the scope(s) "
                                           f"{', '.join(extra)}; its descriptor has {', '.join(sorted(inst.scopes))}.")
        return asked

    def _issue(self, site: Site, inst: Installation, account_id: str, scopes: frozenset[str]) -> dict[str, Any]:
        access = secrets.token_urlsafe(40)
        with self._lock:
            self._tokens[access] = ImpersonationToken(site.cloud_id, inst.app_key, inst, account_id, scopes,
                                                      self.cloud.clock() + self.token_ttl)
        return {"access_token": access, "expires_in": self.token_ttl, "token_type": "Bearer"}

    # -- the site's side -------------------------------------------------------------------------------------
    def authenticate(self, site: Site, authorization: str) -> Principal:
        """The caller behind ``Authorization: Bearer`` on ``site``'s own URL: the impersonated user.

        :raises AuthError: 401 for an unknown, revoked or expired token, one issued for another site, or one whose
            installation is gone (uninstalled, reinstalled) or disabled.
        """
        with self._lock:
            token = self._tokens.get(authorization.removeprefix("Bearer ").strip())
        if token is None or token.revoked:
            raise AuthError(401, "The bearer token is not a valid access token for this site.")
        if token.expires_at <= self.cloud.clock():
            raise AuthError(401, f"The access token has expired (impersonation tokens last {self.token_ttl} "
                                 "seconds); request a new one with a fresh assertion.")
        if token.cloud_id != site.cloud_id:
            raise AuthError(401, f"The access token was issued for another site, not {site.base_url}.")
        if site.installations.get(token.app_key) is not token.installation or not token.installation.enabled:
            raise AuthError(401, f"The app '{token.app_key}' that the access token was issued to is no longer "
                                 "installed and enabled on this site.")
        return Principal(kind="impersonation", name=token.app_key, account_id=token.account_id,
                         scopes=token.scopes, installation=token.installation)

    # -- test knobs ------------------------------------------------------------------------------------------
    def assertion(self, site: Site, app_key: str, account_id: str, *, lifetime: int = 60,
                  secret: str | None = None, **claims: Any) -> str:
        """An assertion as a well-behaved app builds it; ``claims`` override (``None`` removes one)."""
        inst = site.installations[app_key]
        now = int(self.cloud.clock())
        body: dict[str, Any] = {"iss": CLIENT_PREFIX + inst.oauth_client_id, "sub": USER_PREFIX + account_id,
                                "tnt": site.base_url, "aud": self.url, "iat": now, "exp": now + lifetime}
        for name, value in claims.items():
            if value is None:
                body.pop(name, None)
            else:
                body[name] = value
        return jwt.encode(body, secret if secret is not None else inst.shared_secret, algorithm="HS256")

    def issue_token(self, site: Site, app_key: str, account_id: str, scopes: list[str] | None = None) -> str:
        """Skip the exchange: an access token for ``account_id`` through ``app_key`` on ``site`` (checks the rules)."""
        form = {"grant_type": GRANT_TYPE, "assertion": self.assertion(site, app_key, account_id)}
        if scopes is not None:
            form["scope"] = " ".join(scopes)
        return str(self.token(form)["access_token"])

    def expire_tokens(self) -> None:
        """Make every issued token expired (as if 15 minutes passed)."""
        with self._lock:
            for token in self._tokens.values():
                token.expires_at = self.cloud.clock() - 1

    def revoke_tokens(self, app_key: str | None = None) -> None:
        """Revoke every token (of ``app_key`` only, when given)."""
        with self._lock:
            for token in self._tokens.values():
                if app_key is None or token.app_key == app_key:
                    token.revoked = True
