"""Fuzzing the app's front doors: can any input make the JWT verifier, the recovery-token parser, the base-URL
normaliser or the lifecycle endpoints crash (500), accept a forgery, or store anything?

Short by default (CI: 100 examples per property, the whole file in seconds). For the long, on-demand run set
``FUZZ_EXAMPLES``, e.g. ``FUZZ_EXAMPLES=5000 python -m pytest tests/reliability/test_fuzz.py -q -p no:cacheprovider``
(add ``TEST_DATABASE_URL=...`` for PostgreSQL). With TESTING on, Flask re-raises unhandled exceptions, so a 500 shows
up as the exception itself in hypothesis' falsifying example.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import string
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.connect.errors import AuthenticationError
from app.connect.tokens import KID_PATTERN, token_from_header, verify_hs256
from app.extensions import db
from app.http_input import MAX_ID
from app.recovery import tokens as rt
from app.recovery import urls
from app.tenants import Tenant
from tests.support.connect_jira import qsh_of, signed_install_token

from .conftest import ADMIN
from .doors import *  # noqa: F403  (the doors fixture and the Forge fixtures it needs)
from .doors import DEEP_BODIES, HOSTILE_IDS, ID_FIELDS, no_crash, routes

settings.load_profile("reliability")
pytestmark = pytest.mark.filterwarnings("ignore:The HMAC key")

PAGE = "/admin/recovery"
API = "/admin/api/session"
LIFECYCLE = ("/installed", "/uninstalled", "/enabled", "/disabled")
# PostgreSQL refuses NUL in text parameters; the tenant lookup by an *unverified* iss/clientKey then crashes (see
# the lead's report: tenants.get_by_client_key). Until that is fixed, NUL is kept out of issuer-like strings only.
_NO_NUL = st.characters(blacklist_categories=("Cs",))  # NUL included (client keys are refused before SQL)
ATTACKER_KEY = rsa.generate_private_key(65537, 2048)


# -- strategies -------------------------------------------------------------------------------------------------

def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


json_scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2 ** 70), max_value=2 ** 70),
                         st.floats(allow_nan=False), st.text(max_size=40))
json_values = st.recursive(json_scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                                 st.dictionaries(st.text(max_size=8), inner,
                                                                                 max_size=3)), max_leaves=6)


def header_dicts() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"alg": st.sampled_from(["HS256", "HS512", "RS256", "none", "None", "ES256", ""]) | st.text(max_size=8)},
        optional={"typ": st.sampled_from(["JWT", "jwt"]) | json_values,
                  "kid": st.sampled_from(["../../etc/passwd", "a?b=c", "%2e%2e%2f", ""]) | st.text(max_size=30)})


def claim_dicts(client_key: str) -> st.SearchStrategy[dict[str, Any]]:
    # Offsets from "now" at build time, so the strategy itself is the same on every run (hypothesis needs that).
    times = st.one_of(st.integers(min_value=-10 ** 6, max_value=10 ** 6).map(lambda d: int(time.time()) + d),
                      json_values)
    return st.fixed_dictionaries(
        {"iss": st.just(client_key) | st.text(_NO_NUL, max_size=40) | json_values},
        optional={"iat": times, "exp": times, "nbf": times, "sub": st.just(ADMIN) | json_values,
                  "qsh": st.sampled_from(["context-qsh", qsh_of("GET", "https://dr-app.example.test" + PAGE,
                                                                 "https://dr-app.example.test")]) | json_values,
                  "aud": json_values})


def jwt_shaped(client_key: str) -> st.SearchStrategy[str]:
    """Strings that look like JWTs to a parser: three base64url segments of (mostly) JSON, and plain junk."""
    segment_json = st.builds(lambda h: _b64(json.dumps(h).encode()), header_dicts())
    claims_json = st.builds(lambda c: _b64(json.dumps(c).encode()), claim_dicts(client_key))
    any_segment = st.one_of(st.binary(max_size=60).map(_b64), st.text(string.ascii_letters + "-_=+/.", max_size=40))
    return st.one_of(
        st.tuples(segment_json, claims_json, any_segment).map(".".join),
        st.tuples(any_segment, any_segment, any_segment).map(".".join),
        st.text(_NO_NUL, max_size=120),
    )


def sign(claims: Any, alg: str, key: Any) -> str:
    """A JWS over any JSON payload (pyjwt's encoder refuses some, e.g. a non-string iss; an attacker's won't)."""
    signing_input = f"{_b64(json.dumps({'alg': alg, 'typ': 'JWT'}).encode())}.{_b64(json.dumps(claims).encode())}"
    if alg == "none":
        return signing_input + "."
    algorithm = jwt.get_algorithm_by_name(alg)
    return f"{signing_input}.{_b64(algorithm.sign(signing_input.encode(), algorithm.prepare_key(key)))}"


def forged_tokens(client_key: str) -> st.SearchStrategy[str]:
    """Well-formed tokens naming the tenant but signed with a wrong secret or algorithm."""
    claims = claim_dicts(client_key)
    wrong_secret = st.text(min_size=1, max_size=40).filter(lambda s: s.strip())
    return st.one_of(
        st.builds(lambda c, s: sign(c, "HS256", s), claims, wrong_secret),
        st.builds(lambda c: sign(c, "none", None), claims),
        st.builds(lambda c: sign(c, "RS256", ATTACKER_KEY), claims),
        jwt_shaped(client_key),
    )


# -- helpers ----------------------------------------------------------------------------------------------------

def tenant_rows(app) -> list[tuple]:
    """Everything about tenants an attacker would want to change."""
    with app.app_context():
        return [(t.client_key, t.base_url, t.shared_secret_enc, t.enabled, t.uninstalled_at, t.payload_json)
                for t in db.session.scalars(select(Tenant).order_by(Tenant.id))]


def assert_typed_refusal(resp, status: int = 401) -> None:
    assert resp.status_code == status, resp.data[:300]
    if resp.is_json:
        assert resp.get_json()["status"] == status and resp.get_json()["error"]


# -- the JWT verifier -------------------------------------------------------------------------------------------

@given(data=st.data())
def test_does_verify_hs256_refuse_every_forgery_with_a_typed_error(installed, data) -> None:
    token = data.draw(forged_tokens(installed.client_key))
    with pytest.raises(AuthenticationError):
        verify_hs256(token, installed.shared_secret, leeway=30)


@given(data=st.data())
def test_does_a_tampered_valid_token_either_fail_or_say_exactly_what_was_signed(installed, data) -> None:
    """Flip, drop or insert characters anywhere in a genuine token: never different claims under a good signature."""
    now = int(time.time())
    claims = {"iss": installed.client_key, "iat": now, "exp": now + 120, "qsh": "context-qsh", "sub": ADMIN}
    token = jwt.encode(claims, installed.shared_secret, algorithm="HS256")
    at = data.draw(st.integers(min_value=0, max_value=len(token) - 1))
    op = data.draw(st.sampled_from(["replace", "insert", "delete"]))
    char = data.draw(st.characters(min_codepoint=32, max_codepoint=0x2FF))
    tampered = {"replace": token[:at] + char + token[at + 1:], "insert": token[:at] + char + token[at:],
                "delete": token[:at] + token[at + 1:]}[op]
    assume(tampered != token)
    try:
        got = verify_hs256(tampered, installed.shared_secret, leeway=30)
    except AuthenticationError:
        return
    assert got == claims  # base64 padding bits can change without changing the decoded claims; nothing else may


@given(value=st.text(max_size=80))
def test_does_token_from_header_only_accept_the_exact_jwt_scheme(value) -> None:
    token = token_from_header(value)
    if token is not None:
        assert value.startswith("JWT ") and token == value.removeprefix("JWT ").strip() and token


@given(data=st.data())
def test_can_any_token_open_the_admin_page_without_the_shared_secret(client, installed, data) -> None:
    token = data.draw(forged_tokens(installed.client_key))
    resp = client.get(PAGE, query_string={"jwt": token}, headers={"Accept": "text/html"})
    assert_typed_refusal(resp)
    assert resp.headers["WWW-Authenticate"] == 'JWT realm="jira"'


@given(data=st.data())
def test_can_any_header_open_the_session_api_without_the_shared_secret(client, installed, data) -> None:
    token = data.draw(forged_tokens(installed.client_key).filter(lambda t: "\r" not in t and "\n" not in t))
    scheme = data.draw(st.sampled_from(["JWT ", "JWT  ", "jwt ", "Bearer ", ""]))
    resp = client.get(API, headers={"Authorization": scheme + token})
    assert_typed_refusal(resp)
    assert resp.is_json


@given(claims=st.dictionaries(st.sampled_from(["iat", "exp", "nbf", "sub", "qsh", "aud", "context"]), json_values,
                              max_size=7))
def test_do_odd_claim_values_under_the_real_secret_stay_typed(client, installed, claims) -> None:
    """Jira signs what it signs; odd types or values in its claims must still end in 200/401/403, never a crash."""
    now = int(time.time())
    body = {"iss": installed.client_key, "iat": now, "exp": now + 60, "qsh": "context-qsh", **claims}
    token = sign(body, "HS256", installed.shared_secret)
    resp = client.get(API, headers={"Authorization": f"JWT {token}"})
    assert resp.status_code in (200, 401, 403), resp.data[:300]
    if resp.status_code == 200:  # accepted only when the claims really are a valid, admin, context token
        assert body["qsh"] == "context-qsh" and body.get("sub") == ADMIN
        assert resp.get_json()["accountId"] == ADMIN


# -- the recovery-token parser ----------------------------------------------------------------------------------

MALFORMED_TEXTS = {"A recovery token starts with JDR1-.",
                   "That isn't a complete recovery token: copy all of it, from JDR1- to the end."}


@given(text=st.text(max_size=120) | st.text(rt.ALPHABET + "jdr-oil \n", min_size=30, max_size=45).map(
    lambda t: "JDR1-" + t))
def test_does_parse_token_refuse_junk_only_with_malformed_token(text) -> None:
    try:
        parsed = rt.parse_token(text)
    except rt.MalformedToken as exc:
        assert str(exc) in MALFORMED_TEXTS  # fixed texts: the message never echoes the input
        return
    assert len(parsed.lookup) == rt.LOOKUP_CHARS and len(parsed.secret) == rt.SECRET_CHARS
    assert set(parsed.lookup + parsed.secret) <= set(rt.ALPHABET)
    assert rt.parse_token(rt.format_token(parsed)) == parsed


@given(data=st.data())
def test_is_a_pasted_token_read_back_whatever_the_case_spacing_and_lookalikes(data) -> None:
    chars = st.text(rt.ALPHABET, min_size=rt.LOOKUP_CHARS + rt.SECRET_CHARS,
                    max_size=rt.LOOKUP_CHARS + rt.SECRET_CHARS)
    body = data.draw(chars)
    parsed = rt.ParsedToken(body[:rt.LOOKUP_CHARS], body[rt.LOOKUP_CHARS:])
    text = rt.format_token(parsed)
    mangled = []
    for ch in text:
        if data.draw(st.booleans()):
            ch = ch.lower()
        if ch in "01" and data.draw(st.booleans()):
            ch = {"0": "O", "1": data.draw(st.sampled_from("IiLl"))}[ch]
        mangled.append(ch + data.draw(st.sampled_from(["", "", " ", "\n", "\t", "-", "_", "\r\n"])))
    assert rt.parse_token(data.draw(st.sampled_from(["", "  ", "\n"])) + "".join(mangled)) == parsed
    assert rt.matches(parsed, rt.hash_secret(parsed))


@given(data=st.data())
def test_does_any_other_secret_fail_to_match_the_stored_hash(data) -> None:
    _, parsed = rt.new_token()
    other = rt.ParsedToken(parsed.lookup, data.draw(st.text(rt.ALPHABET, min_size=rt.SECRET_CHARS,
                                                              max_size=rt.SECRET_CHARS)))
    assume(other.secret != parsed.secret)
    assert not rt.matches(other, rt.hash_secret(parsed))
    assert parsed.secret not in repr(parsed)


# -- the base-URL normaliser ------------------------------------------------------------------------------------

NORMALISED = r"^https?://(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9.-]*[a-z0-9])?)(:[0-9]{1,5})?$"


@given(text=st.text(max_size=120))
def test_does_normalise_base_url_return_a_bare_origin_or_refuse_typed(text) -> None:
    try:
        out = urls.normalise_base_url(text)
    except urls.InvalidBaseUrl as exc:
        assert str(exc)
        return
    import re

    assert re.fullmatch(NORMALISED, out), out
    assert urls.normalise_base_url(out) == out  # a fixed point: stored URLs compare stably


label = st.from_regex(r"[a-zA-Z0-9]([a-zA-Z0-9-]{0,10}[a-zA-Z0-9])?", fullmatch=True)


@given(labels=st.lists(label, min_size=1, max_size=4), scheme=st.sampled_from(["", "https://", "HTTPS://", "http://"]),
       port=st.sampled_from(["", ":443", ":8443"]), tail=st.sampled_from(["", "/", "//", "/jira", "/jira/", "/JIRA"]),
       pad=st.sampled_from(["", " ", "\t", "\n"]))
def test_do_ways_of_typing_one_site_name_the_same_site(labels, scheme, port, tail, pad) -> None:
    host = ".".join(labels)
    typed = f"{pad}{scheme}{host}{port}{tail}{pad}"
    canonical = f"https://{host.lower()}{':8443' if port == ':8443' else ''}"
    if scheme == "http://":
        assume(port != ":443")  # 443 is not http's default port: another origin, rightly
        assert urls.site_identity(typed) == urls.site_identity(canonical)
        assert urls.matches_any(typed, ["junk ://", canonical.upper()])
    else:
        assert urls.normalise_base_url(typed) == canonical


@given(host=st.text(max_size=30), suffix=st.sampled_from(["@evil.example", "/x", "?q=1", "#f", "/../admin"]))
def test_are_credentials_paths_queries_and_fragments_always_refused(host, suffix) -> None:
    assume(host.strip())
    with pytest.raises(urls.InvalidBaseUrl):
        urls.normalise_base_url(f"https://user{suffix}" if suffix.startswith("@") else f"https://{host}{suffix}")


@given(candidate=st.text(max_size=40), known=st.lists(st.text(max_size=40), max_size=4))
def test_does_matches_any_only_ever_refuse_the_candidate_typed(candidate, known) -> None:
    with contextlib.suppress(urls.InvalidBaseUrl):
        urls.matches_any(candidate, known)


# -- the lifecycle endpoints ------------------------------------------------------------------------------------

def lifecycle_bodies(app_key: str, client_key: str, *, optional_fields: bool = True) -> st.SearchStrategy[bytes]:
    # Optional fields of odd types crash even a genuinely signed install (reported to the lead: save_installation
    # stores cloudId/displayUrl/productType unchecked), so the signed-body property leaves them out for now.
    extra = {"eventType": st.sampled_from(["installed", "uninstalled", "enabled", "disabled"]),
             "cloudId": json_values} if optional_fields else {}
    fields = st.fixed_dictionaries(
        {},
        optional={"key": st.just(app_key) | json_values, "clientKey": st.just(client_key) | st.text(_NO_NUL),
                  "baseUrl": st.sampled_from(["https://evil.example", "javascript:alert(1)", "ftp://x"]) | json_values,
                  "sharedSecret": st.just("attacker-chosen-secret-of-sufficient-length") | json_values, **extra})
    return st.one_of(fields.map(lambda b: json.dumps(b).encode()), json_values.map(lambda v: json.dumps(v).encode()),
                     st.binary(max_size=200))


@given(data=st.data())
def test_can_a_lifecycle_event_without_jiras_signature_change_anything(app, client, installed, keys, data) -> None:
    before = tenant_rows(app)
    path = data.draw(st.sampled_from(LIFECYCLE))
    body = data.draw(lifecycle_bodies(app.config["APP_KEY"], installed.client_key))
    token = data.draw(st.one_of(
        forged_tokens(installed.client_key),
        # Jira's shared secret is for enabled/disabled only: an HS256 install is an algorithm-confusion attempt.
        st.just(jwt.encode({"iss": installed.client_key, "iat": int(time.time()), "exp": int(time.time()) + 60,
                            "qsh": qsh_of("POST", "https://dr-app.example.test" + path,
                                          "https://dr-app.example.test")},
                           installed.shared_secret, algorithm="HS256")).filter(lambda _: path.endswith("installed")),
        # A real kid, someone else's key.
        st.builds(lambda kid: signed_install_token(_Attacker(kid), client_key=installed.client_key,
                                                   app_base_url=app.config["BASE_URL"], path=path),
                  st.sampled_from(list(keys.keys))),
    ).filter(lambda t: "\r" not in t and "\n" not in t))
    header = data.draw(st.sampled_from(["JWT {}", "{}", "Bearer {}", "JWT  {}"])).format(token)
    resp = client.post(path, data=body, headers={"Authorization": header},
                       content_type=data.draw(st.sampled_from(["application/json", "text/plain", "x/y"])))
    assert resp.status_code in (400, 401), resp.data[:300]
    assert resp.get_json()["status"] == resp.status_code
    assert tenant_rows(app) == before
    assert all(KID_PATTERN.match(p.rsplit("/", 1)[-1]) for p in keys.requests)  # no odd kid reached the key server


class _Attacker:
    """Looks like an install key to the token helper: a real kid, but the attacker's private key."""

    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.private = ATTACKER_KEY


_FRESH_CLIENT = itertools.count(1)


@given(data=st.data())
def test_does_a_genuinely_signed_install_with_an_odd_body_end_typed(app, client, installed, install_key, data) -> None:
    """Even Jira's signature doesn't make a malformed body crash the app; only a complete one is stored.

    Each example is a first install of its own clientKey: the app rightly refuses a second install signed in the
    same second as an accepted one (a replay), and hypothesis runs many examples a second."""
    client_key = f"fuzz-client-{next(_FRESH_CLIENT)}"
    raw = data.draw(lifecycle_bodies(app.config["APP_KEY"], client_key, optional_fields=False))
    try:
        body = json.loads(raw)
    except ValueError:
        body = None
    iss = body["clientKey"] if isinstance(body, dict) and isinstance(body.get("clientKey"), str) else client_key
    token = signed_install_token(install_key, client_key=iss, app_base_url=app.config["BASE_URL"])
    before = tenant_rows(app)
    resp = client.post("/installed", data=raw, headers={"Authorization": f"JWT {token}"},
                       content_type="application/json")
    # A drawn clientKey (any text) may repeat one an earlier example installed within the same second: that is a
    # replay, refused without change. Every other outcome is a stored install or a typed refusal of the body.
    repeated = any(row[0] == iss for row in before)
    assert resp.status_code in ((204, 400, 401) if repeated else (204, 400)), resp.data[:300]
    if resp.status_code in (400, 401):
        assert resp.get_json()["error"] and tenant_rows(app) == before
    else:
        assert body["key"] == app.config["APP_KEY"] and body["sharedSecret"] and body["baseUrl"].startswith("http")


# -- every route of both doors: ids out of range, JSON nested 5,000 deep ------------------------------------------

def _sweep(doors, requests_: list[tuple[str, str, dict[str, Any]]]) -> list[str]:
    """Send each request; return what went wrong (a 5xx, a traceback, or an exception escaping Flask)."""
    problems = []
    for method, path, kwargs in requests_:
        try:
            problem = no_crash(doors.send(method, path, **kwargs))
        except Exception as exc:  # TESTING re-raises what would have been a 500
            problem = f"raised {type(exc).__name__}: {str(exc)[:120]}"
        if problem:
            problems.append(f"{method} {path[:80]} {sorted(kwargs)}: {problem}")
    return problems


def test_does_every_route_cover_both_doors(app) -> None:
    """The sweep's route list comes from the URL map and holds both doors' id routes (a guard on the sweep itself)."""
    found = routes(app)
    assert any(r.forge and r.int_args for r in found) and any(not r.forge and r.int_args for r in found)
    assert {r.rule for r in found} >= {"/enabled", "/disabled", "/forge/events/lifecycle",
                                       "/forge/api/v1/restore/previews"}


def _id_name(value: object) -> str:
    text = str(value)
    return text if len(text) <= 20 else f"{text[:3]}...{len(text)}-digits"


@pytest.mark.parametrize("ident", [*HOSTILE_IDS, MAX_ID, "9" * 5000, "0" * 30 + "1" * 20], ids=_id_name)
def test_is_an_out_of_range_path_id_a_missing_object_on_every_route(doors, ident) -> None:
    """0, -1, 2**63, 2**64+1, 10**30 in any ``<int:...>`` of either door: 404, as for an id that doesn't exist (the
    largest valid id, MAX_ID, too: it reaches the database and must find nothing)."""
    problems = []
    for route in routes(doors.app):
        if not route.int_args:
            continue
        for path in route.paths(ident, every_sample=True):
            body = {"data": b"{}", "content_type": "application/json"} if route.method == "POST" else {}
            try:
                resp = doors.send(route.method, path, **body)
            except Exception as exc:
                problems.append(f"{route.method} {path[:80]}: raised {type(exc).__name__}: {str(exc)[:120]}")
                continue
            if resp.status_code != 404 or b"Traceback" in resp.get_data():
                problems.append(f"{route.method} {path[:80]}: {resp.status_code} {resp.get_data()[:120]!r}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("signed", [True, False], ids=["signed-in", "junk-auth"])
def test_does_json_nested_5000_deep_never_crash_any_route(doors, signed) -> None:
    """Every route of both doors, signed in or not (lifecycle events read the body before the signature)."""
    requests_ = [(route.method, path, {"signed": signed, "data": body, "content_type": "application/json"})
                 for route in routes(doors.app) for path in route.paths(1, every_sample=True)
                 for body in DEEP_BODIES.values()]
    problems = _sweep(doors, requests_)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("value", [*HOSTILE_IDS, MAX_ID], ids=_id_name)
def test_do_out_of_range_ids_in_forms_queries_and_json_never_crash_any_route(doors, value) -> None:
    """Every id-like field at once, as a form, a query string and a JSON body, on every route of both doors."""
    fields = dict.fromkeys(ID_FIELDS, value)
    confirm_form = {"confirmed": "yes", "reusable": "no", "scope": "all", "user_fallback": "drop"}
    confirm_json = {"confirmed": True, "reusable": False, "scope": "all", "userFallback": "drop"}
    requests_: list[tuple[str, str, dict[str, Any]]] = []
    for route in routes(doors.app):
        for path in route.paths(1, every_sample=True):
            requests_.append((route.method, path, {"query": fields}))
            if route.method == "POST":
                requests_.append((route.method, path, {"data": {**fields, **confirm_form}}))
                requests_.append((route.method, path, {"data": json.dumps({**fields, **confirm_json}),
                                                       "content_type": "application/json"}))
    problems = _sweep(doors, requests_)
    assert not problems, "\n".join(problems)
