"""Does the emulated Jira hold attachments as Jira does: multipart uploads behind the XSRF header and the upload limit,
the caller as author, history and events, metadata and settings, content as a 303 or the bytes with ranges, deletes
by whom Jira allows, and a seed whose bytes come back?"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import requests

from fakejira import attachments, installer, seeding
from fakejira.client import GatewayClient
from fakejira.cloud import Cloud
from fakejira.limits import ATTACHMENT_MAX_BYTES
from fakejira.registry import Multipart
from fakejira.resources import attachments as attachment_resources
from fakejira.server import ServerThread
from fakejira.site import Site
from tests.emulator.helpers import admin
from tests.emulator.issue_data_helpers import add_user, call, issue_site, record_events
from tests.emulator.test_webhooks import APP as LISTENER
from tests.emulator.test_webhooks import Receiver

API = "/rest/api/3"
APP = "com.example.attach"
BOB = "557058:bob"
NO_CHECK = {"X-Atlassian-Token": "no-check"}
UPLOAD_OP = "POST /rest/api/3/issue/{issueIdOrKey}/attachments"


@pytest.fixture
def shop(fake_cloud: Cloud) -> Site:
    """A served site with OPS-1 and OPS-2, Bob, and one app that may read, write and delete and act as a user."""
    site = fake_cloud.add_site("shop")
    issue_site(site, 2)
    add_user(site, BOB, "Bob Builder")
    installer.install_direct(site, APP, ["READ", "WRITE", "DELETE", "ACT_AS_USER"])
    return site


def send(site: Site, method: str, path: str, *, app: str = APP, bearer: str | None = None,
         **kw: Any) -> requests.Response:
    """One request to the site as ``app`` (a Connect JWT with the right qsh) or with an impersonation token."""
    params = kw.pop("params", None)
    target = API + path + (f"?{urlencode(params)}" if params else "")
    token = f"Bearer {bearer}" if bearer else f"JWT {installer.app_token(site, app, method, target)}"
    headers = {"Authorization": token, **kw.pop("headers", {})}
    return requests.request(method, site.base_url + target, headers=headers, timeout=60, **kw)


def upload(site: Site, key: str, *files: tuple[str, bytes, str | None], headers: dict[str, str] | None = None,
           **kw: Any) -> requests.Response:
    """POST ``files`` (name, bytes, content type) as ``file`` parts."""
    parts = [("file", (name, content, ctype) if ctype else (name, content)) for name, content, ctype in files]
    return send(site, "POST", f"/issue/{key}/attachments", files=parts,
                headers=NO_CHECK if headers is None else headers, **kw)


def app_user(site: Site) -> str:
    return site.installations[APP].app_account_id


# ------------------------------------------------------------------------------------------------ upload


def test_an_upload_keeps_names_and_types_and_answers_the_attachments(shop: Site) -> None:
    """Does one call with two files give two attachments, as the spec's list, authored by the caller?"""
    events = record_events(shop)
    answer = upload(shop, "OPS-1", ("notes.txt", b"hello", "text/plain"), ("pic.png", b"\x89PNG....", "image/png"))
    assert answer.status_code == 200, answer.text
    first, second = answer.json()
    assert (first["filename"], first["mimeType"], first["size"]) == ("notes.txt", "text/plain", 5)
    assert (second["filename"], second["mimeType"], second["size"]) == ("pic.png", "image/png", 8)
    assert first["author"]["accountId"] == app_user(shop) == second["author"]["accountId"]
    assert first["content"] == f"{shop.base_url}{API}/attachment/content/{first['id']}"
    assert "thumbnail" in second and "thumbnail" not in first  # Jira offers thumbnails of images only
    assert int(second["id"]) > int(first["id"])
    field = call(shop, "GET", "/issue/OPS-1")[1]["fields"]["attachment"]
    assert [a["id"] for a in field] == [first["id"], second["id"]]
    assert call(shop, "GET", "/issue/OPS-2")[1]["fields"]["attachment"] == []
    assert events.kinds().count("attachment_created") == 2
    assert [e.details["attachment"]["filename"] for e in events.of("attachment_created")] == ["notes.txt", "pic.png"]


