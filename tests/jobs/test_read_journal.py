"""Does a job's read journal replay what it kept, keep only reads, keep them encrypted, and forget them on clear?"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime

from werkzeug.wrappers import Request, Response

from app.extensions import db
from app.jira.client import JiraClient
from app.jobs.journal import MISSING, ReadJournal, ReadJournalEntry, journaled_reads, request_key
from app.jobs.models import Job
from app.tenants import Tenant
from fakejira.loopback import serve


def _job(app) -> str:
    with app.app_context():
        tenant = Tenant(client_key="journal-test", base_url="https://journal.atlassian.net",
                        installed_at=datetime(2026, 11, 26))
        db.session.add(tenant)
        db.session.flush()
        job = Job(tenant_id=tenant.id, kind="restore")
        db.session.add(job)
        db.session.commit()
        return job.id


class _Site:
    """A loopback server answering every request with a body naming how often it was asked."""

    def __init__(self) -> None:
        self.asked: Counter[str] = Counter()

    def __call__(self, environ, start_response):
        request = Request(environ)
        name = f"{request.method} {request.full_path.rstrip('?')}"
        self.asked[name] += 1
        body = {"asked": name, "times": self.asked[name]}
        return Response(json.dumps(body), content_type="application/json")(environ, start_response)


def test_a_journaled_read_is_replayed_without_a_request_and_writes_are_never_journaled(app) -> None:
    job_id = _job(app)
    site = _Site()
    with serve(site) as url, app.app_context():
        client = JiraClient(url, None)
        access = type("Access", (), {"credentials": [type("C", (), {"client": client})()]})()
        journal = ReadJournal(job_id)
        with journaled_reads(access, journal):
            first = client.request("GET", "/rest/api/3/screens", params={"startAt": 0, "maxResults": 100})
            again = client.request("GET", "/rest/api/3/screens", params={"maxResults": 100, "startAt": 0})
            other_page = client.request("GET", "/rest/api/3/screens", params={"startAt": 100, "maxResults": 100})
            client.request("POST", "/rest/api/3/screens", json={"name": "A"})
            client.request("POST", "/rest/api/3/screens", json={"name": "A"})
        assert client.read_cache is None  # only inside the block
        after = client.request("GET", "/rest/api/3/screens", params={"startAt": 0, "maxResults": 100})
        kept = len(journal)

    assert again == first and first["times"] == 1  # the same read (parameters in any order) replayed
    assert other_page["times"] == 1 and "startAt=100" in other_page["asked"]
    assert site.asked["POST /rest/api/3/screens"] == 2  # writes always go to Jira
    assert after["times"] == 2  # outside the block the journal isn't consulted
    assert journal.replayed == 1
    assert kept == 2  # the two distinct reads; no write


def test_the_journal_is_encrypted_at_rest_and_forgotten_on_clear(app) -> None:
    job_id = _job(app)
    secret = {"name": "Payroll board", "jql": "project = PAY"}
    with app.app_context():
        journal = ReadJournal(job_id)
        key = request_key("GET", "https://journal.atlassian.net/rest/api/3/filter/1", None, None)
        journal.put(key, secret)
        journal.put(key, {"name": "a later answer"})  # a concurrent worker's copy: the first answer stands
        journal.flush()  # written in batches
        stored = db.session.scalars(db.select(ReadJournalEntry.body)).all()
        assert len(stored) == 1 and b"Payroll" not in stored[0] and b"PAY" not in stored[0]
        assert journal.get(key) == secret
        assert journal.get(request_key("GET", "https://journal.atlassian.net/other", None, None)) is MISSING
        assert ReadJournal("another-job").get(key) is MISSING  # one job's journal only
        assert journal.clear() == 1
        assert journal.get(key) is MISSING and len(journal) == 0


def test_a_job_deleted_takes_its_journal_with_it(app) -> None:
    job_id = _job(app)
    with app.app_context():
        journal = ReadJournal(job_id)
        journal.put("k" * 64, {"a": 1})
        journal.flush()
        assert len(journal) == 1
        db.session.delete(db.session.get(Job, job_id))
        db.session.commit()
        assert db.session.scalar(db.select(db.func.count()).select_from(ReadJournalEntry)) == 0
