"""Jira's pagination styles, shared by every resource module so they page identically."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .registry import Ctx, bad_request


def page_bean(ctx: Ctx, items: Sequence[Any], *, default_max: int = 50, cap: int = 50,
              self_path: str | None = None) -> dict[str, Any]:
    """A PageBean: ``startAt``, ``maxResults``, ``total``, ``isLast``, ``values`` (and ``nextPage``/``self``).

    ``maxResults`` above ``cap`` is silently lowered to ``cap``, as Jira does; negative values are refused.
    """
    start_at = ctx.int_arg("startAt", 0)
    max_results = ctx.int_arg("maxResults", default_max)
    if start_at < 0:
        raise bad_request("The 'startAt' parameter must not be negative.")
    if max_results < 0:
        raise bad_request("The 'maxResults' parameter must not be negative.")
    max_results = min(max_results, cap)
    window = list(items[start_at:start_at + max_results])
    is_last = start_at + len(window) >= len(items)
    base = ctx.site.base_url + (self_path or ctx.path)
    bean: dict[str, Any] = {
        "self": f"{base}?maxResults={max_results}&startAt={start_at}",
        "maxResults": max_results,
        "startAt": start_at,
        "total": len(items),
        "isLast": is_last,
        "values": window,
    }
    if not is_last:
        bean["nextPage"] = f"{base}?maxResults={max_results}&startAt={start_at + max_results}"
    return bean


def plain_list(items: Sequence[Any]) -> list[Any]:
    """Endpoints such as ``GET /issuetype`` return a bare JSON array, unpaged."""
    return list(items)
