"""Attachments: upload, metadata, settings, content download (303 to a media URL, or the bytes), delete, the issue's
``attachment`` field, and the seed keys ``issueAttachments`` and ``attachmentContent``.

Jira's rules (platform spec, issue-data.md): ``POST /issue/{key}/attachments`` takes ``multipart/form-data`` with
one or more parts named ``file`` and needs ``X-Atlassian-Token: no-check`` (both checked by the pipeline's parser,
``attachments.read_multipart``: 403 ``XSRF check failed``, 413 above the upload limit or past 60 files); the answer
is the list of new attachments; ``author`` and ``created`` are the server's (the author is the caller: an
impersonation token makes it that user). Each attachment writes an ``Attachment`` history item (``to`` = its id,
``toString`` = the file name; a delete writes the ``from`` side), bumps ``updated`` and emits
``attachment_created``/``attachment_deleted``. Attachments are immutable: there is no edit. The metadata carries no
checksum (issue-data.md), so neither does the emulator's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .. import attachments as blobs
from .. import issue_data as data
from .. import issues as model
from ..registry import (
    Ctx,
    JiraError,
    Multipart,
    RawBody,
    Reply,
    bad_request,
    handles,
    not_found,
    on_issue_event,
    seed_type,
)
from ..site import Site
from ._common import API

ATTACHMENT_NOT_FOUND = "The attachment with id '{}' does not exist"  # Jira's wording
NO_FILE = "No file was sent: attachments go in multipart/form-data parts named 'file'."  # plausible wording
NO_FILE_NAME = "An attachment needs a file name."  # plausible wording
TOO_MANY = "The issue has reached the limit of {} attachments."  # plausible wording
NO_DELETE = "You do not have permission to delete attachment with id: {}"  # plausible wording (Jira Server's key)
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/bmp", "image/webp")  # types Jira makes thumbnails of


# --------------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------------


def _urls(site: Site, record: dict[str, Any]) -> dict[str, str]:
    urls = {"self": f"{site.base_url}{API}/attachment/{record['id']}",
            "content": f"{site.base_url}{API}/attachment/content/{record['id']}"}
    if record["mimeType"] in IMAGE_TYPES:
        urls["thumbnail"] = f"{site.base_url}{API}/attachment/thumbnail/{record['id']}"
    return urls


def attachment_json(site: Site, record: dict[str, Any]) -> dict[str, Any]:
    """An ``Attachment`` (the upload answer, the issue's ``attachment`` field): id as a string."""
    out: dict[str, Any] = {"self": _urls(site, record)["self"], "id": record["id"], "filename": record["filename"]}
    author = model.user_json(site, record.get("_author"))
    if author is not None:
        out["author"] = author
    out.update(created=model.rfc_time(record["_created"]), size=record["size"], mimeType=record["mimeType"])
    out.update({k: v for k, v in _urls(site, record).items() if k != "self"})
    return out


def metadata_json(site: Site, record: dict[str, Any]) -> dict[str, Any]:
    """``AttachmentMetadata`` (``GET /attachment/{id}``): the same facts, id as an integer."""
    return {**attachment_json(site, record), "id": int(record["id"])}


def render_attachment_field(site: Site, issue: dict[str, Any]) -> list[dict[str, Any]]:
    return [attachment_json(site, r) for r in data.records_of(site, data.ATTACHMENTS, issue["id"])]


model.EXTRA_FIELDS["attachment"] = render_attachment_field


def _history_item(record: dict[str, Any], *, removed: bool) -> dict[str, Any]:
    """The ``Attachment`` changelog item Jira writes (id and file name on the side that changed)."""
    side = ("from", "fromString") if removed else ("to", "toString")
    return {"field": "Attachment", "fieldtype": "jira", "fieldId": "attachment",
            side[0]: record["id"], side[1]: record["filename"]}


# --------------------------------------------------------------------------------------------------
# Upload
# --------------------------------------------------------------------------------------------------


def _uploads(ctx: Ctx) -> list[blobs.Upload]:
    if not isinstance(ctx.body, Multipart):  # the spec's only body type; the pipeline answers 415 to others
        raise bad_request(NO_FILE)
    uploads: list[blobs.Upload] = list(ctx.body.files)
    if not uploads:
        raise bad_request(NO_FILE)
    if any(not u.filename.strip() for u in uploads):
        raise bad_request(NO_FILE_NAME)
    return uploads


def _check_cap(site: Site, issue: dict[str, Any], adding: int) -> None:
    cap = site.limits.issue_caps["attachments"]
    if len(data.ids_of(site, data.ATTACHMENTS, issue["id"])) + adding > cap:
        raise JiraError(413, TOO_MANY.format(cap))


def store_attachment(site: Site, issue: dict[str, Any], upload: blobs.Upload, actor: str | None) -> dict[str, Any]:
    """Keep one uploaded file: its record, its bytes (adopted from the spool), history and the event."""
    record = {"id": str(site.store.next_id("attachment")), "_issueId": issue["id"], "filename": upload.filename,
              "mimeType": upload.mime_type, "size": upload.spool.size, "_author": actor,
              "_created": model.now_ms(site)}
    site.store.blobs[record["id"]] = upload.spool.blob()
    data.add(site, data.ATTACHMENTS, record)
    model.record_items(site, issue, [_history_item(record, removed=False)], actor)
    site.issue_events.emit("attachment_created", model.public_issue(issue), actor=actor,
                           attachment=attachment_json(site, record))
    return record


@handles("POST", f"{API}/issue/{{issueIdOrKey}}/attachments")
def add_attachments(ctx: Ctx) -> list[dict[str, Any]]:
    try:
        issue = model.issue_or_404(ctx.site, ctx.path_params["issueIdOrKey"])
        uploads = _uploads(ctx)
        _check_cap(ctx.site, issue, len(uploads))
        data.write_allowed(ctx.site, issue["id"])
    except JiraError:  # a refused upload keeps no bytes, not even until its request is collected
        if isinstance(ctx.body, Multipart):
            blobs.discard_uploads(list(ctx.body.files))
        raise
    actor = model.actor_of(ctx)
    return [attachment_json(ctx.site, store_attachment(ctx.site, issue, u, actor)) for u in uploads]


# --------------------------------------------------------------------------------------------------
# Metadata, settings, delete
# --------------------------------------------------------------------------------------------------


def attachment_or_404(site: Site, attachment_id: str) -> dict[str, Any]:
    record = site.store.get(data.ATTACHMENTS, attachment_id)
    if record is None or site.store.get(model.COLLECTION, record["_issueId"]) is None:
        raise not_found(ATTACHMENT_NOT_FOUND.format(attachment_id))
    return record


@handles("GET", f"{API}/attachment/meta")
def attachment_settings(ctx: Ctx) -> dict[str, Any]:
    return {"enabled": True, "uploadLimit": ctx.site.limits.attachment_max_bytes}


@handles("GET", f"{API}/attachment/{{id}}")
def get_attachment(ctx: Ctx) -> dict[str, Any]:
    return metadata_json(ctx.site, attachment_or_404(ctx.site, ctx.path_params["id"]))


def _may_delete(ctx: Ctx, record: dict[str, Any]) -> bool:
    """*Delete own attachments* for the author, *Delete all attachments* for administrators and the app itself
    (its add-on role holds every project permission) [unverified: Jira's default scheme, not the project's]."""
    if ctx.account_id is None or ctx.account_id in ctx.site.admins:
        return True
    return bool(record.get("_author")) and record["_author"] == ctx.account_id


def forget_attachment(site: Site, record: dict[str, Any]) -> None:
    data.remove(site, data.ATTACHMENTS, record["id"])
    blobs.drop_blob(site, record["id"])


@handles("DELETE", f"{API}/attachment/{{id}}")
def delete_attachment(ctx: Ctx) -> Reply:
    site = ctx.site
    record = attachment_or_404(site, ctx.path_params["id"])
    if not _may_delete(ctx, record):
        raise JiraError(403, NO_DELETE.format(record["id"]))
    issue = site.store.get(model.COLLECTION, record["_issueId"])
    assert issue is not None  # attachment_or_404 checked it
    data.write_allowed(site, issue["id"])
    shown = attachment_json(site, record)
    forget_attachment(site, record)
    actor = model.actor_of(ctx)
    model.record_items(site, issue, [_history_item(record, removed=True)], actor)
    site.issue_events.emit("attachment_deleted", model.public_issue(issue), actor=actor, attachment=shown)
    return Reply(204)


# --------------------------------------------------------------------------------------------------
# Content and thumbnail
# --------------------------------------------------------------------------------------------------


def _bytes_reply(blob: blobs.Blob, record: dict[str, Any], mime_type: str, range_header: str | None) -> Reply:
    """200 with the bytes (206 for a ``Range``), streamed from the blob."""
    try:
        span = blobs.parse_range(range_header, blob.size)
    except blobs.RangeError as err:
        headers = {"Content-Range": f"bytes */{blob.size}"} if err.status == 416 else {}
        raise JiraError(err.status, err.message, headers=headers) from None
    start, end = span or (0, blob.size)
    body = RawBody(blob.chunks(start, end), mime_type, end - start)
    return Reply(206 if span else 200, body, blobs.download_headers(record, blob.size, span))


def _redirect(ctx: Ctx) -> bool:
    return str(ctx.arg("redirect", "true")).lower() != "false"


@handles("GET", f"{API}/attachment/content/{{id}}")
def attachment_content(ctx: Ctx) -> Reply:
    record = attachment_or_404(ctx.site, ctx.path_params["id"])
    if _redirect(ctx):
        return Reply(303, None, {"Location": blobs.media_url(ctx.site, record)})
    range_header = ctx.headers.get("Range") if ctx.headers is not None else None
    return _bytes_reply(blobs.blob_of(ctx.site, record), record, record["mimeType"], range_header)


@handles("GET", f"{API}/attachment/thumbnail/{{id}}")
def attachment_thumbnail(ctx: Ctx) -> Reply:
    """Images and, with ``fallbackToDefault`` (the default), everything else get the default thumbnail; the
    emulator doesn't scale images."""
    record = attachment_or_404(ctx.site, ctx.path_params["id"])
    if record["mimeType"] not in IMAGE_TYPES and str(ctx.arg("fallbackToDefault", "true")).lower() == "false":
        raise not_found(f"No thumbnail for attachment {record['id']}.")  # plausible wording
    thumbnail = {**record, "filename": f"{record['filename']}.png"}
    if _redirect(ctx):
        return Reply(303, None, {"Location": blobs.media_url(ctx.site, record) + "&thumbnail=true"})
    return _bytes_reply(blobs.MemoryBlob(blobs.DEFAULT_THUMBNAIL), thumbnail, "image/png", None)


# --------------------------------------------------------------------------------------------------
# A deleted issue takes its attachments along (Secondary webhooks, as Jira sends them)
# --------------------------------------------------------------------------------------------------


@on_issue_event
def _drop_attachments_of_deleted_issue(site: Site, event: Any) -> None:
    if event.kind != "issue_deleted":
        return
    for record in data.records_of(site, data.ATTACHMENTS, event.issue["id"]):
        shown = attachment_json(site, record)
        forget_attachment(site, record)
        site.issue_events.emit("attachment_deleted", event.issue, actor=event.actor, attachment=shown,
                               flow="Secondary")


# --------------------------------------------------------------------------------------------------
# Seeds
# --------------------------------------------------------------------------------------------------

SEED_MEMBERS = ("id", "filename", "created", "size", "mimeType")


def _export(site: Site) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for record in site.store.values(data.ATTACHMENTS):
        item = {k: v for k, v in attachment_json(site, record).items() if k not in ("self", "content", "thumbnail")}
        out.setdefault(record["_issueId"], []).append(item)
    return out


def _seed_record(issue_id: str, item: Any) -> dict[str, Any]:
    if not isinstance(item, dict) or not set(SEED_MEMBERS) <= set(item):
        raise ValueError(f"seed issueAttachments: each attachment needs {', '.join(SEED_MEMBERS)}: {str(item)[:200]}")
    size = item["size"]
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise ValueError(f"seed issueAttachments: attachment {item['id']} has size {size!r}; expected bytes >= 0")
    return {"id": str(item["id"]), "_issueId": str(issue_id), "filename": str(item["filename"]),
            "mimeType": str(item["mimeType"]), "size": size, "_author": data.account_of(item.get("author")),
            "_created": model.parse_time(item["created"])}


@seed_type("issueAttachments", omit_empty=True, exporter=_export, after=("issues", "users"))
def seed_attachments(site: Site, value: Any) -> None:
    """Seed value: ``{issueId: [the issue's ``attachment`` field entries without self/content/thumbnail]}``:
    ``id`` (string), ``filename``, ``author`` (``{accountId}`` is enough; optional), ``created``, ``size``,
    ``mimeType``. The bytes come from ``attachmentContent``."""
    if not isinstance(value, dict):
        raise ValueError("seed issueAttachments: an object keyed by issue id is expected")
    for issue_id, items in value.items():
        if model.find_issue(site, issue_id) is None:
            raise ValueError(f"seed issueAttachments: unknown issue {issue_id}")
        if not isinstance(items, list):
            raise ValueError(f"seed issueAttachments: issue {issue_id} needs a list of attachments")
        for item in items:
            record = _seed_record(issue_id, item)
            site.store.put(data.ATTACHMENTS, record["id"], record)
            site.store.bump("attachment", int(record["id"]))
    data.forget_index(site, data.ATTACHMENTS)


def _export_content(site: Site) -> dict[str, Any]:
    return dict(site.extra.get(blobs.CONTENT_SEED) or {})


@seed_type("attachmentContent", omit_empty=True, exporter=_export_content, after=("issueAttachments",))
def seed_content(site: Site, value: Any) -> None:
    """Seed value: ``{"rngSeed": N}`` (bytes generated from (N, attachment id, size); 0 when absent) and/or
    ``{"directory": path}`` (``<path>/<attachment id>`` holds an attachment's bytes where the file exists; an
    absolute path, or relative to the current directory). Exported back as loaded."""
    if not isinstance(value, dict) or set(value) - {"rngSeed", "directory"}:
        raise ValueError("seed attachmentContent: an object with rngSeed and/or directory is expected")
    if "rngSeed" in value and (isinstance(value["rngSeed"], bool) or not isinstance(value["rngSeed"], int)):
        raise ValueError(f"seed attachmentContent: rngSeed must be an integer, not {value['rngSeed']!r}")
    if "directory" in value:
        directory = Path(str(value["directory"]))
        if not directory.is_dir():
            raise ValueError(f"seed attachmentContent: directory {directory} does not exist")
        blobs.seed_directory_blobs(site, directory, list(site.store.values(data.ATTACHMENTS)))
    site.extra[blobs.CONTENT_SEED] = dict(value)


def export_content(site: Site, directory: str | Path) -> dict[str, Any]:
    """Write the site's attachment bytes to ``directory``; the ``attachmentContent`` value that loads them."""
    return blobs.export_content(site, directory, list(site.store.values(data.ATTACHMENTS)))
