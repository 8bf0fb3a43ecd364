"""Can a Forge-installed site's admin see and move its disaster-recovery connections through the JSON API, with
the Connect page's states, actions and texts, and a token shown exactly once?"""

from __future__ import annotations

import pytest

from app.extensions import db
from app.recovery.connections import ACTIVATION_REFUSED_TEXT, ConnectionToken, RecoveryConnection
from app.recovery.messages import NOTICES
from tests.forge.api_fixtures import *  # noqa: F403
from tests.forge.api_fixtures import tenant_url


def _actions(side: dict) -> list[str]:
    return [a["action"] for a in side["actions"]]


def test_context_names_the_site_and_the_user(forge_site_factory) -> None:
    s = forge_site_factory("ctx")
    body = s.api.ok("GET", "/context")
    assert body["door"] == "forge" and body["user"] == {"accountId": s.admin}
    assert body["site"]["cloudId"] == s.inst.cloud_id
    assert body["site"]["url"].startswith("http") and body["installation"]["id"] == s.inst.installation_id


def test_a_new_site_is_not_connected_and_may_only_generate_or_activate(forge_site_factory) -> None:
    s = forge_site_factory("fresh")
    body = s.api.ok("GET", "/connections")
    assert body["source"]["state"] == "not_connected" and body["source"]["stateLabel"] == "Not connected"
    assert _actions(body["source"]) == ["generate"]
    assert body["source"]["actions"][0]["label"] == "Generate token"
    assert _actions(body["destination"]) == ["activate"] and body["activeSource"] is None


def test_generate_shows_the_token_once_and_stores_only_its_hash(forge_app, forge_site_factory) -> None:
    s = forge_site_factory("gen")
    status, body = s.api.post("/connections/source/generate")
    assert status == 200
    token = body["token"]
    assert token.startswith("JDR1-") and body["notice"]["code"] == "token-issued"
    assert body["previousTokenRetired"] is False
    assert body["connections"]["source"]["state"] == "pending"
    assert _actions(body["connections"]["source"]) == ["refresh", "deactivate"]
    again = s.api.ok("GET", "/connections")
    assert token not in repr(again)
    with forge_app.app_context():
        stored = db.session.scalars(db.select(ConnectionToken)).all()
        assert len(stored) == 1 and token not in repr([(t.lookup, t.secret_hash) for t in stored])


def test_refresh_replaces_the_token_and_a_refused_action_names_the_state(forge_site_factory) -> None:
    s = forge_site_factory("refresh")
    first = s.api.ok("POST", "/connections/source/generate", {})["token"]
    status, asked = s.api.post("/connections/source/refresh", {})
    assert (status, asked["error"]["code"]) == (400, "confirmation-required")  # the old token would stop working
    refreshed = s.api.ok("POST", "/connections/source/refresh", {"confirmed": True})
    assert refreshed["token"] != first and refreshed["previousTokenRetired"] is True
    status, body = s.api.post("/connections/source/reset")
    assert status == 409
    assert body["error"] == {"code": "transition-refused",
                             "message": "Can't reset the token while the status is Activation pending.",
                             "notice": {"code": "refused", "kind": "error",
                                        "text": "Can't reset the token while the status is Activation pending."}}


def test_a_destination_activates_with_token_and_address_and_both_sides_see_it(forge_app,
                                                                               forge_site_factory) -> None:
    src, dst = forge_site_factory("old"), forge_site_factory("new")
    token = src.api.ok("POST", "/connections/source/generate", {})["token"]
    body = dst.api.ok("POST", "/connections/destination/activate",
                      {"token": token, "sourceUrl": tenant_url(forge_app, src.tenant_id)})
    assert body["notice"] == {"code": "activated", "kind": "success", "text": NOTICES["activated"][1]}
    assert body["connections"]["destination"]["state"] == "active"
    assert body["connections"]["activeSource"]["url"] == tenant_url(forge_app, src.tenant_id)
    assert _actions(body["connections"]["destination"]) == ["release", "deactivate"]
    source_side = src.api.ok("GET", "/connections")["source"]
    assert source_side["state"] == "active" and _actions(source_side) == ["reset", "release", "deactivate"]
    assert source_side["connection"]["destination"]["url"] == tenant_url(forge_app, dst.tenant_id)


