"""Do both doors answer every domain error with the same status, stable code and words — the one table's — when an
admin meets it through the Connect pages (plain forms, real HTTP) and through the Forge API (real FITs)?"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import pytest
import requests

from app.answers import DOOR_ERRORS, ERROR_TABLE
from app.backups.schedule import ConfirmDeletions, ScheduleError
from app.backups.snapshots import SnapshotNotFound
from app.http_input import InvalidInput
from app.issuedata.before import BeforeError
from app.recovery import connections as rc
from app.recovery.actions import ChoiceMissing
from app.recovery.tokens import new_token
from app.restore.service import RestoreRefused
from fakejira import installer
from fakejira.resources.basics import admin_account_id
from tests.admin.test_recovery_page import Admin, Page
from tests.admin.test_schedule_page import snapshots
from tests.forge.api_fixtures import *  # noqa: F403
from tests.forge.api_fixtures import ForgeSite, tenant_url

# Where each Connect page puts the answer's code (``data-code``) and its words.
WORDS_OF = {"notice": "notice", "error": "error-message", "restore-refused": "restore-refused",
            "schedule-error": "schedule-error", "schedule-confirm": "schedule-confirm-words",
            "before-refusal": "before-refusal"}
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
SCHEDULE = {"interval_hours": "24", "retention_daily": "30", "retention_weekly": "8"}


@dataclass(frozen=True)
class Said:
    """What a door answered: the HTTP status, the stable code and the words."""

    status: int
    code: str
    words: str


def connect_said(resp: requests.Response) -> Said:
    """The answer as the Connect page shows it: the element carrying ``data-code``, and its words."""
    page = Page(resp)
    marked = [(testid, els[0]) for testid, els in page.parsed.by_testid.items() if "data-code" in els[0].attrs]
    assert len(marked) == 1, (resp.status_code, [t for t, _ in marked], resp.text[:300])
    testid, element = marked[0]
    words = page.text(WORDS_OF[testid]).removesuffix(" Nothing was changed.")
    return Said(resp.status_code, element.attrs["data-code"], words)


def forge_said(answer: tuple[int, Any]) -> Said:
    status, body = answer
    return Said(status, body["error"]["code"], body["error"]["message"])


class ConnectDoor:
    """An admin of a Connect site posting the page's forms (no JavaScript) with a fresh context token."""

    def __init__(self, app: Any, admin: Admin) -> None:
        self.app, self.admin = app, admin

    def token(self) -> str:
        self.admin.open()
        return self.admin.context_token()

    def post(self, path: str, data: dict[str, str]) -> Said:
        resp = requests.post(urljoin(self.admin.base, path), data={"jwt": self.token(), **data},
                             headers=BROWSER, allow_redirects=False, timeout=10)
        return connect_said(resp)

    def get(self, path: str, **query: str) -> Said:
        resp = requests.get(urljoin(self.admin.base, path), params={"jwt": self.token(), **query},
                            headers=BROWSER, timeout=10)
        return connect_said(resp)

    def panel(self, issue_id: str) -> Said:
        url = installer.sign_iframe_url(self.admin.site, self.app.config["APP_KEY"], "/panels/before-the-restore",
                                        self.admin.account_id, {"issueId": issue_id})
        return connect_said(requests.get(url, timeout=10))


@dataclass
class Doors:
    app: Any
    connect: ConnectDoor
    forge: ForgeSite
    source_url: str  # a third site's address, with a live token for it in ``token``
    token: str


@pytest.fixture
def doors(forge_app, fake_cloud, install_into, forge_site_factory) -> Doors:
    site = fake_cloud.add_site("connect-door")
    site.client_key = install_into(site)
    forge = forge_site_factory("forge-door")
    source = forge_site_factory("a-source")
    token = source.api.ok("POST", "/connections/source/generate", {})["token"]
    return Doors(forge_app, ConnectDoor(forge_app, Admin(forge_app, site, admin_account_id(site))), forge,
                 tenant_url(forge_app, source.tenant_id), token)


