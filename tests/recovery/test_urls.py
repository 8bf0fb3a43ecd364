"""Which typed site addresses name the same Jira site, and which are refused as not a site address?"""

from __future__ import annotations

import pytest

from app.recovery.urls import InvalidBaseUrl, matches_any, normalise_base_url


@pytest.mark.parametrize(("typed", "normalised"), [
    ("https://acme.atlassian.net", "https://acme.atlassian.net"),
    ("https://acme.atlassian.net/", "https://acme.atlassian.net"),
    ("https://acme.atlassian.net///", "https://acme.atlassian.net"),
    ("HTTPS://ACME.Atlassian.NET", "https://acme.atlassian.net"),
    ("https://acme.atlassian.net/jira", "https://acme.atlassian.net"),
    ("https://acme.atlassian.net/JIRA/", "https://acme.atlassian.net"),
    ("acme.atlassian.net", "https://acme.atlassian.net"),
    ("  https://acme.atlassian.net \n", "https://acme.atlassian.net"),
    ("https://acme.atlassian.net:443", "https://acme.atlassian.net"),
    ("http://acme.example:80/", "http://acme.example"),
    ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
    ("https://acme.atlassian.net.", "https://acme.atlassian.net"),
    ("https://bücher.example", "https://xn--bcher-kva.example"),
    ("http://[::1]:8080", "http://[::1]:8080"),
])
def test_normalisation(typed, normalised) -> None:
    assert normalise_base_url(typed) == normalised


@pytest.mark.parametrize("typed", [
    "", "   ", "ftp://acme.atlassian.net", "javascript:alert(1)", "https://user:pw@acme.atlassian.net",
    "https://user@acme.atlassian.net", "https://acme.atlassian.net/wiki", "https://acme.atlassian.net/jira/your-work",
    "https://acme.atlassian.net/?x=1", "https://acme.atlassian.net/#top", "https://acme.atlassian.net:99999",
    "https://", "https://<script>.example",
])
def test_what_is_not_a_site_address_is_refused(typed) -> None:
    with pytest.raises(InvalidBaseUrl):
        normalise_base_url(typed)


def test_matching_uses_every_known_address_and_ignores_scheme_and_form() -> None:
    history = ["https://old-name.atlassian.net", "https://new-name.atlassian.net/"]
    assert matches_any("old-name.atlassian.net/jira", history)
    assert matches_any("http://NEW-NAME.atlassian.net", history)
    assert not matches_any("https://other.atlassian.net", history)
    assert not matches_any("https://old-name.atlassian.net:8443", history)
    assert not matches_any("https://old-name.atlassian.net", ["not a url at all/with/path"])
