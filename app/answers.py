"""The one table from every error a request can meet to what both doors answer: HTTP status, stable code, words.

Both doors read it: the Connect pages (a page with the words, the status, and the code as a stable marker) and
the Forge JSON API (``{"error": {"code", "message", …}}``), and ``app.errors`` turns anything a view lets through
into the same answer. A door never maps an error on its own, so the two can't drift apart (they once disagreed
about 413). Every text comes from the errors' own safe messages, fixed texts and numbers: never echoed input.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from werkzeug.exceptions import HTTPException

from .backups.schedule import ConfirmDeletions, ScheduleError
from .backups.snapshots import SnapshotNotFound
from .connect.errors import ConnectError
from .forge import ForgeError
from .forge.tokens import ForgeTokenUnavailable
from .http_input import InvalidInput
from .issuedata.before import BeforeError
from .recovery import connections as rc
from .recovery import messages
from .recovery.actions import ChoiceMissing
from .restore.service import RestoreRefused

MAX_BODY_BYTES_DEFAULT = 1_048_576
JIRA_TROUBLE = "Jira didn't answer the app just now; reload the issue to try again."


@dataclass(frozen=True)
class Answer:
    """What a door says about an error: ``status``, a stable ``code``, the ``text`` (safe to show), the page
    notice's ``kind`` and code, and ``extra`` fields the JSON door adds (camelCase, never input)."""

    status: int
    code: str
    text: str
    kind: str = "error"
    notice_code: str = ""  # set: the page shows this answer as a notice (the JSON door sends it too)
    extra: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def notice(self) -> messages.Notice:
        """The page's notice for this answer (the same words)."""
        return messages.Notice(self.notice_code or self.code, self.kind, self.text)

    def body(self) -> dict[str, Any]:
        """The JSON error object (``{"error": …}``): code, message, the extra fields and the notice, if any."""
        found = {"code": self.code, "message": self.text, **self.extra}
        return found | ({"notice": self.notice.to_dict()} if self.notice_code else {})


