"""The query-string hash (qsh) claim: Atlassian's canonical request, computed from a real request.

Canonicalisation is delegated to Atlassian's own ``atlassian-jwt`` package (its ``url_utils`` reproduces every
vector in the reference file, the raw-value sorting of repeated parameters included); this module only decides
which URL to feed it: the path *relative to the receiver's base URL*, exactly as it came over the wire.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from atlassian_jwt.url_utils import hash_url

CONTEXT_QSH = "context-qsh"


def base_path(base_url: str) -> str:
    """The path part of a base URL without its trailing slash (``https://x.net/jira/`` -> ``/jira``)."""
    return urlsplit(base_url).path.rstrip("/")


def relative_url(raw_path: str, query_string: str, base_url: str) -> str:
    """``raw_path?query`` made relative to ``base_url``'s path (the receiver's context path)."""
    prefix = base_path(base_url)
    path = raw_path
    if prefix and (path == prefix or path.startswith(prefix + "/")):
        path = path[len(prefix):]
    path = path or "/"
    return f"{path}?{query_string}" if query_string else path


def qsh(method: str, relative: str) -> str:
    """The lowercase hex SHA-256 of the canonical request (``METHOD&canonical-uri&canonical-query``)."""
    return hash_url(method, relative)
