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
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from ..crypto import DecryptionError, keyring
from ..extensions import Model, db
from ..jira.client import NOT_KEPT, ReadCache

MISSING: Any = NOT_KEPT


class ReadJournalEntry(Model):
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
    """The journal of one job. Safe from worker threads.

    Cheap when there is nothing to replay, as on most attempts: the keys already journaled are loaded once (``open``),
    so a read the journal can't answer costs no query; answers are kept as Jira sent them (no re-encoding) and
    written in batches of ``batch`` in one transaction, on the engine apart from the caller's session. An attempt
    that dies loses at most its last unwritten batch, which the next attempt simply reads again.
    """

    def __init__(self, job_id: str, batch: int = 100) -> None:
        self.job_id = job_id
        self.batch = batch
        self.replayed = 0  # answers served from the journal by this object (a figure for logs and tests)
        self._keys: set[str] | None = None  # journaled keys, loaded on first use
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    # -- the ReadCache side (the Jira client) ------------------------------------------------------------------

    def lookup(self, method: str, url: str, params: dict[str, Any] | None, json_body: Any) -> Any:
        """The journaled answer of this read, or ``MISSING``."""
        return self.get(request_key(method, url, params, json_body))

    def keep(self, method: str, url: str, params: dict[str, Any] | None, json_body: Any, raw: bytes) -> None:
        """Journal a read's answer (its body as Jira sent it)."""
        self.put_raw(request_key(method, url, params, json_body), raw)

    # -- by key ----------------------------------------------------------------------------------------------

    def get(self, key: str) -> Any:
        """The journaled answer, or ``MISSING`` (also when it can no longer be decrypted: the read is made again)."""
        if key not in self._known():
            return MISSING
        with self._lock:
            sealed = next((row["body"] for row in self._pending if row["request_key"] == key), None)
        if sealed is None:
            with db.engine.connect() as conn:
                sealed = conn.execute(select(ReadJournalEntry.body).where(
                    ReadJournalEntry.job_id == self.job_id, ReadJournalEntry.request_key == key)).scalar()
        if sealed is None:
            return MISSING
        try:
            body = json.loads(zlib.decompress(keyring().decrypt(sealed)))
        except (DecryptionError, zlib.error, ValueError):
            return MISSING
        with self._lock:
            self.replayed += 1
        return body

    def put(self, key: str, body: Any) -> None:
        self.put_raw(key, json.dumps(body, separators=(",", ":")).encode())

    def put_raw(self, key: str, raw: bytes) -> None:
        sealed = keyring().encrypt(zlib.compress(raw, 1))
        with self._lock:
            known = self._known()
            if key in known:
                return  # the same read journaled already (a concurrent worker): the first answer stands
            known.add(key)
            self._pending.append({"job_id": self.job_id, "request_key": key, "body": sealed})
            batch = self._pending if len(self._pending) >= self.batch else None
            if batch is not None:
                self._pending = []
        if batch is not None:
            self._write(batch)

    def flush(self) -> None:
        """Write what is still buffered."""
        with self._lock:
            batch, self._pending = self._pending, []
        if batch:
            self._write(batch)

    def clear(self) -> int:
        """Forget every journaled answer of the job; returns how many there were."""
        with self._lock:
            self._pending, self._keys = [], set()
        with db.engine.begin() as conn:
            return conn.execute(delete(ReadJournalEntry).where(ReadJournalEntry.job_id == self.job_id)).rowcount

    def __len__(self) -> int:
        self.flush()
        with db.engine.connect() as conn:
            return conn.execute(select(db.func.count()).select_from(ReadJournalEntry).where(
                ReadJournalEntry.job_id == self.job_id)).scalar_one()

    def _known(self) -> set[str]:
        if self._keys is None:
            with db.engine.connect() as conn:
                self._keys = set(conn.execute(select(ReadJournalEntry.request_key).where(
                    ReadJournalEntry.job_id == self.job_id)).scalars())
        return self._keys

    def _write(self, rows: list[dict[str, Any]]) -> None:
        try:
            with db.engine.begin() as conn:
                conn.execute(ReadJournalEntry.__table__.insert(), rows)
        except IntegrityError:
            # Another process journaled some of these (a lease taken over): write the rest one by one.
            for row in rows:
                try:
                    with db.engine.begin() as conn:
                        conn.execute(ReadJournalEntry.__table__.insert(), [row])
                except IntegrityError:
                    pass


class BufferedReadCache(ReadCache, Protocol):
    """A ``ReadCache`` that may hold what it keeps until ``flush``: a ``ReadJournal``, or a chain writing to one."""

    def flush(self) -> None: ...


CacheT = TypeVar("CacheT", bound=BufferedReadCache)


@contextmanager
def journaled_reads(access: Any, journal: CacheT) -> Iterator[CacheT]:
    """Within the block, every read ``access`` makes (through any of its credentials) goes through ``journal``.

    ``access`` is a ``JiraAccess`` or a wrapper of one exposing it as ``inner`` (the restore's paced access).
    Open it *outside* the worker pool making the reads, so that the pool has finished (every answer kept) before the
    journal's last batch is written.
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
        journal.flush()
