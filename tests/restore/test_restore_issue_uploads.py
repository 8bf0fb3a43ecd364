"""Are restored attachments' uploads counted with the client's points (and so drawn from the quota ledger)?"""

from __future__ import annotations

from app.quota.points import cost
from app.restore.issues.fields import mapped_fields
from app.restore.issues.restore import ADD_ATTACHMENT, upload
from fakejira import generator
from fakejira.client import ConnectClient
from tests.restore.test_restore_issues import APP, SameIds, World


def test_an_attachment_upload_costs_its_points_on_the_client(app, fake_cloud) -> None:
    """One streamed upload: the destination holds the bytes and the client counted the call and its points."""
    world = World(app, fake_cloud, generator.generate_preset("issues-small", rng_seed=42), scopes=["ADMIN"])
    key = world.records[0].key
    data = b"restored bytes " * 1000
    with app.app_context():
        access = world.access()
        dest = ConnectClient(world.dest, APP).get(f"/rest/api/3/issue/{key}").status_code
        assert dest == 404  # nothing restored yet: create the issue the upload goes to
        fields, _notes = mapped_fields(world.records[0].fields, SameIds(world.people), world.schemas)
        fields.update(project={"key": world.records[0].project_key},
                      issuetype={"id": str(world.records[0].fields["issuetype"]["id"])})
        created = ConnectClient(world.dest, APP).post("/rest/api/3/issue", json={"fields": fields})
        assert created.status_code == 201, created.text
        issue_key = created.json()["key"]
        before_calls, before_points = access.calls, access.points
        upload(access, issue_key, "notes.txt", "text/plain", len(data), iter([data[:5000], data[5000:]]))
    route = ADD_ATTACHMENT.path(issueIdOrKey=issue_key)
    assert access.calls == before_calls + 1
    assert access.points == before_points + cost("POST", route, 200, None) > before_points
    got = ConnectClient(world.dest, APP).get(f"/rest/api/3/issue/{issue_key}", query={"fields": "attachment"})
    assert [a["size"] for a in got.json()["fields"]["attachment"]] == [len(data)]
