"""Does the emulated site install an app the way Jira does, checked by an independent receiver (pyjwt +
atlassian_jwt), and sign iframe URLs and context tokens the way Jira does?"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt
import pytest
import requests
from atlassian_jwt.url_utils import hash_url
from werkzeug.wrappers import Request, Response

from fakejira import installer
from fakejira.client import ConnectClient
from fakejira.cloud import Cloud
from fakejira.server import ServerThread
from fakejira.site import Site

KEY = "com.example.receiver"


@dataclass
class Receiver:
    """A minimal Connect app under ``/app``: serves its descriptor, verifies lifecycle calls on its own."""

    install_keys_url: str
    answer: int = 204
    base_url: str = ""
    events: list[dict[str, Any]] = field(default_factory=list)
    descriptor_overrides: dict[str, Any] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)  # clientKey -> sharedSecret, as the app stores it

    def descriptor(self) -> dict[str, Any]:
        base = {"key": KEY, "name": "Receiver", "baseUrl": self.base_url, "authentication": {"type": "jwt"},
                "lifecycle": {"installed": "/installed", "uninstalled": "/uninstalled",
                              "enabled": "/enabled", "disabled": "/disabled"},
                "apiMigrations": {"signed-install": True}, "scopes": ["READ", "ADMIN"]}
        base.update(self.descriptor_overrides)
        return base

    def verify(self, request: Request, path: str) -> str:
        """'' if the lifecycle call is genuine, else why not (checked without the emulator's code)."""
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("JWT "):
            return "no JWT"
        token = auth.removeprefix("JWT ")
        body = json.loads(request.get_data())
        header = jwt.get_unverified_header(token)
        try:
            if path in ("/installed", "/uninstalled"):
                if header.get("alg") != "RS256":
                    return "not RS256"
                pem = requests.get(f"{self.install_keys_url}/{header.get('kid')}", timeout=5)
                if pem.status_code != 200:
                    return "unknown kid"
                claims = jwt.decode(token, pem.text, algorithms=["RS256"], audience=self.base_url)
            else:
                claims = jwt.decode(token, self.secrets[body["clientKey"]], algorithms=["HS256"])
        except jwt.PyJWTError as exc:
            return f"{exc.__class__.__name__}"
        if claims["iss"] != body["clientKey"]:
            return "iss is not the clientKey"
        if claims["qsh"] != hash_url("POST", path):
            return "wrong qsh"
        return ""

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        path = request.path.removeprefix("/app")
        if path == "/atlassian-connect.json":
            return Response(json.dumps(self.descriptor()), content_type="application/json")(environ, start_response)
        problem = self.verify(request, path)
        body = json.loads(request.get_data() or b"{}")
        self.events.append({"path": path, "problem": problem, "body": body})
        if problem:
            return Response(problem, status=401)(environ, start_response)
        if path == "/installed" and self.answer < 300:
            self.secrets[body["clientKey"]] = body["sharedSecret"]
        return Response(status=self.answer)(environ, start_response)


@pytest.fixture
def receiver(fake_cloud: Cloud) -> Iterator[Receiver]:
    app = Receiver(fake_cloud.install_keys_url)
    server = ServerThread(app).start()
    app.base_url = server.url + "/app"
    yield app
    server.stop()


def _install(site: Site, receiver: Receiver) -> installer.Installation:
    return installer.install_app(site, receiver.base_url + "/atlassian-connect.json")


def test_install_posts_a_signed_installed_event(bare_site: Site, receiver: Receiver) -> None:
    inst = _install(bare_site, receiver)
    (event,) = receiver.events
    assert event["path"] == "/installed" and event["problem"] == ""
    body = event["body"]
    assert body["key"] == KEY and body["clientKey"] == inst.client_key
    assert body["sharedSecret"] == inst.shared_secret
    assert (body["baseUrl"], body["productType"], body["eventType"]) == (bare_site.base_url, "jira", "installed")
    assert body["cloudId"] == bare_site.cloud_id and body["displayUrl"] and body["serverVersion"]
    assert bare_site.installations[KEY].scopes == {"READ", "ADMIN"}


def test_an_installed_app_can_call_the_site(bare_site: Site, receiver: Receiver, category_handlers: Any) -> None:
    _install(bare_site, receiver)
    assert ConnectClient(bare_site, KEY).get("/rest/api/3/projectCategory").status_code == 200


def test_reinstall_keeps_the_client_key_and_sends_a_fresh_secret(bare_site: Site, receiver: Receiver) -> None:
    first = _install(bare_site, receiver)
    second = _install(bare_site, receiver)
    assert second.client_key == first.client_key
    assert second.shared_secret != first.shared_secret
    assert bare_site.installations[KEY].shared_secret == second.shared_secret


def test_an_app_refusing_the_install_is_not_installed(bare_site: Site, receiver: Receiver) -> None:
    receiver.answer = 500
    with pytest.raises(installer.InstallError, match="answered 500"):
        _install(bare_site, receiver)
    assert KEY not in bare_site.installations


@pytest.mark.parametrize(("override", "problem"), [
    ({"key": "k" * 65}, "longer than 64"),
    ({"authentication": {"type": "none"}}, "authentication.type"),
    ({"lifecycle": {}}, "lifecycle.installed"),
    ({"apiMigrations": {"signed-install": False}}, "signed-install"),
    ({"apiMigrations": {}}, "signed-install"),
    ({"baseUrl": "/relative"}, "baseUrl"),
    ({"scopes": ["READ", "EVERYTHING"]}, "scopes"),
])
def test_bad_descriptors_are_refused_before_any_callback(bare_site: Site, receiver: Receiver,
                                                         override: dict[str, Any], problem: str) -> None:
    receiver.descriptor_overrides = override
    with pytest.raises(installer.InstallError, match=problem):
        _install(bare_site, receiver)
    assert receiver.events == [] and bare_site.installations == {}


def test_an_unreachable_descriptor_is_an_install_error(bare_site: Site) -> None:
    with pytest.raises(installer.InstallError, match="could not fetch"):
        installer.install_app(bare_site, "http://127.0.0.1:9/atlassian-connect.json")


def _forged(site: Site, receiver: Receiver, **kw: Any) -> installer.LifecycleRequest:
    return installer.build_install_request(site, receiver.descriptor(), **kw)


@pytest.mark.parametrize(("forge", "problem"), [
    ({"claims": {"aud": "https://evil.example"}}, "InvalidAudienceError"),
    ({"claims": {"qsh": hash_url("POST", "/other")}}, "wrong qsh"),
    ({"claims": {"exp": int(time.time()) - 600, "iat": int(time.time()) - 900}}, "ExpiredSignatureError"),
    ({"algorithm": "HS256", "signing_key": "s" * 40}, "not RS256"),
    ({"kid": "0e50fccb-0000-4991-a5db-dc850ba3f236"}, "unknown kid"),
    ({"claims": {"iss": "someone-else"}}, "iss is not the clientKey"),
    ({"claims": {"aud": installer.DELETE}}, "MissingRequiredClaimError"),
])
def test_forged_installs_are_caught_by_an_independent_verifier(bare_site: Site, receiver: Receiver,
                                                               forge: dict[str, Any], problem: str) -> None:
    """Do the forging knobs produce exactly the defect they name (and nothing else)?"""
    assert _forged(bare_site, receiver).send().status_code == 204  # the unforged request is accepted
    response = _forged(bare_site, receiver, **forge).send()
    assert response.status_code == 401
    assert receiver.events[-1]["problem"] == problem


def test_uninstall_is_signed_and_forgets_the_app(bare_site: Site, receiver: Receiver) -> None:
    _install(bare_site, receiver)
    installer.uninstall_app(bare_site, KEY)
    event = receiver.events[-1]
    assert (event["path"], event["problem"], event["body"]["eventType"]) == ("/uninstalled", "", "uninstalled")
    assert "sharedSecret" not in event["body"]
    assert KEY not in bare_site.installations


def test_enable_and_disable_are_hs256_with_the_shared_secret(bare_site: Site, receiver: Receiver,
                                                             category_handlers: Any) -> None:
    _install(bare_site, receiver)
    installer.disable_app(bare_site, KEY)
    assert receiver.events[-1]["path"] == "/disabled" and receiver.events[-1]["problem"] == ""
    assert ConnectClient(bare_site, KEY).get("/rest/api/3/projectCategory").status_code == 401
    installer.enable_app(bare_site, KEY)
    assert receiver.events[-1]["path"] == "/enabled" and receiver.events[-1]["problem"] == ""
    assert ConnectClient(bare_site, KEY).get("/rest/api/3/projectCategory").status_code == 200


def test_install_keys_are_served_by_kid_and_survive_rotation(fake_cloud: Cloud) -> None:
    old = fake_cloud.install_key
    new = fake_cloud.rotate_install_key()
    assert new.kid != old.kid
    for key in (old, new):
        response = requests.get(f"{fake_cloud.install_keys_url}/{key.kid}", timeout=5)
        assert response.status_code == 200 and response.text == key.public_pem
    assert requests.get(f"{fake_cloud.install_keys_url}/nope", timeout=5).status_code == 404


def test_iframe_urls_are_signed_like_jira(bare_site: Site, receiver: Receiver) -> None:
    inst = _install(bare_site, receiver)
    url = installer.sign_iframe_url(bare_site, KEY, "/admin/backups", "557058:user", {"project.key": "A B"})
    parts = urlsplit(url)
    assert url.startswith(receiver.base_url + "/admin/backups?")
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    assert query["xdm_e"] == bare_site.base_url and query["project.key"] == "A B"
    assert {"cp", "lic", "cv", "xdm_c"} <= set(query)
    claims = jwt.decode(query["jwt"], inst.shared_secret, algorithms=["HS256"])
    assert (claims["iss"], claims["sub"]) == (inst.client_key, "557058:user")
    assert claims["exp"] - claims["iat"] == 180
    relative = parts.path.removeprefix("/app") + "?" + parts.query
    assert claims["qsh"] == hash_url("GET", relative)  # atlassian_jwt drops the jwt parameter itself


def test_context_tokens_carry_context_qsh(bare_site: Site, receiver: Receiver) -> None:
    inst = _install(bare_site, receiver)
    claims = jwt.decode(installer.context_token(bare_site, KEY, "557058:user"), inst.shared_secret,
                        algorithms=["HS256"])
    assert (claims["qsh"], claims["sub"], claims["iss"]) == ("context-qsh", "557058:user", inst.client_key)


def test_control_api_installs_from_a_descriptor_url(bare_site: Site, receiver: Receiver) -> None:
    response = requests.post(bare_site.base_url + "/_emulator/install", timeout=10,
                             json={"descriptorUrl": receiver.base_url + "/atlassian-connect.json"})
    assert response.status_code == 201 and response.json()["key"] == KEY
    assert receiver.events[-1]["problem"] == ""