@pytest.mark.parametrize(("body", "status", "code", "text"), [
    ({"token": "nonsense", "sourceUrl": "https://x.atlassian.net"}, 400, "invalid-token", NOTICES["invalid-token"][1]),
    ({"token": "JDR1-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
      "sourceUrl": "https://user@x.atlassian.net/path?q"}, 400, None, None),
    ({"token": 5, "sourceUrl": "https://x.atlassian.net"}, 400, "bad-request", None),
])
def test_malformed_activation_input_is_refused_with_the_pages_hint(forge_site_factory, body, status, code,
                                                                   text) -> None:
    s = forge_site_factory("badinput")
    got_status, got = s.api.post("/connections/destination/activate", body)
    assert got_status == status
    if code:
        assert got["error"]["code"] == code
    if text:
        assert got["error"]["message"] == text
    assert "nonsense" not in repr(got) and "user@" not in repr(got)  # input never echoed


def test_a_wrong_token_gets_the_one_refusal_message(forge_app, forge_site_factory) -> None:
    src, dst = forge_site_factory("src"), forge_site_factory("dst")
    token = src.api.ok("POST", "/connections/source/generate", {})["token"]
    guess = token[:-1] + ("0" if token[-1] != "0" else "1")
    status, body = dst.api.post("/connections/destination/activate",
                                {"token": guess, "sourceUrl": tenant_url(forge_app, src.tenant_id)})
    assert (status, body["error"]["code"], body["error"]["reason"]) == (422, "activation-refused", "unknown")
    assert body["error"]["message"].startswith(ACTIVATION_REFUSED_TEXT)
    assert body["error"]["attemptsLeft"] == 4 and "4 attempts left" in body["error"]["notice"]["text"]


def test_the_real_token_at_the_wrong_address_is_told_so(forge_app, forge_site_factory) -> None:
    src, dst = forge_site_factory("src"), forge_site_factory("dst")
    token = src.api.ok("POST", "/connections/source/generate", {})["token"]
    status, body = dst.api.post("/connections/destination/activate",
                                {"token": token, "sourceUrl": "https://somewhere-else.atlassian.net"})
    assert (status, body["error"]["reason"]) == (422, "wrong-site")
    assert "isn't the site it was generated on" in body["error"]["message"]


def test_repeated_refusals_are_throttled_with_minutes_to_wait(forge_app, forge_site_factory) -> None:
    forge_app.config.update(ACTIVATION_MAX_FAILURES=2)
    src, s = forge_site_factory("victim"), forge_site_factory("guesser")
    token = src.api.ok("POST", "/connections/source/generate", {})["token"]
    guess = {"token": token[:-1] + ("0" if token[-1] != "0" else "1"),
             "sourceUrl": tenant_url(forge_app, src.tenant_id)}
    assert [s.api.post("/connections/destination/activate", guess)[0] for _ in range(2)] == [422, 422]
    status, body = s.api.post("/connections/destination/activate", guess)
    assert (status, body["error"]["code"]) == (429, "activation-throttled")
    assert body["error"]["retryMinutes"] >= 1 and body["error"]["message"].startswith("Too many failed")
    # The lock is against guessing: the real token still activates.
    assert s.api.post("/connections/destination/activate",
                      {"token": token, "sourceUrl": tenant_url(forge_app, src.tenant_id)})[0] == 200


@pytest.mark.parametrize(("reusable", "code", "usable"), [(True, "released-reusable", True),
                                                          (False, "released-retired", False)])