def test_each_attachment_writes_its_history_item(shop: Site) -> None:
    """Is an ``Attachment`` item with the id and file name written, as Jira writes it?"""
    created = upload(shop, "OPS-1", ("a.txt", b"x", "text/plain")).json()[0]
    history = call(shop, "GET", "/issue/OPS-1/changelog")[1]["values"]
    assert history[-1]["items"] == [{"field": "Attachment", "fieldtype": "jira", "fieldId": "attachment",
                                     "to": created["id"], "toString": "a.txt"}]


def test_a_part_without_a_content_type_gets_one_from_its_name(shop: Site) -> None:
    created = upload(shop, "OPS-1", ("table.csv", b"a,b\n", None)).json()[0]
    assert created["mimeType"] == "text/csv"


@pytest.mark.parametrize("headers", [{}, {"X-Atlassian-Token": "check"}])
def test_without_the_xsrf_header_the_upload_is_refused(shop: Site, headers: dict[str, str]) -> None:
    """Is an upload without ``X-Atlassian-Token: no-check`` Jira's plain 403, with nothing stored?"""
    events = record_events(shop)
    answer = upload(shop, "OPS-1", ("a.txt", b"x" * 2_000_000, "text/plain"), headers=headers)
    assert answer.status_code == 403 and answer.text == "XSRF check failed"
    assert answer.headers["Content-Type"].startswith("text/plain")
    assert shop.store.coll("attachments") == {} and shop.store.blobs == {} and events.kinds() == []


def test_the_deprecated_nocheck_value_still_passes(shop: Site) -> None:
    assert upload(shop, "OPS-1", ("a.txt", b"x", "text/plain"), headers={"X-Atlassian-Token": "nocheck"}) \
        .status_code == 200


def test_a_file_above_the_upload_limit_is_a_413_that_stores_nothing(fake_cloud: Cloud, shop: Site) -> None:
    """Is the limit per file (the control API's knob, ``/attachment/meta``'s uploadLimit) Jira's 413?"""
    knob = requests.post(f"{shop.base_url}/_emulator/limits", json={"attachmentMaxBytes": 1000}, timeout=5)
    assert knob.status_code == 200 and knob.json()["attachmentMaxBytes"] == 1000
    assert send(shop, "GET", "/attachment/meta").json() == {"enabled": True, "uploadLimit": 1000}
    answer = upload(shop, "OPS-1", ("ok.txt", b"x" * 1000, "text/plain"), ("big.bin", b"x" * 1001, None))
    assert answer.status_code == 413
    assert answer.json()["errorMessages"] == ["The field file exceeds its maximum permitted size of 1000 bytes."]
    assert shop.store.coll("attachments") == {}
    assert upload(shop, "OPS-1", ("ok.txt", b"x" * 1000, "text/plain")).status_code == 200


def test_a_bad_upload_limit_knob_is_a_400(shop: Site) -> None:
    answer = requests.post(f"{shop.base_url}/_emulator/limits", json={"attachmentMaxBytes": "big"}, timeout=5)
    assert answer.status_code == 400 and "attachmentMaxBytes" in answer.text
    assert shop.limits.attachment_max_bytes == ATTACHMENT_MAX_BYTES


def test_more_than_sixty_files_or_past_the_issue_cap_is_a_413(shop: Site) -> None:
    files = [(f"f{n}.txt", b"x", "text/plain") for n in range(61)]
    assert upload(shop, "OPS-1", *files).status_code == 413
    shop.limits.configure(issue_caps={"attachments": 2})
    assert upload(shop, "OPS-1", ("a.txt", b"x", "text/plain")).status_code == 200
    answer = upload(shop, "OPS-1", ("b.txt", b"x", "text/plain"), ("c.txt", b"x", "text/plain"))
    assert answer.status_code == 413 and answer.json()["errorMessages"] == [
        "The issue has reached the limit of 2 attachments."]
    assert len(shop.store.coll("attachments")) == 1


