"""Does the outgoing client sign every call so that an independent verifier accepts it, wait as Jira tells it,
and give up cleanly instead of hammering Jira or repeating a write?"""

from __future__ import annotations

import logging
import time

import pytest

from app.connect.signing import ConnectJwtAuth
from app.jira.client import JiraClient, RetryPolicy, parse_retry_after
from app.jira.errors import JiraError, JiraUnavailable, RateLimited
from tests.support.jira_stub import jira_stub

APP_KEY = "io.jira-dr.test"
SECRET = "a-shared-secret-that-is-long-enough-for-hs256"


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture(params=["", "/jira"], ids=["root", "context-path"])
def jira(request):
    with jira_stub(request.param) as stub:
        stub.secrets[APP_KEY] = SECRET
        yield stub


def make_client(jira, sleeps=None, **retry) -> JiraClient:
    policy = RetryPolicy(**{"base_delay": 1.0, "max_delay": 8.0, "max_retries": 3, "max_retry_after": 30,
                            **retry})
    return JiraClient(jira.base_url, ConnectJwtAuth(APP_KEY, SECRET, jira.base_url), retry=policy,
                      sleep=sleeps if sleeps is not None else Sleeps(), timeout=(2, 5))


def test_signed_requests_verify_independently(jira) -> None:
    """Awkward queries (spaces, repeats, reserved characters) still produce the qsh Atlassian's library expects."""
    jira.on("GET", "/rest/api/3/field/search", (200, {"values": []}))
    jira.on("POST", "/rest/api/3/permissions/check", (200, {"globalPermissions": []}))
    client = make_client(jira)
    client.get("/rest/api/3/field/search", {"type": "custom", "query": "a b&c=d*~", "id": ["z", ".1", ":1"]})
    client.post("/rest/api/3/permissions/check", {"accountId": "x"})
    assert [r.auth_error for r in jira.received] == [None, None]
    claims = jira.received[0].claims
    assert claims["iss"] == APP_KEY
    assert 150 <= claims["exp"] - claims["iat"] <= 240


def test_429_retry_after_is_honoured(jira) -> None:
    jira.on("GET", "/rest/api/3/issuetype",
            (429, {"errorMessages": ["Rate limit exceeded"]}, {"Retry-After": "7", "RateLimit-Reason":
                                                               "jira-burst-based"}),
            (429, None, {"Retry-After": "2"}),
            (200, [{"id": "1"}]))
    sleeps = Sleeps()
    assert make_client(jira, sleeps).get("/rest/api/3/issuetype") == [{"id": "1"}]
    assert sleeps == [7.0, 2.0]
    assert len(jira.received) == 3


def test_client_really_waits(jira) -> None:
    jira.on("GET", "/rest/api/3/priority/search", (429, None, {"Retry-After": "1"}), (200, {"values": []}))
    client = JiraClient(jira.base_url, ConnectJwtAuth(APP_KEY, SECRET, jira.base_url))
    started = time.monotonic()
    client.get("/rest/api/3/priority/search")
    assert time.monotonic() - started >= 1.0
    assert jira.received[1].at - jira.received[0].at >= 1.0


def test_503_with_retry_after_is_honoured(jira) -> None:
    jira.on("GET", "/rest/api/3/role", (503, None, {"Retry-After": "3"}), (200, []))
    sleeps = Sleeps()
    assert make_client(jira, sleeps).get("/rest/api/3/role") == []
    assert sleeps == [3.0]


def test_gives_up_cleanly_at_the_retry_limit(jira) -> None:
    jira.on("GET", "/rest/api/3/role", (429, {"errorMessages": ["slow down"]}, {"Retry-After": "1"}))
    sleeps = Sleeps()
    with pytest.raises(RateLimited) as err:
        make_client(jira, sleeps).get("/rest/api/3/role")
    assert len(jira.received) == 4 and sleeps == [1.0, 1.0, 1.0]
    assert err.value.retry_after == 1.0 and err.value.messages == ["slow down"]


