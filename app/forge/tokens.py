"""The freshest Forge app system token per tenant: encrypted at rest, never logged, replaced only by a fresher one.

Forge hands us a system token (``x-forge-oauth-system``) with each invocation; we can neither mint nor refresh one.
Jobs fetch the current token per request, so a long job picks up the token the hourly trigger delivered; with no
usable token they pause (``ForgeTokenUnavailable`` is a ``RateLimited``, which every job already turns into a
requeue) until a fresh one arrives, and then they are woken.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Protocol

import jwt
from sqlalchemy import ForeignKey, String, Text, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from ..clock import utcnow
from ..crypto import DecryptionError, keyring
from ..extensions import Model, affected_rows, db
from ..jira.errors import RateLimited
from ..jobs.dispatch import dispatch
from ..jobs.models import Job, JobState
from ..tenants import Tenant
from .installations import current_installation

log = logging.getLogger(__name__)

SYSTEM_HEADER = "x-forge-oauth-system"
MAX_TOKEN_LENGTH = 16 * 1024
UNKNOWN_LIFETIME = timedelta(minutes=15)  # a token whose expiry we can't read is trusted this long, no more
EXPIRY_MARGIN = timedelta(seconds=30)  # a token this close to its end is not handed out: a call would race it
TOKEN_WAIT_SECONDS = 900.0  # a paused job looks again this late, unless a fresh token wakes it first
TOKEN_WAIT_REASON = ("Waiting for a fresh Forge system token: the last one expired. Forge delivers one with "  # noqa: S105
                     "every invocation and the hourly trigger.")


class ForgeTokenUnavailable(RateLimited):
    """No usable system token for the tenant right now: the job pauses (requeues) until a fresh one arrives."""

    def __init__(self, method: str, path: str, reason: str = TOKEN_WAIT_REASON) -> None:
        self.reason = reason
        super().__init__(method, path, TOKEN_WAIT_SECONDS, {"errorMessages": [reason]})


class ForgeToken(Model):
    """The tenant's freshest app system token (one row per tenant)."""

    __tablename__ = "forge_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), unique=True, index=True)
    installation_id: Mapped[str] = mapped_column(String(255))
    token_enc: Mapped[str] = mapped_column(Text)
    token_sha256: Mapped[str] = mapped_column(String(64))  # identifies the token (e.g. "this one got a 401")
    expires_at: Mapped[datetime] = mapped_column(index=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:  # never the token
        return f"<ForgeToken tenant={self.tenant_id} expires={self.expires_at:%Y-%m-%dT%H:%M:%S}>"


def fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_expiry(token: str, now: datetime | None = None) -> datetime:
    """When a system token expires, from its ``exp`` (read, not verified: Atlassian verifies it, we only sort)."""
    now = now or utcnow()
    try:
        exp = jwt.decode(token, options={"verify_signature": False}).get("exp")
    except jwt.PyJWTError:
        exp = None
    if isinstance(exp, int | float) and not isinstance(exp, bool):
        try:
            return datetime.fromtimestamp(float(exp), UTC).replace(tzinfo=None)  # naive UTC, like our tables
        except (OverflowError, OSError, ValueError):
            pass
    return now + UNKNOWN_LIFETIME


def _usable(token: object) -> bool:
    return (isinstance(token, str) and 0 < len(token) <= MAX_TOKEN_LENGTH
            and all(33 <= ord(c) < 127 for c in token))


class HeaderLookup(Protocol):
    """Request headers as both a ``dict`` and werkzeug's ``Headers`` offer them."""

    def get(self, key: str) -> str | None: ...


def store_from_request(tenant: Tenant, headers: HeaderLookup, *, installation_id: str | None = None) -> bool:
    """Keep the request's ``x-forge-oauth-system`` token if it is fresher than the stored one; True when kept.

    Concurrent writers are safe: the update is conditional on the stored expiry being older, in one statement.
    """
    token = headers.get(SYSTEM_HEADER)
    if not _usable(token):
        return False
    assert isinstance(token, str)
    now = utcnow()
    expires_at = token_expiry(token, now)
    if expires_at <= now:
        return False
    values = {"token_enc": keyring().encrypt_text(token), "token_sha256": fingerprint(token),
              "expires_at": expires_at, "received_at": now,
              "installation_id": installation_id or _installation_of(tenant)}
    tenant_id = tenant.id
    for _ in range(2):
        with Session(db.engine) as session:
            # Fresher wins; a token of another (superseded) installation is dead whatever its expiry says.
            result = session.execute(
                update(ForgeToken).where(ForgeToken.tenant_id == tenant_id,
                                         or_(ForgeToken.expires_at < expires_at,
                                             ForgeToken.installation_id != values["installation_id"]))
                .values(**values).execution_options(synchronize_session=False))
            session.commit()
            if affected_rows(result) == 1:
                log.info("forge system token stored for tenant %s (expires %s)", tenant_id, expires_at)
                return True
            exists = session.scalar(select(ForgeToken.id).where(ForgeToken.tenant_id == tenant_id))
            if exists is not None:
                return False  # what we hold is as fresh or fresher
            session.add(ForgeToken(tenant_id=tenant_id, **values))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()  # another request inserted first: compare against its token
                continue
            log.info("forge system token stored for tenant %s (expires %s)", tenant_id, expires_at)
            return True
    return False


def _installation_of(tenant: Tenant) -> str:
    installation = current_installation(tenant)
    return installation.installation_id if installation is not None else ""


def current_system_token(tenant: Tenant | int) -> str | None:
    """The tenant's freshest system token if it is still usable, else None. Reads in its own short session."""
    tenant_id = tenant if isinstance(tenant, int) else tenant.id
    with Session(db.engine) as session:
        row = session.scalars(select(ForgeToken).where(ForgeToken.tenant_id == tenant_id)).first()
        if row is None or row.expires_at - EXPIRY_MARGIN <= utcnow():
            return None
        try:
            return keyring().decrypt_text(row.token_enc)
        except DecryptionError:
            # Sealed under a key no longer configured: worthless; let the next token replace it.
            log.warning("forge system token of tenant %s can't be decrypted; waiting for a fresh one", tenant_id)
            row.expires_at = utcnow()
            session.commit()
            return None


def invalidate(tenant_id: int, token: str) -> None:
    """Jira refused ``token`` (401): stop handing it out; a fresher token replaces it as usual."""
    with Session(db.engine) as session:
        session.execute(update(ForgeToken)
                        .where(ForgeToken.tenant_id == tenant_id, ForgeToken.token_sha256 == fingerprint(token))
                        .values(expires_at=utcnow()).execution_options(synchronize_session=False))
        session.commit()


def forget(tenant_id: int, installation_id: str) -> None:
    """Drop the token an uninstalled installation left (it is dead at Atlassian's end anyway)."""
    with Session(db.engine) as session:
        session.execute(ForgeToken.__table__.delete().where(ForgeToken.tenant_id == tenant_id,
                                                            ForgeToken.installation_id == installation_id))
        session.commit()


def wake_token_waiters(tenant_id: int) -> list[str]:
    """Requeue now the tenant's jobs that are waiting to retry (a fresh token lets them carry on); their ids."""
    now = utcnow()
    with Session(db.engine) as session:
        ids = list(session.scalars(select(Job.id).where(Job.tenant_id == tenant_id,
                                                        Job.state == JobState.QUEUED.value,
                                                        Job.not_before.is_not(None), Job.not_before > now)))
        if ids:
            session.execute(update(Job).where(Job.id.in_(ids), Job.state == JobState.QUEUED.value)
                            .values(not_before=None).execution_options(synchronize_session=False))
            session.commit()
    if ids:
        for job_id in ids:
            dispatch(job_id)
    return ids