def test_an_unknown_issue_is_a_404_that_keeps_no_bytes(shop: Site) -> None:
    """Is an upload to an unknown issue Jira's 404, with its spooled bytes gone at once?"""
    before = set(attachments.spool_dir().iterdir())
    answer = upload(shop, "OPS-99", ("a.txt", b"x" * 2_000_000, "text/plain"))
    assert answer.status_code == 404
    assert answer.json()["errorMessages"] == ["Issue does not exist or you do not have permission to see it."]
    assert shop.store.blobs == {} and set(attachments.spool_dir().iterdir()) == before


def test_a_multipart_body_without_a_file_part_is_a_400(shop: Site) -> None:
    answer = send(shop, "POST", "/issue/OPS-1/attachments", files=[("other", ("a.txt", b"x"))], headers=NO_CHECK)
    assert answer.status_code == 400 and "parts named 'file'" in answer.json()["errorMessages"][0]


def test_a_file_part_that_is_a_form_field_violates_the_spec(fake_cloud: Cloud, shop: Site) -> None:
    with fake_cloud.expect_violations() as seen:
        answer = send(shop, "POST", "/issue/OPS-1/attachments", files={"file": (None, "just text")},
                      headers=NO_CHECK)
    assert answer.status_code == 400 and [v.kind for v in seen] == ["request"]
    assert shop.store.coll("attachments") == {}


def test_multipart_to_an_operation_that_takes_json_is_a_415(shop: Site) -> None:
    answer = send(shop, "POST", "/issue/OPS-1/comment", files=[("file", ("a.txt", b"x"))], headers=NO_CHECK)
    assert answer.status_code == 415


def test_a_read_only_app_may_not_upload(shop: Site) -> None:
    installer.install_direct(shop, "reader", ["READ"])
    answer = upload(shop, "OPS-1", ("a.txt", b"x", "text/plain"), app="reader")
    assert answer.status_code == 403 and shop.store.coll("attachments") == {}


def test_an_impersonation_token_makes_the_upload_that_users(fake_cloud: Cloud, shop: Site) -> None:
    token = fake_cloud.impersonation.issue_token(shop, APP, BOB)
    created = upload(shop, "OPS-1", ("bob.txt", b"by Bob", "text/plain"), bearer=token)
    assert created.status_code == 200, created.text
    assert created.json()[0]["author"] == {**created.json()[0]["author"], "accountId": BOB,
                                           "displayName": "Bob Builder"}


def test_an_oauth_app_uploads_and_downloads_through_the_gateway(fake_cloud: Cloud, shop: Site) -> None:
    """Does the gateway take an upload from an OAuth app (its user the author) and serve the bytes?"""
    client = fake_cloud.oauth.register_client(["http://127.0.0.1:9/cb"])
    writer = fake_cloud.oauth.issue_tokens(client.client_id, admin(shop), [shop], ["write:jira-work", "read:jira-work"])
    files = [("file", ("g.txt", b"via gateway", "text/plain"))]
    gateway = GatewayClient(fake_cloud, shop, writer["access_token"])
    created = gateway.post("/rest/api/3/issue/OPS-1/attachments", files=files, headers=NO_CHECK)
    assert created.status_code == 200, created.text
    assert created.json()[0]["author"]["accountId"] == admin(shop)
    got = gateway.get(f"/rest/api/3/attachment/content/{created.json()[0]['id']}")
    assert got.status_code == 200 and got.content == b"via gateway"


# ------------------------------------------------------------------------------------------------ reads


