"""Access tokens from a stored grant: Atlassian's token endpoint, and refresh-token rotation that no race can lose.

Atlassian's refresh tokens rotate: each refresh returns a new one and kills the old. Two workers refreshing with the
same token would see one succeed and the other refused, and the loser must neither mark the grant revoked nor
overwrite the winner's new token. So a worker first claims a short *lease* on the grant with a conditional UPDATE
(``... WHERE version = :read AND lease free``), refreshes outside any transaction, and saves the rotated tokens with
another conditional UPDATE that bumps ``version``. Workers that lose the claim wait for the winner's tokens. No
database lock is held during the HTTP call, and the same code is atomic on SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from flask import current_app
from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from ..clock import utcnow
from ..crypto import keyring
from ..extensions import affected_rows, db
from ..jira.bearer import RefreshingBearerAuth, rest_path
from ..jira.errors import JiraUnavailable, NeedsAuthorisation
from .models import GrantState, OAuthGrant, sources_of

log = logging.getLogger(__name__)

REFRESH_MARGIN = timedelta(seconds=60)  # renew early: a token expiring mid-request would fail that request
TOKEN_TIMEOUT = (5.0, 20.0)
# Longer than the token request's timeouts together, so a lease never lapses while its holder is still refreshing.
LEASE = timedelta(seconds=60)
REVOKED_REASON = ("Atlassian refused to renew the access: the consent was revoked, or it went unused for too long. "
                  "Re-authorise to bring back full backup and restore.")
EXPIRED_REASON = ("The access expired and Atlassian gave no refresh token to renew it (the consent lacked "
                  "offline access). Re-authorise to bring back full backup and restore.")


class TokenRefused(Exception):
    """Atlassian's token endpoint said no (``invalid_grant``: a used or revoked code or refresh token)."""

    def __init__(self, status: int, error: str, description: str) -> None:
        self.status, self.error, self.description = status, error, description
        super().__init__(f"Atlassian refused the token request ({status} {error}): {description}")


class AuthServerUnavailable(JiraUnavailable):
    """Atlassian's authorization server couldn't be reached or failed; retrying later may work."""

    def __init__(self, detail: str, status: int = 0) -> None:
        super().__init__("POST", "/oauth/token", status, {"errorMessages": [detail]})


