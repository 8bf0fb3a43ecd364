"""Does the site throttle, slow down and fail on demand the way Jira Cloud does, reproducibly?"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
import requests

from fakejira.client import ConnectClient
from fakejira.limits import CostRule, Faults, count_objects
from fakejira.site import Site

PATH = "/rest/api/3/projectCategory"
NOW = 1_800_000_000.0  # 2027-01-15T08:00:00Z: 20 minutes past the hour is NOW + 1200


def test_burst_limit_is_429_with_jira_headers(admin_app: ConnectClient, bare_site: Site) -> None:
    """Is the per-second burst limit answered 429 with Retry-After, reset time and jira-burst-based?"""
    bare_site.limits.configure(burst_rate=0.5, burst_capacity=2)
    assert [admin_app.get(PATH).status_code for _ in range(2)] == [200, 200]
    refused = admin_app.get(PATH)
    assert refused.status_code == 429
    headers = refused.headers
    assert headers["RateLimit-Reason"] == "jira-burst-based"
    assert int(headers["Retry-After"]) == 2
    assert (headers["X-RateLimit-Limit"], headers["X-RateLimit-Remaining"]) == ("2", "0")
    assert datetime.strptime(headers["X-RateLimit-Reset"], "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC)
    assert refused.json()["errorMessages"]
    assert bare_site.calls.records[-1].note == "rate-limited: jira-burst-based"


def test_burst_buckets_are_per_endpoint_and_method(admin_app: ConnectClient, bare_site: Site) -> None:
    bare_site.limits.configure(burst_rate=0.001, burst_capacity=1)
    assert admin_app.get(PATH).status_code == 200
    assert admin_app.post(PATH, json={"name": "A"}).status_code == 201  # another method: another bucket
    assert admin_app.get(PATH).status_code == 429


def test_burst_tokens_refill_with_time(admin_app: ConnectClient, bare_site: Site) -> None:
    clock = [NOW]
    bare_site.limits.clock = lambda: clock[0]
    bare_site.limits.configure(burst_rate=1, burst_capacity=1)
    assert admin_app.get(PATH).status_code == 200
    assert admin_app.get(PATH).status_code == 429
    clock[0] += 1.0
    assert admin_app.get(PATH).status_code == 200


def test_hourly_quota_is_429_until_the_top_of_the_hour(admin_app: ConnectClient, bare_site: Site) -> None:
    """Does the points quota refuse with jira-quota-tenant-based and a Retry-After to the window's end?"""
    clock = [NOW + 1200]
    bare_site.limits.clock = lambda: clock[0]
    bare_site.limits.configure(quota=3, cost_rule=CostRule(base=1, per_object=1))
    assert admin_app.get(PATH).status_code == 200  # 1 + 1 object = 2 points
    assert admin_app.post(PATH, json={"name": "B"}).status_code == 201  # writes cost 1: 3 points
    refused = admin_app.get(PATH)
    assert refused.status_code == 429
    assert refused.headers["RateLimit-Reason"] == "jira-quota-tenant-based"
    assert refused.headers["Retry-After"] == str(3600 - 1200)
    assert refused.headers["X-RateLimit-Reset"] == "2027-01-15T09:00Z"
    assert refused.headers["Beta-RateLimit-Policy"] == '"tenant-app-quota";q=3;w=3600'
    clock[0] += 2400  # the next hour
    assert admin_app.get(PATH).status_code == 200


def test_near_limit_is_announced(admin_app: ConnectClient, bare_site: Site) -> None:
    bare_site.limits.configure(quota=10, cost_rule=CostRule(base=9, per_object=0))
    assert admin_app.get(PATH).headers["X-RateLimit-NearLimit"] == "true"


@pytest.mark.parametrize(("method", "body", "points"), [
    ("GET", [1, 2, 3], 4), ("GET", {"values": [1, 2], "total": 9}, 3), ("GET", {"id": "1"}, 2),
    ("POST", {"id": "1"}, 1), ("DELETE", None, 1),
])
def test_cost_rule(method: str, body: object, points: int) -> None:
    assert CostRule().cost(method, "/t", body) == points


def test_count_objects_of_nothing_is_zero() -> None:
    assert count_objects(None) == 0


def test_faults_at_a_rate_are_reproducible(admin_app: ConnectClient, bare_site: Site) -> None:
    """Does the same seed give the same failures, so a failing run can be replayed?"""
    def run() -> list[int]:
        bare_site.faults.clear()
        bare_site.faults.seed(7)
        bare_site.faults.add(503, rate=0.5)
        return [admin_app.get(PATH).status_code for _ in range(16)]

    first = run()
    assert first == run()
    assert set(first) == {200, 503}


def test_fault_on_the_nth_call_of_an_operation(admin_app: ConnectClient, bare_site: Site) -> None:
    bare_site.faults.add(500, nth=2, method="POST", template=PATH)
    statuses = [admin_app.get(PATH).status_code, admin_app.post(PATH, json={"name": "A"}).status_code,
                admin_app.post(PATH, json={"name": "B"}).status_code,
                admin_app.post(PATH, json={"name": "C"}).status_code]
    assert statuses == [200, 201, 500, 201]


def test_503_can_carry_retry_after(admin_app: ConnectClient, bare_site: Site) -> None:
    bare_site.faults.add(503, nth=1, retry_after=7)
    response = admin_app.get(PATH)
    assert (response.status_code, response.headers["Retry-After"]) == (503, "7")


def test_faults_come_before_auth(bare_site: Site, admin_app: ConnectClient) -> None:
    """An edge failure happens whoever calls: even a bad token sees the 502."""
    bare_site.faults.add(502, nth=1)
    assert admin_app.get(PATH, token="garbage").status_code == 502


def test_a_timeout_can_drop_the_connection(admin_app: ConnectClient, bare_site: Site) -> None:
    bare_site.faults.add_timeout(0.1, nth=1)
    started = time.perf_counter()
    with pytest.raises(requests.ConnectionError):
        admin_app.get(PATH)
    assert time.perf_counter() - started >= 0.1
    assert bare_site.calls.records[-1].note == "fault: timeout (dropped)"
    assert admin_app.get(PATH).status_code == 200


def test_a_timeout_can_end_in_504(admin_app: ConnectClient, bare_site: Site) -> None:
    bare_site.faults.add_timeout(0.05, drop=False, nth=1)
    assert admin_app.get(PATH).status_code == 504


def test_a_hang_longer_than_the_client_waits_is_a_client_timeout(bare_site: Site,
                                                                 admin_app: ConnectClient) -> None:
    bare_site.faults.add_timeout(1.0, nth=1)
    impatient = ConnectClient(bare_site, admin_app.app_key, timeout=0.2)
    with pytest.raises(requests.Timeout):
        impatient.get(PATH)


def test_latency_is_added_to_every_call(admin_app: ConnectClient, bare_site: Site) -> None:
    bare_site.limits.configure(latency=0.15)
    started = time.perf_counter()
    assert admin_app.get(PATH).status_code == 200
    assert time.perf_counter() - started >= 0.15
    assert bare_site.calls.records[-1].duration_ms >= 150


@pytest.mark.parametrize("kwargs", [{"status": 404, "rate": 0.5}, {"status": 503}, {"status": 503, "rate": 1.5}])
def test_bad_fault_rules_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        Faults().add(**kwargs)