def test_metadata_is_the_spec_s_attachment_metadata(shop: Site) -> None:
    created = upload(shop, "OPS-1", ("a.txt", b"abc", "text/plain")).json()[0]
    meta = send(shop, "GET", f"/attachment/{created['id']}")
    assert meta.status_code == 200
    assert meta.json() == {**created, "id": int(created["id"])}  # the metadata's id is an integer
    missing = send(shop, "GET", "/attachment/424242")
    assert missing.status_code == 404
    assert missing.json()["errorMessages"] == ["The attachment with id '424242' does not exist"]


def test_content_redirects_to_a_download_url_that_serves_the_bytes(shop: Site) -> None:
    """Is the content a 303 to a URL that needs no Jira credentials, and is a forged one refused?"""
    created = upload(shop, "OPS-1", ("report ü.pdf", b"%PDF-1.7 body", "application/pdf")).json()[0]
    answer = send(shop, "GET", f"/attachment/content/{created['id']}", allow_redirects=False)
    assert answer.status_code == 303
    location = answer.headers["Location"]
    assert location.startswith(f"{shop.base_url}/media/file/")
    got = requests.get(location, timeout=5)
    assert got.status_code == 200 and got.content == b"%PDF-1.7 body"
    assert got.headers["Content-Type"] == "application/pdf"
    assert got.headers["Content-Disposition"] == "attachment; filename*=UTF-8''report%20%C3%BC.pdf"
    forged = location.replace("token=", "token=1")
    assert requests.get(forged, timeout=5).status_code == 401
    followed = send(shop, "GET", f"/attachment/content/{created['id']}")  # a client that follows redirects
    assert followed.status_code == 200 and followed.content == b"%PDF-1.7 body"


def test_content_without_redirect_is_the_bytes_with_their_headers(shop: Site) -> None:
    created = upload(shop, "OPS-1", ("a.txt", b"0123456789", "text/plain")).json()[0]
    got = send(shop, "GET", f"/attachment/content/{created['id']}", params={"redirect": "false"})
    assert got.status_code == 200 and got.content == b"0123456789"
    assert got.headers["Content-Length"] == "10" and got.headers["Content-Type"].startswith("text/plain")
    assert got.headers["Content-Disposition"] == "attachment; filename*=UTF-8''a.txt"


@pytest.mark.parametrize(("header", "status", "body"), [
    ("bytes=2-5", 206, b"2345"), ("bytes=7-", 206, b"789"), ("bytes=-3", 206, b"789"), ("bytes=8-100", 206, b"89"),
    ("bytes=10-12", 416, None), ("pages=1-2", 400, None), ("bytes=-", 400, None),
])
def test_a_range_is_served_or_refused_as_the_spec_says(shop: Site, header: str, status: int,
                                                       body: bytes | None) -> None:
    created = upload(shop, "OPS-1", ("a.txt", b"0123456789", "text/plain")).json()[0]
    for answer in (send(shop, "GET", f"/attachment/content/{created['id']}", params={"redirect": "false"},
                        headers={"Range": header}),
                   send(shop, "GET", f"/attachment/content/{created['id']}", headers={"Range": header})):
        assert answer.status_code == status, (header, answer.text)
        if body is not None:
            assert answer.content == body
            assert answer.headers["Content-Range"].endswith("/10")
        if status == 416:
            assert answer.headers["Content-Range"] == "bytes */10"


def test_a_multi_megabyte_upload_round_trips(shop: Site) -> None:
    """Does a 24 MB file (above the 10 MB JSON body limit) go in, stay on disk, and come back byte for byte?"""
    content = os.urandom(24 * 1024 * 1024)
    created = upload(shop, "OPS-1", ("dump.bin", content, "application/octet-stream"))
    assert created.status_code == 200, created.text
    attachment = created.json()[0]
    assert attachment["size"] == len(content)
    blob = shop.store.blobs[attachment["id"]]
    assert isinstance(blob, attachments.FileBlob) and blob.path.stat().st_size == len(content)
    got = send(shop, "GET", f"/attachment/content/{attachment['id']}", params={"redirect": "false"}, stream=True)
    digest = hashlib.sha256()
    for piece in got.iter_content(1 << 20):
        digest.update(piece)
    assert got.status_code == 200 and digest.digest() == hashlib.sha256(content).digest()
    tail = send(shop, "GET", f"/attachment/content/{attachment['id']}", headers={"Range": "bytes=-1000"})
    assert tail.status_code == 206 and tail.content == content[-1000:]