def test_retry_after_beyond_our_patience_fails_at_once(jira) -> None:
    jira.on("GET", "/rest/api/3/role", (429, None, {"Retry-After": "3600"}))
    sleeps = Sleeps()
    with pytest.raises(RateLimited):
        make_client(jira, sleeps).get("/rest/api/3/role")
    assert sleeps == [] and len(jira.received) == 1


def test_5xx_without_retry_after_backs_off_exponentially_with_jitter(jira) -> None:
    jira.on("GET", "/rest/api/3/role", (500, None), (502, None), (500, None), (200, []))
    sleeps = Sleeps()
    make_client(jira, sleeps).get("/rest/api/3/role")
    assert len(sleeps) == 3
    for attempt, slept in enumerate(sleeps):
        assert 0.7 * 2 ** attempt <= slept <= 1.3 * 2 ** attempt


def test_a_write_is_not_repeated_on_500(jira) -> None:
    jira.on("POST", "/rest/api/3/field", (500, {"errorMessages": ["Internal error"]}), (201, {"id": "x"}))
    with pytest.raises(JiraUnavailable) as err:
        make_client(jira).post("/rest/api/3/field", {"name": "F", "type": "t"})
    assert len(jira.received) == 1 and err.value.status == 500


def test_a_write_is_repeated_on_429_because_jira_did_not_process_it(jira) -> None:
    jira.on("POST", "/rest/api/3/field", (429, None, {"Retry-After": "1"}), (201, {"id": "customfield_1"}))
    assert make_client(jira).post("/rest/api/3/field", {"name": "F"}) == {"id": "customfield_1"}
    assert len(jira.received) == 2


def test_client_error_carries_jiras_messages(jira) -> None:
    jira.on("POST", "/rest/api/3/role",
            (400, {"errorMessages": [], "errors": {"name": "A project role with name 'Dev' already exists."}}))
    with pytest.raises(JiraError) as err:
        make_client(jira).post("/rest/api/3/role", {"name": "Dev"})
    assert err.value.status == 400
    assert err.value.field_errors == {"name": "A project role with name 'Dev' already exists."}
    assert "already exists" in str(err.value)


def test_timeouts_on_reads_are_retried_then_reported(jira) -> None:
    def slow(_request):
        time.sleep(0.6)
        return {}

    jira.on("GET", "/rest/api/3/role", (200, slow))
    client = JiraClient(jira.base_url, ConnectJwtAuth(APP_KEY, SECRET, jira.base_url), timeout=(1, 0.2),
                        retry=RetryPolicy(max_retries=1, base_delay=0.01), sleep=Sleeps())
    with pytest.raises(JiraUnavailable):
        client.get("/rest/api/3/role")
    assert len(jira.received) == 2


def test_page_bean_pagination_survives_short_pages(jira) -> None:
    items = [{"id": str(i)} for i in range(7)]

    def page(request):
        start = int(request.args["startAt"])
        chunk = items[start:start + 3]  # Jira caps pages below what we asked for
        return {"startAt": start, "maxResults": 3, "total": 7, "isLast": start + 3 >= 7, "values": chunk}

    jira.on("GET", "/rest/api/3/screens", (200, page))
    got = list(make_client(jira).paginate("/rest/api/3/screens", page_size=100))
    assert got == items
    assert [r.query for r in jira.received] == [
        "startAt=0&maxResults=100", "startAt=3&maxResults=100", "startAt=6&maxResults=100"]


def test_calls_are_logged_without_tokens(jira, caplog) -> None:
    jira.on("GET", "/rest/api/3/role", (200, []))
    with caplog.at_level(logging.INFO, logger="app.jira"):
        make_client(jira).get("/rest/api/3/role", {"jwt": "should-not-appear"})
    line = "\n".join(r.getMessage() for r in caplog.records if r.name == "app.jira")
    assert "GET /" in line and "/rest/api/3/role -> 200" in line
    assert "should-not-appear" not in line and SECRET not in line and "JWT" not in line


@pytest.mark.parametrize(("header", "expected"), [("5", 5.0), ("0", 0.0), ("garbage", None), (None, None),
                                                  ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)])
def test_parse_retry_after(header, expected) -> None:
    assert parse_retry_after(header) == expected
