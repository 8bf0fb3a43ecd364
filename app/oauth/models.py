"""The stored OAuth 2.0 grant of a tenant (tokens encrypted at rest) and the pending, single-use ``state`` values."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import utcnow
from ..crypto import keyring
from ..extensions import Model


class GrantState(StrEnum):
    """Where an admin's consent stands. A new consent always moves the grant (back) to ACTIVE."""

    ACTIVE = "active"  # tokens we can use (the access token may need a refresh)
    EXPIRED = "expired"  # the access token ran out and there is no refresh token to renew it
    REVOKED = "revoked"  # Atlassian refused the refresh token, or an administrator removed the access


# The one transitions table: target state -> the states it may be reached from (None: no grant row yet).
TRANSITIONS: dict[GrantState, frozenset[GrantState | None]] = {
    GrantState.ACTIVE: frozenset({None, GrantState.ACTIVE, GrantState.EXPIRED, GrantState.REVOKED}),
    GrantState.EXPIRED: frozenset({GrantState.ACTIVE}),
    GrantState.REVOKED: frozenset({GrantState.ACTIVE, GrantState.EXPIRED}),
}


class GrantTransitionRefused(Exception):
    """A move the transitions table doesn't allow (e.g. an already revoked grant 'expiring')."""


def sources_of(target: GrantState) -> list[str]:
    """The stored state values a grant may move to ``target`` from (for conditional UPDATEs)."""
    return [s.value for s in TRANSITIONS[target] if s is not None]


class OAuthGrant(Model):
    """One tenant's OAuth 2.0 (3LO) grant: who consented, to which site (cloudId), which scopes, and the tokens.

    ``version`` changes with every token rotation or re-authorisation: writers update only the version they read,
    so two workers refreshing at once can never overwrite a newer refresh token with a dead one.
    """

    __tablename__ = "oauth_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), unique=True, index=True)
    cloud_id: Mapped[str] = mapped_column(String(64))
    site_url: Mapped[str] = mapped_column(String(512))
    account_id: Mapped[str] = mapped_column(String(128))  # the Jira administrator who authorised it
    scopes: Mapped[str] = mapped_column(Text, default="")  # space-separated, as Atlassian returns them
    access_token_enc: Mapped[str | None] = mapped_column(Text)
    access_expires_at: Mapped[datetime | None] = mapped_column(default=None)
    refresh_token_enc: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    refreshing_until: Mapped[datetime | None] = mapped_column(default=None)  # lease of the worker refreshing
    state: Mapped[str] = mapped_column(String(16), default=GrantState.ACTIVE.value)
    reason: Mapped[str | None] = mapped_column(Text)  # why it is expired or revoked, safe to show
    authorised_at: Mapped[datetime] = mapped_column(default=utcnow)
    state_changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    refreshed_at: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def grant_state(self) -> GrantState:
        return GrantState(self.state)

    @property
    def scope_set(self) -> set[str]:
        return set(self.scopes.split())

    @property
    def access_token(self) -> str | None:
        return keyring().decrypt_text(self.access_token_enc) if self.access_token_enc else None

    @property
    def refresh_token(self) -> str | None:
        return keyring().decrypt_text(self.refresh_token_enc) if self.refresh_token_enc else None

    def set_tokens(self, access_token: str, refresh_token: str | None, expires_at: datetime) -> None:
        self.access_token_enc = keyring().encrypt_text(access_token)
        self.refresh_token_enc = keyring().encrypt_text(refresh_token) if refresh_token else None
        self.access_expires_at = expires_at

    def __repr__(self) -> str:  # never a token
        return f"<OAuthGrant tenant={self.tenant_id} cloud={self.cloud_id} {self.state} v{self.version}>"


def move(grant: OAuthGrant | None, target: GrantState, *, reason: str | None = None,
         new: OAuthGrant | None = None) -> OAuthGrant:
    """Move ``grant`` (or, when there is none yet, ``new``) to ``target``; the caller commits.

    :raises GrantTransitionRefused: when the table doesn't allow the move.
    """
    current = grant.grant_state if grant is not None else None
    if current not in TRANSITIONS[target]:
        raise GrantTransitionRefused(f"An OAuth grant can't become {target.value} while it is "
                                     f"{current.value if current else 'absent'}.")
    row = grant if grant is not None else new
    if row is None:
        raise GrantTransitionRefused("There is no grant to move.")
    row.state = target.value
    row.reason = reason
    row.state_changed_at = utcnow()
    if target is not GrantState.ACTIVE:
        # Dead tokens are worth nothing, and a secret not kept can't leak.
        row.access_token_enc = row.refresh_token_enc = None
        row.access_expires_at = None
    return row


class OAuthPendingState(Model):
    """An authorisation in progress: the ``state`` sent to Atlassian, bound to the tenant and the admin who started
    it. Stored as a hash, used once, and short-lived, since the callback carries no JWT and ``state`` is its only
    proof of who asked."""

    __tablename__ = "oauth_pending_states"

    id: Mapped[int] = mapped_column(primary_key=True)
    state_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column(default=None)
