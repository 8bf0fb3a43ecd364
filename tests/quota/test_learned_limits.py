"""Is the quota Jira advertises held by default, shared by every worker, and safe from a bogus header?

Jira answers with ``Beta-RateLimit-Policy: "tenant-app-quota";q=N;w=S``. The app learns it (whichever worker sees it
first) and holds the site to it, never below ``QUOTA_LEARNED_FLOOR``: a header saying one point an hour would
otherwise stop every job on the site. Learned limits are per site, and a site's scheduled backups leave the end of
its window to a restore.
"""

from __future__ import annotations

import pytest

from app.connect.signing import ConnectJwtAuth
from app.jira.client import JiraClient, RetryPolicy
from app.jira.errors import RateLimited
from app.quota.budget import DEFAULT_LEARNED_FLOOR, QuotaBudget, budget_for, build_budget
from app.quota.ledger import QuotaExhausted
from app.quota.priorities import Priority, QuotaScope, quota_scope, tenant_key
from tests.support.jira_stub import jira_stub

APP_KEY = "io.jira-dr.test"
SECRET = "a-shared-secret-that-is-long-enough-for-hs256"
FIELDS = "/rest/api/3/field/search"
SITE = tenant_key(7)


def policy(q: object, w: object = 3600, name: str = '"tenant-app-quota"') -> dict[str, str]:
    return {"Beta-RateLimit-Policy": f"{name};q={q};w={w}"}


def page_of(objects: int) -> dict[str, list[dict]]:
    """A page of ``objects`` fields: a read that costs 1 + ``objects`` points."""
    return {"values": [{"id": f"customfield_{n}"} for n in range(objects)]}


def read_three_times(app, answer: tuple[int, object, dict[str, str]]) -> tuple[int, list[str]]:
    """Read the same page three times as a restore on ``SITE``; (requests Jira received, refusals of ours)."""
    refused = []
    with jira_stub() as jira:
        jira.secrets[APP_KEY] = SECRET
        jira.on("GET", FIELDS, answer)
        with app.app_context(), quota_scope(QuotaScope(SITE, Priority.RESTORE)):
            client = JiraClient(jira.base_url, ConnectJwtAuth(APP_KEY, SECRET, jira.base_url),
                                retry=RetryPolicy(max_retries=0, max_retry_after=5), timeout=(2, 5))
            for _ in range(3):
                try:
                    client.get(FIELDS)
                except RateLimited as exc:
                    refused.append(str(exc))
        return len(jira.received), refused


def test_the_quota_jira_advertises_is_held_by_default(app) -> None:
    """Nothing configured: after Jira says 12,000 an hour, two reads of 6,001 points are sent and the third is not
    (it would pass the quota: Jira would refuse it anyway, after charging the site's hour for the attempts)."""
    sent, refused = read_three_times(app, (200, page_of(6000), policy(12_000)))
    assert sent == 2 and len(refused) == 1, (sent, refused)
    assert "Not sent" in refused[0] and "this site's points for the window are spent" in refused[0]
    with app.app_context():
        assert budget_for(app).limits_for(SITE, Priority.RESTORE).tenant == 12_000


def test_turning_learned_limits_off_only_counts(app) -> None:
    app.config["QUOTA_ENFORCE_LEARNED"] = 0
    sent, refused = read_three_times(app, (200, page_of(6000), policy(12_000)))
    assert (sent, refused) == (3, [])
    with app.app_context():
        assert budget_for(app).usage(SITE)[1] == 12_000  # still learned, for the estimates


@pytest.mark.parametrize(("header", "held_at"), [
    (policy(1), DEFAULT_LEARNED_FLOOR),  # one point an hour: held at the floor, never below it
    (policy(0), None),  # no quota at all is not a quota
    (policy(-5), None),
    (policy("99999999999999999999"), None),  # beyond any quota (and the ledger's column)
    ({"X-RateLimit-Limit": "²", "RateLimit-Reason": "jira-quota-tenant-based"}, None),  # a digit, not a number
    (policy("5e3"), None),
    (policy(100, w=1), None),  # a policy for another window than ours
    (policy(1, w=3600, name='"burst"'), None),  # another policy than the quota
    ({"Beta-RateLimit-Policy": "q=1;w=3600;" * 500}, None),
    ({"X-RateLimit-Limit": "1", "RateLimit-Reason": "jira-burst-based"}, None),  # a burst limit, not the hour's
], ids=["one", "zero", "negative", "huge", "superscript", "exponent", "window", "burst", "repeated", "burst-429"])
def test_a_bogus_header_never_holds_a_site_below_the_floor(app, header, held_at) -> None:
    """Held to what it learned, the site still gets its three reads of 3,001 points; the request never fails."""
    app.config["QUOTA_ENFORCE_LEARNED"] = 1
    sent, refused = read_three_times(app, (200, page_of(3000), header))
    assert (sent, refused) == (3, [])
    with app.app_context():
        assert budget_for(app).limits_for(SITE, Priority.RESTORE).tenant == held_at


def test_a_limit_one_worker_learned_holds_every_worker(ledger, clock) -> None:
    """Two workers on one ledger: the second never saw Jira's header, yet holds the site to it."""
    first = QuotaBudget(ledger, clock=clock, sleep=clock.sleep)
    second = QuotaBudget(ledger, clock=clock, sleep=clock.sleep)
    first.learn_from_headers(SITE, policy(20_000))
    assert second.limits_for(SITE, Priority.RESTORE).tenant == 20_000
    second.before(SITE, Priority.RESTORE, 15_000, max_wait=0)
    with pytest.raises(QuotaExhausted):
        first.before(SITE, Priority.RESTORE, 6_000, max_wait=0)


def test_the_floor_is_configurable_and_must_be_a_point_at_least(app, ledger) -> None:
    app.config["QUOTA_LEARNED_FLOOR"] = 50_000
    budget = build_budget(app, ledger=ledger)
    budget.learn_from_headers(SITE, policy(20_000))
    assert budget.limits_for(SITE, Priority.RESTORE).tenant == 50_000
    assert budget.usage(SITE)[1] == 50_000  # what the estimates divide by, too
    app.config["QUOTA_LEARNED_FLOOR"] = 0
    with pytest.raises(ValueError, match="QUOTA_LEARNED_FLOOR must be at least 1 point, got 0"):
        build_budget(app, ledger=ledger)


def test_a_learned_limit_never_makes_a_restore_wait_behind_backups(ledger, clock) -> None:
    """Another site's backups spend its own learned quota, not the restore's; on the restore's own site, scheduled
    backups stop at 70 % of the learned quota and leave the rest to the restore, served without waiting."""
    budget = QuotaBudget(ledger, learned_floor=100, clock=clock, sleep=clock.sleep)
    restoring, other = tenant_key(1), tenant_key(2)
    for site in (restoring, other):
        budget.learn_from_headers(site, policy(1_000))

    def backups_draw(site: str) -> int:
        drawn = 0
        for _ in range(40):
            try:
                budget.before(site, Priority.SCHEDULED_BACKUP, 50, max_wait=0)
                drawn += 50
            except QuotaExhausted:
                break
        return drawn

    assert backups_draw(other) == 700
    assert backups_draw(restoring) == 700
    for _ in range(6):  # 300 points: the rest of the restoring site's window, at once
        assert budget.before(restoring, Priority.RESTORE, 50, max_wait=0) is not None