def _guess() -> str:
    return new_token()[0]  # well formed, never issued


def transition_refused(d: Doors) -> tuple[Said, Said]:
    return (d.connect.post("/admin/recovery/source/reset", {"confirmed": "yes"}),
            forge_said(d.forge.api.post("/connections/source/reset", {"confirmed": True})))


def activation_refused(d: Doors) -> tuple[Said, Said]:
    guess = _guess()
    return (d.connect.post("/admin/recovery/destination/activate", {"token": guess, "base_url": d.source_url}),
            forge_said(d.forge.api.post("/connections/destination/activate",
                                        {"token": guess, "sourceUrl": d.source_url})))


def activation_throttled(d: Doors) -> tuple[Said, Said]:
    d.app.config["ACTIVATION_MAX_FAILURES"] = 1  # each site's first failure fills its own lock
    activation_refused(d)
    return activation_refused(d)


def activation_paused(d: Doors) -> tuple[Said, Said]:
    d.app.config.update(ACTIVATION_MAX_FAILURES=100, ACTIVATION_GLOBAL_MAX_FAILURES=1)
    d.connect.post("/admin/recovery/destination/activate", {"token": _guess(), "base_url": d.source_url})
    return activation_refused(d)  # the service-wide stop, for both sites alike


def invalid_activation_input(d: Doors) -> tuple[Said, Said]:
    return (d.connect.post("/admin/recovery/destination/activate", {"token": "JDR1-short", "base_url": d.source_url}),
            forge_said(d.forge.api.post("/connections/destination/activate",
                                        {"token": "JDR1-short", "sourceUrl": d.source_url})))


def connection_not_found(d: Doors) -> tuple[Said, Said]:
    return (d.connect.post("/admin/recovery/source/deactivate", {"connection": "987654", "confirmed": "yes"}),
            forge_said(d.forge.api.post("/connections/source/deactivate", {"connection": 987654, "confirmed": True})))


def choice_missing(d: Doors) -> tuple[Said, Said]:
    return (d.connect.post("/admin/recovery/destination/release", {"confirmed": "yes"}),
            forge_said(d.forge.api.post("/connections/destination/release", {"confirmed": True})))


def restore_refused(d: Doors) -> tuple[Said, Said]:
    return (d.connect.post("/admin/restore/preview", {"snapshot_id": "12345"}),
            forge_said(d.forge.api.post("/restore/previews", {"snapshotId": 12345})))


def snapshot_not_found(d: Doors) -> tuple[Said, Said]:
    return d.connect.get("/admin/backups/12345"), forge_said(d.forge.api.get("/backups/12345"))


def schedule_error(d: Doors) -> tuple[Said, Said]:
    return (d.connect.post("/admin/backups/schedule", {**SCHEDULE, "enabled": "on", "interval_hours": "0"}),
            forge_said(d.forge.api.post("/backups/schedule", {"enabled": True, "intervalHours": 0,
                                                              "retentionDaily": 30, "retentionWeekly": 8})))


def confirm_deletions(d: Doors) -> tuple[Said, Said]:
    snapshots(d.app, d.connect.admin.site, 4)
    with d.app.app_context():
        from app.backups.models import Snapshot
        from app.clock import utcnow
        from app.extensions import db

        db.session.add_all([Snapshot(tenant_id=d.forge.tenant_id, status="complete", app_version="1",
                                     format_version=1, taken_at=utcnow().replace(microsecond=0) - delta)
                            for delta in _days(4)])
        db.session.commit()
    connect = d.connect.post("/admin/backups/schedule", {**SCHEDULE, "enabled": "on", "retention_daily": "1",
                                                         "retention_weekly": "0"})
    forge = forge_said(d.forge.api.post("/backups/schedule", {"enabled": True, "intervalHours": 24,
                                                              "retentionDaily": 1, "retentionWeekly": 0}))
    # The words list the backups' times, which differ per site: the rest is the same sentence.
    return Said(connect.status, connect.code, connect.words.split(":")[0]), Said(forge.status, forge.code,
                                                                                 forge.words.split(":")[0])