def test_a_thumbnail_is_the_default_image(shop: Site) -> None:
    created = upload(shop, "OPS-1", ("pic.png", b"\x89PNG....", "image/png"), ("a.txt", b"x", "text/plain")).json()
    image = send(shop, "GET", f"/attachment/thumbnail/{created[0]['id']}", params={"redirect": "false"})
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    assert image.headers["Content-Type"] == "image/png"
    assert send(shop, "GET", f"/attachment/thumbnail/{created[1]['id']}",
                params={"fallbackToDefault": "false"}).status_code == 404
    assert send(shop, "GET", f"/attachment/thumbnail/{created[0]['id']}",
                allow_redirects=False).status_code == 303


def test_reads_are_charged_per_object_and_uploads_as_writes(shop: Site) -> None:
    created = upload(shop, "OPS-1", ("a.txt", b"abc", "text/plain")).json()[0]
    shop.limits.clear_points()
    send(shop, "GET", f"/attachment/content/{created['id']}", params={"redirect": "false"})
    send(shop, "GET", f"/attachment/{created['id']}")
    upload(shop, "OPS-1", ("b.txt", b"abc", "text/plain"))
    points = shop.limits.points()
    assert points["GET /rest/api/3/attachment/content/{id}"] == 2
    assert points["GET /rest/api/3/attachment/{id}"] == 2
    assert points[UPLOAD_OP] == 1


# ------------------------------------------------------------------------------------------------ delete


def test_delete_removes_the_attachment_and_its_bytes_with_history_and_an_event(shop: Site) -> None:
    created = upload(shop, "OPS-1", ("big.bin", os.urandom(2_000_000), None)).json()[0]
    path = shop.store.blobs[created["id"]].path
    events = record_events(shop)
    assert send(shop, "DELETE", f"/attachment/{created['id']}").status_code == 204
    assert send(shop, "GET", f"/attachment/{created['id']}").status_code == 404
    assert send(shop, "GET", f"/attachment/content/{created['id']}").status_code == 404
    assert not path.exists() and created["id"] not in shop.store.blobs
    assert call(shop, "GET", "/issue/OPS-1")[1]["fields"]["attachment"] == []
    assert call(shop, "GET", "/issue/OPS-1/changelog")[1]["values"][-1]["items"] == [
        {"field": "Attachment", "fieldtype": "jira", "fieldId": "attachment", "from": created["id"],
         "fromString": "big.bin"}]
    assert events.of("attachment_deleted")[0].details["attachment"]["id"] == created["id"]
    assert send(shop, "DELETE", f"/attachment/{created['id']}").status_code == 404


def test_a_user_deletes_their_own_attachments_only(fake_cloud: Cloud, shop: Site) -> None:
    """May an impersonated user without admin rights delete another's attachment? Their own?"""
    theirs = upload(shop, "OPS-1", ("app.txt", b"x", "text/plain")).json()[0]
    token = fake_cloud.impersonation.issue_token(shop, APP, BOB)
    own = upload(shop, "OPS-1", ("bob.txt", b"x", "text/plain"), bearer=token).json()[0]
    refused = send(shop, "DELETE", f"/attachment/{theirs['id']}", bearer=token)
    assert refused.status_code == 403 and theirs["id"] in shop.store.coll("attachments")
    assert send(shop, "DELETE", f"/attachment/{own['id']}", bearer=token).status_code == 204
    admin_token = fake_cloud.impersonation.issue_token(shop, APP, admin(shop))
    assert send(shop, "DELETE", f"/attachment/{theirs['id']}", bearer=admin_token).status_code == 204


