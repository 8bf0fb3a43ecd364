"""Issue data restored onto a new site: keys kept (gaps too), fields, statuses, authors, attachment bytes, idempotence.

Two emulated sites: the source loaded with the ``issues-small`` preset, the destination with the same configuration
and no issue data (so the configuration's id map is the identity, as after a configuration restore onto a copy).
Records are made from the source's seed in the snapshot's record shape (``app.issuedata.records``).
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from app.connect.impersonation import Grant, Impersonation, ImpersonationRefused, client_as
from app.connect.signing import ConnectJwtAuth
from app.issuedata.records import AttachmentRecord, IssueRecord, key_order
from app.jira.access import Credential, JiraAccess, connect_allows
from app.jira.client import JiraClient, RetryPolicy
from app.restore.issues import restore as restore_module
from app.restore.issues.restore import Authors, ProjectIssues
from fakejira import generator, installer
from fakejira.client import ConnectClient

APP = "dr-app"
ISSUE_DATA_KEYS = ("issues", "issueChangelogs", "issueProperties", "issueKeyCounters", "issueComments",
                   "issueWorklogs", "worklogDeletions", "issueLinks", "issueWatchers", "issueVoters",
                   "issueAttachments", "attachmentContent", "sprints")
BIG = 3 * 1024 * 1024 + 17  # a multi-MB attachment


class SameIds:
    """The id map of a configuration restored onto a copy: every id the same; people kept when the site has them."""

    def __init__(self, people: set[str]) -> None:
        self.people = people

    def get(self, type_key: str, source_id: str) -> str | None:
        return str(source_id)

    def require(self, type_key: str, source_id: str) -> str:
        return str(source_id)

    def user(self, account_id: str) -> str | None:
        return account_id if account_id in self.people else None


@pytest.fixture(scope="module")
def seed() -> dict[str, Any]:
    return generator.generate_preset("issues-small", rng_seed=42)


def _records(seed: dict[str, Any], source: Any, blobs: dict[str, bytes]) -> list[IssueRecord]:
    """The source's issues in the snapshot's record shape; attachment bytes read from the source into ``blobs``."""
    client = ConnectClient(source, APP)
    out = []
    for issue in seed["issues"]:
        attachments = []
        for meta in seed.get("issueAttachments", {}).get(issue["id"], []):
            data = client.get(f"/rest/api/3/attachment/content/{meta['id']}", query={"redirect": "false"}).content
            digest = hashlib.sha256(data).hexdigest()
            blobs[digest] = data
            attachments.append(AttachmentRecord(str(meta["id"]), meta["filename"], len(data), meta.get("mimeType"),
                                                meta.get("created"), meta.get("author"), digest))
        links = [link for link in seed.get("issueLinks", [])
                 if issue["id"] in (link["inwardIssue"]["id"], link["outwardIssue"]["id"])]
        own_links = []
        for link in links:
            other = link["outwardIssue"] if link["inwardIssue"]["id"] == issue["id"] else link["inwardIssue"]
            key = next(i["key"] for i in seed["issues"] if i["id"] == other["id"])
            side = "outwardIssue" if link["inwardIssue"]["id"] == issue["id"] else "inwardIssue"
            own_links.append({"id": link["id"], "type": link["type"], side: {"id": other["id"], "key": key}})
        out.append(IssueRecord(
            id=issue["id"], key=issue["key"], project_key=issue["key"].split("-")[0],
            project_id=issue["fields"]["project"]["id"], issue=issue,
            comments=seed.get("issueComments", {}).get(issue["id"], []),
            worklogs=seed.get("issueWorklogs", {}).get(issue["id"], []), attachments=attachments,
            links=own_links, watchers=seed.get("issueWatchers", {}).get(issue["id"], []),
            properties=seed.get("issueProperties", {}).get(issue["id"], []),
            changelog=seed.get("issueChangelogs", {}).get(issue["id"], [])))
    return sorted(out, key=lambda r: key_order(r.key))


class World:
    def __init__(self, app: Any, cloud: Any, seed: dict[str, Any], *, scopes: list[str],
                 drop_people: int = 0) -> None:
        self.app, self.cloud = app, cloud
        self.source = cloud.add_site("src", seed=seed)
        installer.install_direct(self.source, APP, ["READ"])
        config = {k: v for k, v in copy.deepcopy(seed).items() if k not in ISSUE_DATA_KEYS}
        self.dropped: list[str] = []
        if drop_people:
            authors = [c["author"]["accountId"] for cs in seed["issueComments"].values() for c in cs]
            self.dropped = sorted(set(authors))[:drop_people]  # not on the destination, as the id map says
        self.dest = cloud.add_site("dst", seed=config)
        self.inst = installer.install_direct(self.dest, APP, scopes)
        self.blobs: dict[str, bytes] = {}
        self.records = _records(seed, self.source, self.blobs)
        self.schemas = {f["id"]: (f.get("schema") or {}).get("custom", "") for f in seed.get("fields", [])}
        self.people = {u["accountId"] for u in config["users"] if u.get("active", True)} - set(self.dropped)
        self.impersonation = Impersonation(cloud.impersonation.url)
        self.grant = Grant(self.inst.client_key, self.dest.base_url, self.inst.oauth_client_id,
                           self.inst.shared_secret)

    def access(self) -> JiraAccess:
        client = JiraClient(self.dest.base_url, ConnectJwtAuth(APP, self.inst.shared_secret, self.dest.base_url),
                            retry=RetryPolicy(max_retries=1, base_delay=0.01))
        return JiraAccess([Credential("connect", client, connect_allows())])

    def stream(self, digest: str) -> Iterator[bytes]:
        data = self.blobs[digest]
        for start in range(0, len(data), 64 * 1024):
            yield data[start:start + 64 * 1024]

    def restore(self, project: str, *, dest_keys: dict[str, str] | None = None,
                progress: Callable[[str], None] | None = None) -> Any:
        with self.app.app_context():
            authors = Authors(lambda a: client_as(self.grant, a, self.impersonation), lambda a: a in self.people)
            job = ProjectIssues(self.access(), SameIds(self.people), project_key=project, snapshot_id=1,
                                authors=authors, attachment_stream=self.stream, custom_schemas=self.schemas,
                                dest_keys=dest_keys if dest_keys is not None else {}, progress=progress)
            report = job.restore([r for r in self.records if r.project_key == project])
            report.refusals = authors.refusals
            return report

    def dest_issue(self, key: str, **query: Any) -> dict[str, Any]:
        resp = ConnectClient(self.dest, APP).get(f"/rest/api/3/issue/{key}", query=query)
        assert resp.status_code == 200, (key, resp.text)
        return resp.json()

    def dest_keys_of(self, project: str) -> list[str]:
        body = {"jql": f'project = "{project}" ORDER BY key ASC', "fields": ["key"], "maxResults": 1000}
        return [i["key"] for i in ConnectClient(self.dest, APP).post("/rest/api/3/search/jql", json=body)
                .json()["issues"]]


def _projects(world: World) -> list[str]:
    return sorted({r.project_key for r in world.records})


def _restore_all(world: World) -> dict[str, Any]:
    keys: dict[str, str] = {}
    return {p: world.restore(p, dest_keys=keys) for p in _projects(world)}


@pytest.fixture
def world(app, fake_cloud, seed) -> World:
    with app.app_context():
        pass
    seed = copy.deepcopy(seed)
    # one attachment made multi-MB so the streamed upload is tested at size
    first = next(iter(seed["issueAttachments"].values()))[0]
    first["size"] = BIG
    return World(app, fake_cloud, seed, scopes=["ADMIN", "ACT_AS_USER"])


def test_keys_fields_statuses_and_bytes_come_back_as_they_were(world: World) -> None:
    """Is ABC-7 ABC-7 again (gaps included), with its fields, status, comments' authors and attachment bytes?"""
    reports = _restore_all(world)
    for project in _projects(world):
        source_keys = [r.key for r in world.records if r.project_key == project]
        assert world.dest_keys_of(project) == source_keys  # identical, gaps included, placeholders gone
        assert reports[project].keys_kept and not reports[project].key_map
    checked_attachments = 0
    for record in world.records:
        got = world.dest_issue(record.key, fields="*all")["fields"]
        want = record.fields
        assert got["summary"] == want["summary"]
        assert got["status"]["name"] == want["status"]["name"], record.key
        assert got["issuetype"]["id"] == want["issuetype"]["id"]
        assert [c["name"] for c in got.get("components") or []] == [c["name"] for c in want.get("components") or []]
        assert sorted(got.get("labels") or []) == sorted(want.get("labels") or [])
        for field_id, value in want.items():
            if field_id.startswith("customfield_") and isinstance(value, dict) and "value" in value:
                assert got[field_id]["value"] == value["value"], (record.key, field_id)
        comments = ConnectClient(world.dest, APP).get(f"/rest/api/3/issue/{record.key}/comment").json()["comments"]
        visible = [c for c in record.comments if not c.get("visibility")]  # the app reads no restricted ones
        assert len(comments) == len(visible), record.key
        for mine, theirs in zip(comments, visible, strict=True):
            assert mine["author"]["accountId"] == theirs["author"]["accountId"]  # written as them (impersonation)
        for meta in record.attachments:
            dest_meta = next(a for a in got["attachment"] if a["filename"] == meta.filename)
            data = ConnectClient(world.dest, APP).get(f"/rest/api/3/attachment/content/{dest_meta['id']}",
                                                      query={"redirect": "false"}).content
            assert hashlib.sha256(data).hexdigest() == meta.sha256
            checked_attachments += 1
    assert checked_attachments and any(a.size >= BIG for r in world.records for a in r.attachments)


