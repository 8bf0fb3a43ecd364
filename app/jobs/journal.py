"""A job's read journal: the answers of the Jira reads a job made, kept so that an attempt cut short by Jira's hourly
quota carries on from the read where it stopped instead of reading everything again.

Why: since 2026 Jira charges reads per object returned against an hourly quota. A large site's full read (its
field configurations alone: 80 configurations of 1,600 items) costs more than one hour's quota, so a phase that
re-reads from the start after each wait would never finish. Journaled, each attempt replays the answers it already
paid for (no request, no points) and goes on from there.

Only reads of one phase that doesn't write are journaled (a restore's verification): a journaled answer is what Jira
said at that moment, so a phase that writes between reads must not replay it. The entries are encrypted at rest (they
hold the site's configuration, like a snapshot) and deleted when the job ends.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from ..crypto import DecryptionError, keyring
from ..extensions import db
from ..jira.client import NOT_KEPT

MISSING: Any = NOT_KEPT


class ReadJournalEntry(db.Model):
    __tablename__ = "read_journal"
    __table_args__ = (UniqueConstraint("job_id", "request_key", name="uq_read_journal_job_request"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    request_key: Mapped[str] = mapped_column(String(64))  # sha256 of the request (see ``request_key``)
    body: Mapped[bytes] = mapped_column(LargeBinary)  # the JSON answer, compressed, then encrypted


def request_key(method: str, url: str, params: dict[str, Any] | None, json_body: Any) -> str:
    """One request's identity: method, URL, query (order-free) and body."""
    shape = [method.upper(), url, sorted((str(k), json.dumps(v, sort_keys=True, default=str))
                                         for k, v in (params or {}).items()), json_body]
    return hashlib.sha256(json.dumps(shape, sort_keys=True, default=str).encode()).hexdigest()


class ReadJournal:
    """The journal of one job. Safe from worker threads: each call uses its own short transaction on the engine,
    apart from the caller's session (whose transaction may be held open by the job's own bookkeeping)."""

    def __init__(self, job_id: str) -> None:
        self.job_id = job_id
        self.replayed = 0  # answers served from the journal by this object (a figure for logs and tests)

    def lookup(self, method: str, url: str, params: dict[str, Any] | None, json_body: Any) -> Any:
        """The ``ReadCache`` side the Jira client calls before a read."""
        return self.get(request_key(method, url, params, json_body))

    def keep(self, method: str, url: str, params: dict[str, Any] | None, json_body: Any, answer: Any) -> None:
        """The ``ReadCache`` side the Jira client calls after a read answered."""
        self.put(request_key(method, url, params, json_body), answer)

    def get(self, key: str) -> Any:
        """The journaled answer, or ``MISSING`` (also when it can no longer be decrypted: the read is made again)."""
        with db.engine.connect() as conn:
            sealed = conn.execute(select(ReadJournalEntry.body).where(
                ReadJournalEntry.job_id == self.job_id, ReadJournalEntry.request_key == key)).scalar()
        if sealed is None:
            return MISSING
        try:
            body = json.loads(zlib.decompress(keyring().decrypt(sealed)))
        except (DecryptionError, zlib.error, ValueError):
            return MISSING
        self.replayed += 1
        return body

    def put(self, key: str, body: Any) -> None:
        sealed = keyring().encrypt(zlib.compress(json.dumps(body, separators=(",", ":")).encode(), 6))
        try:
            with db.engine.begin() as conn:
                conn.execute(ReadJournalEntry.__table__.insert().values(
                    job_id=self.job_id, request_key=key, body=sealed))
        except IntegrityError:
            pass  # the same read journaled by a concurrent worker: the first answer stands

    def clear(self) -> int:
        """Forget every journaled answer of the job; returns how many there were."""
        with db.engine.begin() as conn:
            return conn.execute(delete(ReadJournalEntry).where(ReadJournalEntry.job_id == self.job_id)).rowcount

    def __len__(self) -> int:
        with db.engine.connect() as conn:
            return conn.execute(select(db.func.count()).select_from(ReadJournalEntry).where(
                ReadJournalEntry.job_id == self.job_id)).scalar_one()


@contextmanager
def journaled_reads(access: Any, journal: ReadJournal) -> Iterator[ReadJournal]:
    """Within the block, every read ``access`` makes (through any of its credentials) goes through ``journal``.

    ``access`` is a ``JiraAccess`` or a wrapper of one exposing it as ``inner`` (the restore's paced access).
    """
    inner = getattr(access, "inner", access)
    clients = [credential.client for credential in inner.credentials]
    for client in clients:
        client.read_cache = journal
    try:
        yield journal
    finally:
        for client in clients:
            client.read_cache = None