def test_a_write_only_app_may_not_delete(shop: Site) -> None:
    created = upload(shop, "OPS-1", ("a.txt", b"x", "text/plain")).json()[0]
    installer.install_direct(shop, "writer", ["READ", "WRITE"])
    assert send(shop, "DELETE", f"/attachment/{created['id']}", app="writer").status_code == 403


def test_deleting_the_issue_deletes_its_attachments_with_secondary_events(shop: Site) -> None:
    upload(shop, "OPS-1", ("a.txt", b"x", "text/plain"))
    kept = upload(shop, "OPS-2", ("b.txt", b"y", "text/plain")).json()[0]
    events = record_events(shop)
    assert call(shop, "DELETE", "/issue/OPS-1")[0] == 204
    assert events.of("attachment_deleted")[0].details["flow"] == "Secondary"
    assert list(shop.store.coll("attachments")) == [kept["id"]] and list(shop.store.blobs) == [kept["id"]]


def test_attachment_events_become_webhooks(fake_cloud: Cloud) -> None:
    """Do an upload and a delete reach an app subscribed to attachment_created/deleted, with the attachment?"""
    hooks = [{"event": "attachment_created", "url": "/hooks/created"},
             {"event": "attachment_deleted", "url": "/hooks/deleted"}]
    receiver = Receiver(hooks=hooks, scopes=["READ", "WRITE", "DELETE"])
    server = ServerThread(receiver).start()
    receiver.url = server.url
    try:
        site = fake_cloud.add_site("hooks")
        issue_site(site, 1)
        installer.install_app(site, receiver.url + "/atlassian-connect.json")
        created = upload(site, "OPS-1", ("a.txt", b"x", "text/plain"), app=LISTENER).json()[0]
        assert send(site, "DELETE", f"/attachment/{created['id']}", app=LISTENER).status_code == 204
        assert site.webhooks.wait_idle(5)
    finally:
        server.stop()
    assert receiver.paths() == ["/hooks/created", "/hooks/deleted"]
    bodies = [json.loads(r.body) for r in receiver.received]
    assert [b["webhookEvent"] for b in bodies] == ["attachment_created", "attachment_deleted"]
    assert bodies[0]["attachment"]["id"] == created["id"] and bodies[0]["attachment"]["filename"] == "a.txt"


# ------------------------------------------------------------------------------------------------ seeds


def _seeded(rng_seed: int | None = 7, directory: Path | None = None) -> Site:
    site = seeding.new_site("acme", "http://127.0.0.1:9")
    issue_site(site, 1)
    issue_id = call(site, "GET", "/issue/OPS-1")[1]["id"]
    seed: dict[str, Any] = {"issueAttachments": {issue_id: [
        {"id": "20001", "filename": "big.bin", "author": {"accountId": admin(site)},
         "created": "2024-03-01T09:00:00.000+0000", "size": 3 * attachments.CHUNK + 5, "mimeType": "application/zip"},
        {"id": "20002", "filename": "small.txt", "created": "2024-03-02T09:00:00.000+00:00", "size": 10,
         "mimeType": "text/plain"}]}}
    content: dict[str, Any] = {}
    if rng_seed is not None:
        content["rngSeed"] = rng_seed
    if directory is not None:
        content["directory"] = str(directory)
    if content:
        seed["attachmentContent"] = content
    seeding.load_seed(site, seed)
    return site


def _bytes(site: Site, attachment_id: str) -> bytes:
    record = site.store.get("attachments", attachment_id)
    assert record is not None
    return b"".join(attachments.blob_of(site, record).chunks())