def test_a_second_identical_run_writes_nothing(world: World) -> None:
    """Run twice: the second finds every issue by its source property and sends no write at all."""
    _restore_all(world)
    before = len(world.dest.limits.calls()) if hasattr(world.dest.limits, "calls") else None
    again = _restore_all(world)
    assert all(r.writes == 0 for r in again.values())
    assert all(set(r.counts()) == {"already-restored"} for r in again.values())
    if before is not None:
        writes = [c for c in world.dest.limits.calls()[before:] if c.get("method") not in ("GET",)
                  and "search" not in str(c.get("path"))]
        assert writes == []


def test_interrupted_run_resumes_without_duplicates(world: World) -> None:
    """A run that dies after its first bulk create carries on: every key once, all data written once."""
    project = _projects(world)[0]
    original = ProjectIssues._follow_up
    calls = {"n": 0}

    def dies(self: Any, record: Any, outcome: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise SystemExit("killed")
        original(self, record, outcome)

    ProjectIssues._follow_up = dies
    try:
        with pytest.raises(SystemExit):
            world.restore(project)
    finally:
        ProjectIssues._follow_up = original
    world.restore(project)
    source_keys = [r.key for r in world.records if r.project_key == project]
    assert world.dest_keys_of(project) == source_keys
    for record in world.records:
        if record.project_key != project:
            continue
        comments = ConnectClient(world.dest, APP).get(f"/rest/api/3/issue/{record.key}/comment").json()
        assert comments["total"] == len([c for c in record.comments if not c.get("visibility")]), record.key


def test_missing_author_is_written_by_the_app_with_attribution(app, fake_cloud, seed) -> None:
    """A comment whose author isn't on the destination is the app's, saying who wrote it and when."""
    world = World(app, fake_cloud, copy.deepcopy(seed), scopes=["ADMIN", "ACT_AS_USER"], drop_people=1)
    _restore_all(world)
    gone = world.dropped[0]
    found = 0
    for record in world.records:
        visible = [c for c in record.comments if not c.get("visibility")]
        for n, comment in enumerate(visible):
            if comment["author"]["accountId"] != gone:
                continue
            dest = ConnectClient(world.dest, APP).get(f"/rest/api/3/issue/{record.key}/comment").json()["comments"]
            first = dest[n]["body"]["content"][0]["content"][0]["text"]
            assert first.startswith(f"Originally by {comment['author']['displayName']} on ")
            assert dest[n]["author"]["accountId"] != gone
            found += 1
    assert found


def test_impersonation_refused_is_reported_with_the_fix(app, fake_cloud, seed) -> None:
    """Without ACT_AS_USER the grant is refused: the words name the scope to add; nothing is sent as the user."""
    world = World(app, fake_cloud, copy.deepcopy(seed), scopes=["ADMIN"])
    account = sorted(world.people)[0]
    with app.app_context(), pytest.raises(ImpersonationRefused) as refused:
        client_as(world.grant, account, world.impersonation)
    assert "ACT_AS_USER" in refused.value.fix
    reports = _restore_all(world)
    refusals = {k: v for r in reports.values() for k, v in r.refusals.items()}
    assert refusals and all("ACT_AS_USER" in words for words in refusals.values())


def test_impersonation_tokens_are_cached_per_user(app, fake_cloud, seed) -> None:
    """One token exchange per (site, user) while the token lives; an unknown user is refused with the fix."""
    world = World(app, fake_cloud, copy.deepcopy(seed), scopes=["ADMIN", "ACT_AS_USER"])
    account = sorted(world.people)[0]
    first = world.impersonation.token(world.grant, account)
    assert world.impersonation.token(world.grant, account) == first
    assert world.impersonation.exchanges == 1
    me = requests.get(world.dest.base_url + "/rest/api/3/myself", headers={"Authorization": f"Bearer {first}"},
                      timeout=10)
    assert me.status_code == 200 and me.json()["accountId"] == account
    with pytest.raises(ImpersonationRefused) as refused:
        world.impersonation.token(world.grant, "557058:nobody-here")
    assert refused.value.user_missing


def test_a_refused_issue_mid_batch_fails_alone(app, fake_cloud, seed) -> None:
    """BA-14 refused (a label with spaces) in the batch before BA-15, the parent of sub-task BA-19: the run finishes,
    BA-14's failure is reported in Jira's words, no placeholder is left, and every other issue is right, parents
    included (set from the keys Jira returned, not from the keys hoped for)."""
    world = World(app, fake_cloud, copy.deepcopy(seed), scopes=["ADMIN", "ACT_AS_USER"])
    broken = next(r for r in world.records if r.key == "BA-14")
    broken.issue["fields"]["labels"] = ["has spaces"]
    child = next(r for r in world.records if r.key == "BA-19")
    assert child.fields["parent"]["key"] == "BA-15" and child.fields["issuetype"]["subtask"]
    report = world.restore("BA")
    assert report.issues["BA-14"].outcome == "failed"
    assert any("contains spaces" in note for note in report.issues["BA-14"].notes)
    assert getattr(report, "leftover_placeholders", []) == []
    body = {"jql": 'project = "BA" ORDER BY key ASC', "fields": ["summary", "parent"], "maxResults": 1000,
            "properties": ["jiradr.placeholder"]}
    found = ConnectClient(world.dest, APP).post("/rest/api/3/search/jql", json=body).json()["issues"]
    assert not [i for i in found if (i.get("properties") or {}).get("jiradr.placeholder")]
    by_key = {i["key"]: i for i in found}
    for record in world.records:
        if record.project_key != "BA" or record.key == "BA-14":
            continue
        outcome = report.issues[record.key]
        assert outcome.outcome == "created", (record.key, outcome.notes)
        got = by_key[outcome.dest_key]["fields"]
        assert got["summary"] == record.fields["summary"], record.key
        parent = record.fields.get("parent") or {}
        if parent.get("key"):
            assert got["parent"]["key"] == report.issues[parent["key"]].dest_key, record.key
    assert len(found) == len([r for r in world.records if r.project_key == "BA"]) - 1


def test_a_project_whose_every_create_is_refused_ends(app, fake_cloud, seed) -> None:
    """Every create refused (placeholders too: they are shaped like the project's issues) with a key gap of 50 or
    more: a batch of gap fillers alone used to be refused again and again, for ever, spending the quota. The run
    ends, each issue reported in Jira's words, and says why the keys couldn't be kept."""
    import threading

    world = World(app, fake_cloud, copy.deepcopy(seed), scopes=["ADMIN", "ACT_AS_USER"])
    records = [r for r in world.records if r.project_key == "BA"]
    for record in records:
        record.issue["fields"]["labels"] = ["has spaces"]  # Jira refuses a label with spaces
    records[-1].key = "BA-400"  # a gap of more than 50 before the last issue
    done: list[Any] = []
    worker = threading.Thread(target=lambda: done.append(world.restore("BA")), daemon=True)
    worker.start()
    worker.join(timeout=120)
    assert done, "the restore of a project whose every create is refused never ended"
    report = done[0]
    assert {o.outcome for o in report.issues.values()} == {"failed"}
    assert all(any("contains spaces" in n for n in o.notes) for o in report.issues.values())
    assert report.keys_kept is False and "placeholder" in report.keys_not_kept
    assert "contains spaces" in report.keys_not_kept


def test_a_restricted_work_log_comes_back_restricted_never_widened(world: World) -> None:
    """A work log restricted to a group its author is in: written as the author with the same restriction, so the
    app's own user (outside the group) can't read it on the destination either."""
    record, comment = next((r, c) for r in world.records for c in r.comments
                           if (c.get("visibility") or {}).get("type") == "group"
                           and c["author"]["accountId"] in world.people)
    worklog = {"author": comment["author"], "started": "2024-11-07T06:02:06.525+00:00", "timeSpentSeconds": 600,
               "id": "99001", "visibility": dict(comment["visibility"])}
    record.worklogs = [*record.worklogs, worklog]
    world.restore(record.project_key)
    dest = world.dest_issue(record.key, fields="worklog")
    as_app = ConnectClient(world.dest, APP).get(f"/rest/api/3/issue/{dest['id']}/worklog").json()["worklogs"]
    assert [w for w in as_app if w.get("timeSpentSeconds") == 600 and w.get("visibility")] == []
    token = world.cloud.impersonation.issue_token(world.dest, APP, comment["author"]["accountId"])
    as_author = requests.get(f"{world.dest.base_url}/rest/api/3/issue/{dest['id']}/worklog", timeout=10,
                             headers={"Authorization": f"Bearer {token}"}).json()["worklogs"]
    restricted = [w for w in as_author if w.get("visibility")]
    assert [w["visibility"]["identifier"] for w in restricted] == [comment["visibility"]["identifier"]], as_author


def test_a_restricted_comment_jira_refuses_stays_out_and_the_issue_still_comes_back(world: World) -> None:
    """A comment restricted to a group the destination doesn't have: Jira refuses it as it was, so it stays out
    (never widened) and is said; the issue and its other comments, work logs and attachments still come back, and
    a run resumed after a kill writes none of them twice though the refused one leaves a gap in their order."""
    record = next(r for r in world.records if len(r.comments) >= 3 and r.attachments
                  and r.comments[0]["author"]["accountId"] in world.people)
    first = record.comments[0]
    record.comments = [{**first, "visibility": {"type": "group", "value": "not-on-this-site",
                                                "identifier": "not-on-this-site-id"}}, *record.comments[1:]]
    original = ProjectIssues._attachments

    def dies(self: Any, rec: Any, dest: str, *args: Any) -> None:
        if rec.key == record.key:
            raise SystemExit("killed")
        original(self, rec, dest, *args)

    ProjectIssues._attachments = dies  # type: ignore[method-assign]
    try:
        with pytest.raises(SystemExit):
            world.restore(record.project_key)
    finally:
        ProjectIssues._attachments = original  # type: ignore[method-assign]
    report = world.restore(record.project_key)
    outcome = report.issues[record.key]
    assert outcome.outcome in ("created", "already-restored"), (outcome.outcome, outcome.notes)
    assert any(n.startswith(f"restricted comment {first['id']} not restored") for n in outcome.notes), outcome.notes
    comments = ConnectClient(world.dest, APP).get(f"/rest/api/3/issue/{record.key}/comment",
                                                  query={"maxResults": 100}).json()
    visible = [c for c in record.comments[1:] if not c.get("visibility")]
    assert comments["total"] == len(visible), (comments["total"], len(visible))
    got = world.dest_issue(record.key, fields="attachment")["fields"]["attachment"]
    assert sorted(a["filename"] for a in got) == sorted(a.filename for a in record.attachments)


def test_a_resumed_issue_writes_no_work_log_twice_after_a_refused_one(world: World) -> None:
    """A work log restricted to a group the destination doesn't have is refused and stays out; a kill after the
    work logs, then the run resumed: the ones written before the kill are recognised (when, how long, their words),
    not counted, so none is written twice though the refused one leaves a gap in their order."""
    record = next(r for r in world.records if len(r.worklogs) >= 2 and r.attachments
                  and r.worklogs[0]["author"]["accountId"] in world.people)
    first = record.worklogs[0]
    record.worklogs = [{**first, "visibility": {"type": "group", "value": "not-on-this-site",
                                                "identifier": "not-on-this-site-id"}}, *record.worklogs[1:]]
    original = ProjectIssues._attachments

    def dies(self: Any, rec: Any, dest: str, *args: Any) -> None:
        if rec.key == record.key:
            raise SystemExit("killed")
        original(self, rec, dest, *args)

    ProjectIssues._attachments = dies  # type: ignore[method-assign]
    try:
        with pytest.raises(SystemExit):
            world.restore(record.project_key)
    finally:
        ProjectIssues._attachments = original  # type: ignore[method-assign]
    report = world.restore(record.project_key)
    outcome = report.issues[record.key]
    assert outcome.outcome in ("created", "already-restored"), (outcome.outcome, outcome.notes)
    assert any(n.startswith(f"restricted work log {first['id']} not restored") for n in outcome.notes), outcome.notes
    worklogs = ConnectClient(world.dest, APP).get(f"/rest/api/3/issue/{record.key}/worklog",
                                                  query={"maxResults": 100}).json()["worklogs"]
    wanted = sorted(int(w["timeSpentSeconds"]) for w in record.worklogs[1:] if not w.get("visibility"))
    assert sorted(int(w["timeSpentSeconds"]) for w in worklogs) == wanted


def test_a_project_s_restore_says_how_far_it_is(world: World, monkeypatch) -> None:
    """A project of thousands of issues takes many minutes: its progress moves, in words, as issues are created
    and then completed (it used to say "Restoring the issues of X" and nothing else until the project ended)."""
    monkeypatch.setattr(restore_module, "PROGRESS_SECONDS", 0.0)
    said: list[str] = []
    world.restore("BA", progress=said.append)
    total = len([r for r in world.records if r.project_key == "BA"])
    assert said[0] == f"creating issues, 0 of {total:,} there"
    assert f"creating issues, {total:,} of {total:,} there" in said
    completing = [s for s in said if s.startswith("comments, work logs")]
    assert completing[0].endswith(f"0 of {total:,} issues") and completing[-1].endswith(
        f"{total - 1:,} of {total:,} issues")
    assert len(completing) == total


def test_a_restricted_comment_whose_author_is_gone_is_written_by_a_member_of_its_group(world: World) -> None:
    """A comment restricted to a group, by someone with no account here: the app's own user isn't in the group (Jira
    would refuse the restriction from it), so a member of the group the app may act as writes it, saying who wrote it
    first — restricted as it was, never widened — and a run resumed after a kill doesn't write it twice."""
    record, comment = next((r, c) for r in world.records for c in r.comments
                           if (c.get("visibility") or {}).get("type") == "group"
                           and c["author"]["accountId"] in world.people and r.attachments)
    gone = {"accountId": "557058:00000000-0000-4000-8000-00000000dead", "displayName": "Gone Person"}
    record.comments = [*record.comments, {**comment, "id": "99002", "author": gone}]
    original = ProjectIssues._attachments

    def dies(self: Any, rec: Any, dest: str, *args: Any) -> None:
        if rec.key == record.key:
            raise SystemExit("killed")
        original(self, rec, dest, *args)

    ProjectIssues._attachments = dies  # type: ignore[method-assign]
    try:
        with pytest.raises(SystemExit):
            world.restore(record.project_key)
    finally:
        ProjectIssues._attachments = original  # type: ignore[method-assign]
    report = world.restore(record.project_key)
    outcome = report.issues[record.key]
    assert not [n for n in outcome.notes if n.startswith("restricted comment 99002")], outcome.notes
    member = comment["author"]["accountId"]
    token = world.cloud.impersonation.issue_token(world.dest, APP, member)
    seen = requests.get(f"{world.dest.base_url}/rest/api/3/issue/{record.key}/comment", timeout=10,
                        params={"maxResults": 100}, headers={"Authorization": f"Bearer {token}"}).json()["comments"]
    theirs = [c for c in seen if c.get("visibility") and "Gone Person" in json.dumps(c["body"])]
    assert len(theirs) == 1, theirs  # once, though the run was killed after writing it
    assert theirs[0]["visibility"]["identifier"] == comment["visibility"]["identifier"]
    assert theirs[0]["author"]["accountId"] == member
    as_app = ConnectClient(world.dest, APP).get(f"/rest/api/3/issue/{record.key}/comment",
                                                query={"maxResults": 100}).json()["comments"]
    assert not [c for c in as_app if "Gone Person" in json.dumps(c["body"])]  # still restricted
