"""Does each tenant's audit log say who did what, when, with what outcome and on which side, keep it after
deactivation, and never hold a token?"""

from __future__ import annotations

import pytest

from app.recovery import audit
from app.recovery import connections as rc
from app.recovery.connections import Side
from tests.recovery.test_connections import ADMIN, DEST_ADMIN, SOURCE_URL, make_tenant


@pytest.fixture
def pair(app):
    with app.app_context():
        yield make_tenant("source"), make_tenant("dest")


def rows(tenant) -> list[tuple[str, str, str, str | None]]:
    return [(e.side, e.action, e.outcome, e.account_id) for e in reversed(audit.entries_for(tenant.id))]


def test_a_lifecycle_is_logged_on_both_sides_and_kept_after_deactivation(pair) -> None:
    source, dest = pair
    issued = rc.generate_token(source, ADMIN)
    rc.activate(dest, DEST_ADMIN, issued.token, SOURCE_URL)
    rc.release(dest, Side.DESTINATION, DEST_ADMIN, issued.connection.id, reusable=True)
    rc.activate(dest, DEST_ADMIN, issued.token, SOURCE_URL)
    rc.deactivate(source, Side.SOURCE, ADMIN, issued.connection.id)
    assert rows(source) == [
        ("source", "generate", "succeeded", ADMIN),
        ("source", "activate", "succeeded", DEST_ADMIN),
        ("source", "release", "succeeded", DEST_ADMIN),
        ("source", "activate", "succeeded", DEST_ADMIN),
        ("source", "deactivate", "succeeded", ADMIN),
    ]
    assert rows(dest) == [
        ("destination", "activate", "succeeded", DEST_ADMIN),
        ("destination", "release", "succeeded", DEST_ADMIN),
        ("destination", "activate", "succeeded", DEST_ADMIN),
        ("destination", "deactivate", "succeeded", ADMIN),
    ]
    newest = audit.entries_for(dest.id)[0]
    assert "source site (https://source.atlassian.net) deactivated" in newest.detail
    assert newest.created_at is not None and newest.connection_id == issued.connection.id
    secret = issued.token.split("-")[2]
    every = audit.entries_for(source.id) + audit.entries_for(dest.id)
    assert all(secret not in e.detail and issued.token not in e.detail for e in every)


def test_refusals_are_logged_with_their_reason(pair) -> None:
    source, _ = pair
    with pytest.raises(rc.TransitionRefused):
        rc.refresh_token(source, ADMIN, None)
    entry = audit.entries_for(source.id)[0]
    assert (entry.outcome, entry.outcome_label, entry.side_label) == ("not_allowed", "Not allowed", "Source")
    assert entry.detail == "Can't refresh the token while the status is Not connected."


def test_each_tenant_sees_only_its_own_log(pair) -> None:
    source, dest = pair
    rc.generate_token(source, ADMIN)
    assert audit.entries_for(dest.id) == []
    assert len(audit.entries_for(source.id, limit=1)) == 1