def test_the_seed_round_trips_and_generated_bytes_are_deterministic() -> None:
    """Does export(load(seed)) give the seed, and do the same seed numbers give the same bytes (and others not)?"""
    site = _seeded()
    exported = seeding.export_site(site)
    assert exported["attachmentContent"] == {"rngSeed": 7}
    assert exported["issueAttachments"][call(site, "GET", "/issue/OPS-1")[1]["id"]][0] == {
        "id": "20001", "filename": "big.bin", "author": exported["issueAttachments"][
            call(site, "GET", "/issue/OPS-1")[1]["id"]][0]["author"],
        "created": "2024-03-01T09:00:00.000+00:00", "size": 3 * attachments.CHUNK + 5, "mimeType": "application/zip"}
    again = seeding.new_site("acme", "http://127.0.0.1:9")
    seeding.load_seed(again, exported)
    assert seeding.export_site(again) == exported
    data = _bytes(site, "20001")
    assert len(data) == 3 * attachments.CHUNK + 5 and data == _bytes(again, "20001")
    assert data != _bytes(_seeded(rng_seed=8), "20001")
    record = site.store.get("attachments", "20001")
    assert record is not None
    blob = attachments.blob_of(site, record)
    start = attachments.CHUNK - 3
    assert b"".join(blob.chunks(start, start + 10)) == data[start:start + 10]  # a range needs no earlier chunk
    fresh = upload_direct(again)
    assert int(fresh) > 20002  # ids go on after the seed's


def upload_direct(site: Site) -> str:
    """An attachment added through the handler (no server): its id."""
    spool = attachments.UploadSpool(1000)
    spool.write(b"new")
    body = Multipart(files=[attachments.Upload("new.txt", "text/plain", spool)], form={}, headers={})
    code, created = call(site, "POST", "/issue/OPS-1/attachments", body=body)
    assert code == 200, created
    return str(created[0]["id"])


def test_bytes_beside_the_seed_are_served_and_exported_back(tmp_path: Path) -> None:
    """Do files named by attachment id in the seed's directory hold the bytes, and does export_content write
    uploaded bytes there for the next load?"""
    (tmp_path / "20002").write_bytes(b"from disk!")
    site = _seeded(rng_seed=None, directory=tmp_path)
    assert _bytes(site, "20002") == b"from disk!"
    assert len(_bytes(site, "20001")) == 3 * attachments.CHUNK + 5  # no file: generated
    assert seeding.export_site(site)["attachmentContent"] == {"directory": str(tmp_path)}
    new_id = upload_direct(site)
    out = tmp_path / "export"
    content = attachment_resources.export_content(site, out)
    seed = {**seeding.export_site(site), "attachmentContent": content}
    again = seeding.new_site("acme", "http://127.0.0.1:9")
    seeding.load_seed(again, seed)
    assert _bytes(again, new_id) == b"new" and _bytes(again, "20002") == b"from disk!"
    assert _bytes(again, "20001") == _bytes(site, "20001")


@pytest.mark.parametrize(("content", "text"), [
    ({"rngSeed": "seven"}, "rngSeed must be an integer"),
    ({"directory": "/no/such/dir"}, "does not exist"),
    ({"colour": 1}, "rngSeed and/or directory"),
])
def test_a_bad_attachment_content_seed_is_refused(content: dict[str, Any], text: str) -> None:
    site = seeding.new_site("acme", "http://127.0.0.1:9")
    with pytest.raises(ValueError, match=text):
        seeding.load_seed(site, {"attachmentContent": content})


def test_a_seed_file_of_the_wrong_size_is_refused(tmp_path: Path) -> None:
    (tmp_path / "20002").write_bytes(b"short")
    with pytest.raises(ValueError, match="holds 5 bytes"):
        _seeded(directory=tmp_path)


def test_a_seed_attachment_without_its_facts_is_refused() -> None:
    site = seeding.new_site("acme", "http://127.0.0.1:9")
    issue_site(site, 1)
    issue_id = call(site, "GET", "/issue/OPS-1")[1]["id"]
    with pytest.raises(ValueError, match="needs id, filename, created, size, mimeType"):
        seeding.load_seed(site, {"issueAttachments": {issue_id: [{"id": "1", "filename": "x"}]}})
    with pytest.raises(ValueError, match="unknown issue"):
        seeding.load_seed(site, {"issueAttachments": {"999999": []}})
