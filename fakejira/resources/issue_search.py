"""Issue search: ``GET/POST /search/jql`` (``nextPageToken``, no ``startAt``/``total``) and the approximate count.

JQL is evaluated by ``issue_search.py``. Page sizes: ``maxResults`` defaults to 50; a page of ids (or keys) only
holds up to 5,000 issues, a page with other fields up to 100 (the spec's "max 5000 ... when requesting id or key
only"; the 100 for full pages is the documented default cap of Jira's other issue pages). Tokens name the query they
page and expire after 7 days, as the spec says.
"""

from __future__ import annotations

import hashlib
from typing import Any

from .. import issues as model
from ..issue_search import UNBOUNDED, JqlError, Search
from ..registry import Ctx, bad_request, handles
from ._common import API
from .issues import decode_token, encode_token

DEFAULT_MAX = 50
ID_ONLY_MAX = 5000
FULL_MAX = 100
TOKEN_TTL_MS = 7 * 86400 * 1000
RECONCILE_MAX = 50
PROPERTIES_MAX = 5
# plausible wording
TOKEN_EXPIRED = "The nextPageToken has expired: start the search again."
TOKEN_OTHER_QUERY = "The nextPageToken belongs to another query."
TOO_MANY_RECONCILE = f"The reconcileIssues parameter accepts at most {RECONCILE_MAX} issue IDs."
TOO_MANY_PROPERTIES = f"The properties parameter accepts at most {PROPERTIES_MAX} issue property keys."
BAD_MAX = "The maxResults parameter must be a positive number."


def _compile(ctx: Ctx, text: Any) -> Search:
    if not isinstance(text, str) or not text.strip():
        raise bad_request(UNBOUNDED)
    try:
        search = Search(ctx.site, text, model.actor_of(ctx), model.now_ms(ctx.site))
    except JqlError as exc:
        raise bad_request(*exc.messages) from None
    if not search.bounded:
        raise bad_request(UNBOUNDED)
    return search


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _offset(ctx: Ctx, token: Any, text: str) -> int:
    if token in (None, ""):
        return 0
    payload = decode_token(str(token), "search")
    if payload.get("q") != _digest(text):
        raise bad_request(TOKEN_OTHER_QUERY)
    if model.now_ms(ctx.site) - int(payload.get("t", 0)) > TOKEN_TTL_MS:
        raise bad_request(TOKEN_EXPIRED)
    return int(payload["o"])


def _id_only(fields: list[str]) -> bool:
    return not fields or set(fields) <= {"id", "key"}


def search(ctx: Ctx, text: Any, *, token: Any, max_results: Any, fields: list[str], expand: set[str],
           properties: list[str], reconcile: list[Any]) -> dict[str, Any]:
    """One page of ``/search/jql``."""
    query = _compile(ctx, text)
    if len(reconcile) > RECONCILE_MAX:
        raise bad_request(TOO_MANY_RECONCILE)
    if len(properties) > PROPERTIES_MAX:
        raise bad_request(TOO_MANY_PROPERTIES)
    try:
        size = DEFAULT_MAX if max_results in (None, "") else int(max_results)
    except (TypeError, ValueError):
        raise bad_request(BAD_MAX) from None
    if size < 1:
        raise bad_request(BAD_MAX)
    size = min(size, ID_ONLY_MAX if _id_only(fields) else FULL_MAX)
    offset = _offset(ctx, token, text)
    found = query.run()
    window = found[offset:offset + size]
    out: dict[str, Any] = {"issues": [_bean(ctx, issue, fields, expand, properties) for issue in window]}
    if offset + size < len(found):
        out["nextPageToken"] = encode_token({"k": "search", "o": offset + size, "q": _digest(text),
                                             "t": model.now_ms(ctx.site)})
        out["isLast"] = False
    else:
        out["isLast"] = True
    return out


def _bean(ctx: Ctx, issue: dict[str, Any], fields: list[str], expand: set[str],
          properties: list[str]) -> dict[str, Any]:
    if _id_only(fields) and not expand and not properties:
        bean: dict[str, Any] = {"id": issue["id"]}
        if "key" in fields:
            bean["key"] = issue["key"]
        return bean
    return model.issue_json(ctx.site, issue, fields=fields, default="*navigable", expand=expand,
                            properties=properties)


@handles("GET", f"{API}/search/jql")
def search_get(ctx: Ctx) -> dict[str, Any]:
    return search(ctx, ctx.arg("jql"), token=ctx.arg("nextPageToken"), max_results=ctx.arg("maxResults"),
                  fields=ctx.list_arg("fields"), expand=set(ctx.list_arg("expand")),
                  properties=ctx.list_arg("properties"), reconcile=ctx.list_arg("reconcileIssues"))


@handles("POST", f"{API}/search/jql")
def search_post(ctx: Ctx) -> dict[str, Any]:
    body = ctx.body if isinstance(ctx.body, dict) else {}
    expand = {e.strip() for e in str(body.get("expand") or "").split(",") if e.strip()}
    return search(ctx, body.get("jql"), token=body.get("nextPageToken"), max_results=body.get("maxResults"),
                  fields=list(body.get("fields") or []), expand=expand, properties=list(body.get("properties") or []),
                  reconcile=list(body.get("reconcileIssues") or []))


@handles("POST", f"{API}/search/approximate-count")
def approximate_count(ctx: Ctx) -> dict[str, Any]:
    body = ctx.body if isinstance(ctx.body, dict) else {}
    return {"count": len(_compile(ctx, body.get("jql")).run())}
