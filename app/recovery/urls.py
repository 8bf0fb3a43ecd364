"""Normalisation of Jira site base URLs typed by people, and matching them against a tenant's URL history."""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?|[0-9a-f:.]+")  # a DNS name, IPv4, or IPv6 literal


class InvalidBaseUrl(ValueError):
    """The text is not a Jira site address (a format error: safe to show, says nothing about connections)."""


def _host(raw_host: str) -> str:
    host = raw_host.strip().rstrip(".").lower()
    if not host:
        raise InvalidBaseUrl("Enter the site's address, for example https://your-site.atlassian.net.")
    try:
        # Internationalised names compare in their ASCII (punycode) form, as DNS sees them.
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        ascii_host = ""
    if not _HOST.fullmatch(ascii_host):
        raise InvalidBaseUrl("That site address has characters a host name can't contain.")
    return ascii_host


def normalise_base_url(text: str) -> str:
    """``https://host[:port]`` for what a person typed: scheme and host lower-cased, default port, trailing
    slashes and a ``/jira`` suffix dropped; ``https://`` assumed when no scheme is given.

    :raises InvalidBaseUrl: for other schemes, credentials, other paths, queries or fragments.
    """
    raw = (text or "").strip()
    if not raw:
        raise InvalidBaseUrl("Enter the site's address, for example https://your-site.atlassian.net.")
    if "://" not in raw:
        raw = "https://" + raw
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise InvalidBaseUrl("That site address isn't a valid URL.") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise InvalidBaseUrl("The site address must start with https:// (or http://).")
    if parts.username is not None or parts.password is not None:
        raise InvalidBaseUrl("The site address must not contain a user name or password.")
    if parts.query or parts.fragment or raw.rstrip("/").endswith(("?", "#")):
        raise InvalidBaseUrl("Enter only the site's address, without anything after it (? or #).")
    path = parts.path.rstrip("/")
    if path.lower() == "/jira":  # Jira's own links sometimes end in /jira; the site is the same
        path = ""
    if path:
        raise InvalidBaseUrl("Enter only the site's address, for example https://your-site.atlassian.net.")
    host = _host(parts.hostname or "")
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    return f"{scheme}://{netloc}"


def site_identity(url: str) -> str:
    """What identifies a site for matching: the normalised URL without its scheme.

    The scheme is left out on purpose: the URL only names the site (the token is the credential), and a person
    typing http:// for an https site should not be refused.
    """
    return normalise_base_url(url).split("://", 1)[1]


def matches_any(candidate: str, known: Iterable[str]) -> bool:
    """Whether the normalised ``candidate`` names the same site as one of ``known`` (stored URLs, any form)."""
    wanted = site_identity(candidate)
    for url in known:
        try:
            if site_identity(url) == wanted:
                return True
        except InvalidBaseUrl:
            continue  # a stored URL we can't read never matches
    return False