def _days(n: int) -> list[Any]:
    from datetime import timedelta

    return [timedelta(days=d, hours=1) for d in range(1, n + 1)]


def invalid_input(d: Doors) -> tuple[Said, Said]:
    return (d.connect.post("/admin/recovery/source/deactivate", {"connection": "0", "confirmed": "yes"}),
            forge_said(d.forge.api.post("/connections/source/deactivate", {"connection": 0, "confirmed": True})))


def before_error(d: Doors) -> tuple[Said, Said]:
    return d.connect.panel("abc"), forge_said(d.forge.api.get("/issues/abc/before"))


# One request through each door per domain error of the table.
SCENARIOS: dict[type[Exception], tuple[Callable[[Doors], tuple[Said, Said]], int, str]] = {
    rc.TransitionRefused: (transition_refused, 409, "transition-refused"),
    rc.ActivationThrottled: (activation_throttled, 429, "activation-throttled"),
    rc.ActivationPaused: (activation_paused, 429, "activation-paused"),
    rc.ActivationRefused: (activation_refused, 422, "activation-refused"),
    rc.InvalidActivationInput: (invalid_activation_input, 400, "invalid-token"),
    rc.ConnectionNotFound: (connection_not_found, 404, "not-found"),
    ChoiceMissing: (choice_missing, 400, "bad-request"),
    RestoreRefused: (restore_refused, 403, "no-active-connection"),
    SnapshotNotFound: (snapshot_not_found, 404, "not-found"),
    ScheduleError: (schedule_error, 400, "bad-request"),
    ConfirmDeletions: (confirm_deletions, 409, "confirmation-required"),
    InvalidInput: (invalid_input, 400, "bad-request"),
    BeforeError: (before_error, 400, "invalid-issue-id"),
}


def test_every_domain_error_of_the_table_has_a_scenario_here() -> None:
    """A new entry in the table must be shown to answer alike through both doors."""
    domain = {cls for cls, _ in ERROR_TABLE if not issubclass(cls, DOOR_ERRORS)}
    assert domain <= set(SCENARIOS), sorted(c.__name__ for c in domain - set(SCENARIOS))


@pytest.mark.parametrize("error", list(SCENARIOS), ids=lambda c: c.__name__)
def test_both_doors_answer_alike(doors: Doors, error: type[Exception]) -> None:
    scenario, status, code = SCENARIOS[error]
    connect, forge = scenario(doors)
    assert (forge.status, forge.code) == (status, code), forge
    assert connect == forge
    assert forge.words and "<" not in forge.words


def test_an_oversized_body_is_413_payload_too_large_at_every_door(doors: Doors) -> None:
    """The two HTTP tables once disagreed (``request-too-large`` vs ``payload-too-large``): one answer now, naming
    the limit that applied, on the Connect pages and the Forge API alike."""
    limit = 500 * 1024  # the Forge API's own limit: the app's is set to it so that the words match too
    doors.app.config["MAX_CONTENT_LENGTH"] = limit
    big = {"jwt": doors.connect.token(), "pad": "x" * (limit + 1)}
    connect = connect_said(requests.post(urljoin(doors.connect.admin.base, "/admin/recovery/source/generate"),
                                         data=big, headers=BROWSER, timeout=10))
    # Forge itself never sends more (its invoker refuses to): what does is refused before the FIT is read.
    sent = requests.post(urljoin(doors.connect.admin.base, "/forge/api/v1/connections/source/generate"),
                         data=b"x" * (limit + 1), headers={"Content-Type": "application/json"}, timeout=10)
    forge = forge_said((sent.status_code, sent.json()))
    words = f"The request body is larger than the {limit} bytes allowed."
    assert connect == forge == Said(413, "payload-too-large", words)
