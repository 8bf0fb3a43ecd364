"""``Authorization: Bearer`` for calls to Jira with a token that can go stale, and the one retry on a 401.

A bearer token (an OAuth grant's access token, the Forge app's system token) may be revoked or replaced before it
expires: Jira then answers 401. The request is sent once more with a fresh token from the subclass; a 401 that says
the token lacks a scope is not cured by another token and is returned as it is.
"""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import urlsplit

import requests

SCOPE_MISMATCH = "scope does not match"


def rest_path(url: str) -> str:
    """The ``/rest/…`` part of a request's URL (what an error names; never the host or the query)."""
    path = urlsplit(url).path
    return "/rest/" + path.split("/rest/", 1)[1] if "/rest/" in path else path


def stale_token_answer(resp: requests.Response) -> bool:
    """A 401 a fresher token may cure (not a scope refusal)."""
    return resp.status_code == 401 and SCOPE_MISMATCH not in resp.text


class RefreshingBearerAuth(requests.auth.AuthBase):
    """Sends the subclass's token; on a stale-token 401, resends once with ``fresh_token``'s.

    Subclasses give ``current_token(request) -> (token, marker)`` (the marker names what was sent, e.g. a version)
    and ``fresh_token(response, marker) -> token`` (drops the stale one; raises when no fresher one exists), and may
    check the resent answer in ``after_resend``.
    """

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        token, marker = self.current_token(r)
        r.headers["Authorization"] = f"Bearer {token}"
        r.register_hook("response", functools.partial(self._on_response, marker=marker))
        return r

    def current_token(self, r: requests.PreparedRequest) -> tuple[str, Any]:
        raise NotImplementedError

    def fresh_token(self, resp: requests.Response, marker: Any) -> str:
        raise NotImplementedError

    def after_resend(self, retried: requests.Response, token: str) -> requests.Response:
        return retried

    def _on_response(self, resp: requests.Response, *, marker: Any, **kwargs: Any) -> requests.Response:
        if not stale_token_answer(resp):
            return resp
        try:
            token = self.fresh_token(resp, marker)
        finally:
            resp.close()
        prep = resp.request.copy()
        prep.headers["Authorization"] = f"Bearer {token}"
        retried = resp.connection.send(prep, **kwargs)
        retried.history.append(resp)
        retried.request = prep
        return self.after_resend(retried, token)