def test_release_asks_for_confirmation_and_the_yes_no_choice(forge_app, forge_site_factory, reusable, code,
                                                             usable) -> None:
    src, dst = forge_site_factory("rs"), forge_site_factory("rd")
    token = src.api.ok("POST", "/connections/source/generate", {})["token"]
    dst.api.ok("POST", "/connections/destination/activate",
               {"token": token, "sourceUrl": tenant_url(forge_app, src.tenant_id)})
    status, body = dst.api.post("/connections/destination/release", {"reusable": reusable})
    assert (status, body["error"]["code"]) == (400, "confirmation-required")
    status, body = dst.api.post("/connections/destination/release", {"confirmed": True})
    assert (status, body["error"]["code"]) == (400, "bad-request")
    body = dst.api.ok("POST", "/connections/destination/release", {"confirmed": True, "reusable": reusable})
    assert body["notice"] == {"code": code, "kind": "success", "text": NOTICES[code][1]}
    assert body["connections"]["destination"]["state"] == "released"
    source = src.api.ok("GET", "/connections")["source"]
    assert source["state"] == "released" and source["connection"]["tokenUsable"] is usable
    # The words match the buttons: a usable token can be reset if lost; a dead one needs a new token.
    labels = {a["action"]: a["label"] for a in source["actions"]}
    assert labels == ({"reset": "Reset token", "deactivate": "Deactivate connection"} if usable
                      else {"generate": "Generate new token", "deactivate": "Deactivate connection"})
    assert (source["lostTokenHint"] is not None) is usable


def test_deactivate_needs_confirmation_and_is_final(forge_site_factory) -> None:
    s = forge_site_factory("deact")
    conn_id = s.api.ok("POST", "/connections/source/generate", {})["connections"]["source"]["connection"]["id"]
    status, body = s.api.post("/connections/source/deactivate", {"connection": conn_id})
    assert (status, body["error"]["code"]) == (400, "confirmation-required")
    body = s.api.ok("POST", "/connections/source/deactivate", {"connection": conn_id, "confirmed": True})
    assert body["notice"]["code"] == "deactivated" and body["connections"]["source"]["state"] == "deactivated"
    assert _actions(body["connections"]["source"]) == ["generate"]
    audit = s.api.ok("GET", "/connections")["audit"]
    assert [e["action"] for e in audit[:2]] == ["deactivate", "generate"]
    assert all(e["outcomeLabel"] for e in audit)


def test_notices_are_the_connect_pages_texts(forge_site_factory) -> None:
    body = forge_site_factory("texts").api.ok("GET", "/notices")
    assert {code: (n["kind"], n["text"]) for code, n in body["notices"].items()} == NOTICES
    assert body["confirmations"]["release"]["yes"] == "Yes, the token can be used again"


def test_an_unknown_action_is_not_found(forge_site_factory) -> None:
    status, body = forge_site_factory("unknown").api.post("/connections/source/explode")
    assert (status, body["error"]["code"]) == (404, "not-found")


def test_a_stale_connection_id_changes_nothing(forge_app, forge_site_factory) -> None:
    s = forge_site_factory("stale")
    s.api.ok("POST", "/connections/source/generate", {})
    status, body = s.api.post("/connections/source/refresh", {"connection": 987654})
    assert (status, body["error"]["code"]) == (404, "not-found")
    assert body["error"]["message"] == NOTICES["not-found"][1]
    with forge_app.app_context():
        assert db.session.scalars(db.select(RecoveryConnection)).one().version == 1


def test_the_service_wide_stop_has_its_own_code_and_words(forge_app, forge_site_factory) -> None:
    forge_app.config.update(ACTIVATION_GLOBAL_MAX_FAILURES=1)
    src, s = forge_site_factory("victim"), forge_site_factory("guesser")
    token = src.api.ok("POST", "/connections/source/generate", {})["token"]
    guess = {"token": token[:-1] + ("0" if token[-1] != "0" else "1"),
             "sourceUrl": tenant_url(forge_app, src.tenant_id)}
    assert s.api.post("/connections/destination/activate", guess)[0] == 422
    status, body = s.api.post("/connections/destination/activate", guess)
    assert (status, body["error"]["code"]) == (429, "activation-paused")
    assert body["error"]["message"].startswith("Activations are paused for the whole service")