class GrantUnusable(Exception):
    """The tenant's grant can't give a token (revoked, expired, removed); ``reason`` is safe to show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class GrantNeedsReauthorisation(NeedsAuthorisation):
    """A call needed the OAuth grant, and the grant turned out unusable while we were calling."""


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str | None
    expires_in: int
    scopes: tuple[str, ...] | None  # None: the answer didn't say

    def expires_at(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.expires_in)

    def __repr__(self) -> str:  # never a token
        return f"<TokenSet expires_in={self.expires_in} refresh={'yes' if self.refresh_token else 'no'}>"


def token_request(body: dict[str, str]) -> TokenSet:
    """POST to Atlassian's token endpoint with our client credentials added.

    :raises TokenRefused: a 4xx answer.
    :raises AuthServerUnavailable: no answer, a 5xx, or an answer without an access token.
    """
    cfg = current_app.config
    payload = {"client_id": cfg["ATLASSIAN_OAUTH_CLIENT_ID"], "client_secret": cfg["ATLASSIAN_OAUTH_CLIENT_SECRET"],
               **body}
    try:
        resp = requests.post(f"{cfg['ATLASSIAN_AUTH_URL']}/oauth/token", json=payload, timeout=TOKEN_TIMEOUT,
                             allow_redirects=False)
    except requests.RequestException as exc:
        raise AuthServerUnavailable(f"Atlassian's authorization server did not answer ({type(exc).__name__}).") \
            from None
    try:
        data: Any = resp.json()
    except ValueError:
        data = {}
    if resp.status_code >= 500:
        raise AuthServerUnavailable("Atlassian's authorization server failed; try again later.", resp.status_code)
    if resp.status_code != 200 or not isinstance(data, dict):
        error = str(data.get("error") or "error") if isinstance(data, dict) else "error"
        description = str(data.get("error_description") or "") if isinstance(data, dict) else ""
        raise TokenRefused(resp.status_code, error[:64], description[:200])
    access = data.get("access_token")
    if not isinstance(access, str) or not access:
        raise AuthServerUnavailable("Atlassian's token answer had no access token.", resp.status_code)
    refresh = data.get("refresh_token")
    scope = data.get("scope")
    return TokenSet(access, refresh if isinstance(refresh, str) and refresh else None,
                    int(data.get("expires_in") or 3600),
                    tuple(scope.split()) if isinstance(scope, str) else None)


@dataclass(frozen=True)
class _Snapshot:
    version: int
    state: str
    reason: str | None
    access_token: str | None
    refresh_token: str | None
    access_expires_at: datetime | None


class TokenProvider:
    """Valid access tokens for one stored grant, refreshing (and rotating) when needed.

    Works in its own short database sessions, so it never commits (or waits on) the caller's unit of work.
    """

    def __init__(self, grant_id: int, *, sleep: Callable[[float], None] = time.sleep, poll: float = 0.05) -> None:
        self.grant_id = grant_id
        self.sleep = sleep
        self.poll = poll

    def token(self) -> tuple[str, int]:
        """A valid access token and the grant version it belongs to.

        :raises GrantUnusable: the grant is revoked, expired or gone.
        :raises AuthServerUnavailable: Atlassian couldn't be asked, or another worker's refresh never finished.
        """
        give_up = time.monotonic() + LEASE.total_seconds() + 5
        while True:
            snap = self._read()
            if snap is None:
                raise GrantUnusable("Full backup and restore isn't authorised for this site.")
            if snap.state != GrantState.ACTIVE:
                raise GrantUnusable(snap.reason or "The authorisation is no longer active.")
            now = utcnow()
            if snap.access_token and snap.access_expires_at and snap.access_expires_at - REFRESH_MARGIN > now:
                return snap.access_token, snap.version
            if not snap.refresh_token:
                self._conditional(snap.version, GrantState.EXPIRED, EXPIRED_REASON)
                continue
            if self._claim(snap.version, now):
                fresh = self._refresh(snap)
                if fresh is not None:
                    return fresh
                continue
            # Another worker holds the lease: its new tokens will show up under a new version.
            if time.monotonic() > give_up:
                raise AuthServerUnavailable("Another worker's token refresh did not finish; try again.")
            self.sleep(self.poll)

    def invalidate(self, version: int) -> None:
        """The gateway refused the access token of ``version``: make the next ``token()`` refresh."""
        with Session(db.engine) as session:
            session.execute(update(OAuthGrant)
                            .where(OAuthGrant.id == self.grant_id, OAuthGrant.version == version)
                            .values(access_expires_at=None))
            session.commit()

    # -- steps ------------------------------------------------------------------------------------------------

    def _read(self) -> _Snapshot | None:
        with Session(db.engine) as session:
            grant = session.get(OAuthGrant, self.grant_id)
            if grant is None:
                return None
            return _Snapshot(grant.version, grant.state, grant.reason, grant.access_token, grant.refresh_token,
                             grant.access_expires_at)

    def _claim(self, version: int, now: datetime) -> bool:
        """Take the refresh lease on ``version``; True when this worker is the one to refresh."""
        with Session(db.engine) as session:
            result = session.execute(
                update(OAuthGrant)
                .where(OAuthGrant.id == self.grant_id, OAuthGrant.version == version,
                       OAuthGrant.state == GrantState.ACTIVE.value,
                       or_(OAuthGrant.refreshing_until.is_(None), OAuthGrant.refreshing_until < now))
                .values(refreshing_until=now + LEASE)
                .execution_options(synchronize_session=False))
            session.commit()
            return affected_rows(result) == 1

    def _refresh(self, snap: _Snapshot) -> tuple[str, int] | None:
        """Rotate the refresh token under the lease; None when the grant changed meanwhile (re-read it)."""
        try:
            tokens = token_request({"grant_type": "refresh_token", "refresh_token": snap.refresh_token or ""})
        except TokenRefused as refused:
            if refused.error == "invalid_grant":
                # We hold the lease on this version, so nobody else used this refresh token: it is really dead.
                if self._conditional(snap.version, GrantState.REVOKED, REVOKED_REASON):
                    log.warning("oauth grant %s revoked: Atlassian refused its refresh token", self.grant_id)
                    raise GrantUnusable(REVOKED_REASON) from None
                return None
            self._release(snap.version)
            raise AuthServerUnavailable(f"Atlassian refused the app's token request ({refused.status} "
                                        f"{refused.error}); check the OAuth client settings.", refused.status) \
                from None
        except AuthServerUnavailable:
            self._release(snap.version)
            raise
        now = utcnow()
        values: dict[str, Any] = {
            "access_token_enc": keyring().encrypt_text(tokens.access_token),
            "access_expires_at": tokens.expires_at(now),
            "version": snap.version + 1,
            "refreshing_until": None,
            "refreshed_at": now,
        }
        if tokens.refresh_token:
            values["refresh_token_enc"] = keyring().encrypt_text(tokens.refresh_token)
        if tokens.scopes is not None:
            values["scopes"] = " ".join(tokens.scopes)
        with Session(db.engine) as session:
            result = session.execute(
                update(OAuthGrant)
                .where(OAuthGrant.id == self.grant_id, OAuthGrant.version == snap.version)
                .values(**values).execution_options(synchronize_session=False))
            session.commit()
        if affected_rows(result) != 1:
            # Re-authorised while we refreshed: those tokens belong to the replaced consent; use the new one.
            return None
        log.info("oauth grant %s refreshed (version %d)", self.grant_id, snap.version + 1)
        return tokens.access_token, snap.version + 1

    def _release(self, version: int) -> None:
        with Session(db.engine) as session:
            session.execute(update(OAuthGrant)
                            .where(OAuthGrant.id == self.grant_id, OAuthGrant.version == version)
                            .values(refreshing_until=None).execution_options(synchronize_session=False))
            session.commit()

    def _conditional(self, version: int, target: GrantState, reason: str) -> bool:
        """Move the grant to ``target`` if it is still at ``version`` and the transitions table allows it."""
        with Session(db.engine) as session:
            result = session.execute(
                update(OAuthGrant)
                .where(OAuthGrant.id == self.grant_id, OAuthGrant.version == version,
                       OAuthGrant.state.in_(sources_of(target)))
                .values(state=target.value, reason=reason, state_changed_at=utcnow(), refreshing_until=None,
                        access_token_enc=None, refresh_token_enc=None, access_expires_at=None)
                .execution_options(synchronize_session=False))
            session.commit()
            return affected_rows(result) == 1


class GrantBearerAuth(RefreshingBearerAuth):
    """``Authorization: Bearer`` from the grant; on a 401 (token revoked early) refreshes once and resends."""

    def __init__(self, provider: TokenProvider, fix: str) -> None:
        self.provider = provider
        self.fix = fix

    def current_token(self, r: requests.PreparedRequest) -> tuple[str, int]:
        try:
            return self.provider.token()
        except GrantUnusable as exc:
            raise GrantNeedsReauthorisation(r.method or "GET", rest_path(r.url or ""),
                                            f"{self.fix} ({exc.reason})") from None

    def fresh_token(self, resp: requests.Response, marker: Any) -> str:
        self.provider.invalidate(marker)
        return self.current_token(resp.request)[0]

    def __repr__(self) -> str:  # never a token
        return f"<GrantBearerAuth grant={self.provider.grant_id}>"
