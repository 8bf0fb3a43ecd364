"""Matches a request to its registered handler and runs it: no auth, no limits, no validation.

The WSGI pipeline wraps this with everything Jira checks; unit tests of resource modules may call
``call`` directly to exercise a handler alone.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from werkzeug.datastructures import MultiDict

from . import resources  # noqa: F401  (imports register the handlers)
from .registry import HANDLERS, Ctx, Handler, JiraError, Reply
from .site import Site

_PARAM = re.compile(r"\{([^}/]+)\}")


@lru_cache(maxsize=1)
def _compiled() -> list[tuple[str, str, re.Pattern[str], int]]:
    out = []
    for method, template in HANDLERS:
        pattern = "^" + _PARAM.sub(lambda m: f"(?P<{m.group(1)}>[^/]+)", re.escape(template).replace(r"\{", "{")
                                   .replace(r"\}", "}")) + "$"
        literal = len(_PARAM.sub("", template))  # prefer the most literal template on ties
        out.append((method, template, re.compile(pattern), literal))
    out.sort(key=lambda row: -row[3])
    return out


def match(method: str, path: str) -> tuple[Handler, str, dict[str, str]] | None:
    """The handler, spec path template and path parameters for a request, or None."""
    method = method.upper()
    for m, template, pattern, _ in _compiled():
        if m != method:
            continue
        found = pattern.match(path)
        if found:
            return HANDLERS[(m, template)], template, dict(found.groupdict())
    return None


def reset_cache() -> None:
    _compiled.cache_clear()


def call(site: Site, method: str, path: str, *, query: dict[str, Any] | MultiDict | None = None,
         body: Any = None, account_id: str | None = None, auth_kind: str = "connect") -> tuple[int, Any, dict]:
    """Run the handler for ``method path`` on ``site``; returns ``(status, json_body, headers)``."""
    found = match(method, path)
    if found is None:
        return 404, {"errorMessages": [f"No handler for {method} {path}"], "errors": {}}, {}
    handler, _template, params = found
    q = query if isinstance(query, MultiDict) else MultiDict(query or {})
    ctx = Ctx(site=site, method=method.upper(), path=path, path_params=params, query=q, body=body,
              account_id=account_id, auth_kind=auth_kind)
    try:
        with site.store.lock:
            result = handler(ctx)
    except JiraError as err:
        return err.status, err.body(), err.headers
    if isinstance(result, Reply):
        return result.status, result.body, result.headers
    return 200, result, {}