class Refused(Exception):
    """A request a door refuses for its shape (a missing confirmation, a field of the wrong type): the answer is
    given in full here, ``message`` safe to show (expected vs received, never the received value itself)."""

    def __init__(self, status: int, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


# -- HTTP errors no view raised (routing, methods, body size): one code and one text per status -------------------

HTTP_ANSWERS: dict[int, tuple[str, str]] = {
    400: ("bad-request", "The request couldn't be understood."),
    401: ("unauthenticated", "The request isn't authenticated."),
    403: ("forbidden", "You may not do this."),
    404: ("not-found", "No such resource."),
    405: ("method-not-allowed", "That method isn't allowed here."),
    413: ("payload-too-large", "The request body is larger than the {limit} bytes allowed."),
    415: ("unsupported-media-type", "That content type isn't accepted here."),
    500: ("internal-error", "Something went wrong on our side. Try again in a moment."),
}


def http_answer(status: int, *, body_limit: int | None = None) -> Answer:
    """The answer to an HTTP error by its status; 413 names the body limit that applied."""
    code, text = HTTP_ANSWERS.get(status, ("bad-request", HTTP_ANSWERS[400][1]) if status < 500
                                  else HTTP_ANSWERS[500])
    if status == 413:
        text = text.format(limit=body_limit or MAX_BODY_BYTES_DEFAULT)
    return Answer(status, code, text)


def jira_trouble() -> Answer:
    """What the issue panels say when Jira didn't answer the app (a 502: the trouble is upstream)."""
    return Answer(502, "jira-unavailable", JIRA_TROUBLE)


# -- domain errors --------------------------------------------------------------------------------------------------

def deletion_words(count: int, taken: list[datetime]) -> str:
    """The confirmation's sentence: how many backups the new retention deletes, now, and which."""
    listed = ", ".join(t.strftime("%Y-%m-%d %H:%M UTC") for t in taken[:5])
    listed += f" and {len(taken) - 5} more" if len(taken) > 5 else ""
    return (f"This will delete {count} backup{'s' if count != 1 else ''} now, as soon as you save (not at the next "
            f"retention pass): {listed}. Deleted backups can't be restored or recovered.")


_RESTORE_CODES = {400: "bad-request", 403: "no-active-connection", 404: "not-found"}
_API_FIELDS = {"interval_hours": "intervalHours", "retention_daily": "retentionDaily",
               "retention_weekly": "retentionWeekly"}


def _transition_refused(err: rc.TransitionRefused) -> Answer:
    return Answer(409, "transition-refused", rc.refusal_message(err.action, err.state), notice_code="refused")


def _throttled(err: rc.ActivationThrottled) -> Answer:
    # The site's own lock-out, or the service-wide safety stop (its subclass).
    code = "activation-paused" if isinstance(err, rc.ActivationPaused) else "activation-throttled"
    return Answer(429, code, err.message, notice_code="throttled", extra={"retryMinutes": err.retry_minutes})


def _activation_refused(err: rc.ActivationRefused) -> Answer:
    return Answer(422, "activation-refused", err.message, notice_code="activation-refused",
                  extra={"reason": err.reason, "attemptsLeft": err.attempts_left})


def _invalid_activation_input(err: rc.InvalidActivationInput) -> Answer:
    found = messages.notice("invalid-token" if err.field == "token" else "invalid-url")
    return Answer(400, found.code, found.text, notice_code=found.code, extra={"field": err.field})


def _connection_not_found(err: rc.ConnectionNotFound) -> Answer:
    return Answer(404, "not-found", messages.NOT_FOUND_TEXT, notice_code="not-found")


def _choice_missing(err: ChoiceMissing) -> Answer:
    return Answer(400, "bad-request", err.message)


def _restore_refused(err: RestoreRefused) -> Answer:
    return Answer(err.status, _RESTORE_CODES.get(err.status, "conflict"), err.message)


def _snapshot_not_found(err: SnapshotNotFound) -> Answer:
    return Answer(404, "not-found", "No such snapshot.")


def _schedule_error(err: ScheduleError) -> Answer:
    return Answer(400, "bad-request", err.message, extra={"field": _API_FIELDS.get(err.field, err.field)})


def _confirm_deletions(err: ConfirmDeletions) -> Answer:
    return Answer(409, "confirmation-required", deletion_words(len(err.doomed), err.doomed), kind="warning",
                  extra={"deletions": len(err.doomed)})


def _invalid_input(err: InvalidInput) -> Answer:
    return Answer(err.status, "bad-request", err.message)


def _refused(err: Refused) -> Answer:
    return Answer(err.status, err.code, err.message, extra=dict(err.extra))


def _http(err: HTTPException) -> Answer:
    return http_answer(err.code or 500)


def _connect_error(err: ConnectError) -> Answer:
    code = HTTP_ANSWERS.get(err.status, ("service-unavailable" if err.status == 503 else "bad-request", ""))[0]
    return Answer(err.status, code, err.message,
                  headers={"WWW-Authenticate": 'JWT realm="jira"'} if err.status == 401 else {})


def _forge_error(err: ForgeError) -> Answer:
    return Answer(err.status, err.code, err.message)


def _forge_token_unavailable(err: ForgeTokenUnavailable) -> Answer:
    return Answer(503, "system-token-unavailable", err.reason, headers={"Retry-After": "60"})


def _before_error(err: BeforeError) -> Answer:
    return Answer(err.status, err.code, str(err))


# Most specific first: the first class an error is an instance of gives its answer.
ERROR_TABLE: tuple[tuple[type[Exception], Callable[[Any], Answer]], ...] = (
    (rc.TransitionRefused, _transition_refused),
    (rc.ActivationThrottled, _throttled),  # ActivationPaused included
    (rc.ActivationRefused, _activation_refused),
    (rc.InvalidActivationInput, _invalid_activation_input),
    (rc.ConnectionNotFound, _connection_not_found),
    (ChoiceMissing, _choice_missing),
    (RestoreRefused, _restore_refused),
    (SnapshotNotFound, _snapshot_not_found),
    (ScheduleError, _schedule_error),
    (ConfirmDeletions, _confirm_deletions),
    (InvalidInput, _invalid_input),
    (Refused, _refused),
    (BeforeError, _before_error),
    (ConnectError, _connect_error),
    (ForgeError, _forge_error),
    (ForgeTokenUnavailable, _forge_token_unavailable),
    (HTTPException, _http),
)
ANSWERED: tuple[type[Exception], ...] = tuple(cls for cls, _ in ERROR_TABLE)
# The doors' own refusals (a request's shape, authentication, Forge's tokens, HTTP itself): every other entry is a
# domain error, which both doors can meet alike (tests/forge/test_error_table_doors.py shows each one).
DOOR_ERRORS: tuple[type[Exception], ...] = (Refused, ConnectError, ForgeError, ForgeTokenUnavailable, HTTPException)


def answer_for(err: Exception) -> Answer:
    """What both doors answer for ``err`` (an error of ``ANSWERED``; anything else is a 500)."""
    for cls, rule in ERROR_TABLE:
        if isinstance(err, cls):
            return rule(err)
    return http_answer(500)
