"""The Connect layer's small family of typed errors; one handler turns them into responses."""

from __future__ import annotations


class ConnectError(Exception):
    """Base: ``status`` is the HTTP answer; the message is safe to show (never a secret or a token)."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AuthenticationError(ConnectError):
    """The request's JWT is missing, malformed, forged, expired, or signed for another request."""

    status = 401


class ForbiddenError(ConnectError):
    """Authenticated, but the acting user may not do this (e.g. not a Jira administrator)."""

    status = 403


class UnknownTenantError(AuthenticationError):
    """A token naming a client key we have no installation for."""


class InstallKeyUnavailable(ConnectError):
    """The Connect install-signing key server could not give us a usable key: try again later."""

    status = 503


class BadLifecyclePayload(ConnectError):
    """A lifecycle body that isn't the JSON Jira sends."""

    status = 400
